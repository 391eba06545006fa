#!/usr/bin/env bash
# The whole test suite: installs and builds what is missing (scripts/setup.sh), then runs
# every ctest test (unit, integration, robustness, lint) and prints ctest's summary.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
status=0
ctest --output-on-failure --timeout 900 -j"${CTEST_JOBS:-2}" "$@" || status=$?
# A failed run ends with a short digest of each failure (assertions, seeds, last lines), so
# the end of a long log, which is what survives when CI cuts its middle, says what failed.
if [ "$status" -ne 0 ]; then /usr/bin/python3 "$root/scripts/failure_digest.py" . || true; fi
exit "$status"
