#!/usr/bin/env bash
# Cassandra capture, end to end: events/s from segments in cdc_raw into a testbed Kafka
# (decode, Debezium envelope, produce with acks, checkpoint, delete), measured from the start of
# `regionmirror cdc cassandra run` until every event is acknowledged and every segment deleted.
# The segments are copies of the 3.0.13 fixture segment (plain, Cassandra 3.0) or of the 3.4
# one (encrypted + LZ4), each copy with its own segment id (header and sync marker CRCs redone).
# Usage: bench/cassandra_cdc_bench.sh [copies] [plain|encrypted]   (default 40 plain)
# BUILD=build-cass selects another build dir (default build). Prints figures; the machine is
# shared, so read them as orders of magnitude.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
if [ "${1:-}" != "--inside" ]; then
  [ -x "$BUILD/apps/regionmirror" ] || scripts/setup.sh regionmirror >/dev/null
  exec "$BUILD/apps/regionmirror" testbed --log_level warn --regions bench --brokers 1 \
    --topics "bench:cass.Keyspace1.Standard1:24" -- bash "$0" --inside "${1:-40}" "${2:-plain}"
fi
COPIES=$2
KIND=$3
FIX=../shared/fixtures/cassandra
if [ "$KIND" = encrypted ]; then
  DIR=$FIX/3.4-encrypted; SEG=CommitLog-6-1480001790338.log
else
  DIR=$FIX/3.0.13-encrypted; SEG=CommitLog-6-1699284515156.log
fi
CFID=$(sed -n 's/^cfid=//p' "$DIR/hash.txt")
BOOT=$(python3 -c "import json,os; print(json.load(open(os.environ['RM_TESTBED_ENDPOINTS']))['regions']['bench']['bootstrap_servers'])")
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/cdc_raw"

# Copies of the segment with ids base+i: the header CRC and every sync marker's CRC cover the id.
python3 - "$DIR/$SEG" "$work/cdc_raw" "$COPIES" <<'EOF'
import struct, sys, zlib
src, out, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(src, 'rb').read())
plen = struct.unpack('>H', data[12:14])[0]
hdr = 14 + plen + 4
for i in range(copies):
    seg_id = 1900000000000 + i
    b = bytearray(data)
    lo, hi = seg_id & 0xffffffff, seg_id >> 32
    struct.pack_into('>q', b, 4, seg_id)
    crc = zlib.crc32(struct.pack('>iIII', struct.unpack('>i', b[0:4])[0], lo, hi, plen) + bytes(b[14:14 + plen]))
    struct.pack_into('>I', b, 14 + plen, crc & 0xffffffff)
    pos = hdr
    while pos + 8 <= len(b):
        nxt = struct.unpack('>I', b[pos:pos + 4])[0]
        if nxt == 0 or nxt <= pos:
            break
        struct.pack_into('>I', b, pos + 4, zlib.crc32(struct.pack('>III', lo, hi, pos)) & 0xffffffff)
        pos = nxt
    open(f'{out}/CommitLog-6-{seg_id}.log', 'wb').write(b)
EOF
bytes=$(du -cb "$work"/cdc_raw/*.log | tail -1 | cut -f1)

cat >"$work/cdc.yaml" <<EOY
cassandra:
  cdc_raw_dir: $work/cdc_raw
  state_dir: $work/state
  topic_prefix: cass
  poll_interval_ms: 20
  encryption: {keystore: $(realpath $FIX/cassandra.keystore), keystore_password_env: RM_BENCH_KS}
  tables:
    cql: |
      CREATE TABLE "Keyspace1"."Standard1" (key ascii, col ascii, val blob, val0 blob,
        PRIMARY KEY (key, col)) WITH ID = $CFID AND cdc = true;
kafka:
  bootstrap_servers: "$BOOT"
  properties: {compression.type: lz4, linger.ms: "20"}
admin: {port: -1}
EOY
start=$(date +%s.%N)
RM_BENCH_KS=cassandra "$BUILD/apps/regionmirror" cdc cassandra run --config "$work/cdc.yaml" \
  --log_level warn >"$work/capture.log" 2>&1 &
pid=$!
# Done when every segment is deleted: that happens only after all its events were acked.
while [ -n "$(ls "$work/cdc_raw")" ]; do sleep 0.05; done
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill -TERM "$pid"; wait "$pid" || true; pid=
events=$(kcat -b "$BOOT" -C -t cass.Keyspace1.Standard1 -o beginning -e -q -f '%o\n' | grep -c . || true)
python3 - "$start" "$end" "$events" "$bytes" "$COPIES" "$KIND" "$rss" <<'EOF'
import sys
start, end, events, size, copies, kind, rss = sys.argv[1:]
secs = float(end) - float(start)
print(f"segments: {copies} x {kind} ({int(size) / 1e6:.1f} MB), events in Kafka: {events}")
print(f"end to end: {secs:.2f} s, {int(events) / secs:,.0f} events/s, "
      f"{int(size) / 1e6 / secs:.1f} MB/s of segments, peak RSS {int(rss) / 1024:.0f} MiB")
EOF
