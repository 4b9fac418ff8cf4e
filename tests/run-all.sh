#!/usr/bin/env bash
# Runs every test suite and prints one summary line: "N passed, N failed".
#
# Every suite speaks TAP ("ok N - ..." / "not ok N - ..."); a suite that
# crashes or exits non-zero without reporting a failure counts one failure
# more, so a dying binary can never pass.  Logs: build/test-logs/.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=build/test-logs
mkdir -p "$LOGS"
export RV_BIN="$ROOT/build/rel/rtpvault"
export RV_ASAN_BIN="$ROOT/build/asan/rtpvault"
export RV_NODPDK_BIN="$ROOT/build/nodpdk/rtpvault"
export RV_ROOT="$ROOT"
export RV_SHARED="${RV_SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
export RV_TMP="${RV_TMP:-$ROOT/build/test-tmp}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
mkdir -p "$RV_TMP"

total_pass=0
total_fail=0

# run_suite NAME CMD...: runs CMD, counts its TAP lines, adds to totals
run_suite() {
  local name=$1; shift
  local log="$LOGS/$(echo "$name" | tr '/ ' '__').log"
  local start=$SECONDS
  CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1
  local rc=$?
  local pass fail skip
  pass=$(grep -cE '^ok [0-9]+' "$log")
  fail=$(grep -cE '^not ok [0-9]+' "$log")
  skip=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$log")
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
    echo "not ok - $name exited with status $rc without reporting a failure" >>"$log"
  fi
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  printf '%-46s %4d passed, %3d failed%s  (%ds)\n' "$name" "$pass" "$fail" \
    "$([ "$skip" -gt 0 ] && echo ", $skip skipped")" $((SECONDS - start))
  if [ "$fail" -gt 0 ]; then
    grep -E '^not ok|ERROR|Sanitizer|runtime error' "$log" | head -20 | sed 's/^/    /'
    echo "    (full log: $log)"
  fi
  grep -E '# SKIP' "$log" | head -3 | sed 's/^/    /'
}

echo "== unit tests (release build)"
for t in build/rel/tests/test_*; do
  [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done

echo "== unit tests (ASan+UBSan build)"
for t in build/asan/tests/test_*; do
  [ -x "$t" ] && run_suite "asan/$(basename "$t")" "$t"
done

echo "== regression inputs and fuzz seeds (ASan+UBSan replay)"
for r in build/asan/replay_*; do
  [ -x "$r" ] || continue
  n=${r##*/replay_}
  dirs=()
  [ -d "tests/regress/$n" ] && dirs+=("tests/regress/$n")
  [ -d "tests/fuzz/corpus/$n" ] && dirs+=("tests/fuzz/corpus/$n")
  [ ${#dirs[@]} -gt 0 ] && run_suite "regress/$n" "$r" "${dirs[@]}"
done

echo "== integration tests"
for t in tests/integration/test_*.py tests/integration/test_*.sh; do
  [ -f "$t" ] || continue
  case "$t" in
    *.py) run_suite "integration/$(basename "$t")" python3 "$t" ;;
    *.sh) run_suite "integration/$(basename "$t")" bash "$t" ;;
  esac
done

echo "== the DPDK=0 build (same engine, no DPDK linked)"
if [ -x "$RV_NODPDK_BIN" ]; then
  RV_BIN="$RV_NODPDK_BIN" run_suite "nodpdk/test_generated.py" python3 tests/integration/test_generated.py
  RV_BIN="$RV_NODPDK_BIN" run_suite "nodpdk/test_exempt.py" python3 tests/integration/test_exempt.py
fi

echo
echo "logs in $LOGS/"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
