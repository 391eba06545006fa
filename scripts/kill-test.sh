#!/usr/bin/env bash
# kill -9 robustness of the mirror, longer than the suite's 5 rounds: the mirror is killed at
# a random moment while copying, ROUNDS times (default 20), then the target is compared record
# by record with the source (0 lost, 0 duplicated expected). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
RM_KILL_ROUNDS=${ROUNDS:-20} build/tests/mirror_robustness_tests \
  --gtest_filter='MirrorRobustness.KillNineAtRandomMomentsLosesAndDuplicatesNothing'
