#!/usr/bin/env bash
# Mirror benchmark (issue 3), all in one testbed run so the figures are comparable:
#   (a) raw limit = min(consume-only rate, produce-only rate), same client settings as the mirror
#   (b) a naive consume->produce loop in Python (confluent-kafka)
#   (c) for reference, a bare C++ consume->produce loop on the same client library and settings
#       (bench/kafka_rate.cc copy: zero-copy, CreateTime kept, no bookkeeping): what any mirror
#       built on librdkafka can reach on this machine, consumer, producer and brokers sharing it
#   mirror throughput (first to last record arriving in the target), as ratios to (a), (b), (c)
#   replication latency p50/p99 at half the mirror's rate (the mirror's own histogram, and end
#   to end through a consumer on the target), the same for the bare loop (c) and for no hop at
#   all (producer -> consumer on the source), and the mirror's peak RSS.
# Every measured window also reports the whole machine's busy CPU (kafka_rate's cpu_cores and
# cpu_ns per record): whether a phase was CPU-bound, and what a record cost the machine in the
# mirror against the bare loop, a figure far steadier than the rates on a shared machine.
# 100-byte records, 6 partitions, lz4 (the testbed keeps ~5 MiB per partition, so the backlog
# must stay compressed to fit). Usage: bench/mirror_bench.sh [records] (default 400000).
# BROKERS sets the testbed's brokers per region (default 3).
# Prints figures; the machine is shared, so read the ratios, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--inside" ]; then
  scripts/setup.sh regionmirror kafka_rate >/dev/null
  N=${1:-400000}
  exec build/apps/regionmirror testbed --log_level warn --regions us-east,eu-west --brokers "${BROKERS:-3}" \
    --topics "us-east:bench:6,eu-west:us-east.bench:6,eu-west:raw1:6,eu-west:raw2:6,eu-west:raw3:6,eu-west:naive:6,eu-west:us-east_bench:6,eu-west:us-east-bench:6,eu-west:copy1:6,eu-west:copy2:6,eu-west:copy3:6,us-east:lat:6,eu-west:us-east.lat:6,us-east:clat:6,eu-west:clat.copy:6,us-east:direct:6" \
    -- bash "$0" --inside "$N"
fi
N=$2
R=build/bench/kafka_rate
PY=/usr/bin/python3
# Client settings every client gets, the mirror's included (its defaults have the same queue
# sizes). The testbed's mock answers a fetch only after fetch.wait.max.ms even when it has data
# (a real broker answers at once), so that wait is part of every hop's latency here.
FETCH_WAIT_MS=${FETCH_WAIT_MS:-2}
LINGER_MS=${LINGER_MS:-5}
X="-X compression.type=lz4 -X linger.ms=$LINGER_MS"
C="-X queued.min.messages=500000 -X queued.max.messages.kbytes=131072 -X fetch.wait.max.ms=$FETCH_WAIT_MS"
region() { $PY -c "import json; print(json.load(open('$RM_TESTBED_ENDPOINTS'))['regions']['$1']['bootstrap_servers'])"; }
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
CORES=$(nproc)
# kafka_rate also reports the busy CPU time of the whole machine over its measured window (all
# processes: clients, mirror, the testbed's brokers): cpu_ns per record and cpu_cores in use.
US=$(region us-east)
EU=$(region eu-west)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "records: $N x 100 B, 6 partitions, lz4, linger.ms $LINGER_MS, fetch.wait.max.ms $FETCH_WAIT_MS"
$R produce --bootstrap "$US" --topic bench --count "$N" $X >/dev/null

cons=(); prod=(); cons_ns=(); prod_ns=(); cons_cores=(); prod_cores=()
for i in 1 2 3; do
  $R consume --bootstrap "$US" --topic bench --count "$N" $X $C 2>/dev/null >"$work/c"
  cons+=("$(field rate <"$work/c")"); cons_ns+=("$(field cpu_ns <"$work/c")")
  cons_cores+=("$(field cpu_cores <"$work/c")")
done
for i in 1 2 3; do
  $R produce --bootstrap "$EU" --topic "raw$i" --count "$N" $X 2>/dev/null >"$work/p"
  prod+=("$(field rate <"$work/p")"); prod_ns+=("$(field cpu_ns <"$work/p")")
  prod_cores+=("$(field cpu_cores <"$work/p")")
done
consume=$(median "${cons[@]}")
produce=$(median "${prod[@]}")
raw=$(( consume < produce ? consume : produce ))
consume_ns=$(median "${cons_ns[@]}")
produce_ns=$(median "${prod_ns[@]}")
echo "consume-only: $consume rec/s, $consume_ns CPU-ns/record, cores busy ${cons_cores[*]} (runs: ${cons[*]})"
echo "produce-only: $produce rec/s, $produce_ns CPU-ns/record, cores busy ${prod_cores[*]} (runs: ${prod[*]})"
echo "(a) raw limit = min: $raw rec/s"

# The mirror copies the backlog three times, into three remote topics (the default policy with
# separators ".", "_" and "-"), each run a fresh process and group; the median counts.
ADMIN_PORT=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
rss_kb=0
start_mirror() {  # separator, topic
  cat >"$work/mirror.yaml" <<EOY
clusters:
  - {alias: us-east, bootstrap_servers: "$US"}
  - {alias: eu-west, bootstrap_servers: "$EU"}
flows:
  - {source: us-east, target: eu-west, topics: ["$2"], separator: "$1"}
mirror:
  group_prefix: "bench$1$2"
  consumer: {session.timeout.ms: "6000", fetch.wait.max.ms: "$FETCH_WAIT_MS"}
  producer: {compression.type: lz4, linger.ms: "$LINGER_MS"}
admin: {port: $ADMIN_PORT}
EOY
  build/apps/regionmirror run --config "$work/mirror.yaml" >>"$work/mirror.log" 2>&1 &
  mpid=$!
}
stop_mirror() {
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$mpid/status)
  if [ "$hwm" -gt "$rss_kb" ]; then rss_kb=$hwm; fi
  kill -TERM $mpid; wait $mpid || true
}
mirrors=(); mirrors_ns=(); mirrors_cores=()
for sep in . _ -; do
  start_mirror "$sep" bench
  $R wait --bootstrap "$EU" --topic "us-east${sep}bench" --count "$N" >"$work/m"
  mirrors+=("$(field rate <"$work/m")"); mirrors_ns+=("$(field cpu_ns <"$work/m")")
  mirrors_cores+=("$(field cpu_cores <"$work/m")")
  stop_mirror
done
mirror=$(median "${mirrors[@]}")
mirror_ns=$(median "${mirrors_ns[@]}")
echo "mirror: $mirror rec/s, $mirror_ns CPU-ns/record, cores busy ${mirrors_cores[*]} (runs: ${mirrors[*]})"

$PY bench/naive_mirror.py --source "$US" --target "$EU" --source-topic bench --target-topic naive \
  --count "$N" $X $C >"$work/n" 2>/dev/null
naive=$(field rate <"$work/n")
echo "(b) naive Python loop: $naive rec/s"

copies=(); copies_ns=(); copies_cores=()
for i in 1 2 3; do
  $R copy --bootstrap "$US" --topic bench --target "$EU" --target-topic "copy$i" \
    --count "$N" --headers 1 $X $C 2>/dev/null >"$work/b"
  copies+=("$(field rate <"$work/b")"); copies_ns+=("$(field cpu_ns <"$work/b")")
  copies_cores+=("$(field cpu_cores <"$work/b")")
done
copy=$(median "${copies[@]}")
copy_ns=$(median "${copies_ns[@]}")
echo "(c) bare C++ copy loop: $copy rec/s, $copy_ns CPU-ns/record, cores busy ${copies_cores[*]} (runs: ${copies[*]})"

# LAT_RATE overrides the rate of the latency runs (records/s).
half=${LAT_RATE:-$(( mirror / 2 ))}
secs=10
count=$(( half * secs ))
# Stay inside the testbed's per-partition retention for the latency topic.
if [ "$count" -gt "$N" ]; then count=$N; fi
scrape() { curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | grep '^rm_mirror_replication_latency_seconds_bucket' || true; }
start_mirror . lat
# Measure from a running mirror: wait until it owns the six partitions.
for _ in $(seq 200); do
  [ "$(grep -c ' lat\[[0-9]*\] resumes at' "$work/mirror.log")" -ge 6 ] && break
  sleep 0.1
done
scrape >"$work/h0"
$R latency --bootstrap "$EU" --topic us-east.lat --count "$count" $C >"$work/lat" 2>/dev/null &
lpid=$!
sleep 1
$R produce --bootstrap "$US" --topic lat --count "$count" --rate "$half" $X >/dev/null 2>&1
wait $lpid || true
scrape >"$work/h1"
p50=$(field p50_ms <"$work/lat")
p99=$(field p99_ms <"$work/lat")
stop_mirror

# The same load through the bare loop (c), then with no hop at all, the mirror stopped.
$R copy --bootstrap "$US" --topic clat --target "$EU" --target-topic clat.copy --count "$count" \
  --headers 1 $X $C >/dev/null 2>&1 &
cpid=$!
$R latency --bootstrap "$EU" --topic clat.copy --count "$count" $C >"$work/clat" 2>/dev/null &
lpid=$!
sleep 1
$R produce --bootstrap "$US" --topic clat --count "$count" --rate "$half" $X >/dev/null 2>&1
wait $lpid || true
wait $cpid || true
$R latency --bootstrap "$US" --topic direct --count "$count" $C >"$work/dlat" 2>/dev/null &
lpid=$!
sleep 1
$R produce --bootstrap "$US" --topic direct --count "$count" --rate "$half" $X >/dev/null 2>&1
wait $lpid || true
# The mirror's own replication latency (record CreateTime -> acknowledged by the target, the
# rm_mirror_replication_latency_seconds histogram) over the latency run: percentiles from the
# bucket counts, interpolated within a bucket as Prometheus' histogram_quantile does.
read -r m50 m99 < <($PY - "$work/h0" "$work/h1" <<'EOP'
import re, sys
def load(path):
    out = {}
    for line in open(path):
        m = re.search(r'le="([^"]+)"\}\s+(\S+)', line)
        if m:
            out[float(m.group(1))] = float(m.group(2))
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
les = sorted(b)
cum = [b[le] - a.get(le, 0.0) for le in les]
def q(p):
    total = cum[-1]
    if total <= 0:
        return -1
    rank, prev_le, prev_c = p * total, 0.0, 0.0
    for le, c in zip(les, cum):
        if c >= rank:
            if le == float("inf"):
                return prev_le * 1000
            return (prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9)) * 1000
        prev_le, prev_c = le, c
    return -1
print(f"{q(0.5):.1f} {q(0.99):.1f}")
EOP
)
echo "latency at $half rec/s (half the mirror's rate) over $count records:"
echo "  mirror (CreateTime -> target ack, its histogram): p50 $m50 ms, p99 $m99 ms"
echo "  end to end (producer -> mirror -> a consumer on the target): p50 $p50 ms, p99 $p99 ms, $(field cpu_cores <"$work/lat") of $CORES cores busy"
echo "  end to end through the bare loop (c) instead: p50 $(field p50_ms <"$work/clat") ms, p99 $(field p99_ms <"$work/clat") ms, $(field cpu_cores <"$work/clat") cores busy"
echo "  no hop (producer -> a consumer on the source): p50 $(field p50_ms <"$work/dlat") ms, p99 $(field p99_ms <"$work/dlat") ms, $(field cpu_cores <"$work/dlat") cores busy"
echo "mirror peak RSS: $((rss_kb / 1024)) MB"
$PY - "$mirror" "$raw" "$naive" "$m99" "$p99" "$rss_kb" "$copy" "$mirror_ns" "$copy_ns" \
  "$consume_ns" "$produce_ns" <<'EOP'
import sys
m, raw, naive, m99, p99, rss, copy, m_ns, c_ns, cons_ns, prod_ns = (float(x) for x in sys.argv[1:])
print(f"mirror / raw limit   = {m / raw:.2f}   (target >= 0.9; the bare loop (c) gets {copy / raw:.2f})")
print(f"machine CPU a record = mirror {m_ns / c_ns:.2f} x the bare loop's; the bare loop's"
      f" {c_ns / (cons_ns + prod_ns):.2f} x consume-only + produce-only")
print(f"mirror / naive loop  = {m / naive:.2f}   (target >= 3)")
print(f"mirror / bare loop   = {m / copy:.2f}")
print(f"latency p99          = {m99:.0f} ms mirror, {p99:.0f} ms end to end (target <= 25)")
print(f"peak RSS             = {rss / 1024:.0f} MB (target <= 512)")
EOP
