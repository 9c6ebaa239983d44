#!/usr/bin/env bash
# A local git repository with enough objects (3 commits of 400 files) for clone to draw its progress.
set -euo pipefail
mkdir -p "$1" && cd "$1"
git init -q
for c in 1 2 3; do
  for i in $(seq 1 400); do echo "commit $c file $i $(seq 1 $((i % 50)) | tr '\n' ' ')" > "f$i.txt"; done
  git add . && git -c user.name=corpus -c user.email=corpus@example.invalid commit -qm "commit $c"
done
