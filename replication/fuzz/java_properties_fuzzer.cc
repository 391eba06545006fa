// libFuzzer target for the Java .properties parser (mm2.properties and FileConfigProvider
// secrets files are user input).
//
// Properties checked on every input: parsing either succeeds or throws ConfigError (nothing
// else, no crash, no out-of-bounds read); and whatever parses, written back with every special
// character escaped, parses again to exactly the same map.
//
// Built as the real fuzzer with clang (-DRM_FUZZ=ON, target replication_java_properties_fuzzer)
// and, with the normal compiler, linked with java_properties_fuzz_smoke_main.cc into a
// deterministic smoke test run by ctest (label robustness).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/result.h"
#include "replication/java_properties.h"

namespace {

// Escapes so that the parser reads `s` back unchanged: backslash-escapes the separators,
// whitespace, comment starts and line ends (in a key all of them; in a value only what the
// parser would otherwise drop or split on).
std::string Escape(const std::string& s, bool key) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\f':
        out += "\\f";
        break;
      case ' ':
        out += (key || i == 0) ? "\\ " : " ";
        break;
      case '=':
      case ':':
      case '#':
      case '!':
        if (key) out.push_back('\\');
        out.push_back(c);
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> parsed;
  try {
    parsed = rm::replication::ParseJavaProperties(input, "fuzz");
  } catch (const rm::common::ConfigError&) {
    return 0;
  }
  std::string written;
  for (const auto& [key, value] : parsed) {
    written += Escape(key, true) + "=" + Escape(value, false) + "\n";
  }
  if (rm::replication::ParseJavaProperties(written, "rewritten") != parsed) std::abort();
  return 0;
}
