// Strong offset types. A source offset and a target offset are both int64 on the wire, and
// mixing them up is exactly the bug that makes a failed-over consumer skip or re-read data.
// Distinct types turn that mistake into a compile error; crossing over needs an explicit
// delta (see offsets/offset_map.h).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace rm::common {

template <typename Tag>
class StrongOffset {
 public:
  constexpr StrongOffset() = default;
  constexpr explicit StrongOffset(int64_t value) : value_(value) {}

  constexpr int64_t value() const { return value_; }
  // A Kafka offset is valid when >= 0; librdkafka uses negative logical offsets.
  constexpr bool valid() const { return value_ >= 0; }

  constexpr auto operator<=>(const StrongOffset&) const = default;

  constexpr StrongOffset operator+(int64_t n) const { return StrongOffset(value_ + n); }
  constexpr StrongOffset operator-(int64_t n) const { return StrongOffset(value_ - n); }
  constexpr int64_t operator-(StrongOffset other) const { return value_ - other.value_; }
  constexpr StrongOffset& operator++() {
    ++value_;
    return *this;
  }

  friend std::ostream& operator<<(std::ostream& os, StrongOffset o) { return os << o.value_; }

 private:
  int64_t value_ = -1;
};

// Offset of a record in the source cluster's partition.
using SourceOffset = StrongOffset<struct SourceOffsetTag>;
// Offset of the copy of a record in the target cluster's partition.
using TargetOffset = StrongOffset<struct TargetOffsetTag>;

}  // namespace rm::common

template <typename Tag>
struct std::hash<rm::common::StrongOffset<Tag>> {
  size_t operator()(rm::common::StrongOffset<Tag> o) const noexcept {
    return std::hash<int64_t>()(o.value());
  }
};
