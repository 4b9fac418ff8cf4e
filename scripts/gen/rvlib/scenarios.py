"""Scenarios: analyze (in memory, every feature), flood (streamed INVITE flood), perf (streamed load)."""
import hashlib
import heapq
import random
import struct

from . import net
from .calls import Ctx, CallSpec, simulate, MS, SEC
from .media import rtp, tel_event, noise_pool, DTMF_EVENT, TEL_EVENT_PT
from .sip import Dialog, sdp

T0 = net.BASE_EPOCH * SEC
CONFIG = {"rtp.inactivity_timeout": 60, "sip.invite_timeout": 120}


def ts_f(us):
    return None if us is None else round(us / 1e6, 6)


def finalize_truth(name, seed, packets, calls, counters, extra=None):
    out = []
    for c in sorted(calls, key=lambda c: (c["invite_time"], c["call_id"])):
        c = dict(c)
        c.pop("_last", None)
        c.pop("_streams", None)
        c.pop("_signals", None)
        for k in ("invite_time", "answer_time", "end_time"):
            c[k] = ts_f(c[k])
        for d in c["dtmf"]:
            d["time"] = ts_f(d["time"])
        out.append(c)
    t = {"scenario": name, "seed": seed, "packets": packets, "config": CONFIG, "calls": out,
         "expect_counters_min": dict(sorted(counters.items()))}
    if extra:
        t.update(extra)
    return t


def call_ips(i, family):
    if family == 6:
        return {"a": "2001:db8:1::%x" % (i + 16), "b": "2001:db8:2::%x" % (i + 16),
                "ems": "2001:db8:3::%x" % (i + 16)}
    return {"a": "10.1.%d.%d" % (i // 200, i % 200 + 10), "b": "10.2.%d.%d" % (i // 200, i % 200 + 10),
            "ems": "10.3.%d.%d" % (i // 200, i % 200 + 10)}


# ------------------------------------------------------------------ analyze
def analyze_specs(rng):
    s = []

    def add(start, **kw):
        i = len(s)
        fam = kw.get("family", 4)
        kw.setdefault("talk", rng.uniform(15, 30))
        kw.setdefault("ring", rng.uniform(0.8, 3.0))
        s.append(CallSpec(call_id="%s-%04d@rvgen.test" % ("%016x" % rng.getrandbits(64), i),
                          caller="1%03d" % (i + 100), callee="2%03d" % (i + 100),
                          start=T0 + int(start * SEC) + rng.randint(0, 999) * MS, ips=call_ips(i, fam),
                          **kw))

    V = ((0x8100, 100),)
    QQ = ((0x88A8, 200), (0x8100, 300))
    add(2, talk=30, rfc4733=[("a", "1", 0.2), ("a", "2", 0.4), ("b", "9", 0.7)], rtcp=True)
    add(4, codec="PCMA", transport="TCP", tcp_split=True, end="bye_b")
    add(6, transport="TCP", tcp_coalesce=True, tcp_retrans=True)
    add(8, family=6, rfc4733=[("b", "5", 0.5)])
    add(10, codec="PCMA", encap=V, end="bye_b")
    add(12, encap=QQ, rfc4733=[("a", "#", 0.5)])
    add(14, frag="in_order", talk=15)
    add(16, frag="reversed", codec="PCMA", talk=15)
    add(18, frag="shuffled", talk=15, end="bye_b")
    add(20, early_media=True, ring=3.0)
    add(22, move=("b", 0.5), talk=30)
    add(24, hold=("a", 0.3, 0.6), talk=30, end="bye_b")
    add(26, ssrc_change=("b", 0.5), talk=25)
    add(28, impair=("a", "b"), talk=40)
    add(30, info=[("a", "relay", "5", 0.3, True), ("b", "dtmf", "7", 0.6, False)])
    add(32, inband=[("a", "3", 0.2), ("a", "#", 0.5), ("b", "1", 0.8)])
    add(34, codec="PCMA", inband=[("b", "8", 0.3), ("a", "0", 0.6)])
    add(36, end="inactive", talk=40)
    add(40, end="inactive", talk=60, rtcp=True)
    add(180, end="capture_end", codec="PCMA", rtcp=True)
    add(45, outcome="cancel", ring=4.0)
    add(50, outcome=486)
    add(55, outcome=603)
    add(60, outcome=302)
    add(65, outcome=503)
    add(200, outcome="unanswered")
    add(70, invite_retrans=2)
    add(75, auth407=True)
    add(80, codec="G722")
    add(85, inject=[("a", "v1", 0.3), ("a", "short", 0.5), ("a", "lone", 0.7)])
    add(90, family=6, frag="in_order", talk=15)
    add(95, codec="G722", encap=V, end="bye_b")
    add(97, move=("a", 0.4), impair=("b",), talk=25, rtcp=True)
    add(99, family=6, transport="TCP", info=[("b", "relay", "4", 0.5, False)], end="bye_b")
    for k in range(6):
        add(110 + k * 14, codec=rng.choice(["PCMU", "PCMU", "PCMA", "G722"]), talk=rng.uniform(10, 40),
            end=rng.choice(["bye_a", "bye_b"]), rtcp=rng.random() < 0.3,
            rfc4733=[("a", rng.choice("0123456789*#"), 0.5)] if k % 2 else [])
    return s


def background(ctx, end_s=240):
    rng = ctx.rng
    # DNS every ~3 s
    t = T0 + 500 * MS
    q = 0
    while t < T0 + (end_s - 2) * SEC:
        q += 1
        name = b"".join(bytes([len(x)]) + x for x in (b"host%d" % q, b"example", b"com")) + b"\x00"
        qid = rng.getrandbits(16)
        query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
        ans = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + name + struct.pack("!HH", 1, 1) + \
            struct.pack("!HHHIH4s", 0xC00C, 1, 1, 300, 4, bytes([93, 184, 216, q % 250 + 1]))
        sp = rng.randint(30000, 60000)
        ctx.emit(t, net.frame("10.9.0.10", "10.9.0.53", 17, net.udp("10.9.0.10", "10.9.0.53", sp, 53, query)))
        ctx.emit(t + 2 * MS, net.frame("10.9.0.53", "10.9.0.10", 17, net.udp("10.9.0.53", "10.9.0.10", 53, sp, ans)))
        ctx.count("bg_dns", 2)
        t += rng.randint(2000, 4000) * MS
    # ARP every ~10 s
    for k in range(1, end_s // 10):
        t = T0 + k * 10 * SEC + 123 * MS
        ctx.emit(t, net.arp(1, "10.9.0.1", "10.9.0.%d" % (k % 50 + 2)))
        ctx.emit(t + MS, net.arp(2, "10.9.0.%d" % (k % 50 + 2), "10.9.0.1", net.mac_for("10.9.0.1")))
        ctx.count("bg_arp", 2)
    # HTTP exchange at 30 s
    c = net.TcpConn("10.9.0.30", 51515, "10.9.0.80", 80, rng.getrandbits(32), rng.getrandbits(32))
    t = T0 + 30 * SEC
    for i, f in enumerate(c.handshake()):
        ctx.emit(t + i * MS, f)
    f, _ = c.send("a", b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: rvgen\r\n\r\n")
    ctx.emit(t + 4 * MS, f)
    body = b"<html><body>" + b"hello " * 200 + b"</body></html>"
    f, _ = c.send("b", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    ctx.emit(t + 20 * MS, f)
    ctx.emit(t + 21 * MS, c.ack("a"))
    ctx.emit(t + 30 * MS, c.fin("a"))
    ctx.emit(t + 31 * MS, c.fin("b"))
    ctx.emit(t + 32 * MS, c.ack("a"))
    ctx.count("bg_http_frames", 10)
    # SSDP NOTIFY every 30 s (must not be taken for SIP)
    for k in range(end_s // 30):
        t = T0 + (k * 30 + 7) * SEC
        m = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
             b"LOCATION: http://10.9.0.77:80/desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
             b"USN: uuid:rvgen-0001::upnp:rootdevice\r\n\r\n")
        ctx.emit(t, net.frame("10.9.0.77", "239.255.255.250", 17, net.udp("10.9.0.77", "239.255.255.250", 1900, 1900, m)))
        ctx.count("bg_ssdp")
    # NTP every 16 s
    for k in range(end_s // 16):
        t = T0 + (k * 16 + 3) * SEC
        req = bytes([0x23]) + b"\x00" * 47
        rsp = bytes([0x24, 2]) + b"\x00" * 46
        ctx.emit(t, net.frame("10.9.0.20", "10.9.0.123", 17, net.udp("10.9.0.20", "10.9.0.123", 123, 123, req)))
        ctx.emit(t + 3 * MS, net.frame("10.9.0.123", "10.9.0.20", 17, net.udp("10.9.0.123", "10.9.0.20", 123, 123, rsp)))
        ctx.count("bg_ntp", 2)
    # random UDP between high ports (ports no SDP announced; first byte never looks like RTP v2)
    t = T0 + 1 * SEC
    while t < T0 + (end_s - 2) * SEC:
        src = "10.9.1.%d" % rng.randint(1, 200)
        dst = "10.9.2.%d" % rng.randint(1, 200)
        pl = bytes([rng.randint(0, 0x3F)]) + rng.randbytes(rng.randint(20, 300))
        ctx.emit(t, net.frame(src, dst, 17, net.udp(src, dst, rng.randint(50000, 59999), rng.randint(50000, 59999), pl)))
        ctx.count("bg_random_udp")
        t += rng.randint(300, 1500) * MS


def malformed(ctx):
    rng = ctx.rng
    a, b = "10.8.0.1", "10.8.0.2"
    t = T0 + 33 * SEC
    trunc = (b"INVITE sip:trunc@10.8.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.8.0.1:5060;branch=z9hG4bKtrunc1\r\n"
             b"From: <sip:x@10.8.0.1>;tag=1\r\nTo: <sip:trunc@10.8.0.2>\r\nCall-ID: truncated-1@rvgen\r\nCSeq: 1 INV")
    ctx.emit(t, net.frame(a, b, 17, net.udp(a, b, 5060, 5060, trunc)))
    ctx.emit(T0 + 77 * SEC, net.frame(a, b, 17, net.udp(a, b, 5060, 5060, bytes([0xFF, 0x00]) + rng.randbytes(200))))
    neg = (b"OPTIONS sip:probe@10.8.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.8.0.1:5060;branch=z9hG4bKneg1\r\n"
           b"From: <sip:x@10.8.0.1>;tag=2\r\nTo: <sip:probe@10.8.0.2>\r\nCall-ID: neg-cl-1@rvgen\r\n"
           b"CSeq: 1 OPTIONS\r\nContent-Length: -1\r\n\r\nabc")
    ctx.emit(T0 + 120 * SEC, net.frame(a, b, 17, net.udp(a, b, 5060, 5060, neg)))
    ctx.count("sip_malformed", 3)


def run_analyze(args, writer):
    rng = random.Random(args.seed)
    end = T0 + 240 * SEC
    ctx = Ctx(rng, end, args.truth_payloads)
    specs = analyze_specs(rng)
    if args.calls:
        specs = specs[:args.calls]
    calls = [simulate(ctx, s) for s in specs]
    for c in calls:
        if c["end_reason"] == "rtp_inactivity":
            assert c["_last"] <= end - 70 * SEC, "inactive call too close to capture end"
        if c["state"] == "unanswered":
            assert c["invite_time"] > end - 120 * SEC
    background(ctx)
    malformed(ctx)
    ctx.emit(end, net.arp(1, "10.9.0.1", "10.9.0.254"))  # last frame defines the capture end
    ctx.packets.sort(key=lambda p: (p[0], p[1]))
    for ts, _, f in ctx.packets:
        writer.write(ts, f)
    # distinct SIP messages of calls (retransmissions and the 3 malformed ones excluded): a safe minimum
    ctx.count("sip_messages", sum(ctx.sip_stats.values()) - ctx.counters.get("sip_retransmissions", 0))
    return finalize_truth("analyze", args.seed, writer.count, calls, ctx.counters,
                          ), ctx.sip_stats


# ------------------------------------------------------------------ flood
FLOOD_TEMPLATE = (
    "INVITE sip:{user}@10.0.0.5 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.66.0.1:5060;branch=z9hG4bK@@BRANCH@@\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"scanner\" <sip:100@10.66.0.1>;tag=@@TAG@@\r\n"
    "To: <sip:{user}@10.0.0.5>\r\n"
    "Call-ID: @@CALLID@@@10.66.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:100@10.66.0.1:5060>\r\n"
    "User-Agent: friendly-scanner\r\n"
    "Content-Length: 0\r\n\r\n")


def flood_packets(rng, n, t_start, dur_us):
    tpl = FLOOD_TEMPLATE.format(user="9001").encode()
    pre, rest = tpl.split(b"@@BRANCH@@")
    mid1, rest = rest.split(b"@@TAG@@")
    mid2, post = rest.split(b"@@CALLID@@")
    plen = len(tpl) - 10 - 7 - 10 + 16 + 8 + 16
    t = net.UdpTemplate("10.66.0.1", "10.0.0.5", 5060, 5060, plen)
    prefix = t.prefix
    getbits = rng.getrandbits
    for i in range(n):
        ts = t_start + (i * dur_us) // n
        payload = b"".join((pre, b"%016x" % getbits(64), mid1, b"%08x" % getbits(32), mid2,
                            b"fl%014d" % i, post))
        yield ts, prefix + payload


def run_flood(args, writer):
    rng = random.Random(args.seed)
    n = args.flood_count
    f_start, f_dur = T0 + 5 * SEC, 20 * SEC
    ctx = Ctx(rng, T0 + 3600 * SEC, args.truth_payloads)
    specs = []
    for i in range(10):
        pre = i < 5
        start = (1 + i * 0.5) if pre else (30 + (i - 5) * 1.0)
        talk = rng.uniform(24, 27) if pre else rng.uniform(9, 11)
        specs.append(CallSpec(call_id="%016x-%02d@rvgen.flood" % (rng.getrandbits(64), i),
                              caller="3%03d" % i, callee="4%03d" % i, start=T0 + int(start * SEC),
                              ring=1.0, talk=talk, codec=("PCMU", "PCMA")[i % 2], ips=call_ips(i, 4),
                              end=("bye_a", "bye_b")[i % 2]))
    calls = [simulate(ctx, s) for s in specs]
    for c in calls[:5]:
        assert c["answer_time"] < f_start and c["end_time"] > f_start + f_dur
    ctx.packets.sort(key=lambda p: (p[0], p[1]))
    normal = ((ts, f) for ts, _, f in ctx.packets)
    for ts, f in heapq.merge(normal, flood_packets(rng, n, f_start, f_dur), key=lambda p: p[0]):
        writer.write(ts, f)
    ctx.count("flood_invites", n)
    return finalize_truth("flood", args.seed, writer.count, calls, ctx.counters, {"flood_invites": n}), None


# ------------------------------------------------------------------ perf
PERF_PTIME = 40000  # 40 ms: 320-byte PCMU payloads, ts += 320 (announced with a=ptime:40)
PERF_SAMPLES = 320


def perf_call(i, seed, start, truth_payloads, pool):
    """Returns (truth, generator of (ts, frame) in time order)."""
    rng = random.Random(seed * 1000003 + i)
    ips = call_ips(i, 4)
    A = {"user": "5%05d" % i, "ip": ips["a"], "port": 5060}
    B = {"user": "6%05d" % i, "ip": ips["b"], "port": 5060}
    dlg = Dialog(rng, "%016x-%06d@rvgen.perf" % (rng.getrandbits(64), i), A, B)
    pa, pb = rng.randrange(10000, 30000, 2), rng.randrange(30000, 50000, 2)
    ring = rng.randint(500, 3000) * MS
    talk = rng.randint(60000, 90000) * MS
    sig = []

    def send(t, side, data):
        s, d = (A, B) if side == "a" else (B, A)
        sig.append((t, net.frame(s["ip"], d["ip"], 17, net.udp(s["ip"], d["ip"], 5060, 5060, data, csum=False))))

    br = dlg.branch()
    t = start
    send(t, "a", dlg.request("a", "INVITE", 1, br, sdp(i + 1000, 1, A["ip"], pa, "PCMU", ptime=40), "application/sdp"))
    send(t + 20 * MS, "b", dlg.response("a", 100, "INVITE", 1, br))
    send(t + 120 * MS, "b", dlg.response("a", 180, "INVITE", 1, br))
    ta = t + 120 * MS + ring
    send(ta, "b", dlg.response("a", 200, "INVITE", 1, br, sdp(i + 5000, 1, B["ip"], pb, "PCMU", ptime=40), "application/sdp"))
    send(ta + 30 * MS, "a", dlg.request("a", "ACK", 1, dlg.branch()))
    m0 = ta + 50 * MS
    m1 = m0 + talk
    tb = m1 + 30 * MS
    who = "a" if i % 2 == 0 else "b"
    other = "b" if who == "a" else "a"
    dlg.cseq[who] += 1
    bb = dlg.branch()
    send(tb, who, dlg.request(who, "BYE", dlg.cseq[who], bb))
    send(tb + 30 * MS, other, dlg.response(who, 200, "BYE", dlg.cseq[who], bb))
    dtmf = []
    truth = {"call_id": dlg.call_id, "caller": A["user"], "callee": B["user"], "state": "answered",
             "status": 200, "invite_time": start, "answer_time": ta, "end_reason": "bye", "end_time": tb,
             "streams": [], "dtmf": dtmf}
    digits = {}
    if i % 10 == 3:
        digits["a"] = (m0 + talk // 3, rng.choice("0123456789"))
    if i % 10 == 7:
        digits["b"] = (m0 + talk // 2, rng.choice("0123456789*#"))

    def direction(side, src, sp, dst, dp, off):
        rg = random.Random(seed * 7919 + i * 2 + (side == "b"))
        ssrc = rg.getrandbits(32) | 1
        seq = rg.getrandbits(16)
        ts0 = rg.getrandbits(32)
        st = {"party": "caller" if side == "a" else "callee", "src": net.fmt_ep(src, sp),
              "dst": net.fmt_ep(dst, dp), "ssrcs": ["0x%08x" % ssrc], "payload_types": [0],
              "codec": "PCMU", "packets": 0, "event_packets": 0, "lost": 0, "duplicates": 0}
        payloads = {}
        if truth_payloads:
            st["payloads"] = payloads
        st["_first"] = m0 + off
        truth["streams"].append(st)
        tpl = net.UdpTemplate(src, dst, sp, dp, 12 + PERF_SAMPLES)
        etpl = net.UdpTemplate(src, dst, sp, dp, 16)
        n = (m1 - m0 - off) // PERF_PTIME
        ev = digits.get(side)
        k = 0
        npool = len(pool)
        rnd = rg.random
        while k < n:
            t = m0 + off + k * PERF_PTIME
            ts = ts0 + k * PERF_SAMPLES
            if ev and t >= ev[0]:
                code = DTMF_EVENT[ev[1]]
                ne = rg.randint(6, 8)
                for j in range(ne + 3):
                    dur = PERF_SAMPLES * min(j + 1, ne)
                    pkt = rtp(TEL_EVENT_PT, seq, ts, ssrc, tel_event(code, j >= ne, 10, dur), marker=(j == 0))
                    wt = t + j * PERF_PTIME
                    if j == 0:
                        dtmf.append({"digit": ev[1], "source": "rfc4733", "party": st["party"], "time": wt})
                    yield wt, etpl.build(pkt)
                    seq = (seq + 1) & 0xFFFF
                st["event_packets"] += ne + 3
                st["payload_types"] = [0, TEL_EVENT_PT]
                k += ne + 3
                ev = None
                continue
            if 5 <= k < n - 8 and rnd() < 0.005:
                st["lost"] += 1
            else:
                pl = pool[(k * 7 + i) % npool]
                if truth_payloads:
                    payloads[str(seq)] = hashlib.sha256(pl).hexdigest()
                st["packets"] += 1
                yield t, tpl.build(rtp(0, seq, ts, ssrc, pl))
            seq = (seq + 1) & 0xFFFF
            k += 1

    gens = [iter(sorted(sig, key=lambda p: p[0])),
            direction("a", A["ip"], pa, B["ip"], pb, 3 * MS),
            direction("b", B["ip"], pb, A["ip"], pa, 11 * MS)]
    return truth, heapq.merge(*gens, key=lambda p: p[0])


def lazy_merge(sources):
    """sources: list of (start_ts, factory) sorted by start_ts; factory() -> iterator of (ts, frame)
    whose first ts >= start_ts. Activates sources only when the merge reaches their start."""
    heap = []
    si = 0
    cnt = 0
    while True:
        while si < len(sources) and (not heap or sources[si][0] <= heap[0][0]):
            it = sources[si][1]()
            si += 1
            for ts, f in it:
                heapq.heappush(heap, (ts, cnt, f, it))
                cnt += 1
                break
        if not heap:
            return
        ts, _, f, it = heapq.heappop(heap)
        yield ts, f
        for nts, nf in it:
            heapq.heappush(heap, (nts, cnt, nf, it))
            cnt += 1
            break


def run_perf(args, writer):
    rng = random.Random(args.seed)
    per_call = 2 * 75 * SEC // PERF_PTIME + 8
    n_calls = max(1, round(args.packets / per_call))
    arrival = 20 * SEC
    pool = noise_pool(rng, "PCMU", 64, PERF_SAMPLES)
    truths = []
    sources = []
    for i in range(n_calls):
        start = T0 + SEC + (i * arrival) // n_calls + rng.randint(0, 5000)

        def factory(i=i, start=start):
            tr, gen = perf_call(i, args.seed, start, args.truth_payloads, pool)
            truths.append(tr)
            return gen
        sources.append((start, factory))
    sources.sort(key=lambda s: s[0])
    for ts, f in lazy_merge(sources):
        writer.write(ts, f)
    for tr in truths:
        tr["streams"].sort(key=lambda s: s.pop("_first"))
    return finalize_truth("perf", args.seed, writer.count, truths, {"rtp_lost": sum(
        s["lost"] for t in truths for s in t["streams"])}), None
