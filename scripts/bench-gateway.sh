#!/usr/bin/env bash
# Gateway load benchmark (not CI): loopback only, bounded in time.
#   1. single-event latency at a fixed 1,000 requests/s through the gateway,
#      and the same load sent straight to the same mock (pass-through
#      baseline): added latency = gateway − direct;
#   2. batched throughput: 1,000-event requests, closed loop, 4 connections,
#      and the gateway's CPU time for accepting and delivering them;
#   3. peak memory (VmHWM) of the gateway process.
# Usage: scripts/bench-gateway.sh [SECONDS] [normal|full]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
SYNC=${2:-full}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p leakscope-gateway --example bench -p leakscope-cli
BIN=$CARGO_TARGET_DIR/release/examples/bench
# The gateway and the mock are the shipped binary (with its allocator); the
# example is only the load generator.
LS=$CARGO_TARGET_DIR/release/leakscope
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
"$LS" gateway mock --listen "$MOCK" 2>/dev/null & MOCKPID=$!
LEAKSCOPE_LOG=warn "$LS" gateway --config "$TMP/gw.toml" 2>"$TMP/gw.log" & GWPID=$!
for _ in $(seq 100); do curl -sf "http://$GW/healthz" >/dev/null && break; sleep 0.1; done

echo "# synchronous=$SYNC, ${SECS}s per run, $(nproc) cores"
# Latency first, on a fresh store: right after the batch run the kernel is
# still writing back hundreds of MB, which stalls every process on the box
# (the direct baseline too) and measures the disk rather than the gateway.
echo "## single-event at 1,000 req/s through the gateway"
"$BIN" rate "http://$GW/v25.0/$PIXEL/events" "$KEY" 1000 "$SECS"
echo "## single-event at 1,000 req/s straight to the mock (pass-through baseline)"
"$BIN" rate "http://$MOCK/v25.0/$PIXEL/events" "$KEY" 1000 "$SECS"
# CPU seconds (user + system) the gateway process has used so far.
gw_cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$GWPID/stat"; }
echo "## batched (1,000 events/request, 4 connections) through the gateway"
C0=$(gw_cpu)
"$BIN" batch "http://$GW/v25.0/$PIXEL/events" "$KEY" 1000 4 "$SECS" | tee "$TMP/batch.json"
# Let delivery drain what the batch run queued, so delivery's cost is counted.
for _ in $(seq 600); do
  D=$(curl -s "http://$GW/metrics" | awk '/^leakscope_gateway_queue_depth /{print $2}')
  [ "${D:-1}" = 0 ] && break; sleep 0.1
done
C1=$(gw_cpu)
python3 - "$TMP/batch.json" "$C0" "$C1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); cpu = float(sys.argv[3]) - float(sys.argv[2])
print(json.dumps({"gateway_cpu_s_ingest_and_delivery": round(cpu, 2),
                  "events_per_gateway_cpu_s": round(r["events_acked"] / cpu) if cpu else None}))
PY
echo "## gateway memory"
grep -E 'VmHWM|VmRSS' /proc/$GWPID/status
echo "## queue depth after the runs"
curl -s "http://$GW/metrics" | grep -E '^leakscope_gateway_(queue_depth|events_delivered_total|events_received_total)'
