"""The recorder on every network variant of the analysis scenario.

The `analyze` scenario (UDP and TCP SIP with split and coalesced messages,
IPv6, VLAN and QinQ, fragmented INVITEs, 183 early media from a separate
server, re-INVITE moving media, hold, SSRC change, loss, reordering,
duplicates, DTMF of every kind, calls without BYE, malformed and injected
packets) is captured with an exempt rule that covers every call, so every
accepted RTP packet must be kept exactly once.  For each call the exported
pcap must hold, per stream, exactly analyze's packets + event packets minus
duplicates, with the same RTP sequence numbers the capture carried (read
from the original file), and nothing else.
"""
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402


def read_pcap(path):
    """(src, dst, sport, dport, rtp bytes) of every UDP/IPv4-or-IPv6 packet, VLAN tags skipped."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        fr = data[off + 16: off + 16 + incl]
        off += 16 + incl
        p = 12
        et = struct.unpack_from("!H", fr, p)[0]
        while et in (0x8100, 0x88A8):
            p += 4
            et = struct.unpack_from("!H", fr, p)[0]
        p += 2
        if et == 0x0800:
            ihl = (fr[p] & 15) * 4
            if fr[p + 9] != 17 or struct.unpack_from("!H", fr, p + 6)[0] & 0x3fff:
                continue
            src, dst = ".".join(map(str, fr[p + 12:p + 16])), ".".join(map(str, fr[p + 16:p + 20]))
            p += ihl
        elif et == 0x86DD:
            if fr[p + 6] != 17:
                continue
            import ipaddress
            src = str(ipaddress.IPv6Address(fr[p + 8:p + 24]))
            dst = str(ipaddress.IPv6Address(fr[p + 24:p + 40]))
            p += 40
        else:
            continue
        sport, dport, ulen = struct.unpack_from("!HHH", fr, p)
        out.append((src, dst, sport, dport, fr[p + 8:p + ulen]))
    return out


def ep(ip, port):
    return ("[%s]:%d" % (ip, port)) if ":" in ip else ("%s:%d" % (ip, port))


def main():
    tap = rvtest.Tap()
    pcap, truth = rvtest.generate("analyze", 1)
    rc, ana, err = rvtest.analyze(pcap)
    if not tap.ok(rc == 0 and ana, "analyze reference", err):
        tap.done()
    d = os.path.join(rvtest.TMP, "variants")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "rv.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s/store\nkey_file = %s/kek.key\n[exempt]\ncaller_regex = .*\nbasis = test\n" % (d, d))
    rvtest.run([rvtest.BIN, "keys", "init", "-c", conf])
    p = rvtest.run([rvtest.BIN, "capture", "-c", conf, "-r", pcap])
    tap.ok(p.returncode == 0, "capture of the analysis scenario", p.stderr[-500:])
    calls = json.loads(rvtest.run([rvtest.BIN, "calls", "-c", conf, "--json"]).stdout)
    tap.eq(sorted(c["call_id"] for c in calls), sorted(c["call_id"] for c in ana["calls"]), "every call stored")
    tap.ok(all(c["consent"]["state"] == "exempt" for c in calls), "all exempt under caller_regex = .*")
    # sequence numbers on the wire per endpoint pair (RTP only: version 2)
    wire = {}
    for src, dst, sport, dport, payload in read_pcap(pcap):
        if len(payload) >= 12 and payload[0] >> 6 == 2:
            wire.setdefault((ep(src, sport), ep(dst, dport)), set()).add(struct.unpack_from("!H", payload, 2)[0])
    bad = []
    for c in ana["calls"]:
        want = {(s["src"], s["dst"]): s["packets"] + s["event_packets"] - s["duplicates"] for s in c["streams"]}
        if not want:
            continue
        out = os.path.join(d, "x-" + c["call_id"][:16])
        e = rvtest.run([rvtest.BIN, "export", "-c", conf, c["call_id"], "--purpose", "t", "--format", "pcap", "-o", out])
        if e.returncode != 0:
            bad.append("%s: export failed: %s" % (c["call_id"], e.stderr[-200:]))
            continue
        got = {}
        seqs = {}
        for fn in os.listdir(out):
            if fn.endswith(".pcap"):
                for src, dst, sport, dport, payload in read_pcap(os.path.join(out, fn)):
                    k = (ep(src, sport), ep(dst, dport))
                    got[k] = got.get(k, 0) + 1
                    seqs.setdefault(k, set()).add(struct.unpack_from("!H", payload, 2)[0])
        if got != want:
            bad.append("%s: kept %r, analyze %r" % (c["call_id"], got, want))
        for k, s in seqs.items():
            if not s <= wire.get(k, set()):
                bad.append("%s %r: exported sequence numbers not on the wire" % (c["call_id"], k))
    tap.ok(not bad, "every stream of every call kept exactly once, per endpoint pair", "\n".join(bad))
    tap.done()


if __name__ == "__main__":
    main()
