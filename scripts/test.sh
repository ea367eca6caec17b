#!/usr/bin/env bash
# The whole test suite, as CI runs it. Needs ../shared beside the checkout.
# Says what it is doing at each stage, and stops the PostgreSQL it started
# (and removes its data) on every exit, failure and Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus is missing; the corpus tests read real captures from it." >&2
  exit 2
fi
# Chromium for the scanner tests, Meta's Python and Node SDKs for the CAPI and
# gateway tests (skips what is there).
stage "setup: Chromium, Meta's SDKs (skips what is installed)"
scripts/setup.sh

# A throwaway PostgreSQL on loopback for the gateway's shared-queue test (root
# only: it runs Debian's server as the postgres user). Without it that test skips.
if [ "$(id -u)" -eq 0 ] && [ -z "${LEAKSCOPE_TEST_PG:-}" ]; then
  stage "PostgreSQL on 127.0.0.1 for the shared-queue tests"
  eval "$(scripts/start-test-postgres.sh)"
  trap 'scripts/start-test-postgres.sh --stop >/dev/null 2>&1 || true' EXIT
  trap 'exit 130' INT TERM
fi

stage "cargo fmt --check"
cargo fmt --all -- --check
stage "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings
stage "cargo test (unit, integration, browser, corpus, SDK)"
cargo test --workspace
stage "all tests passed"
