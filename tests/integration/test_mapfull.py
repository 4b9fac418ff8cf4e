"""Store full: with a tiny LMDB map and map_grow off, capture keeps running to
the end of the file, counts and logs what it could not store, exits with a
distinct status (3), and the store still opens: every call listed complete
exports and authenticates; nothing is corrupted.  With map_grow on the same
capture stores everything.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def setup(d, grow):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\nmap_size = 2M\nmap_grow = %s\nmap_max = %s\n"
                "commit_batch = 8\n" % (d, d, "true" if grow else "false", "1G" if grow else "2M"))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    return conf


def main():
    tap = rvtest.Tap()
    pcap, truth = rvtest.generate("consent", 11)
    d = os.path.join(rvtest.TMP, "mapfull")
    conf = setup(d, False)
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    tap.ok(p.returncode == 3, "capture with a full store runs to the end and exits 3 (is %d)" % p.returncode,
           p.stderr[-800:])
    tap.ok("store is full" in p.stderr, "the full store is logged", p.stderr[-800:])
    tap.ok("dropped (store full)" in p.stdout, "the drops are counted in the summary", p.stdout[-800:])
    c = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"])
    calls = json.loads(c.stdout) if c.returncode == 0 else None
    tap.ok(calls is not None, "the store still opens and lists calls", c.stderr)
    bad = []
    for call in calls or []:
        if not (call["complete"] and call["audio"]):
            continue
        out = os.path.join(d, "x%d" % call["record_id"])
        e = rvtest.run([rvtest.BIN, "export", "-c", conf, call["call_id"], "--purpose", "t", "--format", "pcap",
                        "-o", out])
        if e.returncode != 0:
            bad.append((call["call_id"], e.stderr[-300:]))
    kept = [x for x in calls or [] if x["complete"] and x["audio"]]
    tap.ok(len(kept) >= 1, "some recordings fit before the store filled up (%d)" % len(kept))
    tap.ok(len(calls or []) < len(truth["calls"]) or any(not x["complete"] for x in calls or []),
           "and some did not (%d of %d listed)" % (len(calls or []), len(truth["calls"])))
    tap.ok(not bad, "every call listed complete exports and authenticates", repr(bad))
    conf = setup(os.path.join(rvtest.TMP, "mapgrow"), True)
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    tap.ok(p.returncode == 0 and "map grown" in p.stdout, "with map_grow the map grows and capture succeeds",
           p.stdout[-600:] + p.stderr[-600:])
    c = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"])
    calls = json.loads(c.stdout) if c.returncode == 0 else []
    tap.eq(len([x for x in calls if x["complete"]]), len(truth["calls"]), "with map_grow every call is complete")
    tap.done()


if __name__ == "__main__":
    main()
