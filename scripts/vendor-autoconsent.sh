#!/usr/bin/env bash
# Vendors DuckDuckGo's autoconsent (MPL-2.0) into vendor/autoconsent/: the
# page-injection bundle, the full rule set and the licence. The files are
# committed, so builds and CI never need npm; re-run this only to upgrade
# (change VERSION and both pins together, from `npm pack --json` output).
set -euo pipefail

VERSION=16.23.0
SHA512=NTmDhASFf5pUsSwg2TyT9R75GYUcuYZXPyBnRcYgJgozg6RLeXXP9uH8ADxA364yQ2gJBMu83AN/D24Y4nkPKg==
SHA1=fd512a9dad7d0cb8a4a71de68aac0628c0d2b764
TGZ="duckduckgo-autoconsent-${VERSION}.tgz"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/vendor/autoconsent"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack "@duckduckgo/autoconsent@${VERSION}" --silent >/dev/null
[ -f "$TGZ" ] || { echo "npm pack did not produce $TGZ" >&2; exit 1; }

# Verify what npm fetched against our pins, independently of npm's own check.
got512="$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
got1="$(sha1sum "$TGZ" | cut -d' ' -f1)"
if [ "$got512" != "$SHA512" ] || [ "$got1" != "$SHA1" ]; then
    echo "integrity mismatch for $TGZ:" >&2
    echo "  sha512 $got512 (want $SHA512)" >&2
    echo "  sha1   $got1 (want $SHA1)" >&2
    exit 1
fi

tar -xzf "$TGZ" package/dist/autoconsent.playwright.js package/rules/rules.json package/LICENSE
mkdir -p "$dest"
cp package/dist/autoconsent.playwright.js package/rules/rules.json package/LICENSE "$dest/"
cat >"$dest/VERSION" <<NOTE
@duckduckgo/autoconsent ${VERSION}
source: https://registry.npmjs.org/@duckduckgo/autoconsent/-/autoconsent-${VERSION}.tgz
integrity: sha512-${SHA512}
shasum: ${SHA1}
files: dist/autoconsent.playwright.js, rules/rules.json, LICENSE (unmodified)
licence: MPL-2.0 (see LICENSE); vendored by scripts/vendor-autoconsent.sh
NOTE
echo "vendored autoconsent ${VERSION} into ${dest#"$root"/}"
