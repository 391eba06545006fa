// `regionmirror cdc postgres accept-schema` (declared in schema_guard.h).
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <chrono>

#include "common/config_reader.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc::postgres {

int RunAcceptSchema(const std::filesystem::path& config_path, const std::string& table,
                    std::ostream& out) {
  using namespace std::chrono_literals;
  PostgresCdcConfig cfg = LoadPostgresCdcConfig(config_path);
  const std::string file = config_path.string();
  if (!cfg.kafka.configured()) {
    throw common::ConfigError(
        fmt::format("{}: kafka: required section is missing (the history topic's cluster)", file));
  }
  if (!cfg.capture.schema.history) {
    throw common::ConfigError(fmt::format(
        "{}: postgres.schema.history: is off, so no table is ever stopped for its schema", file));
  }
  auto name = TableName::Parse(table);
  if (!name || std::find(cfg.capture.tables.begin(), cfg.capture.tables.end(), *name) ==
                   cfg.capture.tables.end()) {
    throw common::ConfigError(
        fmt::format("--table: '{}' is not one of the captured tables in {}", table, file));
  }
  const std::string qualified = name->Qualified();
  const std::string topic = cfg.capture.HistoryTopic();
  auto props = cfg.kafka.Resolve(cfg.source_file);
  auto history = ReadSchemaHistory(props, topic, 30s);
  if (!history.ok()) {
    fmt::print(out, "cannot read the schema history {}: {}\n", topic, history.error().message);
    return 1;
  }
  const SchemaPending* pending = history->Pending(qualified);
  if (pending == nullptr) {
    const SchemaVersion* latest = history->Latest(qualified);
    fmt::print(out, "table {} is not stopped (no pending schema change in {}); {}\n", qualified,
               topic,
               latest ? fmt::format("its current version is {} (from LSN {})", latest->version,
                                    latest->position)
                      : std::string("it has no recorded version yet"));
    return 1;
  }
  fmt::print(out, "{}\n", pending->error);
  auto [key, value] = EncodeAcceptRecord(*pending);
  auto st = WriteSchemaHistoryRecords(props, topic, {{key, value}}, 30s);
  if (!st.ok()) {
    fmt::print(out, "writing the acceptance to {} failed: {}\n", topic, st.error().message);
    return 1;
  }
  fmt::print(out,
             "accepted the shape of {} at LSN {}: the capture records it as the next version and "
             "streams the table again from there (within {} ms when it is running)\n",
             qualified, pending->position, cfg.capture.schema.accept_poll.count());
  return 0;
}

}  // namespace rm::cdc::postgres
