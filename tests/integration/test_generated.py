"""analyze --json against the generator's exact ground truth (scripts/gen).

The `analyze` scenario (seed 1) holds dozens of overlapping calls with every
network and signalling variant the engine must follow: UDP, TCP (split and
coalesced messages, a retransmitted segment), IPv6, VLAN and QinQ,
fragmented INVITEs (in order, reversed, shuffled), early media from a
separate server, re-INVITE moving media, hold, SSRC change, loss,
reordering, duplicates, RFC 4733 / SIP INFO / in-band DTMF from both
parties, calls without BYE, cancelled/rejected/failed/unanswered calls,
background traffic and malformed packets.  Every call, its state, every
stream's counts and every digit must match exactly (times to the
microsecond, in-band digits within the detector's latency).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

STREAM_FIELDS = ("party", "src", "dst", "ssrcs", "payload_types", "codec", "packets", "event_packets",
                 "lost", "duplicates")
SIP_ERR_PREFIX = "sip_"
INBAND_TOLERANCE = 0.25
# generator's names for what it injected -> the engine's counters (None: the
# truth is checked per call and stream instead, or it is ordinary traffic
# without a counter of its own)
COUNTER_MAP = {
    "ip_fragmented_datagrams": "ip_reassembled",
    "rtp_event_packets": "rtp_events",
    "sip_info_dtmf": "dtmf_sip_info",
    "tcp_split_messages": "tcp_messages",
    "tcp_coalesced_segments": "tcp_messages",
    "rtp_duplicates": None,
    "rtp_lost": None,
    "rtp_reordered": None,
}  # s: spandsp confirms a tone some 40-60 ms after it starts


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def compare_call(tap, cid, got, want):
    problems = []
    for k in ("caller", "callee", "state", "status", "end_reason"):
        if got.get(k) != want.get(k):
            problems.append("%s: got %r want %r" % (k, got.get(k), want.get(k)))
    for k in ("invite_time", "answer_time", "end_time"):
        if not close(got.get(k), want.get(k), 0.0005):
            problems.append("%s: got %r want %r" % (k, got.get(k), want.get(k)))
    gs = [{k: s.get(k) for k in STREAM_FIELDS} for s in got["streams"]]
    ws = [{k: s.get(k) for k in STREAM_FIELDS} for s in want["streams"]]
    if gs != ws:
        problems.append("streams:\n  got  %r\n  want %r" % (gs, ws))
    gd, wd = got["dtmf"], want["dtmf"]
    if len(gd) != len(wd):
        problems.append("dtmf count: got %r want %r" % ([(d["digit"], d["source"], d["party"]) for d in gd],
                                                      [(d["digit"], d["source"], d["party"]) for d in wd]))
    else:
        for g, w in zip(gd, wd):
            tol = INBAND_TOLERANCE if w["source"] == "inband" else 0.0005
            if (g["digit"], g["source"], g["party"]) != (w["digit"], w["source"], w["party"]) or \
                    not close(g["time"], w["time"], tol):
                problems.append("dtmf: got %r want %r" % (g, w))
    tap.ok(not problems, "call %s (%s, %d streams, %d digits)" % (cid[:40], want["state"], len(ws), len(wd)),
           "\n".join(problems))


def check_scenario(tap, scenario, seed, extra=()):
    try:
        pcap, truth = rvtest.generate(scenario, seed, extra)
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "%s: generator runs" % scenario, str(e))
        return
    rc, out, err = rvtest.analyze(pcap)
    if not tap.ok(rc == 0 and out is not None, "%s: analyze --json succeeds" % scenario, err[-2000:]):
        return
    tap.eq(out["counters"]["packets"], truth["packets"], "%s: every frame read" % scenario)
    got = {c["call_id"]: c for c in out["calls"]}
    want = {c["call_id"]: c for c in truth["calls"]}
    tap.eq(sorted(got), sorted(want), "%s: exactly the expected %d calls" % (scenario, len(want)))
    tap.eq([c["call_id"] for c in out["calls"]], [c["call_id"] for c in truth["calls"]],
           "%s: calls in order of their first INVITE" % scenario)
    for cid, w in want.items():
        if cid in got:
            compare_call(tap, cid, got[cid], w)
    cnt = out["counters"]
    for name, n in sorted(truth.get("expect_counters_min", {}).items()):
        name = COUNTER_MAP.get(name, name)
        if name is None:
            continue
        if name == "sip_malformed":
            have = sum(v for k, v in cnt.items() if k.startswith(SIP_ERR_PREFIX) and k not in (
                "sip_messages", "sip_retransmissions", "sip_non_call", "sip_orphan", "sip_callid_too_long",
                "sip_sdp_malformed_multipart", "sip_info_malformed"))
        elif name.startswith("bg_"):
            continue  # background traffic: counted as udp_unmatched / tcp_non_sip / decode_not_ip
        else:
            have = cnt.get(name)
        tap.ok(have is not None and have >= n, "%s: counter %s >= %d (is %r)" % (scenario, name, n, have))
    return out


def main():
    tap = rvtest.Tap()
    check_scenario(tap, "analyze", 1)
    tap.done()


if __name__ == "__main__":
    main()
