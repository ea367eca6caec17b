#!/usr/bin/env bash
# The whole test suite, as CI runs it. Needs ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus is missing; the corpus tests read real captures from it." >&2
  exit 2
fi
# Chromium for the scanner tests, Meta's SDKs for the CAPI tests (skips what is there).
scripts/setup.sh

# The gateway tests drive Meta's official Node Business SDK too (pinned in tests/sdk/node/package.json).
if command -v npm >/dev/null 2>&1 && [ ! -d tests/sdk/node/node_modules/facebook-nodejs-business-sdk ]; then
  (cd tests/sdk/node && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
