#!/usr/bin/env bash
# The demo's steps (see demo.sh, which builds first). `demo-run.sh --testbed BIN` starts the
# two-region testbed and runs itself inside it (`BIN testbed -- demo-run.sh --inside BIN WORK`,
# RM_TESTBED_ENDPOINTS names the regions' addresses); the testbed stops when the steps end or on
# Ctrl-C, and the EXIT trap stops the mirror first. Tests run it with DEMO_WAIT=0.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--testbed" ]; then
  work=$(mktemp -d /tmp/regionmirror-demo.XXXXXX)
  rc=0
  "$2" testbed --log_level warn --regions us-east,eu-west --brokers 3 \
    --topics "us-east:orders:6,eu-west:us-east.orders:6,us-east:loadtest-0:6,eu-west:us-east.loadtest-0:6,eu-west:mm2-offset-syncs.us-east.internal:1,eu-west:us-east.checkpoints.internal:1,eu-west:regionmirror.failover.internal:1,us-east:regionmirror.failover.internal:1" \
    --endpoints "$work/endpoints.json" -- "$0" --inside "$2" "$work" || rc=$?
  rm -rf "$work"
  exit $rc
fi
[ "${1:-}" = "--inside" ] || { echo "usage: demo-run.sh --testbed path/to/regionmirror" >&2; exit 2; }
RM=$2
work=$3
py=/usr/bin/python3
RTT=${DEMO_RTT_MS:-40}
N=${DEMO_RECORDS:-10000}
ep() { $py -c "import json; print(json.load(open('$RM_TESTBED_ENDPOINTS'))$1)"; }
US=$(ep "['regions']['us-east']['bootstrap_servers']")
EU=$(ep "['regions']['eu-west']['bootstrap_servers']")
CONTROL=$(ep "['control']")
# control PATH JSON: the testbed's control API (testbed/control_server.h).
control() {
  $py -c "import sys, urllib.request as u; u.urlopen(u.Request('http://$CONTROL' + sys.argv[1], data=sys.argv[2].encode(), method='POST'), timeout=10).read()" "$1" "$2"
}
mirror=""
stop_mirror() {
  # Ctrl-C reaches this script twice (from the terminal, and forwarded by the testbed), and a
  # trapped signal ends `wait` at once: the second one used to end the script, and then the
  # testbed, while the mirror was still stopping. Nothing interrupts the stop now.
  trap '' INT TERM
  if [ -n "$mirror" ]; then
    kill -TERM "$mirror" 2>/dev/null || true
    wait "$mirror" 2>/dev/null || true
    mirror=""
  fi
}
trap stop_mirror EXIT
# Ctrl-C on a terminal reaches every process of the group; the mirror, started in the
# background by a script, ignores SIGINT, so the trap stops it (and the testbed then ends).
trap 'echo; echo "== Ctrl-C: stopping the mirror and both regions"; exit 130' INT TERM

echo "== two regions up: us-east at $US, eu-west at $EU"
for b in 1 2 3; do control /v1/brokers/rtt "{\"region\": \"us-east\", \"broker\": $b, \"rtt_ms\": $RTT}"; done
echo "== link us-east <-> eu-west: ${RTT} ms round trip (the testbed delays us-east's brokers;"
echo "   the mirror runs in eu-west and reads across the link, as MirrorMaker deployments do)"

cat > "$work/mirror.yaml" <<EOY
clusters:
  - {alias: us-east, bootstrap_servers: "$US"}
  - {alias: eu-west, bootstrap_servers: "$EU"}
flows:
  - source: us-east
    target: eu-west
    topics: ["orders", "loadtest-0"]
    groups: ["demo-app"]
mirror:
  refresh_interval_ms: 2000
  consumer: {session.timeout.ms: "6000", fetch.wait.max.ms: "10"}
offsets: {dir: "$work/offsets", checkpoint_interval_ms: 200, group_interval_ms: 1000}
admin: {port: 0}
EOY
cat > "$work/topology.yaml" <<EOY
regions:
  - name: us-east
    clusters: [{alias: us-east, bootstrap_servers: "$US"}]
  - name: eu-west
    clusters: [{alias: eu-west, bootstrap_servers: "$EU"}]
links: [{regions: [us-east, eu-west], rtt_ms: $RTT}]
topics:
  - {topic: orders, home: us-east, replicate_to: [eu-west]}
  - {topic: loadtest-0, home: us-east, replicate_to: [eu-west]}
groups:
  - {pattern: demo-app, regions: [us-east, eu-west], topics: [orders]}
offsets: {dir: "$work/offsets"}
EOY
echo "== eu-west's 'us-east.orders' already holds 120 records written there by someone else: the"
echo "   copies land after them, so offsets differ between the regions and translation matters"
$py tests/tools/kclient.py produce --bootstrap "$EU" --topic us-east.orders --count 120 --tag local >/dev/null
"$RM" run --config "$work/mirror.yaml" >"$work/mirror.log" 2>&1 &
mirror=$!
echo "== mirror us-east -> eu-west running, pid $mirror, offsets in $work/offsets (log: $work/mirror.log)"

echo "== writing $N records to us-east topic 'orders' with kafka-python"
$py tests/tools/kclient.py produce --bootstrap "$US" --topic orders --count "$N" --tag demo
echo "== waiting for them in eu-west topic 'us-east.orders'"
n=0
for _ in $(seq 1 120); do
  n=$($py tests/tools/kclient.py consume --bootstrap "$EU" --topic us-east.orders --idle-ms 1000 | wc -l)
  [ "$n" -ge $((N + 120)) ] && break
  sleep 1
done
echo "== eu-west has $n records; its newest on partition 0, as kcat sees it (rmp: provenance):"
kcat -b "$EU" -C -t us-east.orders -p 0 -o -1 -c 1 -e -q \
  -f 'partition %p offset %o key %k value %s headers %h\n'
admin=$(grep -o 'admin API on http://[0-9.:]*' "$work/mirror.log" | head -1 | sed 's|.*http://||')
echo "== mirror metrics (http://$admin/metrics):"
$py - "$admin" <<'EOP'
import sys, urllib.request
body = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics").read().decode()
for line in body.splitlines():
    if line.startswith(("rm_mirror_records_copied_total", "rm_mirror_replication_latency_seconds_count",
                        "rm_mirror_inflight_records", "rm_mirror_rebalances_total")):
        print("  " + line)
EOP

load_s=${DEMO_LOAD_S:-10}
echo "== a steady load through the mirror for $load_s s: every record verified in eu-west, latency"
echo "   from its intended send time, across the ${RTT} ms link (report: $work/loadtest/report.html)"
"$RM" loadtest --log_level warn --source_bootstrap "$US" --target_bootstrap "$EU" \
  --mirror_admin "$admin" --rate 2000 --partitions 6 --message_size 512 --duration "$load_s" \
  --out "$work/loadtest" || echo "== (the load test failed; its report says why)"

echo "== application group 'demo-app' reads $((N * 2 / 5)) records of 'orders' in us-east and commits"
$py - "$US" $((N * 2 / 5)) <<'EOP'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "demo-app", "enable.auto.commit": False})
# Assigned, not subscribed: the group has no live member afterwards (a failover refuses to move
# a group whose consumers still run in the target region).
c.assign([TopicPartition("orders", p, 0) for p in range(6)])
pos, read = {}, 0
while read < int(sys.argv[2]):
    m = c.poll(5)
    if m is None:
        break
    if m.error():
        continue
    pos[m.partition()] = m.offset() + 1
    read += 1
c.commit(offsets=[TopicPartition("orders", p, o) for p, o in sorted(pos.items())], asynchronous=False)
print("   committed in us-east: " + ", ".join(f"orders[{p}] at {o}" for p, o in sorted(pos.items())))
c.close()
EOP
echo "== where 'demo-app' continues in eu-west (regionmirror offsets translate):"
for _ in $(seq 1 60); do
  out=$("$RM" offsets translate --config "$work/mirror.yaml" --group demo-app --log_level off 2>&1) && \
    ! grep -q "no positions" <<<"$out" && break
  sleep 0.5
done
echo "$out" | sed 's/^/   /'
# The failover takes the position from the mirror's checkpoint when us-east is down: wait until
# the checkpoint holds the committed positions.
for _ in $(seq 1 60); do
  cps=$("$RM" offsets dump --config "$work/mirror.yaml" --json --limit 1 --log_level off 2>/dev/null |
    $py -c "import json,sys; print(sum(1 for c in json.load(sys.stdin)['checkpoints'] if c['group'] == 'demo-app'))" 2>/dev/null || echo 0)
  [ "$cps" -ge 6 ] && break
  sleep 0.5
done

echo "== us-east goes down (all three brokers)"
for b in 1 2 3; do control /v1/brokers/down "{\"region\": \"us-east\", \"broker\": $b}"; done
echo "== regionmirror topology failover topology.yaml --from us-east --to eu-west --group demo-app"
"$RM" topology failover "$work/topology.yaml" --from us-east --to eu-west --group demo-app \
  --source_timeout_ms 1000 --log_level warn 2>&1 | grep -v 'rdkafka#' | sed 's/^/   /' || true
echo "== 'demo-app' in eu-west now (read back with confluent-kafka):"
$py - "$EU" <<'EOP'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "demo-app", "enable.auto.commit": False})
got = c.committed([TopicPartition("us-east.orders", p) for p in range(6)], timeout=30)
print("   committed in eu-west: " + ", ".join(f"us-east.orders[{t.partition}] at {t.offset}" for t in got))
c.close()
EOP

wait_mode=${DEMO_WAIT:-1}
if [ "$wait_mode" = always ] || { [ "$wait_mode" = 1 ] && [ -t 0 ]; }; then
  echo "== still running (us-east down): try 'kcat -b $EU -C -t us-east.orders'."
  echo "== Ctrl-C stops the mirror and both regions."
  while kill -0 "$mirror" 2>/dev/null; do sleep 1; done
fi
echo "== demo done"
