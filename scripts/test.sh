#!/usr/bin/env bash
# The whole test suite, as CI runs it. Needs ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus is missing; the corpus tests read real captures from it." >&2
  exit 2
fi
# Chromium for the scanner tests, Meta's Python and Node SDKs for the CAPI and
# gateway tests (skips what is there).
scripts/setup.sh

# A throwaway PostgreSQL on loopback for the gateway's shared-queue test (root
# only: it runs Debian's server as the postgres user). Without it that test skips.
if [ "$(id -u)" -eq 0 ] && [ -z "${LEAKSCOPE_TEST_PG:-}" ]; then
  eval "$(scripts/start-test-postgres.sh)"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
