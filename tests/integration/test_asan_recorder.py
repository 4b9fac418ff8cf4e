"""The recorder under ASan+UBSan: capture of the consent scenario (every
consent outcome, pauses, exempt calls), then calls, show, and export of
every call in every format with the sanitizer build.  Any sanitizer report
or a non-zero exit where success is expected fails."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

SAN = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")


def clean(p):
    return not any(s in p.stderr for s in SAN)


def main():
    tap = rvtest.Tap()
    b = rvtest.ASAN_BIN
    d = os.path.join(rvtest.TMP, "asan-rec")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[exempt]\ncallee_prefixes = 110, 120\n"
                "basis = test\n" % (d, d))
    p = rvtest.run([b, "keys", "init", "-c", conf])
    tap.ok(p.returncode == 0 and clean(p), "keys init", p.stderr[-800:])
    pcap, truth = rvtest.generate("consent", 11)
    p = rvtest.run([b, "capture", "-c", conf, "-r", pcap], timeout=900)
    tap.ok(p.returncode == 0 and clean(p), "capture under ASan+UBSan", p.stderr[-1500:])
    p = rvtest.run([b, "calls", "-c", conf, "--json"])
    ok = p.returncode == 0 and clean(p)
    tap.ok(ok, "calls --json", p.stderr[-800:])
    calls = json.loads(p.stdout) if ok else []
    bad = []
    for c in calls:
        s = rvtest.run([b, "show", "-c", conf, c["call_id"]])
        if s.returncode != 0 or not clean(s):
            bad.append("show %s: %s" % (c["call_id"], s.stderr[-400:]))
        out = os.path.join(d, "x%d" % c["record_id"])
        e = rvtest.run([b, "export", "-c", conf, c["call_id"], "--purpose", "asan", "--format", "bundle", "-o", out])
        if not clean(e) or (e.returncode != 0) == bool(c["audio"]):
            bad.append("export %s (audio %s): rc %d %s" % (c["call_id"], c["audio"], e.returncode, e.stderr[-400:]))
    tap.ok(calls and not bad, "show and export of every call (%d) clean" % len(calls), "\n".join(bad))
    v = rvtest.run([b, "audit", "-c", conf, "verify"])
    tap.ok(v.returncode == 0 and clean(v), "audit verify", v.stderr[-500:])
    tap.done()


if __name__ == "__main__":
    main()
