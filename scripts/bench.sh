#!/usr/bin/env bash
# make bench: the whole rtpvault pipeline measured side by side with the tools
# a user would otherwise reach for and with the machine's limits, in one table.
#
#   1. a call-center workload from the project's generator (rvgen perf, about
#      10^7 packets by default, reused across runs), 60% of the calls recorded
#      (an [exempt] rule on the callee number: the generator's perf scenario
#      has no consent signals, see docs/performance.md), the rest held in RAM
#      until the consent window expires and wiped;
#   2. tests/bench/bench_pipeline (from memory): per-stage ns/packet (decode;
#      SIP/SDP; media lookup; RTP tracking + in-band DTMF; consent gate;
#      sealing; LMDB commit), the whole pipeline on one worker and on the
#      multi-worker pipeline with BENCH_WORKERS workers (engine/pipeline.h,
#      plain threads; DPDK builds only), memory per call, store size;
#   3. rtpvault capture -r F (fresh store each run) vs tcpdump -r F -w /dev/null,
#      and capture --dpdk replaying F once through net_pcap (store-checked);
#   3b. capture --dpdk on 1 and on BENCH_WORKERS worker lcores from net_pcap
#      with infinite_rx=1 on the 10^6-packet slice: packets/s read from the
#      running capture (rtpvault stats) over BENCH_INF_SECONDS after a
#      BENCH_INF_WARMUP, then SIGINT.  With hugepages when they can be
#      reserved (as root; restored on exit), --no-huge otherwise; the row
#      says which.  The slice repeats, so these runs cannot be store-checked;
#   4. rtpvault analyze vs tshark -r F -q -z sip,stat -z rtp,streams on a
#      10^6-packet slice of the same workload;
#   5. openssl speed -evp aes-256-gcm at the chunk size (the crypto ceiling).
#
# Every timing is the median of RUNS runs (min-max), except the sustained
# DPDK rows (one run each; their spread is over 5 s intervals).  After every
# recording run that has a truth the store is checked against the
# generator's truth (calls, packets kept); a mismatch fails the benchmark.
# Timings are reported, never asserted.  Writes the table to
# docs/performance.md between the BENCH markers.
#
# Environment: RUNS (default 3), BENCH_PACKETS (default 10000000),
# BENCH_SLICE (default 1000000), BENCH_OUT (default build/bench),
# BENCH_WORKERS (default 2), BENCH_INF_WARMUP (default 10 s),
# BENCH_INF_SECONDS (default 20 s), BENCH_NO_HUGE=1 (never reserve hugepages).
set -euo pipefail
cd "$(dirname "$0")/.."
T_START=$(date +%s)
RUNS=${RUNS:-3}
PACKETS=${BENCH_PACKETS:-10000000}
SLICE_N=${BENCH_SLICE:-1000000}
OUT=${BENCH_OUT:-build/bench}
BIN=${BENCH_BIN:-build/rel/rtpvault}
HARNESS=${BENCH_HARNESS:-build/rel/bench/bench_pipeline}
EXEMPT_RE='^6[0-9]{4}[0-5]$' # perf callee numbers are 6 + %05d call index: 60% of the calls
NW=${BENCH_WORKERS:-2}
# call control + NW workers + the LMDB writer are NW + 2 busy threads
if [ "$(nproc)" -lt $(( NW + 2 )) ]; then
  OVERSUB="$(nproc) cores for call control + $NW workers + the writer: oversubscribed, not a scaling figure"
else
  OVERSUB="$(nproc) cores for call control + $NW workers + the writer"
fi
INF_WARM=${BENCH_INF_WARMUP:-10}
INF_SECS=${BENCH_INF_SECONDS:-20}
INF_STEP=5

WL=$OUT/cc$PACKETS
mkdir -p "$WL"
PCAP=$WL/perf.pcap
TRUTH=$WL/perf.truth.json
SLICE=$WL/slice$SLICE_N.pcap
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rvbench.XXXXXX")
HP_SYS="" HP_ORIG="" INF_PID=""
cleanup() { # a capture still running, hugepages the benchmark reserved, the temp dir
  if [ -n "$INF_PID" ]; then kill -INT "$INF_PID" 2>/dev/null || true; wait "$INF_PID" 2>/dev/null || true; fi
  if [ -n "$HP_ORIG" ]; then echo "$HP_ORIG" >"$HP_SYS" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
if [ -z "${BENCH_HARNESS:-}" ]; then
  make --no-print-directory "$HARNESS" >/dev/null 2>&1 || make --no-print-directory DPDK=0 "$HARNESS" >/dev/null
fi

# ---------------------------------------------------------------- workload
GEN_NOTE="reused"
if [ ! -f "$PCAP" ] || [ ! -f "$TRUTH" ]; then
  echo "generating the workload: rvgen.py --scenario perf --seed 3 --packets $PACKETS (about 2 min per 10^7 packets)"
  g0=$(date +%s)
  python3 scripts/gen/rvgen.py --scenario perf --seed 3 --packets "$PACKETS" --out "$WL" >/dev/null
  GEN_NOTE="generated in $(( $(date +%s) - g0 )) s"
  rm -f "$SLICE"
fi
if [ ! -f "$SLICE" ]; then
  tcpdump -r "$PCAP" -c "$SLICE_N" -w "$SLICE" 2>/dev/null
fi
# truth: calls, packets the recorder must keep (exempt calls' RTP incl. telephone-events),
# recorded call-minutes, RTP bytes kept, concurrent calls at the peak
read -r T_PKTS T_CALLS T_KEPT T_MIN T_RTPB T_CONC < <(python3 - "$TRUTH" "$EXEMPT_RE" <<'PY'
import json, re, sys
t = json.load(open(sys.argv[1]))
rx = re.compile(sys.argv[2])
calls = t["calls"]
ex = [c for c in calls if rx.match(c["callee"])]
kept = sum(s["packets"] + s["event_packets"] for c in ex for s in c["streams"])
rtpb = sum(s["packets"] * (12 + 320) + s["event_packets"] * 16 for c in ex for s in c["streams"])
mins = sum(c["end_time"] - c["answer_time"] for c in ex) / 60.0
ev = sorted([(c["invite_time"], 1) for c in calls] + [(c["end_time"], -1) for c in calls])
cur = peak = 0
for _, d in ev:
    cur += d
    peak = max(peak, cur)
print(t["packets"], len(calls), kept, "%.3f" % mins, rtpb, peak)
PY
)
SIZE_MB=$(( $(stat -c %s "$PCAP") / 1000000 ))
echo "workload: $PCAP ($T_PKTS packets, $SIZE_MB MB, $T_CALLS calls, $T_CONC concurrent at the peak, $GEN_NOTE)"

# ---------------------------------------------------------------- helpers
# med3 < numbers: "median min max"
med3() { sort -g | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, a[1], a[NR]}'; }
# time_runs CMD...: wall seconds of RUNS runs, one per line
time_runs() {
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done
}
fmt3() { awk -v m="$1" -v a="$2" -v b="$3" -v s="${4:-1}" -v d="${5:-1}" 'BEGIN {printf "%.*f (%.*f-%.*f)", d, m*s, d, a*s, d, b*s}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
FAIL=0

# ---------------------------------------------------------------- 1. in-process pipeline
echo "bench_pipeline: $RUNS runs of decode / engine / recorder+writer+LMDB / $NW-worker pipeline from memory"
$HARNESS "$PCAP" --runs "$RUNS" --workers "$NW" --exempt-regex "$EXEMPT_RE" --truth-calls "$T_CALLS" --truth-kept "$T_KEPT" \
  --truth-call-minutes "$T_MIN" --truth-rtp-bytes "$T_RTPB" --tmpdir "$TMP" >"$TMP/pipe.txt" 2>"$TMP/pipe.err" || {
  echo "bench_pipeline FAILED:"; cat "$TMP/pipe.err"; FAIL=1; }
kv() { awk -v k="$1" -v f="${2:-2}" '$1 == k {print $f}' "$TMP/pipe.txt"; }
kv3() { awk -v k="$1" '$1 == k {print $2, $3, $4}' "$TMP/pipe.txt"; }
read -r DEC DEC_MIN DEC_MAX < <(kv3 decode_ns)
read -r PIPE PIPE_MIN PIPE_MAX < <(kv3 pipeline_ns)
read -r RECC RECC_MIN RECC_MAX < <(kv3 recorder_engine_cpu_ns)
read -r WRC WRC_MIN WRC_MAX < <(kv3 writer_cpu_ns)
# the stage split (each a per-run difference, median (min-max), ns per packet of the whole workload)
read -r S_SIP S_SIP_MIN S_SIP_MAX < <(kv3 stage_sip_ns)
read -r S_LK S_LK_MIN S_LK_MAX < <(kv3 stage_lookup_ns)
read -r S_MED S_MED_MIN S_MED_MAX < <(kv3 stage_media_ns)
read -r S_GATE S_GATE_MIN S_GATE_MAX < <(kv3 stage_gate_ns)
read -r S_SEAL S_SEAL_MIN S_SEAL_MAX < <(kv3 stage_seal_ns)
read -r SEAL_CHUNK _ _ < <(kv3 seal_chunk_ns)
SIP_FRAMES=$(kv sip_frames)
SIP_TCP=$(kv sip_tcp_frames)
SIP_PCT=$(calc %.2f "100 * $SIP_FRAMES / $T_PKTS")
S_SUM=$(calc %.0f "$DEC + $S_SIP + $S_LK + $S_MED + $S_GATE + $S_SEAL")
PIPE_PPS=$(calc %.0f "1e9 / $PIPE")
# the multi-worker pipeline from memory (DPDK builds only)
if [ -n "$(kv workers_unavailable)" ]; then
  WK_ROW="not available: $(awk '$1 == "workers_unavailable" {$1 = ""; sub(/^ /, ""); print}' "$TMP/pipe.txt")"
  WK_NOTE="the pipeline's rings are rte_ring: a build with DPDK is needed"
elif [ -n "$(kv workers_pipeline_ns)" ]; then
  read -r WK WK_MIN WK_MAX < <(kv3 workers_pipeline_ns)
  read -r WKC _ _ < <(kv3 workers_ctl_cpu_ns)
  read -r WKW _ _ < <(kv3 workers_worker_cpu_ns)
  read -r WKR _ _ < <(kv3 workers_writer_cpu_ns)
  WK_ROW="$(fmt3 "$WK" "$WK_MIN" "$WK_MAX") ns/pkt ($(calc %.0f "1e9 / $WK") pps); **$(calc %.2f "$PIPE / $WK") x** the 1-worker speed"
  WK_WAITS=$(awk '$1 == "workers_waits" {for (i = 2; i <= NF; i++) n += $i} END {print n + 0}' "$TMP/pipe.txt")
  WK_NOTE="until every item is committed; store check $(kv workers_store_check): $(kv workers_records) records, $(kv workers_packets_kept) packets kept, $(kv workers_chunks_in_store) chunks; units per worker $(awk '$1 == "workers_units" {$1 = ""; sub(/^ /, ""); gsub(/ /, " / "); print}' "$TMP/pipe.txt"). $OVERSUB. CPU per packet, all threads: $(calc %.0f "$WKC + $WKW + $WKR") ns (1 worker: $(calc %.0f "$RECC + $WRC")): call control $(calc %.0f "$WKC"), workers $(calc %.0f "$WKW"), writer $(calc %.0f "$WKR"), including polling empty rings and waiting for full ones (call control waited $WK_WAITS times)"
else
  WK_ROW="no result (bench_pipeline failed, see its output)"
  WK_NOTE=""
fi

# ---------------------------------------------------------------- 2. capture -r vs tcpdump
mkconf() { # mkconf DIR: config with a fresh store and key
  mkdir -p "$1"
  printf '[exempt]\ncallee_regex = %s\n\n[storage]\npath = %s/store\nkey_file = %s/kek.key\n' "$EXEMPT_RE" "$1" "$1" >"$1/c.conf"
  $BIN keys init -c "$1/c.conf" >/dev/null
}
check_store() { # check_store CONF LABEL: calls --json count and packets kept == truth
  $BIN calls -c "$1" --json >"$TMP/calls.json"
  python3 - "$TMP/calls.json" "$T_CALLS" "$T_KEPT" "$2" <<'PY'
import json, sys
calls = json.load(open(sys.argv[1]))
kept = sum(s.get("packets_kept", 0) for c in calls for s in c.get("streams", []))
ok = len(calls) == int(sys.argv[2]) and kept == int(sys.argv[3])
print("%s store check: %d calls (truth %s), %d packets kept (truth %s): %s" % (
    sys.argv[4], len(calls), sys.argv[2], kept, sys.argv[3], "ok" if ok else "MISMATCH"))
sys.exit(0 if ok else 1)
PY
}
echo "rtpvault capture -r (fresh store each run) and tcpdump -r F -w /dev/null"
: >"$TMP/cap.t"
: >"$TMP/cap.rss"
for k in $(seq "$RUNS"); do
  D=$TMP/cap$k
  mkconf "$D"
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$TMP/rss$k" $BIN capture -c "$D/c.conf" -r "$PCAP" --no-progress >"$D/out.txt" 2>&1 || {
    echo "capture run $k failed:"; tail -5 "$D/out.txt"; FAIL=1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l >>"$TMP/cap.t"
  cat "$TMP/rss$k" >>"$TMP/cap.rss"
  check_store "$D/c.conf" "capture run $k" || FAIL=1
  [ "$k" = 1 ] && cp "$D/out.txt" "$TMP/cap_out1.txt"
  rm -rf "$D"
done
read -r CAP CAP_MIN CAP_MAX < <(med3 <"$TMP/cap.t")
PEAK_RSS_MB=$(sort -g "$TMP/cap.rss" | tail -1 | awk '{printf "%.0f", $1/1024}')
read -r TCP TCP_MIN TCP_MAX < <(time_runs tcpdump -r "$PCAP" -w /dev/null | med3)
CAP_NS=$(calc %.0f "$CAP * 1e9 / $T_PKTS")
TCP_NS=$(calc %.0f "$TCP * 1e9 / $T_PKTS")
CAP_RATIO=$(calc %.2f "$TCP / $CAP")

# ---------------------------------------------------------------- 3. DPDK (only when the build has it)
DPDK_ROW="not available"
# the DPDK backend counts only when this build's `capture --dpdk` runs and records the workload
HUGE=$(awk '/^HugePages_Total/ {print $2}' /proc/meminfo)
EAL="--no-huge -m 2048 --no-pci --no-shconf"
HLABEL="--no-huge"
# --in-memory: hugepages without a hugetlbfs mount (EAL refuses them otherwise)
if [ "${HUGE:-0}" -gt 0 ]; then EAL="--in-memory -m 2048 --no-pci"; HLABEL="hugepages"; fi
: >"$TMP/dpdk.t"
for k in $(seq "$RUNS"); do
  D=$TMP/dpdk$k
  mkconf "$D"
  # net_pcap replays F through the real DPDK RX path; no infinite_rx, so a run ends with the file
  printf '\n[dpdk]\neal = %s --vdev=net_pcap0,rx_pcap=%s\n' "$EAL" "$(realpath "$PCAP")" >>"$D/c.conf"
  # a benchmark in a private temp dir: root is fine here (the service refuses it by default)
  [ "$(id -u)" = 0 ] && printf '\n[service]\nallow_root = true\n' >>"$D/c.conf"
  t0=$(date +%s.%N)
  if timeout 300 $BIN capture -c "$D/c.conf" --dpdk --no-progress >"$D/out.txt" 2>&1; then
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l >>"$TMP/dpdk.t"
    check_store "$D/c.conf" "dpdk run $k" || { DPDK_ROW="ran, but the store check failed"; FAIL=1; }
  else
    if grep -q '^usage:' "$D/out.txt"; then
      DPDK_ROW="not available (this build's capture has no --dpdk)"
    else
      DPDK_ROW="not available (capture --dpdk failed: $(tail -1 "$D/out.txt" | tr '|' '/' | cut -c1-80))"
    fi
    rm -rf "$D"
    break
  fi
  rm -rf "$D"
done
if [ "$DPDK_ROW" = "not available" ] && [ -s "$TMP/dpdk.t" ]; then
  read -r DP DP_MIN DP_MAX < <(med3 <"$TMP/dpdk.t")
  DPDK_ROW="$(fmt3 "$DP" "$DP_MIN" "$DP_MAX" 1 2) s = $(calc %.0f "$DP * 1e9 / $T_PKTS") ns/pkt ($HLABEL, net_pcap rx_pcap=F, 1 worker, incl. EAL start); vs tcpdump $(calc %.2f "$TCP / $DP") x"
fi

# ---------------------------------------------------------------- 3b. DPDK sustained rate (infinite_rx)
# net_pcap with infinite_rx=1 loads the whole file into mbufs and replays it
# for ever: the slice (10^6 packets) is the source, the pool holds it plus
# room for the rings.  The count of frames the engine processed is read from
# the running capture (`rtpvault stats`) every INF_STEP s after the warm-up.
INF_ROW1="not available" INF_ROW2="not available" INF_NOTE1="" INF_NOTE2=""
INF_N=$(( SLICE_N < T_PKTS ? SLICE_N : T_PKTS ))
INF_MBUFS=$(( INF_N + 32768 ))
hp_free_mb() { awk '/^HugePages_Free/ {f=$2} /^Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo; }
# a 2176-byte mbuf takes about 2.4 KB of hugepage memory; rings, descriptors and the heap 512 MB
INF_HP_MB=$(( INF_MBUFS * 2432 / 1048576 + 512 ))
INF_MODE="" INF_HP_NOTE=""
if [ "${BENCH_NO_HUGE:-0}" != 1 ] && [ "$DPDK_ROW" != "not available (this build's capture has no --dpdk)" ]; then
  HP_KB=$(awk '/^Hugepagesize/ {print $2}' /proc/meminfo)
  if [ "$(hp_free_mb)" -lt "$INF_HP_MB" ] && [ -n "$HP_KB" ] && [ -w "/sys/kernel/mm/hugepages/hugepages-${HP_KB}kB/nr_hugepages" ]; then
    HP_SYS=/sys/kernel/mm/hugepages/hugepages-${HP_KB}kB/nr_hugepages
    HP_ORIG=$(cat "$HP_SYS")
    echo $(( HP_ORIG + (INF_HP_MB - $(hp_free_mb)) * 1024 / HP_KB + 1 )) >"$HP_SYS" 2>/dev/null || true
  fi
  if [ "$(hp_free_mb)" -ge "$INF_HP_MB" ]; then
    # --in-memory: no hugetlbfs mount and no shared config needed
    INF_EAL="--in-memory -m $INF_HP_MB --no-pci"
    INF_MODE="hugepages"
    INF_HP_NOTE=" (the sustained DPDK rows: $(awk '/^HugePages_Total/ {t=$2} /^Hugepagesize/ {s=$2" "$3} END {print t" hugepages of "s}' /proc/meminfo)$([ -n "$HP_ORIG" ] && echo ", reserved by the benchmark and released after" || true))"
  fi
fi
if [ -z "$INF_MODE" ]; then
  # under --no-huge every mbuf takes 8 KiB of -m (docs/dpdk.md)
  INF_M=$(( INF_MBUFS * 8192 / 1048576 + 256 ))
  if [ $(( INF_M + 2048 )) -lt $(( $(awk '/^MemAvailable/ {print $2}' /proc/meminfo) / 1024 )) ]; then
    INF_EAL="--no-huge -m $INF_M --no-pci --no-shconf"
    INF_MODE="--no-huge"
  fi
fi
# stats_of CONF: "processed ring_full_drops" of the running capture, or nothing
stats_of() { $BIN stats -c "$1" 2>/dev/null | awk '$1 == "rtpvault_dpdk_processed" {p=$2} $1 == "rtpvault_dpdk_ring_full_drops" {d=$2} END {if (p != "") print p, d}'; }
# run_inf WORKERS: sets INF_PPS INF_PPS_MIN INF_PPS_MAX INF_DROP (share of received) INF_KEPT, or INF_ERR
run_inf() {
  local nw=$1 D=$TMP/inf$1 lc t0 t1 s0 p0 p1="" d0 d1 pa="" pb ta tb
  INF_ERR="" INF_PPS="" INF_DROP="" INF_KEPT=""
  mkconf "$D"
  if [ "$nw" = 1 ]; then lc="--lcores 0@(0-$(( $(nproc) - 1 )))"; else lc="--lcores (0-$nw)@(0-$(( $(nproc) - 1 )))"; fi
  printf '\n[dpdk]\neal = %s %s --log-level=lib.eal:warning --vdev=net_pcap0,rx_pcap=%s,infinite_rx=1\nworkers = %s\nmbufs = %s\n' \
    "$lc" "$INF_EAL" "$(realpath "$SLICE")" "$nw" "$INF_MBUFS" >>"$D/c.conf"
  [ "$(id -u)" = 0 ] && printf '\n[service]\nallow_root = true\n' >>"$D/c.conf"
  $BIN capture -c "$D/c.conf" --dpdk --no-progress >"$D/out.txt" 2>"$D/err.txt" &
  INF_PID=$!
  # up when the stats socket answers (EAL start and loading the slice into mbufs)
  local up=0
  for _ in $(seq 240); do
    kill -0 "$INF_PID" 2>/dev/null || break
    [ -n "$(stats_of "$D/c.conf")" ] && { up=1; break; }
    sleep 0.5
  done
  if [ "$up" = 0 ]; then
    kill -INT "$INF_PID" 2>/dev/null; wait "$INF_PID" 2>/dev/null || true; INF_PID=""
    INF_ERR="capture --dpdk did not start: $(grep -Ev '^(EAL|TELEMETRY):' "$D/err.txt" | tail -1 | tr '|' '/' | cut -c1-100)"
    rm -rf "$D"
    return
  fi
  sleep "$INF_WARM"
  : >"$D/int.t"
  ta=$(date +%s.%N); read -r pa d0 < <(stats_of "$D/c.conf") || true; tb=$(date +%s.%N)
  t0=$(echo "($ta + $tb) / 2" | bc -l); p0=$pa; s0=$t0; pb=$pa
  for _ in $(seq $(( INF_SECS / INF_STEP ))); do
    sleep "$INF_STEP"
    ta=$(date +%s.%N); read -r p1 d1 < <(stats_of "$D/c.conf") || true; tb=$(date +%s.%N)
    [ -n "${p1:-}" ] && [ -n "${pa:-}" ] || break
    t1=$(echo "($ta + $tb) / 2" | bc -l)
    echo "($p1 - $pb) / ($t1 - $s0)" | bc -l >>"$D/int.t"
    pb=$p1; s0=$t1
  done
  kill -INT "$INF_PID"
  local rc=0
  wait "$INF_PID" || rc=$?
  INF_PID=""
  if [ "$rc" != 0 ] || [ -z "${p1:-}" ]; then
    INF_ERR="capture --dpdk failed (exit $rc): $(grep -Ev '^(EAL|TELEMETRY):' "$D/err.txt" | tail -1 | tr '|' '/' | cut -c1-100)"
    rm -rf "$D"
    return
  fi
  INF_PPS=$(echo "($p1 - $p0) / ($t1 - $t0)" | bc -l)
  read -r _ INF_PPS_MIN INF_PPS_MAX < <(med3 <"$D/int.t")
  # the whole run's accounting, from the summary: received = processed + ring-full drops
  INF_DROP=$(awk '/dpdk received/ {for (i = 1; i < NF; i++) {if ($i == "received") r=$(i+1); if ($i == "ring_full_drops") d=$(i+1)}} END {if (r > 0) printf "%.1f", 100 * d / r; else print 0}' "$D/err.txt")
  INF_KEPT=$(awk '$1 == "packets" && $2 == "kept" {print $3}' "$D/out.txt")
  cp "$D/err.txt" "$TMP/inf$nw.err"
  rm -rf "$D"
}
if [ "$DPDK_ROW" = "not available (this build's capture has no --dpdk)" ]; then
  INF_ROW1="not available (this build's capture has no --dpdk)"
  INF_ROW2=$INF_ROW1
elif [ -z "$INF_MODE" ]; then
  INF_ROW1="not available (no hugepages could be reserved and too little RAM for a --no-huge pool of $INF_MBUFS mbufs)"
  INF_ROW2=$INF_ROW1
else
  for nw in 1 "$NW"; do
    echo "rtpvault capture --dpdk, net_pcap infinite_rx=1 on the slice, $nw worker lcore(s), $INF_MODE: ${INF_WARM} s warm-up + ${INF_SECS} s"
    run_inf "$nw"
    if [ -n "$INF_ERR" ]; then
      row="not available ($INF_ERR)"; note=""
    else
      row="$(calc %.0f "$INF_PPS") pps = $(calc %.0f "1e9 / $INF_PPS") ns/pkt ($INF_MODE; ${INF_STEP} s intervals $(calc %.0f "$INF_PPS_MIN")-$(calc %.0f "$INF_PPS_MAX"))"
      note="ring-full drops $INF_DROP% of received$([ "${INF_DROP%.*}" -gt 0 ] 2>/dev/null && echo " (live mode drops when call control is behind: what it processed is a lossy sample of the slice)" || true); $INF_KEPT packets kept"
    fi
    if [ "$nw" = 1 ]; then
      INF_ROW1=$row INF_NOTE1=$note INF1_PPS=$INF_PPS
    else
      [ -n "$INF_PPS" ] && [ -n "${INF1_PPS:-}" ] && row="$row; **$(calc %.2f "$INF_PPS / $INF1_PPS") x** the 1-lcore rate"
      INF_ROW2=$row INF_NOTE2=$note
    fi
  done
fi
# give the hugepages back now (the rest of the benchmark does not need them)
if [ -n "$HP_ORIG" ]; then echo "$HP_ORIG" >"$HP_SYS" 2>/dev/null || true; HP_ORIG=""; fi

# ---------------------------------------------------------------- 4. analyze vs tshark on the slice
echo "rtpvault analyze vs tshark on the first $SLICE_N packets"
read -r AN AN_MIN AN_MAX < <(time_runs $BIN analyze "$SLICE" --json --no-progress | med3)
read -r TS TS_MIN TS_MAX < <(time_runs tshark -r "$SLICE" -q -z sip,stat -z rtp,streams | med3)
TS_RATIO=$(calc %.1f "$TS / $AN")

# ---------------------------------------------------------------- 5. crypto ceiling
echo "openssl speed -evp aes-256-gcm -bytes 8160"
: >"$TMP/ssl.t"
for _ in $(seq "$RUNS"); do
  openssl speed -evp aes-256-gcm -bytes 8160 -seconds 1 2>/dev/null |
    awk '/^(AES-256-GCM|aes-256-gcm)/ {v=$NF; sub("k","",v); print v*1000}' >>"$TMP/ssl.t"
done
read -r SSL SSL_MIN SSL_MAX < <(med3 <"$TMP/ssl.t")
# bytes per packet sealed in the workload -> ns/packet the cipher alone needs
SEALED=$(kv bytes_sealed)
SSL_NS=$(calc %.1f "($SEALED / $T_PKTS) / $SSL * 1e9")

# ---------------------------------------------------------------- table
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
HP=$(awk '/^HugePages_Total/ {t=$2} /^Hugepagesize/ {s=$2" "$3} END {if (t > 0) print t" hugepages of "s; else print "no hugepages reserved"}' /proc/meminfo)
ELAPSED=$(( $(date +%s) - T_START ))
TABLE=$(cat <<T
Machine: $CPU, $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB RAM, $HP$INF_HP_NOTE; $(uname -r); $(date -u +%Y-%m-%d).
Workload: \`rvgen.py --scenario perf --seed 3 --packets $PACKETS\`: $T_PKTS packets ($SIZE_MB MB), $T_CALLS calls of 60-90 s, **$T_CONC concurrent** at the peak, G.711 PCMU 40 ms, 0.5% loss, RFC 4733 digits in 20% of the calls; 60% of the calls recorded (\`[exempt] callee_regex\`: the perf scenario carries no consent signals), 40% held in RAM for the 30 s consent window and wiped.
Median of $RUNS runs (min-max). \`make bench\` took $ELAPSED s (workload $GEN_NOTE).

| measurement | result | notes |
| --- | --- | --- |
| stage: decode (L2-L4) | $(fmt3 "$DEC" "$DEC_MIN" "$DEC_MAX") ns/pkt | \`decode_frame\` from memory |
| stage: SIP/SDP | $(fmt3 "$S_SIP" "$S_SIP_MIN" "$S_SIP_MAX") ns/pkt | engine with a null sink fed only the $SIP_FRAMES SIP frames ($SIP_PCT% of the packets: UDP/TCP on \`[sip] ports\`, $SIP_TCP of them TCP) minus their decode, per packet of the whole workload: parsing, SDP, dialogs, expectations |
| stage: media lookup | $(fmt3 "$S_LK" "$S_LK_MIN" "$S_LK_MAX") ns/pkt | decode plus one stream-table lookup per UDP datagram as \`stream_find\` does it (keyed SipHash-2-4 of the 5-tuple, hash table, key compare; $(kv lookup_flows) flows) minus decode |
| stage: RTP tracking + in-band DTMF | $(fmt3 "$S_MED" "$S_MED_MIN" "$S_MED_MAX") ns/pkt | the rest of the null-sink engine (engine minus decode, SIP/SDP, media lookup): RTP parsing, per-stream sequence/loss state, stream creation, the spandsp in-band DTMF detector, dispatch and timers |
| stage: consent gate (+ held audio, chunk building) | $(fmt3 "$S_GATE" "$S_GATE_MIN" "$S_GATE_MAX") ns/pkt CPU | engine-thread CPU with the recorder minus without, minus sealing; the engine-thread rows add up to $S_SUM ns/pkt, the engine-thread CPU with the recorder ($(calc %.0f "$RECC")) by construction, up to medians and wall vs CPU time |
| stage: AES-256-GCM sealing | $(fmt3 "$S_SEAL" "$S_SEAL_MIN" "$S_SEAL_MAX") ns/pkt | \`aead_seal_ctx\` in a loop on $(kv seal_plain_bytes)-byte plaintexts (this run's mean chunk): $(calc %.0f "$SEAL_CHUNK") ns per chunk x $(kv chunks) chunks |
| stage: LMDB commit (writer thread) | $(fmt3 "$WRC" "$WRC_MIN" "$WRC_MAX") ns/pkt CPU | runs on the second core, in parallel |
| **whole pipeline from memory, 1 worker** | **$(fmt3 "$PIPE" "$PIPE_MIN" "$PIPE_MAX") ns/pkt** ($PIPE_PPS pps) | target 187 ns/pkt; until every item is committed |
| whole pipeline from memory, $NW workers | $WK_ROW | $WK_NOTE |
| whole pipeline from the file: \`rtpvault capture -r F\` | $(fmt3 "$CAP" "$CAP_MIN" "$CAP_MAX" 1 2) s = $CAP_NS ns/pkt | fresh store each run, store checked |
| \`tcpdump -r F -w /dev/null\` (libpcap floor) | $(fmt3 "$TCP" "$TCP_MIN" "$TCP_MAX" 1 2) s = $TCP_NS ns/pkt | |
| capture -r vs tcpdump | **$CAP_RATIO x** the floor's speed | target >= 0.8 |
| whole pipeline via DPDK | $DPDK_ROW | F replayed once (no infinite_rx), store checked |
| DPDK sustained, 1 worker lcore (net_pcap \`infinite_rx=1\` on the slice) | $INF_ROW1 | ${INF_WARM} s warm-up, then ${INF_SECS} s; not store-checked: the slice repeats, so the same calls come back every loop; $INF_NOTE1 |
| DPDK sustained, $NW worker lcores (the same) | $INF_ROW2 | $OVERSUB (the first worker lcore also polls the port); not store-checked; $INF_NOTE2 |
| \`rtpvault analyze\` on a $SLICE_N-packet slice | $(fmt3 "$AN" "$AN_MIN" "$AN_MAX" 1 2) s | first $SLICE_N packets of F |
| \`tshark -r S -q -z sip,stat -z rtp,streams\` on the slice | $(fmt3 "$TS" "$TS_MIN" "$TS_MAX" 1 2) s | |
| analyze vs tshark | **rtpvault $TS_RATIO x faster** | target >= 25 |
| AES-256-GCM ceiling (\`openssl speed -evp aes-256-gcm -bytes 8160\`) | $(fmt3 "$SSL" "$SSL_MIN" "$SSL_MAX" 1e-6 0) MB/s | = $SSL_NS ns/pkt for this workload's sealed bytes |
| peak RSS of \`capture -r\` | $PEAK_RSS_MB MiB | max over the runs |
| engine state per tracked call | $(kv state_per_call_bytes) B | heap (mallinfo2) / calls at the peak: call, 2 streams, expectations, DTMF detector; target <= 2048 |
| recorder RAM per call (pre-consent audio etc.) | $(kv recorder_ram_per_call_bytes) B | recorder run minus engine run at its largest ($(kv recorder_peak_extra_bytes) B), per tracked call |
| pre-consent RAM per held call | $(kv pre_consent_ram_per_held_call_bytes) B | the same, per call whose audio was held (upper bound); bounded by [consent] max_pending_per_call |
| bytes stored per recorded call-minute | $(kv bytes_per_call_minute) B | LMDB pages in use / recorded call-minutes |
| LMDB size vs RTP bytes kept | $(kv lmdb_vs_payload) x | $(kv lmdb_used_bytes) B in use, $(kv lmdb_file_bytes) B on disk, $(kv commits) transactions |
| store checks | $( [ "$FAIL" = 0 ] && echo "all ok" || echo "**FAILED**") | $(kv records) records, $(kv packets_kept) packets kept, $(kv chunks_in_store) chunks (truth: $T_CALLS calls, $T_KEPT packets) |
T
)
echo
echo "$TABLE"
python3 - "$TABLE" <<'PY'
import re, sys
p = "docs/performance.md"
table = sys.argv[1]
s = open(p).read()
block = "<!-- BENCH:pipeline -->\n" + table + "\n<!-- /BENCH:pipeline -->"
if "<!-- BENCH:pipeline -->" in s:
    s = re.sub(r"<!-- BENCH:pipeline -->.*?<!-- /BENCH:pipeline -->", lambda m: block, s, flags=re.S)
else:
    s = s.replace("## Offline analysis", "## The pipeline (`make bench`)\n\n" + block + "\n\n## Offline analysis", 1)
open(p, "w").write(s)
PY
echo "updated docs/performance.md ($ELAPSED s)"
exit "$FAIL"
