"""Recorder end to end: consent gate, kept packets, exports, no leaks.

The generator's `consent` scenario (seed 11, scripts/gen/rvlib/consent.py) holds ~30 calls with
every consent signal (RFC 4733, SIP INFO dtmf-relay and application/dtmf, in-band tones, the
X-Recording-Consent header on the 200 OK / an INFO / a re-INVITE), refusals, timeouts, a
withdrawal, decoys (wrong party, digit after the window, stray RTP, orphan INFO), exempt callees,
pause/resume and unanswered calls.  Its truth holds, per call, the consent state expected under
the default config plus an [exempt] section, and exactly which (seq, sha256(payload)) the recorder
must keep with pre_consent_audio = keep and = discard.

For both modes: keys init, capture -r, calls --json (state/method/party/value per call), export
--format pcap per call (kept set compared exactly; in-band decisions may start anywhere within the
detector's window; calls with nothing kept: export fails and writes nothing), a leak scan of the
whole store and of capture's output (every 16-byte window of the payloads of calls that must not be
kept, every phone number), pending_bytes_persisted_without_consent = 0, and for G.711 calls the
WAV export compared sample for sample with an independent sox decode of the exported pcap.

This module also holds the helpers used by test_crash.py, test_tamper.py and test_keys.py.
"""
import array
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

EXEMPT_SECTION = "[exempt]\ncallee_prefixes = 110, 120\nbasis = legal obligation (emergency services)\n"


# ------------------------------------------------------------------ recorder helpers
def make_env(tag, mode="keep", extra_consent="", key=True):
    """Fresh temp dir with a config; returns (dir, conf path, store path, key path)."""
    d = tempfile.mkdtemp(prefix="rec-%s-" % tag, dir=rvtest.TMP)
    store = os.path.join(d, "store")
    keyf = os.path.join(d, "kek.key")
    conf = os.path.join(d, "rtpvault.conf")
    with open(conf, "w") as f:
        f.write("[consent]\npre_consent_audio = %s\n%s\n" % (mode, extra_consent))
        f.write(EXEMPT_SECTION)
        f.write("\n[storage]\npath = %s\nkey_file = %s\n" % (store, keyf))
    if key:
        p = rv(["keys", "init", "-c", conf])
        if p.returncode != 0:
            raise RuntimeError("keys init failed: %s" % p.stderr.decode("utf-8", "replace"))
    return d, conf, store, keyf


def rv(args, timeout=600):
    return subprocess.run([rvtest.BIN] + list(args), capture_output=True, timeout=timeout)


def capture(conf, pcap, timeout=900):
    return rv(["capture", "-c", conf, "-r", pcap], timeout=timeout)


def calls_json(conf):
    p = rv(["calls", "-c", conf, "--json"])
    try:
        return p.returncode, json.loads(p.stdout.decode("utf-8")), p.stderr.decode("utf-8", "replace")
    except (ValueError, UnicodeDecodeError):
        return p.returncode, None, p.stderr.decode("utf-8", "replace") + p.stdout[:500].decode("utf-8", "replace")


def export(conf, call_id, outdir, fmt="pcap", purpose="test"):
    """The spec does not say whether export creates -o DIR: it is created (empty) beforehand."""
    os.makedirs(outdir, exist_ok=True)
    p = rv(["export", "-c", conf, call_id, "--purpose", purpose, "--format", fmt, "-o", outdir])
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def files_in(d):
    out = []
    if os.path.isdir(d):
        for root, _, fs in os.walk(d):
            out += [os.path.join(root, f) for f in fs]
    return sorted(out)


def summary_counter(text, name):
    m = re.search(r"%s\D{0,20}?(-?\d+)" % re.escape(name), text)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------ pcap / RTP reader (stdlib)
def read_pcap(path):
    """Classic pcap (either byte order, us or ns) -> list of (time float, linktype, frame bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("pcap too short")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a classic pcap (magic %s)" % magic.hex())
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0]
    out = []
    off = 24
    while off + 16 <= len(data):
        s, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            raise ValueError("truncated record")
        out.append((s + frac / (1e9 if nano else 1e6), link, data[off:off + incl]))
        off += incl
    return out


def _ip6_str(b):
    import ipaddress
    return str(ipaddress.IPv6Address(b))


def udp_of(link, fr):
    """-> (src 'ip:port', dst 'ip:port', udp payload) or None."""
    if link == 1:
        et = struct.unpack("!H", fr[12:14])[0]
        p = 14
        while et in (0x8100, 0x88A8, 0x9100):
            et = struct.unpack("!H", fr[p + 2:p + 4])[0]
            p += 4
    elif link == 113:
        et, p = struct.unpack("!H", fr[14:16])[0], 16
    elif link == 276:
        et, p = struct.unpack("!H", fr[0:2])[0], 20
    elif link in (101, 12, 228, 229):
        et, p = (0x86DD if fr[0] >> 4 == 6 else 0x0800), 0
    else:
        return None
    if et == 0x0800:
        ihl = (fr[p] & 15) * 4
        if fr[p + 9] != 17:
            return None
        src, dst = ".".join(map(str, fr[p + 12:p + 16])), ".".join(map(str, fr[p + 16:p + 20]))
        u = p + ihl
        tot = struct.unpack("!H", fr[p + 2:p + 4])[0]
        end = p + tot
    elif et == 0x86DD:
        if fr[p + 6] != 17:
            return None
        src, dst = "[%s]" % _ip6_str(fr[p + 8:p + 24]), "[%s]" % _ip6_str(fr[p + 24:p + 40])
        u = p + 40
        end = u + struct.unpack("!H", fr[p + 4:p + 6])[0]
    else:
        return None
    sp, dp, ln = struct.unpack("!HHH", fr[u:u + 6])
    return "%s:%d" % (src, sp), "%s:%d" % (dst, dp), fr[u + 8:min(end, u + ln)]


def rtp_of(pl):
    """-> dict(pt, seq, ts, ssrc, marker, payload) or None."""
    if len(pl) < 12 or pl[0] >> 6 != 2:
        return None
    cc = pl[0] & 15
    off = 12 + 4 * cc
    if pl[0] & 0x10:
        if len(pl) < off + 4:
            return None
        off += 4 + 4 * struct.unpack("!H", pl[off + 2:off + 4])[0]
    end = len(pl)
    if pl[0] & 0x20:
        end -= pl[-1]
    if off > end:
        return None
    seq, ts, ssrc = struct.unpack("!HII", pl[2:12])
    return {"pt": pl[1] & 0x7F, "marker": bool(pl[1] & 0x80), "seq": seq, "ts": ts, "ssrc": ssrc,
            "payload": pl[off:end]}


def exported_rtp(paths):
    """All RTP packets of exported pcaps: list of (time, src, dst, rtp dict)."""
    out = []
    for path in paths:
        for t, link, fr in read_pcap(path):
            u = udp_of(link, fr)
            if u is None:
                continue
            r = rtp_of(u[2])
            if r is not None:
                out.append((t, u[0], u[1], r))
    return out


def stream_sets(truth_call, pkts):
    """Map exported packets to the truth's streams -> ({idx: sorted [(seq, sha)]}, unmatched count)."""
    idx = {(s["src"], s["dst"]): i for i, s in enumerate(truth_call["streams"])}
    got, unmatched = {}, 0
    for _, src, dst, r in pkts:
        i = idx.get((src, dst))
        if i is None:
            unmatched += 1
            continue
        got.setdefault(str(i), []).append((r["seq"], hashlib.sha256(r["payload"]).hexdigest()))
    return {k: sorted(v) for k, v in got.items()}, unmatched


def compare_kept(truth_call, mode, got):
    """Problems (list of str) comparing the exported {idx: [(seq, sha)]} with truth kept[mode]."""
    want = {k: sorted(tuple(x) for x in v) for k, v in truth_call["kept"][mode].items()}
    probs = []
    if mode == "discard" and truth_call.get("inband_decision"):
        win = {(k, s) for k, v in truth_call.get("window_packets", {}).items() for s, _ in v}
        wtime = sorted((t, k, s) for k, v in truth_call.get("window_packets", {}).items() for s, t in v)
        allw = {k: set(v) for k, v in want.items()}
        for k, v in got.items():
            extra = set(v) - allw.get(k, set())
            if extra:
                probs.append("stream %s: %d packets kept that must not be (e.g. %r)" % (k, len(extra), sorted(extra)[:3]))
            if len(v) != len(set(v)):
                probs.append("stream %s: duplicate packets in export" % k)
        for k, v in want.items():
            missing = [x for x in v if x not in set(got.get(k, [])) and (k, x[0]) not in win]
            if missing:
                probs.append("stream %s: %d packets after the decision window missing (e.g. %r)" % (k, len(missing), missing[:3]))
        gotseq = {(k, s) for k, v in got.items() for s, _ in v}
        flags = [(k, s) in gotseq for _, k, s in wtime]
        if flags != sorted(flags):
            probs.append("kept packets inside the decision window are not a time suffix: %r" % flags)
        return probs
    for k in sorted(set(want) | set(got), key=int):
        w, g = want.get(k, []), got.get(k, [])
        if w != g:
            sw, sg = set(w), set(g)
            probs.append("stream %s (%s): want %d got %d; missing %d (e.g. %r), extra %d (e.g. %r)%s" % (
                k, truth_call["streams"][int(k)]["party"], len(w), len(g), len(sw - sg), sorted(sw - sg)[:2],
                len(sg - sw), sorted(sg - sw)[:2], "; duplicates in export" if len(g) != len(sg) else ""))
    return probs


def record_files(outdir, recs, ext):
    return [os.path.join(outdir, "%s.%s" % (r["record_id"], ext)) for r in recs]


def check_consent(tap, mode, tc, recs):
    w = tc["consent"]
    if not recs:
        tap.ok(False, "%s: call %s (%s) listed by calls --json" % (mode, tc["call_id"][:24], tc["scenario_kind"]))
        return
    g = recs[0].get("consent") or {}
    probs = []
    for k in ("state", "method"):
        if g.get(k) != w[k]:
            probs.append("%s: got %r want %r" % (k, g.get(k), w[k]))
    if w["state"] in ("granted", "denied", "withdrawn"):
        if g.get("party") != w["party"]:
            probs.append("party: got %r want %r" % (g.get("party"), w["party"]))
    if w["state"] in ("granted", "denied"):
        if str(g.get("value")).lower() != str(w["value"]).lower():
            probs.append("value: got %r want %r" % (g.get("value"), w["value"]))
        if w["method"] != "inband" and w["time"] is not None and (
                g.get("time") is None or abs(g["time"] - w["time"]) > 0.0005):
            probs.append("time: got %r want %r" % (g.get("time"), w["time"]))
    if w["state"] == "exempt" and g.get("basis") != w["basis"]:
        probs.append("basis: got %r want %r" % (g.get("basis"), w["basis"]))
    if any(not r.get("complete") for r in recs):
        probs.append("complete is not true after a clean capture")
    tap.ok(not probs, "%s: consent of %s (%s): %s/%s" % (mode, tc["call_id"][:20], tc["scenario_kind"], w["state"],
                                                         w["method"]), "\n".join(probs))


# ------------------------------------------------------------------ leak scan
def windows16(hex_payloads):
    ws = set()
    for h in hex_payloads:
        b = bytes.fromhex(h)
        for i in range(len(b) - 15):
            ws.add(b[i:i + 16])
    return ws


def scan_bytes(data, ws, needles):
    """-> (number of 16-byte windows of data found in ws, {needle: count})."""
    hits = 0
    if ws:
        mv = data
        for i in range(len(mv) - 15):
            if mv[i:i + 16] in ws:
                hits += 1
    nh = {n: data.count(n) for n in needles if data.count(n)}
    return hits, nh


def leak_scan(paths_and_blobs, ws, needles):
    res = []
    for name, data in paths_and_blobs:
        h, nh = scan_bytes(data, ws, needles)
        if h or nh:
            res.append("%s: %d payload windows, numbers %r" % (name, h, {k.decode(): v for k, v in nh.items()}))
    return res


# ------------------------------------------------------------------ WAV check
def sox_decode(codec, payload):
    with tempfile.TemporaryDirectory(dir=rvtest.TMP) as d:
        src, dst = os.path.join(d, "in.raw"), os.path.join(d, "out.raw")
        with open(src, "wb") as f:
            f.write(payload)
        t = "ul" if codec == "PCMU" else "al"
        p = subprocess.run(["sox", "-t", t, "-r", "8000", "-c", "1", src, "-t", "s16", "-e", "signed",
                            "-b", "16", "-L", dst], capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("sox: %s" % p.stderr.decode())
        a = array.array("h")
        with open(dst, "rb") as f:
            a.frombytes(f.read())
        if sys.byteorder == "big":
            a.byteswap()
        return a


def check_wav_channel(chan, pkts, codec):
    """chan: array of samples; pkts: exported RTP of one party, audio PT only. -> problems."""
    if not pkts:
        return []
    # unwrap seq in capture order
    ext, last, base = [], None, 0
    for r in pkts:
        s = r["seq"]
        if last is not None and s < last and last - s > 30000:
            base += 65536
        ext.append((s + base, r))
        last = s
    ext.sort(key=lambda x: x[0])
    audio = [(s, r) for s, r in ext if r["pt"] in (0, 8)]
    events = {s for s, r in ext if r["pt"] not in (0, 8)}
    if not audio:
        return []
    dec = sox_decode(codec, b"".join(r["payload"] for _, r in audio))
    ref = [dec[i * 160:(i + 1) * 160] for i in range(len(audio))]
    cb = chan.tobytes()
    first = ref[0].tobytes()
    pos = cb.find(first)
    while pos >= 0 and pos % 2:
        pos = cb.find(first, pos + 1)
    if pos < 0:
        return ["first kept packet's samples (seq %d) not found in the WAV channel" % audio[0][1]["seq"]]
    off0 = pos // 2
    ts0 = audio[0][1]["ts"]
    probs = []
    for (s, r), want in zip(audio, ref):
        o = off0 + ((r["ts"] - ts0) & 0xFFFFFFFF)
        got = chan[o:o + len(want)]
        if got != want:
            probs.append("seq %d: samples differ at WAV offset %d" % (r["seq"], o))
            if len(probs) > 5:
                break
    # lost packets (seq gap without telephone-events, consistent timestamps) must be silence
    for (sa, ra), (sb, rb) in zip(audio, audio[1:]):
        if sb - sa > 1 and not any(sa < e < sb for e in events) and \
                ((rb["ts"] - ra["ts"]) & 0xFFFFFFFF) == 160 * (sb - sa):
            o = off0 + ((ra["ts"] - ts0) & 0xFFFFFFFF) + 160
            gap = chan[o:o + 160 * (sb - sa - 1)]
            if any(gap):
                probs.append("missing seq %d..%d: WAV not silent" % (sa + 1, sb - 1))
    return probs


def wav_check(tap, mode, tc, conf, recs):
    codec = tc["streams"][0]["codec"]
    outdir = tempfile.mkdtemp(prefix="wav-", dir=rvtest.TMP)
    rc, _, err = export(conf, tc["call_id"], outdir, "all")
    if not tap.ok(rc == 0, "%s: export --format all of %s" % (mode, tc["scenario_kind"]), err[-1500:]):
        return
    probs = []
    for r in recs:
        wp = os.path.join(outdir, "%s.wav" % r["record_id"])
        pp = os.path.join(outdir, "%s.pcap" % r["record_id"])
        if not (os.path.exists(wp) and os.path.exists(pp)):
            probs.append("missing %s or %s" % (wp, pp))
            continue
        with wave.open(wp) as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (2, 2, 8000):
                probs.append("WAV format %r, want stereo 16-bit 8000 Hz" % ((w.getnchannels(), w.getsampwidth(),
                                                                           w.getframerate()),))
                continue
            a = array.array("h")
            a.frombytes(w.readframes(w.getnframes()))
            if sys.byteorder == "big":
                a.byteswap()
        left, right = a[0::2], a[1::2]
        pk = exported_rtp([pp])
        party_of = {(s["src"], s["dst"]): s["party"] for s in tc["streams"]}
        for party, chan in (("caller", left), ("callee", right)):
            mine = [r for _, s, d, r in pk if party_of.get((s, d)) == party]
            probs += ["%s channel: %s" % (party, p) for p in check_wav_channel(chan, mine, codec)]
    tap.ok(not probs, "%s: WAV of %s matches sox decode of the exported pcap (%s)" % (
        mode, tc["scenario_kind"], codec), "\n".join(probs))
    shutil.rmtree(outdir, ignore_errors=True)


# ------------------------------------------------------------------ main test
def run_mode(tap, mode, pcap, truth):
    d, conf, store, _ = make_env("consent-" + mode, mode)
    p = capture(conf, pcap)
    out = p.stdout.decode("utf-8", "replace")
    if not tap.ok(p.returncode == 0, "%s: capture -r consent.pcap exits 0" % mode,
                  p.stderr.decode("utf-8", "replace")[-2000:]):
        return
    tap.diag("%s capture summary:\n%s" % (mode, out[-1500:]))
    tap.eq(summary_counter(out, "pending_bytes_persisted_without_consent"), 0,
           "%s: summary reports pending_bytes_persisted_without_consent 0" % mode)
    # leak scan first, before exports touch anything
    ws = set()
    for cid in truth["must_not_keep"]:
        ws |= windows16(truth["leak_payloads"][cid])
    needles = [n.encode() for n in truth["numbers"]]
    blobs = [("capture stdout", p.stdout), ("capture stderr", p.stderr)]
    for f in files_in(store):
        with open(f, "rb") as fh:
            blobs.append((f, fh.read()))
    tap.ok(len(blobs) > 2, "%s: the store holds files (%d)" % (mode, len(blobs) - 2))
    tap.ok(len(ws) > 1000, "%s: leak scan set built (%d windows of %d calls)" % (mode, len(ws),
                                                                                 len(truth["must_not_keep"])))
    leaks = leak_scan(blobs, ws, needles)
    tap.ok(not leaks, "%s: no payload window of a call not to be kept and no phone number in the store or "
                      "capture output (%d bytes scanned)" % (mode, sum(len(b) for _, b in blobs)), "\n".join(leaks))
    rc, calls, err = calls_json(conf)
    if not tap.ok(rc == 0 and isinstance(calls, list), "%s: calls --json" % mode, err[-1500:]):
        return
    by = {}
    for c in calls:
        by.setdefault(c.get("call_id"), []).append(c)
    tap.eq(sorted(set(by) - {truth["orphan_info_call_id"]}), sorted(c["call_id"] for c in truth["calls"]),
           "%s: calls --json lists exactly the truth's calls" % mode)
    have_sox = shutil.which("sox") is not None
    wav_done = 0
    for tc in truth["calls"]:
        recs = by.get(tc["call_id"], [])
        check_consent(tap, mode, tc, recs)
        if not recs:
            continue
        want_total = sum(len(v) for v in tc["kept"][mode].values())
        got_total = sum(s.get("packets_kept", 0) for r in recs for s in r.get("streams", []))
        if tc.get("inband_decision") and mode == "discard":
            nwin = sum(len(v) for v in tc["window_packets"].values())
            tap.ok(want_total - nwin <= got_total <= want_total, "%s: packets_kept of %s within [%d, %d] (is %d)" % (
                mode, tc["scenario_kind"], want_total - nwin, want_total, got_total))
        else:
            tap.eq(got_total, want_total, "%s: packets_kept of %s" % (mode, tc["scenario_kind"]))
        outdir = os.path.join(d, "export", tc["call_id"].split("@")[0])
        rc, _, err = export(conf, tc["call_id"], outdir)
        if want_total == 0:
            tap.ok(rc != 0 and not files_in(outdir), "%s: export of %s (%s, nothing kept) fails and writes nothing" % (
                mode, tc["scenario_kind"], tc["consent"]["state"]), "rc %d, files %r, stderr %s" % (
                rc, files_in(outdir), err[-300:]))
            tap.ok("nothing was recorded" in err, "%s: export of %s says nothing was recorded" % (
                mode, tc["scenario_kind"]), err[-300:])
            continue
        pcaps = record_files(outdir, recs, "pcap")
        if not tap.ok(rc == 0 and all(os.path.exists(x) for x in pcaps), "%s: export pcap of %s" % (
                mode, tc["scenario_kind"]), "rc %d, files %r, stderr %s" % (rc, files_in(outdir), err[-800:])):
            continue
        man = os.path.join(outdir, "manifest.json")
        mtext = open(man).read() if os.path.exists(man) else ""
        shas = [hashlib.sha256(open(x, "rb").read()).hexdigest() for x in pcaps]
        tap.ok(mtext and all(s in mtext for s in shas), "%s: manifest.json of %s holds the pcap's sha256" % (
            mode, tc["scenario_kind"]))
        pk = exported_rtp(pcaps)
        got, unmatched = stream_sets(tc, pk)
        probs = compare_kept(tc, mode, got)
        if unmatched:
            probs.append("%d exported RTP packets on no truth stream" % unmatched)
        tap.ok(not probs, "%s: exported packets of %s = truth kept set (%d packets)" % (
            mode, tc["scenario_kind"], want_total), "\n".join(probs))
        if tc["streams"][0]["codec"] in ("PCMU", "PCMA") and (wav_done < 12 or "loss" in tc["scenario_kind"]):
            if have_sox:
                wav_check(tap, mode, tc, conf, recs)
                wav_done += 1
            elif wav_done == 0:
                tap.skip("%s: WAV compared with sox" % mode, "sox not installed")
                wav_done = 1
    # the orphan INFO must not have created anything kept
    orphan = by.get(truth["orphan_info_call_id"], [])
    tap.ok(all(sum(s.get("packets_kept", 0) for s in r.get("streams", [])) == 0 for r in orphan),
           "%s: orphan INFO (Signal=1, unknown Call-ID) keeps nothing" % mode)
    shutil.rmtree(d, ignore_errors=True)


def main():
    tap = rvtest.Tap()
    try:
        pcap, truth = rvtest.generate("consent", 11)
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "generator writes the consent scenario", str(e))
        tap.done()
    for mode in ("keep", "discard"):
        run_mode(tap, mode, pcap, truth)
    tap.done()


if __name__ == "__main__":
    main()
