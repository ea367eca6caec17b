#!/usr/bin/env bash
# Installs what leakscope needs beyond Rust, from the package registries only:
# Debian's Chromium (the scanner's browser; nothing downloads a browser at run
# time) and Meta's official Business SDKs for the interoperability tests.
# Idempotent: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if [ ! -x /usr/lib/chromium/chromium ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${need_apt[*]} (Debian packages)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The CAPI tests drive Meta's official Python Business SDK against loopback
# servers. It goes into the project's own virtual environment (.venv, ignored
# by git), never into the system's Python; the tests look there first.
if ! .venv/bin/python -c 'import facebook_business' 2>/dev/null; then
  echo "setup: installing Meta's Python Business SDK into .venv/"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
fi

# The gateway tests drive Meta's official Node Business SDK (npm, pinned in tests/sdk/node).
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d tests/sdk/node/node_modules/facebook-nodejs-business-sdk ]; then
  echo "setup: installing Meta's Node Business SDK into tests/sdk/node/node_modules/"
  (cd tests/sdk/node && npm ci --no-audit --no-fund --loglevel=error)
fi
