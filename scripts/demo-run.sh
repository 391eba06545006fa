#!/usr/bin/env bash
# Runs inside `regionmirror testbed -- ...` (see demo.sh): RM_TESTBED_ENDPOINTS names the file
# with the regions' bootstrap servers.
set -euo pipefail
work=$1
py=/usr/bin/python3
region() { $py -c "import json,sys; print(json.load(open('$RM_TESTBED_ENDPOINTS'))['regions']['$1']['bootstrap_servers'])"; }
US=$(region us-east)
EU=$(region eu-west)
cat > "$work/mirror.yaml" <<EOY
clusters:
  - alias: us-east
    bootstrap_servers: "$US"
  - alias: eu-west
    bootstrap_servers: "$EU"
flows:
  - source: us-east
    target: eu-west
    topics: ["orders", "loadtest-0"]
mirror:
  refresh_interval_ms: 2000
  consumer: {session.timeout.ms: "6000", fetch.wait.max.ms: "10"}
admin:
  port: 0
EOY
build/apps/regionmirror run --config "$work/mirror.yaml" >"$work/mirror.log" 2>&1 &
mirror=$!
trap 'kill -TERM $mirror 2>/dev/null; wait $mirror 2>/dev/null || true' EXIT

echo "== two regions up: us-east at $US, eu-west at $EU"
echo "== mirror us-east -> eu-west running (log: $work/mirror.log)"
echo "== writing 10000 records to us-east topic 'orders' with kafka-python"
$py tests/tools/kclient.py produce --bootstrap "$US" --topic orders --count 10000 --tag demo
echo "== waiting for them in eu-west topic 'us-east.orders'"
n=0
for _ in $(seq 1 120); do
  n=$($py tests/tools/kclient.py consume --bootstrap "$EU" --topic us-east.orders --idle-ms 1000 | wc -l)
  [ "$n" -ge 10000 ] && break
  sleep 1
done
echo "== eu-west has $n records; one of them, as kcat sees it:"
kcat -b "$EU" -C -t us-east.orders -p 0 -o beginning -c 1 -e -q \
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
echo "== a steady load through the mirror for 10 s: every record verified in eu-west, latency"
echo "   from its intended send time (report: $work/loadtest/report.html)"
build/apps/regionmirror loadtest --log_level warn --source_bootstrap "$US" --target_bootstrap "$EU" \
  --mirror_admin "$admin" --rate 2000 --partitions 6 --message_size 512 --duration 10 \
  --out "$work/loadtest" || true
if [ "${DEMO_WAIT:-1}" = 1 ] && [ -t 0 ]; then
  echo "== still running: try 'kcat -b $US -P -t orders' and 'kcat -b $EU -C -t us-east.orders'."
  echo "== Ctrl-C stops the mirror and both regions."
  wait $mirror || true
fi
