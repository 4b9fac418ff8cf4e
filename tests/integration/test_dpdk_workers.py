#!/usr/bin/env python3
"""The multi-worker DPDK pipeline (engine/pipeline.h) gives the libpcap backend's recordings.

With [dpdk] workers = N > 1 the main lcore runs call control and hands each Call-ID's SIP and
datagrams to the worker lcore that owns the call.  Every case here records a capture twice,
with `capture -r FILE` (one engine, libpcap) and with `capture --dpdk` on N worker lcores fed by
N net_pcap rx_pcap= files split by a hash of the directed 5-tuple (so the two directions of a
flow, and a call's SIP and RTP, often arrive on different queues), and requires the same calls,
consent states, packets kept and exported (seq, payload) per call (test_dpdk.compare), plus
evidence that every worker did part of the work.

  - generated consent scenarios (RFC 4733, SIP INFO, in-band, header consent, refusals,
    withdrawals, pauses, timeouts) on 2 and 3 workers, two seeds;
  - the compliance scenario (profiles, minors and guardians) on 2 workers;
  - the real captures of test_dpdk.REAL on 2 workers (when ../shared is present);
  - live: net_af_packet with 2 queue pairs on a veth pair in a network namespace while tcpreplay
    plays the consent scenario (test_dpdk.live_test with workers = 2).

Skips (with a message) when the binary has no DPDK or the EAL cannot start here.
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_dpdk as td  # noqa: E402


def lcores(n):
    # main + n workers, all floating over the machine's CPUs
    return "--lcores (0-%d)@(0-%d)" % (n, max(0, (os.cpu_count() or 1) - 1))


def worker_units(err):
    return [int(u) for _, u in re.findall(r"pipeline worker (\d+): (\d+) units", err)]


# DPDK joins IP fragments before the engine (rte_ip_frag), so these differ by design
FRAG_COUNTERS = {"packets", "bytes", "ip_fragments", "ip_reassembled"}


def engine_counters(stdout):
    text = stdout.decode("utf-8", "replace")
    if "engine counters" not in text:
        return None
    out = {}
    for line in text.split("engine counters", 1)[1].splitlines()[1:]:
        m = re.match(r"\s+(\w+)\s+(\d+)$", line)
        if not m:
            break
        if m.group(1) not in FRAG_COUNTERS:
            out[m.group(1)] = int(m.group(2))
    return out


def case(tap, name, pcap, n, tmpd, extra=""):
    parts = [os.path.join(tmpd, "%s-w%d-%d.pcap" % (name, n, i)) for i in range(n)]
    split = td.split_by_flow(pcap, parts)
    ref = td.capture_pcap(name, pcap, extra)
    got = td.capture_dpdk(name + "-w%d" % n, "net_pcap0," + ",".join("rx_pcap=" + p for p in parts), workers=n,
                          lcores=lcores(n), extra=extra)
    td.compare(tap, "%s, %d workers" % (name, n), ref, got)
    tap.eq(engine_counters(got[2].stdout), engine_counters(ref[2].stdout),
           "%s, %d workers: the same engine counters as capture -r (but for IP fragments)" % (name, n))
    err = got[2].stderr.decode("utf-8", "replace")
    units = worker_units(err)
    tap.ok(len(units) == n and all(u > 0 for u in units),
           "%s, %d workers: the pipeline ran and every worker had calls (units %s; %d flows split across queues)"
           % (name, n, units, split), err[-1500:])


def main():
    tap = rvtest.Tap()
    td.require_dpdk(tap, "DPDK pipeline")
    tmpd = tempfile.mkdtemp(prefix="dpdk-workers-", dir=rvtest.TMP)

    for seed in (11, 12):
        pcap, _ = rvtest.generate("consent", seed)
        case(tap, "consent-%d" % seed, pcap, 2, tmpd)
    pcap, _ = rvtest.generate("consent", 11)
    case(tap, "consent-11", pcap, 3, tmpd)
    pcap, _ = rvtest.generate("compliance", 5)
    case(tap, "compliance-5", pcap, 2, tmpd)

    for name in td.REAL:
        f = os.path.join(rvtest.PCAPS, name)
        if not os.path.exists(f):
            tap.skip("real capture %s on 2 workers" % name, "not present (%s)" % rvtest.PCAPS)
            continue
        case(tap, name, f, 2, tmpd, td.EXEMPT_ALL)

    # live: net_af_packet with 2 queue pairs (kernel fanout) on a veth pair while tcpreplay plays
    pcap, _ = rvtest.generate("consent", 11)
    td.live_test(tap, pcap, workers=2)
    tap.done()


if __name__ == "__main__":
    main()
