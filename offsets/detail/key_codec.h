// Byte layouts of everything the offsets module stores in RocksDB. Internal: only offsets/*.cc
// include this.
//
// Every name (flow, topic, group) is written as a u16 big-endian length followed by its bytes,
// so the encoding is prefix-free: topic "a" + partition 0 can never collide with, or sort inside,
// topic "a\0b". All integers are big-endian, so byte order equals numeric order for
// non-negative values (offsets and partitions are validated >= 0 before encoding).
//
//   runs CF         key   = name(flow) name(topic) u32(partition) u64(source_start)
//                   value = i64(target_start) uvarint(record_count)
//   checkpoints CF  key   = name(group) name(flow) name(topic) u32(partition)
//                   value = u8(version=1) i64(source) i64(target) i64(time_ms) u8(kind)
//                           u32(len) metadata
//   state CF        "format"                        -> "1"
//                   "prune" name(flow) name(topic) u32(partition) -> i64(log start floor)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/offset_types.h"
#include "common/result.h"
#include "offsets/delivery_sink.h"

namespace rm::offsets::detail {

inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kFormatVersion = "1";

void PutU16(std::string* out, uint16_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
void PutUvarint(std::string* out, uint64_t v);
void PutName(std::string* out, std::string_view name);

// A cursor over bytes being decoded; every Get* returns false (and consumes nothing useful)
// once the input is short, so callers check once at the end or at each step.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool GetU8(uint8_t* v);
  bool GetU16(uint16_t* v);
  bool GetU32(uint32_t* v);
  bool GetU64(uint64_t* v);
  bool GetUvarint(uint64_t* v);
  bool GetBytes(size_t n, std::string_view* v);
  bool GetName(std::string* v);
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

// Checks that a partition key can be encoded: names at most 65535 bytes, partition >= 0.
common::Status ValidatePartitionKey(const PartitionKey& p);

// name(flow) name(topic) u32(partition): the common prefix of all runs of one partition.
std::string PartitionPrefix(const PartitionKey& p);
// Prefix of all runs of one flow, or of one flow and topic.
std::string FlowPrefix(std::string_view flow);
std::string FlowTopicPrefix(std::string_view flow, std::string_view topic);

std::string RunKey(std::string_view partition_prefix, common::SourceOffset source_start);
// Splits a runs-CF key. Returns false for bytes that are not a run key.
bool DecodeRunKey(std::string_view key, PartitionKey* p, common::SourceOffset* source_start);
// Size of the partition prefix of a well-formed run key.
inline size_t RunKeyPrefixSize(std::string_view key) { return key.size() - 8; }

std::string RunValue(common::TargetOffset target_start, int64_t count);
bool DecodeRunValue(std::string_view value, common::TargetOffset* target_start, int64_t* count);

std::string PruneKey(std::string_view partition_prefix);
// `state` key of a partition's fresh-start floor (DeliverySink::MarkFreshStart).
std::string FreshStartKey(std::string_view partition_prefix);
// `state` key of the source offset through which a partition's syncs are in the offset-syncs
// topic (OffsetMap::NoteSyncedThrough).
std::string SyncedThroughKey(std::string_view partition_prefix);

// The smallest string greater than every string that starts with `prefix` (an exclusive
// upper bound for iteration); empty when no such string exists (prefix all 0xff).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace rm::offsets::detail
