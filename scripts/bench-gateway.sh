#!/usr/bin/env bash
# Gateway load benchmark (not CI): loopback only, bounded in time.
#   1. batched throughput: 1,000-event requests, closed loop, N connections;
#   2. single-event latency at a fixed 1,000 requests/s through the gateway,
#      and the same load sent straight to the same mock (pass-through
#      baseline): added latency = gateway − direct;
#   3. peak memory (VmHWM) of the gateway process.
# Usage: scripts/bench-gateway.sh [SECONDS] [normal|full]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
SYNC=${2:-full}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p leakscope-gateway --example bench
BIN=$CARGO_TARGET_DIR/release/examples/bench
TMP=$(mktemp -d)
MOCK=127.0.0.1:19100
GW=127.0.0.1:18787
KEY=bench-key-0001
PIXEL=1234567891234567
KEYHASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
cat > "$TMP/gw.toml" <<TOML
listen = "$GW"
[upstream]
base_url = "http://$MOCK"
access_token = "bench-token"
[store]
sqlite = "$TMP/gw.db"
synchronous = "$SYNC"
[delivery]
workers = 2
poll_ms = 20
[limits]
max_queue_depth = 100000000
[[keys]]
name = "bench"
sha256 = "$KEYHASH"
TOML
cleanup() { kill "${GWPID:-}" "${MOCKPID:-}" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
"$BIN" mock "$MOCK" 2>/dev/null & MOCKPID=$!
LEAKSCOPE_LOG=warn "$BIN" gateway "$TMP/gw.toml" 2>"$TMP/gw.log" & GWPID=$!
for _ in $(seq 100); do curl -sf "http://$GW/healthz" >/dev/null && break; sleep 0.1; done

echo "# synchronous=$SYNC, ${SECS}s per run, $(nproc) cores"
echo "## batched (1,000 events/request, 4 connections) through the gateway"
"$BIN" batch "http://$GW/v25.0/$PIXEL/events" "$KEY" 1000 4 "$SECS"
echo "## single-event at 1,000 req/s through the gateway"
"$BIN" rate "http://$GW/v25.0/$PIXEL/events" "$KEY" 1000 "$SECS"
echo "## single-event at 1,000 req/s straight to the mock (pass-through baseline)"
"$BIN" rate "http://$MOCK/v25.0/$PIXEL/events" "$KEY" 1000 "$SECS"
echo "## gateway memory"
grep -E 'VmHWM|VmRSS' /proc/$GWPID/status
echo "## queue depth after the runs"
curl -s "http://$GW/metrics" | grep -E '^leakscope_gateway_(queue_depth|events_delivered_total|events_received_total)'
