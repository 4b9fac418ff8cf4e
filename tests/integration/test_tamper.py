"""Tampering with the recording store is detected at export (recorder-spec: export).

After a capture of the first calls of the `consent` scenario (pre_consent_audio = keep), the
LMDB environment is dumped with `mdb_dump -a` (lmdb-utils), the `chunks` database (key: record id
u64 BE . stream u16 BE . seq u32 BE, see storage/store.h) is edited in Python and the whole
environment is rebuilt with `mdb_load` into a copy of the store:
  * one byte flipped in the middle of one chunk value,
  * the values of two chunks of the same call swapped,
  * the last chunk of a call deleted.
For each copy, export of the tampered call must exit non-zero, name the chunk on stderr and create
no output file; the other calls still export (and their packets still equal the truth); a copy
rebuilt without any edit exports every call fine (this proves the dump/load round trip itself is
harmless).  Skipped only when mdb_dump/mdb_load are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402

NCALLS = 10


def env_dir(store):
    for root, _, fs in os.walk(store):
        if "data.mdb" in fs:
            return root
    return None


def parse_dump(text):
    """mdb_dump -a output -> list of sections [header lines, [(key hex, value hex)], dbname]."""
    secs, cur = [], None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("VERSION="):
            cur = {"hdr": [ln], "data": [], "name": None}
            i += 1
            while lines[i] != "HEADER=END":
                cur["hdr"].append(lines[i])
                if lines[i].startswith("database="):
                    cur["name"] = lines[i][len("database="):]
                i += 1
            cur["hdr"].append("HEADER=END")
            i += 1
            while lines[i] != "DATA=END":
                cur["data"].append([lines[i][1:], lines[i + 1][1:]])
                i += 2
            secs.append(cur)
        i += 1
    return secs


def write_dump(secs):
    out = []
    for s in secs:
        out += s["hdr"]
        for k, v in s["data"]:
            out += [" " + k, " " + v]
        out.append("DATA=END")
    return "\n".join(out) + "\n"


def rebuild(src_store, dst_root, secs):
    """Copy of the store at dst_root/store with the LMDB env rebuilt from secs."""
    dst = os.path.join(dst_root, "store")
    shutil.copytree(src_store, dst)
    rel = os.path.relpath(env_dir(src_store), src_store)
    ed = os.path.normpath(os.path.join(dst, rel))
    for f in ("data.mdb", "lock.mdb"):
        if os.path.exists(os.path.join(ed, f)):
            os.unlink(os.path.join(ed, f))
    dump = os.path.join(dst_root, "edited.dump")
    with open(dump, "w") as f:
        f.write(write_dump(secs))
    p = subprocess.run(["mdb_load", "-f", dump, ed], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("mdb_load: " + p.stderr)
    return dst


def conf_for(src_conf, store):
    text = open(src_conf).read()
    lines = []
    for ln in text.split("\n"):
        if ln.strip().startswith("path ="):
            ln = "path = %s" % store
        lines.append(ln)
    c = os.path.join(os.path.dirname(store), "rtpvault.conf")
    with open(c, "w") as f:
        f.write("\n".join(lines))
    return c


def main():
    tap = rvtest.Tap()
    if not (shutil.which("mdb_dump") and shutil.which("mdb_load")):
        tap.skip("store tampering", "lmdb-utils (mdb_dump/mdb_load) not installed")
        tap.done()
    pcap, truth = rvtest.generate("consent", 11, ["--calls", str(NCALLS)])
    d, conf, store, _ = R.make_env("tamper", "keep")
    p = R.capture(conf, pcap)
    if not tap.ok(p.returncode == 0, "capture exits 0", p.stderr.decode("utf-8", "replace")[-1500:]):
        tap.done()
    rc, calls, err = R.calls_json(conf)
    if not tap.ok(rc == 0 and calls, "calls --json", err[-800:]):
        tap.done()
    ed = env_dir(store)
    if not tap.ok(ed is not None, "store holds an LMDB environment (data.mdb)"):
        tap.done()
    dp = subprocess.run(["mdb_dump", "-a", ed], capture_output=True, text=True)
    if not tap.ok(dp.returncode == 0, "mdb_dump -a of the store", dp.stderr):
        tap.done()
    secs = parse_dump(dp.stdout)
    chunks = [s for s in secs if s["name"] == "chunks"]
    if not tap.ok(len(chunks) == 1 and chunks[0]["data"], "store has a non-empty `chunks` database",
                  "databases: %r" % [s["name"] for s in secs]):
        tap.done()
    data = chunks[0]["data"]
    rec_of = {}  # record id -> call
    for c in calls:
        rec_of[c["record_id"]] = c
    by_rec = {}
    for i, (k, _) in enumerate(data):
        by_rec.setdefault(int(k[:16], 16), []).append(i)
    tcalls = {c["call_id"]: c for c in truth["calls"]}
    kept_recs = [r for r in by_rec if r in rec_of and rec_of[r]["call_id"] in tcalls]
    tap.ok(len(kept_recs) >= 3, "chunks belong to >= 3 known records (%d)" % len(kept_recs),
           "chunk record ids %r, calls %r" % (sorted(by_rec)[:10], sorted(rec_of)[:10]))
    multi = sorted((r for r in kept_recs if len(by_rec[r]) >= 2), key=lambda r: -len(by_rec[r]))
    if not tap.ok(len(multi) >= 3, "at least 3 records with >= 2 chunks (%d)" % len(multi)):
        tap.done()

    def chunk_names(idx, rec):
        """Ways stderr may name a chunk: each alternative is a tuple of substrings all required."""
        k = data[idx][0]
        stream, seq = int(k[16:20], 16), int(k[20:28], 16)
        return [("%d/%d" % (stream, seq),), (k,), ("stream %d" % stream, "chunk %d" % seq)], (stream, seq)

    def export_ok(cfg, call, desc, exact=True):
        out = tempfile.mkdtemp(prefix="tx-", dir=d)
        rc, _, err = R.export(cfg, call["call_id"], out)
        tc = tcalls[call["call_id"]]
        recs = [c for c in calls if c["call_id"] == call["call_id"]]
        good = rc == 0
        probs = [] if good else ["rc %d: %s" % (rc, err[-500:])]
        if good and exact:
            got, _ = R.stream_sets(tc, R.exported_rtp(R.record_files(out, recs, "pcap")))
            probs += R.compare_kept(tc, "keep", got)
        tap.ok(not probs, desc, "\n".join(probs))

    def expect_fail(cfg, call, names, desc):
        out = os.path.join(d, "fail-%s" % desc.split(":")[0].replace(" ", "_"))
        rc, _, err = R.export(cfg, call["call_id"], out)
        tap.ok(rc != 0, "%s: export exits non-zero (rc %d)" % (desc, rc), err[-500:])
        tap.ok(not R.files_in(out), "%s: no output file written" % desc, repr(R.files_in(out)))
        low = err.lower()
        tap.diag("%s: stderr: %s" % (desc, err.strip()[-300:]))
        tap.ok("chunk" in low and any(all(x.lower() in low for x in alt) for alt in names),
               "%s: stderr names the chunk (one of %r)" % (desc, names), err[-500:])

    # untouched round trip
    import copy
    base = os.path.join(d, "copy-plain")
    os.makedirs(base)
    st0 = rebuild(store, base, copy.deepcopy(secs))
    c0 = conf_for(conf, st0)
    for r in kept_recs:
        export_ok(c0, rec_of[r], "untouched copy: %s exports fine" % tcalls[rec_of[r]["call_id"]]["scenario_kind"])

    victims = multi[:3]
    # 1: flip one byte in the middle of one chunk value
    r = victims[0]
    s1 = copy.deepcopy(secs)
    d1 = [s for s in s1 if s["name"] == "chunks"][0]["data"]
    idx = by_rec[r][len(by_rec[r]) // 2]
    v = bytearray.fromhex(d1[idx][1])
    v[len(v) // 2] ^= 0x01
    d1[idx][1] = v.hex()
    names, _ = chunk_names(idx, r)
    root = os.path.join(d, "copy-flip")
    os.makedirs(root)
    c1 = conf_for(conf, rebuild(store, root, s1))
    expect_fail(c1, rec_of[r], names, "flipped byte in chunk")
    for o in kept_recs:
        if o != r:
            export_ok(c1, rec_of[o], "flipped byte: other call %s exports fine" % tcalls[rec_of[o]["call_id"]]["scenario_kind"])

    # 2: swap the values of two chunks of the same call (same stream if possible)
    r = victims[1]
    ids = by_rec[r]
    pair = None
    for a in ids:
        for b in ids:
            if a < b and data[a][0][16:20] == data[b][0][16:20]:
                pair = (a, b)
                break
        if pair:
            break
    pair = pair or (ids[0], ids[1])
    s2 = copy.deepcopy(secs)
    d2 = [s for s in s2 if s["name"] == "chunks"][0]["data"]
    d2[pair[0]][1], d2[pair[1]][1] = d2[pair[1]][1], d2[pair[0]][1]
    na, _ = chunk_names(pair[0], r)
    nb, _ = chunk_names(pair[1], r)
    names = na + nb
    root = os.path.join(d, "copy-swap")
    os.makedirs(root)
    c2 = conf_for(conf, rebuild(store, root, s2))
    expect_fail(c2, rec_of[r], names, "swapped chunks")
    for o in kept_recs:
        if o != r:
            export_ok(c2, rec_of[o], "swapped chunks: other call %s exports fine" % tcalls[rec_of[o]["call_id"]]["scenario_kind"])

    # 3: delete the last chunk of a call
    r = victims[2]
    s3 = copy.deepcopy(secs)
    d3 = [s for s in s3 if s["name"] == "chunks"][0]["data"]
    last = by_rec[r][-1]
    names, (stream, seq) = chunk_names(last, r)
    # the deleted chunk is gone: naming its stream and that the chunk count falls short also names it
    names += [("stream %d" % stream, "%d of %d" % (seq, seq + 1)), ("stream %d" % stream, "chunk %d" % seq)]
    del d3[last]
    root = os.path.join(d, "copy-del")
    os.makedirs(root)
    c3 = conf_for(conf, rebuild(store, root, s3))
    expect_fail(c3, rec_of[r], names, "deleted last chunk")
    for o in kept_recs:
        if o != r:
            export_ok(c3, rec_of[o], "deleted chunk: other call %s exports fine" % tcalls[rec_of[o]["call_id"]]["scenario_kind"])
    # the original store is still fine
    for r in victims:
        export_ok(conf, rec_of[r], "original store: %s still exports" % tcalls[rec_of[r]["call_id"]]["scenario_kind"])
    shutil.rmtree(d, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
