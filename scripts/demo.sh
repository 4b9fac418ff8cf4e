#!/usr/bin/env bash
# make demo: the whole loop with the shipped config (etc/rtpvault.conf):
# generate a call-center capture, create the key, record it (consent gate,
# encrypted LMDB store), list the calls, and export a consented call as WAV.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-out/demo}
CONF=etc/rtpvault.conf
BIN=build/rel/rtpvault
mkdir -p "$OUT"
echo "== 1. generating a capture of overlapping outbound calls (scripts/gen/rvgen.py --scenario consent)"
python3 scripts/gen/rvgen.py --scenario consent --seed 11 --out "$OUT"
echo "== 2. checking the shipped config: $BIN check-config -c $CONF"
$BIN check-config -c "$CONF"
KEY=$($BIN config-show -c "$CONF" storage.key_file 2>/dev/null || echo ./var/kek.key)
STORE=$($BIN config-show -c "$CONF" storage.path 2>/dev/null || echo ./var/store)
if [ ! -f "$KEY" ]; then
  echo "== 3. creating the key-encryption key: $BIN keys init -c $CONF"
  $BIN keys init -c "$CONF"
else
  echo "== 3. key-encryption key $KEY exists"
fi
echo "== 4. recording: $BIN capture -c $CONF -r $OUT/consent.pcap (store: $STORE)"
$BIN capture -c "$CONF" -r "$OUT/consent.pcap"
echo "== 5. the calls: $BIN calls -c $CONF"
$BIN calls -c "$CONF" --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z | sed -n 1,40p
CID=$($BIN calls -c "$CONF" --consent granted --json | python3 -c '
import json, sys
calls = [c for c in json.load(sys.stdin) if c["complete"] and c["audio"] and
         any(s["codec"] in ("PCMU", "PCMA") and s["packets_kept"] > 0 for s in c["streams"])]
print(calls[-1]["call_id"] if calls else "")')
if [ -z "$CID" ]; then
  echo "demo: no consented call found" >&2
  exit 1
fi
echo "== 6. consent evidence: $BIN show -c $CONF $CID"
$BIN show -c "$CONF" "$CID" | sed -n 1,30p
echo "== 7. export: $BIN export -c $CONF $CID --purpose demo --format all -o $OUT/export"
$BIN export -c "$CONF" "$CID" --purpose "demo" --format all -o "$OUT/export"
ls -l "$OUT/export"
echo "demo done: the WAV of a consented call is in $OUT/export/ (caller left, callee right)"
