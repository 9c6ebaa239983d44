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
