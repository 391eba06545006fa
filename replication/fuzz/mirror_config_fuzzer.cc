// libFuzzer target for the mirror's configuration files, both formats: our YAML (README.md,
// "The mirror") and mm2.properties ("Migrating from MirrorMaker 2"). The first byte chooses
// the format ('P': properties, anything else: YAML), the rest is the file's text.
//
// Property checked: loading either succeeds or throws ConfigError (naming file, field and
// reason); any other exception, a crash or a sanitizer report is a finding. A file may name
// secret files and environment variables; they are read as the loader always does.
//
// Built by replication/fuzz/CMakeLists.txt (cmake/fuzz.cmake): the libFuzzer binary
// mirror_config_fuzzer with RM_FUZZ=ON, and mirror_config_fuzz_smoke, a deterministic run in
// ctest.
#include <cstdint>
#include <string>

#include "common/result.h"
#include "replication/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool properties = data[0] == 'P';
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (properties) {
      rm::replication::ParseMm2Properties(text, "fuzz.properties");
    } else {
      rm::replication::ParseMirrorConfigYaml(text, "fuzz.yaml");
    }
  } catch (const rm::common::ConfigError&) {
  }
  return 0;
}
