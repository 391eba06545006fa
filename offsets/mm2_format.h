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
//
// Our own addition, outside MM2's schema: every OffsetSync we write carries a record header
// kSyncMarkHeader ("rm-sync") saying whether it closes the run it ends ("close") or not ("run")
// (offset_sync_emitter.h explains why a rebuild needs to know). MM2's readers ignore headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/offset_types.h"
#include "common/result.h"

namespace rm::offsets::mm2 {

// A record key, value and headers as bytes.
struct KafkaRecord {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr std::string_view kSyncMarkHeader = "rm-sync";

// What a sync says about the run it belongs to (the kSyncMarkHeader header).
enum class SyncMark : uint8_t {
  kUnmarked,   // no header: written by MM2 or by a regionmirror before the header existed
  kRun,        // "run": an ordinary sync
  kClosesRun,  // "close": nothing follows this record in its run (emitter rule 3)
};

// "Record upstream_offset of topic/partition on the source is at downstream_offset on the
// target."
struct OffsetSync {
  std::string topic;  // source topic
  int32_t partition = 0;
  common::SourceOffset upstream_offset;
  common::TargetOffset downstream_offset;
  SyncMark mark = SyncMark::kUnmarked;  // ours, in a header; not part of MM2's schema

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

// `mark_header`: the value of the record's kSyncMarkHeader header, nullopt when it has none.
// An unknown value is an error, like a malformed key or value.
common::Result<OffsetSync> DecodeOffsetSync(std::string_view key, std::string_view value,
                                            std::optional<std::string_view> mark_header = {});
// The same, from a whole record (its kSyncMarkHeader header, if any, gives the mark).
common::Result<OffsetSync> DecodeOffsetSync(const KafkaRecord& record);
common::Result<Checkpoint> DecodeCheckpoint(std::string_view key, std::string_view value);
common::Result<Heartbeat> DecodeHeartbeat(std::string_view key, std::string_view value);

}  // namespace rm::offsets::mm2
