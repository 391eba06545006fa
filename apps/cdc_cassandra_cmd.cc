// `regionmirror cdc cassandra run`: Cassandra change capture (src-cdc/cassandra) from a node's
// cdc_raw directory into Kafka.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <atomic>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/service.h"
#include "src-cdc/cassandra/capture.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/kafka_event_sink.h"

// Defined in apps/run_cmd.cc; shared by the subcommands that take a configuration file.
DECLARE_string(config);
DECLARE_int32(admin_port);
DECLARE_bool(check);

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

  cdc::KafkaEventSink sink({config.kafka.Resolve(), 60s, "cassandra cdc sink"});
  cdc::cassandra::CassandraCapture capture(config.capture, schema.value(), keys.value().get(), sink,
                                           *common::MetricsRegistry());
  common::Status status;
  const int rc = common::RunService({.name = "cdc cassandra",
                                     .admin_bind = config.admin.bind,
                                     .admin_port = config.admin.port,
                                     .health = [&capture] { return capture.Health(); },
                                     .tick_interval = 200ms,
                                     .on_signal = "flushing, checkpointing and stopping"},
                                    [&](const std::atomic<bool>& stop) {
                                      status = capture.Run(stop);
                                      return status.ok() ? 0 : 1;
                                    });
  if (!status.ok()) RM_LOG_ERROR("cassandra capture failed: {}", status.error().message);
  return rc;
}

}  // namespace

std::vector<common::Subcommand> CassandraCdcSubcommands() {
  return {{"cdc cassandra run",
           "Capture changes from a Cassandra node's cdc_raw directory into Kafka (SIGTERM "
           "flushes, checkpoints and exits).",
           "",
           {"config", "admin_port", "check"},
           RunCassandraCdc,
           /*handles_signals=*/true}};
}

}  // namespace rm::apps
