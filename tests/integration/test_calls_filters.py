"""`calls` filters: --since/--until (ISO 8601 and epoch seconds), --number
(caller or callee, through the keyed HMAC index), --consent STATE; bad filter
values give a clear error and exit 2."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def calls(conf, *args):
    p = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"] + list(args))
    return json.loads(p.stdout) if p.returncode == 0 else None


def main():
    tap = rvtest.Tap()
    d = os.path.join(rvtest.TMP, "filters")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[exempt]\ncallee_prefixes = 110, 120\n" % (d, d))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    pcap, truth = rvtest.generate("consent", 11)
    rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    allc = calls(conf)
    tap.eq(len(allc or []), len(truth["calls"]), "no filter: every call")
    times = sorted(c["invite_time"] for c in allc)
    mid = times[len(times) // 2]
    since = calls(conf, "--since", "%.6f" % mid)
    tap.eq(sorted(c["call_id"] for c in since), sorted(c["call_id"] for c in allc if c["invite_time"] >= mid),
           "--since epoch seconds")
    import time as _t
    iso = _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(int(mid)))
    until = calls(conf, "--until", iso)
    tap.eq(sorted(c["call_id"] for c in until), sorted(c["call_id"] for c in allc if c["invite_time"] <= int(mid)),
           "--until ISO 8601")
    c0 = allc[3]
    for who in ("caller", "callee"):
        got = calls(conf, "--number", c0[who])
        tap.eq(sorted(c["call_id"] for c in got), sorted(c["call_id"] for c in allc if c0[who] in (c["caller"], c["callee"])),
               "--number matches the %s" % who)
    tap.eq(calls(conf, "--number", "000000000000"), [], "--number with no match: empty")
    for state in ("granted", "denied", "timeout", "exempt", "none", "withdrawn"):
        got = calls(conf, "--consent", state)
        tap.eq(sorted(c["call_id"] for c in got), sorted(c["call_id"] for c in allc if c["consent"]["state"] == state),
               "--consent %s" % state)
    p = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--since", "yesterday"])
    tap.ok(p.returncode == 2 and "not a time" in p.stderr, "bad time: clear error, exit 2", p.stderr)
    p = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--consent", "maybe"])
    tap.ok(p.returncode == 2 and "not a state" in p.stderr, "bad state: clear error, exit 2", p.stderr)
    tap.done()


if __name__ == "__main__":
    main()
