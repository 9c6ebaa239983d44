#!/usr/bin/env bash
# Re-captures every corpus case under a real 200x50 pty (capture.py), then re-renders the goldens.
# Needs Debian's python3-tqdm and python3-rich (for /usr/bin/python3), git, procps (top), watch, the
# .NET SDK, and root for the apt case (it installs and reinstalls a tiny local package, then removes it).
# Captures of top, watch, ls and git change with the machine; the goldens follow the captures.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
py=/usr/bin/python3
programs="$here/programs"
cap() { "$py" "$here/capture.py" "$@"; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cap tqdm_single -- "$py" "$programs/tqdm_bars.py" single
cap tqdm_nested -- "$py" "$programs/tqdm_bars.py" nested
cap tqdm_parallel -- "$py" "$programs/tqdm_bars.py" parallel
cap tqdm_six_bars -- "$py" "$programs/tqdm_bars.py" six_bars
cap tqdm_leave_false -- "$py" "$programs/tqdm_bars.py" leave_false
cap tqdm_write -- "$py" "$programs/tqdm_bars.py" write
cap tqdm_training -- "$py" "$programs/tqdm_bars.py" training
cap rich_progress -- "$py" "$programs/rich_displays.py" progress
cap rich_live_table -- "$py" "$programs/rich_displays.py" live_table
cap rich_status -- "$py" "$programs/rich_displays.py" status
cap rich_progress_logs -- "$py" "$programs/rich_displays.py" progress_logs
cap docker_pull -- "$py" "$programs/docker_pull.py"
cap live_logs -- "$py" "$programs/live_logs.py"
cap cr_bar -- "$py" "$programs/cr_bar.py"
cap long_lines -- "$py" "$programs/long_lines.py"
cap apt_imitation -- "$py" "$programs/apt_imitation.py"
cap jest_status -- node "$programs/status_block.js" jest
cap log_update -- node "$programs/status_block.js" log_update
cap tput_init_cuu1 -- bash "$programs/tput_loop.sh"
cap clear_phases -- bash "$programs/clear_phases.sh"
cap dashboard_home -- "$py" "$programs/dashboard.py"

# A real `docker pull` when an engine answers and a registry listens on 127.0.0.1:5000 (Debian's docker-registry:
# `docker-registry serve` with `http.addr: 127.0.0.1:5000`): an image of six fresh layers, built with the classic
# builder so that removing it removes its layers, pushed, removed, and pulled back under the pty.
if docker info >/dev/null 2>&1 && curl -sf http://127.0.0.1:5000/v2/ >/dev/null; then
  mkdir -p "$scratch/layers"
  for i in 1 2 3 4 5 6; do head -c $((i * 3 + 4))M /dev/urandom > "$scratch/layers/blob$i"; done
  { echo "FROM ${DOCKER_PULL_BASE:-logquota-local/debian:bookworm-minbase}"; for i in 1 2 3 4 5 6; do echo "COPY blob$i /data/blob$i"; done; } > "$scratch/layers/Dockerfile"
  tag=localhost:5000/logquota-corpus-layers:$$
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$scratch/layers" >/dev/null
  docker push "$tag" >/dev/null && docker rmi "$tag" >/dev/null
  cap docker_pull_real -- docker pull "$tag"
  docker rmi "$tag" >/dev/null
else
  echo "no docker engine or no registry on 127.0.0.1:5000: docker_pull_real kept as it is" >&2
fi

# MSBuild's terminal logger on a tiny console project; restored first, off the record, so the
# captured build downloads nothing.
mkdir -p "$scratch/hello" && (cd "$scratch/hello" && dotnet new console --force >/dev/null && dotnet restore >/dev/null)
cap msbuild_tl -- bash -c "cd '$scratch/hello' && exec dotnet build --tl:on --no-restore"

# apt's own fancy progress, reinstalling a tiny local package (programs/make_tiny_deb.sh builds it).
deb="$("$programs/make_tiny_deb.sh" "$scratch")"
apt-get install -y "$deb" >/dev/null
cap apt_reinstall -- apt-get install -y --reinstall -o Dpkg::Progress-Fancy=1 -o APT::Color=1 "$deb"
dpkg -r logquota-corpus-tiny >/dev/null

"$programs/make_repo.sh" "$scratch/repo"
cap git_clone -- git clone --progress "file://$scratch/repo" "$scratch/clone"

"$programs/make_files.sh" "$scratch/files"
cap ls_color -- bash -c "cd '$scratch/files' && exec ls --color=always"

cap --stop-after 2 --stop-keys q top -- top -d 0.3
cap --stop-after 2 --stop-keys "\\x03" watch_date -- watch -n 0.2 date

"$here/regenerate.sh"
