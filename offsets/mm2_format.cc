#include "offsets/mm2_format.h"

#include "offsets/detail/key_codec.h"

namespace rm::offsets::mm2 {
namespace {

constexpr size_t kMaxString = 32767;  // Java Short.MAX_VALUE

bool PutString(std::string* out, std::string_view s) {
  if (s.size() > kMaxString) return false;
  detail::PutU16(out, static_cast<uint16_t>(s.size()));
  out->append(s);
  return true;
}

common::Error EncodeError(std::string_view field, size_t size) {
  return common::Error{"offsets.mm2_encode", std::string(field) + " is " + std::to_string(size) +
                                                 " bytes; MM2 strings hold at most 32767"};
}

common::Error DecodeError(std::string_view what, std::string_view detail) {
  return common::Error{"offsets.mm2_decode", std::string(what) + ": " + std::string(detail)};
}

// Kafka's Type.STRING: int16 length, which must be >= 0, then that many bytes.
bool GetString(detail::Reader& r, std::string* out, std::string* why) {
  uint16_t raw = 0;
  if (!r.GetU16(&raw)) {
    *why = "truncated string length";
    return false;
  }
  const auto len = static_cast<int16_t>(raw);
  if (len < 0) {
    *why = "negative string length " + std::to_string(len);
    return false;
  }
  std::string_view bytes;
  if (!r.GetBytes(static_cast<size_t>(len), &bytes)) {
    *why = "string of " + std::to_string(len) + " bytes with " + std::to_string(r.remaining()) +
           " left";
    return false;
  }
  out->assign(bytes);
  return true;
}

bool GetInt32(detail::Reader& r, int32_t* v) {
  uint32_t raw = 0;
  if (!r.GetU32(&raw)) return false;
  *v = static_cast<int32_t>(raw);
  return true;
}

bool GetInt64(detail::Reader& r, int64_t* v) {
  uint64_t raw = 0;
  if (!r.GetU64(&raw)) return false;
  *v = static_cast<int64_t>(raw);
  return true;
}

// Parses key = topic:STRING partition:INT32 (OffsetSync) or the tail of the checkpoint key.
bool GetTopicPartition(detail::Reader& r, std::string* topic, int32_t* partition,
                       std::string* why) {
  if (!GetString(r, topic, why)) {
    *why = "topic: " + *why;
    return false;
  }
  if (!GetInt32(r, partition)) {
    *why = "truncated partition";
    return false;
  }
  return true;
}

}  // namespace

common::Result<KafkaRecord> Encode(const OffsetSync& sync) {
  KafkaRecord record;
  if (!PutString(&record.key, sync.topic)) return EncodeError("topic", sync.topic.size());
  detail::PutU32(&record.key, static_cast<uint32_t>(sync.partition));
  detail::PutU64(&record.value, static_cast<uint64_t>(sync.upstream_offset.value()));
  detail::PutU64(&record.value, static_cast<uint64_t>(sync.downstream_offset.value()));
  if (sync.mark != SyncMark::kUnmarked) {
    record.headers.emplace_back(std::string(kSyncMarkHeader),
                                sync.mark == SyncMark::kClosesRun ? "close" : "run");
  }
  return record;
}

common::Result<KafkaRecord> Encode(const Checkpoint& checkpoint) {
  KafkaRecord record;
  if (!PutString(&record.key, checkpoint.group)) {
    return EncodeError("group", checkpoint.group.size());
  }
  if (!PutString(&record.key, checkpoint.topic)) {
    return EncodeError("topic", checkpoint.topic.size());
  }
  detail::PutU32(&record.key, static_cast<uint32_t>(checkpoint.partition));
  detail::PutU16(&record.value, static_cast<uint16_t>(kCheckpointVersion));
  detail::PutU64(&record.value, static_cast<uint64_t>(checkpoint.upstream_offset.value()));
  detail::PutU64(&record.value, static_cast<uint64_t>(checkpoint.downstream_offset.value()));
  if (!PutString(&record.value, checkpoint.metadata)) {
    return EncodeError("metadata", checkpoint.metadata.size());
  }
  return record;
}

common::Result<KafkaRecord> Encode(const Heartbeat& heartbeat) {
  KafkaRecord record;
  if (!PutString(&record.key, heartbeat.source_alias)) {
    return EncodeError("sourceClusterAlias", heartbeat.source_alias.size());
  }
  if (!PutString(&record.key, heartbeat.target_alias)) {
    return EncodeError("targetClusterAlias", heartbeat.target_alias.size());
  }
  detail::PutU16(&record.value, static_cast<uint16_t>(kHeartbeatVersion));
  detail::PutU64(&record.value, static_cast<uint64_t>(heartbeat.timestamp_ms));
  return record;
}

common::Result<OffsetSync> DecodeOffsetSync(std::string_view key, std::string_view value,
                                            std::optional<std::string_view> mark_header) {
  OffsetSync sync;
  if (mark_header) {
    if (*mark_header == "run") {
      sync.mark = SyncMark::kRun;
    } else if (*mark_header == "close") {
      sync.mark = SyncMark::kClosesRun;
    } else {
      return DecodeError("OffsetSync header " + std::string(kSyncMarkHeader),
                         "expected \"run\" or \"close\"");
    }
  }
  std::string why;
  detail::Reader k(key);
  if (!GetTopicPartition(k, &sync.topic, &sync.partition, &why)) {
    return DecodeError("OffsetSync key", why);
  }
  if (!k.empty()) return DecodeError("OffsetSync key", "trailing bytes");
  detail::Reader v(value);
  int64_t upstream = 0;
  int64_t downstream = 0;
  if (!GetInt64(v, &upstream) || !GetInt64(v, &downstream)) {
    return DecodeError("OffsetSync value",
                       "expected 16 bytes, got " + std::to_string(value.size()));
  }
  if (!v.empty()) return DecodeError("OffsetSync value", "trailing bytes");
  sync.upstream_offset = common::SourceOffset(upstream);
  sync.downstream_offset = common::TargetOffset(downstream);
  return sync;
}

common::Result<OffsetSync> DecodeOffsetSync(const KafkaRecord& record) {
  std::optional<std::string_view> mark;
  for (const auto& [name, value] : record.headers) {
    if (name == kSyncMarkHeader) mark = value;  // the last one wins, as in Kafka's Headers
  }
  return DecodeOffsetSync(record.key, record.value, mark);
}

common::Result<Checkpoint> DecodeCheckpoint(std::string_view key, std::string_view value) {
  Checkpoint checkpoint;
  std::string why;
  detail::Reader k(key);
  if (!GetString(k, &checkpoint.group, &why)) return DecodeError("Checkpoint key", "group: " + why);
  if (!GetTopicPartition(k, &checkpoint.topic, &checkpoint.partition, &why)) {
    return DecodeError("Checkpoint key", why);
  }
  if (!k.empty()) return DecodeError("Checkpoint key", "trailing bytes");

  detail::Reader v(value);
  uint16_t version = 0;
  if (!v.GetU16(&version)) return DecodeError("Checkpoint value", "truncated version header");
  if (static_cast<int16_t>(version) != kCheckpointVersion) {
    return DecodeError("Checkpoint value",
                       "unsupported version " + std::to_string(static_cast<int16_t>(version)));
  }
  int64_t upstream = 0;
  int64_t downstream = 0;
  if (!GetInt64(v, &upstream) || !GetInt64(v, &downstream)) {
    return DecodeError("Checkpoint value", "truncated offsets");
  }
  if (!GetString(v, &checkpoint.metadata, &why)) {
    return DecodeError("Checkpoint value", "metadata: " + why);
  }
  if (!v.empty()) return DecodeError("Checkpoint value", "trailing bytes");
  checkpoint.upstream_offset = common::SourceOffset(upstream);
  checkpoint.downstream_offset = common::TargetOffset(downstream);
  return checkpoint;
}

common::Result<Heartbeat> DecodeHeartbeat(std::string_view key, std::string_view value) {
  Heartbeat heartbeat;
  std::string why;
  detail::Reader k(key);
  if (!GetString(k, &heartbeat.source_alias, &why)) {
    return DecodeError("Heartbeat key", "sourceClusterAlias: " + why);
  }
  if (!GetString(k, &heartbeat.target_alias, &why)) {
    return DecodeError("Heartbeat key", "targetClusterAlias: " + why);
  }
  if (!k.empty()) return DecodeError("Heartbeat key", "trailing bytes");
  detail::Reader v(value);
  uint16_t version = 0;
  if (!v.GetU16(&version)) return DecodeError("Heartbeat value", "truncated version header");
  if (static_cast<int16_t>(version) != kHeartbeatVersion) {
    return DecodeError("Heartbeat value",
                       "unsupported version " + std::to_string(static_cast<int16_t>(version)));
  }
  if (!GetInt64(v, &heartbeat.timestamp_ms)) {
    return DecodeError("Heartbeat value", "truncated timestamp");
  }
  if (!v.empty()) return DecodeError("Heartbeat value", "trailing bytes");
  return heartbeat;
}

}  // namespace rm::offsets::mm2
