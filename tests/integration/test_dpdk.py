#!/usr/bin/env python3
"""DPDK backend end to end, through DPDK's real EAL with virtual devices (docs/dpdk.md).

(a) offline: the consent scenario and 3 real captures, replayed with net_pcap (rx_pcap=FILE) by
    `capture --dpdk`, store the same calls with the same consent states, and export --format pcap
    gives the same multiset of (seq, payload) per call as the libpcap backend.
(b) the same with 2 RX lcores and the scenario split into 2 rx_pcap files by a hash of the
    directed 5-tuple (so both directions of a flow often land in different files/queues).
(c) live: net_af_packet on a veth pair inside a network namespace while tcpreplay plays the
    scenario: same calls, and every frame sent is accounted for (received = processed + drops).
(d) overload: ring_size = 64, 2 workers, net_pcap infinite_rx=1: received = processed +
    ring-full drops exactly, with drops > 0; `rtpvault stats` and the Prometheus endpoint answer
    while it runs.
Everywhere received also counts the IP fragments rte_ip_frag merged into a datagram or freed
(frag_absorbed, frag_freed, frag_held: see balanced(); test_dpdk_frag.py tests reassembly).

Skips (with a message) when the binary has no DPDK or EAL cannot start here.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

BIN = rvtest.BIN
EAL_BASE = "--no-huge -m 512 --no-pci --no-shconf --log-level=lib.eal:warning"
# real captures with calls and audio (recorded under an exempt-everything policy so that the
# payload comparison has substance), plus a Linux-SLL capture for the link-type path
REAL = ["rtppcap_SIP_DTMF2.pcap", "heplify_rtp_rtcp_sip_ipv4_udp.pcap", "rtppcap_sip-rtp-g722.pcap",
        "asterisk_ulaw-2013785496.pcap"]
EXEMPT_ALL = "[exempt]\ncallee_regex = .*\nbasis = legal obligation (test)\n"
_run_no = [0]


def rv(args, timeout=600, **kw):
    return subprocess.run([BIN] + list(args), capture_output=True, timeout=timeout, **kw)


def prefix():
    _run_no[0] += 1
    return "rvt%d_%d" % (os.getpid(), _run_no[0])


def clean_prefix(p):
    shutil.rmtree(os.path.join("/var/run/dpdk", p), ignore_errors=True)


def make_env(tag, extra=""):
    d = tempfile.mkdtemp(prefix="dpdk-%s-" % tag, dir=rvtest.TMP)
    conf = os.path.join(d, "rtpvault.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s\nkey_file = %s\n%s\n" % (os.path.join(d, "store"), os.path.join(d, "kek.key"),
                                                               extra))
    p = rv(["keys", "init", "-c", conf])
    if p.returncode != 0:
        raise RuntimeError("keys init: %s" % p.stderr.decode())
    return d, conf


def dpdk_section(eal, workers=1, extra=""):
    # DPDK needs root; capture refuses live capture as root unless allowed
    return "[service]\nallow_root = true\n[dpdk]\neal = %s\nworkers = %d\n%s\n" % (eal, workers, extra)


# ------------------------------------------------------------------ pcap (stdlib)
def read_pcap(path):
    """Classic pcap -> (header bytes, endian, nano, linktype, [(rec header, frame)])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a classic pcap")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0]
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], e, nano, link, recs


def write_pcap(path, hdr, recs):
    with open(path, "wb") as f:
        f.write(hdr)
        for h, fr in recs:
            f.write(h)
            f.write(fr)


def l3_of(link, fr):
    """-> (proto, src bytes, dst bytes, sport, dport, payload) for IPv4/IPv6 over Ethernet/SLL, or None."""
    if link == 1:
        off, et = 14, struct.unpack("!H", fr[12:14])[0] if len(fr) >= 14 else 0
        while et in (0x8100, 0x88A8) and len(fr) >= off + 4:
            et = struct.unpack("!H", fr[off + 2:off + 4])[0]
            off += 4
    elif link == 113:
        off, et = 16, struct.unpack("!H", fr[14:16])[0] if len(fr) >= 16 else 0
    else:
        return None
    if et == 0x0800 and len(fr) >= off + 20:
        ihl = (fr[off] & 15) * 4
        proto = fr[off + 9]
        src, dst = fr[off + 12:off + 16], fr[off + 16:off + 20]
        # MF or an offset: the first fragment is a fragment too (no ports for the split: a NIC's RSS
        # hashes every fragment by its addresses, so rte_ip_frag's per-queue tables see them all)
        frag = struct.unpack("!H", fr[off + 6:off + 8])[0] & 0x3FFF
        l4 = off + ihl
        if frag or proto not in (6, 17) or len(fr) < l4 + 4:
            return (proto, src, dst, 0, 0, b"")
    elif et == 0x86DD and len(fr) >= off + 40:
        proto = fr[off + 6]
        src, dst = fr[off + 8:off + 24], fr[off + 24:off + 40]
        l4 = off + 40
        if proto not in (6, 17) or len(fr) < l4 + 4:
            return (proto, src, dst, 0, 0, b"")
    else:
        return None
    sp, dp = struct.unpack("!HH", fr[l4:l4 + 4])
    pl = fr[l4 + 8:] if proto == 17 else b""
    return (proto, src, dst, sp, dp, pl)


def split_by_flow(src, outs):
    """Writes len(outs) pcaps: each frame goes to hash(directed 5-tuple) % n.  Non-IP frames and IP
    fragments go to file 0.  Returns the number of flows whose two directions were split."""
    hdr, _, _, link, recs = read_pcap(src)
    n = len(outs)
    parts = [[] for _ in outs]
    where = {}
    for h, fr in recs:
        t = l3_of(link, fr)
        if t is None or (t[3] == 0 and t[4] == 0):
            k = 0
        else:
            key = (t[0], t[1], t[2], t[3], t[4])
            k = int.from_bytes(hashlib.sha1(repr(key).encode()).digest()[:4], "big") % n
            where.setdefault(key, set()).add(k)
        parts[k].append((h, fr))
    for o, p in zip(outs, parts):
        write_pcap(o, hdr, p)
    split = 0
    for (pr, s, d, sp, dp), ks in where.items():
        rev = where.get((pr, d, s, dp, sp))
        if rev and rev != ks and (s, sp) < (d, dp):
            split += 1
    return split


def merged_fragments(path):
    """Frames the kernel merges by IPv4 reassembly: fragments - fragmented datagrams."""
    _, _, _, link, recs = read_pcap(path)
    frags, dgrams = 0, set()
    for _, fr in recs:
        if link != 1 or len(fr) < 34 or fr[12:14] != b"\x08\x00":
            continue
        fo = struct.unpack("!H", fr[20:22])[0]
        if fo & 0x3FFF:
            frags += 1
            dgrams.add((fr[26:34], fr[18:20], fr[23]))
    return frags - len(dgrams)


def rtp_of(pl):
    if len(pl) < 12 or pl[0] >> 6 != 2:
        return None
    cc = pl[0] & 15
    off = 12 + 4 * cc
    if pl[0] & 0x10:
        if len(pl) < off + 4:
            return None
        off += 4 + 4 * struct.unpack("!H", pl[off + 2:off + 4])[0]
    end = len(pl)
    if pl[0] & 0x20 and pl:
        end -= pl[-1]
    if off > end:
        return None
    return struct.unpack("!H", pl[2:4])[0], pl[off:end]


# ------------------------------------------------------------------ store views
def calls_view(conf):
    """{call_id: [(consent state, kept packets)...]} from calls --json (a Call-ID can repeat)."""
    p = rv(["calls", "-c", conf, "--json"])
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    out = {}
    for c in json.loads(p.stdout.decode()):
        out.setdefault(c["call_id"], []).append((c.get("consent", {}).get("state"), c.get("kept"),
                                                 c.get("packets")))
    for k in out:
        out[k].sort(key=repr)
    return out, ""


def exports(conf, d, call_ids):
    """{call_id: sorted [(seq, sha1(payload))]} of export --format pcap; calls with nothing kept -> None."""
    res = {}
    for cid in sorted(call_ids):
        od = os.path.join(d, "exp", hashlib.sha1(cid.encode()).hexdigest()[:12])
        os.makedirs(od, exist_ok=True)
        p = rv(["export", "-c", conf, cid, "--purpose", "dpdk test", "--format", "pcap", "-o", od])
        if p.returncode != 0:
            res[cid] = None
            continue
        got = []
        for fn in sorted(os.listdir(od)):
            if not fn.endswith(".pcap"):
                continue
            _, _, _, link, recs = read_pcap(os.path.join(od, fn))
            for _, fr in recs:
                t = l3_of(link, fr)
                if t is None or t[0] != 17:
                    continue
                r = rtp_of(t[5])
                if r:
                    got.append((r[0], hashlib.sha1(r[1]).hexdigest()))
        res[cid] = sorted(got)
    return res


def summary(text, key):
    m = re.search(r"%s\s+(\d+)" % re.escape(key), text)
    return int(m.group(1)) if m else None


def dpdk_line(err):
    """The capture summary's totals: (received, processed, ring_full_drops, imissed, rx_nombuf, ierrors,
    frag_absorbed, frag_freed, frag_held), or None."""
    m = re.search(r"dpdk received (\d+) processed (\d+) ring_full_drops (\d+) imissed (\d+) rx_nombuf (\d+) "
                  r"ierrors (\d+) frag_absorbed (\d+) frag_freed (\d+) frag_held (\d+)", err)
    return tuple(int(x) for x in m.groups()) if m else None


def balanced(acc):
    """received = processed + ring-full drops + fragments rte_ip_frag merged into a datagram (k - 1 of k),
    freed by its death row or still holds: every frame taken from a queue is accounted for."""
    return acc is not None and acc[0] == acc[1] + acc[2] + acc[6] + acc[7] + acc[8]


def capture_pcap(tag, pcap, extra=""):
    d, conf = make_env(tag + "-pcap", extra)
    p = rv(["capture", "-c", conf, "-r", pcap, "--no-progress"], timeout=900)
    return d, conf, p


def capture_dpdk(tag, vdev, workers=1, lcores="-l 0", extra=""):
    pf = prefix()
    eal = "%s %s --file-prefix %s --vdev %s" % (lcores, EAL_BASE, pf, vdev)
    d, conf = make_env(tag + "-dpdk", dpdk_section(eal, workers) + extra)
    try:
        p = rv(["capture", "-c", conf, "--dpdk", "--no-progress"], timeout=900)
    finally:
        clean_prefix(pf)
    return d, conf, p


def compare(tap, name, ref, got):
    """ref/got: (dir, conf, CompletedProcess)."""
    rd, rconf, rp = ref
    gd, gconf, gp = got
    err = gp.stderr.decode("utf-8", "replace")
    if not tap.ok(gp.returncode == 0, "%s: capture --dpdk exits 0" % name, err[-2000:]):
        return
    acc = dpdk_line(err)
    tap.ok(balanced(acc) and acc[2] == 0 and acc[8] == 0,
           "%s: received = processed + frag_absorbed + frag_freed, no drops on a replay, no fragment left held "
           "(%s)" % (name, acc), err[-1500:])
    rv_, e1 = calls_view(rconf)
    gv, e2 = calls_view(gconf)
    tap.ok(rv_ is not None and gv is not None, "%s: calls --json on both stores" % name, e1 + e2)
    if rv_ is None or gv is None:
        return
    tap.eq(sorted(gv), sorted(rv_), "%s: same calls (%d)" % (name, len(rv_)))
    tap.eq({k: [x[0] for x in v] for k, v in gv.items()}, {k: [x[0] for x in v] for k, v in rv_.items()},
           "%s: same consent states" % name)
    tap.eq(summary(gp.stdout.decode(), "packets kept"), summary(rp.stdout.decode(), "packets kept"),
           "%s: same packets kept" % name)
    re_ = exports(rconf, rd, rv_.keys())
    ge = exports(gconf, gd, gv.keys())
    diff = [k for k in re_ if re_[k] != ge.get(k)]
    tap.ok(not diff, "%s: export --format pcap: same (seq, payload) per call (%d calls, %d with audio)" % (
        name, len(re_), sum(1 for v in re_.values() if v)), "differs: %s" % diff[:5])


def eal_works(tap):
    pf = prefix()
    d, conf = make_env("probe", dpdk_section("-l 0 %s --file-prefix %s --vdev net_null0" % (EAL_BASE, pf)))
    try:
        p = subprocess.Popen([BIN, "capture", "-c", conf, "--dpdk", "--no-progress"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        clean_prefix(pf)
    err = err.decode("utf-8", "replace")
    return p.returncode == 0 and "dpdk received" in err, err


def require_dpdk(tap, what):
    """Ends the test (skipping what, with the reason) unless the binary has DPDK and the EAL starts."""
    v = rv(["version"]).stdout.decode()
    if "DPDK not built in" in v:
        tap.skip(what, "the binary has no DPDK (%s)" % v.strip())
        tap.done()
    ok, why = eal_works(tap)
    if not ok:
        tap.skip(what, "EAL cannot start here: %s" % why.strip()[-300:])
        tap.done()


def live_test(tap, pcap, workers=1):
    """workers > 1: net_af_packet with that many queue pairs (kernel fanout by flow hash) and the
    multi-worker pipeline."""
    L = "live" if workers == 1 else "live, %d workers" % workers
    if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("ip"):
        tap.skip("live af_packet capture", "needs root, ip and tcpreplay")
        return
    realtime = os.environ.get("RV_DPDK_LIVE_REALTIME") == "1"
    _, _, _, _, recs = read_pcap(pcap)
    span = int(struct.unpack("<I", recs[-1][0][:4])[0] - struct.unpack("<I", recs[0][0][:4])[0]) if recs else 0
    ns = "rvdp%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        tap.skip("live af_packet capture", "cannot create a network namespace")
        return
    pf = prefix()
    try:
        ipn = ["ip", "netns", "exec", ns]
        for cmd in (["ip", "link", "add", "va", "type", "veth", "peer", "name", "vb"],
                    ["ip", "link", "set", "va", "up"], ["ip", "link", "set", "vb", "up"],
                    ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]):
            subprocess.run(ipn + cmd, check=True)
        lc = "-l 0" if workers == 1 else "--lcores (0-%d)@(0-%d)" % (workers, max(0, (os.cpu_count() or 1) - 1))
        eal = "%s %s --file-prefix %s --vdev net_af_packet0,iface=vb,framecnt=8192,framesz=4096%s" % (
            lc, EAL_BASE, pf, ",qpairs=%d" % workers if workers > 1 else "")
        d, conf = make_env("live", dpdk_section(eal, workers))
        cap = subprocess.Popen(ipn + [BIN, "capture", "-c", conf, "--dpdk", "--no-progress"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        time.sleep(2.0)
        rate = ["-x", "1"] if realtime else ["--pps=20000"]
        rp = subprocess.run(ipn + ["tcpreplay", "-i", "va"] + rate + [pcap], capture_output=True, text=True,
                            timeout=3600)
        time.sleep(1.5)
        cap.send_signal(signal.SIGINT)
        out, err = cap.communicate(timeout=120)
        err = err.decode("utf-8", "replace")
        m = re.search(r"Actual: (\d+) packets", rp.stdout)
        sent = int(m.group(1)) if m else None
        tap.ok(rp.returncode == 0 and sent, L + ": tcpreplay sent %s packets" % sent, rp.stdout[-800:] + rp.stderr)
        tap.ok(cap.returncode == 0, L + ": capture --dpdk on net_af_packet stops cleanly on SIGINT", err[-1500:])
        acc = dpdk_line(err)
        tap.ok(balanced(acc), L + ": received = processed + ring-full drops + frag_absorbed + frag_freed + "
               "frag_held (%s)" % (acc,), err[-1000:])
        # net_af_packet's fanout defragments IP in the kernel: k fragments arrive as 1 frame
        merged = merged_fragments(pcap)
        if acc and sent:
            tap.eq(acc[0] + acc[3] + acc[4], sent - merged,
                   L + ": every frame sent is received or counted (sent %d - %d merged fragments = received + "
                   "imissed + nombuf)" % (sent, merged))
        lv, e = calls_view(conf)
        ref = capture_pcap("live-ref", pcap)
        rv_, _ = calls_view(ref[1])
        if lv is not None and rv_ is not None:
            lost = (acc[3] + acc[4] + acc[2]) if acc else 1
            tap.ok(sorted(lv) == sorted(rv_) or lost > 0, L + ": same calls as offline (%d vs %d), or drops counted "
                   "(%d)" % (len(lv), len(rv_), lost), "missing: %s" % sorted(set(rv_) - set(lv))[:5])
            tap.eq(summary(out.decode(), "rtp_packets"), summary(ref[2].stdout.decode(), "rtp_packets"),
                   L + ": the engine accepted the same RTP packets as offline")
            k_live = summary(out.decode(), "packets kept")
            k_off = summary(ref[2].stdout.decode(), "packets kept")
            st_l = {k: [x[0] for x in v] for k, v in lv.items()}
            st_o = {k: [x[0] for x in v] for k, v in rv_.items()}
            if realtime:
                tap.eq(st_l, st_o, L + " (real time): same consent states as offline")
                tap.eq(k_live, k_off, L + " (real time): same packets kept as offline")
            else:
                tap.diag(L + ": packets kept %s, offline %s; consent states differ on %d calls: live capture runs "
                         "on reception time and tcpreplay compresses the scenario's %d s into a few, so timer-based "
                         "consent outcomes (decision windows) can differ; RV_DPDK_LIVE_REALTIME=1 replays in real "
                         "time and checks them" % (k_live, k_off, sum(1 for k in st_o if st_l.get(k) != st_o[k]),
                                                   span))
        else:
            tap.ok(False, L + ": calls --json", e)
    finally:
        subprocess.run(["ip", "netns", "del", ns])
        clean_prefix(pf)


def overload_test(tap, pcap, tmpd):
    hdr, _, _, link, recs = read_pcap(pcap)
    small = os.path.join(tmpd, "small.pcap")
    write_pcap(small, hdr, recs[:3000])
    parts = [os.path.join(tmpd, "small-%d.pcap" % i) for i in range(2)]
    split_by_flow(small, parts)
    pf = prefix()
    vdev = "net_pcap0,%s,infinite_rx=1" % ",".join("rx_pcap=" + x for x in parts)
    port = 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eal = "--lcores (0-2)@(0-1) %s --file-prefix %s --vdev %s" % (EAL_BASE, pf, vdev)
    d, conf = make_env("overload", dpdk_section(eal, 2, "ring_size = 64\nburst = 64\n") +
                       "[stats]\nprometheus_port = %d\n" % port)
    try:
        cap = subprocess.Popen([BIN, "capture", "-c", conf, "--dpdk", "--no-progress"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        time.sleep(3.0)
        st = rv(["stats", "-c", conf])
        stt = st.stdout.decode("utf-8", "replace")
        tap.ok(st.returncode == 0 and "rtpvault_dpdk_queue_ring_full_drops" in stt and
               "rtpvault_engine_packets" in stt, "stats: rtpvault stats answers from the running capture",
               stt[-1500:] + st.stderr.decode())
        tap.ok(all('rtpvault_pipeline_worker_units{worker="%d"}' % w in stt and
                   'rtpvault_pipeline_worker_units_done{worker="%d"}' % w in stt for w in (0, 1)),
               "stats: the pipeline's per-worker numbers (2 workers)", stt[-1500:])
        sock = os.path.join(d, "store", "stats.sock")
        tap.ok(os.path.exists(sock) and (os.stat(sock).st_mode & 0o777) == 0o600, "stats: socket is mode 0600")
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
        except OSError as ex:
            body = "error: %s" % ex
        tap.ok("# TYPE rtpvault_dpdk_ring_full_drops counter" in body and "rtpvault_engine_rtp_packets" in body,
               "stats: Prometheus endpoint serves the counters", body[:1500])
        cap.send_signal(signal.SIGINT)
        out, err = cap.communicate(timeout=120)
    finally:
        clean_prefix(pf)
    err = err.decode("utf-8", "replace")
    tap.ok(cap.returncode == 0, "overload: capture stops cleanly on SIGINT", err[-1500:])
    st = rv(["stats", "-c", conf])
    tap.ok(st.returncode != 0 and b"no running capture" in st.stderr and not os.path.exists(sock),
           "stats: after the capture ended the socket is gone and stats says so", st.stderr.decode()[-300:])
    acc = dpdk_line(err)
    tap.ok(balanced(acc), "overload: received = processed + ring-full drops + frag_absorbed + frag_freed + "
           "frag_held, exactly (%s)" % (acc,), err[-1500:])
    tap.ok(acc is not None and acc[2] > 0, "overload: the tiny ring did overflow and it was counted")
    eng = summary(out.decode(), "packets")
    m = re.search(r"capture: (\d+) packets in", err)
    tap.ok(acc is not None and m and int(m.group(1)) == acc[1],
           "overload: the engine saw exactly the processed frames (%s)" % (m.group(1) if m else None), eng)
    per_q = re.findall(r"dpdk_queue_ring_full_drops\{[^}]*\} (\d+)", err)
    tap.ok(acc is not None and per_q and sum(int(x) for x in per_q) == acc[2], "overload: per-queue drops add up")


def main():
    tap = rvtest.Tap()
    nod = os.path.join(rvtest.ROOT, "build", "nodpdk", "rtpvault")
    if os.path.exists(nod):
        d, conf = make_env("nodpdk", dpdk_section("-l 0 %s --vdev net_null0" % EAL_BASE))
        p = subprocess.run([nod, "capture", "-c", conf, "--dpdk"], capture_output=True, timeout=60)
        tap.ok(p.returncode != 0 and b"this build has no DPDK support" in p.stderr,
               "a build without DPDK refuses capture --dpdk with a clear message", p.stderr.decode()[-500:])
    else:
        tap.skip("a build without DPDK refuses capture --dpdk", "build/nodpdk/rtpvault not built")
    require_dpdk(tap, "DPDK backend")
    tap.ok(True, "EAL starts with %s (net_null probe, SIGINT stop)" % EAL_BASE)

    # bad values give clear errors before EAL starts
    d, conf = make_env("bad", dpdk_section("-l 0 --no-huge -m 8 --no-pci --no-shconf", 1))
    p = rv(["capture", "-c", conf, "--dpdk"])
    e = p.stderr.decode()
    tap.ok(p.returncode != 0 and "-m 8 is too small" in e and "EAL:" not in e,
           "too small -m is refused before EAL starts", e[-800:])

    pcap, _ = rvtest.generate("consent", 11)
    tmpd = tempfile.mkdtemp(prefix="dpdk-split-", dir=rvtest.TMP)

    # (a) offline, one queue
    ref = capture_pcap("consent", pcap)
    compare(tap, "consent 1 queue", ref, capture_dpdk("consent", "net_pcap0,rx_pcap=" + pcap))
    for name in REAL:
        f = os.path.join(rvtest.PCAPS, name)
        if not os.path.exists(f):
            tap.skip("real capture %s" % name, "not present")
            continue
        compare(tap, name, capture_pcap(name, f, EXEMPT_ALL),
                capture_dpdk(name, "net_pcap0,rx_pcap=" + f, extra=EXEMPT_ALL))

    # (b) 2 RX lcores, 2 files split by flow
    parts = [os.path.join(tmpd, "consent-%d.pcap" % i) for i in range(2)]
    nsplit = split_by_flow(pcap, parts)
    tap.ok(nsplit > 0, "split: %d flows have their two directions in different files" % nsplit)
    compare(tap, "consent 2 workers", ref,
            capture_dpdk("consent2", "net_pcap0,rx_pcap=%s,rx_pcap=%s" % tuple(parts), workers=2,
                         lcores="--lcores (0-2)@(0-1)"))

    # (d) overload + stats
    overload_test(tap, pcap, tmpd)

    # (c) live
    live_test(tap, pcap)
    tap.done()


if __name__ == "__main__":
    main()
