#!/usr/bin/env bash
# The whole test suite: installs and builds what is missing (scripts/setup.sh), then runs
# every ctest test (unit, integration, robustness, lint) and prints ctest's summary.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j"${CTEST_JOBS:-2}" "$@"
