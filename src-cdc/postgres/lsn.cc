#include "src-cdc/postgres/lsn.h"

#include <charconv>
#include <cstdio>

namespace rm::cdc::postgres {

std::string Lsn::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(value_ >> 32),
                static_cast<unsigned>(value_ & 0xffffffffu));
  return buf;
}

std::optional<Lsn> Lsn::Parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    return std::nullopt;
  }
  uint32_t hi = 0, lo = 0;
  auto parse = [](std::string_view part, uint32_t& out) {
    if (part.size() > 8) return false;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out, 16);
    return ec == std::errc() && p == part.data() + part.size();
  };
  if (!parse(text.substr(0, slash), hi) || !parse(text.substr(slash + 1), lo)) {
    return std::nullopt;
  }
  return Lsn((static_cast<uint64_t>(hi) << 32) | lo);
}

}  // namespace rm::cdc::postgres
