"""Live capture: `analyze -i IFACE` on a veth pair inside a private network
namespace while tcpreplay plays a generated scenario, then SIGINT.

Checks that the live path (TPACKET_V3, non-blocking reads with poll) sees the
same calls as the offline file, that an optional BPF filter from the config
applies, and that SIGINT and SIGTERM stop the engine promptly even when no
traffic arrives.  Needs root, iproute2 and tcpreplay; skipped otherwise.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import json

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

NS = "rvtest%d" % os.getpid()


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def main():
    tap = rvtest.Tap()
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tcpreplay"):
        tap.skip("live capture", "needs root, iproute2 and tcpreplay")
        tap.done()
    try:
        sh("ip", "netns", "add", NS)
    except subprocess.CalledProcessError as e:
        tap.skip("live capture", "cannot create a network namespace: %s" % e.stderr.strip())
        tap.done()
    try:
        ns = ["ip", "netns", "exec", NS]
        sh(*ns, "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
        sh(*ns, "ip", "link", "set", "va", "up")
        sh(*ns, "ip", "link", "set", "vb", "up")
        sh(*ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", check=False)

        # 1. prompt stop on SIGINT and SIGTERM with no traffic at all
        for sig in (signal.SIGINT, signal.SIGTERM):
            p = subprocess.Popen(ns + [rvtest.BIN, "analyze", "-i", "vb", "--json", "--no-progress"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.0)
            t0 = time.monotonic()
            p.send_signal(sig)
            try:
                out, err = p.communicate(timeout=5)
                dt = time.monotonic() - t0
                ok = p.returncode == 0 and json.loads(out.decode())["calls"] == []
            except (subprocess.TimeoutExpired, ValueError):
                p.kill()
                p.communicate()
                ok, dt = False, 99
            tap.ok(ok and dt < 2.0, "idle live capture stops within 2 s of %s (%.2f s)" % (sig.name, dt))

        # 2. calls from a replayed scenario
        pcap, truth = rvtest.generate("analyze", 1, ["--calls", "12"])
        rc, offline, err = rvtest.analyze(pcap)
        tap.ok(rc == 0 and offline is not None, "offline reference analysis")
        conf = os.path.join(rvtest.TMP, "live.conf")
        with open(conf, "w") as f:
            f.write("[capture]\nbpf_filter = not arp\n")
        p = subprocess.Popen(ns + [rvtest.BIN, "analyze", "-i", "vb", "-c", conf, "--json", "--no-progress"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        r = sh(*ns, "tcpreplay", "-q", "-i", "va", "-K", "--pps=20000", pcap, check=False)
        tap.ok(r.returncode == 0, "tcpreplay played the scenario", r.stderr[-500:])
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        try:
            live = json.loads(out.decode())
        except ValueError:
            live = None
        if tap.ok(p.returncode == 0 and live is not None, "live analyze exits cleanly with JSON",
                  err.decode()[-1000:]):
            lc = {c["call_id"]: (c["state"], c["status"]) for c in live["calls"]}
            oc = {c["call_id"]: (c["state"], c["status"]) for c in offline["calls"]}
            tap.eq(sorted(lc), sorted(oc), "live capture sees the same calls as the file")
            tap.eq(lc, oc, "... with the same outcomes")
            lp = sum(s["packets"] for c in live["calls"] for s in c["streams"])
            op = sum(s["packets"] for c in offline["calls"] for s in c["streams"])
            tap.diag("audio packets live %d, offline %d; stderr: %s" % (lp, op, err.decode().strip()))
            tap.ok(lp == op, "live capture attached every audio packet (%d of %d)" % (lp, op))
            tap.ok(offline["counters"]["decode_not_ip"] > 0 and live["counters"]["decode_not_ip"] == 0,
                   "the config's bpf_filter (not arp) applies: %d non-IP frames offline, %d live" %
                   (offline["counters"]["decode_not_ip"], live["counters"]["decode_not_ip"]))
    finally:
        sh("ip", "netns", "del", NS, check=False)
    tap.done()


if __name__ == "__main__":
    main()
