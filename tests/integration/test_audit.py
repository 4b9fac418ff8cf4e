"""Audit log: every access is recorded, the chain detects tampering (issue 6, acceptance 2).

A consent capture is recorded, then calls / show / export (pcap, bundle) / audit list run as root
(admin by default).  Checked:
  * `audit list --json` holds capture-start (with the sha256 of the config text), the consent
    summary, capture-stop, and every calls/show/export with its purpose and ticket; the
    export-files entry carries the sha256 of each file actually written; --call filters.
  * `audit verify` passes on the untouched log (and on an untouched mdb_dump/mdb_load copy).
  * On copies rebuilt with mdb_dump/mdb_load (as tests/integration/test_tamper.py does):
    one byte changed in each entry in turn, one entry deleted in the middle, two entries
    swapped (reordered), the newest entries deleted: `audit verify` exits non-zero and names
    the first bad entry; deleting the newest entries is caught with `--anchor` (taken before).
  * A reader refuses to show anything when its audit entry cannot be appended (newest entry
    changed: the chain cannot be extended), and nothing is exported.
  * erase (other engineer's command), when implemented, appears with its reason/purpose.
"""
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402
import test_tamper as T  # noqa: E402


def audit(conf, *args):
    p = R.rv(["audit", "-c", conf] + list(args))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def audit_json(conf, *args):
    rc, out, err = audit(conf, "list", "--json", *args)
    try:
        return json.loads(out)
    except ValueError:
        raise RuntimeError("audit list --json: rc %d %s %s" % (rc, out[:300], err[:300]))


def main():
    tap = rvtest.Tap()
    pcap, truth = rvtest.generate("consent", 21, ["--calls", "8"])
    d, conf, store, keyf = R.make_env("audit", "keep")
    p = R.capture(conf, pcap)
    if not tap.ok(p.returncode == 0, "capture exits 0", p.stderr.decode("utf-8", "replace")[-800:]):
        tap.done()
    rc, calls, err = R.calls_json(conf)
    tap.ok(rc == 0 and calls, "calls --json lists calls", err[-300:])
    with_audio = [c for c in calls if c.get("audio")]
    if not tap.ok(len(with_audio) >= 2, "at least two calls with audio (%d)" % len(with_audio)):
        tap.done()
    c1, c2 = with_audio[0]["call_id"], with_audio[1]["call_id"]

    p = R.rv(["show", "-c", conf, c1])
    tap.ok(p.returncode == 0, "show exits 0")
    out1 = os.path.join(d, "exp1")
    rc, so, se = R.export(conf, c1, out1, fmt="pcap", purpose="quality review")
    tap.ok(rc == 0, "export (pcap) exits 0", se[-300:])
    out2 = os.path.join(d, "bundle")
    os.makedirs(out2)
    p = R.rv(["export", "-c", conf, c2, "--purpose", "dispute", "--ticket", "TCK-42", "--format", "bundle", "-o", out2])
    tap.ok(p.returncode == 0, "export --format bundle exits 0", p.stderr.decode()[-300:])

    entries = audit_json(conf)
    cmds = [e["command"] for e in entries]
    tap.diag("audit commands: %s" % " ".join(cmds))
    cs = [e for e in entries if e["command"] == "capture-start"]
    want_sha = hashlib.sha256(open(conf, "rb").read()).hexdigest()
    tap.ok(cs and json.loads(cs[0]["detail"]).get("config_sha256") == want_sha,
           "capture-start entry carries the sha256 of the config text", repr(cs[:1]))
    cons = [e for e in entries if e["command"] == "consent"]
    tap.ok(cons and "granted" in json.loads(cons[0]["detail"]).get("consent", {}),
           "a consent summary entry counts the decisions per state", repr(cons[:1]))
    tap.ok(any(e["command"] == "capture-stop" for e in entries), "capture-stop entry")
    tap.ok(any(e["command"] == "calls" and e["result"] == "allowed" for e in entries), "calls access audited")
    sh = [e for e in entries if e["command"] == "show" and json.loads(e["detail"]).get("call_id") == c1]
    tap.ok(sh and sh[0]["result"] == "allowed" and sh[0]["user"] == "root" and sh[0]["uid"] == 0,
           "show audited with who (root, uid 0) and the Call-ID", repr(sh[:1]))
    ex = [e for e in entries if e["command"] == "export" and json.loads(e["detail"]).get("call_id") == c1]
    tap.ok(ex and ex[0]["purpose"] == "quality review" and ex[0]["result"] == "allowed",
           "export audited with its purpose", repr(ex[:1]))
    exb = [e for e in entries if e["command"] == "export" and json.loads(e["detail"]).get("call_id") == c2]
    tap.ok(exb and exb[0]["purpose"] == "dispute" and exb[0]["ticket"] == "TCK-42",
           "bundle export audited with purpose and ticket", repr(exb[:1]))
    # export-files: sha256 of every file written
    for e0, od in ((ex, out1), (exb, out2)):
        if not e0:
            continue
        ef = [e for e in entries if e["command"] == "export-files" and json.loads(e["detail"]).get("of") == e0[0]["seq"]]
        files = {}
        for e in ef:
            for f in json.loads(e["detail"]).get("files", []):
                files[f["file"]] = f["sha256"]
        ondisk = {f: hashlib.sha256(open(os.path.join(od, f), "rb").read()).hexdigest()
                  for f in os.listdir(od) if f.endswith((".pcap", ".wav"))}
        tap.ok(ef and ef[0]["seq"] > e0[0]["seq"] and files == ondisk and ondisk,
               "export-files entry after the export entry lists the sha256 of each file written (%d)" % len(ondisk),
               "audit %r disk %r" % (files, ondisk))
    # manifest names the audit entry
    man = json.load(open(os.path.join(out2, "manifest.json")))
    tap.ok(exb and man.get("audit_entry") == exb[0]["seq"] and man.get("purpose") == "dispute",
           "bundle manifest names its audit entry and purpose")
    # --call filter
    only = audit_json(conf, "--call", c1)
    tap.ok(only and all(json.loads(e["detail"]).get("call_id") == c1 for e in only) and
           {"show", "export"} <= {e["command"] for e in only}, "audit list --call CALL-ID shows that call's entries")

    # erase (other engineer) if available
    er = R.rv(["erase", "-c", conf, with_audio[-1]["call_id"], "--reason", "subject request"])
    ers = er.stderr.decode("utf-8", "replace")
    if er.returncode == 2 and "not implemented" in ers:
        tap.skip("erase appears in audit list", "erase not implemented in this build")
    else:
        ents = audit_json(conf)
        tap.ok(any(e["command"] == "erase" for e in ents), "erase appears in audit list",
               "rc %d %s" % (er.returncode, ers[-300:]))

    # intact
    rc, out, err = audit(conf, "verify")
    tap.ok(rc == 0 and "intact" in out, "audit verify: untouched log verifies", out + err)
    rc, anchor, err = audit(conf, "anchor")
    anchor = anchor.strip()
    tap.ok(rc == 0 and ":" in anchor, "audit anchor prints SEQ:MAC (%s)" % anchor[:20], err)
    rc, out, err = audit(conf, "verify", "--anchor", anchor)
    tap.ok(rc == 0, "audit verify --anchor: untouched log verifies", out + err)

    if not (shutil.which("mdb_dump") and shutil.which("mdb_load")):
        tap.skip("audit tampering", "lmdb-utils (mdb_dump/mdb_load) not installed")
        tap.done()
    ed = T.env_dir(store)
    dp = subprocess.run(["mdb_dump", "-a", ed], capture_output=True, text=True)
    secs = T.parse_dump(dp.stdout)
    au = [s for s in secs if s["name"] == "audit"]
    if not tap.ok(len(au) == 1 and len(au[0]["data"]) >= 8, "store has an `audit` database with >= 8 entries"):
        tap.done()
    n = len(au[0]["data"])
    seqs = [int(k, 16) for k, _ in au[0]["data"]]
    tap.ok(seqs == list(range(1, n + 1)), "entries are keyed 1..%d" % n)
    cnt = [0]

    def copy_with(edit, desc):
        s1 = copy.deepcopy(secs)
        a1 = [s for s in s1 if s["name"] == "audit"][0]["data"]
        edit(a1)
        cnt[0] += 1
        root = os.path.join(d, "copy-%d" % cnt[0])
        os.makedirs(root)
        return T.conf_for(conf, T.rebuild(store, root, s1))

    def expect_bad(cf, seq, desc, extra=()):
        rc, out, err = audit(cf, "verify", *extra)
        txt = out + err
        tap.ok(rc != 0 and ("entry %d" % seq) in txt, "%s: verify fails naming entry %d" % (desc, seq), txt[-400:])

    cf = copy_with(lambda a: None, "untouched")
    rc, out, err = audit(cf, "verify", "--anchor", anchor)
    tap.ok(rc == 0, "untouched dump/load copy verifies (with anchor)", out + err)

    # one byte changed, in each entry in turn (at several offsets)
    for i in range(n):
        def flip(a, i=i):
            v = bytearray.fromhex(a[i][1])
            v[(7 * i + 5) % len(v)] ^= 0x20
            a[i][1] = v.hex()
        expect_bad(copy_with(flip, "flip"), i + 1, "byte changed in entry %d" % (i + 1))
    # a byte of the MAC itself
    def flipmac(a):
        v = bytearray.fromhex(a[2][1])
        v[-1] ^= 1
        a[2][1] = v.hex()
    expect_bad(copy_with(flipmac, ""), 3, "byte changed in the MAC of entry 3")
    # delete an entry in the middle
    mid = n // 2
    expect_bad(copy_with(lambda a: a.pop(mid), ""), mid + 1, "entry %d deleted" % (mid + 1))
    # delete the first entry
    expect_bad(copy_with(lambda a: a.pop(0), ""), 1, "first entry deleted")
    # reorder: swap the values of entries 3 and 4
    def swap(a):
        a[2][1], a[3][1] = a[3][1], a[2][1]
    expect_bad(copy_with(swap, ""), 3, "entries 3 and 4 swapped")
    # reorder keys too (values moved under other keys: entry k holds entry k+1)
    def rotate(a):
        vals = [v for _, v in a[4:7]]
        for j, k in enumerate(range(4, 7)):
            a[k][1] = vals[(j + 1) % 3]
    expect_bad(copy_with(rotate, ""), 5, "entries 5..7 rotated")
    # delete the newest two: chain still consistent, the anchor catches it
    cf = copy_with(lambda a: (a.pop(), a.pop()), "")
    rc, out, err = audit(cf, "verify")
    tap.diag("newest two deleted, no anchor: rc %d %s" % (rc, (out + err).strip()[-200:]))
    expect_bad(cf, n - 1, "newest two entries deleted", ("--anchor", anchor))
    # readers refuse when their entry cannot be written (newest entry changed)
    def flip_last(a):
        v = bytearray.fromhex(a[-1][1])
        v[10] ^= 1
        a[-1][1] = v.hex()
    cf = copy_with(flip_last, "")
    p = R.rv(["show", "-c", cf, c1])
    tap.ok(p.returncode != 0 and not p.stdout.strip() and b"audit log" in p.stderr,
           "show refuses (prints nothing) when the audit entry cannot be appended", p.stderr.decode()[-300:])
    od = os.path.join(d, "exp-refused")
    rc, so, se = R.export(cf, c1, od, purpose="x")
    tap.ok(rc != 0 and not R.files_in(od), "export writes nothing when the audit entry cannot be appended", se[-300:])
    tap.done()


if __name__ == "__main__":
    main()
