#!/usr/bin/python3
"""Independent decoder for MirrorMaker 2's OffsetSync, Checkpoint and Heartbeat records.

Written from MM2's published schemas (connect/mirror OffsetSync.java, connect/mirror-client
Checkpoint.java and Heartbeat.java, serialized with Kafka's protocol Schema/Struct types), not
from our C++ encoder:

  Type.STRING  int16 big-endian length N (N >= 0), then N bytes of UTF-8
  Type.INT16/INT32/INT64  big-endian two's complement

  OffsetSync  key   = topic:STRING partition:INT32
              value = upstreamOffset:INT64 offset:INT64
  Checkpoint  key   = group:STRING topic:STRING partition:INT32
              value = version:INT16 (must be 0) upstreamOffset:INT64 offset:INT64
                      metadata:STRING
  Heartbeat   key   = sourceClusterAlias:STRING targetClusterAlias:STRING
              value = HEADER_SCHEMA version:INT16 (must be 0), then VALUE_SCHEMA_V0
                      timestamp:INT64

Usage: mm2_decode.py offset-sync|checkpoint|heartbeat KEY_FILE VALUE_FILE
Prints one JSON object; exits 2 with a message on stderr for malformed input.
"""
import json
import struct
import sys


class Malformed(Exception):
    pass


class Buffer:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Malformed("need %d bytes at %d, have %d" % (n, self.pos, len(self.data) - self.pos))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.int16()
        if n < 0:
            raise Malformed("negative string length %d" % n)
        return self.take(n).decode("utf-8")

    def done(self):
        if self.pos != len(self.data):
            raise Malformed("%d trailing bytes" % (len(self.data) - self.pos))


def decode_offset_sync(key, value):
    k, v = Buffer(key), Buffer(value)
    out = {"topic": k.string(), "partition": k.int32()}
    k.done()
    out["upstreamOffset"] = v.int64()
    out["offset"] = v.int64()
    v.done()
    return out


def decode_checkpoint(key, value):
    k, v = Buffer(key), Buffer(value)
    out = {"group": k.string(), "topic": k.string(), "partition": k.int32()}
    k.done()
    version = v.int16()
    if version != 0:
        raise Malformed("unknown checkpoint version %d" % version)
    out["version"] = version
    out["upstreamOffset"] = v.int64()
    out["offset"] = v.int64()
    out["metadata"] = v.string()
    v.done()
    return out


def decode_heartbeat(key, value):
    k, v = Buffer(key), Buffer(value)
    out = {"sourceClusterAlias": k.string(), "targetClusterAlias": k.string()}
    k.done()
    version = v.int16()
    if version != 0:
        raise Malformed("unknown heartbeat version %d" % version)
    out["version"] = version
    out["timestamp"] = v.int64()
    v.done()
    return out


DECODERS = {"offset-sync": decode_offset_sync, "checkpoint": decode_checkpoint,
            "heartbeat": decode_heartbeat}


def main(argv):
    if len(argv) != 4 or argv[1] not in DECODERS:
        sys.stderr.write(__doc__)
        return 64
    with open(argv[2], "rb") as f:
        key = f.read()
    with open(argv[3], "rb") as f:
        value = f.read()
    try:
        print(json.dumps(DECODERS[argv[1]](key, value), sort_keys=True))
    except (Malformed, UnicodeDecodeError) as e:
        sys.stderr.write("malformed %s: %s\n" % (argv[1], e))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
