#!/bin/bash
# `tput init` in the middle of a line (it sends DECSTR, CSI ! p, which leaves the cursor where it is), then four status lines redrawn by walking back
# up with `tput cuu1` once per line and rewriting each with `tput el`, as shell scripts draw a live block.
printf 'deploying 4 services'
tput init
printf '\n'
for s in 1 2 3 4; do echo "service $s: waiting"; done
up=$(tput cuu1); el=$(tput el)
for step in 1 2 3 4 5 6 7 8; do
  sleep 0.05
  printf '%s%s%s%s' "$up" "$up" "$up" "$up"
  for s in 1 2 3 4; do
    if [ $((step + s)) -gt 8 ]; then state="ready"; else state="starting ($((step * 12))%)"; fi
    printf '%sservice %s: %s\n' "$el" "$s" "$state"
  done
done
echo "all services ready"
