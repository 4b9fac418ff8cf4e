"""Key file handling of the recorder (recorder-spec: keys init / capture preconditions).

`keys init` creates key_file with 32 random bytes and mode 0400 and refuses to overwrite it.
`capture` refuses to start -- non-zero exit, a message on stderr naming the key problem, no store
directory and no file created -- when the key file is missing, not 32 bytes, or group/world
accessible (0440, 0644, 0404) or of the wrong size (0, 31, 33 bytes).
A positive control (valid key) must capture and create the store, so these tests can fail.
"""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402


def snapshot(d):
    return sorted(os.path.relpath(p, d) for p in R.files_in(d)) + sorted(
        os.path.relpath(os.path.join(r, x), d) for r, ds, _ in os.walk(d) for x in ds)


def refuses(tap, desc, pcap, prepare):
    d, conf, store, keyf = R.make_env("keys", key=False)
    prepare(keyf)
    before = snapshot(d)
    p = R.capture(conf, pcap, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    tap.ok(p.returncode != 0, "%s: capture exits non-zero (rc %d)" % (desc, p.returncode), err[-500:])
    tap.ok("key" in err.lower() and len(err.strip()) > 10, "%s: stderr names the key problem" % desc, err[-500:])
    tap.ok(not os.path.exists(store), "%s: store directory not created" % desc)
    after = snapshot(d)
    tap.eq(after, before, "%s: no file created" % desc)


def main():
    tap = rvtest.Tap()
    try:
        pcap, _ = rvtest.generate("consent", 11, ["--calls", "3"])
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "generator", str(e))
        tap.done()

    # keys init
    d, conf, store, keyf = R.make_env("keys", key=False)
    p = R.rv(["keys", "init", "-c", conf])
    tap.ok(p.returncode == 0, "keys init exits 0", p.stderr.decode("utf-8", "replace")[-500:])
    if tap.ok(os.path.exists(keyf), "keys init creates key_file"):
        st = os.stat(keyf)
        tap.eq(oct(stat.S_IMODE(st.st_mode)), oct(0o400), "key file mode is 0400")
        tap.eq(st.st_size, 32, "key file holds 32 bytes")
        k1 = open(keyf, "rb").read()
        p = R.rv(["keys", "init", "-c", conf])
        tap.ok(p.returncode != 0, "second keys init refuses (non-zero exit)")
        tap.ok(len(p.stderr.strip()) > 0, "second keys init says why", p.stderr.decode("utf-8", "replace"))
        tap.eq(open(keyf, "rb").read(), k1, "key file unchanged by the refused keys init")
        tap.eq(oct(stat.S_IMODE(os.stat(keyf).st_mode)), oct(0o400), "key file mode still 0400")
        d2, conf2, _, keyf2 = R.make_env("keys", key=True)
        tap.ok(open(keyf2, "rb").read() != k1, "two keys init give different keys")
        tap.ok(not os.path.exists(store), "keys init creates no store")

    def missing(k):
        pass

    def mode(m):
        def f(k):
            with open(k, "wb") as fh:
                fh.write(os.urandom(32))
            os.chmod(k, m)
        return f

    def size(n):
        def f(k):
            with open(k, "wb") as fh:
                fh.write(os.urandom(n))
            os.chmod(k, 0o400)
        return f

    refuses(tap, "missing key file", pcap, missing)
    refuses(tap, "key file mode 0440", pcap, mode(0o440))
    refuses(tap, "key file mode 0644", pcap, mode(0o644))
    refuses(tap, "key file mode 0404", pcap, mode(0o404))
    refuses(tap, "key file of 31 bytes", pcap, size(31))
    refuses(tap, "key file of 33 bytes", pcap, size(33))
    refuses(tap, "empty key file", pcap, size(0))

    # positive control
    d, conf, store, keyf = R.make_env("keys", key=True)
    p = R.capture(conf, pcap, timeout=300)
    tap.ok(p.returncode == 0, "valid key (0400, 32 bytes): capture exits 0", p.stderr.decode("utf-8", "replace")[-800:])
    tap.ok(os.path.isdir(store) and R.files_in(store), "valid key: store created")
    tap.done()


if __name__ == "__main__":
    main()
