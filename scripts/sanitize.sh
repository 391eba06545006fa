#!/usr/bin/env bash
# The sanitizer run. Full (the default): an AddressSanitizer + UndefinedBehaviorSanitizer build
# in build-asan/ (gcc, -O1 -g1, no jemalloc, every finding fatal), the unit and robustness tests
# on it (the robustness tests start the sanitized regionmirror binary), then every libFuzzer
# target (clang, ASan + UBSan, parser sources only) for a bounded time from its smoke run's
# seeds. --fuzz-only builds and runs only the fuzzers (seeds from the normal build in build/):
# the candidate for CI after scripts/test.sh (the full run does not fit CI's budget, README
# "Development"; not in .ci/run until measured there). Installs what is missing first (scripts/setup.sh). Exits non-zero on a
# failed test, a fuzzer finding, or a sanitizer report from any process, including child
# processes a test killed or whose exit status it does not check.
#
#   scripts/sanitize.sh [--labels REGEX] [--fuzz-seconds N] [--no-fuzz] [ctest args...]
#   scripts/sanitize.sh --fuzz-only [--fuzz-seconds N]
#
# Defaults: --labels 'unit|robustness', --fuzz-seconds 30 per target. Extra arguments go to
# ctest, e.g. `scripts/sanitize.sh --no-fuzz -R FaultSchedule`. CTEST_JOBS (default 2) as in
# scripts/test.sh. A fuzzer's crashing input is kept in build-asan/fuzz/<target>/artifacts/;
# `build-asan/<dir>/<target> <input>` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
labels='unit|robustness'
fuzz_seconds=30
fuzz_only=0
ctest_args=()
while (($#)); do
  case "$1" in
    --labels) labels="$2"; shift 2 ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --no-fuzz) fuzz_seconds=0; shift ;;
    --fuzz-only) fuzz_only=1; shift ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done
root=$PWD
asan_dir=build-asan
build=$root/$asan_dir
# The corpus writers (the fuzz smoke drivers): sanitized in a full run, else the normal build's.
seeds_dir=$asan_dir
if ((fuzz_only)); then seeds_dir=build; fi

# Warnings stay errors in the normal build; here instrumentation makes gcc's flow analysis
# warn falsely (-Wmaybe-uninitialized, -Wstringop-overflow), so they are only printed.
sanitize_build() {
  BUILD_DIR="$asan_dir" BUILD_TYPE=Sanitize \
    CMAKE_ARGS="-DRM_SANITIZE=address,undefined -DRM_FUZZ=ON -DRM_WERROR=OFF" \
    scripts/setup.sh "$@"
}

# The libFuzzer targets (RM_FUZZ=ON), by build subfolder, and how each gets its seed corpus.
fuzzers=(common/fuzz/http_request_fuzzer offsets/fuzz/offsets_mm2_format_fuzzer
         replication/fuzz/replication_java_properties_fuzzer src-cdc/fuzz/cassandra_segment_fuzzer
         src-cdc/fuzz/pgoutput_fuzzer topology/fuzz/topology_loader_fuzzer)
smoke_drivers=(http_request_fuzz_smoke offsets_mm2_format_fuzz_smoke
               replication_java_properties_fuzz_smoke cassandra_segment_fuzz_smoke
               pgoutput_fuzz_smoke)
fixtures=${RM_FIXTURES_DIR:-$root/../shared/fixtures}
write_corpus() {  # <fuzzer name> <dir>
  local s=$root/$seeds_dir
  case "$1" in
    http_request_fuzzer) "$s/common/fuzz/http_request_fuzz_smoke" --write-corpus "$2" ;;
    offsets_mm2_format_fuzzer)
      "$s/offsets/fuzz/offsets_mm2_format_fuzz_smoke" --write-corpus "$2" ;;
    replication_java_properties_fuzzer)
      "$s/replication/fuzz/replication_java_properties_fuzz_smoke" --write-corpus "$2" ;;
    cassandra_segment_fuzzer)
      "$s/src-cdc/fuzz/cassandra_segment_fuzz_smoke" "$fixtures" --write-corpus "$2" ;;
    pgoutput_fuzzer) "$s/src-cdc/fuzz/pgoutput_fuzz_smoke" --write-corpus "$2" ;;
    topology_loader_fuzzer) mkdir -p "$2" && cp "$root"/tests/topology/testdata/*.yaml "$2"/ ;;
  esac
}

if ((fuzz_only)); then
  BUILD_DIR=build scripts/setup.sh "${smoke_drivers[@]}"
  sanitize_build rm_fuzzers
else
  # Configure and build the binary the robustness tests start, then the test binaries of the
  # chosen labels, the smoke drivers (robustness tests, corpus writers) and the fuzzers.
  sanitize_build regionmirror
  mapfile -t targets < <(cmake --build "$build" --target help |
    grep -oE "[a-z0-9_]+_(${labels})_tests\$|[a-z0-9_]+_fuzz_smoke\$" | sort -u)
  sanitize_build "${targets[@]}"
  if ((fuzz_seconds > 0)); then sanitize_build rm_fuzzers; fi
fi

# Every sanitizer report also goes to a file per process, so a finding in a child process (a
# mirror the test killed, a subcommand whose exit status it does not check) fails the run too.
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan:log_exe_name=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"

status=0
if ((!fuzz_only)); then
  start=$SECONDS
  (cd "$build" && ctest --output-on-failure --timeout 900 -j"${CTEST_JOBS:-2}" \
     -L "^(${labels})\$" "${ctest_args[@]}") || status=1
  echo "sanitize: tests (${labels}) took $((SECONDS - start)) s"
fi

if ((fuzz_seconds > 0)); then
  for f in "${fuzzers[@]}"; do
    name=${f##*/}
    dir=$build/fuzz/$name
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    write_corpus "$name" "$dir/seeds" >/dev/null
    # New inputs go to corpus/, the seeds stay as they are; a finding is kept in artifacts/.
    if "$build/$f" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" "$dir/seeds" \
        >"$dir/fuzz.log" 2>&1; then
      runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/fuzz.log" | grep -o '[0-9]*$')
      echo "sanitize: $name: ${fuzz_seconds} s, ${runs:-?} inputs, no finding"
    else
      echo "sanitize: $name found a problem (input kept in $dir/artifacts/):"
      tail -60 "$dir/fuzz.log"
      status=1
    fi
  done
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
