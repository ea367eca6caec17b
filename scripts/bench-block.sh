#!/usr/bin/env bash
# What `scan --block` costs (benchmark, not CI): the demo pharmacy on
# loopback scanned in one run, alternating, RUNS times each:
#   none     no rules
#   rules    the filters.txt `leakscope rules` wrote from a first scan
#            (the trackers are blocked, so the page also does less)
#   nomatch  a list that matches nothing: the interception alone
# plus the adblock engine's own time per request inside the scanner (from
# the scanner's debug line) and, with BENCH=1, the criterion bench of the
# engine on the corpus URLs. Prints a Markdown table; results are recorded
# in crates/leakscope-bench/results/block.md. Target: <= 10% overhead.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
CONSENT=${CONSENT:-reject,accept}
T=${CARGO_TARGET_DIR:-target}
W=$T/bench-block
scripts/setup.sh
cargo build --release -q -p leakscope-cli
cargo build --release -q -p leakscope-sites --example pharmacy_demo
rm -rf "$W" && mkdir -p "$W"
"$T/release/examples/pharmacy_demo" > "$W/demo.out" 2>/dev/null &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^port ' "$W/demo.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^port /{print $2}' "$W/demo.out")
L="$T/release/leakscope"
URL=http://northwind-pharmacy.test/
ARGS=(--consent "$CONSENT" "--chrome-arg=--host-resolver-rules=MAP * 127.0.0.1:$PORT" --chrome-arg=--ignore-certificate-errors)
"$L" scan "${ARGS[@]}" --out "$W/first" "$URL" > /dev/null 2>&1
"$L" rules "$W/first/results.json" --out "$W/rules" > /dev/null
printf '! matches nothing on the demo: the cost of intercepting alone\n||tracker.invalid^$domain=northwind-pharmacy.test\n' > "$W/nomatch.txt"
: > "$W/times.tsv"
for i in $(seq "$RUNS"); do
  for mode in none rules nomatch; do
    extra=()
    case $mode in
      rules) extra=(--block "$W/rules/filters.txt") ;;
      nomatch) extra=(--block "$W/nomatch.txt") ;;
    esac
    s=$(date +%s.%N)
    LEAKSCOPE_LOG=leakscope_scan=debug "$L" scan "${ARGS[@]}" "${extra[@]}" --out "$W/$mode-$i" "$URL" \
      > "$W/$mode-$i.out" 2> "$W/$mode-$i.err"
    e=$(date +%s.%N)
    findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$W/$mode-$i/results.json")
    # "block rules, run reject: N requests decided in X ms of engine time (Y µs each), B blocked"
    cost=$(sed 's/\x1b\[[0-9;]*m//g' "$W/$mode-$i.err" | awk '/block rules, run/ {
      for (k = 1; k <= NF; k++) { if ($k == "requests") n += $(k-1); if ($k == "ms") ms += $(k-1) }
    } END { printf "%d\t%.3f", n, ms }')
    printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$i" "$(python3 -c "print(round($e - $s, 3))")" "$findings" "$cost" >> "$W/times.tsv"
  done
done
python3 - "$W/times.tsv" "$RUNS" "$CONSENT" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for mode, _i, secs, findings, n, ms in rows:
    by.setdefault(mode, []).append((float(secs), int(findings), int(n), float(ms)))
base = st.median(s for s, *_ in by["none"])
print(f"Demo pharmacy, consent {sys.argv[3]}, {sys.argv[2]} runs each, alternating (median wall time of `leakscope scan`):\n")
print("| rules | scan (s) | vs none | findings | requests decided | engine time per request |")
print("|---|---|---|---|---|---|")
for mode in ["none", "rules", "nomatch"]:
    r = by[mode]
    secs = st.median(s for s, *_ in r)
    f = st.median(x for _, x, _, _ in r)
    n = sum(x for *_, x, _ in r)
    ms = sum(x for *_, x in r)
    per = f"{ms * 1000 / n:.1f} µs" if n else "-"
    print(f"| {mode} | {secs:.2f} | {100 * (secs - base) / base:+.1f}% | {f:g} | {n // len(r) if n else '-'} | {per} |")
PY
if [ "${BENCH:-0}" = 1 ]; then
  cargo bench -q -p leakscope-rules --bench blocker 2>&1 | grep -E "^blocker|time:|thrpt:"
fi
