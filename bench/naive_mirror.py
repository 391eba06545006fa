#!/usr/bin/python3
"""The naive consume->produce loop a person would write with confluent-kafka (Debian's
python3-confluent-kafka), as the baseline of bench/mirror_bench.sh. Copies --count records
from every partition of --source-topic to the same partition of --target-topic."""
import argparse
import json
import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

ap = argparse.ArgumentParser()
ap.add_argument("--source", required=True)
ap.add_argument("--target", required=True)
ap.add_argument("--source-topic", required=True)
ap.add_argument("--target-topic", required=True)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("-X", action="append", default=[], help="client setting key=value (both clients)")
a = ap.parse_args()
extra = dict(x.split("=", 1) for x in a.X)

c = Consumer({"bootstrap.servers": a.source, "group.id": "naive-bench",
              "enable.auto.commit": False, "fetch.wait.max.ms": 10, **extra})
p = Producer({"bootstrap.servers": a.target, "enable.idempotence": True, "linger.ms": 5,
              "batch.num.messages": 10000, "queue.buffering.max.messages": 2000000, **extra})
md = c.list_topics(a.source_topic, timeout=10)
parts = sorted(md.topics[a.source_topic].partitions)
c.assign([TopicPartition(a.source_topic, i, OFFSET_BEGINNING) for i in parts])
n = 0
first = None
while n < a.count:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    if first is None:
        first = time.monotonic()
    while True:
        try:
            p.produce(a.target_topic, m.value(), m.key(), partition=m.partition(),
                      timestamp=m.timestamp()[1], headers=m.headers())
            break
        except BufferError:
            p.poll(0.01)
    p.poll(0)
    n += 1
p.flush(600)
secs = time.monotonic() - first
print(json.dumps({"mode": "naive", "records": n, "seconds": round(secs, 3), "rate": round(n / secs)}))
