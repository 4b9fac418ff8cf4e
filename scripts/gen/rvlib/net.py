"""Packet builders: pcap writer, Ethernet/802.1Q/QinQ, IPv4/IPv6 (+fragmentation), UDP, TCP.

All builders return raw bytes. Addresses are strings; they are parsed with ipaddress.
Nothing here uses randomness: callers pass ids/seq numbers explicitly (determinism).
"""
import ipaddress
import struct
import zlib
from array import array

BASE_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
LINKTYPE_ETHERNET = 1
ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8


class PcapWriter:
    """Classic pcap, microsecond timestamps, little endian."""

    def __init__(self, path, linktype=LINKTYPE_ETHERNET, snaplen=65535):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.count = 0
        self._hdr = struct.Struct("<IIII").pack

    def write(self, ts_us, frame):
        n = len(frame)
        self.f.write(self._hdr(ts_us // 1000000, ts_us % 1000000, n, n))
        self.f.write(frame)
        self.count += 1

    def close(self):
        self.f.close()


def ip_obj(a):
    return ipaddress.ip_address(a)


def is_v6(a):
    return ":" in a


def fmt_ep(ip, port):
    """Truth form of an endpoint: ip:port or [v6]:port (compressed, lowercase)."""
    a = ipaddress.ip_address(ip)
    if a.version == 6:
        return "[%s]:%d" % (a.compressed, port)
    return "%s:%d" % (a, port)


def mac_for(ip):
    """Stable locally administered MAC derived from the IP address."""
    c = zlib.crc32(ipaddress.ip_address(ip).packed) & 0xFFFFFFFF
    return b"\x02\x00" + struct.pack("!I", c)


def checksum(data):
    """Internet checksum (RFC 1071)."""
    if len(data) & 1:
        data += b"\x00"
    s = sum(array("H", data))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    # array('H') uses native order; convert the folded sum to network order
    v = ~s & 0xFFFF
    if array("H", b"\x01\x00")[0] == 1:  # little endian host
        v = ((v & 0xFF) << 8) | (v >> 8)
    return v


def eth(src_mac, dst_mac, ethertype, payload, encap=()):
    """Ethernet II header, optionally with VLAN tags. encap: sequence of (tpid, vid), outermost first."""
    parts = [dst_mac, src_mac]
    for tpid, vid in encap:
        parts.append(struct.pack("!HH", tpid, vid & 0x0FFF))
    parts.append(struct.pack("!H", ethertype))
    parts.append(payload)
    return b"".join(parts)


def ipv4_header(src, dst, proto, payload_len, ident=0, flags_off=0x4000, ttl=64, tos=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + payload_len, ident & 0xFFFF, flags_off, ttl,
                    proto, 0, ip_obj(src).packed, ip_obj(dst).packed)
    c = checksum(h)
    return h[:10] + struct.pack("!H", c) + h[12:]


def ipv6_header(src, dst, nh, payload_len, hlim=64, tclass=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | (tclass << 20), payload_len, nh, hlim,
                       ip_obj(src).packed, ip_obj(dst).packed)


def pseudo_header(src, dst, proto, length):
    if is_v6(src):
        return ip_obj(src).packed + ip_obj(dst).packed + struct.pack("!IxxxB", length, proto)
    return ip_obj(src).packed + ip_obj(dst).packed + struct.pack("!xBH", proto, length)


def udp(src, dst, sport, dport, payload, csum=True):
    ln = 8 + len(payload)
    c = 0
    if csum or is_v6(src):
        c = checksum(pseudo_header(src, dst, 17, ln) + struct.pack("!HHHH", sport, dport, ln, 0) + payload)
        if c == 0:
            c = 0xFFFF
    return struct.pack("!HHHH", sport, dport, ln, c) + payload


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240):
    hl = 5
    opts = b""
    if flags & TCP_SYN:
        opts = struct.pack("!BBH", 2, 4, 1460)  # MSS
        hl = 6
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, hl << 4, flags,
                    window, 0, 0) + opts
    c = checksum(pseudo_header(src, dst, 6, len(h) + len(payload)) + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def ip_packet(src, dst, proto, l4, ident=0, df=True):
    """Unfragmented IP packet (v4 or v6 by address family)."""
    if is_v6(src):
        return ETH_IPV6, ipv6_header(src, dst, proto, len(l4)) + l4
    return ETH_IPV4, ipv4_header(src, dst, proto, len(l4), ident, 0x4000 if df else 0) + l4


def frame(src, dst, proto, l4, encap=(), ident=0, df=True):
    et, pkt = ip_packet(src, dst, proto, l4, ident, df)
    return eth(mac_for(src), mac_for(dst), et, pkt, encap)


def fragment(src, dst, proto, l4, ident, mtu=1500, encap=()):
    """Return the list of Ethernet frames carrying l4 fragmented to fit mtu (in order).
    Returns a single unfragmented frame if it fits."""
    v6 = is_v6(src)
    hdr = 40 if v6 else 20
    if hdr + len(l4) <= mtu:
        return [frame(src, dst, proto, l4, encap, ident, df=False)]
    out = []
    if v6:
        chunk = (mtu - 40 - 8) // 8 * 8
    else:
        chunk = (mtu - 20) // 8 * 8
    off = 0
    while off < len(l4):
        part = l4[off:off + chunk]
        more = off + len(part) < len(l4)
        if v6:
            fh = struct.pack("!BBHI", proto, 0, (off // 8) << 3 | (1 if more else 0), ident)
            pkt = ipv6_header(src, dst, 44, 8 + len(part)) + fh + part
            out.append(eth(mac_for(src), mac_for(dst), ETH_IPV6, pkt, encap))
        else:
            fo = (off // 8) | (0x2000 if more else 0)
            pkt = ipv4_header(src, dst, proto, len(part), ident, fo) + part
            out.append(eth(mac_for(src), mac_for(dst), ETH_IPV4, pkt, encap))
        off += len(part)
    return out


def arp(op, sha_ip, tha_ip, target_mac=b"\x00" * 6):
    sm = mac_for(sha_ip)
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sm, ip_obj(sha_ip).packed,
                       target_mac, ip_obj(tha_ip).packed)
    dst = b"\xff" * 6 if op == 1 else target_mac
    return eth(sm, dst, ETH_ARP, body + b"\x00" * 18)


class UdpTemplate:
    """Precomputed Ethernet+IP+UDP header for fixed-size payloads (DF, IP id 0, UDP checksum 0 on v4).
    Used on hot paths (perf/flood). IPv6 computes the UDP checksum per packet."""

    def __init__(self, src, dst, sport, dport, payload_len, encap=()):
        self.v6 = is_v6(src)
        self.args = (src, dst, sport, dport)
        self.encap = encap
        if not self.v6:
            l4h = struct.pack("!HHHH", sport, dport, 8 + payload_len, 0)
            et, pkt = ip_packet(src, dst, 17, l4h + b"\x00" * payload_len)
            self.prefix = eth(mac_for(src), mac_for(dst), et, pkt[:28], encap)
        self.plen = payload_len

    def build(self, payload):
        if self.v6 or len(payload) != self.plen:
            s, d, sp, dp = self.args
            return frame(s, d, 17, udp(s, d, sp, dp, payload, csum=False), self.encap)
        return self.prefix + payload


class TcpConn:
    """A TCP connection between client (a) and server (b). send() returns frames; seq/ack are tracked."""

    def __init__(self, a_ip, a_port, b_ip, b_port, isn_a, isn_b, encap=()):
        self.ep = {"a": (a_ip, a_port), "b": (b_ip, b_port)}
        self.nxt = {"a": isn_a, "b": isn_b}
        self.encap = encap
        self.ident = {"a": 1, "b": 1}

    def _seg(self, side, seq, flags, data):
        other = "b" if side == "a" else "a"
        (si, sp), (di, dp) = self.ep[side], self.ep[other]
        ack = self.nxt[other] if flags & TCP_ACK else 0
        l4 = tcp(si, di, sp, dp, seq, ack, flags, data)
        self.ident[side] += 1
        return frame(si, di, 6, l4, self.encap, self.ident[side])

    def handshake(self):
        f1 = self._seg("a", self.nxt["a"], TCP_SYN, b"")
        self.nxt["a"] += 1
        # SYN/ACK acknowledges a's SYN
        f2 = self._seg("b", self.nxt["b"], TCP_SYN | TCP_ACK, b"")
        self.nxt["b"] += 1
        f3 = self._seg("a", self.nxt["a"], TCP_ACK, b"")
        return [f1, f2, f3]

    def send(self, side, data):
        """Returns (frame, seq) so a caller can retransmit the identical segment with resend()."""
        seq = self.nxt[side]
        f = self._seg(side, seq, TCP_PSH | TCP_ACK, data)
        self.nxt[side] += len(data)
        return f, seq

    def resend(self, side, seq, data):
        return self._seg(side, seq, TCP_PSH | TCP_ACK, data)

    def ack(self, side):
        return self._seg(side, self.nxt[side], TCP_ACK, b"")

    def fin(self, side):
        f = self._seg(side, self.nxt[side], TCP_FIN | TCP_ACK, b"")
        self.nxt[side] += 1
        return f
