// `regionmirror cdc postgres accept-schema` (declared in schema_guard.h).
#include <fmt/format.h>

#include "common/config_reader.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/schema_evolution.h"

namespace rm::cdc::postgres {

int RunAcceptSchema(const std::filesystem::path& config_path, const std::string& table,
                    std::ostream& out) {
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
  return AcceptPendingSchema(cfg.kafka.Resolve(cfg.source_file), cfg.capture.HistoryTopic(),
                             name->Qualified(), "LSN", cfg.capture.schema.accept_poll, out);
}

}  // namespace rm::cdc::postgres
