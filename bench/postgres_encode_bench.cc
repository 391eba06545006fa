// The Postgres capture's own work per change, without Postgres or Kafka: the replication frame
// and pgoutput parsing, decoding to a ChangeEvent, the transforms and the encoding of the
// records, on Insert messages shaped as bench/postgres_drain_bench.sh's backlog (table drain:
// id bigint, customer text, amount text, note text, created_at timestamptz). Prints the
// nanoseconds of CPU per change of the whole path in the four configurations the drain bench
// measures (plain or schema envelope, with or without its five transforms), so a change to the
// capture's path is measured in seconds instead of a two-minute drain. The sink and the
// acknowledgement tracker are not in it (the drain bench and `perf` cover those).
//
// Usage: postgres_encode_bench [changes]   (default 300000)
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "src-cdc/change_event.h"
#include "src-cdc/connect_envelope.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/decoder.h"
#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"
#include "src-cdc/transforms/pipeline.h"
#include "tests/src-cdc/pgoutput_bytes.h"

namespace rm::cdc::postgres {
namespace {

using Bytes = ::rm::testing::PgOutputBytes;

constexpr uint32_t kOid = 16390;

std::string XLog(uint64_t lsn, const std::string& data) {
  return Bytes().U8('w').U64(lsn).U64(lsn).U64(0).str() + data;
}

class NoCatalog : public Catalog {
 public:
  common::Result<std::vector<std::string>> PrimaryKeyColumns(uint32_t) override {
    return std::vector<std::string>{"id"};
  }
  common::Result<std::optional<TypeInfo>> LookupType(uint32_t) override {
    return std::optional<TypeInfo>();
  }
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const char* kTransforms = R"yaml(
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, add.fields: "op,lsn,source.ts_ms"}
    - {name: tenant, type: InsertField, static.field: tenant_id, static.value: acme}
    - {name: fields, type: ReplaceField, exclude: [note], renames: "customer:client"}
    - {name: amounts, type: Cast, spec: "amount:int64"}
    - {name: route, type: RegexRouter, regex: "pg\\.public\\.(.*)", replacement: "acme.$1"}
)yaml";

// The replication frames of one transaction of `n` inserts (with the Relation message first).
std::vector<std::string> Frames(int n) {
  std::vector<std::string> frames;
  frames.push_back(XLog(0x1000, Bytes().U8('B').U64(0x9000000).U64(1).U32(700).str()));
  Bytes rel;
  rel.U8('R').U32(kOid).Str("public").Str("drain").U8('d').U16(5);
  rel.U8(1).Str("id").U32(20).U32(0xffffffff);
  rel.U8(0).Str("customer").U32(25).U32(0xffffffff);
  rel.U8(0).Str("amount").U32(25).U32(0xffffffff);
  rel.U8(0).Str("note").U32(25).U32(0xffffffff);
  rel.U8(0).Str("created_at").U32(1184).U32(0xffffffff);
  frames.push_back(XLog(0x1000, rel.str()));
  for (int i = 1; i <= n; ++i) {
    Bytes ins;
    ins.U8('I').U32(kOid).U8('N').U16(5);
    ins.Text(std::to_string(i))
        .Text(fmt::format("customer-{}", i % 977))
        .Text(std::to_string(i % 100000))
        .Text(fmt::format("note {:032x}", static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL))
        .Text("2026-12-06 21:20:00.123456+00");
    frames.push_back(XLog(0x1000 + 100 * i, ins.str()));
  }

  return frames;
}

// Runs the frames through the path; returns CPU ns per change and the bytes written.
std::pair<double, size_t> Run(const std::vector<std::string>& frames, bool schemas,
                              bool with_transforms) {
  const int n = static_cast<int>(frames.size()) - 2;
  std::string yaml = fmt::format(
      "postgres:\n  connection: {{host: 127.0.0.1, dbname: postgres, user: postgres}}\n"
      "  tables: [drain]\n  topic_prefix: pg\n  snapshot_mode: never\n{}",
      with_transforms ? kTransforms : "");
  PostgresCdcConfig cfg = ParsePostgresCdcConfig(yaml, "bench.yaml");
  std::unique_ptr<transforms::TransformPipeline> pipeline;
  prometheus::Registry registry;
  if (with_transforms) {
    pipeline = std::make_unique<transforms::TransformPipeline>(
        cfg.capture.transforms,
        std::vector<transforms::CapturedTable>{{"public.drain", "pg.public.drain"}}, registry);
  }
  std::shared_ptr<const ConnectSchemas> connect;
  if (schemas) {
    TableShape shape;
    const auto col = [](std::string name, std::string type, uint32_t oid, int attnum, bool optional,
                        bool key, Json connect) {
      connect["optional"] = optional;
      return ColumnShape{
          std::move(name),   std::move(type), oid, -1, attnum, optional, !optional && !key, key,
          std::move(connect)};
    };
    shape.columns = {
        col("id", "bigint", 20, 1, false, true, {{"type", "int64"}}),
        col("customer", "text", 25, 2, false, false, {{"type", "string"}}),
        col("amount", "text", 25, 3, true, false, {{"type", "string"}}),
        col("note", "text", 25, 4, true, false, {{"type", "string"}}),
        col("created_at", "timestamp with time zone", 1184, 5, false, false,
            {{"type", "string"}, {"name", "io.debezium.time.ZonedTimestamp"}, {"version", 1}})};
    connect = BuildConnectSchemas("pg.public.drain", shape, 1, PostgresSourceSchema());
  }

  NoCatalog catalog;
  TypeRegistry types;
  ChangeDecoder decoder({"pg", "postgres", {TableName{"public", "drain"}}}, catalog, types);
  size_t bytes = 0;
  std::vector<ChangeEvent> events;
  const double t0 = CpuSeconds();
  for (const auto& f : frames) {
    auto msg = ParseReplicationMessage(f);
    const auto& x = std::get<XLogData>(*msg);
    auto pg = ParsePgOutputMessage(x.data);
    events.clear();
    if (auto st = decoder.Feed(*pg, x.wal_start, events); !st.ok()) {
      fmt::print(stderr, "decode: {}\n", st.error().message);
      std::exit(1);
    }
    for (auto& e : events) {
      e.schemas = connect;
      if (pipeline) {
        auto outcome = pipeline->Apply(e);
        if (!outcome.ok() || *outcome != transforms::TransformPipeline::Outcome::kEmit) continue;
      }
      for (auto& r : EncodeRecords(e, true)) {
        bytes += r.topic.size() + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
      }
    }
  }
  return {(CpuSeconds() - t0) * 1e9 / n, bytes};
}

}  // namespace
}  // namespace rm::cdc::postgres

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 300000;
  const std::vector<std::string> frames = rm::cdc::postgres::Frames(n);
  for (bool schemas : {false, true}) {
    for (bool transforms : {false, true}) {
      auto [ns, bytes] = rm::cdc::postgres::Run(frames, schemas, transforms);
      fmt::print("{:<8} {:<14} {:7.0f} ns/change  ({:.2f} s for 600k)  {} bytes\n",
                 schemas ? "schemas" : "plain", transforms ? "5 transforms" : "no transforms", ns,
                 ns * 600000 / 1e9, bytes);
    }
  }
  return 0;
}
