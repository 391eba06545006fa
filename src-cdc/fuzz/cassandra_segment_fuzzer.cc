// libFuzzer target for the Cassandra commit log segment reader (src-cdc/cassandra).
//
// Each input is a whole segment file. The target reads it completely, decodes every value it
// yields to typed values and JSON, then reads it again in two pieces (up to half its size, then
// the rest) and aborts if the two readings disagree: the tailing path must see exactly what a
// whole read sees, even on corrupt data. Sanitizers catch out-of-bounds reads and leaks.
//
// Entries are checksummed, so mutated segments rarely reach the mutation decoder. An input
// starting with 'M' (never the first byte of a segment, whose version is 6 or 7) is therefore
// taken as the bytes of one mutation and decoded directly, for both messaging versions.
//
// Built two ways (src-cdc/fuzz/CMakeLists.txt): as the real fuzzer with clang
// (-DRM_FUZZ=ON, target cassandra_segment_fuzzer) and, with the normal compiler, linked with
// cassandra_segment_fuzz_smoke_main.cc into a deterministic smoke test run by ctest.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/mutation_decoder.h"
#include "src-cdc/cassandra/table_schema.h"

namespace {

using rm::cdc::cassandra::CommitLogPosition;
using rm::cdc::cassandra::Mutation;
using rm::cdc::cassandra::ReadControl;
using rm::cdc::cassandra::ReaderOptions;

// The fixtures' table under each of their ids, a table with every supported type so that
// mutated table ids can land on richer decoding paths, and the table of the hand-made
// mutations in tests/src-cdc/cassandra_decoder_test.cc (useful as seeds).
constexpr std::string_view kSchema = R"(
  CREATE TABLE "Keyspace1"."Standard1" (key ascii, col ascii, val blob, val0 blob,
      PRIMARY KEY (key, col)) WITH ID = 26be1710-7cb9-11ee-9fce-59fe9713701b;
  CREATE TABLE "Keyspace1"."Standard1_3029" (key ascii, col ascii, val blob, val0 blob,
      PRIMARY KEY (key, col)) WITH ID = 241bcee0-7cae-11ee-8a02-094014504250;
  CREATE TABLE "Keyspace1"."Standard1_34" (key ascii, col ascii, val blob, val0 blob,
      PRIMARY KEY (key, col)) WITH ID = c5b59a80-b25b-11e6-b205-bb359f887ad3;
  CREATE TABLE "Keyspace1"."Standard1_40" (key ascii, col ascii, val blob, val0 blob,
      PRIMARY KEY (key, col)) WITH ID = 657e5210-7cbb-11ee-9858-c9aa1eb53e69;
  CREATE TABLE fuzz.all_types (
      k1 int, k2 text, c1 timeuuid, c2 bigint, s text static,
      a ascii, b blob, bo boolean, d double, f float, i int, bi bigint, si smallint,
      ti tinyint, u uuid, tu timeuuid, ts timestamp, dt date, tm time, ip inet, vi varint,
      de decimal, du duration, l list<text>, st set<int>, m map<text, bigint>,
      fl frozen<list<int>>, fm frozen<map<int, text>>, tp tuple<int, text>,
      PRIMARY KEY ((k1, k2), c1, c2)) WITH ID = 00000000-0000-1000-8000-000000000001;
  CREATE TABLE ks.t (k int, c1 text, c2 int, s text static, t text, v int, l list<text>,
      m map<text, int>, st set<int>, PRIMARY KEY (k, c1, c2))
      WITH ID = 00000000-0000-0000-0000-0000000000aa;
)";

struct Env {
  rm::cdc::cassandra::Schema schema;
  rm::cdc::cassandra::StaticKeyProvider keys;
  ReaderOptions options;
};

const Env& GetEnv() {
  static const Env* env = [] {
    auto* e = new Env();
    auto schema = rm::cdc::cassandra::Schema::FromCql(kSchema);
    if (!schema.ok()) std::abort();
    e->schema = std::move(schema).value();
    // The fixture keys (cassandra.keystore), so encrypted inputs get past decryption.
    if (!e->keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok() ||
        !e->keys.AddHexKey("testing:2", "5b580ef7c05053e49aa4244736ae5744").ok()) {
      std::abort();
    }
    e->options.schema = &e->schema;
    e->options.keys = &e->keys;
    e->options.max_section_bytes = 8u << 20;  // keep single inputs cheap
    return e;
  }();
  return *env;
}

// Touches everything a consumer would: typed values, JSON, keys.
void Consume(const Mutation& m) {
  for (const auto& u : m.updates) {
    auto key = u.DecodePartitionKey();
    if (key.ok()) {
      for (const auto& v : key.value()) (void)v.ToJson().dump();
    }
    auto visit_row = [](const rm::cdc::cassandra::Row& row) {
      for (const auto& c : row.cells) {
        auto v = c.DecodeValue();
        if (v.ok()) (void)v.value().ToJson().dump();
        auto p = c.DecodePath();
        if (p.ok()) (void)p.value().ToJson();
      }
    };
    if (u.static_row) visit_row(*u.static_row);
    for (const auto& row : u.rows) visit_row(row);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Env& env = GetEnv();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (!bytes.empty() && bytes[0] == 'M') {
    for (int version :
         {rm::cdc::cassandra::kMessagingVersion30, rm::cdc::cassandra::kMessagingVersion40}) {
      auto decoded = rm::cdc::cassandra::DecodeMutation(bytes.substr(1), version, env.schema);
      if (decoded.ok() && !decoded.value().unknown_table) Consume(decoded.value().mutation);
    }
    return 0;
  }

  std::vector<CommitLogPosition> whole;
  auto full =
      rm::cdc::cassandra::ReadSegmentBytes("fuzz-input", bytes, env.options, [&](Mutation&& m) {
        Consume(m);
        whole.push_back(m.position);
        return ReadControl::kContinue;
      });
  if (!full.ok()) return 0;  // unreadable header: nothing else to compare

  // Tailing: the same segment read in two pieces must yield the same entries.
  std::vector<CommitLogPosition> pieces;
  auto reader = rm::cdc::cassandra::SegmentReader::OpenBytes("fuzz-input", bytes, env.options);
  if (!reader.ok()) std::abort();  // opened once already
  auto collect = [&](Mutation&& m) {
    pieces.push_back(m.position);
    return ReadControl::kContinue;
  };
  auto first = reader.value()->ReadUpTo(size / 2, collect);
  auto rest = reader.value()->ReadAll(collect);
  if (!first.ok() || !rest.ok()) std::abort();
  if (pieces != whole) std::abort();
  for (size_t i = 1; i < whole.size(); ++i) {
    if (!(whole[i - 1] < whole[i])) std::abort();  // positions strictly increase
  }
  return 0;
}
