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
# Cases in stored-goldens.txt fall into a documented exception of the storing rule (docs/architecture.md): their
# expected log, <case>.stored.golden, is built from xterm.js renders by stored_golden.py.
while read -r name mode; do
  [ -n "$name" ] || continue
  /usr/bin/python3 "$here/stored_golden.py" "$name" "$mode"
done < "$here/stored-goldens.txt"
echo "rendered $(ls "$here"/*.raw | wc -l) corpus goldens"
