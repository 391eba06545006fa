#!/usr/bin/python3
"""Reads MirrorMaker 2 topics with kafka-python (Debian's python3-kafka) and decodes them with
tests/offsets/mm2_decode.py, which was written from Kafka's Heartbeat.java and Checkpoint.java,
not from our encoder. Run with /usr/bin/python3.

  mm2_read.py heartbeats  --bootstrap B --topic heartbeats [--idle-ms MS]
  mm2_read.py checkpoints --bootstrap B --topic A.checkpoints.internal [--idle-ms MS]
  mm2_read.py record      --bootstrap B --topic T --partition P --offset O

heartbeats / checkpoints print one JSON object a line (the decoded fields plus "p" and "o"),
reading every partition from the beginning up to its end offset when the read started (the
topics keep growing), or until nothing came for --idle-ms. record prints
{"o", "k", "v"} (key and value as hex) of the record at exactly that offset; exit 3 if there is
none. A record that does not decode is an error (exit 2).
"""
import argparse
import json
import os
import sys
import time

from kafka import KafkaConsumer, TopicPartition

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "offsets"))
import mm2_decode  # noqa: E402


def partitions(consumer, topic):
    deadline = time.time() + 20
    while time.time() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return sorted(parts)
        time.sleep(0.2)
    print(f"topic {topic} not found", file=sys.stderr)
    sys.exit(2)


def cmd_decode(a, decode):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, enable_auto_commit=False,
                      fetch_max_wait_ms=50)
    tps = [TopicPartition(a.topic, p) for p in partitions(c, a.topic)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    ends = c.end_offsets(tps)
    last = time.time()
    while time.time() - last < a.idle_ms / 1000.0:
        if all(c.position(tp) >= ends[tp] for tp in tps):
            break
        batch = c.poll(timeout_ms=200, max_records=5000)
        for msgs in batch.values():
            for m in msgs:
                try:
                    out = decode(m.key, m.value)
                except (mm2_decode.Malformed, UnicodeDecodeError) as e:
                    print(f"malformed record at {m.partition}/{m.offset}: {e}", file=sys.stderr)
                    sys.exit(2)
                out["p"], out["o"] = m.partition, m.offset
                print(json.dumps(out, sort_keys=True))
        if batch:
            last = time.time()
    c.close()


def cmd_record(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, enable_auto_commit=False,
                      fetch_max_wait_ms=50)
    tp = TopicPartition(a.topic, a.partition)
    c.assign([tp])
    c.seek(tp, a.offset)
    deadline = time.time() + 10
    while time.time() < deadline:
        for msgs in c.poll(timeout_ms=200).values():
            for m in msgs:
                if m.offset == a.offset:
                    print(json.dumps({"o": m.offset, "k": m.key.hex() if m.key else None,
                                      "v": m.value.hex() if m.value else None}))
                    return
                print(f"asked for offset {a.offset}, got {m.offset}", file=sys.stderr)
                sys.exit(3)
    print(f"no record at {a.topic}/{a.partition}/{a.offset}", file=sys.stderr)
    sys.exit(3)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("heartbeats", "checkpoints", "record"):
        s = sub.add_parser(name)
        s.add_argument("--bootstrap", required=True)
        s.add_argument("--topic", required=True)
        if name == "record":
            s.add_argument("--partition", type=int, required=True)
            s.add_argument("--offset", type=int, required=True)
        else:
            s.add_argument("--idle-ms", type=int, default=2000)
    a = ap.parse_args()
    if a.cmd == "record":
        cmd_record(a)
    else:
        decode = mm2_decode.decode_heartbeat if a.cmd == "heartbeats" else mm2_decode.decode_checkpoint
        cmd_decode(a, decode)


if __name__ == "__main__":
    main()
