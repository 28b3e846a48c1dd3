#!/usr/bin/env bash
# Renders an sr4g eval report.html with headless Chromium (no network, no GPU) and writes a PNG screenshot, to check
# that the self-contained page displays: bar charts, bias chart, frequency scatter.
#
#   scripts/render-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
#
# Needs Debian's chromium:  apt-get install -y --no-install-recommends chromium
# Example (after `mvn -pl core,cli test`, which leaves synthetic reports in cli/target/eval-e2e/):
#   scripts/render-report.sh cli/target/eval-e2e/base/report.html /tmp/report.png
set -euo pipefail
report="${1:?usage: scripts/render-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]}"
out="${2:-/tmp/report.png}"
size="${3:-1200x2400}"
[ -f "$report" ] || { echo "render-report: no such file: $report" >&2; exit 2; }
command -v chromium >/dev/null || { echo "render-report: chromium not found (apt-get install -y --no-install-recommends chromium)" >&2; exit 2; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$profile" --screenshot="$out" --window-size="${size/x/,}" \
  "file://$(readlink -f "$report")" 2>/dev/null
[ -s "$out" ] || { echo "render-report: chromium wrote no screenshot" >&2; exit 1; }
echo "wrote $out"
