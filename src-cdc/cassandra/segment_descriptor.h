// The header of a commit log segment (CommitLogDescriptor): format version, segment id and
// the JSON parameters that say whether sections are compressed or encrypted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rm::cdc::cassandra {

inline constexpr int kCommitLogVersion30 = 6;  // Cassandra 3.x
inline constexpr int kCommitLogVersion40 = 7;  // Cassandra 4.x

enum class SegmentEncoding { kPlain, kCompressed, kEncrypted };

struct SegmentDescriptor {
  int32_t version = 0;
  int64_t id = 0;
  uint32_t header_size = 0;  // bytes; the first sync marker starts here
  std::string params_json;   // as written, e.g. {} or {"compressionClass":"LZ4Compressor",...}
  SegmentEncoding encoding = SegmentEncoding::kPlain;
  std::string compression_class;  // compressed segments: as written in the header
  // Encrypted segments (EncryptionContext header parameters).
  std::string cipher;     // encCipher, e.g. "AES/CBC/PKCS5Padding"
  std::string key_alias;  // encKeyAlias
  std::string iv;         // encIV, decoded from hex

  // MessagingService version of the serialized mutations (10 for format 6, 12 for format 7).
  int messaging_version() const;
};

// Minimum bytes a header occupies (empty parameters); a file shorter than this has no header.
inline constexpr size_t kMinHeaderSize = 18;

// Parses a header at the start of `bytes` (which may hold more than the header). Errors (code
// "cassandra.header") name the file and the problem: truncated, unsupported version, CRC
// mismatch, unreadable parameters.
common::Result<SegmentDescriptor> ParseSegmentDescriptor(std::string_view bytes,
                                                         std::string_view file_name);

// The header needs exactly this many bytes when `bytes` holds at least its first 14 bytes.
std::optional<size_t> SegmentHeaderSize(std::string_view first_bytes);

// CommitLog-<version>-<id>.log (also the -CDC.idx and _cdc.idx index names) -> id.
std::optional<int64_t> SegmentIdFromFileName(std::string_view file_name);

}  // namespace rm::cdc::cassandra
