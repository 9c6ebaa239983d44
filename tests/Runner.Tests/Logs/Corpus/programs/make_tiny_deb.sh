#!/usr/bin/env bash
# Builds logquota-corpus-tiny_1.0_all.deb (one small doc file) in $1 and prints its path.
set -euo pipefail
pkg="$1/tiny-deb"
mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/doc/logquota-corpus-tiny"
printf 'Package: logquota-corpus-tiny\nVersion: 1.0\nArchitecture: all\nMaintainer: LogQuota tests <tests@example.invalid>\nDescription: a tiny package reinstalled to capture apt progress\n' > "$pkg/DEBIAN/control"
echo tiny > "$pkg/usr/share/doc/logquota-corpus-tiny/README"
dpkg-deb --build "$pkg" "$1/logquota-corpus-tiny_1.0_all.deb" >/dev/null
echo "$1/logquota-corpus-tiny_1.0_all.deb"
