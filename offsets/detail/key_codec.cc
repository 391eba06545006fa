#include "offsets/detail/key_codec.h"

#include <limits>

namespace rm::offsets::detail {

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutName(std::string* out, std::string_view name) {
  PutU16(out, static_cast<uint16_t>(name.size()));
  out->append(name);
}

bool Reader::GetU8(uint8_t* v) {
  if (in_.empty()) return false;
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Reader::GetU16(uint16_t* v) {
  if (in_.size() < 2) return false;
  *v = static_cast<uint16_t>((static_cast<uint8_t>(in_[0]) << 8) | static_cast<uint8_t>(in_[1]));
  in_.remove_prefix(2);
  return true;
}

bool Reader::GetU32(uint32_t* v) {
  if (in_.size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<uint8_t>(in_[i]);
  *v = r;
  in_.remove_prefix(4);
  return true;
}

bool Reader::GetU64(uint64_t* v) {
  if (in_.size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<uint8_t>(in_[i]);
  *v = r;
  in_.remove_prefix(8);
  return true;
}

bool Reader::GetUvarint(uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in_.empty()) return false;
    const auto byte = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    r |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;  // more than 10 bytes: not a varint we wrote
}

bool Reader::GetBytes(size_t n, std::string_view* v) {
  if (in_.size() < n) return false;
  *v = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Reader::GetName(std::string* v) {
  uint16_t len = 0;
  std::string_view bytes;
  if (!GetU16(&len) || !GetBytes(len, &bytes)) return false;
  v->assign(bytes);
  return true;
}

common::Status ValidatePartitionKey(const PartitionKey& p) {
  constexpr size_t kMax = std::numeric_limits<uint16_t>::max();
  if (p.flow.size() > kMax || p.topic.size() > kMax) {
    return common::Error{
        "offsets.invalid_argument",
        "flow or topic name longer than 65535 bytes (topic '" + p.topic.substr(0, 64) + "...')"};
  }
  if (p.partition < 0) {
    return common::Error{
        "offsets.invalid_argument",
        "negative partition " + std::to_string(p.partition) + " for topic '" + p.topic + "'"};
  }
  return common::Status::Ok();
}

std::string PartitionPrefix(const PartitionKey& p) {
  std::string out;
  out.reserve(2 + p.flow.size() + 2 + p.topic.size() + 4 + 8);
  PutName(&out, p.flow);
  PutName(&out, p.topic);
  PutU32(&out, static_cast<uint32_t>(p.partition));
  return out;
}

std::string FlowPrefix(std::string_view flow) {
  std::string out;
  PutName(&out, flow);
  return out;
}

std::string FlowTopicPrefix(std::string_view flow, std::string_view topic) {
  std::string out;
  PutName(&out, flow);
  PutName(&out, topic);
  return out;
}

std::string RunKey(std::string_view partition_prefix, common::SourceOffset source_start) {
  std::string out;
  out.reserve(partition_prefix.size() + 8);
  out.append(partition_prefix);
  PutU64(&out, static_cast<uint64_t>(source_start.value()));
  return out;
}

bool DecodeRunKey(std::string_view key, PartitionKey* p, common::SourceOffset* source_start) {
  Reader r(key);
  uint32_t partition = 0;
  uint64_t start = 0;
  if (!r.GetName(&p->flow) || !r.GetName(&p->topic) || !r.GetU32(&partition) || !r.GetU64(&start) ||
      !r.empty()) {
    return false;
  }
  if (partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) ||
      start > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return false;
  }
  p->partition = static_cast<int32_t>(partition);
  *source_start = common::SourceOffset(static_cast<int64_t>(start));
  return true;
}

std::string RunValue(common::TargetOffset target_start, int64_t count) {
  std::string out;
  out.reserve(8 + 10);
  PutU64(&out, static_cast<uint64_t>(target_start.value()));
  PutUvarint(&out, static_cast<uint64_t>(count));
  return out;
}

bool DecodeRunValue(std::string_view value, common::TargetOffset* target_start, int64_t* count) {
  Reader r(value);
  uint64_t target = 0;
  uint64_t n = 0;
  if (!r.GetU64(&target) || !r.GetUvarint(&n) || !r.empty()) return false;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (target > kMax || n == 0 || n > kMax || target > kMax - n) return false;
  *target_start = common::TargetOffset(static_cast<int64_t>(target));
  *count = static_cast<int64_t>(n);
  return true;
}

std::string PruneKey(std::string_view partition_prefix) {
  std::string out = "prune";
  out.append(partition_prefix);
  return out;
}

std::string FreshStartKey(std::string_view partition_prefix) {
  std::string out = "fresh";
  out.append(partition_prefix);
  return out;
}

std::string SyncedThroughKey(std::string_view partition_prefix) {
  std::string out = "synced";
  out.append(partition_prefix);
  return out;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace rm::offsets::detail
