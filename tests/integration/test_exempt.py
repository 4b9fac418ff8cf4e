"""Exempt rules other than number prefixes: a header on the INVITE, a trunk
address, a callee regex.  Each exempt call is recorded whole without any
consent signal and stores the configured legal basis; a call matching no rule
keeps nothing (no signal: timeout)."""
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gen"))
import rvtest  # noqa: E402
from rvlib import net, sip  # noqa: E402

T0 = 1767225600 * 1000000


def rtp(seq, ts, ssrc):
    return struct.pack("!BBHII", 0x80, 0, seq, ts, ssrc) + bytes((seq * 13 + i) & 0xff for i in range(160))


def call(w, t, n, caller_ip, callee_num, extra_hdr=()):
    cid = "exempt-%d@rvtest" % n
    callee_ip = "203.0.113.%d" % (50 + n)
    base = [("Via", "SIP/2.0/UDP %s:5060;branch=z9hG4bKex%d" % (caller_ip, n)), ("From", "<sip:4400%d@a>;tag=f%d" % (n, n)),
            ("To", "<sip:%s@b>" % callee_num), ("Call-ID", cid), ("CSeq", "1 INVITE")]
    inv = sip.message("INVITE sip:%s@b SIP/2.0" % callee_num, base + list(extra_hdr),
                      sip.sdp(n, 1, caller_ip, 40000 + 2 * n, "PCMU", dtmf=False), "application/sdp")
    w.append((t, net.frame(caller_ip, callee_ip, 17, net.udp(caller_ip, callee_ip, 5060, 5060, inv))))
    resp = [(k, v + (";tag=t%d" % n if k == "To" else "")) for k, v in base]
    ok = sip.message("SIP/2.0 200 OK", resp, sip.sdp(n + 100, 1, callee_ip, 50000 + 2 * n, "PCMU", dtmf=False),
                     "application/sdp")
    w.append((t + 300000, net.frame(callee_ip, caller_ip, 17, net.udp(callee_ip, caller_ip, 5060, 5060, ok))))
    for i in range(40):
        tt = t + 310000 + i * 20000
        w.append((tt, net.frame(caller_ip, callee_ip, 17, net.udp(caller_ip, callee_ip, 40000 + 2 * n, 50000 + 2 * n,
                                                                  rtp(i + 10, i * 160, 0x100 + n)))))
        w.append((tt + 50, net.frame(callee_ip, caller_ip, 17, net.udp(callee_ip, caller_ip, 50000 + 2 * n, 40000 + 2 * n,
                                                                       rtp(i + 500, i * 160, 0x200 + n)))))
    bye = sip.message("BYE sip:%s@b SIP/2.0" % callee_num, [(k, v) for k, v in resp if k != "CSeq"] + [("CSeq", "2 BYE")])
    w.append((t + 1200000, net.frame(caller_ip, callee_ip, 17, net.udp(caller_ip, callee_ip, 5060, 5060, bye))))
    return cid


def main():
    tap = rvtest.Tap()
    d = os.path.join(rvtest.TMP, "exempt")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    pk = []
    c_hdr = call(pk, T0, 1, "10.9.0.1", "5550001", [("X-Legal-Hold", "YES")])
    c_trunk = call(pk, T0 + 2000000, 2, "192.0.2.99", "5550002")
    c_re = call(pk, T0 + 4000000, 3, "10.9.0.3", "9990003")
    c_none = call(pk, T0 + 6000000, 4, "10.9.0.4", "5550004")
    pcap = os.path.join(d, "exempt.pcap")
    w = net.PcapWriter(pcap)
    for t, fr in sorted(pk, key=lambda x: x[0]):
        w.write(t, fr)
    w.close()
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[exempt]\nheader = x-legal-hold: yes\n"
                "trunks = 192.0.2.99\ncallee_regex = ^999\nbasis = court order 12/2026\n" % (d, d))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    tap.ok(p.returncode == 0, "capture", p.stderr[-400:])
    calls = {c["call_id"]: c for c in json.loads(rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"]).stdout)}
    for cid, what in ((c_hdr, "header"), (c_trunk, "trunk address"), (c_re, "callee regex")):
        c = calls.get(cid, {})
        kept = sum(s["packets_kept"] for s in c.get("streams", []))
        tap.ok(c.get("consent", {}).get("state") == "exempt" and c["consent"].get("method") == "exempt" and
               c["consent"].get("basis") == "court order 12/2026" and kept == 80,
               "exempt by %s: whole call kept (%d packets) with the legal basis" % (what, kept), json.dumps(c)[:600])
    c = calls.get(c_none, {})
    tap.ok(c.get("consent", {}).get("state") == "timeout" and not c.get("audio"),
           "a call matching no rule keeps nothing without consent", json.dumps(c)[:400])
    tap.done()


if __name__ == "__main__":
    main()
