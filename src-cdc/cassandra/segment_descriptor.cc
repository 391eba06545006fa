#include "src-cdc/cassandra/segment_descriptor.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "src-cdc/cassandra/detail/byte_reader.h"
#include "src-cdc/cassandra/detail/crc32.h"
#include "src-cdc/cassandra/mutation_decoder.h"

namespace rm::cdc::cassandra {
namespace {

common::Error HeaderError(std::string_view file, const std::string& what) {
  return {"cassandra.header", std::string(file) + ": segment header: " + what};
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

std::optional<std::string> JsonString(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

int SegmentDescriptor::messaging_version() const {
  return version == kCommitLogVersion30 ? kMessagingVersion30 : kMessagingVersion40;
}

std::optional<size_t> SegmentHeaderSize(std::string_view first_bytes) {
  if (first_bytes.size() < 14) return std::nullopt;
  const auto params_len =
      (static_cast<uint8_t>(first_bytes[12]) << 8) | static_cast<uint8_t>(first_bytes[13]);
  return kMinHeaderSize + static_cast<size_t>(params_len);
}

common::Result<SegmentDescriptor> ParseSegmentDescriptor(std::string_view bytes,
                                                         std::string_view file_name) {
  detail::ByteReader r(bytes);
  SegmentDescriptor d;
  uint16_t params_len;
  if (!r.ReadI32(&d.version) || !r.ReadI64(&d.id) || !r.ReadU16(&params_len)) {
    return HeaderError(file_name,
                       "truncated: the file has only " + std::to_string(bytes.size()) + " bytes");
  }
  if (d.version != kCommitLogVersion30 && d.version != kCommitLogVersion40) {
    return HeaderError(file_name, "unsupported commit log version " + std::to_string(d.version) +
                                      " (this reader handles 6 and 7: Cassandra 3.x and 4.x)");
  }
  std::string_view params;
  uint32_t stored_crc;
  if (!r.ReadBytes(params_len, &params) || !r.ReadU32(&stored_crc)) {
    return HeaderError(file_name, "truncated: " + std::to_string(params_len) +
                                      " bytes of parameters announced, file has " +
                                      std::to_string(bytes.size()) + " bytes");
  }
  detail::Crc32 crc;
  crc.UpdateInt(static_cast<uint32_t>(d.version));
  crc.UpdateInt(static_cast<uint32_t>(static_cast<uint64_t>(d.id) & 0xffffffffu));
  crc.UpdateInt(static_cast<uint32_t>(static_cast<uint64_t>(d.id) >> 32));
  crc.UpdateInt(params_len);
  crc.Update(params);
  if (crc.value() != stored_crc) {
    return HeaderError(file_name, "CRC mismatch at offset " + std::to_string(r.position() - 4) +
                                      " (stored " + std::to_string(stored_crc) + ", computed " +
                                      std::to_string(crc.value()) + ")");
  }
  d.header_size = static_cast<uint32_t>(r.position());
  d.params_json = std::string(params);

  // Parse without exceptions: a corrupt header is data, not a programming error.
  const nlohmann::json json = nlohmann::json::parse(params, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !(json.is_object() || json.is_null())) {
    return HeaderError(file_name, "parameters are not a JSON object: " + d.params_json);
  }
  if (json.is_object()) {
    if (auto cipher = JsonString(json, "encCipher")) {
      d.encoding = SegmentEncoding::kEncrypted;
      d.cipher = *cipher;
      d.key_alias = JsonString(json, "encKeyAlias").value_or("");
      const auto iv_hex = JsonString(json, "encIV");
      auto iv = iv_hex ? HexDecode(*iv_hex) : std::nullopt;
      if (!iv) return HeaderError(file_name, "encrypted segment without a valid encIV");
      d.iv = std::move(*iv);
    } else if (auto compression = JsonString(json, "compressionClass")) {
      d.encoding = SegmentEncoding::kCompressed;
      d.compression_class = *compression;
    }
  }
  return d;
}

std::optional<int64_t> SegmentIdFromFileName(std::string_view name) {
  const auto slash = name.find_last_of('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  constexpr std::string_view kPrefix = "CommitLog-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  const auto dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  name.remove_prefix(dash + 1);
  int64_t id = 0;
  const auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || p == name.data()) return std::nullopt;
  const std::string_view rest(p, static_cast<size_t>(name.data() + name.size() - p));
  if (rest != ".log" && rest != "_cdc.idx" && rest != "-CDC.idx") return std::nullopt;
  return id;
}

}  // namespace rm::cdc::cassandra
