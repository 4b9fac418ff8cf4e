"""analyze --json against tshark ground truth for every public capture in
../shared/testdata/pcaps (skipped with a message when that folder is absent).

Compared per capture:
  * the frame count (capinfos) equals the engine's "packets" counter;
  * the calls: one per Call-ID carrying an INVITE, with From/To user parts
    (tshark's table truncates Call-ID to 45 and users to 20 characters, so
    those compare as prefixes) and an outcome consistent with the first
    final response;
  * the SDP-driven RTP streams: packets per (src, dst) endpoint pair, audio
    plus telephone-event packets, against tshark's "Pkts" summed over SSRCs;
  * RFC 4733 digits: distinct (SSRC, RTP timestamp) events among the SSRCs
    of the streams the engine attached to calls;
  * RTP that no signalling announced ("orphan_streams"): tshark's heuristic
    RTP streams that belong to no call, packets per endpoint pair, and their
    digits (payload type 101, as tshark assumes).
Where tshark's picture cannot be matched by design the expected values used
are stated in EXPECT below and explained in docs/analyze-json.md.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

# Per-capture expectations that differ from a literal reading of the truth
# file, each with its reason (see docs/analyze-json.md, "Differences from tshark").
EXPECT = {
    # Frames 2945/2946 carry SDP in a non-SIP protocol (MGCP): tshark's SDP
    # dissector uses it to decode 6 packets 200.57.7.202:30000 ->
    # 200.57.7.196:40362 as RTP.  rtpvault follows SIP dialogs only, so that
    # stream belongs to no call and is counted in udp_unmatched.
    "heplify_rtp_rtcp_sip_ipv4_udp.pcap": {
        "streams": [
            {"src": "200.57.7.196:40376", "dst": "200.57.7.204:8000", "pkts": 891},
            {"src": "200.57.7.204:8000", "dst": "200.57.7.196:40376", "pkts": 548},
        ],
    },
    # The INVITE says "Content-Length: bad".  RFC 3261 sec. 20.14 allows only
    # digits; a proxy answers such a request with 400 and no call exists.
    # rtpvault drops the message and counts it (sip_bad_content_length), so
    # the capture holds no call.
    "zeek_invalid-content-length.pcap": {"calls": []},
}


def parse_truth(path):
    t = {"calls": [], "streams": [], "hstreams": [], "events": [], "packets": None}
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    section = None
    header = None
    for line in lines:
        m = re.match(r"capinfos: Number of packets:\s+(\d+)", line)
        if m:
            t["packets"] = int(m.group(1))
        if line.startswith("## "):
            if "voip,calls" in line:
                section = "calls"
            elif line.startswith("## tshark -r F -q -z rtp,streams"):
                section = "streams"
            elif "heuristic rtp_udp -q -z rtp,streams" in line:
                section = "hstreams"
            elif "heuristic rtp_udp -Y rtpevent" in line:
                section = "events"
            else:
                section = None
            header = None
            continue
        if section == "calls":
            if line.startswith("#      1stFrame"):
                header = line
                continue
            if header and re.match(r"^\d+\s", line):
                cols = {}
                names = ["1stFrame", "Call-ID", "From", "To"]
                starts = [header.index(n) for n in names] + [header.index("INVITEs")]
                for i, n in enumerate(names):
                    cols[n] = line[starts[i]:starts[i + 1]].strip()
                tail = line[starts[-1]:].split()
                for n, v in zip(["INVITEs", "inDlgINV", "final", "BYE", "INFOs"], tail):
                    cols[n] = v
                t["calls"].append(cols)
        elif section in ("streams", "hstreams"):
            m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(.*?)\s+(\d+)\s+-?\d+ \(", line)
            if m:
                t[section].append({"src": fmt_ep(m.group(1), m.group(2)), "dst": fmt_ep(m.group(3), m.group(4)),
                                   "ssrc": int(m.group(5), 16), "payload": m.group(6), "pkts": int(m.group(7))})
        elif section == "events":
            parts = line.split("\t")
            if len(parts) >= 5 and parts[0].isdigit():
                t["events"].append({"frame": int(parts[0]), "ssrc": int(parts[1], 16), "ts": int(parts[2]),
                                    "event": int(parts[3])})
    return t


def fmt_ep(ip, port):
    return ("[%s]:%s" % (ip, port)) if ":" in ip else ("%s:%s" % (ip, port))


DIGITS = "0123456789*#ABCD"


def main():
    tap = rvtest.Tap()
    if not os.path.isdir(rvtest.PCAPS):
        tap.skip("public captures", "%s not found (CI provides ../shared)" % rvtest.PCAPS)
        tap.done()
    files = sorted(f for f in os.listdir(rvtest.PCAPS) if f.endswith((".pcap", ".pcapng")))
    for name in files:
        path = os.path.join(rvtest.PCAPS, name)
        truth_path = path + ".truth.txt"
        if not os.path.exists(truth_path):
            tap.skip(name, "no truth file")
            continue
        truth = parse_truth(truth_path)
        exp = EXPECT.get(name, {})
        rc, out, err = rvtest.analyze(path)
        if not tap.ok(rc == 0 and out is not None, "%s: analyze --json succeeds with one JSON object" % name,
                      err[-1500:]):
            continue
        arc, aout, aerr = rvtest.analyze(path, binary=rvtest.ASAN_BIN)
        tap.ok(arc == 0 and aout == out, "%s: ASan+UBSan build runs clean and agrees" % name, aerr[-3000:])
        tap.eq(out["counters"]["packets"], truth["packets"], "%s: every frame counted" % name)

        # calls
        want_calls = exp.get("calls", truth["calls"])
        got = out["calls"]
        detail = "got: %r\nwant: %r" % ([(c["call_id"], c["caller"], c["callee"], c["state"], c["status"])
                                          for c in got],
                                         [(c["Call-ID"], c["From"], c["To"], c["final"]) for c in want_calls])
        matched = []
        for w in want_calls:
            cands = [c for c in got if c["call_id"].startswith(w["Call-ID"])
                     and c["caller"].startswith(w["From"]) and c["callee"].startswith(w["To"])]
            matched.append(cands[0] if len(cands) == 1 else None)
        tap.ok(len(got) == len(want_calls) and all(matched), "%s: %d call(s) with Call-ID, caller, callee" %
               (name, len(want_calls)), detail)
        states_ok = True
        for w, c in zip(want_calls, matched):
            if c is None:
                continue
            final = w["final"]
            if "state" in w:
                states_ok &= c["state"] == w["state"]
            elif final == "-":
                states_ok &= c["status"] is None and c["state"] == "unanswered"
            elif final.startswith("2"):
                states_ok &= c["state"] == "answered"
            elif int(w["INVITEs"]) > 1 and final in ("401", "407"):
                # authentication challenge, then a new INVITE on the same Call-ID
                states_ok &= c["status"] is not None
            elif w["BYE"] == "CANCEL":
                states_ok &= c["state"] == "cancelled"
            else:
                states_ok &= c["status"] == int(final)
        tap.ok(states_ok, "%s: call outcomes agree with the final responses" % name, detail)

        # SDP-driven streams, packets per endpoint pair
        want_streams = {}
        for s in exp.get("streams", truth["streams"]):
            key = (s["src"], s["dst"])
            want_streams[key] = want_streams.get(key, 0) + s["pkts"]
        got_streams = {}
        our_ssrcs = set()
        for c in got:
            for s in c["streams"]:
                key = (s["src"], s["dst"])
                got_streams[key] = got_streams.get(key, 0) + s["packets"] + s["event_packets"]
                our_ssrcs.update(int(x, 16) for x in s["ssrcs"])
        tap.eq(got_streams, want_streams, "%s: RTP streams and packet counts (SDP-driven)" % name)

        # RFC 4733 digits
        seen = []
        keys = set()
        for ev in truth["events"]:
            if ev["ssrc"] not in our_ssrcs and "digits" not in exp:
                continue
            k = (ev["ssrc"], ev["ts"])
            if k in keys:
                continue
            keys.add(k)
            seen.append(DIGITS[ev["event"]] if ev["event"] < 16 else "?")
        want_digits = exp.get("digits", seen)
        got_digits = [d["digit"] for c in got for d in c["dtmf"] if d["source"] == "rfc4733"]
        tap.eq(got_digits, want_digits, "%s: RFC 4733 digits" % name)

        # RTP without signalling: tshark's heuristic streams that belong to no call
        want_orph = {}
        for s in truth["hstreams"]:
            key = (s["src"], s["dst"])
            if key not in got_streams:
                want_orph[key] = want_orph.get(key, 0) + s["pkts"]
        orph = out.get("orphan_streams", [])
        got_orph = {(o["src"], o["dst"]): o["packets"] + o["event_packets"] for o in orph}
        tap.eq(got_orph, want_orph, "%s: streams without signalling (vs tshark's heuristic RTP)" % name)
        osr = {int(x, 16) for o in orph for x in o["ssrcs"]}
        keys, want_od = set(), []
        for ev in truth["events"]:
            k = (ev["ssrc"], ev["ts"])
            if ev["ssrc"] in osr and k not in keys:
                keys.add(k)
                if ev["event"] < 16:  # ids above 15 are not DTMF digits
                    want_od.append(DIGITS[ev["event"]])
        tap.eq([d["digit"] for o in orph for d in o["dtmf"]], want_od,
               "%s: RFC 4733 digits of streams without signalling" % name)
    tap.done()


if __name__ == "__main__":
    main()
