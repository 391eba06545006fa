#include "replication/provenance.h"

namespace rm::replication {
namespace {

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

}  // namespace

size_t EncodeProvenanceTo(std::string_view cluster, int32_t partition, int64_t offset, char* buf) {
  cluster = cluster.substr(0, 255);
  size_t n = 0;
  buf[n++] = 1;
  buf[n++] = static_cast<char>(static_cast<uint8_t>(cluster.size()));
  cluster.copy(buf + n, cluster.size());
  n += cluster.size();
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
  return std::string(buf, EncodeProvenanceTo(p.cluster, p.partition, p.offset, buf));
}

std::optional<Provenance> DecodeProvenance(std::string_view in) {
  if (in.size() < 2 || in[0] != 1) return std::nullopt;
  size_t len = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  if (in.size() < len) return std::nullopt;
  Provenance p;
  p.cluster = std::string(in.substr(0, len));
  in.remove_prefix(len);
  uint64_t part = 0, off = 0;
  if (!GetVarint(in, &part) || !GetVarint(in, &off) || !in.empty()) return std::nullopt;
  if (part > INT32_MAX || off > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  p.partition = static_cast<int32_t>(part);
  p.offset = static_cast<int64_t>(off);
  return p;
}

std::optional<Provenance> FindProvenance(const rd_kafka_headers_t* headers,
                                         std::string_view cluster) {
  if (headers == nullptr) return std::nullopt;
  std::optional<Provenance> found;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get(headers, i, kProvenanceHeader, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    if (value == nullptr) continue;
    auto p = DecodeProvenance(std::string_view(static_cast<const char*>(value), size));
    if (p && p->cluster == cluster) found = std::move(p);
  }
  return found;
}

bool PassedThrough(const rd_kafka_headers_t* headers, std::string_view cluster) {
  return FindProvenance(headers, cluster).has_value();
}

}  // namespace rm::replication
