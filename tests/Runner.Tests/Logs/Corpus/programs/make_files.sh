#!/usr/bin/env bash
# A directory of 240 files of mixed kinds (plain, executable, archives, images, links, dirs) for ls --color.
set -euo pipefail
mkdir -p "$1" && cd "$1"
for i in $(seq 1 40); do
  touch "notes_$i.txt" "photo_$i.png" "backup_$i.tar.gz"
  echo '#!/bin/sh' > "script_$i.sh" && chmod +x "script_$i.sh"
  mkdir -p "dir_$i"
  ln -sf "notes_$i.txt" "link_$i"
done
