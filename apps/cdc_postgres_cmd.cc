// `regionmirror cdc postgres ...` and `regionmirror cdc check-migration`: Postgres change
// capture (src-cdc/postgres).
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/service.h"
#include "src-cdc/kafka_event_sink.h"
#include "src-cdc/postgres/capture.h"
#include "src-cdc/postgres/capture_metrics.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/kafka_topics.h"
#include "src-cdc/postgres/migration_check.h"
#include "src-cdc/postgres/provision.h"
#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/postgres/slot_monitor.h"
#include "src-cdc/schema_history.h"

// Both defined in apps/run_cmd.cc; a second DEFINE would abort the binary at startup.
DECLARE_string(config);
DECLARE_int32(admin_port);
DEFINE_bool(dry_run, false,
            "cdc postgres provision: print what each step would do and change nothing.");
DEFINE_string(table, "",
              "cdc postgres|cassandra accept-schema: the captured table (schema.table, "
              "keyspace.table) whose new shape the consumers are ready for.");

namespace rm::apps {
namespace {

using namespace std::chrono_literals;
namespace pg = rm::cdc::postgres;

// How long events may stay unacknowledged, with no ack at all, before /healthz says so.
constexpr auto kAckStallTimeout = 60s;

const std::string& RequireConfigFlag() {
  if (FLAGS_config.empty()) throw common::ConfigError("--config is required");
  return FLAGS_config;
}

int Provision(const std::vector<std::string>&) {
  const std::string& file = RequireConfigFlag();
  pg::PostgresCdcConfig cfg = pg::LoadPostgresCdcConfig(file);
  std::unique_ptr<pg::KafkaTopicProvisioner> topics;
  if (cfg.kafka.configured()) {
    topics = std::make_unique<pg::KafkaTopicProvisioner>(
        cfg.kafka.Resolve(cfg.source_file), cfg.kafka.topic_partitions,
        cfg.kafka.topic_replication_factor, 30s, cfg.kafka.create_topics);
  }
  return pg::RunProvision(file, FLAGS_dry_run, std::cout, topics.get());
}

int CheckMigration(const std::vector<std::string>& args) {
  const std::string& file = RequireConfigFlag();
  if (args.size() != 1) {
    fmt::print(stderr, "regionmirror cdc check-migration: expected one FILE.sql, got {}\n",
               args.size());
    return common::kUsageExit;
  }
  return pg::RunCheckMigration(args[0], file, std::cout);
}

int AcceptSchema(const std::vector<std::string>&) {
  const std::string& file = RequireConfigFlag();
  if (FLAGS_table.empty()) throw common::ConfigError("--table is required");
  return pg::RunAcceptSchema(file, FLAGS_table, std::cout);
}

int RunCapture(const std::vector<std::string>&) {
  const std::string& file = RequireConfigFlag();
  pg::PostgresCdcConfig cfg = pg::LoadPostgresCdcConfig(file);
  if (!cfg.kafka.configured()) {
    throw common::ConfigError(fmt::format(
        "{}: kafka: required section is missing (the cluster events are produced to)", file));
  }
  if (FLAGS_admin_port != -2) cfg.admin_api.port = FLAGS_admin_port;
  if (cfg.admin_api.port < -1 || cfg.admin_api.port > 65535) {
    throw common::ConfigError(
        fmt::format("--admin_port: {} is not -1, 0 or a port up to 65535", cfg.admin_api.port));
  }
  pg::ConnectionParams params =
      cfg.capture.connection.Resolve(cfg.source_file, "postgres.connection");
  params.application_name = "regionmirror-capture";

  cdc::KafkaEventSinkOptions sink_options;
  sink_options.properties = cfg.kafka.Resolve(cfg.source_file);
  sink_options.context = "cdc postgres sink";
  cdc::KafkaEventSink sink(sink_options);
  // Destroyed before the sink: Run() has returned by then, and late acks only touch the
  // shared probe and tracker.
  pg::PostgresCapture capture(cfg.capture, params, sink);
  if (cfg.capture.schema.history) {
    capture.SetSchemaHistoryReader(
        [props = sink_options.properties, topic = cfg.capture.HistoryTopic()] {
          return cdc::ReadSchemaHistory(props, topic, 30s);
        });
  }
  pg::CaptureMetrics metrics(*common::MetricsRegistry(), capture.probe(), cfg.capture.slot);
  metrics.WatchSchema(capture.schema_status());
  // Measures the WAL the slot retains on a connection of its own, also while the capture is
  // stuck (Kafka down) or restarting; warns when the server does not cap it.
  pg::ConnectionParams monitor_params = params;
  monitor_params.application_name = "regionmirror-slot-monitor";
  pg::SlotMonitor slot_monitor(monitor_params, cfg.capture.slot,
                               cfg.capture.slot_lag_check_interval, capture.probe());
  slot_monitor.Start();

  std::mutex health_mu;
  std::string health = "starting";  // guarded by health_mu; "" = healthy
  bool ended = false;               // guarded by health_mu; health then says how it ended
  common::Status result;
  common::ServiceOptions service{
      .name = "cdc postgres",
      .admin_bind = cfg.admin_api.bind,
      .admin_port = cfg.admin_api.port,
      .health =
          [&] {
            std::lock_guard lock(health_mu);
            return health;
          },
      .tick =
          [&] {
            metrics.Update();
            std::lock_guard lock(health_mu);
            if (!ended) {
              health = metrics.Unhealthy(kAckStallTimeout, cfg.capture.slot_lag_unhealthy_bytes);
            }
            if (!ended && health.empty()) health = capture.schema_problem();
          },
      .on_signal = "waiting for outstanding acks, confirming them, stopping",
  };
  RM_LOG_INFO("capturing {} table(s) of {} through slot {} into topics {}.<schema>.<table> at {}",
              cfg.capture.tables.size(), params.Describe(), cfg.capture.slot,
              cfg.capture.topic_prefix, cfg.kafka.bootstrap_servers);
  const int rc = common::RunService(service, [&](const std::atomic<bool>& stop) {
    result = capture.Run(stop);
    std::lock_guard lock(health_mu);
    ended = true;
    health = result.ok() ? "capture stopped" : "capture failed: " + result.error().message;
    return result.ok() ? 0 : 1;
  });
  const auto& probe = *capture.probe();
  if (!result.ok()) {
    RM_LOG_ERROR("cdc postgres run: {} [{}]", result.error().message, result.error().code);
    return 1;
  }
  if (rc != 0) return rc;
  RM_LOG_INFO("stopped: {} events produced, {} acked, confirmed flush LSN {}",
              probe.events_produced(), probe.events_acked(),
              pg::Lsn(probe.confirmed_flush_lsn()).ToString());
  return 0;
}

}  // namespace

std::vector<common::Subcommand> PostgresCdcSubcommands() {
  return {
      {"cdc postgres provision",
       "Prepare a Postgres source for capture (wal_level check, slot, role, heartbeat table, "
       "grants, publication, Kafka topics); idempotent, --dry_run changes nothing.",
       "",
       {"config", "dry_run"},
       Provision},
      {"cdc postgres run",
       "Capture the configured tables' changes into Kafka (SIGTERM waits for acks and "
       "stops; a restart resumes from the slot's confirmed position).",
       "",
       {"config", "admin_port"},
       RunCapture,
       /*handles_signals=*/true},
      {"cdc postgres accept-schema",
       "After a coordinated rollout, accept the incompatible shape a captured table stopped at "
       "(schema.history): the capture records it as the next version and streams the table "
       "again.",
       "",
       {"config", "table"},
       AcceptSchema},
      {"cdc check-migration",
       "Check a SQL migration against the captured tables before it is applied (exit 0 safe, "
       "1 breaks replication, 2 unreadable).",
       "FILE.sql",
       {"config"},
       CheckMigration},
  };
}

}  // namespace rm::apps
