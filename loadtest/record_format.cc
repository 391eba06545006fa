#include "loadtest/record_format.h"

#include <cstring>

namespace rm::loadtest {
namespace {

constexpr char kMagic[4] = {'R', 'M', 'L', 'T'};

template <typename T>
void Put(char* at, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    at[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

template <typename T>
T Get(const char* at) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(at[i])) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

void StampRecord(const RecordStamp& stamp, std::string& value) {
  char* p = value.data();
  std::memcpy(p, kMagic, 4);
  Put<uint32_t>(p + 4, stamp.producer);
  Put<uint32_t>(p + 8, stamp.partition);
  Put<uint32_t>(p + 12, 0);
  Put<uint64_t>(p + 16, stamp.sequence);
  Put<int64_t>(p + 24, stamp.intended_ns);
  Put<int64_t>(p + 32, stamp.sent_ns);
}

std::optional<RecordStamp> ReadStamp(std::string_view value) {
  if (value.size() < kRecordHeaderSize || std::memcmp(value.data(), kMagic, 4) != 0) {
    return std::nullopt;
  }
  const char* p = value.data();
  RecordStamp s;
  s.producer = Get<uint32_t>(p + 4);
  s.partition = Get<uint32_t>(p + 8);
  s.sequence = Get<uint64_t>(p + 16);
  s.intended_ns = Get<int64_t>(p + 24);
  s.sent_ns = Get<int64_t>(p + 32);
  return s;
}

}  // namespace rm::loadtest
