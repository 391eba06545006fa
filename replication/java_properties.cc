#include "replication/java_properties.h"

#include <fmt/format.h>

#include <vector>

#include "common/result.h"

namespace rm::replication {
namespace {

bool IsJavaSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }

struct LogicalLine {
  std::string text;
  int line = 0;  // 1-based natural line it starts on, for error messages
};

// Splits into natural lines ("\n", "\r", "\r\n") and joins continuations into logical lines,
// dropping blank lines and comments.
std::vector<LogicalLine> LogicalLines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::string acc;
  bool continuing = false;
  int start_line = 0;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of("\r\n", pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    if (end == std::string_view::npos) {
      pos = text.size();
    } else {
      pos = end + ((text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ? 2 : 1);
    }
    ++line_no;
    size_t b = 0;
    while (b < line.size() && IsJavaSpace(line[b])) ++b;
    line.remove_prefix(b);
    if (!continuing) {
      if (line.empty() || line[0] == '#' || line[0] == '!') continue;
      start_line = line_no;
    }
    size_t backslashes = 0;
    while (backslashes < line.size() && line[line.size() - 1 - backslashes] == '\\') ++backslashes;
    continuing = backslashes % 2 == 1;
    if (continuing) line.remove_suffix(1);
    acc.append(line);
    if (!continuing) {
      out.push_back({std::move(acc), start_line});
      acc.clear();
    }
  }
  // A continuation at the end of the input ends the last logical line.
  if (continuing) out.push_back({std::move(acc), start_line});
  return out;
}

void AppendUtf8(unsigned cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads the 4 hex digits of a \u escape at s[i..i+4); false when malformed.
bool ReadHex4(std::string_view s, size_t i, unsigned* unit) {
  if (i + 4 > s.size()) return false;
  unsigned v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  *unit = v;
  return true;
}

std::string Unescape(std::string_view s, const std::string& file, int line) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) break;  // a lone trailing backslash stands for nothing
    switch (s[i]) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        unsigned unit = 0;
        if (!ReadHex4(s, i + 1, &unit)) {
          throw common::ConfigError(
              fmt::format("{}: line {}: malformed \\uXXXX escape", file, line));
        }
        i += 4;
        unsigned low = 0;
        if (unit >= 0xD800 && unit < 0xDC00 && i + 2 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u' && ReadHex4(s, i + 3, &low) && low >= 0xDC00 && low < 0xE000) {
          AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), &out);
          i += 6;
        } else if (unit >= 0xD800 && unit < 0xE000) {
          AppendUtf8(0xFFFD, &out);  // a lone surrogate has no UTF-8 form
        } else {
          AppendUtf8(unit, &out);
        }
        break;
      }
      default:
        out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> ParseJavaProperties(std::string_view text,
                                                       const std::string& file) {
  std::map<std::string, std::string> out;
  for (const auto& [l, line] : LogicalLines(text)) {
    size_t i = 0;
    while (i < l.size() && l[i] != '=' && l[i] != ':' && !IsJavaSpace(l[i])) {
      i += l[i] == '\\' ? 2 : 1;
    }
    i = std::min(i, l.size());
    std::string key = Unescape(std::string_view(l).substr(0, i), file, line);
    size_t v = i;
    while (v < l.size() && IsJavaSpace(l[v])) ++v;
    if (v < l.size() && (l[v] == '=' || l[v] == ':')) ++v;
    while (v < l.size() && IsJavaSpace(l[v])) ++v;
    out[std::move(key)] = Unescape(std::string_view(l).substr(v), file, line);
  }
  return out;
}

}  // namespace rm::replication
