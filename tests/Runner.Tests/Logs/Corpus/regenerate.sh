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
echo "rendered $(ls "$here"/*.raw | wc -l) corpus goldens"
