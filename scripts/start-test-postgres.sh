#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's package) on 127.0.0.1:55432 for the
# gateway's shared-queue test and prints the export line for it:
#   eval "$(scripts/start-test-postgres.sh)"
# Stop it and remove its data: scripts/start-test-postgres.sh --stop
# Needs root (CI runs as root). Idempotent within one machine session.
set -euo pipefail
PORT=${LEAKSCOPE_TEST_PG_PORT:-55432}
DIR=${LEAKSCOPE_TEST_PG_DIR:-/tmp/leakscope-test-pg}
if [ "${1:-}" = "--stop" ]; then
  if [ -d "$DIR/data" ]; then
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit 0
fi
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  chown postgres "$DIR"
  su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $DIR/data -w -l $DIR/pg.log -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1' start" >/dev/null
  psql -h 127.0.0.1 -p "$PORT" -U postgres -qc 'CREATE DATABASE leakscope_test' >&2
fi
echo "export LEAKSCOPE_TEST_PG='host=127.0.0.1 port=$PORT user=postgres dbname=leakscope_test' LEAKSCOPE_TEST_PG_DIR='$DIR'"
