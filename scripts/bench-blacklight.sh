#!/usr/bin/env bash
# Side by side with Blacklight (benchmark, not CI): same Chromium, same loopback
# pages, one page per run. Installs @themarkup/blacklight-collector from npm
# (GPL-3.0; run, not vendored) into target/bench-blacklight. Prints a Markdown
# table; results are recorded in crates/leakscope-bench/results/blacklight.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
CHROME=${CHROME:-/usr/lib/chromium/chromium}
T=${CARGO_TARGET_DIR:-target}
BL=$T/bench-blacklight
scripts/setup.sh
mkdir -p "$BL"
cp scripts/bench/blacklight.js "$BL/"
if [ ! -d "$BL/node_modules/@themarkup/blacklight-collector" ]; then
  (cd "$BL"
   [ -f package.json ] || npm init -y >/dev/null
   PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent @themarkup/blacklight-collector@3.11.0)
fi
cargo build --release -q -p leakscope-cli
cargo build --release -q -p leakscope-sites --example pharmacy_demo
cargo build --release -q -p leakscope-browser --example overhead
"$T/release/examples/pharmacy_demo" --with-fixtures > "$BL/demo.out" 2>/dev/null &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^port ' "$BL/demo.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^port /{print $2}' "$BL/demo.out")
python3 scripts/bench/side_by_side.py --leakscope "$T/release/leakscope" --blacklight-dir "$BL" \
  --chrome "$CHROME" --port "$PORT" --runs "$RUNS" --overhead "$T/release/examples/overhead" \
  http://fixtures.test/pixel.html http://fixtures.test/form.html http://fixtures.test/beacon.html \
  http://fixtures.test/iframe.html http://fixtures.test/worker.html http://fixtures.test/sw.html \
  http://fixtures.test/all.html http://northwind-pharmacy.test/fixtures/consent-ignored \
  http://northwind-pharmacy.test/drugs/truvada http://northwind-pharmacy.test/
