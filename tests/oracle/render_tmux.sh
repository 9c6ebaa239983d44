#!/usr/bin/env bash
# A third opinion: renders FILE.raw with tmux (a private server on its own socket, 200x50, 200000 lines
# of history) and prints history + screen with wrapped lines joined and trailing blanks trimmed,
# trailing empty lines dropped. Slower than render.mjs (a server per file); used to compare oracles.
set -euo pipefail
raw="$(realpath "$1")"
sock="logquota-oracle-$$"
conf="$(mktemp)"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -f "$conf"' EXIT
printf 'set -g history-limit 200000\nset -g status off\nset -g scroll-on-clear off\n' > "$conf"
# -opost: the capture already holds the program's "\r\n"; tmux's pty must not add a "\r" to a bare "\n".
tmux -L "$sock" -f "$conf" new-session -d -x 200 -y 50 "stty -opost; cat '$raw'; tmux -L '$sock' wait-for -S rendered; sleep 600"
tmux -L "$sock" wait-for rendered
tmux -L "$sock" capture-pane -p -J -S - -E - | sed -e 's/[[:space:]]*$//' | awk '{ lines[NR] = $0 } $0 != "" { last = NR } END { for (i = 1; i <= last; i++) print lines[i] }'
