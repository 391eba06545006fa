#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs scripts/demo-run.sh inside a two-region
# testbed (us-east, eu-west): a link RTT between them, the mirror with offsets, a steady verified
# load with the harness's live line, a consumer group's translated position, and a failover of
# that group to eu-west with us-east down. On a terminal it then keeps everything up until
# Ctrl-C, which stops the mirror and both regions and leaves nothing running.
# Environment: DEMO_WAIT=0 exits at the end instead of waiting (always: waits without a terminal
# too), DEMO_RTT_MS (default 40), DEMO_LOAD_S (seconds of load, default 10), DEMO_RECORDS
# (records written first, default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh regionmirror
exec scripts/demo-run.sh --testbed build/apps/regionmirror
