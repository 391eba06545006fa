#include "offsets/checkpoint_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <limits>
#include <memory>

#include "offsets/detail/key_codec.h"
#include "offsets/detail/rocksdb_handles.h"
#include "offsets/detail/rocksdb_status.h"

namespace rm::offsets {
namespace {

constexpr uint8_t kValueVersion = 1;
constexpr size_t kMaxName = std::numeric_limits<uint16_t>::max();

common::Status Validate(const std::string& flow, const std::string& group, const std::string& topic,
                        int32_t partition) {
  if (flow.size() > kMaxName || group.size() > kMaxName || topic.size() > kMaxName) {
    return common::Error{"offsets.invalid_argument",
                         "flow, group or topic name longer than 65535 bytes"};
  }
  if (partition < 0) {
    return common::Error{"offsets.invalid_argument",
                         "negative partition " + std::to_string(partition)};
  }
  return common::Status::Ok();
}

std::string Key(const std::string& flow, const std::string& group, const std::string& topic,
                int32_t partition) {
  std::string out;
  detail::PutName(&out, group);
  detail::PutName(&out, flow);
  detail::PutName(&out, topic);
  detail::PutU32(&out, static_cast<uint32_t>(partition));
  return out;
}

std::string Value(const GroupCheckpoint& c) {
  std::string out;
  out.push_back(static_cast<char>(kValueVersion));
  detail::PutU64(&out, static_cast<uint64_t>(c.source_offset.value()));
  detail::PutU64(&out, static_cast<uint64_t>(c.target_offset.value()));
  detail::PutU64(&out, static_cast<uint64_t>(c.time_ms));
  out.push_back(static_cast<char>(c.kind));
  detail::PutU32(&out, static_cast<uint32_t>(c.metadata.size()));
  out.append(c.metadata);
  return out;
}

bool Decode(std::string_view key, std::string_view value, GroupCheckpoint* c) {
  detail::Reader k(key);
  uint32_t partition = 0;
  if (!k.GetName(&c->group) || !k.GetName(&c->flow) || !k.GetName(&c->topic) ||
      !k.GetU32(&partition) || !k.empty() ||
      partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return false;
  }
  c->partition = static_cast<int32_t>(partition);
  detail::Reader v(value);
  uint8_t version = 0;
  uint64_t source = 0;
  uint64_t target = 0;
  uint64_t time = 0;
  uint8_t kind = 0;
  uint32_t len = 0;
  std::string_view metadata;
  if (!v.GetU8(&version) || version != kValueVersion || !v.GetU64(&source) || !v.GetU64(&target) ||
      !v.GetU64(&time) || !v.GetU8(&kind) ||
      kind > static_cast<uint8_t>(TranslationKind::kNoMapping) || !v.GetU32(&len) ||
      !v.GetBytes(len, &metadata) || !v.empty()) {
    return false;
  }
  c->source_offset = common::SourceOffset(static_cast<int64_t>(source));
  c->target_offset = common::TargetOffset(static_cast<int64_t>(target));
  c->time_ms = static_cast<int64_t>(time);
  c->kind = static_cast<TranslationKind>(kind);
  c->metadata.assign(metadata);
  return true;
}

}  // namespace

common::Status CheckpointStore::Put(const std::vector<GroupCheckpoint>& checkpoints, bool sync) {
  rocksdb::WriteBatch batch;
  for (const auto& c : checkpoints) {
    if (auto s = Validate(c.flow, c.group, c.topic, c.partition); !s.ok()) return s;
    if (c.metadata.size() > std::numeric_limits<uint32_t>::max()) {
      return common::Error{"offsets.invalid_argument", "checkpoint metadata too large"};
    }
    batch.Put(store_.rocks().checkpoints, Key(c.flow, c.group, c.topic, c.partition), Value(c))
        .PermitUncheckedError();  // in-memory batch
  }
  if (batch.Count() == 0) return common::Status::Ok();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return detail::ToStatus("write group checkpoints", store_.rocks().db()->Write(wo, &batch));
}

common::Result<std::optional<GroupCheckpoint>> CheckpointStore::Get(const std::string& flow,
                                                                    const std::string& group,
                                                                    const std::string& topic,
                                                                    int32_t partition) const {
  if (auto s = Validate(flow, group, topic, partition); !s.ok()) return s.error();
  const auto key = Key(flow, group, topic, partition);
  std::string value;
  auto s =
      store_.rocks().db()->Get(rocksdb::ReadOptions(), store_.rocks().checkpoints, key, &value);
  if (s.IsNotFound()) return std::optional<GroupCheckpoint>();
  if (!s.ok()) return detail::RocksError("read group checkpoint", s);
  GroupCheckpoint c;
  if (!Decode(key, value, &c)) {
    return detail::Corruption("malformed checkpoint for group " + group + " " + topic + "/" +
                              std::to_string(partition));
  }
  return std::optional<GroupCheckpoint>(std::move(c));
}

common::Result<std::vector<GroupCheckpoint>> CheckpointStore::List(
    const CheckpointFilter& filter) const {
  std::string lower;
  if (filter.group) {
    if (filter.group->size() > kMaxName) {
      return common::Error{"offsets.invalid_argument", "group name longer than 65535 bytes"};
    }
    detail::PutName(&lower, *filter.group);
  }
  const std::string upper = detail::PrefixSuccessor(lower);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.rocks().db()->NewIterator(ro, store_.rocks().checkpoints));
  std::vector<GroupCheckpoint> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    GroupCheckpoint c;
    const auto key = it->key();
    const auto value = it->value();
    if (!Decode(std::string_view(key.data(), key.size()),
                std::string_view(value.data(), value.size()), &c)) {
      return detail::Corruption("malformed checkpoint entry (key " + key.ToString(true) + ")");
    }
    if (filter.flow && c.flow != *filter.flow) continue;
    if (filter.topic && c.topic != *filter.topic) continue;
    out.push_back(std::move(c));
  }
  if (!it->status().ok()) return detail::RocksError("scan group checkpoints", it->status());
  return out;
}

common::Status CheckpointStore::Delete(const std::string& flow, const std::string& group,
                                       const std::string& topic, int32_t partition) {
  if (auto s = Validate(flow, group, topic, partition); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return detail::ToStatus("delete group checkpoint",
                          store_.rocks().db()->Delete(wo, store_.rocks().checkpoints,
                                                      Key(flow, group, topic, partition)));
}

}  // namespace rm::offsets
