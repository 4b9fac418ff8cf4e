"""Media building blocks: RTP header, RFC 4733 telephone-event, RTCP SR+SDES,
G.711 mu-law/A-law encoders (Sun reference algorithm), DTMF (ITU-T Q.23) tone synthesis,
low-level noise payload pools."""
import math
import struct

PTIME_US = 20000
CODECS = {  # name -> (static PT, clock)
    "PCMU": (0, 8000),
    "PCMA": (8, 8000),
    "G722": (9, 8000),
}
TEL_EVENT_PT = 101

_rtp_hdr = struct.Struct("!BBHII").pack


def rtp(pt, seq, ts, ssrc, payload, marker=False, version=2):
    return _rtp_hdr(version << 6, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                    ssrc) + payload


def tel_event(event, end, volume, duration):
    return struct.pack("!BBH", event, (0x80 if end else 0) | (volume & 0x3F), duration)


DTMF_EVENT = {d: i for i, d in enumerate("0123456789*#ABCD")}

Q23 = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def rtcp_sr_sdes(ssrc, ntp_s, ntp_frac, rtp_ts, pkts, octets, cname):
    sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, ntp_s, ntp_frac, rtp_ts & 0xFFFFFFFF,
                     pkts & 0xFFFFFFFF, octets & 0xFFFFFFFF)
    item = bytes([1, len(cname)]) + cname
    chunk = struct.pack("!I", ssrc) + item + b"\x00"
    while len(chunk) % 4:
        chunk += b"\x00"
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return sr + sdes


# ---- G.711 (Sun Microsystems public-domain reference) ----
_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _seg(val, table):
    for i, e in enumerate(table):
        if val <= e:
            return i
    return 8


def lin2ulaw(pcm):
    pcm >>= 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    if pcm > 8159:
        pcm = 8159
    pcm += 0x21
    seg = _seg(pcm, _SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def lin2alaw(pcm):
    pcm >>= 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _seg(pcm, _SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    if seg < 2:
        aval |= (pcm >> 1) & 0xF
    else:
        aval |= (pcm >> seg) & 0xF
    return aval ^ mask


def encode(codec, samples):
    f = lin2ulaw if codec == "PCMU" else lin2alaw
    return bytes(f(max(-32768, min(32767, int(s)))) for s in samples)


NOISE_AMP = 250  # < 1% of full scale


def noise_pool(rng, codec, n=64, size=160):
    """n pre-encoded payloads. G.711: low-level random noise; other codecs: random bytes."""
    if codec in ("PCMU", "PCMA"):
        return [encode(codec, (rng.randint(-NOISE_AMP, NOISE_AMP) for _ in range(size)))
                for _ in range(n)]
    return [rng.randbytes(size) for _ in range(n)]


TONE_AMP = 32767 * 10 ** (-8 / 20)  # -8 dBFS per tone (peak)


def dtmf_tone_payloads(rng, codec, digit, n_packets, size=160, rate=8000):
    """G.711 payloads carrying the Q.23 pair for `digit` (continuous phase) plus low noise."""
    f1, f2 = Q23[digit]
    out = []
    for p in range(n_packets):
        s = []
        for i in range(size):
            t = (p * size + i) / rate
            v = TONE_AMP * (math.sin(2 * math.pi * f1 * t) + math.sin(2 * math.pi * f2 * t))
            s.append(v + rng.randint(-NOISE_AMP, NOISE_AMP))
        out.append(encode(codec, s))
    return out
