#!/usr/bin/env python3
"""attack_pcaps.py - whole-pipeline regression inputs for every hostile-input
class in ATTACKS.md (A1-A14, B1-B13, C1-C10, D1-D5).

Every output holds ONE legitimate, complete, answered call over UDP
(INVITE / 100 / 180 / 200 with SDP / ACK, 50 PCMU RTP packets each way, one
valid RTCP SR per direction, BYE / 200) interleaved with the hostile packets
of one class.  tests/integration/test_attacks.py runs `rtpvault analyze` on
each file and checks that the legitimate call is reported exactly (state,
end reason, per-stream audio packet counts) and that the attack shows up in
its counter.

Outputs (deterministic: fixed seed, fixed timestamps, byte-identical reruns):

  tests/regress/pcap/<ID>-<name>.pcap      classic pcap, LINKTYPE_ETHERNET
  tests/regress/pcap/D3-*.pcapng           pcapng with an absurd block length
                                           (libpcap must refuse it cleanly)
  tests/regress/engine/<ID>-<name>.bin     the same frames in the fuzz_engine
                                           record format [u8 link=0][u8 dt_ms]
                                           [u16 BE len][frame] (tests/fuzz/
                                           fuzz_engine.c; replayed by
                                           build/asan/replay_engine in make test)

Usage:  python3 scripts/attack_pcaps.py [--out-dir ROOT]   (ROOT defaults to the repo)

The legitimate call (constants LEGIT_* below, mirrored in the test):
  Call-ID legit-call-1@10.1.0.10, caller 1001 at 10.1.0.10 (SIP 5060, RTP
  16000), callee 2002 at 10.2.0.10 (SIP 5060, RTP 26000), PCMU, 50 audio
  packets each way, BYE from the caller.  Attack packets are never valid
  audio of this call: they are malformed, come from another source, or carry
  another SSRC.  (Exception, documented: C4 puts RFC 8285 extension elements
  with ID 15 / ID 0 padding / an element running past its block into three of
  the caller's real audio packets; their RTP framing is valid, so they are
  audio and counted in the 50.  D2 sends one valid 65495-byte-payload RTP
  packet on the caller's 5-tuple with its SSRC and an already used sequence
  number: a duplicate, so the caller stream shows 51 packets, 1 duplicate.
  C7 sends one valid SR to the RTP port: RFC 5761 multiplexed RTCP, so the
  call shows 3 RTCP packets.)

Expectations per file live in tests/integration/test_attacks.py (EXPECTED);
the table of classes, modules and counters is docs/attacks.md.  Adding a
file here without an EXPECTED entry makes that test fail on purpose.

Uses the generator library scripts/gen/rvlib (packet and SIP/SDP builders).
"""
import argparse
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "gen"))

from rvlib import net  # noqa: E402
from rvlib.media import rtp, rtcp_sr_sdes  # noqa: E402
from rvlib.sip import Dialog, sdp  # noqa: E402

SEED = 20260101
MS = 1000
T0 = (net.BASE_EPOCH + 1) * 1000000  # INVITE of the legitimate call

LEGIT_CALL_ID = "legit-call-1@10.1.0.10"
CALLER = dict(user="1001", ip="10.1.0.10", port=5060, name="Alice")
CALLEE = dict(user="2002", ip="10.2.0.10", port=5060, name="Bob")
CALLER_RTP = 16000
CALLEE_RTP = 26000
N_RTP = 50
RTP_START = T0 + 400 * MS          # first audio packet
ATT_T = T0 + 500 * MS              # default time of the first hostile packet (mid-call)
VICTIM = "10.2.0.10"               # attacker INVITEs go to the callee's proxy
SSRC_CALLER = 0x11223344
SSRC_CALLEE = 0x55667788


class Out:
    """Packets of one output file: (ts_us, order, frame, wirelen)."""

    def __init__(self):
        self.pkts = []

    def add(self, ts, frame, wirelen=None):
        self.pkts.append((ts, len(self.pkts), frame, len(frame) if wirelen is None else wirelen))

    def addmany(self, ts, frames, step_us=0):
        for i, f in enumerate(frames):
            self.add(ts + i * step_us, f)

    def sorted(self):
        return sorted(self.pkts, key=lambda p: (p[0], p[1]))


# ------------------------------------------------------------------ helpers

def udp_frame(src, sport, dst, dport, payload, encap=()):
    return net.frame(src, dst, 17, net.udp(src, dst, sport, dport, payload), encap)


def raw_ipv4(src, dst, proto, l4, ident=0, flags_off=0x4000, total_len=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total_len if total_len is not None else 20 + len(l4), ident,
                    flags_off, 64, proto, 0, net.ip_obj(src).packed, net.ip_obj(dst).packed)
    c = net.checksum(h)
    return h[:10] + struct.pack("!H", c) + h[12:] + l4


def eth4(src, dst, ippkt, encap=()):
    return net.eth(net.mac_for(src), net.mac_for(dst), net.ETH_IPV4, ippkt, encap)


def sip_msg(start, headers, body=b"", clen=None, ctype="application/sdp"):
    """Raw SIP text: headers is a list of strings or (name, value); bytes allowed."""
    lines = [start.encode() if isinstance(start, str) else start]
    for h in headers:
        if isinstance(h, tuple):
            h = "%s: %s" % h
        lines.append(h.encode() if isinstance(h, str) else h)
    if body and ctype:
        lines.append(b"Content-Type: " + ctype.encode())
    if clen is not False:
        lines.append(b"Content-Length: " + (str(len(body)) if clen is None else str(clen)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def invite(cid, src_ip, body=b"", extra=(), clen=None, ctype="application/sdp", user="6666", branch=True,
           cseq="1 INVITE", dst_ip=VICTIM, tag="att1"):
    via = "SIP/2.0/UDP %s:5060%s" % (src_ip, ";branch=z9hG4bK-%s" % zlib.crc32(cid.encode()) if branch else "")
    hdrs = [("Via", via), ("Max-Forwards", "70"),
            ("From", "<sip:%s@%s>;tag=%s" % (user, src_ip, tag)),
            ("To", "<sip:7777@%s>" % dst_ip), ("Call-ID", cid), ("CSeq", cseq),
            ("Contact", "<sip:%s@%s:5060>" % (user, src_ip))] + list(extra)
    return sip_msg("INVITE sip:7777@%s SIP/2.0" % dst_ip, hdrs, body, clen, ctype)


def attacker_sdp(ip, port, media_lines=None, extra=(), session_extra=()):
    lines = ["v=0", "o=att 1 1 IN IP4 %s" % ip, "s=-", "c=IN IP4 %s" % ip, "t=0 0"] + list(session_extra)
    if media_lines is None:
        media_lines = ["m=audio %d RTP/AVP 0" % port, "a=rtpmap:0 PCMU/8000"]
    lines += media_lines + list(extra)
    return ("\r\n".join(lines) + "\r\n").encode()


def tcp_segments(conn, side, data, mss=1460):
    out = []
    for i in range(0, len(data), mss):
        f, _ = conn.send(side, data[i:i + mss])
        out.append(f)
    return out


# -------------------------------------------------------- the legitimate call

def legit_call(out, rng, c4_ext=False):
    d = Dialog(rng, LEGIT_CALL_ID, CALLER, CALLEE, "UDP")
    a, b = CALLER["ip"], CALLEE["ip"]

    def sip(ts, side, data):
        s, dd = (a, b) if side == "a" else (b, a)
        out.add(ts, udp_frame(s, 5060, dd, 5060, data))

    br = d.branch()
    offer = sdp(1001, 1, a, CALLER_RTP, "PCMU", dtmf=False)
    answer = sdp(2002, 1, b, CALLEE_RTP, "PCMU", dtmf=False)
    sip(T0, "a", d.request("a", "INVITE", 1, br, offer, "application/sdp"))
    sip(T0 + 5 * MS, "a", d.response("a", 100, "INVITE", 1, br))
    sip(T0 + 20 * MS, "a", d.response("a", 180, "INVITE", 1, br))
    sip(T0 + 300 * MS, "a", d.response("a", 200, "INVITE", 1, br, answer, "application/sdp"))
    sip(T0 + 310 * MS, "a", d.request("a", "ACK", 1, d.branch()))
    pay = bytes([0xFF]) * 160
    for i in range(N_RTP):
        t = RTP_START + i * 20 * MS
        p1 = rtp(0, 1000 + i, 8000 + 160 * i, SSRC_CALLER, pay, marker=(i == 0))
        if c4_ext and i in (10, 11, 12):
            p1 = c4_packet(i)
        out.add(t, udp_frame(a, CALLER_RTP, b, CALLEE_RTP, p1))
        p2 = rtp(0, 5000 + i, 90000 + 160 * i, SSRC_CALLEE, pay, marker=(i == 0))
        out.add(t + 7 * MS, udp_frame(b, CALLEE_RTP, a, CALLER_RTP, p2))
    t = T0 + 900 * MS
    out.add(t, udp_frame(a, CALLER_RTP + 1, b, CALLEE_RTP + 1,
                         rtcp_sr_sdes(SSRC_CALLER, 3976214401, 0, 8000 + 160 * 25, 25, 4000, b"alice@legit")))
    out.add(t + 3 * MS, udp_frame(b, CALLEE_RTP + 1, a, CALLER_RTP + 1,
                                  rtcp_sr_sdes(SSRC_CALLEE, 3976214401, 0, 90000, 25, 4000, b"bob@legit")))
    bb = d.branch()
    sip(T0 + 1500 * MS, "a", d.request("a", "BYE", 2, bb))
    sip(T0 + 1510 * MS, "a", d.response("a", 200, "BYE", 2, bb))


def c4_packet(i):
    """A caller audio packet (seq 1000+i) with RFC 8285 elements that a careless parser mis-indexes."""
    if i == 10:    # one-byte form: ID 0 padding, ID 15 (reserved: stop), then junk
        ext = struct.pack("!HH", 0xBEDE, 2) + bytes([0, 0, 0xF0, 0xFF, 0x1F, 0xAA, 0xBB, 0xCC])
    elif i == 11:  # one-byte form: element length (15+1) runs past the 4-byte block
        ext = struct.pack("!HH", 0xBEDE, 1) + bytes([0x1F, 1, 2, 3])
    else:          # two-byte form 0x1000: element length 255 runs past the block
        ext = struct.pack("!HH", 0x1000, 1) + bytes([7, 255, 1, 2])
    hdr = struct.pack("!BBHII", 0x90, 0, 1000 + i, 8000 + 160 * i, SSRC_CALLER)
    return hdr + ext + bytes([0xFF]) * 160


def to_callee_rtp(payload, sport=CALLER_RTP, src=CALLER["ip"]):
    return udp_frame(src, sport, CALLEE["ip"], CALLEE_RTP, payload)


def to_callee_rtcp(payload):
    return udp_frame(CALLER["ip"], CALLER_RTP + 1, CALLEE["ip"], CALLEE_RTP + 1, payload)


# ------------------------------------------------------------- the attacks
# Each attack(out, rng) adds hostile packets to out.  ATTACKS maps file stem -> function.

def a1_tcp(out, rng):
    cid = ("a1-" + "X" * 65536)[:65536] + "@10.66.0.1"
    msg = invite(cid, "10.66.0.1", attacker_sdp("10.66.0.1", 30010))
    c = net.TcpConn("10.66.0.1", 40001, VICTIM, 5060, 1000, 2000)
    out.addmany(ATT_T, c.handshake() + tcp_segments(c, "a", msg) + [c.fin("a")], 100)
    # 16 KiB Call-ID over TCP: fits tcp_buffer, so it reaches the SIP parser
    cid3 = "a1t-" + "W" * 16384 + "@10.66.0.4"
    c3 = net.TcpConn("10.66.0.4", 40004, VICTIM, 5060, 3000, 4000)
    out.addmany(ATT_T + 100 * MS, c3.handshake() + tcp_segments(c3, "a", invite(cid3, "10.66.0.4")) + [c3.fin("a")],
                100)
    # a second, 4 KiB Call-ID over UDP (fits one datagram)
    cid2 = "a1-" + "Y" * 4096
    out.add(ATT_T + 200 * MS, udp_frame("10.66.0.2", 5060, VICTIM, 5060, invite(cid2, "10.66.0.2")))


def a1_udp_frag(out, rng):
    cid = "a1f-" + "Z" * 60000 + "@10.66.0.3"
    msg = invite(cid, "10.66.0.3")
    l4 = net.udp("10.66.0.3", VICTIM, 5060, 5060, msg)
    out.addmany(ATT_T, net.fragment("10.66.0.3", VICTIM, 17, l4, 0x1a1, 1500), 10)


def a2(out, rng):
    for i, w in enumerate(["", "abc", " ", "399", "3", "399 x \"", "-1 host \"text\""]):
        m = invite("a2-%d@10.66.0.20" % i, "10.66.0.20", extra=[("Warning", w)], user="a2u%d" % i)
        out.add(ATT_T + i * 10 * MS, udp_frame("10.66.0.20", 5060, VICTIM, 5060, m))
    # an empty Warning in a response too
    r = sip_msg("SIP/2.0 488 Not Acceptable", [("Via", "SIP/2.0/UDP 10.66.0.21:5060;branch=z9hG4bKa2"),
                                               ("From", "<sip:x@y>;tag=1"), ("To", "<sip:y@x>;tag=2"),
                                               ("Call-ID", "a2-resp@x"), ("CSeq", "1 INVITE"), "Warning:",
                                               "Warning: x"])
    out.add(ATT_T + 100 * MS, udp_frame(VICTIM, 5060, "10.66.0.21", 5060, r))


def a3(out, rng):
    extra = ['Authorization: Digest username="x",realm="",nonce="x",uri="s",response=""',
             "Proxy-Authorization: Digest authz_server=x,opaque=\"",
             'P-Asserted-Identity: "',
             'Remote-Party-ID: ""<sip:x@y>;party="']
    hdrs = [("Via", "SIP/2.0/UDP 10.66.0.30:5060;branch=z9hG4bKa3;received=\""),
            ("From", '"" <sip:a3@10.66.0.30>;tag="'), ("To", '"x" <sip:7777@%s>' % VICTIM),
            ("Call-ID", "a3-quoted@10.66.0.30"), ("CSeq", "1 INVITE"),
            ("Contact", '"<sip:a3@10.66.0.30>"')] + extra
    m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM, hdrs)
    out.add(ATT_T, udp_frame("10.66.0.30", 5060, VICTIM, 5060, m))


def a4(out, rng):
    body = attacker_sdp("10.66.0.40", 30040)
    m = invite("a4-neg@10.66.0.40", "10.66.0.40", body, clen=-1)
    out.add(ATT_T, udp_frame("10.66.0.40", 5060, VICTIM, 5060, m))
    o = sip_msg("OPTIONS sip:%s SIP/2.0" % VICTIM, [("Via", "SIP/2.0/UDP 10.66.0.41:5060;branch=z9hG4bKa4o"),
                                                    ("From", "<sip:o@x>;tag=1"), ("To", "<sip:o@y>"),
                                                    ("Call-ID", "a4-opt@x"), ("CSeq", "1 OPTIONS")], clen=-1)
    out.add(ATT_T + 10 * MS, udp_frame("10.66.0.41", 5060, VICTIM, 5060, o))
    # over TCP: Content-Length -1 followed by a smuggled INVITE in the same segment
    smug = invite("a4-smuggled@10.66.0.42", "10.66.0.42")
    c = net.TcpConn("10.66.0.42", 40042, VICTIM, 5060, 5000, 6000)
    out.addmany(ATT_T + 50 * MS, c.handshake() + [c.send("a", m + smug)[0], c.fin("a")], 10)


def a5(out, rng):
    smug = invite("a5-smuggled@10.66.0.50", "10.66.0.50")
    body = b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"[:32]
    m = invite("a5-big@10.66.0.50", "10.66.0.50", body + smug, clen=4294967328)
    out.add(ATT_T, udp_frame("10.66.0.50", 5060, VICTIM, 5060, m))
    c = net.TcpConn("10.66.0.51", 40051, VICTIM, 5060, 7000, 8000)
    m2 = invite("a5-big-tcp@10.66.0.51", "10.66.0.51", body + invite("a5-smuggled-tcp@10.66.0.51", "10.66.0.51"),
                clen=4294967328)
    out.addmany(ATT_T + 50 * MS, c.handshake() + [c.send("a", m2)[0], c.fin("a")], 10)


def a6(out, rng):
    src = "10.66.0.60"
    c = net.TcpConn(src, 40060, VICTIM, 5060, 10000, 20000)
    fr = c.handshake()
    opt = [sip_msg("OPTIONS sip:%s SIP/2.0" % VICTIM, [("Via", "SIP/2.0/TCP %s:40060;branch=z9hG4bKa6%d" % (src, i)),
                                                        ("From", "<sip:o@x>;tag=1"), ("To", "<sip:o@y>"),
                                                        ("Call-ID", "a6-opt%d@x" % i), ("CSeq", "%d OPTIONS" % i)])
           for i in range(3)]
    fr.append(c.send("a", b"".join(opt))[0])                    # several messages in one segment
    inv = invite("a6-split@10.66.0.60", src, attacker_sdp(src, 30060))
    half = len(inv) // 2
    f1, s1 = c.send("a", inv[:half])
    f2, s2 = c.send("a", inv[half:])
    fr += [f1, c.resend("a", s1, inv[:half]), f2, c.resend("a", s2, inv[half:half + 40])]  # dup + partial dup
    # Content-Length larger than the bytes that follow, then FIN
    fr.append(c.send("a", invite("a6-short@10.66.0.60", src, b"v=0\r\n", clen=5000))[0])
    fr.append(c.fin("a"))
    out.addmany(ATT_T, fr, 10 * MS)
    # UDP: SDP body with no final CRLF, and Content-Length larger than the datagram
    body = attacker_sdp("10.66.0.61", 30062).rstrip(b"\r\n")
    out.add(ATT_T + 200 * MS, udp_frame("10.66.0.61", 5060, VICTIM, 5060, invite("a6-nocrlf@10.66.0.61", "10.66.0.61",
                                                                                  body)))
    out.add(ATT_T + 210 * MS, udp_frame("10.66.0.62", 5060, VICTIM, 5060,
                                        invite("a6-clen-over@10.66.0.62", "10.66.0.62", body, clen=9999)))


def a7(out, rng):
    m = invite("a7-long-cseq@10.66.0.70", "10.66.0.70", cseq="1 " + "INVITE" * 2000)
    out.add(ATT_T, udp_frame("10.66.0.70", 5060, VICTIM, 5060, m))
    m2 = invite("a7-no-branch@10.66.0.71", "10.66.0.71", attacker_sdp("10.66.0.71", 30070), branch=False)
    out.add(ATT_T + 10 * MS, udp_frame("10.66.0.71", 5060, VICTIM, 5060, m2))
    m3 = invite("a7-huge-cseq@10.66.0.72", "10.66.0.72", cseq="99999999999999999999999 INVITE")
    out.add(ATT_T + 20 * MS, udp_frame("10.66.0.72", 5060, VICTIM, 5060, m3))


def a8(out, rng):
    sd = attacker_sdp("10.66.0.80", 30080)
    bodies = [
        ("multipart/mixed;boundary=bnd", b"--bnd\r\nContent-Type: application/sdp\r\n\r\n" + sd),  # no close
        ("multipart/mixed", b"--bnd\r\nContent-Type: application/sdp\r\n\r\n" + sd + b"--bnd--\r\n"),  # no boundary
        ("multipart/mixed;boundary=\"\"", b"--\r\n\r\n--\r\n"),
        ("multipart/mixed;boundary=bnd", b"--bnd\r\nContent-Type: application/sdp"),  # part headers never end
        ("multipart/mixed;boundary=bnd", b"--bn"),
    ]
    for i, (ct, body) in enumerate(bodies):
        m = invite("a8-%d@10.66.0.80" % i, "10.66.0.80", body, ctype=ct, user="a8u%d" % i)
        out.add(ATT_T + i * 10 * MS, udp_frame("10.66.0.80", 5060, VICTIM, 5060, m))


def a9(out, rng):
    for i, v in enumerate(["/", ";", "<", ">", "\"", ":", "@", ","]):
        hdrs = [("Via", "SIP/2.0/UDP 10.66.0.90:5060;branch=z9hG4bKa9%d" % i), ("From", v), ("To", v),
                ("Call-ID", "a9-%d@10.66.0.90" % i), ("CSeq", "1 INVITE"), ("Contact", v),
                ("Content-Type", v), ("Record-Route", v), ("Route", v), ("Max-Forwards", v)]
        m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM, hdrs)
        out.add(ATT_T + i * 10 * MS, udp_frame("10.66.0.90", 5060, VICTIM, 5060, m))
    hdrs = [("Via", "/"), ("From", "/"), ("To", "/"), ("Call-ID", "/"), ("CSeq", "/")]
    out.add(ATT_T + 100 * MS, udp_frame("10.66.0.91", 5060, VICTIM, 5060,
                                        sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM, hdrs)))


def a10(out, rng):
    src = "10.66.0.100"
    base = [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bKa10a" % src), ("From", "<sip:a10@x>;tag=1"),
            ("To", "<sip:7777@%s>" % VICTIM), ("CSeq", "1 INVITE")]
    # duplicate Call-ID with different values (long and compact)
    m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM, base + [("Call-ID", "a10-first@x"), ("i", "a10-second@x")])
    out.add(ATT_T, udp_frame(src, 5060, VICTIM, 5060, m))
    # duplicate To
    m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM,
                base[:2] + [("To", "<sip:7777@x>"), ("t", "<sip:8888@x>;tag=zz"), ("CSeq", "1 INVITE"),
                            ("Call-ID", "a10-dup-to@x")])
    out.add(ATT_T + 10 * MS, udp_frame(src, 5060, VICTIM, 5060, m))
    # control characters between header name and colon
    m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM,
                base + [b"Call-ID\x01: a10-ctl@x", b"X-Evil\x00\x7f : y"])
    out.add(ATT_T + 20 * MS, udp_frame(src, 5060, VICTIM, 5060, m))
    # all compact forms + folding (valid: must give a call with Call-ID a10-compact@x)
    body = attacker_sdp(src, 30100)
    m = sip_msg("INVITE sip:7777@%s SIP/2.0" % VICTIM,
                ["v: SIP/2.0/UDP %s:5060;branch=z9hG4bKa10c" % src, "f: <sip:a10c@x>\r\n ;tag=9",
                 "t:\r\n\t<sip:7777@%s>" % VICTIM, "i: a10-compact@x", "CSeq: 1\r\n INVITE",
                 "m: <sip:a10c@%s:5060>" % src, "c: application/sdp"], body, clen=False, ctype=None)
    m = m[:-len(body) - 2] + b"l: %d\r\n\r\n" % len(body) + body
    out.add(ATT_T + 30 * MS, udp_frame(src, 5060, VICTIM, 5060, m))


def a11(out, rng):
    src = "10.66.0.110"
    base = [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bKa11" % src), ("From", "<sip:a11@x>;tag=1"),
            ("To", "<sip:7777@x>"), ("Call-ID", "a11-fold@x"), ("CSeq", "1 INVITE")]
    fold = b"X-Fold: a" + b"\r\n b" * 6000
    out.add(ATT_T, udp_frame(src, 5060, VICTIM, 5060, sip_msg("INVITE sip:7777@x SIP/2.0", base + [fold])))
    empties = [b"X:"] * 3000
    hdrs = base[:3] + [("Call-ID", "a11-empty@x"), ("CSeq", "1 INVITE")] + empties
    out.add(ATT_T + 10 * MS, udp_frame(src, 5060, VICTIM, 5060, sip_msg("INVITE sip:7777@x SIP/2.0", hdrs)))
    out.add(ATT_T + 20 * MS, udp_frame(src, 5060, VICTIM, 5060, b"INVITE sip:x SIP/2.0\n" + b"\n" * 5000))
    out.add(ATT_T + 30 * MS, udp_frame(src, 5060, VICTIM, 5060, b"\r\n" * 4000 + b"INVITE"))
    out.add(ATT_T + 40 * MS, udp_frame(src, 5060, VICTIM, 5060, b"INVITE sip:x SIP/2.0\r\n" + b":\r\n" * 4000))
    # TCP: endless headers that never end, then FIN
    c = net.TcpConn(src, 40110, VICTIM, 5060, 30000, 40000)
    data = b"INVITE sip:x SIP/2.0\r\n" + b"X-Loop: " + b"\r\n " * 30000
    out.addmany(ATT_T + 50 * MS, c.handshake() + tcp_segments(c, "a", data) + [c.fin("a")], 200)


def a12(out, rng):
    # RFC 3320 SigComp message: first byte 11111xxx
    r = random.Random(SEED + 12)
    for i, first in enumerate((0xF8, 0xF9, 0xFF)):
        payload = bytes([first, 0x00, 0x10]) + r.randbytes(200)
        out.add(ATT_T + i * 10 * MS, udp_frame("10.66.0.120", 5060, VICTIM, 5060, payload))
    # SigComp over TCP: delimited by 0xFFFF
    c = net.TcpConn("10.66.0.121", 40121, VICTIM, 5060, 50000, 60000)
    out.addmany(ATT_T + 50 * MS, c.handshake() + [c.send("a", bytes([0xF8, 0x00]) + r.randbytes(300) +
                                                          b"\xff\xff")[0], c.fin("a")], 10)


def a13(out, rng):
    for i, cl in enumerate(["2147483648", "18446744073709551616", "9" * 40, "4294967295", "+5", "0x10", "5 5"]):
        m = invite("a13-%d@10.66.0.130" % i, "10.66.0.130", b"v=0\r\n", clen=cl, user="a13u%d" % i)
        out.add(ATT_T + i * 10 * MS, udp_frame("10.66.0.130", 5060, VICTIM, 5060, m))


def ws_frame(opcode, payload, fin=True, mask=None, length_override=None, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload) if length_override is None else length_override
    mbit = 0x80 if mask else 0
    if n < 126:
        h = bytes([b0, mbit | n])
    elif n < 65536:
        h = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        h = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        h += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return h + payload


def a14(out, rng):
    src = "10.66.0.140"
    c = net.TcpConn(src, 40140, VICTIM, 5060, 70000, 80000)
    fr = c.handshake()
    fr.append(c.send("a", b"GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n" % VICTIM.encode())[0])
    fr.append(c.send("b", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                          b"Sec-WebSocket-Protocol: sip\r\n\r\n")[0])
    opt = sip_msg("OPTIONS sip:%s SIP/2.0" % VICTIM, [("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bKa14"),
                                                      ("From", "<sip:ws@x>;tag=1"), ("To", "<sip:ws@y>"),
                                                      ("Call-ID", "a14-ok@x"), ("CSeq", "1 OPTIONS")])
    m = b"\x01\x02\x03\x04"
    fr.append(c.send("a", ws_frame(1, opt, mask=m))[0])                                   # valid
    fr.append(c.send("a", ws_frame(1, b"INVITE", mask=m, rsv=0x70))[0])                   # RSV bits
    fr.append(c.send("a", ws_frame(3, b"xx", mask=m))[0])                                 # reserved opcode
    fr.append(c.send("a", ws_frame(8, b"x" * 200, mask=m))[0])                            # control > 125
    fr.append(c.send("a", ws_frame(1, b"ab", mask=m, length_override=1 << 63))[0])        # 2^63 length
    fr.append(c.send("a", ws_frame(1, b"ab", mask=m, length_override=0xFFFFFFFFFFFFFFFF))[0])
    fr.append(c.send("a", ws_frame(1, b"a" * 10, mask=m, length_override=126)[:3])[0])    # cut extended length
    fr.append(c.fin("a"))
    out.addmany(ATT_T, fr, 10 * MS)
    # a second connection with a never-ending Upgrade header
    c2 = net.TcpConn("10.66.0.141", 40141, VICTIM, 5060, 90000, 91000)
    out.addmany(ATT_T + 300 * MS, c2.handshake() + tcp_segments(c2, "a", b"GET / HTTP/1.1\r\nUpgrade: " +
                                                                b"w" * 20000) + [c2.fin("a")], 10)


# ---- SDP (B): INVITEs (and answers) of OTHER calls

def b_call(out, cid, src, offer, answer=None, t=ATT_T, ctype="application/sdp", bye=False, bye_after=100 * MS):
    """Attacker call src -> VICTIM; optional 200 with `answer`, ACK and BYE."""
    m = invite(cid, src, offer, ctype=ctype)
    out.add(t, udp_frame(src, 5060, VICTIM, 5060, m))
    if answer is not None:
        hdrs = [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s" % (src, zlib.crc32(cid.encode()))),
                ("From", "<sip:6666@%s>;tag=att1" % src), ("To", "<sip:7777@%s>;tag=vic1" % VICTIM),
                ("Call-ID", cid), ("CSeq", "1 INVITE"), ("Contact", "<sip:7777@%s:5060>" % VICTIM)]
        out.add(t + 20 * MS, udp_frame(VICTIM, 5060, src, 5060, sip_msg("SIP/2.0 200 OK", hdrs, answer)))
        ack = sip_msg("ACK sip:7777@%s:5060 SIP/2.0" % VICTIM,
                      [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bK-ack" % src),
                       ("From", "<sip:6666@%s>;tag=att1" % src),
                       ("To", "<sip:7777@%s>;tag=vic1" % VICTIM), ("Call-ID", cid), ("CSeq", "1 ACK")])
        out.add(t + 30 * MS, udp_frame(src, 5060, VICTIM, 5060, ack))
        if bye:
            byem = sip_msg("BYE sip:7777@%s:5060 SIP/2.0" % VICTIM,
                           [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bK-bye" % src),
                            ("From", "<sip:6666@%s>;tag=att1" % src), ("To", "<sip:7777@%s>;tag=vic1" % VICTIM),
                            ("Call-ID", cid), ("CSeq", "2 BYE")])
            out.add(t + bye_after, udp_frame(src, 5060, VICTIM, 5060, byem))


def b1(out, rng):
    b_call(out, "b1-port@10.66.1.1", "10.66.1.1", attacker_sdp("10.66.1.1", 0, [
        "m=audio 70000 RTP/AVP 0", "m=audio 4294967296 RTP/AVP 0", "m=audio -1 RTP/AVP 0",
        "m=audio 65536/2 RTP/AVP 0", "m=audio 1000/4294967295 RTP/AVP 0"]))


def b2(out, rng):
    b_call(out, "b2-pt@10.66.1.2", "10.66.1.2", attacker_sdp("10.66.1.2", 0, [
        "m=audio 17000 RTP/AVP 4294967296 128 -1 0", "a=rtpmap:4294967296 PCMU/8000",
        "a=rtpmap:128 X/4294967296", "a=rtpmap:0 PCMU/99999999999999999999"]))


def b3(out, rng):
    body = attacker_sdp("10.66.1.3", 17030) + b"a=fmtp\x00:101 0-16\r\na=rtpmap:101 tele\x00phone-event/8000\r\n"
    b_call(out, "b3-nul@10.66.1.3", "10.66.1.3", body)


def b4(out, rng):
    body = attacker_sdp("10.66.1.4", 17040) + b"a=x\x00"
    b_call(out, "b4-nul-end@10.66.1.4", "10.66.1.4", body)
    b_call(out, "b4-nul-end2@10.66.1.5", "10.66.1.5", b"v=0\r\nm\x00", t=ATT_T + 10 * MS)
    b_call(out, "b4-cr-end@10.66.1.6", "10.66.1.6", b"v=0\r\nc=IN IP4 10.66.1.6\r\nm=audio 1704", t=ATT_T + 20 * MS)


def b5(out, rng):
    b_call(out, "b5-short@10.66.1.7", "10.66.1.7",
           b"v=0\r\no=\r\ns\r\nc=I\r\nc=IN\r\nc=IN IP4\r\nt=\r\nm=a\r\nm=audio\r\nm=audio 17050\r\n"
           b"m=audio 17050 RTP\r\na=rtpmap:\r\na=rtpmap:0\r\na=ptime:\r\na=\r\n=\r\n")


def b6(out, rng):
    b_call(out, "b6-pct@10.66.1.8", "10.66.1.8",
           attacker_sdp("10.66.1.8", 17060, session_extra=["u=http://x/%", "e=%", "uri=%"],
                        extra=["a=x-url:sip:foo%", "a=x-url:sip:foo%4", "a=x:%%%"]))


def b7(out, rng):
    b_call(out, "b7-long@10.66.1.9", "10.66.1.9", attacker_sdp("10.66.1.9", 0, [
        "m=" + "a" * 400 + " 17070 RTP/AVP 0", "c=IN IP4 " + "1" * 300,
        "c=IN IP6 " + "f" * 300, "c=IN IP4 10.66.1.9/" + "9" * 50,
        "m=audio 17072 " + "R" * 400 + " 0"]))


def b8(out, rng):
    b_call(out, "b8-no-m@10.66.1.10", "10.66.1.10", attacker_sdp("10.66.1.10", 0, []),
           answer=attacker_sdp(VICTIM, 0, []))
    b_call(out, "b8-port0@10.66.1.11", "10.66.1.11", attacker_sdp("10.66.1.11", 0, ["m=audio 0 RTP/AVP 0"]),
           answer=attacker_sdp(VICTIM, 0, ["m=audio 0 RTP/AVP 0"]), t=ATT_T + 50 * MS)
    b_call(out, "b8-unknown@10.66.1.12", "10.66.1.12",
           attacker_sdp("10.66.1.12", 0, ["m=foo 17080 bar 0", "m=application 17082 UDP/BFCP *"]),
           t=ATT_T + 100 * MS)


def b9(out, rng):
    b_call(out, "b9-ptime@10.66.1.13", "10.66.1.13",
           attacker_sdp("10.66.1.13", 17090, extra=["a=ptime:10", "a=maxptime:4294967295"]),
           answer=attacker_sdp(VICTIM, 27090, extra=["a=ptime:4294967295", "a=ptime:0", "a=maxptime:0"]))
    b_call(out, "b9-ptime2@10.66.1.14", "10.66.1.14",
           attacker_sdp("10.66.1.14", 17092, extra=["a=ptime:-20"]),
           answer=attacker_sdp(VICTIM, 27092, extra=["a=ptime:2147483648"]), t=ATT_T + 50 * MS)


def b10(out, rng):
    z = ["z=" + " ".join("%d %dh" % (2882844526 + i, (i % 2) * 2 - 1) for i in range(40))]
    z += ["z=%d -1h" % (2882844526 + i) for i in range(15)]
    b_call(out, "b10-zones@10.66.1.15", "10.66.1.15", attacker_sdp("10.66.1.15", 17100, session_extra=z))


def b11(out, rng):
    # duplicate media entries pointing at the LEGIT call's media endpoints, answered, then ended
    # while the legit call's RTP keeps flowing: the legit streams must not move or be freed.
    offer = attacker_sdp(CALLER["ip"], 0, ["m=audio %d RTP/AVP 0" % CALLER_RTP] * 3 +
                         ["m=audio %d RTP/AVP 8" % CALLER_RTP])
    answer = attacker_sdp(CALLEE["ip"], 0, ["m=audio %d RTP/AVP 0" % CALLEE_RTP] * 4)
    b_call(out, "b11-dup@10.66.1.16", "10.66.1.16", offer, answer=answer, bye=True)


def b11_early(out, rng):
    # the same, but the conflicting SDP arrives after the legit 200/ACK and BEFORE the
    # legit media starts (T0+320 ms; first RTP at T0+400 ms); the attacker call ends
    # with BYE mid-media (T0+600 ms)
    offer = attacker_sdp(CALLER["ip"], 0, ["m=audio %d RTP/AVP 0" % CALLER_RTP] * 2)
    answer = attacker_sdp(CALLEE["ip"], 0, ["m=audio %d RTP/AVP 0" % CALLEE_RTP] * 2)
    b_call(out, "b11-early@10.66.1.21", "10.66.1.21", offer, answer=answer, t=T0 + 320 * MS, bye=True,
           bye_after=280 * MS)


def b12(out, rng):
    b_call(out, "b12-mismatch@10.66.1.17", "10.66.1.17",
           attacker_sdp("10.66.1.17", 0, ["m=audio 17120 RTP/AVP 0", "m=video 17122 RTP/AVP 96"]),
           answer=attacker_sdp(VICTIM, 0, ["m=audio 0 RTP/AVP 0", "m=video 27122 RTP/AVP 96",
                                           "m=audio 27124 RTP/AVP 8"]))
    b_call(out, "b12-none@10.66.1.18", "10.66.1.18",
           attacker_sdp("10.66.1.18", 0, ["m=audio 17126 RTP/AVP 0"]),
           answer=attacker_sdp(VICTIM, 0, []), t=ATT_T + 50 * MS)


def b13(out, rng):
    b_call(out, "b13-null@10.66.1.19", "10.66.1.19", attacker_sdp("10.66.1.19", 17130, extra=[
        "a=", "a=:", "a=rtpmap", "a=rtpmap:", "a=fmtp:", "a=rtpmap: ", "a=rtpmap:0", "a=rtpmap:0 /"]))
    sd1 = attacker_sdp("10.66.1.20", 17132)
    sd2 = b"v=0\r\na=\r\n"
    body = (b"--m\r\nContent-Type: application/sdp\r\n\r\n" + sd1 + b"\r\n--m\r\nContent-Type: application/sdp\r\n\r\n"
            + sd2 + b"\r\n--m\r\nContent-Type: application/sdp\r\n\r\n\r\n--m--\r\n")
    b_call(out, "b13-merge@10.66.1.20", "10.66.1.20", body, ctype="multipart/mixed;boundary=m", t=ATT_T + 10 * MS)


# ---- RTP/RTCP (C): on the legit call's own 5-tuple / RTCP port

def c1(out, rng):
    h = struct.pack("!BBHII", 0x90, 0, 1003, 8000, SSRC_CALLER)
    out.add(ATT_T + 3 * MS, to_callee_rtp(h + struct.pack("!HH", 0xBEDE, 0xFFFF) + b"\x00" * 4))
    out.add(ATT_T + 23 * MS, to_callee_rtp(h + struct.pack("!HH", 0xBEDE, 1)))        # ext header only
    out.add(ATT_T + 43 * MS, to_callee_rtp(h + b"\xbe"))                                # cut ext header


def c2(out, rng):
    h = struct.pack("!BBHII", 0x8F, 0, 1004, 8000, SSRC_CALLER)
    out.add(ATT_T + 3 * MS, to_callee_rtp(h))                       # CC=15 in a 12-byte packet
    out.add(ATT_T + 23 * MS, to_callee_rtp(h + b"\x00" * 56))       # 4 bytes short
    out.add(ATT_T + 43 * MS, to_callee_rtp(struct.pack("!BBHII", 0x9F, 0, 1005, 8000, SSRC_CALLER) + b"\x00" * 60))


def c3(out, rng):
    h = struct.pack("!BBHII", 0xA0, 0, 1006, 8000, SSRC_CALLER)
    out.add(ATT_T + 3 * MS, to_callee_rtp(h + b"\xff" * 20 + b"\xff"))   # padding count 255 > payload
    out.add(ATT_T + 23 * MS, to_callee_rtp(h + b"\xff" * 20 + b"\x00"))  # padding count 0
    out.add(ATT_T + 43 * MS, to_callee_rtp(h))                           # P=1, no payload at all


def c4(out, rng):
    # malformed: one-byte profile, block length past the end (the valid-block cases ride in the legit stream)
    h = struct.pack("!BBHII", 0x90, 0, 1007, 8000, SSRC_CALLER)
    out.add(ATT_T + 3 * MS, to_callee_rtp(h + struct.pack("!HH", 0xBEDE, 3) + bytes([0xF0, 0, 0, 0])))
    out.add(ATT_T + 23 * MS, to_callee_rtp(h + struct.pack("!HH", 0x1000, 8) + bytes([1, 255])))


def rtcp_hdr(count, pt, length_words, ssrc=SSRC_CALLER):
    return struct.pack("!BBHI", 0x80 | count, pt, length_words, ssrc)


def c5(out, rng):
    out.add(ATT_T + 3 * MS, to_callee_rtcp(b"\x80\xc8\x00"))                          # shorter than a header
    out.add(ATT_T + 23 * MS, to_callee_rtcp(rtcp_hdr(0, 200, 0xFFFF)))                # length past the end
    out.add(ATT_T + 43 * MS, to_callee_rtcp(rtcp_hdr(0, 200, 0)))                     # SR with no sender info
    # "SRTCP": SR + E-flag/index + 10-byte tag, but total shorter than the trailer
    out.add(ATT_T + 63 * MS, to_callee_rtcp(rtcp_hdr(0, 200, 1) + b"\x80\x00"))


def c6(out, rng):
    bye = rtcp_hdr(1, 203, 2) + bytes([255]) + b"bye"                                   # reason length 255
    out.add(ATT_T + 3 * MS, to_callee_rtcp(bye))
    out.add(ATT_T + 23 * MS, to_callee_rtcp(rtcp_hdr(31, 203, 1)))                     # 31 SSRCs in 1 word


def c7(out, rng):
    out.add(ATT_T + 3 * MS, to_callee_rtp(rtp(0, 1008, 8000, SSRC_CALLER, b"\xff" * 160, version=1)))
    out.add(ATT_T + 23 * MS, to_callee_rtp(b"\x80\x00\x03\xf0\x00\x00\x1f\x40\x11"))    # 9 bytes
    out.add(ATT_T + 43 * MS, to_callee_rtp(rtcp_hdr(0, 200, 6) + b"\x00" * 20))        # RTCP PT on the RTP port
    out.add(ATT_T + 63 * MS, to_callee_rtp(b""))                                         # empty
    sdes = rtcp_hdr(1, 202, 2) + bytes([1, 200]) + b"ab"                                # item past chunk
    out.add(ATT_T + 83 * MS, to_callee_rtcp(sdes))
    rr = rtcp_hdr(31, 201, 1)                                                            # 31 report blocks in 0 bytes
    out.add(ATT_T + 103 * MS, to_callee_rtcp(rr))
    out.add(ATT_T + 123 * MS, to_callee_rtcp(b"\x40\xc8\x00\x01\x00\x00\x00\x00"))     # RTCP version 1


def c8(out, rng):
    out.add(ATT_T + 3 * MS, to_callee_rtcp(rtcp_hdr(3, 206, 2) + b"\x00\x00\x00\x00"))  # RPSI, no FCI
    out.add(ATT_T + 23 * MS, to_callee_rtcp(rtcp_hdr(3, 206, 3) + b"\x00\x00\x00\x00" + bytes([200, 96, 1, 2])))
    out.add(ATT_T + 43 * MS, to_callee_rtcp(rtcp_hdr(1, 205, 1)))                       # RTPFB, no media SSRC
    out.add(ATT_T + 63 * MS, to_callee_rtcp(rtcp_hdr(15, 206, 1)))


def c9(out, rng):
    # a separate call negotiating SBC and iLBC; its streams carry hostile codec payloads
    src = "10.66.2.9"
    offer = attacker_sdp(src, 0, ["m=audio 17190 RTP/AVP 96 97", "a=rtpmap:96 SBC/16000", "a=rtpmap:97 iLBC/8000",
                                  "a=fmtp:97 mode=20"])
    answer = attacker_sdp(VICTIM, 0, ["m=audio 27190 RTP/AVP 96 97", "a=rtpmap:96 SBC/16000",
                                      "a=rtpmap:97 iLBC/8000"])
    b_call(out, "c9-codecs@10.66.2.9", src, offer, answer=answer)
    r = random.Random(SEED + 9)
    for i in range(10):
        if i % 2:
            pay = bytes([0x9C, 0xFF, 0x00, 0x00]) * 350          # > 256 SBC frames (4-byte stubs)
            pt = 96
        else:
            pay = r.randbytes(i * 7 + 1)                        # iLBC of impossible sizes
            pt = 97
        out.add(ATT_T + 100 * MS + i * 20 * MS,
                udp_frame(src, 17190, VICTIM, 27190, rtp(pt, 300 + i, 160 * i, 0x0C90C9C9, pay)))


def c10(out, rng):
    # RTP from a different source to the callee's SDP port (in sequence, passes probation)
    for i in range(20):
        out.add(ATT_T + i * 20 * MS + 11 * MS,
                udp_frame("10.66.3.10", 40000, CALLEE["ip"], CALLEE_RTP,
                          rtp(0, 7000 + i, 160 * i, 0xBADBAD00, b"\x7f" * 160)))
    # same source port as the caller but another IP
    for i in range(5):
        out.add(ATT_T + i * 20 * MS + 13 * MS,
                udp_frame("10.66.3.11", CALLER_RTP, CALLEE["ip"], CALLEE_RTP,
                          rtp(0, 1010 + i, 8000, SSRC_CALLER, b"\x7f" * 160)))
    # one packet with a new SSRC on the legit call's own 5-tuple, mid-stream
    out.add(ATT_T + 300 * MS + 5 * MS, to_callee_rtp(rtp(0, 0xBEEF, 123456, 0x0DDBA11, b"\x7f" * 160)))


# ---- capture / lower layers (D)

def d1_frags(out, rng):
    t = ATT_T
    # out of order (reversed), a complete INVITE of another call: must be reassembled
    src = "10.66.4.1"
    l4 = net.udp(src, VICTIM, 5060, 5060, invite("d1-ooo@10.66.4.1", src, attacker_sdp(src, 17200),
                                                 extra=[("X-Pad", "p" * 2500)]))
    fr = net.fragment(src, VICTIM, 17, l4, 0xD101, 1000)
    out.addmany(t, list(reversed(fr)), 1 * MS)
    # overlapping fragments with different content
    src = "10.66.4.2"
    l4 = net.udp(src, VICTIM, 5060, 5060, invite("d1-overlap@10.66.4.2", src, extra=[("X-Pad", "o" * 1500)]))
    a = raw_ipv4(src, VICTIM, 17, l4[:1480], 0xD102, 0x2000)
    b = raw_ipv4(src, VICTIM, 17, b"EVIL" * 100 + l4[800:1480], 0xD102, 0x2000 | (800 // 8))
    c = raw_ipv4(src, VICTIM, 17, l4[1480:], 0xD102, 1480 // 8)
    out.addmany(t + 50 * MS, [eth4(src, VICTIM, a), eth4(src, VICTIM, b), eth4(src, VICTIM, c)], MS)
    # tiny (8-byte) fragments
    src = "10.66.4.3"
    opt = sip_msg("OPTIONS sip:x SIP/2.0", [("Call-ID", "d1-tiny@x"), ("CSeq", "1 OPTIONS"),
                                            ("From", "<sip:a@b>;tag=1"), ("To", "<sip:c@d>"),
                                            ("Via", "SIP/2.0/UDP 10.66.4.3;branch=z9hG4bKt")])
    l4 = net.udp(src, VICTIM, 5060, 5060, opt)
    tiny = []
    for off in range(0, len(l4), 8):
        more = 0x2000 if off + 8 < len(l4) else 0
        tiny.append(eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, l4[off:off + 8], 0xD103, more | off // 8)))
    out.addmany(t + 100 * MS, tiny, 10)
    # > 64 KiB: last fragment at offset 65528 with 100 bytes
    src = "10.66.4.4"
    out.add(t + 200 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"\x13\xc4\x13\xc4\x00\x00\x00\x00" +
                                                       b"A" * 1000, 0xD104, 0x2000)))
    out.add(t + 201 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"B" * 100, 0xD104, 65528 // 8)))
    # fragment offset misaligned / zero-length middle fragment
    src = "10.66.4.5"
    out.add(t + 210 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"C" * 13, 0xD105, 0x2000)))
    out.add(t + 211 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"", 0xD105, 0x2000 | 1)))
    # IPv6 fragments out of order
    s6, d6 = "2001:db8:66::6", "2001:db8:2::10"
    l4 = net.udp(s6, d6, 5060, 5060, invite("d1-v6ooo@x", "[2001:db8:66::6]", attacker_sdp("10.66.4.6", 17206),
                                            extra=[("X-Pad", "q" * 2000)], dst_ip="[2001:db8:2::10]"))
    out.addmany(t + 250 * MS, list(reversed(net.fragment(s6, d6, 17, l4, 0xD106, 1280))), MS)


def ipv6_ext(src, dst, chain, l4, final_nh):
    """IPv6 with extension headers: chain = list of (nh_code, body_without_nh_len)."""
    data = b""
    codes = [c for c, _ in chain] + [final_nh]
    for i, (code, body) in enumerate(chain):
        blk = bytes([codes[i + 1], 0]) + body
        while len(blk) % 8:
            blk += b"\x00"
        blk = blk[:1] + bytes([len(blk) // 8 - 1]) + blk[2:]
        data += blk
    pkt = net.ipv6_header(src, dst, codes[0], len(data) + len(l4)) + data + l4
    return net.eth(net.mac_for(src), net.mac_for(dst), net.ETH_IPV6, pkt)


def d1_l2(out, rng):
    t = ATT_T
    # an INVITE of another call in QinQ, and an OPTIONS with 6 stacked tags
    src = "10.66.5.1"
    out.add(t, udp_frame(src, 5060, VICTIM, 5060, invite("d1-qinq@10.66.5.1", src, attacker_sdp(src, 17300)),
                         encap=((net.ETH_QINQ, 200), (net.ETH_VLAN, 300))))
    out.add(t + 10 * MS, udp_frame(src, 5060, VICTIM, 5060, invite("d1-vlan-deep@10.66.5.1", src),
                                   encap=tuple((net.ETH_VLAN, i) for i in range(1, 40))))
    # IPv6 hop-by-hop + destination options + routing (segments left 0) -> UDP SIP
    s6, d6 = "2001:db8:66::51", "2001:db8:2::10"
    msg = invite("d1-v6ext@x", "[2001:db8:66::51]", dst_ip="[2001:db8:2::10]")
    l4 = net.udp(s6, d6, 5060, 5060, msg)
    out.add(t + 20 * MS, ipv6_ext(s6, d6, [(0, b"\x01\x04\x00\x00\x00\x00"), (60, b"\x01\x04\x00\x00\x00\x00"),
                                           (43, b"\x00\x00" + b"\x00" * 4)], l4, 17))
    # extension header chain that runs past the packet, and an endless chain of 100 dest-opts
    out.add(t + 30 * MS, ipv6_ext(s6, d6, [(0, b"\x01\x04\x00\x00\x00\x00")], b"\x3c\xff", 60))
    out.add(t + 40 * MS, ipv6_ext(s6, d6, [(60, b"\x01\x04\x00\x00\x00\x00")] * 100, l4, 17))


def d2(out, rng):
    # a 65535-byte IPv4 datagram (UDP payload 65507) to 5060 and to the legit RTP port, via fragments
    src = "10.66.6.1"
    big = invite("d2-huge@10.66.6.1", src, extra=[("X-Pad", "h" * 65000)])
    big = big[:65507] if len(big) > 65507 else big + b"x" * (65507 - len(big))
    out.addmany(ATT_T, net.fragment(src, VICTIM, 17, net.udp(src, VICTIM, 5060, 5060, big), 0xD201, 1500), 100)
    l4 = net.udp(CALLER["ip"], CALLEE["ip"], CALLER_RTP, CALLEE_RTP,
                 rtp(0, 1009, 8000, SSRC_CALLER, b"\xff" * (65507 - 12)))
    out.addmany(ATT_T + 100 * MS, net.fragment(CALLER["ip"], CALLEE["ip"], 17, l4, 0xD202, 1500), 100)
    # one byte more than fits (IPv4 total 65536): must be dropped
    l4 = net.udp(src, VICTIM, 5060, 5060, b"y" * 65508)
    out.addmany(ATT_T + 200 * MS, net.fragment(src, VICTIM, 17, l4, 0xD203, 1500), 100)


def d4(out, rng):
    src = "10.66.7.1"
    # truncated records (caplen < len)
    f = udp_frame(src, 5060, VICTIM, 5060, invite("d4-trunc@10.66.7.1", src, attacker_sdp(src, 17400)))
    for i, cut in enumerate((10, 14, 20, 30, 42, 100)):
        out.add(ATT_T + i * MS, f[:cut], wirelen=len(f))
    f = udp_frame(src, 5060, VICTIM, 5060, b"")
    out.add(ATT_T + 10 * MS, f)                                                            # UDP with no payload
    l4 = struct.pack("!HHHH", 5060, 5060, 0, 0) + b"OPTIONS sip:x SIP/2.0\r\n\r\n"          # UDP length 0
    out.add(ATT_T + 11 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, l4)))
    l4 = struct.pack("!HHHH", 5060, 5060, 4000, 0) + b"OPTIONS sip:x SIP/2.0\r\n\r\n"       # UDP length > IP length
    out.add(ATT_T + 12 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, l4)))
    l4 = struct.pack("!HHHH", 5060, 5060, 7, 0)                                              # UDP length < 8
    out.add(ATT_T + 13 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, l4)))
    l4 = struct.pack("!HHHH", CALLER_RTP, CALLEE_RTP, 400, 0) + b"\x80\x00"                 # on the legit tuple
    out.add(ATT_T + 14 * MS, eth4(CALLER["ip"], CALLEE["ip"], raw_ipv4(CALLER["ip"], CALLEE["ip"], 17, l4)))
    out.add(ATT_T + 15 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"\x00" * 20, total_len=9000)))  # > frame
    out.add(ATT_T + 16 * MS, eth4(src, VICTIM, raw_ipv4(src, VICTIM, 17, b"\x00" * 20, total_len=10)))    # IP len < hdr
    out.add(ATT_T + 17 * MS, b"\x00" * 13)                                                  # shorter than Ethernet
    out.add(ATT_T + 18 * MS, b"")                                                            # empty record


def d5(out, rng):
    notify = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
              b"LOCATION: http://10.66.8.1:80/desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
              b"SERVER: Linux/1.0 UPnP/1.0 x/1.0\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n")
    msearch = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n"
               b"ST: ssdp:all\r\n\r\n")
    sub = (b"SUBSCRIBE /upnp/event HTTP/1.1\r\nHOST: 10.66.8.2:5060\r\nCALLBACK: <http://10.66.8.1/>\r\n"
           b"NT: upnp:event\r\nTIMEOUT: Second-1800\r\n\r\n")
    inv_http = b"INVITE * HTTP/1.1\r\nHOST: x\r\nCall-ID: d5-http@x\r\nCSeq: 1 INVITE\r\n\r\n"
    t = ATT_T
    for i, m in enumerate((notify, msearch, sub, inv_http)):
        out.add(t + i * 10 * MS, udp_frame("10.66.8.1", 1900, "239.255.255.250", 1900, m))
        out.add(t + i * 10 * MS + 1 * MS, udp_frame("10.66.8.1", 5060, VICTIM, 5060, m))
        out.add(t + i * 10 * MS + 2 * MS, udp_frame("10.66.8.1", 1900, VICTIM, 41000, m))


ATTACKS = [
    ("A1-callid-64k-tcp", a1_tcp), ("A1-callid-60k-udp-frag", a1_udp_frag), ("A2-warning-empty", a2),
    ("A3-one-char-quoted", a3), ("A4-content-length-neg", a4), ("A5-content-length-2p32", a5),
    ("A6-tcp-framing", a6), ("A7-long-cseq-no-branch", a7), ("A8-multipart", a8), ("A9-one-byte-values", a9),
    ("A10-dup-callid-ctl-compact", a10), ("A11-loop-candidates", a11), ("A12-sigcomp", a12),
    ("A13-content-length-overflow", a13), ("A14-websocket-malformed", a14),
    ("B1-port-70000", b1), ("B2-pt-2p32", b2), ("B3-nul-in-attr", b3), ("B4-nul-line-end", b4),
    ("B5-short-tokens", b5), ("B6-url-percent", b6), ("B7-oversized-conn-media", b7), ("B8-no-media", b8),
    ("B9-asym-ptime", b9), ("B10-many-z", b10), ("B11-dup-media-legit-ports", b11),
    ("B11-dup-media-before-legit-rtp", b11_early), ("B12-offer-answer", b12),
    ("B13-null-attrs-merge", b13),
    ("C1-ext-length-past-end", c1), ("C2-cc15-short", c2), ("C3-padding", c3), ("C4-rfc8285-ext", c4),
    ("C5-rtcp-short", c5), ("C6-rtcp-bye-reason", c6), ("C7-misc-rtp-rtcp", c7), ("C8-rtcp-rpsi", c8),
    ("C9-codec-payloads", c9), ("C10-hijack-ssrc", c10),
    ("D1-ip-fragments", d1_frags), ("D1-vlan-qinq-ipv6-ext", d1_l2), ("D2-65535-byte-udp", d2),
    ("D4-truncated-udp-len", d4), ("D5-ssdp", d5),
]


# ------------------------------------------------------------------ writers

def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, net.LINKTYPE_ETHERNET))
        for ts, _, fr, wl in pkts:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr), wl))
            f.write(fr)


def engine_records(pkts):
    """fuzz_engine records [u8 link=0][u8 dt_ms][u16 BE len][frame]; gaps > 255 ms are clamped."""
    out = bytearray()
    prev = None
    for ts, _, fr, _ in pkts:
        ms = ts // 1000
        dt = 0 if prev is None else min(255, ms - prev)
        prev = ms
        fr = fr[:65535]
        out += struct.pack("!BBH", 0, dt, len(fr)) + fr
    return bytes(out)


def pcapng_block(btype, body, total_override=None):
    while len(body) % 4:
        body += b"\x00"
    tl = 12 + len(body)
    head = struct.pack("<II", btype, total_override if total_override is not None else tl)
    return head + body + struct.pack("<I", tl)


def write_d3(root, rng):
    """D3: pcapng files whose block total length is absurd.  libpcap must refuse them."""
    out = Out()
    legit_call(out, rng)
    pkts = out.sorted()
    shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    idb = pcapng_block(1, struct.pack("<HHI", net.LINKTYPE_ETHERNET, 0, 262144))

    def epb(ts, fr, override=None):
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + fr
        return pcapng_block(6, body, override)

    names = []
    # 1: valid SHB/IDB, the legit call's first 20 frames, then an EPB claiming 0xFFFFFFF0 bytes
    data = pcapng_block(0x0A0D0D0A, shb_body) + idb + b"".join(epb(ts, fr) for ts, _, fr, _ in pkts[:20])
    data += epb(pkts[20][0], pkts[20][2], 0xFFFFFFF0) + b"".join(epb(ts, fr) for ts, _, fr, _ in pkts[21:])
    names.append(("D3-pcapng-epb-huge-length", data))
    # 2: the section header block itself claims 0x7FFFFFFC bytes
    data = pcapng_block(0x0A0D0D0A, shb_body, 0x7FFFFFFC) + idb + b"".join(epb(ts, fr) for ts, _, fr, _ in pkts)
    names.append(("D3-pcapng-shb-huge-length", data))
    for name, data in names:
        with open(os.path.join(root, "tests/regress/pcap", name + ".pcapng"), "wb") as f:
            f.write(data)
    # engine format: the legit frames, then a record whose length runs past the end of the input
    rec = engine_records(pkts) + struct.pack("!BBH", 0, 1, 0xFFFF) + b"\x80\xc8"
    with open(os.path.join(root, "tests/regress/engine", "D3-record-length-past-end.bin"), "wb") as f:
        f.write(rec)
    return [n for n, _ in names]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.abspath(os.path.join(HERE, "..")),
                    help="repository root to write tests/regress/{pcap,engine} under")
    args = ap.parse_args()
    pdir = os.path.join(args.out_dir, "tests/regress/pcap")
    edir = os.path.join(args.out_dir, "tests/regress/engine")
    os.makedirs(pdir, exist_ok=True)
    os.makedirs(edir, exist_ok=True)
    for name, fn in ATTACKS:
        rng = random.Random(SEED)
        out = Out()
        legit_call(out, rng, c4_ext=name.startswith("C4-"))
        fn(out, random.Random(SEED + 1))
        pkts = out.sorted()
        write_pcap(os.path.join(pdir, name + ".pcap"), pkts)
        with open(os.path.join(edir, name + ".bin"), "wb") as f:
            f.write(engine_records(pkts))
    d3 = write_d3(args.out_dir, random.Random(SEED))
    print("wrote %d pcaps + %d pcapng into %s, engine records into %s" % (len(ATTACKS), len(d3), pdir, edir))


if __name__ == "__main__":
    main()
