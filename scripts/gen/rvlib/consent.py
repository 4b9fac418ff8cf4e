"""Scenario `consent` (seed 11): calls exercising the recorder's consent gate.

Every call's truth gets, besides the usual analyze fields:
  "consent": {"state", "method", "party", "value", "time", "basis"} expected under the DEFAULT
             recorder config (docs: /work/notes/recorder-spec.md) plus
             [exempt] callee_prefixes = 110, 120 / basis = legal obligation (emergency services)
  "kept":    {"keep": {stream_index: [[seq, sha256hex(payload)], ...]}, "discard": {...}}
             the RTP packets (audio + telephone-event, duplicates excluded) the recorder must keep
             with pre_consent_audio = keep / discard; stream_index indexes the call's "streams";
             streams with nothing kept are absent (a call with nothing kept has {} in both modes).
  in-band decisions: "inband_decision": true, "decision_window": [tone_start, tone_start + 0.2];
             "kept.discard" holds the packets with time >= tone_start and "window_packets"
             {stream_index: [[seq, time], ...]} lists those of them inside the window, so a test
             can accept a kept set starting anywhere within the window.
Top level: "exempt" (the [exempt] section used), "must_not_keep" (call-ids with nothing kept in
either mode), "leak_payloads" {call_id: [hex payload, ...]} (distinct payloads >= 16 bytes of those
calls, for the leak test), "numbers" (every caller/callee number), "orphan_info_call_id".
The policy evaluation below is generic (digits by party/window, headers, pause sequences), the
call specs only choose which signals appear where.
"""
import hashlib
import random

from . import net
from .calls import Ctx, CallSpec, simulate, MS, SEC
from .media import rtp, tel_event, DTMF_EVENT, TEL_EVENT_PT
from .scenarios import T0, finalize_truth, call_ips, ts_f, background
from .sip import Dialog

EXEMPT = {"callee_prefixes": ["110", "120"], "basis": "legal obligation (emergency services)"}
POLICY = {"party": "callee", "window": 30.0, "grant": "1", "refuse": "0", "withdraw": "9",
          "header": "x-recording-consent", "header_grant": "granted", "header_deny": "denied",
          "pause": "*1", "resume": "*2", "pause_party": "caller", "pause_header": "x-recording-pause"}
INBAND_WINDOW = 0.2
CAPTURE_S = 230


def consent_specs(rng):
    s = []

    def add(start, kind, callee=None, **kw):
        i = len(s)
        talk = kw.pop("talk", rng.uniform(20, 28))
        kw.setdefault("ring", rng.uniform(0.8, 2.0))
        fam = kw.get("family", 4)

        def fr(sec):  # seconds after media start -> fraction of talk
            return sec / talk
        for key in ("rfc4733", "inband"):
            kw[key] = [(a, d, fr(x)) for a, d, x in kw.get(key, ())]
        kw["info"] = [(a, k, d, fr(x), r) for a, k, d, x, r in kw.get("info", ())]
        kw["hdr"] = [(a, m, n, v, fr(x)) for a, m, n, v, x in kw.get("hdr", ())]
        spec = CallSpec(call_id="%016x-c%02d@rvgen.consent" % (rng.getrandbits(64), i),
                        caller="33055510%04d" % (i + 100),
                        callee=callee or "49305550%04d" % (i + 100),
                        start=T0 + int(start * SEC) + rng.randint(0, 999) * MS, ips=call_ips(i, fam),
                        talk=talk, **kw)
        spec.kind = kind
        s.append(spec)

    V = ((0x8100, 100),)
    H = "X-Recording-Consent"
    # granted, every method (and network variants)
    add(2, "granted rfc4733", rfc4733=[("b", "1", 4.0)])
    add(7, "granted rfc4733 IPv6", family=6, codec="PCMA", rfc4733=[("b", "1", 6.0)])
    add(12, "granted sip-info dtmf-relay over TCP", transport="TCP", info=[("b", "relay", "1", 5.0, False)])
    add(17, "granted sip-info application/dtmf", codec="PCMA", info=[("b", "dtmf", "1", 7.0, False)])
    add(22, "granted inband (fragmented INVITE)", frag="in_order", inband=[("b", "1", 5.0)])
    add(27, "granted inband PCMA", codec="PCMA", inband=[("b", "1", 8.0)])
    add(32, "granted header on 200 OK (VLAN, loss/dup)", encap=V, impair=("a", "b"),
        answer_hdrs=[(H, "granted")])
    add(37, "granted header on INFO (odd case)", hdr=[("b", "INFO", "x-recording-CONSENT", "Granted", 6.0)])
    add(42, "granted header on re-INVITE by caller", codec="PCMA",
        hdr=[("a", "INVITE", H, "granted", 9.0)])
    # denied, every method
    add(47, "denied rfc4733", rfc4733=[("b", "0", 5.0)])
    add(52, "denied sip-info dtmf-relay", info=[("b", "relay", "0", 5.0, False)])
    add(57, "denied sip-info application/dtmf", codec="PCMA", info=[("b", "dtmf", "0", 6.0, False)])
    add(62, "denied inband", codec="PCMA", inband=[("b", "0", 6.0)])
    add(67, "denied header on INFO", hdr=[("b", "INFO", H, "denied", 5.0)])
    add(72, "withdraw digit while pending -> denied", rfc4733=[("b", "9", 5.0)])
    # timeout / withdrawn / decoys
    add(77, "timeout (no signal)", talk=40)
    add(82, "withdrawn (1 then 9)", rfc4733=[("b", "1", 4.0), ("b", "9", 15.0)])
    add(87, "decoy: caller presses 1 -> timeout", rfc4733=[("a", "1", 4.0)])
    add(92, "decoy: callee 5 then 1 -> granted at 1", codec="PCMA",
        rfc4733=[("b", "5", 3.0), ("b", "1", 6.0)])
    add(97, "decoy: callee 1 after the window -> timeout", talk=45, rfc4733=[("b", "1", 35.0)])
    add(102, "decoy: stray telephone-event 1 to the callee's port -> timeout")
    add(107, "decoy: caller in-band 1 -> timeout", inband=[("a", "1", 5.0)])
    # exempt
    add(112, "exempt 110", callee="110555%06d" % 1)
    add(117, "exempt 120 (caller digit)", callee="120555%06d" % 2, codec="PCMA", rfc4733=[("a", "0", 5.0)])
    # pause / resume after a grant
    add(122, "pause/resume by caller RFC 4733", talk=24,
        rfc4733=[("b", "1", 3.0), ("a", "*", 8.0), ("a", "1", 8.6), ("a", "*", 14.0), ("a", "2", 14.6)])
    add(127, "pause/resume by header", info=[("b", "relay", "1", 3.0, False)],
        hdr=[("a", "INFO", "X-Recording-Pause", "pause", 9.0), ("a", "INFO", "X-Recording-Pause", "resume", 15.0)])
    # no answer / hung up early
    add(132, "cancelled", outcome="cancel", ring=4.0)
    add(137, "rejected 486", outcome=486)
    add(142, "failed 503", outcome=503)
    add(147, "answered, hung up before any signal -> timeout", talk=6, end="bye_b")
    add(152, "granted rfc4733 late in window", codec="PCMA", talk=34, rfc4733=[("b", "1", 25.0)])
    return s


def in_pause(t, pauses):
    return any(p <= t and (r is None or t < r) for p, r in pauses)


def evaluate(c, spec):
    """Returns (consent dict, decision info) for one simulated call truth (times in us)."""
    ans = c["answer_time"]
    con = {"state": None, "method": None, "party": None, "value": None, "time": None, "basis": None}
    if any(c["callee"].startswith(p) for p in EXEMPT["callee_prefixes"]):
        con.update(state="exempt", method="exempt", basis=EXEMPT["basis"])
        return con, {"mode": "all"}
    if ans is None:
        con.update(state="none")
        return con, {"mode": "none"}
    limit = ans + int(POLICY["window"] * SEC)
    sigs = []
    for d in c["dtmf"]:
        sigs.append((d["time"], "digit", d["digit"], d["source"], d["party"]))
    for h in c["_signals"]:
        sigs.append((h["time"], "hdr:" + h["header"].lower(), h["value"].lower(), "sip-header", h["party"]))
    sigs.sort()
    state, T, W = "pending", None, None
    pauses = []
    caller_prev = None
    for t, kind, val, method, party in sigs:
        if kind == "digit" and party == POLICY["pause_party"]:
            seq = (caller_prev or "") + val
            if seq == POLICY["pause"]:
                pauses.append([t, None])
            elif seq == POLICY["resume"] and pauses and pauses[-1][1] is None:
                pauses[-1][1] = t
            caller_prev = val
        if kind == "hdr:" + POLICY["pause_header"]:
            if val == "pause":
                pauses.append([t, None])
            elif val == "resume" and pauses and pauses[-1][1] is None:
                pauses[-1][1] = t
            continue
        if t > limit:
            continue
        decisive = None
        if kind == "digit" and party == POLICY["party"]:
            decisive = {"1": "grant", "0": "deny", "9": "withdraw"}.get(val)
        elif kind == "hdr:" + POLICY["header"]:
            decisive = {"granted": "grant", "denied": "deny"}.get(val)
        if decisive is None:
            continue
        if state == "pending":
            state = {"grant": "granted", "deny": "denied", "withdraw": "denied"}[decisive]
            T = t
            con.update(method=method, party=party, value=val, time=t)
        elif state == "granted" and decisive == "withdraw":
            state = "withdrawn"
            W = t
            con.update(method=method, party=party, value=val, time=t)
    if state == "pending":
        state = "timeout"
    con["state"] = state
    if state not in ("granted", "withdrawn"):
        return con, {"mode": "none"}
    # T = the grant (for discard mode; an in-band grant's T is the tone start)
    inband = any(s[0] == T and s[3] == "inband" for s in sigs)
    return con, {"mode": "granted", "T": T, "W": W, "pauses": pauses, "inband": inband}


def kept_sets(c, info):
    streams = c["_streams"]
    out = {"keep": {}, "discard": {}}
    winp = {}
    for i, st in enumerate(streams):
        for mode in ("keep", "discard"):
            lst = []
            for wire, kind, ssrc, seq, payload in st.log:
                if kind not in ("audio", "event"):
                    continue
                if info["mode"] == "none":
                    continue
                if info["mode"] == "granted":
                    if info["W"] is not None and wire >= info["W"]:
                        continue
                    if in_pause(wire, info["pauses"]):
                        continue
                    if mode == "discard" and wire < info["T"]:
                        continue
                    if mode == "discard" and info["inband"] and wire < info["T"] + int(INBAND_WINDOW * SEC):
                        winp.setdefault(str(i), []).append([seq, ts_f(wire)])
                lst.append([seq, hashlib.sha256(payload).hexdigest()])
            if lst:
                out[mode][str(i)] = lst
    return out, winp


def stray_event(ctx, c):
    """One RFC 4733 '1' packet (M bit) from an unrelated source to the callee's RTP port."""
    rng = ctx.rng
    st = [s for s in c["_streams"] if s.party == "caller"][0]
    t = c["answer_time"] + 5 * SEC
    pkt = rtp(TEL_EVENT_PT, rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(32),
              tel_event(DTMF_EVENT["1"], False, 10, 160), marker=True)
    src = "10.7.0.99"
    ctx.emit(t, net.frame(src, st.dst, 17, net.udp(src, st.dst, 40000, st.dport, pkt), (), ctx.ipid()))
    ctx.count("rtp_probation_failed")


def orphan_info(ctx, t):
    rng = ctx.rng
    A = {"user": "330555199999", "ip": "10.1.9.9", "port": 5060}
    B = {"user": "493055599999", "ip": "10.2.9.9", "port": 5060}
    dlg = Dialog(rng, "%016x-orphan@rvgen.consent" % rng.getrandbits(64), A, B)
    dlg.tag["b"] = "%08x" % rng.getrandbits(32)
    msg = dlg.request("b", "INFO", 7, dlg.branch(), b"Signal=1\r\nDuration=160\r\n", "application/dtmf-relay")
    ctx.emit(t, net.frame(B["ip"], A["ip"], 17, net.udp(B["ip"], A["ip"], 5060, 5060, msg)))
    ctx.count("sip_orphan")
    return dlg.call_id


def run_consent(args, writer):
    rng = random.Random(args.seed)
    end = T0 + CAPTURE_S * SEC
    ctx = Ctx(rng, end, args.truth_payloads)
    specs = consent_specs(rng)
    if args.calls:
        specs = specs[:args.calls]
    calls = []
    for sp in specs:
        c = simulate(ctx, sp)
        c["scenario_kind"] = sp.kind
        if sp.kind.startswith("decoy: stray"):
            stray_event(ctx, c)
        calls.append(c)
    orphan = orphan_info(ctx, T0 + 50 * SEC + 321 * MS)
    background(ctx, CAPTURE_S)
    ctx.emit(end, net.arp(1, "10.9.0.1", "10.9.0.254"))
    must_not, leak, numbers = [], {}, set()
    for c in calls:
        con, info = evaluate(c, None)
        kept, winp = kept_sets(c, info)
        c["consent"] = dict(con, time=ts_f(con["time"]))
        c["kept"] = kept
        if info.get("inband"):
            c["inband_decision"] = True
            c["decision_window"] = [ts_f(info["T"]), ts_f(info["T"] + int(INBAND_WINDOW * SEC))]
            c["window_packets"] = winp
        if info["mode"] == "granted" and info["pauses"]:
            c["pauses"] = [[ts_f(p), ts_f(r)] for p, r in info["pauses"]]
        numbers.update((c["caller"], c["callee"]))
        if not kept["keep"] and not kept["discard"]:
            must_not.append(c["call_id"])
            pls = set()
            for st in c["_streams"]:
                for _, kind, _, _, payload in st.log:
                    if payload is not None and len(payload) >= 16:
                        pls.add(payload.hex())
            leak[c["call_id"]] = sorted(pls)
    ctx.packets.sort(key=lambda p: (p[0], p[1]))
    for ts, _, f in ctx.packets:
        writer.write(ts, f)
    truth = finalize_truth("consent", args.seed, writer.count, calls, ctx.counters, {
        "exempt": EXEMPT, "policy": POLICY, "must_not_keep": must_not, "leak_payloads": leak,
        "numbers": sorted(numbers), "orphan_info_call_id": orphan})
    return truth, ctx.sip_stats
