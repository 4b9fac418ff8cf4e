"""The command line as an operator meets it: check-config reports every
problem as file:line: message and exits non-zero; the generated reference and
default config match the committed docs/config.md and etc/rtpvault.conf; the
shipped config is valid; bad input files give clear errors, not crashes; a
DPDK backend in a build without DPDK fails with a clear message.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def main():
    tap = rvtest.Tap()
    b = rvtest.BIN
    conf = os.path.join(rvtest.TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("[sip]\ninvite_timeout = 5x\nfooo = 1\n[rtp]\nprobation = 99\n[nosuch]\nkey = 1\n")
    p = rvtest.run([b, "check-config", "-c", conf])
    lines = [l for l in p.stderr.splitlines() if l.startswith(conf + ":")]
    tap.ok(p.returncode != 0, "check-config exits non-zero on a bad file")
    tap.eq(sorted(int(l.split(":")[1]) for l in lines[:4]), [2, 3, 5, 6],
           "every problem reported with its line (2: bad duration, 3: unknown key, 5: out of range, 6: unknown section)")
    tap.ok(any("did you mean" in l or "unknown" in l for l in lines), "unknown key named", p.stderr)
    p = rvtest.run([b, "check-config", "-c", os.path.join(rvtest.ROOT, "etc", "rtpvault.conf")])
    tap.ok(p.returncode == 0, "the shipped etc/rtpvault.conf is valid", p.stderr)
    p = rvtest.run([b, "config-doc"])
    with open(os.path.join(rvtest.ROOT, "docs", "config.md")) as f:
        tap.ok(p.stdout == f.read(), "docs/config.md is what config-doc generates (run: make docs)")
    p = rvtest.run([b, "config-default"])
    with open(os.path.join(rvtest.ROOT, "etc", "rtpvault.conf")) as f:
        tap.ok(p.stdout == f.read(), "etc/rtpvault.conf is what config-default generates")
    p = rvtest.run([b, "analyze", "/nonexistent.pcap"])
    tap.ok(p.returncode != 0 and "nonexistent.pcap" in p.stderr, "missing capture: clear error", p.stderr)
    junk = os.path.join(rvtest.TMP, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"this is not a capture file at all" * 10)
    p = rvtest.run([b, "analyze", junk])
    tap.ok(p.returncode != 0 and p.returncode < 128 and junk in p.stderr, "not a capture: clear error, no crash",
           p.stderr)
    p = rvtest.run([b, "analyze", junk, "-c", conf])
    tap.ok(p.returncode != 0 and conf + ":2:" in p.stderr, "analyze refuses a bad config with file:line", p.stderr)
    dconf = os.path.join(rvtest.TMP, "dpdk.conf")
    with open(dconf, "w") as f:
        f.write("[capture]\nbackend = dpdk\n")
    nodpdk = os.environ.get("RV_NODPDK_BIN") or os.path.join(rvtest.ROOT, "build", "nodpdk", "rtpvault")
    if os.path.exists(nodpdk):
        p = rvtest.run([nodpdk, "analyze", junk, "-c", dconf])
        tap.ok(p.returncode != 0 and "DPDK" in p.stderr, "DPDK=0 build asked for dpdk: clear error, no fallback",
               p.stderr)
    else:
        tap.skip("DPDK=0 build", "build/nodpdk/rtpvault not built")
    p = rvtest.run([b, "nosuchcommand"])
    tap.ok(p.returncode == 2 and "unknown command" in p.stderr, "unknown command: usage and exit 2")
    tap.done()


if __name__ == "__main__":
    main()
