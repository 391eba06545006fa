#!/usr/bin/env bash
# Mirror benchmark (issue 3), all in one testbed run so the figures are comparable:
#   (a) raw limit = min(consume-only rate, produce-only rate), same client settings as the mirror
#   (b) a naive consume->produce loop in Python (confluent-kafka)
#   mirror throughput (first to last record arriving in the target), as ratios to (a) and (b)
#   replication latency p50/p99 at half the mirror's rate, and the mirror's peak RSS.
# 100-byte records, 6 partitions, lz4 (the testbed keeps ~5 MiB per partition, so the backlog
# must stay compressed to fit). Usage: bench/mirror_bench.sh [records] (default 400000).
# Prints figures; the machine is shared, so read the ratios, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--inside" ]; then
  scripts/setup.sh regionmirror kafka_rate >/dev/null
  N=${1:-400000}
  exec build/apps/regionmirror testbed --log_level warn --regions us-east,eu-west --brokers 3 \
    --topics "us-east:bench:6,eu-west:us-east.bench:6,eu-west:raw:6,eu-west:naive:6,us-east:lat:6,eu-west:us-east.lat:6" \
    -- bash "$0" --inside "$N"
fi
N=$2
R=build/bench/kafka_rate
PY=/usr/bin/python3
X="-X compression.type=lz4"
region() { $PY -c "import json; print(json.load(open('$RM_TESTBED_ENDPOINTS'))['regions']['$1']['bootstrap_servers'])"; }
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
US=$(region us-east)
EU=$(region eu-west)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "records: $N x 100 B, 6 partitions, lz4"
$R produce --bootstrap "$US" --topic bench --count "$N" $X >/dev/null

cons=(); prod=()
for i in 1 2 3; do
  cons+=("$($R consume --bootstrap "$US" --topic bench --count "$N" $X 2>/dev/null | field rate)")
done
for i in 1 2 3; do
  $R produce --bootstrap "$EU" --topic raw --count $((N / 3)) $X 2>/dev/null >"$work/p"
  prod+=("$(field rate <"$work/p")")
done
consume=$(median "${cons[@]}")
produce=$(median "${prod[@]}")
raw=$(( consume < produce ? consume : produce ))
echo "consume-only: $consume rec/s (runs: ${cons[*]})"
echo "produce-only: $produce rec/s (runs: ${prod[*]})"
echo "(a) raw limit = min: $raw rec/s"

cat >"$work/mirror.yaml" <<EOY
clusters:
  - {alias: us-east, bootstrap_servers: "$US"}
  - {alias: eu-west, bootstrap_servers: "$EU"}
flows:
  - {source: us-east, target: eu-west, topics: ["bench", "lat"]}
mirror:
  consumer: {session.timeout.ms: "6000", fetch.wait.max.ms: "10"}
  producer: {compression.type: lz4}
admin: {port: -1}
EOY
build/apps/regionmirror run --config "$work/mirror.yaml" >"$work/mirror.log" 2>&1 &
mpid=$!
mirror=$($R wait --bootstrap "$EU" --topic us-east.bench --count "$N" | field rate)
echo "mirror: $mirror rec/s"

$PY bench/naive_mirror.py --source "$US" --target "$EU" --source-topic bench --target-topic naive \
  --count "$N" -X compression.type=lz4 >"$work/n" 2>/dev/null
naive=$(field rate <"$work/n")
echo "(b) naive Python loop: $naive rec/s"

half=$(( mirror / 2 ))
secs=10
count=$(( half * secs ))
# Stay inside the testbed's per-partition retention for the latency topic.
if [ "$count" -gt "$N" ]; then count=$N; fi
$R latency --bootstrap "$EU" --topic us-east.lat --count "$count" >"$work/lat" 2>/dev/null &
lpid=$!
sleep 1
$R produce --bootstrap "$US" --topic lat --count "$count" --rate "$half" $X >/dev/null 2>&1
wait $lpid || true
p50=$(field p50_ms <"$work/lat")
p99=$(field p99_ms <"$work/lat")
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$mpid/status)
kill -TERM $mpid; wait $mpid || true
echo "latency at $half rec/s (half the mirror's rate) over $count records: p50 $p50 ms, p99 $p99 ms"
echo "mirror peak RSS: $((rss_kb / 1024)) MB"
$PY - "$mirror" "$raw" "$naive" "$p99" "$rss_kb" <<'EOP'
import sys
m, raw, naive, p99, rss = (float(x) for x in sys.argv[1:])
print(f"mirror / raw limit   = {m / raw:.2f}   (target >= 0.9)")
print(f"mirror / naive loop  = {m / naive:.2f}   (target >= 3)")
print(f"latency p99          = {p99:.0f} ms (target <= 25)")
print(f"peak RSS             = {rss / 1024:.0f} MB (target <= 512)")
EOP
