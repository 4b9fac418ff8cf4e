"""Call spec + call simulator (in-memory, used by the `analyze` scenario).

CallSpec describes one call (who, where, transport, outcome, mid-call features).
simulate(ctx, spec) emits the call's packets through ctx.emit() and returns its truth dict.
Timing unit: integer microseconds since the Unix epoch.
"""
import hashlib

from . import net
from .media import (CODECS, PTIME_US, TEL_EVENT_PT, DTMF_EVENT, rtp, tel_event, rtcp_sr_sdes,
                    noise_pool, dtmf_tone_payloads)
from .sip import Dialog, sdp

MS = 1000
SEC = 1000000


class Ctx:
    """Collects emitted packets and global counters for one scenario run."""

    def __init__(self, rng, capture_end, truth_payloads=False):
        self.rng = rng
        self.capture_end = capture_end
        self.truth_payloads = truth_payloads
        self.packets = []  # (ts_us, order, frame)
        self.counters = {}
        self.sip_stats = {}  # "INVITE" / "200" -> count of SIP messages put on the wire (logical)
        self._ipid = 1000
        self._ports = set()

    def emit(self, ts, frame, call=None):
        assert ts <= self.capture_end, "packet after capture end"
        self.packets.append((ts, len(self.packets), frame))
        if call is not None:
            call.last = max(call.last, ts)

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def ipid(self):
        self._ipid = (self._ipid + 1) & 0xFFFF
        return self._ipid

    def media_port(self):
        while True:
            p = self.rng.randrange(10000, 39998, 2)
            if p not in self._ports:
                self._ports.add(p)
                return p

    def sip_stat(self, data):
        first = data.split(b"\r\n", 1)[0].decode()
        key = first.split(" ")[1] if first.startswith("SIP/2.0") else first.split(" ")[0]
        self.sip_stats[key] = self.sip_stats.get(key, 0) + 1


class CallSpec:
    DEFAULTS = dict(
        call_id=None, caller="alice", callee="bob", start=0, family=4, encap=(), transport="UDP",
        outcome="answered",  # answered | cancel | 486 | 603 | 302 | 503 | unanswered
        ring=1.0, talk=20.0,
        end="bye_a",  # bye_a | bye_b | inactive | capture_end
        codec="PCMU", early_media=False, auth407=False, invite_retrans=0, frag=None,
        tcp_split=False, tcp_coalesce=False, tcp_retrans=False,
        move=None,  # (side, frac)
        hold=None,  # (side, frac_start, frac_end)
        ssrc_change=None,  # (side, frac)
        impair=(),  # sides with loss/dup/reorder
        rfc4733=(),  # (side, digit, frac)
        info=(),  # (side, kind relay|dtmf, digit, frac, retrans)
        inband=(),  # (side, digit, frac)
        inject=(),  # (side, kind v1|short|lone, frac)
        rtcp=False, ips=None,
        answer_hdrs=(),  # extra (name, value) headers on the 200 OK to the INVITE
        hdr=(),  # (side, method INFO|INVITE, header name, value, frac): in-dialog request carrying a header
    )

    def __init__(self, **kw):
        for k, v in self.DEFAULTS.items():
            setattr(self, k, v)
        for k, v in kw.items():
            if k not in self.DEFAULTS:
                raise TypeError("unknown CallSpec field " + k)
            setattr(self, k, v)


class Stream:
    """One RTP direction (src -> dst endpoint pair) with its truth accounting."""

    def __init__(self, ctx, call, party, src, sport, dst, dport, codec, impair=False, rtcp=False):
        self.ctx, self.call, self.party = ctx, call, party
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.codec = codec
        self.pt = CODECS[codec][0]
        self.rng = ctx.rng
        self.tpl = net.UdpTemplate(src, dst, sport, dport, 12 + 160, call.encap)
        self.pool = noise_pool(self.rng, codec, 32)
        self.impair = impair
        self.rtcp = rtcp
        self.ssrcs = []
        self.pts = set()
        self.packets = self.events = self.lost = self.dups = 0
        self.octets = 0
        self.first = None
        self.payloads = {}
        # per-packet metadata kept in memory for truth/future scenarios (e.g. consent gating):
        # (wire_ts_us, kind 'audio'|'dup'|'event'|'lost', ssrc, seq, payload bytes or None)
        self.log = []
        self.new_ssrc(None)

    def new_ssrc(self, t):
        while True:
            s = self.rng.getrandbits(32)
            if s not in self.ssrcs and s != 0:
                break
        self.ssrc = s
        if self.ssrcs:
            self.seq = (self.seq + 20000 + self.rng.randint(0, 20000)) & 0xFFFF
        else:
            self.seq = self.rng.randint(0, 65535)
        self.ts_base = self.rng.getrandbits(32)
        self.t_start = t
        self.seg_n = 0
        self.ssrcs.append(s)

    def ts_at(self, t):
        if self.t_start is None:
            self.t_start = t
        return (self.ts_base + (t - self.t_start) // 125) & 0xFFFFFFFF

    def _out(self, ts, frame, counted=True):
        self.ctx.emit(ts, frame, self.call)
        if counted and (self.first is None or ts < self.first):
            self.first = ts

    def _audio(self, t, wire, payload, marker=False):
        pkt = rtp(self.pt, self.seq, self.ts_at(t), self.ssrc, payload, marker)
        f = self.tpl.build(pkt)
        self._out(wire, f)
        self.pts.add(self.pt)
        self.log.append((wire, "audio", self.ssrc, self.seq, payload))
        self.packets += 1
        self.octets += len(payload)
        if self.ctx.truth_payloads:
            self.payloads[str(self.seq)] = hashlib.sha256(payload).hexdigest()
        return f

    def play(self, t0, t1, events):
        """Send audio every 20 ms in [t0, t1). events: list of dicts with key 't' and 'kind'."""
        ev = sorted(events, key=lambda e: e["t"])
        t = t0
        next_rtcp = t0 + 2500 * MS
        inband_left = []
        while t < t1:
            wire = t + self.rng.randint(0, 400)
            if ev and ev[0]["t"] <= t:
                e = ev.pop(0)
                k = e["kind"]
                if k == "ssrc_change":
                    self.new_ssrc(t)
                elif k == "rfc4733":
                    self._rfc4733(t, e)
                    t += (e["n"] + 3) * PTIME_US
                    continue
                elif k == "inband":
                    inband_left = dtmf_tone_payloads(self.rng, self.codec, e["digit"], 6)
                    self.call.dtmf.append({"digit": e["digit"], "source": "inband",
                                           "party": self.party, "time": wire})
                elif k in ("v1", "short", "lone"):
                    self._inject(t, k)
            if inband_left:
                self._audio(t, wire, inband_left.pop(0))
            elif self.impair and self.seg_n >= 5 and t + 7 * PTIME_US < t1 and \
                    (not ev or ev[0]["t"] > t + 7 * PTIME_US):
                r = self.rng.random()
                payload = self.pool[self.rng.randrange(len(self.pool))]
                if r < 0.01:  # loss
                    self.lost += 1
                    self.log.append((wire, "lost", self.ssrc, self.seq, None))
                    self.ctx.count("rtp_lost")
                elif r < 0.02:  # duplicate
                    f = self._audio(t, wire, payload)
                    self._out(wire + 700, f)
                    self.log.append((wire + 700, "dup", self.ssrc, self.seq, payload))
                    self.packets += 1
                    self.dups += 1
                    self.ctx.count("rtp_duplicates")
                elif r < 0.03:  # reorder: arrives after the next packet
                    self._audio(t, t + PTIME_US + 5 * MS, payload)
                    self.ctx.count("rtp_reordered")
                else:
                    self._audio(t, wire, payload)
            else:
                self._audio(t, wire, self.pool[self.rng.randrange(len(self.pool))])
            self.seq = (self.seq + 1) & 0xFFFF
            self.seg_n += 1
            if self.rtcp and t >= next_rtcp and t + 30 * MS < t1:
                rts = self.ts_at(t)
                ntp = (t // SEC) + 2208988800
                frac = ((t % SEC) << 32) // SEC
                pkt = rtcp_sr_sdes(self.ssrc, ntp, frac, rts, self.packets, self.octets,
                                   b"rvgen@" + self.src.encode())
                f = net.frame(self.src, self.dst, 17,
                              net.udp(self.src, self.dst, self.sport + 1, self.dport + 1, pkt),
                              self.call.encap, self.ctx.ipid())
                self.ctx.emit(t + 7 * MS, f, self.call)
                self.ctx.count("rtcp_packets")
                next_rtcp += 5 * SEC
            t += PTIME_US
        assert not ev, "event outside media window: %r" % ev
        assert not inband_left, "inband tone cut by window end"

    def _rfc4733(self, t, e):
        ts = self.ts_at(t)
        code = DTMF_EVENT[e["digit"]]
        dur = 0
        for i in range(e["n"] + 3):
            end = i >= e["n"]
            if not end:
                dur = 160 * (i + 1)
            wire = t + i * PTIME_US + self.rng.randint(0, 300)
            evp = tel_event(code, end, 10, dur)
            pkt = rtp(TEL_EVENT_PT, self.seq, ts, self.ssrc, evp, marker=(i == 0))
            self._out(wire, self.tpl.build(pkt))
            if i == 0:
                self.call.dtmf.append({"digit": e["digit"], "source": "rfc4733", "party": self.party,
                                       "time": wire})
            self.log.append((wire, "event", self.ssrc, self.seq, evp))
            self.events += 1
            self.seq = (self.seq + 1) & 0xFFFF
            self.seg_n += 1
        self.pts.add(TEL_EVENT_PT)
        self.ctx.count("rtp_event_packets", e["n"] + 3)

    def _inject(self, t, kind):
        wire = t + 9 * MS
        if kind == "v1":
            pkt = rtp(self.pt, self.seq, self.ts_at(t), self.rng.getrandbits(32), b"\xd5" * 160, version=1)
            self.ctx.count("rtp_malformed_on_call")
        elif kind == "short":
            pkt = bytes([0x80, self.pt]) + b"\x00" * 7
            self.ctx.count("rtp_malformed_on_call")
        else:  # lone packet, random SSRC and seq: must fail probation
            pkt = rtp(self.pt, self.rng.getrandbits(16), self.rng.getrandbits(32),
                      self.rng.getrandbits(32), self.pool[0])
            self.ctx.count("rtp_probation_failed")
        f = net.frame(self.src, self.dst, 17, net.udp(self.src, self.dst, self.sport, self.dport, pkt),
                      self.call.encap, self.ctx.ipid())
        self.ctx.emit(wire, f, self.call)

    def truth(self):
        d = {"party": self.party, "src": net.fmt_ep(self.src, self.sport),
             "dst": net.fmt_ep(self.dst, self.dport),
             "ssrcs": ["0x%08x" % s for s in self.ssrcs], "payload_types": sorted(self.pts),
             "codec": self.codec, "packets": self.packets, "event_packets": self.events,
             "lost": self.lost, "duplicates": self.dups}
        if self.ctx.truth_payloads:
            d["payloads"] = self.payloads
        return d


class CallState:
    def __init__(self, spec):
        self.spec = spec
        self.encap = spec.encap
        self.last = 0
        self.dtmf = []
        self.signals = []  # header signals: {"header", "value", "party", "time", "method"}


def simulate(ctx, spec):
    """Emit all packets of one call through ctx; return its truth dict (times in us; the
    Stream objects stay available under truth["_streams"] for callers needing per-packet data)."""
    rng = ctx.rng
    cs = CallState(spec)
    ips = spec.ips
    A = {"user": spec.caller, "ip": ips["a"], "port": 5060, "name": spec.caller.capitalize()}
    B = {"user": spec.callee, "ip": ips["b"], "port": 5060}
    conn = None
    if spec.transport == "TCP":
        A["port"] = rng.randint(40000, 60000)
        conn = net.TcpConn(A["ip"], A["port"], B["ip"], B["port"], rng.getrandbits(32),
                           rng.getrandbits(32), spec.encap)
    dlg = Dialog(rng, spec.call_id, A, B, spec.transport)
    ep = {"a": A, "b": B}
    media = {"a": [ips["a"], ctx.media_port()], "b": [ips["b"], ctx.media_port()]}
    sess = {"a": [rng.randint(1000, 9999999), 1], "b": [rng.randint(1000, 9999999), 1]}

    def sdp_of(side, direction="sendrecv"):
        ip, port = media[side]
        return sdp(sess[side][0], sess[side][1], ip, port, spec.codec, direction)

    def send(t, side, data, split=0, frag=None):
        other = "b" if side == "a" else "a"
        s, d = ep[side], ep[other]
        ctx.sip_stat(data)
        if conn is None:
            l4 = net.udp(s["ip"], d["ip"], s["port"], d["port"], data)
            frames = net.fragment(s["ip"], d["ip"], 17, l4, ctx.ipid(), 1500, spec.encap) \
                if len(l4) > 1460 else [net.frame(s["ip"], d["ip"], 17, l4, spec.encap, ctx.ipid(), df=False)]
            if len(frames) > 1:
                ctx.count("ip_fragments", len(frames))
                ctx.count("ip_fragmented_datagrams")
                if frag == "reversed":
                    frames = frames[::-1]
                elif frag == "shuffled":
                    orig = list(frames)
                    while frames == orig or frames == orig[::-1]:
                        rng.shuffle(frames)
            for f in frames:
                ctx.emit(t, f, cs)
            return
        cside = "a" if side == "a" else "b"
        rside = "b" if cside == "a" else "a"
        if split:
            step = (len(data) + split - 1) // split
            for i in range(0, len(data), step):
                f, _ = conn.send(cside, data[i:i + step])
                ctx.emit(t, f, cs)
            ctx.count("tcp_split_messages")
        else:
            f, seq = conn.send(cside, data)
            ctx.emit(t, f, cs)
            send.last_seg = (cside, seq, data, t)
        ctx.emit(t + 300, conn.ack(rside), cs)

    def send_tcp_multi(t, side, msgs):
        for m in msgs:
            ctx.sip_stat(m)
        f, _ = conn.send(side, b"".join(msgs))
        ctx.emit(t, f, cs)
        ctx.emit(t + 300, conn.ack("b" if side == "a" else "a"), cs)
        ctx.count("tcp_coalesced_segments")

    t = spec.start
    truth = {"call_id": spec.call_id, "caller": spec.caller, "callee": spec.callee,
             "state": None, "status": None, "invite_time": t, "answer_time": None,
             "end_reason": None, "end_time": None}
    if conn:
        for i, f in enumerate(conn.handshake()):
            ctx.emit(t - 3 * MS + i * MS, f, cs)
    inv_extra = []
    if spec.frag:
        target = {"in_order": 2200, "reversed": 3800, "shuffled": 5200}[spec.frag]
        i = 0
        while 700 + i * 80 < target:
            inv_extra.append(("X-Pad-%03d" % i, "p" * 66))
            i += 1
    cseq = 1
    br = dlg.branch()
    inv_body = sdp_of("a")
    inv = dlg.request("a", "INVITE", cseq, br, inv_body, "application/sdp", inv_extra)
    send(t, "a", inv, split=3 if spec.tcp_split else 0, frag=spec.frag)
    if spec.auth407:
        t += 30 * MS
        send(t, "b", dlg.response("a", 407, "INVITE", cseq, br, extra=[
            ("Proxy-Authenticate", 'Digest realm="rvgen", nonce="%016x", algorithm=MD5' % rng.getrandbits(64))]))
        send(t + 5 * MS, "a", dlg.request("a", "ACK", cseq, br, ruri=dlg.uri("b")))
        dlg.tag["b"] = None
        t += 60 * MS
        cseq += 1
        br = dlg.branch()
        auth = ('Digest username="%s", realm="rvgen", nonce="x", uri="%s", response="%032x"'
                % (spec.caller, dlg.uri("b"), rng.getrandbits(128)))
        inv = dlg.request("a", "INVITE", cseq, br, inv_body, "application/sdp",
                          [("Proxy-Authorization", auth)])
        send(t, "a", inv)
    for i in range(spec.invite_retrans):
        t += (500 << i) * MS
        send(t, "a", inv)
        ctx.count("sip_retransmissions")
    t += 20 * MS
    if spec.tcp_coalesce:
        msgs = [dlg.response("a", 100, "INVITE", cseq, br), dlg.response("a", 180, "INVITE", cseq, br)]
        send_tcp_multi(t, "b", msgs)
    else:
        send(t, "b", dlg.response("a", 100, "INVITE", cseq, br))
        t += 150 * MS
        if spec.early_media:
            srv_ip, srv_port = ips["ems"], ctx.media_port()
            body = sdp(rng.randint(1000, 99999), 1, srv_ip, srv_port, spec.codec, "sendonly")
            send(t, "b", dlg.response("a", 183, "INVITE", cseq, br, body, "application/sdp"))
            em = Stream(ctx, cs, "callee", srv_ip, srv_port, media["a"][0], media["a"][1], spec.codec)
            em_start = t + 40 * MS
        else:
            send(t, "b", dlg.response("a", 180, "INVITE", cseq, br))
    out = spec.outcome
    t += int(spec.ring * SEC)
    streams = []
    if spec.early_media:
        em.play(em_start, t - 20 * MS, [])
        streams.append(em)

    if out == "unanswered":
        truth.update(state="unanswered", end_reason="capture_end")
        return finish(ctx, cs, truth, streams)
    if out == "cancel":
        save = dlg.tag["b"]
        dlg.tag["b"] = None
        send(t, "a", dlg.request("a", "CANCEL", cseq, br, ruri=dlg.uri("b")))
        dlg.tag["b"] = save
        send(t + 20 * MS, "b", dlg.response("a", 200, "CANCEL", cseq, br))
        send(t + 22 * MS, "b", dlg.response("a", 487, "INVITE", cseq, br))
        send(t + 40 * MS, "a", dlg.request("a", "ACK", cseq, br, ruri=dlg.uri("b")))
        truth.update(state="cancelled", status=487, end_reason="cancel", end_time=t)
        return finish(ctx, cs, truth, streams)
    if out in (486, 603, 302, 503):
        extra = [("Contact", "<sip:%s-fwd@%s>" % (spec.callee, "redirect.example"))] if out == 302 else []
        send(t, "b", dlg.response("a", out, "INVITE", cseq, br, extra=extra))
        send(t + 20 * MS, "a", dlg.request("a", "ACK", cseq, br, ruri=dlg.uri("b")))
        truth.update(state="failed" if out >= 500 and out < 600 else "rejected", status=out,
                     end_reason="rejected", end_time=t)
        return finish(ctx, cs, truth, streams)

    # answered
    send(t, "b", dlg.response("a", 200, "INVITE", cseq, br, sdp_of("b"), "application/sdp",
                              extra=list(spec.answer_hdrs)))
    for name, value in spec.answer_hdrs:
        cs.signals.append({"header": name, "value": value, "party": "callee", "time": t, "method": "200"})
    truth.update(state="answered", status=200, answer_time=t)
    ack = dlg.request("a", "ACK", cseq, dlg.branch())
    send(t + 30 * MS, "a", ack)
    if spec.tcp_retrans:
        side, seq, data, t_seg = send.last_seg
        ctx.emit(t + 230 * MS, conn.resend(side, seq, data), cs)
        ctx.count("tcp_retransmissions")
    media_start = t + 50 * MS
    if spec.end == "capture_end":
        media_end = ctx.capture_end - 20 * MS
        talk_us = media_end - media_start
    else:
        talk_us = int(spec.talk * SEC)
        media_end = media_start + talk_us

    def at(frac):
        return media_start + int(talk_us * frac)

    # phases: list of (t_from, t_to, {"a": active, "b": active}, media snapshot)
    cuts = []
    if spec.move:
        cuts.append((at(spec.move[1]), "move", spec.move[0]))
    if spec.hold:
        cuts.append((at(spec.hold[1]), "hold", spec.hold[0]))
        cuts.append((at(spec.hold[2]), "resume", spec.hold[0]))
    cuts.sort()
    windows = {"a": [], "b": []}  # side -> list of (t0, t1, (src, sport, dst, dport))
    cur = {"a": media_start, "b": media_start}
    active = {"a": True, "b": True}

    def close(side, tend):
        if active[side] and cur[side] is not None and tend > cur[side]:
            other = "b" if side == "a" else "a"
            windows[side].append((cur[side], tend, (media[side][0], media[side][1],
                                                    media[other][0], media[other][1])))
        cur[side] = None

    for tc, kind, who in cuts:
        other = "b" if who == "a" else "a"
        sess[who][1] += 1
        if kind == "move":
            close("a", tc)
            close("b", tc)
            media[who][1] = ctx.media_port()
            send(tc, who, dlg.request(who, "INVITE", dlg_cseq(dlg, who), bb := dlg.branch(),
                                      sdp_of(who), "application/sdp"))
            send(tc + 50 * MS, other, dlg.response(who, 200, "INVITE", dlg.cseq[who], bb,
                                                   sdp_of(other), "application/sdp"))
            send(tc + 80 * MS, who, dlg.request(who, "ACK", dlg.cseq[who], dlg.branch()))
            cur["a"] = cur["b"] = tc + 100 * MS
        elif kind == "hold":
            close(other, tc)
            send(tc, who, dlg.request(who, "INVITE", dlg_cseq(dlg, who), bb := dlg.branch(),
                                      sdp_of(who, "sendonly"), "application/sdp"))
            sess[other][1] += 1
            send(tc + 50 * MS, other, dlg.response(who, 200, "INVITE", dlg.cseq[who], bb,
                                                   sdp_of(other, "recvonly"), "application/sdp"))
            send(tc + 80 * MS, who, dlg.request(who, "ACK", dlg.cseq[who], dlg.branch()))
        else:  # resume
            send(tc, who, dlg.request(who, "INVITE", dlg_cseq(dlg, who), bb := dlg.branch(),
                                      sdp_of(who, "sendrecv"), "application/sdp"))
            sess[other][1] += 1
            send(tc + 50 * MS, other, dlg.response(who, 200, "INVITE", dlg.cseq[who], bb,
                                                   sdp_of(other, "sendrecv"), "application/sdp"))
            send(tc + 80 * MS, who, dlg.request(who, "ACK", dlg.cseq[who], dlg.branch()))
            cur[other] = tc + 100 * MS
    close("a", media_end)
    close("b", media_end)

    # events per side
    evs = {"a": [], "b": []}
    for side, digit, frac in spec.rfc4733:
        evs[side].append({"t": at(frac), "kind": "rfc4733", "digit": digit, "n": rng.randint(6, 8)})
    for side, digit, frac in spec.inband:
        evs[side].append({"t": at(frac), "kind": "inband", "digit": digit})
    if spec.ssrc_change:
        evs[spec.ssrc_change[0]].append({"t": at(spec.ssrc_change[1]), "kind": "ssrc_change"})
    for side, kind, frac in spec.inject:
        evs[side].append({"t": at(frac), "kind": kind})

    sobj = {}
    for side in ("a", "b"):
        party = "caller" if side == "a" else "callee"
        for t0, t1, key in windows[side]:
            if key not in sobj:
                sobj[key] = Stream(ctx, cs, party, key[0], key[1], key[2], key[3], spec.codec,
                                   impair=side in spec.impair, rtcp=spec.rtcp)
                streams.append(sobj[key])
            mine = [e for e in evs[side] if t0 <= e["t"] < t1]
            for e in mine:
                evs[side].remove(e)
            sobj[key].play(t0, t1, mine)
        assert not evs[side], "events outside windows: %r" % evs[side]

    # SIP INFO DTMF
    for side, kind, digit, frac, retrans in spec.info:
        ti = at(frac)
        other = "b" if side == "a" else "a"
        c = dlg_cseq(dlg, side)
        bb = dlg.branch()
        if kind == "relay":
            body, ct = ("Signal=%s\r\nDuration=160\r\n" % digit).encode(), "application/dtmf-relay"
        else:
            body, ct = digit.encode(), "application/dtmf"
        msg = dlg.request(side, "INFO", c, bb, body, ct)
        send(ti, side, msg)
        cs.dtmf.append({"digit": digit, "source": "sip-info",
                        "party": "caller" if side == "a" else "callee", "time": ti})
        tr = ti + 40 * MS
        if retrans:
            send(ti + 500 * MS, side, msg)
            ctx.count("sip_retransmissions")
            tr = ti + 520 * MS
        send(tr, other, dlg.response(side, 200, "INFO", c, bb))
        ctx.count("sip_info_dtmf")

    # in-dialog requests carrying a header (consent / pause headers)
    for side, method, name, value, frac in spec.hdr:
        ti = at(frac)
        other = "b" if side == "a" else "a"
        c = dlg_cseq(dlg, side)
        bb = dlg.branch()
        if method == "INVITE":
            sess[side][1] += 1
            send(ti, side, dlg.request(side, "INVITE", c, bb, sdp_of(side), "application/sdp", [(name, value)]))
            sess[other][1] += 1
            send(ti + 50 * MS, other, dlg.response(side, 200, "INVITE", c, bb, sdp_of(other), "application/sdp"))
            send(ti + 80 * MS, side, dlg.request(side, "ACK", c, dlg.branch()))
        else:
            send(ti, side, dlg.request(side, method, c, bb, extra=[(name, value)]))
            send(ti + 40 * MS, other, dlg.response(side, 200, method, c, bb))
        cs.signals.append({"header": name, "value": value, "party": "caller" if side == "a" else "callee",
                           "time": ti, "method": method})

    if spec.end in ("bye_a", "bye_b"):
        who = spec.end[-1]
        other = "b" if who == "a" else "a"
        tb = media_end + 30 * MS
        c = dlg_cseq(dlg, who)
        bb = dlg.branch()
        send(tb, who, dlg.request(who, "BYE", c, bb))
        send(tb + 30 * MS, other, dlg.response(who, 200, "BYE", c, bb))
        truth.update(end_reason="bye", end_time=tb)
    elif spec.end == "inactive":
        truth.update(end_reason="rtp_inactivity", end_time=None)  # filled in finish()
    else:
        truth.update(end_reason="capture_end")
    return finish(ctx, cs, truth, streams)


def dlg_cseq(dlg, side):
    dlg.cseq[side] += 1
    return dlg.cseq[side]


def finish(ctx, cs, truth, streams):
    if truth["end_reason"] == "rtp_inactivity":
        truth["end_time"] = cs.last
    streams = [s for s in streams if s.first is not None]
    streams.sort(key=lambda s: s.first)
    truth["streams"] = [s.truth() for s in streams]
    truth["dtmf"] = sorted(cs.dtmf, key=lambda d: d["time"])
    truth["_last"] = cs.last
    truth["_signals"] = cs.signals
    truth["_streams"] = streams
    return truth
