// The provenance header every copied record carries: which flow copied it (source and target
// cluster) and from where (source topic, partition, offset). It makes the target partition the
// truth about progress (on assignment the mirror resumes after the last source offset this flow
// wrote at the target's tail) and stops cycles (a record that passed through the target cluster
// is never copied back).
//
// Header key "rmp"; value (compact, ~12-40 bytes):
//   version 2: u8 2 | u8 len, source alias | u8 len, target alias | u8 len, source topic |
//              varint partition | varint offset
//   version 1: u8 1 | u8 len, source alias | varint partition | varint offset
// Version 1 was written by older releases; it still decodes (target and topic empty) and keeps
// its old, wider meaning, so an upgrade neither re-copies nor drops what they wrote.
// A record copied several times carries one header per hop, oldest first.
//
// Headers are data anyone can copy (Kafka Streams copies them into derived topics), so a
// header is only believed when it describes where the record actually is: the last hop must
// have written into the cluster and topic the record is read from, the hop before it into the
// last hop's source, and so on. Headers before the first that does not fit are foreign.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm::replication {

inline constexpr const char* kProvenanceHeader = "rmp";

struct Provenance {
  std::string cluster;  // alias of the cluster the record was copied from
  std::string target;   // alias of the cluster it was copied to ("" in version 1)
  std::string topic;    // the topic it was copied from ("" in version 1)
  int32_t partition = 0;
  int64_t offset = 0;
  uint8_t version = 2;

  bool operator==(const Provenance&) const = default;
};

// Encodes version 2 (p.version is ignored).
std::string EncodeProvenance(const Provenance& p);
// Longest encoding: version, three length-prefixed names of at most 255 bytes, two varints.
inline constexpr size_t kMaxProvenanceSize = 1 + 3 * (1 + 255) + 5 + 10;
// Encodes version 2 into `buf` (at least kMaxProvenanceSize bytes) without allocating; returns
// the size. Names longer than 255 bytes are cut (Kafka topics have at most 249).
size_t EncodeProvenanceTo(std::string_view source, std::string_view target, std::string_view topic,
                          int32_t partition, int64_t offset, char* buf);
// nullopt for bytes that are not a valid version-1 or version-2 provenance value.
std::optional<Provenance> DecodeProvenance(std::string_view bytes);

// The last provenance header of `headers`, if it decodes (nullptr headers: none). The flow that
// wrote a record into a target always adds the last header, so this is the only one the tail
// scan looks at.
std::optional<Provenance> LastProvenance(const rd_kafka_headers_t* headers);

// Where a record was read: the alias of its cluster and its topic.
struct Location {
  std::string_view cluster;
  std::string_view topic;
};

// True if the record read at `at` passed through `cluster`: a hop of its trusted header chain
// (see above) names `cluster` as its source or target. Version-1 headers cannot be checked
// against the location; from the last one backwards every header is trusted, as before.
bool PassedThrough(const rd_kafka_headers_t* headers, Location at, std::string_view cluster);

// True if `topic` is where the built-in policies put a copy of `hop.topic` from `hop.cluster`:
// the same name (identity) or "<source alias><separator><topic>" (default, any non-empty
// separator). A derived topic named like "<alias>.new-<topic>" also fits: the separator the
// hop's flow used is not in the header.
bool CouldHoldCopy(std::string_view topic, const Provenance& hop);

}  // namespace rm::replication
