#!/usr/bin/env bash
# Installs the Debian 12 packages regionmirror needs (only those missing; apt-get update at
# most once) and builds the project with -j2 into build/. Idempotent: a second run only
# rebuilds what changed. Run as root (or with sudo available) on a fresh machine.
# Arguments name build targets (default: everything), e.g. `scripts/setup.sh regionmirror`.
# BUILD_DIR, BUILD_TYPE and CMAKE_ARGS (extra configure arguments, split at spaces) choose
# another build, e.g. the sanitizer build of scripts/sanitize.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config clang-format
  librdkafka-dev libboost-dev librocksdb-dev prometheus-cpp-dev libgflags-dev
  libgtest-dev libgmock-dev libpq-dev postgresql-15 postgresql-contrib zlib1g-dev nlohmann-json3-dev
  libyaml-cpp-dev libfmt-dev libspdlog-dev liblz4-dev libdeflate-dev libssl-dev libjemalloc-dev
  liburiparser-dev
  kcat python3 python3-kafka python3-confluent-kafka python3-matplotlib clang libclang-rt-14-dev
  chromium  # tests/loadtest render report.html headless
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of arguments
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${CMAKE_ARGS:-} >/dev/null
if (($#)); then
  cmake --build "$BUILD_DIR" -j2 --target "$@"
else
  cmake --build "$BUILD_DIR" -j2
fi
