#!/usr/bin/env bash
# Surveys SITES (default 60) made-up farm sites on loopback and screenshots the
# survey report with headless Chromium: docs/report-survey.png. Nothing leaves
# the machine. Usage: scripts/render-survey-screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/report-survey.png}
sites=${SITES:-60}
tmp=$(mktemp -d)
farm_pid=
trap '[ -n "$farm_pid" ] && kill "$farm_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cargo build --quiet --release -p leakscope-cli
cargo build --quiet --release -p leakscope-sites --example farm
T=${CARGO_TARGET_DIR:-target}/release
"$T/examples/farm" --sites "$sites" --dir "$tmp" > "$tmp/farm.out" &
farm_pid=$!
for _ in $(seq 100); do grep -q '^ready' "$tmp/farm.out" 2>/dev/null && break; sleep 0.1; done
chrome_args=()
while read -r a; do chrome_args+=("--chrome-arg=$a"); done < <(sed -n 's/^chrome-arg //p' "$tmp/farm.out")
chromium=/usr/lib/chromium/chromium
[ -x "$chromium" ] || chromium=$(command -v chromium)
"$T/leakscope" survey "$tmp/sites.csv" --name farm --out "$tmp/survey" --page-timeout 6 \
  --attempts 1 --chrome "$chromium" "${chrome_args[@]}" >/dev/null
timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --hide-scrollbars \
  --user-data-dir="$tmp/profile" --host-resolver-rules='MAP * 127.0.0.1:1' \
  --window-size=1280,2400 --screenshot="$tmp/shot.png" "file://$tmp/survey/report.html" 2>/dev/null
cp "$tmp/shot.png" "$out"
echo "wrote $out"
