#!/usr/bin/env bash
# Debian's prometheus package (prometheus, promtool) for the metrics tests (tests/EndToEnd.Tests/Metrics). Best
# effort: where it cannot be installed, those tests are skipped with the reason.
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && exit 0
{ apt-get install -y --no-install-recommends prometheus || { apt-get update && apt-get install -y --no-install-recommends prometheus; }; } >/dev/null 2>&1 ||
  echo "warning: could not install prometheus; the Prometheus and promtool tests will skip"
# The package starts a Prometheus service on :9090; the tests start their own, so it is not left running.
if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
exit 0
