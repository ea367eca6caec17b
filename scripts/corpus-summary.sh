#!/usr/bin/env bash
# Vendor counts over every capture in ../shared/corpus (labels and metadata left out).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p leakscope-cli
mapfile -t files < <(find ../shared/corpus -type f \( -name '*.har' -o -name '*.json' -o -name '*.json.gz' -o -name '*.jsonl' -o -name '*.txt' -o -name '*.tsv.gz' \) \
  ! -name 'inspection.json' ! -name '*.inspection.json' ! -name manifest.json ! -name vendor_counts.json | sort)
echo "${#files[@]} capture files"
target/release/leakscope analyze --format jsonl "${files[@]}" 2>/dev/null \
  | python3 -c '
import collections, json, sys
by = collections.Counter(); parties = collections.Counter(); n = 0
for line in sys.stdin:
    e = json.loads(line); n += 1
    by[e["vendor"]] += 1; parties[e["party"]] += 1
print(f"{n} events")
for v, c in by.most_common(): print(f"  {v:<18} {c:>6}")
print("by party: " + ", ".join(f"{p} {c}" for p, c in parties.most_common()))
'
