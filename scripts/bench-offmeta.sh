#!/usr/bin/env bash
# `leakscope offmeta` on large exports (benchmark, not CI): a 200 MB export
# zip whose off-Meta JSON is ~270 MB (2.2 M events), and one whose JSON
# would inflate to 2.7 GB (refused by the size limit). Wall time and peak
# memory via GNU time; results in crates/leakscope-bench/results/offmeta.md.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}
W=$T/bench-offmeta
mkdir -p "$W"
cargo build --release -q -p leakscope-cli
[ -f "$W/media.zip" ] || python3 scripts/gen-offmeta-fixtures.py --big 200 --media-mb 180 --out "$W/media.zip" > /dev/null
[ -f "$W/huge.zip" ] || python3 scripts/gen-offmeta-fixtures.py --big 200 --out "$W/huge.zip" > /dev/null
for f in media huge; do
  /usr/bin/time -f "$f: %e s, peak %M KiB" "$T/release/leakscope" offmeta --format json -o "$W/$f.json" "$W/$f.zip" || true
done
