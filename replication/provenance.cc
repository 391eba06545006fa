#include "replication/provenance.h"

namespace rm::replication {
namespace {

// A decoded header whose names point into the header value: the cycle check runs per record
// and must not allocate.
struct HopView {
  uint8_t version = 0;
  std::string_view cluster;
  std::string_view target;
  std::string_view topic;
  uint64_t partition = 0;
  uint64_t offset = 0;
};

bool GetVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

bool GetName(std::string_view& in, std::string_view* name) {
  if (in.empty()) return false;
  size_t len = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (in.size() < len) return false;
  *name = in.substr(0, len);
  in.remove_prefix(len);
  return true;
}

std::optional<HopView> DecodeView(std::string_view in) {
  if (in.empty()) return std::nullopt;
  HopView h;
  h.version = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (h.version != 1 && h.version != 2) return std::nullopt;
  if (!GetName(in, &h.cluster)) return std::nullopt;
  if (h.version == 2 && (!GetName(in, &h.target) || !GetName(in, &h.topic))) return std::nullopt;
  if (!GetVarint(in, &h.partition) || !GetVarint(in, &h.offset) || !in.empty()) {
    return std::nullopt;
  }
  if (h.partition > INT32_MAX || h.offset > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return h;
}

// The value of the `i`-th provenance header, or nullopt past the last one.
std::optional<std::string_view> HeaderAt(const rd_kafka_headers_t* headers, size_t i) {
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get(headers, i, kProvenanceHeader, &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return value == nullptr ? std::string_view()
                          : std::string_view(static_cast<const char*>(value), size);
}

size_t CountHeaders(const rd_kafka_headers_t* headers) {
  size_t n = 0;
  while (HeaderAt(headers, n)) ++n;
  return n;
}

bool TopicFits(std::string_view topic, std::string_view source, std::string_view source_topic) {
  if (topic == source_topic) return true;
  // The separator is any non-empty string (replication config requires one for the default
  // policy); which one the hop's flow used is not recorded.
  return topic.size() > source.size() + source_topic.size() && topic.starts_with(source) &&
         topic.ends_with(source_topic);
}

}  // namespace

size_t EncodeProvenanceTo(std::string_view source, std::string_view target, std::string_view topic,
                          int32_t partition, int64_t offset, char* buf) {
  size_t n = 0;
  buf[n++] = 2;
  for (std::string_view name : {source, target, topic}) {
    name = name.substr(0, 255);
    buf[n++] = static_cast<char>(static_cast<uint8_t>(name.size()));
    name.copy(buf + n, name.size());
    n += name.size();
  }
  for (uint64_t v :
       {static_cast<uint64_t>(static_cast<uint32_t>(partition)), static_cast<uint64_t>(offset)}) {
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
  }
  return n;
}

std::string EncodeProvenance(const Provenance& p) {
  char buf[kMaxProvenanceSize];
  return std::string(buf,
                     EncodeProvenanceTo(p.cluster, p.target, p.topic, p.partition, p.offset, buf));
}

std::optional<Provenance> DecodeProvenance(std::string_view bytes) {
  auto h = DecodeView(bytes);
  if (!h) return std::nullopt;
  Provenance p;
  p.version = h->version;
  p.cluster = std::string(h->cluster);
  p.target = std::string(h->target);
  p.topic = std::string(h->topic);
  p.partition = static_cast<int32_t>(h->partition);
  p.offset = static_cast<int64_t>(h->offset);
  return p;
}

std::optional<Provenance> LastProvenance(const rd_kafka_headers_t* headers) {
  if (headers == nullptr) return std::nullopt;
  size_t n = CountHeaders(headers);
  if (n == 0) return std::nullopt;
  return DecodeProvenance(*HeaderAt(headers, n - 1));
}

bool CouldHoldCopy(std::string_view topic, const Provenance& hop) {
  return TopicFits(topic, hop.cluster, hop.topic);
}

bool PassedThrough(const rd_kafka_headers_t* headers, Location at, std::string_view cluster) {
  if (headers == nullptr) return false;
  // Walk back from the last header; `at` is where the hop being looked at must have written.
  bool checked = true;  // false after a version-1 header: locations are unknown from there on
  for (size_t i = CountHeaders(headers); i-- > 0;) {
    auto hop = DecodeView(*HeaderAt(headers, i));
    if (!hop) {
      if (checked) return false;  // an unreadable link ends the trusted chain
      continue;
    }
    if (hop->version == 1) {
      checked = false;
    } else if (checked) {
      if (hop->target != at.cluster || !TopicFits(at.topic, hop->cluster, hop->topic)) {
        return false;  // this header and all before it describe some other record
      }
      at = {hop->cluster, hop->topic};
    }
    if (hop->cluster == cluster || hop->target == cluster) return true;
  }
  return false;
}

}  // namespace rm::replication
