#!/usr/bin/python3
"""Helpers of bench/topology_failover_bench (confluent-kafka, not our client):

  foreign  --bootstrap EU --topic T --partitions P     p+1 foreign records into partition p
  produce  --bootstrap US --topic T --partitions P --per-partition N
  commit   --bootstrap US --topic T --partitions P --groups G --per-partition N --seed S --out F
           commits random positions 0..N for groups bench-000.. and writes them to F
  checkpoints --regionmirror BIN --config MIRROR_YAML --expected F --timeout S
           waits until the mirror stored a checkpoint at every committed position
  check    --bootstrap EU --topic T --partitions P --expected F
           reads every group's committed offsets in eu-west and counts those that are not
           exactly position + p + 1 (the foreign records shift partition p by p + 1)
  broker   --control HOST:PORT --region R --brokers N --state down|up
"""
import argparse
import json
import random
import subprocess
import sys
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition


def group_name(i):
    return f"bench-{i:03d}"


def produce(bootstrap, topic, partitions, per_partition, tag):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for part in range(partitions):
        for i in range(per_partition):
            while True:
                try:
                    p.produce(topic, key=f"{tag}-{part}-{i}", value=f"{tag}-{part}-{i}",
                              partition=part)
                    break
                except BufferError:
                    p.poll(0.05)
        p.poll(0)
    if p.flush(60) != 0:
        sys.exit("produce: records left unacknowledged")


def cmd_commit(a):
    rng = random.Random(a.seed)
    expected = {}
    for g in range(a.groups):
        name = group_name(g)
        positions = {p: rng.randint(0, a.per_partition) for p in range(a.partitions)}
        c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": name,
                      "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition(a.topic, p, o) for p, o in positions.items()],
                 asynchronous=False)
        c.close()
        expected[name] = positions
    with open(a.out, "w") as f:
        json.dump(expected, f)


def cmd_checkpoints(a):
    expected = json.load(open(a.expected))
    want = sum(len(v) for v in expected.values())
    deadline = time.time() + a.timeout
    matching = 0
    while time.time() < deadline:
        out = subprocess.run([a.regionmirror, "offsets", "dump", "--config", a.config, "--json",
                              "--limit", "1", "--log_level", "off"], capture_output=True,
                             text=True)
        if out.returncode == 0:
            cps = json.loads(out.stdout)["checkpoints"]
            matching = sum(1 for c in cps if c["group"] in expected and
                           expected[c["group"]].get(str(c["partition"])) == c["source_offset"])
            if matching == want:
                print(json.dumps({"checkpoints": matching}))
                return
        time.sleep(0.5)
    sys.exit(f"checkpoints: {matching} of {want} stored")


def cmd_check(a):
    expected = json.load(open(a.expected))
    off = missing = checked = 0
    worst = 0
    for name, positions in expected.items():
        c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": name,
                      "enable.auto.commit": False})
        got = c.committed([TopicPartition(a.topic, int(p)) for p in positions], timeout=30)
        c.close()
        for tp in got:
            want = positions[str(tp.partition)] + tp.partition + 1
            checked += 1
            if tp.offset < 0:
                missing += 1
            elif tp.offset != want:
                off += 1
                worst = max(worst, abs(tp.offset - want))
    print(json.dumps({"positions": checked, "off": off, "missing": missing, "worst": worst}))


def cmd_broker(a):
    for b in range(1, a.brokers + 1):
        req = urllib.request.Request(f"http://{a.control}/v1/brokers/{a.state}",
                                     data=json.dumps({"region": a.region, "broker": b}).encode(),
                                     method="POST")
        urllib.request.urlopen(req, timeout=10).read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("--bootstrap")
    ap.add_argument("--topic", default="orders")
    ap.add_argument("--partitions", type=int, default=24)
    ap.add_argument("--per-partition", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out")
    ap.add_argument("--expected")
    ap.add_argument("--regionmirror")
    ap.add_argument("--config")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--control")
    ap.add_argument("--region")
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--state")
    a = ap.parse_args()
    if a.cmd == "foreign":
        p = Producer({"bootstrap.servers": a.bootstrap})
        for part in range(a.partitions):
            for i in range(part + 1):
                p.produce(a.topic, value=f"foreign-{part}-{i}", partition=part)
        if p.flush(60) != 0:
            sys.exit("foreign: records left unacknowledged")
    elif a.cmd == "produce":
        produce(a.bootstrap, a.topic, a.partitions, a.per_partition, "rec")
    elif a.cmd == "commit":
        cmd_commit(a)
    elif a.cmd == "checkpoints":
        cmd_checkpoints(a)
    elif a.cmd == "check":
        cmd_check(a)
    elif a.cmd == "broker":
        cmd_broker(a)
    else:
        sys.exit(f"unknown command {a.cmd}")


if __name__ == "__main__":
    main()
