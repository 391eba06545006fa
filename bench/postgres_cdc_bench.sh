#!/usr/bin/env bash
# Postgres change capture benchmark (issue 5). Starts its own testbed (one mock broker) and
# Postgres 15, runs pgbench's TPC-B-like script at its maximum rate while
# `regionmirror cdc postgres run` captures the four pgbench tables into Kafka, and prints:
#   pgbench tps; change events/s end to end (read back from Kafka by a confluent-kafka
#   consumer); capture lag p50/p99 (Postgres commit time -> the event is readable in Kafka);
#   the backlog when pgbench stops (WAL bytes not yet confirmed) and how long it took to drain.
# Target: keeps up with pgbench (backlog drained within a second), p99 lag <= 1 s.
#
# Usage: bench/postgres_cdc_bench.sh [seconds] [clients] [scale] [tps]   (default 30 4 4, full
# speed; a tps limits pgbench's rate, e.g. to see the lag at half the maximum)
# RM_BUILD_DIR picks the build directory (default build/). Postgres runs with fsync=off (as the
# tests' server) but synchronous_commit=on, so a commit's WAL reaches the walsender at once.
# Every process it starts is stopped on exit, whatever happens. The machine is shared: the
# figures move with its load.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${RM_BUILD_DIR:-build}
BIN=$BUILD/apps/regionmirror
TABLES=(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history)
if [ "${1:-}" != "--inside" ]; then
  [ -x "$BIN" ] || scripts/setup.sh regionmirror >/dev/null
  topics=""
  for t in "${TABLES[@]}"; do topics+="${topics:+,}us-east:pg.public.$t:8"; done
  # The testbed stays up while the rest of this script runs, and stops after it.
  exec "$BIN" testbed --log_level warn --regions us-east --brokers 1 --topics "$topics" \
    -- bash "$0" --inside "${1:-30}" "${2:-4}" "${3:-4}" "${4:-}"
fi
SECS=$2
CLIENTS=$3
SCALE=$4
RATE=${5:-}
PY=/usr/bin/python3
KAFKA=$($PY -c "import json; print(json.load(open('$RM_TESTBED_ENDPOINTS'))['regions']['us-east']['bootstrap_servers'])")
# shellcheck source=lib/postgres.sh
source bench/lib/postgres.sh
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }

work=$(mktemp -d /tmp/pg-cdc-bench.XXXXXX)
capture_pid=""
consumer_pid=""
sampler_pid=""
cleanup() {
  set +e
  bench_stop_pids $sampler_pid $consumer_pid $capture_pid
  bench_pg_stop "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Postgres
bench_pg_start "$work" 'synchronous_commit = on' 'max_wal_size = 4GB' 'shared_buffers = 128MB'
"$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1

# --- capture
ADMIN=$(bench_free_port)
cat >"$work/cdc.yaml" <<EOY
postgres:
  connection: {host: 127.0.0.1, port: $PGPORT, dbname: postgres, user: postgres, sslmode: disable}
  tables: [$(IFS=,; echo "${TABLES[*]}")]
  topic_prefix: pg
  snapshot_mode: never     # the stream is measured, not the initial snapshot
kafka:
  bootstrap_servers: "$KAFKA"
  properties: {compression.type: lz4, linger.ms: "5"}
admin: {port: $ADMIN}
EOY
"$BIN" cdc postgres provision --config "$work/cdc.yaml" >"$work/provision.log" 2>&1 ||
  { cat "$work/provision.log"; exit 1; }

topic_args=()
for t in "${TABLES[@]}"; do topic_args+=(--topic "pg.public.$t"); done
$PY bench/postgres_cdc_lag.py --bootstrap "$KAFKA" "${topic_args[@]}" --ready-file "$work/ready" \
  ${RM_BENCH_PER_SECOND:+--per-second "$RM_BENCH_PER_SECOND"} >"$work/lag.json" 2>"$work/lag.err" &
consumer_pid=$!
"$BIN" cdc postgres run --config "$work/cdc.yaml" --log_level warn >"$work/capture.log" 2>&1 &
capture_pid=$!
metric() { curl -s "http://127.0.0.1:$ADMIN/metrics" | awk -v n="$1" '$1 ~ "^"n"[{]" {print $2}'; }
for _ in $(seq 300); do
  [ -f "$work/ready" ] && [ "$(metric rm_cdc_postgres_streaming)" = "1" ] && break
  kill -0 "$capture_pid" 2>/dev/null || { cat "$work/capture.log"; exit 1; }
  sleep 0.1
done
[ "$(metric rm_cdc_postgres_streaming)" = "1" ] || { echo "capture not streaming"; cat "$work/capture.log"; exit 1; }

# --- load
echo "pgbench: scale $SCALE, $CLIENTS clients, $SECS s, ${RATE:-full speed}${RATE:+ tps} (TPC-B-like: 3 updates + 1 insert per transaction)"
sampler_pid=""
if [ -n "${RM_BENCH_SAMPLE:-}" ]; then
  # Diagnostics: every 0.5 s, WAL bytes the walsender has not sent yet, and bytes sent but not
  # yet reported written by the capture (its status interval is 1 s).
  (while :; do
    psql -c "SELECT to_char(now(), 'SS.MS'), pg_wal_lsn_diff(pg_current_wal_lsn(), sent_lsn), pg_wal_lsn_diff(sent_lsn, write_lsn) FROM pg_stat_replication WHERE application_name = 'regionmirror-capture'"
    sleep 0.5
  done) >"$RM_BENCH_SAMPLE" 2>&1 &
  sampler_pid=$!
fi
"$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -c "$CLIENTS" -j 2 -T "$SECS" \
  ${RATE:+-R "$RATE"} postgres >"$work/pgbench.out" 2>&1
if [ -n "$sampler_pid" ]; then kill "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""; fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
end_lsn=$(psql -c "SELECT pg_current_wal_insert_lsn()")
backlog=$(psql -c "SELECT pg_wal_lsn_diff('$end_lsn', confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'regionmirror'")
t0=$(date +%s.%N)
drained=""
for _ in $(seq 1200); do
  if [ "$(psql -c "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = 'regionmirror'")" = "t" ]; then
    drained=$($PY -c "import time; print(f'{time.time() - $t0:.2f}')")
    break
  fi
  sleep 0.05
done
sleep 1  # the consumer reads the last events
kill -TERM "$consumer_pid"; wait "$consumer_pid" || true; consumer_pid=""
produced=$(metric rm_cdc_postgres_events_produced_total)
acked=$(metric rm_cdc_postgres_events_acked_total)
failed=$(metric rm_cdc_postgres_events_failed_total)
# CPU seconds the capture and the server's walsender (logical decoding) used over their lives.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
cpu=$(cpu_s "$capture_pid")
walsender=$(psql -c "SELECT pid FROM pg_stat_replication WHERE application_name = 'regionmirror-capture'")
wcpu=$(cpu_s "$walsender")
kill -TERM "$capture_pid"; rc=0; wait "$capture_pid" || rc=$?; capture_pid=""
[ "$rc" = 0 ] || { echo "capture exited with $rc"; tail -5 "$work/capture.log"; }

tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | head -1)
txns=$(psql -c "SELECT count(*) FROM pgbench_history")
[ -s "$work/lag.json" ] || { echo "lag consumer failed:"; cat "$work/lag.err"; exit 1; }
$PY - "$work/lag.json" "$tps" "$txns" "$SECS" "$backlog" "${drained:-none}" "$produced" "$acked" "$failed" "$load" "$cpu" "$wcpu" <<'EOP'
import json, sys
lag = json.load(open(sys.argv[1]))
tps, txns, secs, backlog = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
drained = sys.argv[6]
load = sys.argv[10]
cpu = float(sys.argv[11])
wcpu = float(sys.argv[12])
produced, acked, failed = (int(float(x or 0)) for x in sys.argv[7:10])
expected = 4 * txns
print(f"pgbench tps              {tps:.0f}  ({txns} transactions -> {expected} change events)")
print(f"capture                  {produced} events produced, {acked} acked, {failed} failed; "
      f"{cpu:.1f} CPU s ({100 * cpu / secs:.0f}% of a core over the run); "
      f"Postgres walsender {wcpu:.1f} CPU s ({100 * wcpu / secs:.0f}%)")
print(f"read back from Kafka     {lag['events']} change events ({lag['events'] / max(expected, 1):.3f} of expected)")
print(f"events/s end to end      {lag['rate']} (first to last event read); pgbench made {expected / secs:.0f}/s")
print(f"capture lag (commit -> readable in Kafka)  p50 {lag['lag_p50_ms']} ms, p99 {lag['lag_p99_ms']} ms, max {lag['lag_max_ms']} ms")
print(f"  commit -> decoded by the capture        p50 {lag['decoded_p50_ms']} ms, p99 {lag['decoded_p99_ms']} ms")
print(f"  decoded -> readable by a consumer       p50 {lag['readable_p50_ms']} ms, p99 {lag['readable_p99_ms']} ms")
print(f"load average during the run             {load}")
print(f"backlog when pgbench stopped  {backlog} WAL bytes unconfirmed; drained in {drained} s")
kept_up = drained != "none" and float(drained) <= 1.0 and lag["events"] >= expected
print(f"kept up with pgbench     {'yes' if kept_up else 'no'}   (target: yes)")
p99 = lag["lag_p99_ms"]
print(f"p99 lag <= 1 s           {'yes' if p99 is not None and p99 <= 1000 else 'no'}   (target: yes)")
EOP
