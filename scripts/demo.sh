#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a two-region testbed (us-east, eu-west)
# and the mirror between them, writes records in us-east and shows them arrive in eu-west, then
# runs a short verified load through the mirror (regionmirror loadtest, with its live line).
# On a terminal it then keeps everything up until Ctrl-C (set DEMO_WAIT=0 to exit at once).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh regionmirror
work=$(mktemp -d /tmp/regionmirror-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
exec build/apps/regionmirror testbed --regions us-east,eu-west --brokers 3 \
  --topics us-east:orders:6,eu-west:us-east.orders:6,us-east:loadtest-0:6,eu-west:us-east.loadtest-0:6 \
  --endpoints "$work/endpoints.json" \
  -- bash scripts/demo-run.sh "$work"
