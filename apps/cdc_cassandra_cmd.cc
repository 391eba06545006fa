// `regionmirror cdc cassandra run`: Cassandra change capture (src-cdc/cassandra) from a node's
// cdc_raw directory into Kafka.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <atomic>
#include <memory>
#include <thread>

#include "apps/signals.h"
#include "apps/subcommands.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
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
  BlockShutdownSignals();
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
  std::unique_ptr<common::HttpServer> admin;
  if (config.admin.port >= 0) {
    admin = std::make_unique<common::HttpServer>(common::HttpServerOptions{
        config.admin.bind, static_cast<uint16_t>(config.admin.port), 1 << 20});
    common::AddAdminRoutes(*admin, [&capture] { return capture.Health(); });
    admin->Start();
    RM_LOG_INFO("admin API listening on {}", admin->address());
  }

  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  common::Status status;
  std::thread runner([&] {
    try {
      status = capture.Run(stop);
    } catch (const std::exception& e) {  // never expected: end cleanly, exit 1, restartable
      status = common::Error{"cassandra.internal", e.what()};
    }
    finished = true;
  });
  while (!finished.load()) {
    int sig = WaitForSignal(200ms);
    if (sig == SIGINT || sig == SIGTERM) {
      RM_LOG_INFO("signal {}: flushing, checkpointing and stopping", sig);
      break;
    }
  }
  stop = true;
  runner.join();
  if (admin) admin->Stop();
  if (!status.ok()) {
    RM_LOG_ERROR("cassandra capture failed: {}", status.error().message);
    return 1;
  }
  return 0;
}

}  // namespace

std::vector<common::Subcommand> CassandraCdcSubcommands() {
  return {{"cdc cassandra run",
           "Capture changes from a Cassandra node's cdc_raw directory into Kafka (SIGTERM "
           "flushes, checkpoints and exits).",
           "",
           {"config", "admin_port", "check"},
           RunCassandraCdc}};
}

}  // namespace rm::apps
