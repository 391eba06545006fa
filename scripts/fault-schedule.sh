#!/usr/bin/env bash
# Randomized fault schedule over a two-instance mirror (tests/mirror/fault_schedule_robustness_test.cc),
# longer than the suite's 3 rounds: each round mixes kill -9, short SIGSTOPs, source and target
# brokers down, leader moves, RTT spikes and request errors at random moments under load, then
# checks with kafka-python that every record was copied exactly once. Builds first if needed.
#
#   scripts/fault-schedule.sh [--rounds N] [--seed S] [--cassandra]
#
# --cassandra runs the Cassandra capture's schedule instead
# (tests/src-cdc/cassandra_faults_robustness_test.cc: kill -9, Kafka brokers down, leader moves,
# produce errors while segments arrive; every event of every segment must reach Kafka).
#
# Defaults: 20 rounds, a random seed (printed). Round r uses seed S + r: a failing round is
# replayed alone with --rounds 1 --seed <its seed, printed with the round>.
# RM_FAULT_KEEP_LOGS=<dir> keeps every mirror instance's full log of every round there (a failed
# round's logs are kept in the temp directory anyway; its summary, the last lines, says where).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=20
seed=""
target=mirror_robustness_tests
filter='FaultSchedule.EveryRecordIsCopiedExactlyOnceUnderRandomMixedFaults'
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --cassandra)
      target=src_cdc_robustness_tests
      filter='CassandraFaults.EveryEventIsInKafkaUnderRandomKillsKafkaOutagesAndArrivingSegments'
      shift ;;
    *) echo "usage: $0 [--rounds N] [--seed S] [--cassandra]" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR="$BUILD_DIR" scripts/setup.sh regionmirror "$target" >/dev/null
export RM_FAULT_ROUNDS="$rounds"
if [ -n "$seed" ]; then export RM_FAULT_SEED="$seed"; fi
exec "$BUILD_DIR/tests/$target" --gtest_filter="$filter"
