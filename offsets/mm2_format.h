// MirrorMaker 2 wire formats, so tools built for MM2 (RemoteClusterUtils, the
// OffsetSyncFormatter/CheckpointFormatter console formatters) read what we publish.
//
// MM2 serializes both records with Kafka's protocol Struct/Schema types: fields in schema order,
// no field names or tags, big-endian integers, STRING = int16 byte length N (must be >= 0,
// at most 32767) followed by N bytes of UTF-8.
//
//   OffsetSync (topic mm2-offset-syncs.<target>.internal; upstream = source cluster)
//     key   = topic:STRING partition:INT32
//     value = upstreamOffset:INT64 offset:INT64               (offset = downstream offset)
//
//   Checkpoint (topic <source-alias>.checkpoints.internal on the target)
//     key   = group:STRING topic:STRING partition:INT32       (topic = the remote topic name)
//     value = version:INT16 (= 0)  upstreamOffset:INT64 offset:INT64 metadata:STRING
//
//   Heartbeat (topic heartbeats on the target; copied onward as <alias>.heartbeats)
//     key   = sourceClusterAlias:STRING targetClusterAlias:STRING
//     value = version:INT16 (= 0)  timestamp:INT64                 (milliseconds since the epoch)
//
// Decoding is strict: short input, negative string lengths, an unknown checkpoint version or
// trailing bytes give an "offsets.mm2_decode" error (never a crash or an exception).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/offset_types.h"
#include "common/result.h"

namespace rm::offsets::mm2 {

// A record key and value as bytes.
struct KafkaRecord {
  std::string key;
  std::string value;
};

// "Record upstream_offset of topic/partition on the source is at downstream_offset on the
// target."
struct OffsetSync {
  std::string topic;  // source topic
  int32_t partition = 0;
  common::SourceOffset upstream_offset;
  common::TargetOffset downstream_offset;

  bool operator==(const OffsetSync&) const = default;
};

// A consumer group's position: committed `upstream_offset` on the source, translated to
// `downstream_offset` on the target, for the target (remote) topic name.
struct Checkpoint {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  common::SourceOffset upstream_offset;
  common::TargetOffset downstream_offset;
  std::string metadata;  // the group's commit metadata, passed through

  bool operator==(const Checkpoint&) const = default;
};

inline constexpr int16_t kCheckpointVersion = 0;

// "The link source -> target was alive at timestamp_ms" (MM2's MirrorHeartbeatTask).
struct Heartbeat {
  std::string source_alias;
  std::string target_alias;
  int64_t timestamp_ms = 0;

  bool operator==(const Heartbeat&) const = default;
};

inline constexpr int16_t kHeartbeatVersion = 0;

// Errors ("offsets.mm2_encode") only for strings longer than 32767 bytes.
common::Result<KafkaRecord> Encode(const OffsetSync& sync);
common::Result<KafkaRecord> Encode(const Checkpoint& checkpoint);
common::Result<KafkaRecord> Encode(const Heartbeat& heartbeat);

common::Result<OffsetSync> DecodeOffsetSync(std::string_view key, std::string_view value);
common::Result<Checkpoint> DecodeCheckpoint(std::string_view key, std::string_view value);
common::Result<Heartbeat> DecodeHeartbeat(std::string_view key, std::string_view value);

}  // namespace rm::offsets::mm2
