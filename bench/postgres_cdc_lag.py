#!/usr/bin/python3
"""Reads the capture's topics (python3-confluent-kafka, a client we did not write) from the
beginning until SIGTERM, then prints one JSON line: events read, their rate, and the capture
lag of each change event = the time it became readable here - its commit time in Postgres
(source.ts_ms, same machine clock), split at the envelope's ts_ms (when the capture decoded
it) into commit -> decoded (Postgres, walsender, capture's read) and decoded -> readable
(sink, Kafka, this consumer). For bench/postgres_cdc_bench.sh."""
import argparse
import json
import signal
import time

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

ap = argparse.ArgumentParser()
ap.add_argument("--bootstrap", required=True)
ap.add_argument("--topic", action="append", required=True)
ap.add_argument("--ready-file", help="touched once the partitions are assigned")
ap.add_argument("--per-second", help="writes max lag per second of reading to this file")
a = ap.parse_args()

stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "pg-cdc-bench",
              "enable.auto.commit": False, "fetch.wait.max.ms": 10})
tps = []
for t in a.topic:
    md = c.list_topics(t, timeout=10)
    tps += [TopicPartition(t, p, OFFSET_BEGINNING) for p in sorted(md.topics[t].partitions)]
c.assign(tps)
if a.ready_file:
    open(a.ready_file, "w").close()
lags = []
to_capture = []
to_reader = []
times = []
first = last = None
while not stop:
    # poll() returns as soon as a message is there (consume() would wait for a batch).
    m = c.poll(0.05)
    if m is None:
        continue
    now_ms = time.time() * 1000.0
    if m.error() or m.value() is None:  # tombstones carry no commit time
        continue
    e = json.loads(m.value())
    if e.get("op") not in ("c", "u", "d"):
        continue
    lags.append(now_ms - e["source"]["ts_ms"])
    to_capture.append(e["ts_ms"] - e["source"]["ts_ms"])
    to_reader.append(now_ms - e["ts_ms"])
    times.append(now_ms)
    if first is None:
        first = now_ms
    last = now_ms
c.close()
if a.per_second and lags:
    worst = {}
    for t, l, d in zip(times, lags, to_capture):
        s = int((t - first) / 1000)
        worst[s] = max(worst.get(s, (0, 0)), (l, d))
    with open(a.per_second, "w") as f:
        for s in sorted(worst):
            f.write(f"{s} {worst[s][0]:.0f} {worst[s][1]:.0f}\n")
lags.sort()
to_capture.sort()
to_reader.sort()


def pct(q, xs=lags):
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else None


span = (last - first) / 1000.0 if lags and last > first else 0
print(json.dumps({"events": len(lags), "first_ms": first, "last_ms": last,
                  "rate": round(len(lags) / span) if span else 0,
                  "lag_p50_ms": pct(0.50), "lag_p99_ms": pct(0.99),
                  "lag_max_ms": round(lags[-1], 1) if lags else None,
                  "decoded_p50_ms": pct(0.50, to_capture), "decoded_p99_ms": pct(0.99, to_capture),
                  "readable_p50_ms": pct(0.50, to_reader), "readable_p99_ms": pct(0.99, to_reader)}))
