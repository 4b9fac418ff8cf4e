#!/usr/bin/env bash
# make demo: generate a call-center capture with the bundled generator, analyze
# it with the default config, and show the calls (table and JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-out/demo}
mkdir -p "$OUT"
BIN=build/rel/rtpvault
echo "== generating a capture of overlapping calls (scripts/gen/rvgen.py, seed 1)"
python3 scripts/gen/rvgen.py --scenario analyze --seed 1 --out "$OUT"
echo "== checking the shipped config"
$BIN check-config -c etc/rtpvault.conf
echo "== rtpvault analyze $OUT/analyze.pcap -c etc/rtpvault.conf"
$BIN analyze "$OUT/analyze.pcap" -c etc/rtpvault.conf | tee "$OUT/analyze.txt" | head -60
echo "   ... (full table in $OUT/analyze.txt)"
$BIN analyze "$OUT/analyze.pcap" -c etc/rtpvault.conf --json --no-progress > "$OUT/analyze.json"
python3 - "$OUT/analyze.json" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
st = collections.Counter(c["state"] for c in d["calls"])
dt = collections.Counter(x["source"] for c in d["calls"] for x in c["dtmf"])
print("== %d calls: %s" % (len(d["calls"]), ", ".join("%s %d" % kv for kv in sorted(st.items()))))
print("   DTMF digits by source: %s" % ", ".join("%s %d" % kv for kv in sorted(dt.items())))
print("   JSON report: %s" % sys.argv[1])
PY
