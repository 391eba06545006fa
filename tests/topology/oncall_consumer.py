#!/usr/bin/python3
"""An on-call tool's consumer group, written with kafka-python (a client we did not write), for
the failover scenarios. Run with /usr/bin/python3 (Debian's python3-kafka).

  oncall_consumer.py --bootstrap B --group G --topics T1,T2 [--max N] [--idle-ms MS]

Assigns every partition of the topics (no group membership: the positions are the group's
committed offsets, or the beginning when it has none), reads until --max records or until
nothing arrives for --idle-ms, commits the positions it reached for the group, and prints one
JSON object: {"read": [[topic, partition, offset, value], ...], "committed": {"t/p": offset}}.
"""
import argparse
import json
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topics", required=True)
    ap.add_argument("--max", type=int, default=0)
    ap.add_argument("--idle-ms", type=int, default=3000)
    a = ap.parse_args()

    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group, enable_auto_commit=False,
                      auto_offset_reset="earliest", fetch_max_wait_ms=50,
                      consumer_timeout_ms=a.idle_ms)
    parts = []
    for t in a.topics.split(","):
        deadline = time.time() + 20
        found = None
        while time.time() < deadline and not found:
            found = c.partitions_for_topic(t)
            if not found:
                time.sleep(0.2)
        parts += [TopicPartition(t, p) for p in sorted(found or [])]
    c.assign(parts)
    read = []
    positions = {}
    for m in c:
        read.append([m.topic, m.partition, m.offset, m.value.decode()])
        positions[TopicPartition(m.topic, m.partition)] = m.offset + 1
        if a.max and len(read) >= a.max:
            break
    if positions:
        c.commit({tp: OffsetAndMetadata(o, "") for tp, o in positions.items()})
    c.close()
    print(json.dumps({"read": read,
                      "committed": {f"{tp.topic}/{tp.partition}": o for tp, o in positions.items()}}))


if __name__ == "__main__":
    main()
