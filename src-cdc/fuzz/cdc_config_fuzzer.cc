// libFuzzer target for the captures' configuration files (README.md, "Change data capture"):
// the first byte chooses the loader ('C': Cassandra, anything else: Postgres), the rest is the
// YAML text.
//
// Property checked: loading either succeeds or throws ConfigError (naming file, field and
// reason); any other exception, a crash or a sanitizer report is a finding. A file may name
// secret files, key stores and directories; they are read or checked as the loader always does.
//
// Built by src-cdc/fuzz/CMakeLists.txt (cmake/fuzz.cmake): the libFuzzer binary
// cdc_config_fuzzer with RM_FUZZ=ON, and cdc_config_fuzz_smoke, a deterministic run in ctest.
#include <cstdint>
#include <string>

#include "common/result.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/postgres/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool cassandra = data[0] == 'C';
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (cassandra) {
      rm::cdc::cassandra::ParseCassandraCdcConfig(text, "fuzz.yaml");
    } else {
      rm::cdc::postgres::ParsePostgresCdcConfig(text, "fuzz.yaml");
    }
  } catch (const rm::common::ConfigError&) {
  }
  return 0;
}
