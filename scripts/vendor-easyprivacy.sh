#!/usr/bin/env bash
# Vendors EasyPrivacy into data/easyprivacy/ from Debian's uBlock Origin
# package, which ships the list verbatim (assets/thirdparties/easylist/).
# Going through the Debian archive gives a signed, versioned, reproducible
# source instead of whatever easylist.to serves today.
#
# The list is benchmark data only: crates/leakscope-bench builds Brave's
# `adblock` engine from it for the side-by-side comparison. Nothing in
# leakscope links or embeds it.
#
# Usage: scripts/vendor-easyprivacy.sh   (needs apt-get and dpkg-deb)
set -euo pipefail

PKG=webext-ublock-origin-firefox
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/easyprivacy"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
# apt warns that it downloads unsandboxed when run as root; harmless.
apt-get download "$PKG" >/dev/null
deb=$(ls "$PKG"_*.deb)
version=$(dpkg-deb -f "$deb" Version)
sha=$(sha256sum "$deb" | cut -d' ' -f1)
dpkg-deb -x "$deb" x

list=$(find x -path '*/assets/thirdparties/easylist/easyprivacy.txt' | head -n1)
copyright="x/usr/share/doc/$PKG/copyright"
[ -n "$list" ] || { echo "easyprivacy.txt not found in $deb" >&2; exit 1; }
[ -f "$copyright" ] || { echo "copyright file not found in $deb" >&2; exit 1; }

mkdir -p "$out"
cp "$list" "$out/easyprivacy.txt"

# LICENSE: the Debian copyright stanza for the list, its two licences as
# Debian states them, and the full GPL-3 text when the system has it.
{
  echo "EasyPrivacy (data/easyprivacy/easyprivacy.txt)"
  echo "Copyright (C) The EasyList authors (https://easylist.to/)"
  echo "Dual licensed: GPL-3.0-or-later OR CC-BY-SA-3.0-or-later"
  echo "(https://easylist.to/pages/licence.html)."
  echo
  echo "As recorded in the Debian package's copyright file:"
  echo
  awk '/^Files: uAssets\/thirdparties\/easylist\//{p=1} p&&/^$/{exit} p' "$copyright"
  echo
  # The standalone paragraph (after a blank line), not a Files stanza's field.
  awk 'prev=="" && /^License: GPL-3\+$/{p=1} p&&/^$/{exit} p{print} {prev=$0}' "$copyright"
  echo
  awk '/^License: CC-BY-SA-3.0\+$/{p=1} p&&/^$/{exit} p' "$copyright"
  if [ -f /usr/share/common-licenses/GPL-3 ]; then
    echo
    echo "----------------------------------------------------------------------"
    echo "Full text of the GNU General Public License, version 3:"
    echo
    cat /usr/share/common-licenses/GPL-3
  fi
} > "$out/LICENSE"

cat > "$out/NOTICE" <<NOTICE
EasyPrivacy, vendored for benchmarks only.

What:    EasyPrivacy filter list (Adblock Plus syntax), by the EasyList authors,
         https://easylist.to/ -- licence: GPL-3.0-or-later OR CC-BY-SA-3.0-or-later,
         see LICENSE in this folder.
From:    Debian package $PKG, version $version
         (source package ublock-origin), file
         $(echo "$list" | sed 's|^x||')
         .deb sha256: $sha
List:    sha256 $(sha256sum "$out/easyprivacy.txt" | cut -d' ' -f1), $(wc -l < "$out/easyprivacy.txt") lines
How:     scripts/vendor-easyprivacy.sh (apt-get download + dpkg-deb -x); rerun to refresh.
Use:     read at run time by crates/leakscope-bench (side-by-side comparison with
         Brave's adblock crate). It is data, not code: it is not compiled into,
         linked with or shipped by leakscope, and leakscope's own licence does
         not apply to it.
Changes: none; the file is copied byte for byte.
NOTICE

echo "wrote $out/easyprivacy.txt ($version)"
