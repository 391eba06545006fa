// libFuzzer target for every parser that reads bytes from the server or from users: the
// streaming replication wrapper, pgoutput messages, text values of every built-in type, and
// the migration SQL splitter/checker. Built by src-cdc/fuzz/CMakeLists.txt (cmake/fuzz.cmake):
// in the fuzz build (-DRM_FUZZ=ON, clang, ASan+UBSan; scripts/sanitize.sh makes it in
// build-fuzz/) as src-cdc/fuzz/pgoutput_fuzzer; always as pgoutput_fuzz_smoke, a deterministic
// run over seeded mutations in ctest. A seed corpus:
//   pgoutput_fuzz_smoke --write-corpus seeds && pgoutput_fuzzer corpus seeds
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "src-cdc/postgres/migration_check.h"
#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rm::cdc::postgres;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ParseReplicationMessage(in).ok();
  ParsePgOutputMessage(in).ok();
  static const TypeRegistry types;
  if (size > 0) {
    static constexpr uint32_t kOids[] = {16,   17,   20,   21,   23,   25,   114,  700,  701,
                                         1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950, 3802,
                                         1000, 1007, 1009, 1115, 1182, 1185, 1231, 199};
    uint32_t oid = kOids[data[0] % (sizeof kOids / sizeof kOids[0])];
    ConvertTextValue(types, oid, data[0] & 1 ? 3 : -1, in.substr(1)).ok();
  }
  CheckMigration(in, {CapturedTable{TableName{"public", "t"}, {"id"}, {{"id", "bigint"}}}});
  return 0;
}
