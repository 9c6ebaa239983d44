#!/usr/bin/env bash
# Re-renders every corpus <case>.golden from <case>.raw with xterm.js (tests/oracle/render.mjs).
# tests/oracle/regenerate.sh also re-renders sequences.json and random.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
oracle="$here/../../../oracle"
[ -d "$oracle/node_modules" ] || npm ci --prefix "$oracle"
for raw in "$here"/*.raw; do
  node "$oracle/render.mjs" "$raw" > "${raw%.raw}.golden"
done
# Cases in first-frame-stored.txt draw a live display whose first frame is plain lines in a read of its own: the
# runner stores that frame at its line feeds (README, exceptions), so their timed replay expects it before the golden.
while read -r name; do
  [ -n "$name" ] || continue
  first=$(head -n 1 "$here/$name.timing" | cut -d' ' -f2)
  { head -c "$first" "$here/$name.raw" | node "$oracle/render.mjs"; cat "$here/$name.golden"; } > "$here/$name.timed.golden"
done < "$here/first-frame-stored.txt"
echo "rendered $(ls "$here"/*.raw | wc -l) corpus goldens"
