#!/usr/bin/env bash
# Side-by-side benchmark: leakscope classify / classify+decode against Brave's
# adblock engine built from EasyPrivacy, single-threaded, on the adblock-rust
# and qutebrowser request lists and the corpus captures. Results to stdout.
#
# Usage: scripts/bench-side-by-side.sh [SECONDS_PER_TIMING]   (default 2)
# Env:   LEAKSCOPE_CORPUS (default ../shared/corpus), EASYPRIVACY (default
#        data/easyprivacy/easyprivacy.txt, see scripts/vendor-easyprivacy.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f data/easyprivacy/easyprivacy.txt ] || scripts/vendor-easyprivacy.sh >&2
cargo build --release --quiet -p leakscope-bench --bin side-by-side >&2
target=${CARGO_TARGET_DIR:-$root/target}
echo "<!-- $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || true) $(uname -m) $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') -->"
"$target/release/side-by-side" "${1:-2}"
