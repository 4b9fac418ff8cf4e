"""Shared helpers for rtpvault's integration tests (Python 3 standard library).

Every test prints TAP: "ok N - description" or "not ok N - description",
then the plan "1..N".  A test exits non-zero when anything failed, so a
crash of the test itself is also a failure for tests/run-all.sh.
"""
import json
import os
import subprocess
import sys

ROOT = os.environ.get("RV_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("RV_BIN") or os.path.join(ROOT, "build", "rel", "rtpvault")
ASAN_BIN = os.environ.get("RV_ASAN_BIN") or os.path.join(ROOT, "build", "asan", "rtpvault")
SHARED = os.environ.get("RV_SHARED") or os.path.abspath(os.path.join(ROOT, "..", "shared"))
PCAPS = os.path.join(SHARED, "testdata", "pcaps")
TMP = os.environ.get("RV_TMP") or os.path.join(ROOT, "build", "test-tmp")
GEN = os.path.join(ROOT, "scripts", "gen", "rvgen.py")
os.makedirs(TMP, exist_ok=True)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc))
            if detail:
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def skip(self, desc, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, reason))
        sys.stdout.flush()

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def run(args, timeout=600, **kw):
    """Runs a command; returns CompletedProcess with text output."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def analyze(path, conf=None, binary=None, extra=(), timeout=900):
    """rtpvault analyze --json PATH -> (returncode, parsed JSON or None, stderr)."""
    args = [binary or BIN, "analyze", path, "--json", "--no-progress"] + list(extra)
    if conf:
        args += ["-c", conf]
    p = subprocess.run(args, capture_output=True, timeout=timeout)
    out = None
    try:
        out = json.loads(p.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        out = None
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def generate(scenario, seed, extra=()):
    """Runs the traffic generator once per (scenario, seed, extra) and caches
    the result under TMP; returns (pcap path, truth dict)."""
    tag = "%s-%d%s" % (scenario, seed, "".join("_" + str(x).strip("-") for x in extra))
    out = os.path.join(TMP, "gen", tag)
    pcap = os.path.join(out, scenario + ".pcap")
    truth = os.path.join(out, scenario + ".truth.json")
    if not (os.path.exists(pcap) and os.path.exists(truth)):
        os.makedirs(out, exist_ok=True)
        p = run([sys.executable, GEN, "--scenario", scenario, "--seed", str(seed), "--out", out] + list(extra),
                timeout=1800)
        if p.returncode != 0:
            raise RuntimeError("generator failed: %s" % p.stderr[-2000:])
    with open(truth) as f:
        return pcap, json.load(f)
