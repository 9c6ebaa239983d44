#!/bin/sh
# The monitoring profile's Prometheus (docker-compose.yml): runs on a copy of prometheus.yml and alerts.yml in
# /tmp/logquota, with the scrape tokens written beside them (0600), so that no token is in a committed file.
set -eu
dir=/tmp/logquota
mkdir -p "$dir/data"
chmod 700 "$dir"
cp /etc/logquota-prometheus/prometheus.yml /etc/logquota-prometheus/alerts.yml "$dir/"
umask 077

# The server's token: its metrics token, else the admin token set for compose, else the one it generated on its
# first start (in its volume, which this service mounts read-only and may read as the server's uid).
server_token="${DSTACK_SERVER_METRICS_TOKEN:-${DSTACK_SERVER_ADMIN_TOKEN:-}}"
if [ -z "$server_token" ]; then
  server_token=$(cat /server-data/admin-token)
fi
printf '%s' "$server_token" > "$dir/server-token"
printf '%s' "${DSTACK_RUNNER_METRICS_TOKEN:-$DSTACK_RUNNER_TOKEN}" > "$dir/runner-token"
unset server_token DSTACK_SERVER_METRICS_TOKEN DSTACK_SERVER_ADMIN_TOKEN DSTACK_RUNNER_METRICS_TOKEN DSTACK_RUNNER_TOKEN

exec /bin/prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --web.listen-address=:9090
