#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (README, "Running on PostgreSQL with several replicas"): Debian's
# PostgreSQL, in a temp dir, on a free loopback port, owned by a non-root user (initdb refuses root). It exports
# LOGQUOTA_TEST_POSTGRES=postgresql://logquota:…@127.0.0.1:PORT/postgres, a superuser URL the tests use to create
# and drop a database of their own each; unset, those tests skip with the reason.
#
#   source .ci/postgres.sh              start it for the rest of this shell; stopped and removed when the shell exits
#   .ci/postgres.sh -- COMMAND...       run COMMAND with the variable set, then stop it (local development:
#                                       .ci/postgres.sh -- dotnet test tests/Server.Tests)
#   .ci/postgres.sh                     start it, print the variable, and wait for Ctrl-C
#
# Best effort when sourced: where PostgreSQL cannot be installed or started, it warns and the tests skip.

logquota_pg_start() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ]; then
    { apt-get install -y postgresql || { apt-get update && apt-get install -y postgresql; }; } >/dev/null 2>&1
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  fi
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "warning: PostgreSQL is not installed and could not be; the PostgreSQL tests will skip" >&2
    return 1
  fi

  # initdb and postgres refuse to run as root: as root the cluster belongs to an unprivileged system user.
  local owner runas=()
  owner=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner" ||
      { echo "warning: could not create a user for PostgreSQL; the PostgreSQL tests will skip" >&2; return 1; }
    runas=(runuser -u "$owner" --)
  fi

  LOGQUOTA_PG_DIR=$(mktemp -d /tmp/logquota-pg.XXXXXX)
  chmod 0755 "$LOGQUOTA_PG_DIR"
  chown "$owner" "$LOGQUOTA_PG_DIR"
  local password port
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" > "$LOGQUOTA_PG_DIR/pwfile"
  chown "$owner" "$LOGQUOTA_PG_DIR/pwfile"
  chmod 0600 "$LOGQUOTA_PG_DIR/pwfile"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

  if ! "${runas[@]}" "$bin/initdb" -D "$LOGQUOTA_PG_DIR/data" -U logquota --pwfile="$LOGQUOTA_PG_DIR/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOGQUOTA_PG_DIR/initdb.log" 2>&1; then
    echo "warning: initdb failed ($(tail -1 "$LOGQUOTA_PG_DIR/initdb.log")); the PostgreSQL tests will skip" >&2
    rm -rf "$LOGQUOTA_PG_DIR"
    return 1
  fi
  rm -f "$LOGQUOTA_PG_DIR/pwfile"

  # Durability settings off: the tests kill server replicas, never this cluster, and share two cores. Each test
  # has its own database and pool, hence the connection limit.
  if ! "${runas[@]}" "$bin/pg_ctl" -D "$LOGQUOTA_PG_DIR/data" -l "$LOGQUOTA_PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $LOGQUOTA_PG_DIR -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null; then
    echo "warning: PostgreSQL did not start ($(tail -1 "$LOGQUOTA_PG_DIR/server.log")); the PostgreSQL tests will skip" >&2
    rm -rf "$LOGQUOTA_PG_DIR"
    return 1
  fi

  LOGQUOTA_PG_STOP=("${runas[@]}" "$bin/pg_ctl" -D "$LOGQUOTA_PG_DIR/data" -m immediate -w stop)
  export LOGQUOTA_TEST_POSTGRES="postgresql://logquota:$password@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (LOGQUOTA_TEST_POSTGRES is set)"
}

logquota_pg_stop() {
  if [ -n "${LOGQUOTA_PG_DIR:-}" ] && [ -d "$LOGQUOTA_PG_DIR" ]; then
    "${LOGQUOTA_PG_STOP[@]}" >/dev/null 2>&1
    rm -rf "$LOGQUOTA_PG_DIR"
  fi
  unset LOGQUOTA_PG_DIR LOGQUOTA_TEST_POSTGRES
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced (by .ci/run): chain onto an EXIT trap the caller may already have.
  if logquota_pg_start; then
    trap "logquota_pg_stop; $(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
  fi
else
  set -uo pipefail
  logquota_pg_start || exit 1
  trap logquota_pg_stop EXIT
  trap 'exit 130' INT TERM
  if [ "${1:-}" = "--" ]; then
    shift
    "$@"
    exit $?
  fi
  echo "export LOGQUOTA_TEST_POSTGRES='$LOGQUOTA_TEST_POSTGRES'"
  echo "Ctrl-C stops and removes it."
  while true; do sleep 3600; done
fi
