#!/usr/bin/env bash
# Renders the demo's HTML report and screenshots it with headless Chromium:
# docs/report-demo.png. Offline: the report makes no requests, and every
# host name is mapped to an unused loopback port anyway.
# Usage: scripts/render-report-screenshot.sh [RESULTS.json] [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${2:-docs/report-demo.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${LEAKSCOPE:-}
if [ -z "$bin" ]; then
  cargo build --quiet -p leakscope-cli
  bin="${CARGO_TARGET_DIR:-target}/debug/leakscope"
fi
if [ -n "${1:-}" ]; then
  "$bin" report "$1" -o "$tmp/report.html"
else
  "$bin" demo --format html -o "$tmp/report.html"
fi
chromium=/usr/lib/chromium/chromium
[ -x "$chromium" ] || chromium=$(command -v chromium)
timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --hide-scrollbars \
  --user-data-dir="$tmp/profile" --host-resolver-rules='MAP * 127.0.0.1:1' \
  --window-size=1280,2200 --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
cp "$tmp/shot.png" "$out"
echo "wrote $out"
