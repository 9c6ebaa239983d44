#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for the tests of the Slurm executor (docs/slurm.md): Debian's munge, slurmctld and
# slurmd, with a configuration, keys, state and logs in a temp dir, on free loopback ports. It exports
# LOGQUOTA_TEST_SLURM_CONF=<dir>/slurm.conf (the clients find the cluster through SLURM_CONF, which the tests set from
# it); unset, those tests skip with the reason.
#
#   source .ci/slurm.sh              start it for the rest of this shell; stopped and removed when the shell exits
#   .ci/slurm.sh -- COMMAND...       run COMMAND with the variable set, then stop it (local development:
#                                    .ci/slurm.sh -- dotnet test tests/Runner.Tests --filter Slurm)
#   .ci/slurm.sh                     start it, print the variable, and wait for Ctrl-C
#
# Needs root (slurmd runs jobs as their submitter, and its cgroups need root). Best effort when sourced: where Slurm
# cannot be installed or started, it warns and the tests skip.

logquota_slurm_start() {
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1 ||
      ! command -v srun >/dev/null 2>&1; then
    { apt-get install -y slurmctld slurmd slurm-client munge ||
      { apt-get update && apt-get install -y slurmctld slurmd slurm-client munge; }; } >/dev/null 2>&1
  fi
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "warning: Slurm is not installed and could not be; the Slurm tests will skip" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "warning: a Slurm cluster needs root here (slurmd starts jobs as their submitter); the Slurm tests will skip" >&2
    return 1
  fi

  LOGQUOTA_SLURM_DIR=$(mktemp -d /tmp/logquota-slurm.XXXXXX)
  chmod 0755 "$LOGQUOTA_SLURM_DIR"
  local dir=$LOGQUOTA_SLURM_DIR node ctld_port slurmd_port cpus memory
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 0700 "$dir/munge"
  node=$(uname -n)
  read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
  cpus=$(nproc)
  memory=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

  # A key of this cluster's own: nothing of the host's munge (if any) is used or changed.
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 0400 "$dir/munge/munge.key"
  if ! munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" 2>"$dir/munge/start.log"; then
    echo "warning: munged did not start ($(tail -1 "$dir/munge/start.log")); the Slurm tests will skip" >&2
    rm -rf "$dir"
    return 1
  fi

  # cgroup v1 here (the hybrid layout): proctrack/cgroup holds each job's processes (a kill reaches all of them), and
  # task/cgroup enforces --mem (an over-limit job ends OUT_OF_MEMORY).
  cat > "$dir/cgroup.conf" <<EOF
CgroupPlugin=autodetect
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
EOF
  cat > "$dir/slurm.conf" <<EOF
ClusterName=logquota-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that names no --mem is given the whole node's memory and every other job waits behind it.
DefMemPerCPU=1024
ReturnToService=2
KillWait=5
InactiveLimit=0
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=ALL MaxTime=60 State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  if ! slurmctld -i 2>"$dir/slurmctld.start.log"; then
    echo "warning: slurmctld did not start ($(tail -1 "$dir/slurmctld.start.log")); the Slurm tests will skip" >&2
    logquota_slurm_stop
    return 1
  fi
  if ! slurmd 2>"$dir/slurmd.start.log"; then
    echo "warning: slurmd did not start ($(tail -1 "$dir/slurmd.start.log")); the Slurm tests will skip" >&2
    logquota_slurm_stop
    return 1
  fi

  # Up when the node answers idle; a minute is generous for a busy two-core machine.
  local deadline=$((SECONDS + 60)) state=""
  while [ $SECONDS -lt $deadline ]; do
    state=$(sinfo -h -n "$node" -o '%t' 2>/dev/null | head -1)
    [ "$state" = "idle" ] && break
    sleep 0.5
  done
  if [ "$state" != "idle" ]; then
    echo "warning: the Slurm node did not come up idle within 60 s (state: ${state:-none}; $(tail -1 "$dir/slurmd.log" 2>/dev/null)); the Slurm tests will skip" >&2
    logquota_slurm_stop
    return 1
  fi

  export LOGQUOTA_TEST_SLURM_CONF="$dir/slurm.conf"
  echo "Slurm $(slurmctld -V | awk '{print $2}') on $node, controller 127.0.0.1:$ctld_port (LOGQUOTA_TEST_SLURM_CONF is set)"
}

logquota_slurm_stop() {
  local dir=${LOGQUOTA_SLURM_DIR:-}
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    export SLURM_CONF="$dir/slurm.conf"
    # Every job of this cluster ends before the daemons do: no process of a test job outlives the cluster.
    scancel --full --quiet --user=root 2>/dev/null
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ] && [ -n "$(squeue -h 2>/dev/null)" ]; do sleep 0.5; done
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
      [ -f "$pidfile" ] || continue
      local pid
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null
      deadline=$((SECONDS + 30))
      while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null
    done
    # The groups slurmd made for its jobs, once empty (a v1 group with a process in it cannot be removed).
    find /sys/fs/cgroup/*/slurm* -depth -type d -exec rmdir {} \; 2>/dev/null
    rm -rf "$dir"
  fi
  unset LOGQUOTA_SLURM_DIR LOGQUOTA_TEST_SLURM_CONF SLURM_CONF
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced (by .ci/run): chain onto an EXIT trap the caller may already have.
  if logquota_slurm_start; then
    unset SLURM_CONF
    trap "logquota_slurm_stop; $(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
  fi
else
  set -uo pipefail
  logquota_slurm_start || exit 1
  unset SLURM_CONF
  trap logquota_slurm_stop EXIT
  trap 'exit 130' INT TERM
  if [ "${1:-}" = "--" ]; then
    shift
    "$@"
    exit $?
  fi
  echo "export LOGQUOTA_TEST_SLURM_CONF='$LOGQUOTA_TEST_SLURM_CONF'"
  echo "Ctrl-C stops and removes it."
  # In the background and waited for: bash runs a trap only between commands, so a foreground sleep would hold off
  # Ctrl-C or a TERM (and the cluster's removal) for up to an hour.
  while true; do sleep 3600 & wait $!; done
fi
