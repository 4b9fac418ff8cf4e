#!/usr/bin/env bash
# make bench: rtpvault analyze on a ~10^6-packet generated call-center capture,
# side by side with tcpdump (libpcap read floor) and tshark (what an engineer
# runs to get the same call/stream picture), each the median of RUNS runs.
# Writes the table to docs/performance.md (between the BENCH markers).
# Timings are reported, never asserted: these machines are shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-build/bench}
BIN=build/rel/rtpvault
mkdir -p "$OUT"
PCAP=$OUT/perf.pcap
if [ ! -f "$PCAP" ]; then
  echo "generating the workload (scripts/gen/rvgen.py --scenario perf)"
  python3 scripts/gen/rvgen.py --scenario perf --seed 3 --out "$OUT" >/dev/null
fi
PKTS=$(python3 -c "import json;print(json.load(open('$OUT/perf.truth.json'))['packets'])")

# median_seconds CMD...: runs CMD RUNS times, prints "median min max"
median_seconds() {
  local ts=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'
}

echo "workload: $PCAP, $PKTS packets"
read -r A_MED A_MIN A_MAX < <(median_seconds "$BIN" analyze "$PCAP" --json --no-progress)
read -r C_MED C_MIN C_MAX < <(median_seconds tcpdump -r "$PCAP" -w /dev/null)
read -r T_MED T_MIN T_MAX < <(median_seconds tshark -r "$PCAP" -q -z sip,stat -z rtp,streams)
rate() { echo "$PKTS / $1" | bc -l | awk '{printf "%.0f", $1}'; }
ratio() { echo "$1 / $2" | bc -l | awk '{printf "%.2f", $1}'; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
TABLE=$(cat <<T
Machine: $CPU, $(nproc) cores, $(date -u +%Y-%m-%d). Workload: \`scripts/gen/rvgen.py --scenario perf --seed 3\`, $PKTS packets. Median of $RUNS runs (min-max).

| command | wall time, s | packets/s | vs rtpvault analyze |
| --- | --- | --- | --- |
| \`rtpvault analyze F --json\` | $A_MED ($A_MIN-$A_MAX) | $(rate "$A_MED") | 1.00 |
| \`tcpdump -r F -w /dev/null\` (libpcap read floor) | $C_MED ($C_MIN-$C_MAX) | $(rate "$C_MED") | $(ratio "$A_MED" "$C_MED")x the floor's time |
| \`tshark -r F -q -z sip,stat -z rtp,streams\` | $T_MED ($T_MIN-$T_MAX) | $(rate "$T_MED") | rtpvault is $(ratio "$T_MED" "$A_MED")x faster |
T
)
echo "$TABLE"
python3 - "$TABLE" <<'PY'
import re, sys
p = "docs/performance.md"
table = sys.argv[1]
s = open(p).read()
s = re.sub(r"<!-- BENCH:analyze -->.*?<!-- /BENCH:analyze -->",
           "<!-- BENCH:analyze -->\n" + table + "\n<!-- /BENCH:analyze -->", s, flags=re.S)
open(p, "w").write(s)
PY
echo "updated docs/performance.md"
