#!/usr/bin/env bash
# The sanitizer run. Full (the default): an AddressSanitizer + UndefinedBehaviorSanitizer build
# in build-asan/ (gcc, -O1 -g1, no jemalloc, every finding fatal), the unit and robustness tests
# on it (the robustness tests start the sanitized regionmirror binary), then every libFuzzer
# target for a bounded time from its seeds. The fuzzers come from a clang build of their own,
# build-fuzz/ (-DRM_FUZZ=ON: every module library they link compiled with coverage and
# ASan+UBSan instrumentation, cmake/fuzz.cmake); the list of targets and their seed writers is
# that build's fuzzers.tsv, so a new rm_add_fuzz_target() is run here without editing this file.
# --fuzz-only builds and runs only the fuzzers (CI's fuzz stage, .ci/run; README
# "Development"). Installs what is missing first (scripts/setup.sh). Exits non-zero on a failed
# test, a fuzzer finding, or a sanitizer report from any process, including child processes a
# test killed or whose exit status it does not check.
#
#   scripts/sanitize.sh [--labels REGEX] [--modules REGEX] [--fuzz-seconds N] [--no-fuzz]
#                       [ctest args...]
#   scripts/sanitize.sh --fuzz-only [--fuzz-seconds N]
#
# Defaults: --labels 'unit|robustness', every module, --fuzz-seconds 30 per target. --modules
# takes module folders (common, replication, offsets, topology, mirror, src-cdc, testbed,
# loadtest) and builds and runs only their tests, so a slow machine can go one module at a
# time, e.g. `scripts/sanitize.sh --no-fuzz --labels unit --modules 'common|replication'`.
# regionmirror and the smoke drivers are only built when robustness tests are chosen. Extra
# arguments go to ctest, e.g. `scripts/sanitize.sh --no-fuzz -R FaultSchedule` (an -R of one's
# own replaces the module filter). CTEST_JOBS (default 2) as in scripts/test.sh; FUZZ_JOBS
# (default 2) fuzzers run at a time; FUZZ_CMAKE_ARGS are added to the fuzz build's configure
# arguments (e.g. -DRM_DEBUG_LEVEL=0). A fuzzer's finding is kept in
# build-fuzz/fuzz-runs/<name>/artifacts/; the message names the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
labels='unit|robustness'
modules=''
fuzz_seconds=30
fuzz_only=0
ctest_args=()
while (($#)); do
  case "$1" in
    --labels) labels="$2"; shift 2 ;;
    --modules) modules="$2"; shift 2 ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --no-fuzz) fuzz_seconds=0; shift ;;
    --fuzz-only) fuzz_only=1; shift ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done
root=$PWD
asan_dir=build-asan
build=$root/$asan_dir
fuzz_build=$root/build-fuzz

# Warnings stay errors in the normal build; here instrumentation makes gcc's flow analysis
# warn falsely (-Wmaybe-uninitialized, -Wstringop-overflow), so they are only printed. The same
# in the clang build: the normal build's compiler decides what is an error.
sanitize_build() {
  BUILD_DIR="$asan_dir" BUILD_TYPE=Sanitize \
    CMAKE_ARGS="-DRM_SANITIZE=address,undefined -DRM_FUZZ=OFF -DRM_WERROR=OFF" \
    scripts/setup.sh "$@"
}
fuzz_build() {
  BUILD_DIR=build-fuzz BUILD_TYPE=Sanitize \
    CMAKE_ARGS="-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRM_FUZZ=ON \
-DRM_SANITIZE=address,undefined -DRM_WERROR=OFF ${FUZZ_CMAKE_ARGS:-}" \
    scripts/setup.sh "$@"
}

if ((!fuzz_only)); then
  # Configure; build the binary the robustness tests start when they are chosen, then the test
  # binaries of the chosen labels and modules and, with the robustness tests, the smoke drivers.
  sanitize_build help >/dev/null
  all_targets=$(cmake --build "$build" --target help)
  # The run's own check that children's reports reach their files (sanitizer_report_probe).
  targets=(sanitizer_report_probe)
  if [[ robustness =~ ^(${labels})$ ]]; then
    targets+=(regionmirror $(grep -oE "[a-z0-9_]+_fuzz_smoke\$" <<<"$all_targets"))
  fi
  # Test binaries are named after the module folder with '-' as '_' (tests/CMakeLists.txt).
  binaries=${modules//-/_}
  targets+=($(grep -oE "(${binaries:-[a-z0-9_]+})_(${labels})_tests\$" <<<"$all_targets"))
  sanitize_build "${targets[@]}"
fi
if ((fuzz_seconds > 0)); then
  start=$SECONDS
  fuzz_build rm_fuzzers
  echo "sanitize: fuzz build took $((SECONDS - start)) s"
fi

# Every sanitizer report also goes to a file per process, so a finding in a child process (a
# mirror the test killed, a subcommand whose exit status it does not check) fails the run too.
reports=$build/sanitizer-reports
if ((fuzz_only)); then reports=$fuzz_build/sanitizer-reports; fi
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan:log_exe_name=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"

status=0
if ((!fuzz_only)); then
  start=$SECONDS
  (cd "$build" && ctest --output-on-failure --timeout 900 -j"${CTEST_JOBS:-2}" \
     -L "^(${labels})\$" -R "^(${modules:-[a-z0-9-]+}|sanitize)\\." "${ctest_args[@]}") || status=1
  echo "sanitize: tests (${labels}) took $((SECONDS - start)) s"
fi

# One fuzzer: seeds from its writer, then libFuzzer for fuzz_seconds in its own directory (the
# config loaders resolve relative paths). Its reports go to its log (what a finding prints), not
# to $reports. libFuzzer's exit status is kept in <dir>/status: non-zero on a finding.
run_fuzzer() {  # <name> <fuzzer> <seed writer> [writer args...]
  local name=$1 fuzzer=$2 writer=$3
  shift 3
  local dir=$fuzz_build/fuzz-runs/$name
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if ! "$writer" "$@" --write-corpus "$dir/seeds" >"$dir/fuzz.log" 2>&1; then
    echo "the seed writer failed: $writer $* --write-corpus $dir/seeds" >>"$dir/fuzz.log"
    echo seeds >"$dir/status"
    return
  fi
  # New inputs go to corpus/, the seeds stay as they are; a finding is kept in artifacts/.
  local rc=0
  (cd "$dir" &&
    ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1" \
    UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1" \
    "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/" corpus seeds >>fuzz.log 2>&1) ||
    rc=$?
  echo "$rc" >"$dir/status"
}

if ((fuzz_seconds > 0)); then
  start=$SECONDS
  declare -A fuzzer_of=()
  names=()
  while IFS=$'\t' read -r -a line; do
    ((${#line[@]} >= 3)) || continue
    names+=("${line[0]}")
    fuzzer_of[${line[0]}]=${line[1]}
    while (($(jobs -rp | wc -l) >= ${FUZZ_JOBS:-2})); do wait -n || true; done
    run_fuzzer "${line[@]}" </dev/null &
  done <"$fuzz_build/fuzzers.tsv"
  wait
  for name in "${names[@]}"; do
    dir=$fuzz_build/fuzz-runs/$name
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/fuzz.log" | grep -o '[0-9]*$' |
      tail -1 || true)
    if [[ "$(cat "$dir/status")" == 0 ]]; then
      cov=$(grep -oE 'cov: [0-9]+' "$dir/fuzz.log" | tail -1 || true)
      echo "sanitize: fuzz $name: ${fuzz_seconds} s, ${runs:-?} inputs, ${cov:-cov: ?}, no finding"
    elif [[ "$(cat "$dir/status")" == seeds ]]; then
      # Not a finding: the target never ran (e.g. the Cassandra fixtures are not where the
      # seed writer looks; RM_FIXTURES_DIR names them).
      echo "sanitize: fuzz $name did not run: its seed writer failed (log: $dir/fuzz.log)"
      head -3 "$dir/fuzz.log" | sed 's/^/sanitize:   /'
      status=1
    else
      finding=$(find "$dir/artifacts" -type f | head -1)
      echo "sanitize: FUZZ FINDING in $name after ${runs:-?} inputs (log: $dir/fuzz.log)"
      if [[ -n "$finding" ]]; then
        echo "sanitize:   input kept in $finding; replay: ${fuzzer_of[$name]} $finding"
      fi
      # What the finding is and its input, on lines CI's excerpt keeps (.ci/run prints only
      # the sanitize: lines), so a finding on a machine whose files are gone can be replayed:
      # echo <base64> | base64 -d > input.
      grep -m3 -E 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^SUMMARY:' \
        "$dir/fuzz.log" | sed 's/^/sanitize:   /' || true
      grep -m1 '^Base64: ' "$dir/fuzz.log" | sed 's/^/sanitize:   input /' || true
      tail -60 "$dir/fuzz.log"
      status=1
    fi
  done
  echo "sanitize: ${#names[@]} fuzz targets, $((SECONDS - start)) s"
  if ((${#names[@]} == 0)); then
    echo "sanitize: no fuzz target in $fuzz_build/fuzzers.tsv"
    status=1
  fi
fi

if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize: sanitizer reports (from processes the tests or fuzzers ran):"
  for r in "$reports"/*; do
    echo "--- $r"
    head -80 "$r"
  done
  status=1
fi
exit $status
