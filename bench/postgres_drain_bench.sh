#!/usr/bin/env bash
# Postgres drain comparison (issue 17, item 3): how fast `regionmirror cdc postgres run` drains a
# WAL backlog into a testbed region, against `pg_recvlogical` (pgoutput, to /dev/null) on the
# same backlog, in four configurations: plain envelope without transforms, with transforms, the
# schema envelope (`envelope: json_with_schema` with the schema history and its run-time
# compatibility check on), and schemas with transforms. Prints each rate and its ratio to
# pg_recvlogical's.
#
# One Postgres 15 and one testbed region (one mock broker), both started here on loopback and
# stopped on exit, whatever happens. Five logical slots are made before the backlog is written
# (pg_recvlogical's and one per capture configuration), so all read the same WAL. Then
# `transactions` transactions insert `inserts` rows in all; each reader drains its slot up to the
# WAL end, one after the other, timed from its start until it confirmed the end (pg_recvlogical:
# until it exits at --endpos). The schema configurations use their own topic prefixes, so each
# reads and writes its own schema history topic.
#
# Next to each capture's rate, the CPU seconds its drain took: the capture process (all threads,
# librdkafka's included), the walsender serving it, and the testbed (the mock broker); next to
# pg_recvlogical's, its own and its walsender's. These do not move with the machine's load the way
# the rates do: on 2 cores a drain cannot be faster than half its CPU, nor than its walsender (one
# thread). The last figure of each capture line is the ratio those bounds allow on 2 idle cores;
# under load the measured ratio can exceed it (the capture's drain has more busy threads to be
# scheduled). Both drains poll the slot through one psql session: a psql per poll forked a client
# and a backend each time, CPU taken from the capture's drain only.
#
# Usage: bench/postgres_drain_bench.sh [inserts] [transactions]   (default 600000 300)
# RM_BUILD_DIR picks the build directory (default build/). Each drain is bounded by
# RM_DRAIN_TIMEOUT_S (default 600); RM_DRAIN_LINGER_MS sets the producer's linger.ms (default 5, the
# sink's default). The machine is shared: figures move with its load.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${RM_BUILD_DIR:-build}
BIN=$BUILD/apps/regionmirror
if [ "${1:-}" != "--inside" ]; then
  [ -x "$BIN" ] || scripts/setup.sh regionmirror >/dev/null
  # 16 partitions, lz4: the mock keeps 5 MiB per partition; the drain does not read back, so an
  # overflow would only drop the oldest batches, never slow or fail the produce path.
  # The schema history topics have one partition, as provisioning would make them.
  exec "$BIN" testbed --log_level warn --regions us-east --brokers 1 \
    --topics "us-east:pg.public.drain:16,us-east:acme.drain:16,us-east:pgs.public.drain:16,\
us-east:acmes.drain:16,us-east:pgs.schema-history:1,us-east:pgst.schema-history:1" \
    -- bash "$0" --inside "${1:-600000}" "${2:-300}"
fi
INSERTS=$2
TXNS=$3
TIMEOUT_S=${RM_DRAIN_TIMEOUT_S:-600}
LINGER_MS=${RM_DRAIN_LINGER_MS:-5}  # the sink's default
PY=/usr/bin/python3
KAFKA=$($PY -c "import json; print(json.load(open('$RM_TESTBED_ENDPOINTS'))['regions']['us-east']['bootstrap_servers'])")
# shellcheck source=lib/postgres.sh
source bench/lib/postgres.sh
now() { date +%s.%N; }

work=$(mktemp -d /tmp/pg-drain-bench.XXXXXX)
capture_pid=""
recv_pid=""
cleanup() {
  set +e
  bench_stop_pids $capture_pid $recv_pid
  [ -z "${poll_in:-}" ] || exec {poll_in}>&-  # the polling psql exits at end of input
  bench_pg_stop "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Postgres (fsync off as the tests' server; the backlog is written before any reader runs)
bench_pg_start "$work" 'max_wal_size = 8GB' 'shared_buffers = 256MB'
psql -c "CREATE TABLE drain (id bigint PRIMARY KEY, customer text NOT NULL, amount text,
         note text, created_at timestamptz NOT NULL DEFAULT now())"

# --- the capture's four configurations (their own slots), provisioned before the backlog
write_config() {  # name slot topic-prefix extra-postgres-yaml
  cat >"$work/$1.yaml" <<EOY
postgres:
  connection: {host: 127.0.0.1, port: $PGPORT, dbname: postgres, user: postgres, sslmode: disable}
  tables: [drain]
  topic_prefix: $3
  slot: $2
  snapshot_mode: never
$4
kafka:
  bootstrap_servers: "$KAFKA"
  properties: {compression.type: lz4, linger.ms: "$LINGER_MS"}
  create_topics: false
admin: {port: -1}
EOY
}
transforms() {  # topic-prefix route-target-prefix
  cat <<EOT
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, add.fields: "op,lsn,source.ts_ms"}
    - {name: tenant, type: InsertField, static.field: tenant_id, static.value: acme}
    - {name: fields, type: ReplaceField, exclude: [note], renames: "customer:client"}
    - {name: amounts, type: Cast, spec: "amount:int64"}
    - {name: route, type: RegexRouter, regex: "$1\\\\.public\\\\.(.*)", replacement: "$2.\$1"}
EOT
}
schemas='  schema: {envelope: json_with_schema, history: true}'
write_config plain cap_plain pg ""
write_config transforms cap_transforms pg "$(transforms pg acme)"
write_config schemas cap_schemas pgs "$schemas"
write_config schemas_transforms cap_schemas_transforms pgst "$(transforms pgst acmes)
$schemas"
configs="plain transforms schemas schemas_transforms"
for c in $configs; do
  "$BIN" cdc postgres provision --config "$work/$c.yaml" >"$work/provision-$c.log" 2>&1 ||
    { cat "$work/provision-$c.log"; exit 1; }
done
psql -c "SELECT 1 FROM pg_create_logical_replication_slot('recv', 'pgoutput')" >/dev/null

# --- the backlog
echo "backlog: $INSERTS inserts in $TXNS transactions (table drain, 5 columns)"
per=$(( (INSERTS + TXNS - 1) / TXNS ))
t0=$(now)
$PY - "$INSERTS" "$TXNS" "$per" >"$work/backlog.sql" <<'EOP'
import sys
n, txns, per = map(int, sys.argv[1:4])
start = 1
for _ in range(txns):
    end = min(n, start + per - 1)
    if start > end:
        break
    print(f"INSERT INTO drain (id, customer, amount, note) SELECT g, 'customer-' || (g % 977), "
          f"(g % 100000)::text, 'note ' || md5(g::text) FROM generate_series({start}, {end}) g;")
    start = end + 1
EOP
psql -f "$work/backlog.sql"
end_lsn=$(psql -c "SELECT pg_current_wal_insert_lsn()")
wal=$(psql -c "SELECT pg_size_pretty(pg_wal_lsn_diff('$end_lsn', confirmed_flush_lsn)) FROM pg_replication_slots WHERE slot_name = 'recv'")
rows=$(psql -c "SELECT count(*) FROM drain")
echo "backlog written in $($PY -c "print(f'{$(now) - $t0:.1f}')") s: $rows rows, $wal of WAL up to $end_lsn"
elapsed() { $PY -c "print(f'{$(now) - $1:.3f}')"; }
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime + stime

# The drains poll the slots through one psql session kept open (a coprocess): a psql per poll
# forks a client and a backend each time, about 30 ms of CPU taken from the drain being timed.
# Its pipes are copied to plain descriptors, which (unlike a coprocess's own) subshells inherit.
coproc POLL { psql; }
exec {poll_out}<&"${POLL[0]}" {poll_in}>&"${POLL[1]}"
poll_sql() {  # one query, one line of answer
  echo "$1;" >&"$poll_in"
  local line
  read -r line <&"$poll_out"
  echo "$line"
}
slot_pid() { poll_sql "SELECT coalesce(max(active_pid), 0) FROM pg_replication_slots WHERE slot_name = '$1' AND active"; }
# Samples a process's CPU ticks into a file every 20 ms until it exits (the last sample stays):
# pg_recvlogical's walsender exits with its client, so it cannot be read afterwards.
sample_cpu() {  # pid file
  local t
  while t=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null); do echo "$t" >"$2"; sleep 0.02; done
}

# --- pg_recvlogical (pgoutput, the same publication the capture reads)
t0=$(now)
timeout "$TIMEOUT_S" "$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
  --slot recv --start --endpos "$end_lsn" -o proto_version=1 -o publication_names=regionmirror \
  -f /dev/null --no-loop &
recv_pid=$!
(
  client=""  # pg_recvlogical itself, the child of timeout
  while [ -z "$client" ] && kill -0 "$recv_pid" 2>/dev/null; do client=$(pgrep -P "$recv_pid"); done
  [ -z "$client" ] || sample_cpu "$client" "$work/cpu-recv-client" &
  ws=0
  while [ "$ws" = 0 ] && kill -0 "$recv_pid" 2>/dev/null; do ws=$(slot_pid recv); done
  [ "$ws" = 0 ] || sample_cpu "$ws" "$work/cpu-recv-walsender"
  wait
) &
sampler_pid=$!
wait "$recv_pid" || true
recv_pid=""
recv_s=$(elapsed "$t0")
wait "$sampler_pid" || true
echo "$(cat "$work/cpu-recv-client" 2>/dev/null || echo 0) $(cat "$work/cpu-recv-walsender" 2>/dev/null || echo 0)" \
  >"$work/cpu-recv"

# --- the capture, into the testbed, until its slot confirmed the WAL end (all acked by Kafka)
drain_capture() {  # config slot -> seconds on stdout; CPU ticks to $work/cpu-<config>
  local t0 deadline walsender="" testbed0
  testbed0=$(cpu_ticks $PPID)  # the testbed runs this script
  t0=$(now)
  "$BIN" cdc postgres run --config "$work/$1.yaml" --log_level warn >"$work/capture-$1.log" 2>&1 &
  capture_pid=$!
  deadline=$(( $(date +%s) + TIMEOUT_S ))
  until [ "$(poll_sql "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = '$2'")" = "t" ]; do
    kill -0 "$capture_pid" 2>/dev/null || { echo "capture $1 exited:" >&2; cat "$work/capture-$1.log" >&2; exit 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "capture $1 did not drain in $TIMEOUT_S s" >&2; exit 1; }
    [ -n "$walsender" ] && [ "$walsender" != 0 ] || walsender=$(slot_pid "$2")
    sleep 0.02
  done
  elapsed "$t0"
  # A new walsender serves each connection, so its whole CPU time is this drain's.
  echo "$(cpu_ticks "$capture_pid") $(cpu_ticks "$walsender") $(( $(cpu_ticks $PPID) - testbed0 ))" \
    >"$work/cpu-$1"
  kill -TERM "$capture_pid"
  wait "$capture_pid" || { echo "capture $1 exited non-zero" >&2; tail -5 "$work/capture-$1.log" >&2; }
  capture_pid=""
}
plain_s=$(drain_capture plain cap_plain)
transforms_s=$(drain_capture transforms cap_transforms)
schemas_s=$(drain_capture schemas cap_schemas)
schemas_transforms_s=$(drain_capture schemas_transforms cap_schemas_transforms)

$PY - "$rows" "$recv_s" "$plain_s" "$transforms_s" "$schemas_s" "$schemas_transforms_s" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$HZ" "$work" <<'EOP'
import sys
rows = int(sys.argv[1])
hz = int(sys.argv[8])
def cpu(config):  # capture, walsender, testbed CPU seconds
    return [int(t) / hz for t in open(f"{sys.argv[9]}/cpu-{config}").read().split()]
recv = float(sys.argv[2])
r = rows / recv
rc, rw = cpu("recv")  # pg_recvlogical, its walsender
# What a drain needs at least on 2 otherwise idle cores: its busiest process (the walsender, single
# threaded) and half its CPU in all. The ratio of pg_recvlogical's to the capture's is the best
# ratio these CPU costs allow there (the measured one also depends on what else runs).
recv_need = max(rw, (rc + rw) / 2)
print(f"pg_recvlogical (pgoutput -> /dev/null)   {rows / recv:9.0f} changes/s  ({recv:.2f} s)  "
      f"CPU s: pg_recvlogical {rc:.2f}, walsender {rw:.2f}")
runs = (("capture, plain, no transforms", sys.argv[3], "plain"),
        ("capture, plain, 5 transforms", sys.argv[4], "transforms"),
        ("capture, schemas, no transforms", sys.argv[5], "schemas"),
        ("capture, schemas, 5 transforms", sys.argv[6], "schemas_transforms"))
for name, s, config in runs:
    s = float(s)
    c, w, t = cpu(config)
    need = max(w, (c + w + t) / 2)
    print(f"{name:<40} {rows / s:9.0f} changes/s  ({s:.2f} s)  ratio to pg_recvlogical "
          f"{(rows / s) / r:.2f}  CPU s: capture {c:.2f}, walsender {w:.2f}, testbed {t:.2f}  "
          f"2-core CPU bound of the ratio {recv_need / need:.2f}")
print("schemas: envelope json_with_schema, schema history and run-time compatibility on")
print("2-core CPU bound: max(walsender, all CPU / 2) of pg_recvlogical's drain over the capture's")
print(f"load average at the end                  {sys.argv[7]}")
EOP
