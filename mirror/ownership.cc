#include "mirror/ownership.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <random>

namespace rm::mirror {

namespace {
constexpr std::string_view kPrefix = "rm1 ";
}  // namespace

std::string EncodeOwnerMark(const OwnerMark& mark) {
  if (mark.released) return fmt::format("rm1 released by={}", mark.instance);
  return fmt::format("rm1 reserved={} by={}", mark.reserved, mark.instance);
}

std::optional<OwnerMark> ParseOwnerMark(std::string_view m) {
  if (!m.starts_with(kPrefix)) return std::nullopt;
  m.remove_prefix(kPrefix.size());
  OwnerMark out;
  if (m.starts_with("released ")) {
    out.released = true;
    m.remove_prefix(std::string_view("released ").size());
  } else if (m.starts_with("reserved=")) {
    m.remove_prefix(std::string_view("reserved=").size());
    size_t space = m.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto [end, ec] = std::from_chars(m.data(), m.data() + space, out.reserved);
    if (ec != std::errc() || end != m.data() + space) return std::nullopt;
    m.remove_prefix(space + 1);
  } else {
    return std::nullopt;
  }
  if (!m.starts_with("by=") || m.size() == 3) return std::nullopt;
  out.instance = std::string(m.substr(3));
  return out;
}

const std::string& ThisInstance() {
  static const std::string id = [] {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    std::random_device rd;
    return fmt::format("{}:{}:{:08x}", host, static_cast<long>(getpid()), rd());
  }();
  return id;
}

}  // namespace rm::mirror
