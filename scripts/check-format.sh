#!/usr/bin/env bash
# Fails, listing the files, when clang-format (.clang-format, Google base) would change any
# C++ source tracked by git or newly added. One clang-format process checks every file (one
# process per file spent ~100 s of a loaded 2-core machine starting up; one process, ~5 s).
#   scripts/check-format.sh [FILE...]   (files given: check those instead, e.g. the lint's test)
set -euo pipefail
if (($#)); then
  files=("$@")
else
  cd "$(dirname "$0")/.."
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cc' '*.cpp' \
    | while read -r f; do [ -f "$f" ] && echo "$f"; done)
fi
if ((${#files[@]} == 0)); then
  echo "clang-format: no C++ file found"
  exit 1
fi
status=0
report=$(clang-format --dry-run --Werror -- "${files[@]}" 2>&1) || status=$?
if ((status == 0)); then
  echo "clang-format: ${#files[@]} files clean"
  exit 0
fi
# A violation is reported as "<file>:<line>:<col>: error: code should be clang-formatted".
mapfile -t bad < <(sed -nE 's/^(.+):[0-9]+:[0-9]+: error: code should be clang-formatted.*/\1/p' \
  <<<"$report" | sort -u)
if ((${#bad[@]} == 0)); then
  # Failed for another reason (an unreadable file, a broken .clang-format): say what it said.
  echo "clang-format failed (exit $status):"
  head -20 <<<"$report"
  exit 1
fi
echo "clang-format would change these files (run: clang-format -i FILE):"
printf '  %s\n' "${bad[@]}"
exit 1
