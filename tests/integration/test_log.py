"""Log lines never carry phone numbers in full by default: with [log] level =
debug the recorder writes one line per call; with [log] numbers = masked (the
default) no caller or callee number appears in full on stderr or stdout, with
numbers = full they do (proving the lines are really there)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def run(numbers):
    d = os.path.join(rvtest.TMP, "log-" + numbers)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[log]\nlevel = debug\nnumbers = %s\n" % (d, d, numbers))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    pcap, truth = rvtest.generate("consent", 11)
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    nums = {c["caller"] for c in truth["calls"]} | {c["callee"] for c in truth["calls"]}
    text = p.stdout + p.stderr
    return p, [n for n in nums if n and n in text], text.count("rtpvault debug: call ")


def main():
    tap = rvtest.Tap()
    p, hits, lines = run("masked")
    tap.ok(p.returncode == 0 and lines >= 30, "one debug line per call (%d)" % lines, p.stderr[-300:])
    tap.eq(hits, [], "no phone number in full in the output with numbers = masked")
    p, hits, lines = run("full")
    tap.ok(len(hits) >= 30, "with numbers = full the same lines show the numbers (%d found)" % len(hits))
    tap.done()


if __name__ == "__main__":
    main()
