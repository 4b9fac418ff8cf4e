"""Live recording: `capture -i` on a veth pair in a private network namespace
while tcpreplay plays the consent scenario, then SIGTERM.  Everything is
flushed: every call is listed complete, with the same consent states as an
offline capture of the same file.  Needs root, iproute2, tcpreplay."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

NS = "rvcap%d" % os.getpid()


def sh(*a, check=True):
    return subprocess.run(list(a), capture_output=True, text=True, check=check)


def conf_for(d, extra=""):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    c = os.path.join(d, "rv.conf")
    with open(c, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[exempt]\ncallee_prefixes = 110, 120\n%s" % (d, d, extra))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", c])
    return c


def states(conf):
    p = rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"])
    return {c["call_id"]: (c["consent"]["state"], c["complete"]) for c in json.loads(p.stdout)} if p.returncode == 0 else None


def main():
    tap = rvtest.Tap()
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tcpreplay"):
        tap.skip("live recording", "needs root, iproute2 and tcpreplay")
        tap.done()
    if sh("ip", "netns", "add", NS, check=False).returncode != 0:
        tap.skip("live recording", "cannot create a network namespace")
        tap.done()
    try:
        ns = ["ip", "netns", "exec", NS]
        sh(*ns, "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
        sh(*ns, "ip", "link", "set", "va", "up")
        sh(*ns, "ip", "link", "set", "vb", "up")
        sh(*ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", check=False)
        pcap, truth = rvtest.generate("consent", 11)
        off = conf_for(os.path.join(rvtest.TMP, "live-off"))
        rvtest.run([rvtest.BIN, "capture", "-c", off, "-r", pcap])
        want = states(off)
        # root without a service user: allowed explicitly here (test_privilege.py covers the drop)
        live = conf_for(os.path.join(rvtest.TMP, "live-on"),
                        "[capture]\nbpf_filter = not arp\n[service]\nallow_root = true\n")
        p = subprocess.Popen(ns + [rvtest.BIN, "capture", "-c", live, "-i", "vb", "--no-progress"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        r = sh(*ns, "tcpreplay", "-q", "-i", "va", "-K", "--pps=20000", pcap, check=False)
        tap.ok(r.returncode == 0, "tcpreplay played the consent scenario", r.stderr[-300:])
        time.sleep(1.0)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        tap.ok(p.returncode == 0, "SIGTERM: capture flushes and exits 0 in %.1f s" % (time.monotonic() - t0),
               err.decode()[-600:])
        tap.ok(b"pending_bytes_persisted_without_consent 0" in out, "nothing persisted without consent")
        got = states(live)
        tap.ok(got is not None and all(v[1] for v in got.values()), "every call listed complete after SIGTERM")
        # the replay compresses minutes into about 4 s, so timers (window, inactivity) see other times;
        # consent states that depend only on the signals must agree
        decided = {k: v for k, v in (want or {}).items() if v[0] in ("granted", "denied", "exempt", "withdrawn")}
        agree = {k: (got or {}).get(k) for k in decided}
        tap.eq(agree, decided, "signal-decided consent states equal the offline capture's")
    finally:
        sh("ip", "netns", "del", NS, check=False)
    tap.done()


if __name__ == "__main__":
    main()
