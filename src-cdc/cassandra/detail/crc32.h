// CRC32 as java.util.zip.CRC32 computes it, with ints fed the way Cassandra's
// FBUtilities.updateChecksumInt does (4 bytes, big-endian). zlib provides the table code.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string_view>

namespace rm::cdc::cassandra::detail {

class Crc32 {
 public:
  void Update(std::string_view bytes) {
    // zlib takes uInt lengths; feed large buffers in slices.
    while (!bytes.empty()) {
      const size_t n = bytes.size() > (1u << 30) ? (1u << 30) : bytes.size();
      crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
      bytes.remove_prefix(n);
    }
  }
  void UpdateInt(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    Update(std::string_view(b, 4));
  }
  uint32_t value() const { return static_cast<uint32_t>(crc_); }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

}  // namespace rm::cdc::cassandra::detail
