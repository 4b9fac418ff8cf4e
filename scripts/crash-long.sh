#!/bin/sh
# Long crash-safety run (not part of `make test`): 1000 SIGKILLs during `rtpvault capture`,
# each followed by the checks of tests/integration/test_crash.py (every call reported complete
# exports, authenticates and holds exactly the truth's kept packets).
# Usage: scripts/crash-long.sh [ITERATIONS] [CALLS]     (env RV_CRASH_SEED to vary the kill times)
set -eu
cd "$(dirname "$0")/.."
RV_CRASH_ITER="${1:-1000}" RV_CRASH_CALLS="${2:-31}" RV_CRASH_BUDGET="${RV_CRASH_BUDGET:-86400}" exec python3 tests/integration/test_crash.py
