#!/usr/bin/env bash
# `leakscope survey` throughput and memory on the made-up site farm
# (benchmark, not CI). IT TAKES LONG: about half an hour on 2 cores with
# the defaults (four surveys of SITES sites, two of them on PostgreSQL, a
# RSS_SITES-site survey, Blacklight over K sites). Loopback only: the farm
# serves made-up sites on 127.0.0.1 and Chromium is pointed at it with the
# farm's own `chrome-arg` flags; nothing leaves the machine.
#
#   scripts/bench-survey.sh
#   SITES=100 RSS_SITES=300 K=10 scripts/bench-survey.sh      # a quicker look
#   SKIP_BLACKLIGHT=1 SKIP_PG=1 scripts/bench-survey.sh
#
# Prints a Markdown table, each row on the same farm
# (`cargo run -p leakscope-sites --example farm -- --sites N --dir DIR`):
#  (a) `leakscope survey LIST --parallel 2`, default settings (--consent none,reject)
#  (b) the same with --consent none (load only, one context per site)
#  (c) Blacklight (npm @themarkup/blacklight-collector, installed and run as
#      scripts/bench-blacklight.sh does, via scripts/bench/blacklight.js), one
#      site after another over the first K sites, its mean time per site
#      extrapolated to SITES; beside it leakscope over the same K sites,
#      one at a time (--parallel 1 --consent none)
#  (d) one worker pinned to core 0 (`taskset -c 0`) against two worker
#      processes pinned to cores 0 and 1, sharing one PostgreSQL
#      (scripts/start-test-postgres.sh, needs root; or LEAKSCOPE_TEST_PG set)
#  (e) the leakscope process's resident memory over a RSS_SITES-site survey
#      (not Chromium's: VmRSS of that one process, what `ps -o rss= -p PID`
#      shows), sampled every second: the peak and the values when 10 %, 50 %
#      and 90 % of the sites were finished, to show it stays flat
# Rates: "wall" is sites / wall time of the whole command (Chromium start,
# retry waits at the end, the report); "10-90 %" counts the sites finished
# between the 10th and 90th percentile of finish times, the steady rate.
set -euo pipefail
cd "$(dirname "$0")/.."

SITES=${SITES:-200}          # sites per survey in (a), (b), (d)
RSS_SITES=${RSS_SITES:-1000} # sites of the survey in (e); = SITES reuses (a)
K=${K:-30}                   # sites for Blacklight in (c)
PARALLEL=${PARALLEL:-4}      # --parallel of every worker but (c)'s (the survey default on 2 cores)
CHROME=${CHROME:-/usr/lib/chromium/chromium}
T=${CARGO_TARGET_DIR:-target}
W=$T/bench-survey
BL=$T/bench-blacklight
LS=$T/release/leakscope
FARM_BIN=$T/release/examples/farm

log() { echo "bench: $*" >&2; }
now() { date +%s.%N; }
max() { local m=$1; shift; for v in "$@"; do [ "$v" -gt "$m" ] && m=$v; done; echo "$m"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

scripts/setup.sh >&2
log "building release leakscope and the farm"
cargo build --release -q -p leakscope-cli
cargo build --release -q -p leakscope-sites --example farm

rm -rf "$W"
mkdir -p "$W"

# The sampler: every second, the leakscope process's VmRSS (KiB), its whole
# tree's (Chromium included) and how many sites of the survey are finished.
cat > "$W/sample.py" <<'PY'
import os, sqlite3, sys, time

pid, db = int(sys.argv[1]), sys.argv[2]

def rss(p):
    try:
        with open(f'/proc/{p}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None

def tree(root):
    children = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        total += rss(p) or 0
    return total

t0 = time.monotonic()
while True:
    own = rss(pid)
    if own is None:  # exited (a zombie has no VmRSS)
        break
    fin = tot = -1
    if os.path.exists(db):
        try:
            c = sqlite3.connect(db, timeout=1)
            tot, fin = c.execute(
                "SELECT COUNT(*), COALESCE(SUM(status IN ('done', 'unreachable', 'error')), 0) FROM sites"
            ).fetchone()
            c.close()
        except sqlite3.Error:
            pass
    print(f'{time.monotonic() - t0:.1f} {own} {tree(pid)} {fin} {tot}', flush=True)
    time.sleep(1)
PY

# One Markdown row from `status|finished` lines on stdin.
# Arguments: label, sites, wall seconds, expected `done` count.
cat > "$W/row.py" <<'PY'
import sys
from datetime import datetime

label, n, secs, want = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
counts, times = {}, []
for line in sys.stdin:
    status, _, finished = line.rstrip('\n').partition('|')
    counts[status] = counts.get(status, 0) + 1
    if status in ('done', 'unreachable', 'error') and finished:
        times.append(datetime.fromisoformat(finished.replace('Z', '+00:00')).timestamp())
times.sort()
steady = '–'
if len(times) >= 10:
    a, b = int(len(times) * 0.1), int(len(times) * 0.9) - 1
    if times[b] > times[a]:
        steady = f'{(b - a) * 3600 / (times[b] - times[a]):.0f}'
left = counts.get('pending', 0) + counts.get('running', 0)
outcome = f"{counts.get('done', 0)} / {counts.get('unreachable', 0)} / {counts.get('error', 0)} ({want})"
if left:
    outcome += f', {left} left'
print(f'| {label} | {n} | {secs:.0f} | {n * 3600 / secs:.0f} | {steady} | {outcome} |')
PY

# The farm, sized for the largest run, in the background until the script ends.
FARM_N=$(max "$SITES" "$RSS_SITES" "$K")
log "starting the farm: $FARM_N made-up sites on loopback"
"$FARM_BIN" --sites "$FARM_N" --dir "$W/farm" > "$W/farm.out" 2> "$W/farm.err" < /dev/null &
PIDS+=($!)
for _ in $(seq 600); do grep -q '^ready' "$W/farm.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$W/farm.out" || { cat "$W/farm.err" >&2; log "the farm did not start"; exit 1; }
PORT=$(awk '/^port /{print $2}' "$W/farm.out")
CARGS=()
while IFS= read -r a; do CARGS+=("--chrome-arg=$a"); done < <(sed -n 's/^chrome-arg //p' "$W/farm.out")

# list_of N FILE: the farm's first N sites as a survey list.
list_of() { head -n "$(($1 + 1))" "$W/farm/sites.csv" > "$2"; }

# expected_done N: how many of the first N sites must end `done`.
expected_done() {
  python3 -c "import json, sys; print(sum(1 for s in json.load(open(sys.argv[1]))[:int(sys.argv[2])] if s['expected']['status'] == 'done'))" \
    "$W/farm/expected.json" "$1"
}

# `status|finished` per site of a SQLite survey (nothing when it has none).
sqlite_rows() {
  [ -f "$1" ] || return 0
  python3 -c "import sqlite3, sys; [print(f'{s}|{f or \"\"}') for s, f in sqlite3.connect(sys.argv[1]).execute('SELECT status, finished FROM sites')]" "$1" || true
}

ROWS=()

# run_local NAME N [OPTIONS...]: a fresh survey of the first N sites in
# $W/NAME/ on SQLite, timed and sampled; appends its row (label in $LABEL).
run_local() {
  local name=$1 n=$2
  shift 2
  local dir=$W/$name rc=0
  mkdir -p "$dir"
  list_of "$n" "$dir/$name.csv"
  log "$LABEL: $n sites (log: $dir/log)"
  local t0 t1
  t0=$(now)
  "$LS" survey "$dir/$name.csv" --out "$dir/out" --chrome "$CHROME" "${CARGS[@]}" "$@" 2> "$dir/log" &
  local pid=$!
  PIDS+=("$pid")
  python3 "$W/sample.py" "$pid" "$dir/out/survey.db" > "$dir/samples" &
  local spid=$!
  wait "$pid" || rc=$?
  t1=$(now)
  wait "$spid" || true
  [ "$rc" -eq 0 ] || log "$LABEL: leakscope exited $rc (see $dir/log)"
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  ROWS+=("$(sqlite_rows "$dir/out/survey.db" | python3 "$W/row.py" "$LABEL" "$n" "$secs" "$(expected_done "$n")")")
  [ -n "${KEEP_EVIDENCE:-}" ] || rm -rf "$dir/out/sites"
}

LABEL="(a) \`survey --parallel $PARALLEL\`, default (\`--consent none,reject\`)"
run_local a "$SITES" --parallel "$PARALLEL"
LABEL="(b) \`survey --parallel $PARALLEL --consent none\` (load only)"
run_local b "$SITES" --parallel "$PARALLEL" --consent none

# (c) Blacklight, one process per site as it runs, one site after another.
BL_NOTE=""
if [ -z "${SKIP_BLACKLIGHT:-}" ] && [ "$K" -gt 0 ]; then
  mkdir -p "$BL" "$W/bl"
  cp scripts/bench/blacklight.js "$BL/"
  if [ ! -d "$BL/node_modules/@themarkup/blacklight-collector" ]; then
    (cd "$BL"
     [ -f package.json ] || npm init -y >/dev/null
     PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent @themarkup/blacklight-collector@3.11.0)
  fi
  log "(c) Blacklight over the first $K sites, one after another"
  python3 -c "import csv, sys; [print(r['url']) for r in list(csv.DictReader(open(sys.argv[1])))[:int(sys.argv[2])]]" \
    "$W/farm/sites.csv" "$K" > "$W/bl/urls"
  : > "$W/bl/times"
  i=0
  while IFS= read -r url; do
    i=$((i + 1))
    mkdir -p "$W/bl/$i"
    t0=$(now)
    rc=0
    NODE_PATH="$BL/node_modules" timeout 180 node "$BL/blacklight.js" "$url" "$W/bl/$i" "$CHROME" "$PORT" \
      > "$W/bl/$i.out" 2> "$W/bl/$i.err" || rc=$?
    t1=$(now)
    awk -v a="$t0" -v b="$t1" -v rc="$rc" 'BEGIN { print b - a, rc }' >> "$W/bl/times"
    rm -rf "${W:?}/bl/$i"
  done < "$W/bl/urls"
  read -r BL_N BL_OK BL_MEAN < <(awk '{ s += $1; if ($2 == 0) ok++ } END { printf "%d %d %.3f\n", NR, ok, s / NR }' "$W/bl/times")
  ROWS+=("$(awk -v n="$SITES" -v k="$BL_N" -v ok="$BL_OK" -v mean="$BL_MEAN" 'BEGIN {
    printf "| (c) Blacklight, one site after another: %d sites measured, x %d/%d extrapolated | %d | %.0f | %.0f | – | %d of %d exited 0 |\n",
      k, n, k, n, mean * n, 3600 / mean, ok, k }')")
  LABEL="(c) leakscope over the same $K sites, one at a time (\`--parallel 1 --consent none\`)"
  run_local c "$K" --parallel 1 --consent none
  BL_NOTE="Blacklight took $BL_MEAN s per site on average over the first $BL_N sites (a process and a browser each, as it runs): $SITES sites would take $(awk -v m="$BL_MEAN" -v n="$SITES" 'BEGIN { printf "%.1f", m * n / 3600 }') h, extrapolated, not measured. It runs with blacklight.js's own Chromium flags (every host mapped to the farm's port, no V8 heap cap), so the farm's DNS-failure, refused, TLS-error and crash sites do not fail for it as they do for leakscope; its device is Blacklight's default (a phone)."
fi

# (d) Workers sharing PostgreSQL, each pinned to its own core.
if [ -z "${SKIP_PG:-}" ]; then
  if [ -z "${LEAKSCOPE_TEST_PG:-}" ]; then
    if pgenv=$(scripts/start-test-postgres.sh); then
      eval "$pgenv"
    else
      log "(d) skipped: no PostgreSQL (scripts/start-test-postgres.sh needs root; or set LEAKSCOPE_TEST_PG)"
    fi
  fi
  if [ -n "${LEAKSCOPE_TEST_PG:-}" ]; then
    PG=$LEAKSCOPE_TEST_PG
    CORES=$(nproc)
    for workers in 1 2; do
      if [ "$workers" -gt "$CORES" ]; then
        log "(d) $workers workers skipped: $CORES core(s)"
        continue
      fi
      name=bench-$$-w$workers
      dir=$W/d$workers
      mkdir -p "$dir"
      list_of "$SITES" "$dir/list.csv"
      if ! "$LS" survey "$dir/list.csv" --db "$PG" --name "$name" --no-work "${CARGS[@]}" 2> "$dir/create.log"; then
        log "(d) could not queue the survey (see $dir/create.log)"
        continue
      fi
      log "(d) $workers worker(s), one core each, PostgreSQL: $SITES sites"
      t0=$(now)
      wpids=()
      for ((c = 0; c < workers; c++)); do
        taskset -c "$c" "$LS" survey work --db "$PG" --name "$name" --out "$dir/w$c" \
          --parallel "$PARALLEL" --chrome "$CHROME" 2> "$dir/w$c.log" &
        wpids+=($!)
        PIDS+=($!)
      done
      for p in "${wpids[@]}"; do wait "$p" || log "(d) a worker exited $? (see $dir/)"; done
      t1=$(now)
      secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
      if [ "$workers" -eq 1 ]; then
        label="(d) 1 worker on core 0 (\`taskset -c 0\`), PostgreSQL"
      else
        label="(d) 2 workers on cores 0 and 1, one PostgreSQL"
      fi
      ROWS+=("$({ psql "$PG" -At -F'|' -c "SELECT status, COALESCE(finished, '') FROM sites WHERE survey = '$name'" || true; } \
        | python3 "$W/row.py" "$label" "$SITES" "$secs" "$(expected_done "$SITES")")")
      # The bench surveys leave nothing in the test database.
      psql "$PG" -q -c "DELETE FROM finding_categories WHERE survey = '$name'" -c "DELETE FROM findings WHERE survey = '$name'" \
        -c "DELETE FROM events WHERE survey = '$name'" -c "DELETE FROM runs WHERE survey = '$name'" \
        -c "DELETE FROM site_columns WHERE survey = '$name'" -c "DELETE FROM sites WHERE survey = '$name'" \
        -c "DELETE FROM surveys WHERE name = '$name'" || log "(d) survey $name left in the test database"
      [ -n "${KEEP_EVIDENCE:-}" ] || rm -rf "$dir"/w*/sites
    done
  fi
fi

# (e) Memory over a long survey: reuse (a)'s samples when it was that long.
if [ "$RSS_SITES" -eq "$SITES" ]; then
  RSS_DIR=$W/a
else
  LABEL="(e) \`survey --parallel $PARALLEL\`, default, for memory"
  run_local e "$RSS_SITES" --parallel "$PARALLEL"
  RSS_DIR=$W/e
fi

echo
echo "leakscope survey on the made-up farm: $(nproc) cores, $("$CHROME" --version 2>/dev/null | head -n 1 || echo "$CHROME")."
echo
echo '| run | sites | wall s | sites/h (wall) | sites/h (10-90 %) | done / unreachable / error (expected done) |'
echo '|---|---|---|---|---|---|'
for r in "${ROWS[@]}"; do echo "$r"; done
echo
[ -z "$BL_NOTE" ] || { echo "$BL_NOTE"; echo; }
echo "(e) Resident memory over a $RSS_SITES-site survey (\`--parallel $PARALLEL\`, default settings), sampled every second:"
echo
echo '| process | peak MiB | at 10 % of sites | at 50 % | at 90 % |'
echo '|---|---|---|---|---|'
awk '
  $4 >= 0 && $5 > 0 {
    if ($2 > peak) peak = $2
    if ($3 > tpeak) tpeak = $3
    for (i = 1; i <= 3; i++) if (!(i in at) && $4 >= $5 * p[i]) { at[i] = $2; tat[i] = $3 }
  }
  BEGIN { p[1] = 0.1; p[2] = 0.5; p[3] = 0.9 }
  function mib(k) { return k == "" ? "–" : sprintf("%.0f", k / 1024) }
  END {
    printf "| leakscope | %s | %s | %s | %s |\n", mib(peak), mib(at[1]), mib(at[2]), mib(at[3])
    printf "| leakscope and its Chromium | %s | %s | %s | %s |\n", mib(tpeak), mib(tat[1]), mib(tat[2]), mib(tat[3])
  }' "$RSS_DIR/samples"
