// The provenance header every copied record carries: which cluster, partition and offset it
// was copied from. It makes the target partition the truth about progress (on assignment the
// mirror resumes after the last source offset found at the target's tail) and stops cycles (a
// record whose provenance names the target cluster is never copied back).
//
// Header key "rmp"; value (compact, ~8-20 bytes):
//   u8 version (1) | u8 alias length | alias bytes | varint partition | varint offset
// A record copied several times carries one header per hop, oldest first.
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
  int32_t partition = 0;
  int64_t offset = 0;

  bool operator==(const Provenance&) const = default;
};

std::string EncodeProvenance(const Provenance& p);
// Longest encoding: version, length, 255-byte alias, two varints.
inline constexpr size_t kMaxProvenanceSize = 2 + 255 + 5 + 10;
// Encodes into `buf` (at least kMaxProvenanceSize bytes) without allocating; returns the size.
size_t EncodeProvenanceTo(std::string_view cluster, int32_t partition, int64_t offset, char* buf);
// nullopt for bytes that are not a valid version-1 provenance value.
std::optional<Provenance> DecodeProvenance(std::string_view bytes);

// The last provenance header of `headers` copied from `cluster` (nullptr headers: none).
std::optional<Provenance> FindProvenance(const rd_kafka_headers_t* headers,
                                         std::string_view cluster);
// True if any provenance header of `headers` names `cluster`.
bool PassedThrough(const rd_kafka_headers_t* headers, std::string_view cluster);

}  // namespace rm::replication
