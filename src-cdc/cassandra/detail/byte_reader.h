// Bounds-checked big-endian reader over a byte view: the only way the commit log code looks at
// untrusted bytes, so every read either succeeds inside the view or returns false and leaves
// the reader where it was.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace rm::cdc::cassandra::detail {

// Reads Java DataInput primitives (big-endian) and Cassandra's VIntCoding from a borrowed view.
// Not thread-safe; cheap to copy. The view must outlive the reader.
class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::string_view data) : data_(data) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return pos_ == data_.size(); }
  std::string_view data() const { return data_; }

  bool Skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }

  bool ReadBytes(size_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool ReadU8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool ReadU16(uint16_t* out) {
    uint64_t v;
    if (!ReadBigEndian(2, &v)) return false;
    *out = static_cast<uint16_t>(v);
    return true;
  }

  bool ReadU32(uint32_t* out) {
    uint64_t v;
    if (!ReadBigEndian(4, &v)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }

  bool ReadI32(int32_t* out) {
    uint32_t v;
    if (!ReadU32(&v)) return false;
    *out = static_cast<int32_t>(v);
    return true;
  }

  bool ReadU64(uint64_t* out) { return ReadBigEndian(8, out); }

  bool ReadI64(int64_t* out) {
    uint64_t v;
    if (!ReadU64(&v)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }

  // Cassandra's unsigned vint: the count of leading 1 bits of the first byte is the number of
  // extra bytes (0-8); the value is big-endian over the first byte's remaining bits and them.
  bool ReadUnsignedVInt(uint64_t* out) {
    if (remaining() < 1) return false;
    const auto first = static_cast<uint8_t>(data_[pos_]);
    if ((first & 0x80) == 0) {
      ++pos_;
      *out = first;
      return true;
    }
    const int extra = std::countl_one(first);
    if (remaining() < static_cast<size_t>(extra) + 1) return false;
    uint64_t value = extra >= 8 ? 0 : (first & (0xffu >> extra));
    for (int i = 1; i <= extra; ++i) {
      value = (value << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    }
    pos_ += static_cast<size_t>(extra) + 1;
    *out = value;
    return true;
  }

  // A vint that Java narrows with `(int)`: the low 32 bits, two's complement.
  bool ReadUnsignedVInt32(int32_t* out) {
    uint64_t v;
    if (!ReadUnsignedVInt(&v)) return false;
    *out = static_cast<int32_t>(static_cast<uint32_t>(v));
    return true;
  }

  // Signed vint (zig-zag over the unsigned encoding).
  bool ReadVInt(int64_t* out) {
    uint64_t v;
    if (!ReadUnsignedVInt(&v)) return false;
    *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    return true;
  }

  // vint length followed by that many bytes (ByteBufferUtil.readWithVIntLength).
  bool ReadVIntLengthBytes(std::string_view* out) {
    const size_t saved = pos_;
    uint64_t len;
    if (!ReadUnsignedVInt(&len) || len > remaining()) {
      pos_ = saved;
      return false;
    }
    return ReadBytes(static_cast<size_t>(len), out);
  }

  // Java DataOutput.writeUTF: unsigned short length then (modified) UTF-8 bytes.
  bool ReadShortLengthBytes(std::string_view* out) {
    const size_t saved = pos_;
    uint16_t len;
    if (!ReadU16(&len) || len > remaining()) {
      pos_ = saved;
      return false;
    }
    return ReadBytes(len, out);
  }

 private:
  bool ReadBigEndian(size_t n, uint64_t* out) {
    if (remaining() < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += n;
    *out = v;
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

// Big-endian decoding of a fixed-size prefix of `bytes`; the caller checks the size.
inline uint32_t LoadBigEndian32(const char* p) {
  return (uint32_t{static_cast<uint8_t>(p[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(p[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(p[2])} << 8) | uint32_t{static_cast<uint8_t>(p[3])};
}

inline uint64_t LoadBigEndian64(const char* p) {
  return (uint64_t{LoadBigEndian32(p)} << 32) | LoadBigEndian32(p + 4);
}

}  // namespace rm::cdc::cassandra::detail
