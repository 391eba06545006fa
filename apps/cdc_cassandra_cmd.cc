// `regionmirror cdc cassandra run`: Cassandra change capture (src-cdc/cassandra) from a node's
// cdc_raw directory into Kafka.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/service.h"
#include "src-cdc/cassandra/capture.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/kafka_event_sink.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/schema_history.h"

// Defined in apps/run_cmd.cc; shared by the subcommands that take a configuration file.
DECLARE_string(config);
DECLARE_int32(admin_port);
DECLARE_bool(check);
DECLARE_string(table);  // apps/cdc_postgres_cmd.cc

namespace rm::apps {
namespace {

using namespace std::chrono_literals;

int RunCassandraCdc(const std::vector<std::string>&) {
  if (FLAGS_config.empty()) throw common::ConfigError("--config is required");
  cdc::cassandra::CassandraCdcConfig config = cdc::cassandra::LoadCassandraCdcConfig(FLAGS_config);
  if (FLAGS_admin_port != -2) config.admin.port = FLAGS_admin_port;
  auto schema = config.capture.BuildSchema();
  if (!schema.ok()) {
    throw common::ConfigError(
        fmt::format("{}: cassandra.tables: {}", FLAGS_config, schema.error().message));
  }
  if (FLAGS_check) {
    fmt::print("{}: OK ({} captured tables, cdc_raw {})\n", FLAGS_config, schema->size(),
               config.capture.cdc_raw_dir.string());
    return 0;
  }
  auto keys = config.capture.encryption.BuildKeyProvider("cassandra.encryption");
  if (!keys.ok()) {
    throw common::ConfigError(fmt::format("{}: {}", FLAGS_config, keys.error().message));
  }

  const common::KafkaProperties props = config.kafka.Resolve(FLAGS_config);
  cdc::KafkaEventSink sink({props, 60s, "cassandra cdc sink"});
  // One capture per run; a new one after an operator accepted a stopped table's shape (it
  // produces the table's spill, then reads on from the checkpoint). Guarded for the admin
  // server's health checks.
  std::mutex mu;
  std::unique_ptr<cdc::cassandra::CassandraCapture> capture;
  const auto make_capture = [&] {
    auto c = std::make_unique<cdc::cassandra::CassandraCapture>(
        config.capture, schema.value(), keys.value().get(), sink, *common::MetricsRegistry());
    if (config.capture.schema.history) {
      c->SetSchemaHistoryReader([props, topic = config.capture.HistoryTopic()] {
        return cdc::ReadSchemaHistory(props, topic, 30s);
      });
    }
    std::lock_guard lock(mu);
    capture = std::move(c);
  };
  make_capture();
  common::Status status;
  const int rc = common::RunService(
      {.name = "cdc cassandra",
       .admin_bind = config.admin.bind,
       .admin_port = config.admin.port,
       .health =
           [&] {
             std::lock_guard lock(mu);
             return capture->Health();
           },
       .tick_interval = 200ms,
       .on_signal = "flushing, checkpointing and stopping"},
      [&](const std::atomic<bool>& stop) {
        for (;;) {
          status = capture->Run(stop);
          if (status.ok() || stop || status.error().code != "cassandra.schema_accepted") break;
          RM_LOG_INFO("cassandra capture: {}", status.error().message);
          make_capture();
        }
        return status.ok() ? 0 : 1;
      });
  if (!status.ok()) RM_LOG_ERROR("cassandra capture failed: {}", status.error().message);
  return rc;
}

int AcceptCassandraSchema(const std::vector<std::string>&) {
  if (FLAGS_config.empty()) throw common::ConfigError("--config is required");
  if (FLAGS_table.empty()) throw common::ConfigError("--table is required");
  cdc::cassandra::CassandraCdcConfig config = cdc::cassandra::LoadCassandraCdcConfig(FLAGS_config);
  if (!config.capture.schema.history) {
    throw common::ConfigError(fmt::format(
        "{}: cassandra.schema.history: is off, so no table is ever stopped for its schema",
        FLAGS_config));
  }
  auto schema = config.capture.BuildSchema();
  bool captured = false;
  if (schema.ok()) {
    for (const auto* t : schema->Tables()) captured = captured || t->QualifiedName() == FLAGS_table;
  }
  if (!captured) {
    throw common::ConfigError(
        fmt::format("--table: '{}' is not one of the captured tables (keyspace.table) in {}",
                    FLAGS_table, FLAGS_config));
  }
  return cdc::AcceptPendingSchema(config.kafka.Resolve(FLAGS_config), config.capture.HistoryTopic(),
                                  FLAGS_table, "commit log position",
                                  config.capture.schema.accept_poll, std::cout);
}

}  // namespace

std::vector<common::Subcommand> CassandraCdcSubcommands() {
  return {{"cdc cassandra run",
           "Capture changes from a Cassandra node's cdc_raw directory into Kafka (SIGTERM "
           "flushes, checkpoints and exits).",
           "",
           {"config", "admin_port", "check"},
           RunCassandraCdc,
           /*handles_signals=*/true},
          {"cdc cassandra accept-schema",
           "After a coordinated rollout, accept the incompatible shape a captured table stopped "
           "at (schema.history): the capture records it as the next version and produces the "
           "table's changes since the stop (kept in its spill in state_dir), then goes on.",
           "",
           {"config", "table"},
           AcceptCassandraSchema}};
}

}  // namespace rm::apps
