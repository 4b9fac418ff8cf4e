"""NAT: RTP whose addresses match no SDP but whose port does is attached by
port alone when [rtp] port_only_fallback is on (flagged port_only_match in
the report), and left unmatched when it is off.

The call: the caller's SDP announces its private address 192.168.10.5:40000;
behind NAT its media really comes from and goes to 198.51.100.7:40000.  The
callee announces and uses 203.0.113.20:50000.  So the callee's RTP goes to
198.51.100.7:40000 (no address match, port match), and the caller's RTP comes
from 198.51.100.7:40000 to 203.0.113.20:50000 (destination match).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gen"))
import rvtest  # noqa: E402
from rvlib import net, sip  # noqa: E402

T0 = 1767225600 * 1000000
CALLER_PRIV, CALLER_PUB, CALLEE, PROXY = "192.168.10.5", "198.51.100.7", "203.0.113.20", "203.0.113.1"


def rtp(seq, ts, ssrc):
    return struct.pack("!BBHII", 0x80, 0, seq, ts, ssrc) + bytes((seq * 7 + i) & 0xff for i in range(160))


def build(path):
    w = net.PcapWriter(path)
    t = T0
    cid = "nat-call-1@rvtest"
    base = [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bKnat1" % CALLER_PUB), ("From", "<sip:5551000@a>;tag=ca1"),
            ("To", "<sip:5552000@b>"), ("Call-ID", cid), ("CSeq", "1 INVITE")]
    inv = sip.message("INVITE sip:5552000@b SIP/2.0", base, sip.sdp(1, 1, CALLER_PRIV, 40000, "PCMU", dtmf=False),
                      "application/sdp")
    w.write(t, net.frame(CALLER_PUB, PROXY, 17, net.udp(CALLER_PUB, PROXY, 5060, 5060, inv)))
    t += 500000
    resp = [(n, v + (";tag=ce1" if n == "To" else "")) for n, v in base]
    ok = sip.message("SIP/2.0 200 OK", resp, sip.sdp(2, 1, CALLEE, 50000, "PCMU", dtmf=False), "application/sdp")
    w.write(t, net.frame(PROXY, CALLER_PUB, 17, net.udp(PROXY, CALLER_PUB, 5060, 5060, ok)))
    t += 10000
    for i in range(50):
        w.write(t, net.frame(CALLER_PUB, CALLEE, 17, net.udp(CALLER_PUB, CALLEE, 40000, 50000, rtp(100 + i, i * 160, 0x1111))))
        w.write(t + 100, net.frame(CALLEE, CALLER_PUB, 17, net.udp(CALLEE, CALLER_PUB, 50002, 40000, rtp(900 + i, i * 160, 0x2222))))
        t += 20000
    bye = sip.message("BYE sip:5552000@b SIP/2.0", [(n, v) for n, v in resp if n != "CSeq"] + [("CSeq", "2 BYE")])
    w.write(t, net.frame(CALLER_PUB, PROXY, 17, net.udp(CALLER_PUB, PROXY, 5060, 5060, bye)))
    w.close()


def main():
    tap = rvtest.Tap()
    pcap = os.path.join(rvtest.TMP, "nat.pcap")
    build(pcap)
    rc, out, err = rvtest.analyze(pcap)
    if tap.ok(rc == 0 and out and len(out["calls"]) == 1, "analyze sees the NATed call", err):
        st = {(s["party"], s["src"], s["dst"]): (s["packets"], s["port_only_match"]) for s in out["calls"][0]["streams"]}
        tap.eq(st, {("caller", CALLER_PUB + ":40000", CALLEE + ":50000"): (50, False),
                    ("callee", CALLEE + ":50002", CALLER_PUB + ":40000"): (50, True)},
               "both directions attached; the one matched by port alone is flagged")
        tap.eq(out["counters"]["rtp_port_only_matches"], 1, "counted in rtp_port_only_matches")
    conf = os.path.join(rvtest.TMP, "nat-off.conf")
    with open(conf, "w") as f:
        f.write("[rtp]\nport_only_fallback = false\n")
    rc, out, err = rvtest.analyze(pcap, conf=conf)
    if tap.ok(rc == 0 and out and len(out["calls"]) == 1, "analyze with port_only_fallback = false", err):
        parties = sorted(s["party"] for s in out["calls"][0]["streams"])
        tap.eq(parties, ["caller"], "without the fallback only the address-matched direction is attached")
        tap.ok(out["counters"]["udp_unmatched"] >= 50, "the other direction is counted as unmatched")
    tap.done()


if __name__ == "__main__":
    main()
