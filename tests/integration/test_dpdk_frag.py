#!/usr/bin/env python3
"""IP reassembly with rte_ip_frag on the DPDK RX path (engine/dpdk_capture.c, docs/dpdk.md).

The consent scenario is rewritten so that its calls depend on IP fragments: SIP over UDP
(INVITE, 200 OK, BYE, INFO ... over IPv4 and IPv6) cut into 2-4 fragments, sent in order,
reversed, shuffled, or with the last fragment arriving after later frames (so the datagram's time
is its last fragment's), and every 9th RTP packet cut in 2; every IP pair gets no, one (802.1Q) or
two (802.1ad + 802.1Q) VLAN tags.  Added: datagrams whose second fragment comes 6 s after the first
(past [limits] frag_timeout = 5 s: dropped by both reassemblers), datagrams missing a fragment
(held until the end of the replay, then freed), and an IPv6 datagram with a Destination Options
header before its Fragment header (rte_ip_frag cannot take it: left to the engine's reassembler).

That file is recorded with `capture -r` (libpcap, the engine's reassembler) and with
`capture --dpdk` (net_pcap rx_pcap=FILE) on 1 worker, and split by directed IP pair into 2 files
on 2 workers (`--lcores (0-2)@(0-1)`): the same calls with the same consent states, times, packets
kept and exported (seq, payload) (test_dpdk.compare); rte_ip_frag completed exactly the datagrams
the engine completes with -r (minus the one left to it), the death row freed exactly the stale and
incomplete fragments, no fragment is left held, and received = processed + frag_absorbed +
frag_freed.  Then a looping replay (infinite_rx, TSC clock): `rtpvault stats` and the Prometheus
endpoint show the reassembly counters while it runs.

Skips (with a message) when the binary has no DPDK or EAL cannot start here.
"""
import bisect
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_dpdk as td  # noqa: E402

TPIDS = (0x8100, 0x88A8, 0x9100)
STALE_GAP_US = 6000000       # > the default [limits] frag_timeout (5 s)
N_STALE, N_INCOMPLETE = 3, 2  # 2 fragments each reach the death row


def cksum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def split_eth(fr):
    """Ethernet frame -> (macs, tag bytes, ethertype, L3 bytes), or None."""
    if len(fr) < 14:
        return None
    pos, tags = 12, b""
    while struct.unpack("!H", fr[pos:pos + 2])[0] in TPIDS and len(fr) >= pos + 6:
        tags += fr[pos:pos + 4]
        pos += 4
    return fr[:12], tags, struct.unpack("!H", fr[pos:pos + 2])[0], fr[pos + 2:]


def join_eth(macs, tags, et, l3):
    return macs + tags + struct.pack("!H", et) + l3


def sizes(total, n):
    """n chunk sizes covering total bytes, all but the last a multiple of 8."""
    c = max(8, (-(-total // n) + 7) // 8 * 8)
    out = []
    while total > 0:
        out.append(min(c, total))
        total -= out[-1]
    return out


def frag_v4(ip, ident, n, drop=None):
    ihl = (ip[0] & 15) * 4
    tl = struct.unpack("!H", ip[2:4])[0]
    data, out, off = ip[ihl:tl], [], 0
    for k, sz in enumerate(sizes(len(data), n)):
        part = data[off:off + sz]
        h = bytearray(ip[:ihl])
        struct.pack_into("!HHH", h, 2, ihl + len(part), ident, (0x2000 if off + sz < len(data) else 0) | off // 8)
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", cksum(bytes(h)))
        if k != drop:
            out.append(bytes(h) + part)
        off += sz
    return out


def frag_v6(ip, ident, n, drop=None, dstopts=False):
    plen = struct.unpack("!H", ip[4:6])[0]
    data, out, off = ip[40:40 + plen], [], 0
    ext = struct.pack("!BB", 44, 0) + b"\x01\x04\0\0\0\0" if dstopts else b""  # PadN: 8 bytes
    for k, sz in enumerate(sizes(len(data), n)):
        part = data[off:off + sz]
        fh = struct.pack("!BBHI", ip[6], 0, off | (1 if off + sz < len(data) else 0), ident)
        h = ip[:4] + struct.pack("!HB", len(ext) + 8 + len(part), 60 if dstopts else 44) + ip[7:40]
        if k != drop:
            out.append(h + ext + fh + part)
        off += sz
    return out


def udp_ip(v6, src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(u), 17, 64) + src + dst + u
    h = bytearray(struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0) + src + dst)
    h[10:12] = struct.pack("!H", cksum(bytes(h)))
    return bytes(h) + u


def build(src, dst):
    """Writes the fragmented scenario; returns what it holds (counts)."""
    hdr, e, nano, link, recs = td.read_pcap(src)
    assert link == 1 and e == "<" and not nano, "the generator writes little-endian µs Ethernet pcaps"
    times = [a * 1000000 + b for a, b in (struct.unpack("<II", h[:8]) for h, _ in recs)]
    out = []          # [ts, frame] in capture order, ts never decreasing
    delayed = {}      # index of the frame a delayed last fragment goes before -> [(ts, frame)]
    st = {"dgrams_v4": 0, "dgrams_v6": 0, "frags": 0, "sip": 0, "rtp": 0, "delayed": 0, "tags0": 0,
          "tags1": 0, "tags2": 0}
    ident = [40000, 0x5000000]
    nsip = nrtp = 0
    for i, (_, fr) in enumerate(recs):
        for d in delayed.pop(i, []):
            out.append(d)
        ts = times[i]
        p = split_eth(fr)
        if p is None or p[2] not in (0x0800, 0x86DD):
            out.append((ts, fr))
            continue
        macs, tags, et, l3 = p
        v6 = et == 0x86DD
        if v6:
            a, b, proto, l4 = l3[8:24], l3[24:40], l3[6], l3[40:]
            isfrag = proto == 44
        else:
            ihl = (l3[0] & 15) * 4
            a, b, proto, l4 = l3[12:16], l3[16:20], l3[9], l3[ihl:]
            isfrag = struct.unpack("!H", l3[6:8])[0] & 0x3FFF
        if not tags:  # no, one or two VLAN tags per IP pair (both directions alike)
            ntag = zlib.crc32(min(a, b) + max(a, b)) % 3
            tags = [b"", struct.pack("!HH", 0x8100, 42), struct.pack("!HHHH", 0x88A8, 7, 0x8100, 42)][ntag]
        st["tags%d" % (len(tags) // 4)] += 1
        n = 0
        if proto == 17 and not isfrag and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            pl = l4[8:]
            if 5060 in (sport, dport) and len(pl) > 200:
                nsip += 1
                n, mode, kind = 2 + nsip % 3, nsip % 4, "sip"
            elif 5060 not in (sport, dport) and len(pl) >= 160 and pl[0] >> 6 == 2:
                nrtp += 1
                if nrtp % 9 == 0:
                    n, mode, kind = 2, (1 if nrtp % 27 == 0 else 0), "rtp"
        if not n:
            out.append((ts, join_eth(macs, tags, et, l3)))
            continue
        if v6:
            ident[1] += 1
            frags = frag_v6(l3, ident[1], n)
        else:
            ident[0] += 1
            frags = frag_v4(l3, ident[0] & 0xFFFF, n)
        frames = [join_eth(macs, tags, et, f) for f in frags]
        st["dgrams_v6" if v6 else "dgrams_v4"] += 1
        st[kind] += 1
        st["frags"] += len(frames)
        late = None
        if mode == 1:
            frames.reverse()
        elif mode == 2:
            frames = frames[1:] + frames[:1]
        elif mode == 3 and i + 3 < len(recs) and times[i + 3] - times[i + 2] >= 2:
            late = frames.pop()  # the last fragment comes between frames i+2 and i+3
            delayed.setdefault(i + 3, []).append(((times[i + 2] + times[i + 3]) // 2, late))
            st["delayed"] += 1
        nxt = times[i + 1] if i + 1 < len(recs) else ts + 1000
        step = 1 if ts + len(frames) - 1 < nxt else 0  # distinct times where there is room
        for k, f in enumerate(frames):
            out.append((ts + k * step, f))
    for i in sorted(delayed):
        out.extend(delayed[i])

    def insert(t, f):
        keys = [x[0] for x in out]
        out.insert(bisect.bisect_right(keys, t), (t, f))

    t0, span = out[0][0], out[-1][0] - out[0][0]
    mac = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
    v4a, v4b = bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2])
    v6a, v6b = bytes.fromhex("20010db8009900000000000000000001"), bytes.fromhex("20010db8009900000000000000000002")
    junk = bytes(range(256)) * 3
    extra = []
    # stale: the second fragment after frag_timeout; both reassemblers drop both halves
    for k in range(N_STALE):
        v6 = k == 1
        ip = udp_ip(v6, v6a if v6 else v4a, v6b if v6 else v4b, 40000 + k, 9, junk[:600])
        fr = frag_v6(ip, 0x7000000 + k, 2) if v6 else frag_v4(ip, 30000 + k, 2)
        tags = struct.pack("!HH", 0x8100, 99) if k == 2 else b""
        t = t0 + span * (2 + k) // 10
        extra += [(t, join_eth(mac, tags, 0x86DD if v6 else 0x0800, fr[0])),
                  (t + STALE_GAP_US, join_eth(mac, tags, 0x86DD if v6 else 0x0800, fr[1]))]
    # incomplete: the middle one of 3 fragments never comes
    for k in range(N_INCOMPLETE):
        v6 = k == 1
        ip = udp_ip(v6, v6a if v6 else v4a, v6b if v6 else v4b, 41000 + k, 9, junk[:700])
        fr = frag_v6(ip, 0x7100000 + k, 3, drop=1) if v6 else frag_v4(ip, 31000 + k, 3, drop=1)
        t = t0 + span * (3 + 2 * k) // 10
        extra += [(t + j, join_eth(mac, b"", 0x86DD if v6 else 0x0800, f)) for j, f in enumerate(fr)]
    # Destination Options before the Fragment header: the engine's reassembler takes it
    ip = udp_ip(True, v6a, v6b, 42000, 9, junk[:500])
    extra += [(t0 + span * 45 // 100 + j, join_eth(mac, b"", 0x86DD, f))
              for j, f in enumerate(frag_v6(ip, 0x7200000, 2, dstopts=True))]
    for t, f in sorted(extra, key=lambda x: x[0]):
        insert(t, f)
    with open(dst, "wb") as f:
        f.write(hdr)
        for t, fr in out:
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
            f.write(fr)
    st["frames"] = len(out)
    return st


def split_by_pair(src, outs):
    """Frames of each directed IP pair go to one file (so do the fragments of a datagram); the two
    directions of a call often to different files; non-IP frames to file 0."""
    hdr, _, _, _, recs = td.read_pcap(src)
    parts = [[] for _ in outs]
    for h, fr in recs:
        p = split_eth(fr)
        k = 0
        if p and p[2] == 0x0800:
            k = zlib.crc32(p[3][12:20]) % len(outs)
        elif p and p[2] == 0x86DD:
            k = zlib.crc32(p[3][8:40]) % len(outs)
        parts[k].append((h, fr))
    for o, p in zip(outs, parts):
        td.write_pcap(o, hdr, p)
    return [len(p) for p in parts]


def counter(text, name):
    v = td.summary(text, name)
    return v or 0


def queue_counters(err, name):
    """{labels: value} of one per-queue counter from the capture summary lines."""
    return {lb: int(v) for lb, v in re.findall(r"dpdk_queue_%s\{([^}]*)\} (\d+)" % name, err)}


def times_view(conf):
    """{call_id: sorted [(invite, answer, end, consent time, state, status, end reason)]}"""
    import json
    p = td.rv(["calls", "-c", conf, "--json"])
    if p.returncode != 0:
        return None
    out = {}
    for c in json.loads(p.stdout.decode()):
        out.setdefault(c["call_id"], []).append((c.get("invite_time"), c.get("answer_time"), c.get("end_time"),
                                                 (c.get("consent") or {}).get("time"), c.get("state"),
                                                 c.get("status"), c.get("end_reason")))
    for k in out:
        out[k].sort(key=repr)
    return out


def check_run(tap, name, ref, got, ref_done, nqueues):
    td.compare(tap, name, ref, got)
    gd, gconf, gp = got
    err, out = gp.stderr.decode("utf-8", "replace"), gp.stdout.decode("utf-8", "replace")
    rt, gt = times_view(ref[1]), times_view(gconf)
    diff = sorted(k for k in (rt or {}) if (gt or {}).get(k) != rt[k])
    tap.ok(rt is not None and gt is not None and not diff,
           "%s: same INVITE / answer / end / consent times per call (a datagram's time is its last fragment's)"
           % name, "differs: %s" % [(k, rt[k], (gt or {}).get(k)) for k in diff[:3]])
    done = queue_counters(err, "frag_reassembled")
    freed = queue_counters(err, "frag_freed")
    held = queue_counters(err, "frag_held")
    passed = queue_counters(err, "frag_passed")
    rx = queue_counters(err, "frag_received")
    absorbed = queue_counters(err, "frag_absorbed")
    tap.ok(len(done) == nqueues and sum(done.values()) > 0,
           "%s: rte_ip_frag reassembled datagrams (%s)" % (name, done), err[-1500:])
    if nqueues > 1:
        tap.ok(all(v > 0 for v in done.values()), "%s: every queue's table reassembled datagrams" % name)
    tap.eq(sum(done.values()), ref_done - 1,
           "%s: rte_ip_frag completed the datagrams the engine completes with -r, but the one it leaves to "
           "the engine" % name)
    tap.eq((counter(out, "ip_fragments"), counter(out, "ip_reassembled")), (2, 1),
           "%s: the engine saw only the 2 fragments behind a Destination Options header, and joined them" % name)
    tap.eq(sum(passed.values()), 2, "%s: those 2 were counted as frag_passed" % name)
    tap.eq(sum(freed.values()), 2 * (N_STALE + N_INCOMPLETE),
           "%s: the death row freed exactly the stale and incomplete fragments (capture-time expiry)" % name)
    tap.ok(held and not any(held.values()), "%s: nothing left held in the tables at the end" % name)
    acc = td.dpdk_line(err)
    tap.ok(acc is not None and acc[6] == sum(absorbed.values()) and acc[7] == sum(freed.values()) and
           sum(rx.values()) == sum(absorbed.values()) + sum(done.values()) + sum(freed.values()),
           "%s: per-queue counters add up: fragments received = absorbed + reassembled + freed (%s)"
           % (name, acc), err[-800:])


def stats_run(tap, pcap, tmpd):
    """A looping replay (not a finite one: TSC clock): the counters are served while it runs."""
    hdr, _, _, _, recs = td.read_pcap(pcap)
    small = os.path.join(tmpd, "loop.pcap")
    n = 0
    for i, (_, fr) in enumerate(recs[:6000]):  # the pool must hold the whole looping file
        p = split_eth(fr)
        if p and ((p[2] == 0x0800 and struct.unpack("!H", p[3][6:8])[0] & 0x3FFF) or
                  (p[2] == 0x86DD and p[3][6] == 44)):
            n += 1
        if i >= 2500 and n >= 10:
            break
    td.write_pcap(small, hdr, recs[:i + 1])
    pf = td.prefix()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eal = "-l 0 %s --file-prefix %s --vdev net_pcap0,rx_pcap=%s,infinite_rx=1" % (td.EAL_BASE, pf, small)
    d, conf = td.make_env("frag-loop", td.dpdk_section(eal, 1) + "[stats]\nprometheus_port = %d\n" % port)
    try:
        cap = subprocess.Popen([td.BIN, "capture", "-c", conf, "--dpdk", "--no-progress"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        time.sleep(3.0)
        st = td.rv(["stats", "-c", conf])
        stt = st.stdout.decode("utf-8", "replace")
        m = re.search(r'rtpvault_dpdk_queue_frag_reassembled\{port="0",queue="0"\} (\d+)', stt)
        tap.ok(st.returncode == 0 and m and int(m.group(1)) > 0 and "rtpvault_dpdk_frag_absorbed" in stt,
               "stats: rtpvault stats shows the reassembly counters of the running capture (%s)"
               % (m.group(1) if m else None), stt[-1500:] + st.stderr.decode())
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
        except OSError as ex:
            body = "error: %s" % ex
        tap.ok("# TYPE rtpvault_dpdk_queue_frag_reassembled counter" in body and
               "# TYPE rtpvault_dpdk_frag_held gauge" in body and "rtpvault_dpdk_queue_frag_freed{" in body,
               "stats: Prometheus serves them (frag_held as a gauge)", body[:1500])
        cap.send_signal(signal.SIGINT)
        out, err = cap.communicate(timeout=120)
    finally:
        td.clean_prefix(pf)
    err = err.decode("utf-8", "replace")
    tap.ok(cap.returncode == 0, "loop: capture stops cleanly on SIGINT", err[-1500:])
    acc = td.dpdk_line(err)
    tap.ok(td.balanced(acc) and acc[8] == 0,
           "loop: received = processed + ring-full + frag_absorbed + frag_freed, nothing held after the stop (%s)"
           % (acc,), err[-1500:])


def main():
    tap = rvtest.Tap()
    td.require_dpdk(tap, "DPDK IP reassembly")

    base, _ = rvtest.generate("consent", 11)
    tmpd = tempfile.mkdtemp(prefix="dpdk-frag-", dir=rvtest.TMP)
    pcap = os.path.join(tmpd, "consent-frag.pcap")
    st = build(base, pcap)
    tap.ok(st["dgrams_v4"] > 0 and st["dgrams_v6"] > 0 and st["sip"] > 0 and st["rtp"] > 0 and st["delayed"] > 0
           and st["tags0"] and st["tags1"] and st["tags2"],
           "scenario: fragmented SIP and RTP over IPv4 and IPv6, with 0, 1 and 2 VLAN tags (%s)" % st)

    ref = td.capture_pcap("frag", pcap)
    tap.ok(ref[2].returncode == 0, "capture -r of the fragmented scenario", ref[2].stderr.decode()[-800:])
    rout = ref[2].stdout.decode("utf-8", "replace")
    ref_done = counter(rout, "ip_reassembled")
    tap.ok(ref_done >= st["dgrams_v4"] + st["dgrams_v6"],
           "capture -r: the engine reassembled %d datagrams (%d built)" % (ref_done, st["dgrams_v4"] + st["dgrams_v6"]))

    check_run(tap, "frag 1 worker", ref, td.capture_dpdk("frag1", "net_pcap0,rx_pcap=" + pcap), ref_done, 1)

    parts = [os.path.join(tmpd, "consent-frag-%d.pcap" % i) for i in range(2)]
    counts = split_by_pair(pcap, parts)
    tap.ok(all(counts), "split by directed IP pair into 2 files (%s frames)" % counts)
    check_run(tap, "frag 2 workers", ref,
              td.capture_dpdk("frag2", "net_pcap0,rx_pcap=%s,rx_pcap=%s" % tuple(parts), workers=2,
                              lcores="--lcores (0-2)@(0-1)"), ref_done, 2)

    stats_run(tap, pcap, tmpd)
    tap.done()


if __name__ == "__main__":
    main()
