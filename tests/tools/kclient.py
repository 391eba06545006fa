#!/usr/bin/python3
"""A Kafka client no one on this project wrote (kafka-python), for tests that must not only
trust our own code. Run with /usr/bin/python3 (Debian's python3-kafka).

  kclient.py partitions --bootstrap B --topic T
  kclient.py produce --bootstrap B --topic T --count N [--partition P] [--tag S]
  kclient.py consume --bootstrap B --topic T [--expect N] [--idle-ms MS] [--partition P]

consume prints one JSON object a line: {"p", "o", "k", "v", "h", "ts"} with key, value and
header values as hex (null when absent), reading every partition from the beginning.
produce writes records key=<tag>-<i>, value=<tag>-value-<i>, header ("n", str(i)) and prints
{"p": count per partition} when all are acknowledged.
"""
import argparse
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def hexb(b):
    return None if b is None else b.hex()


def cmd_partitions(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap)
    deadline = time.time() + 20
    parts = None
    while time.time() < deadline:
        parts = c.partitions_for_topic(a.topic)
        if parts:
            break
        time.sleep(0.2)
    print(json.dumps({"partitions": len(parts or [])}))
    c.close()


def cmd_produce(a):
    p = KafkaProducer(bootstrap_servers=a.bootstrap, acks="all", linger_ms=5)
    futures = []
    for i in range(a.count):
        kw = {"key": f"{a.tag}-{i}".encode(), "value": f"{a.tag}-value-{i}".encode(),
              "headers": [("n", str(i).encode())]}
        if a.partition is not None:
            kw["partition"] = a.partition
        futures.append(p.send(a.topic, **kw))
    counts = {}
    for f in futures:
        md = f.get(timeout=60)
        counts[md.partition] = counts.get(md.partition, 0) + 1
    p.flush()
    p.close()
    print(json.dumps({"p": counts}))


def cmd_consume(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, enable_auto_commit=False,
                      fetch_max_wait_ms=50)
    deadline = time.time() + 20
    parts = None
    while time.time() < deadline:
        parts = c.partitions_for_topic(a.topic)
        if parts:
            break
        time.sleep(0.2)
    if not parts:
        print(f"topic {a.topic} not found", file=sys.stderr)
        sys.exit(2)
    if a.partition is not None:
        parts = [a.partition]
    tps = [TopicPartition(a.topic, p) for p in sorted(parts)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    n = 0
    last = time.time()
    out = sys.stdout
    while True:
        batch = c.poll(timeout_ms=200, max_records=5000)
        for tp, msgs in batch.items():
            for m in msgs:
                out.write(json.dumps({"p": m.partition, "o": m.offset, "k": hexb(m.key),
                                      "v": hexb(m.value),
                                      "h": [[k, hexb(v)] for k, v in (m.headers or [])],
                                      "ts": m.timestamp}) + "\n")
                n += 1
        if batch:
            last = time.time()
        if a.expect is not None and n >= a.expect:
            break
        if time.time() - last > a.idle_ms / 1000.0:
            break
    out.flush()
    c.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("partitions", "produce", "consume"):
        s = sub.add_parser(name)
        s.add_argument("--bootstrap", required=True)
        s.add_argument("--topic", required=True)
        s.add_argument("--partition", type=int)
        if name == "produce":
            s.add_argument("--count", type=int, required=True)
            s.add_argument("--tag", default="py")
        if name == "consume":
            s.add_argument("--expect", type=int)
            s.add_argument("--idle-ms", type=int, default=3000)
    a = ap.parse_args()
    {"partitions": cmd_partitions, "produce": cmd_produce, "consume": cmd_consume}[a.cmd](a)


if __name__ == "__main__":
    main()
