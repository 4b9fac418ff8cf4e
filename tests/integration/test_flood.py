"""INVITE flood: memory stays within the configured bounds and the calls
around the flood are still reported completely.

The generator's `flood` scenario holds 5 answered calls established before
the flood, FLOOD unanswered INVITEs with distinct Call-IDs within 20 s, and
5 calls after it.  The engine runs with the default config ([limits]
max_calls = 20000).  Peak RSS is measured for a flood of 10^5 and of 10^6
INVITEs: bounded state means the second is not larger than the first by more
than a small allowance (allocator noise), although ten times as many INVITEs
were seen.  The peak RSS figures are printed.
"""
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

FLOOD_BIG = int(os.environ.get("RV_FLOOD_COUNT", "1000000"))
FLOOD_SMALL = FLOOD_BIG // 10
STREAM_FIELDS = ("party", "src", "dst", "ssrcs", "codec", "packets", "event_packets", "lost", "duplicates")


def run_measured(pcap):
    """analyze --json in a child; returns (rc, json, peak RSS in KiB of that child)."""
    pid = os.fork()
    if pid == 0:
        out = os.open(pcap + ".json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.execv(rvtest.BIN, [rvtest.BIN, "analyze", pcap, "--json", "--no-progress"])
    _, status, ru = os.wait4(pid, 0)
    import json
    try:
        with open(pcap + ".json") as f:
            data = json.load(f)
    except ValueError:
        data = None
    return os.waitstatus_to_exitcode(status), data, ru.ru_maxrss


def main():
    tap = rvtest.Tap()
    results = {}
    for count in (FLOOD_SMALL, FLOOD_BIG):
        try:
            pcap, truth = rvtest.generate("flood", 2, ["--flood-count", str(count)])
        except Exception as e:  # noqa: BLE001
            tap.ok(False, "generator writes a flood of %d INVITEs" % count, str(e))
            continue
        rc, out, rss = run_measured(pcap)
        if not tap.ok(rc == 0 and out is not None, "flood %d: analyze completes" % count):
            continue
        tap.diag("flood of %d INVITEs: peak RSS %.1f MiB, %d packets" % (count, rss / 1024.0,
                                                                       out["counters"]["packets"]))
        results[count] = rss
        cnt = out["counters"]
        got = {c["call_id"]: c for c in out["calls"]}
        want = {c["call_id"]: c for c in truth["calls"]}
        tap.ok(all(cid in got for cid in want), "flood %d: all %d normal calls reported" % (count, len(want)),
               "missing: %r" % sorted(set(want) - set(got)))
        bad = []
        for cid, w in want.items():
            g = got.get(cid)
            if not g:
                continue
            if (g["state"], g["status"], g["end_reason"]) != (w["state"], w["status"], w["end_reason"]):
                bad.append("%s: %r vs %r" % (cid, (g["state"], g["status"], g["end_reason"]),
                                             (w["state"], w["status"], w["end_reason"])))
            gs = [{k: s.get(k) for k in STREAM_FIELDS} for s in g["streams"]]
            ws = [{k: s.get(k) for k in STREAM_FIELDS} for s in w["streams"]]
            if gs != ws:
                bad.append("%s streams: %r vs %r" % (cid, gs, ws))
        tap.ok(not bad, "flood %d: normal calls complete (state, streams, packet counts)" % count, "\n".join(bad))
        tap.ok(len(out["calls"]) <= 20000 + len(want),
               "flood %d: reported calls bounded by max_calls (%d reported)" % (count, len(out["calls"])))
        dropped = cnt["calls_evicted_unanswered"] + sum(1 for c in out["calls"] if c["call_id"] not in want)
        tap.eq(dropped, count, "flood %d: every flood INVITE either reported or counted as evicted" % count)
    if FLOOD_SMALL in results and FLOOD_BIG in results:
        small, big = results[FLOOD_SMALL], results[FLOOD_BIG]
        tap.ok(big <= small * 1.25 + 16 * 1024,
               "peak RSS bounded: %.1f MiB for %d INVITEs vs %.1f MiB for %d" % (big / 1024.0, FLOOD_BIG,
                                                                               small / 1024.0, FLOOD_SMALL))
    tap.done()


if __name__ == "__main__":
    main()
