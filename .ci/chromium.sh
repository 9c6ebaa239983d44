#!/usr/bin/env bash
# Sourced by .ci/run: what the web page's browser tests (tests/Web.Tests) need. Debian's Chromium, driven by
# Playwright (its own browser download is not used). Best effort: without Chromium those tests skip with the reason.
if [ ! -x /usr/bin/chromium ]; then
  { apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; } >/dev/null 2>&1 ||
    echo "warning: could not install chromium; the web page's browser tests will skip"
fi

# Screenshots of the list and the run page, and the measured figures, land with the other test results.
export LOGQUOTA_WEB_SCREENSHOTS="$PWD/.ci/results/web"
