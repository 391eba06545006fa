// Configuration of the Postgres capture, read from YAML (yaml-cpp). One struct per role:
// ConnectionConfig (where to connect and as whom), CaptureConfig (what to capture and how),
// and PostgresCdcConfig (the file: capture settings plus the admin connection used only by
// provisioning). Every field says its default.
//
// Example (every field shown with its default unless marked required):
//   postgres:
//     connection:                    # the capture's own role (least privileges)
//       host: 127.0.0.1
//       port: 5432
//       dbname: app                  # required
//       user: regionmirror           # required
//       password_env: RM_PG_PASSWORD # or password_file: /run/secrets/pg; never inline
//       sslmode: prefer
//       connect_timeout_s: 10
//       statement_timeout_ms: 30000  # SQL sessions only; 0 = none
//       keepalives_idle_s: 30        # TCP keepalives on every connection (0 = OS default)
//       keepalives_interval_s: 10
//       keepalives_count: 3
//     admin:                         # provisioning only: a superuser or the tables' owner
//       user: postgres               # host/port/dbname default to the connection's
//       password_env: RM_PG_ADMIN_PASSWORD
//     slot: regionmirror
//     publication: regionmirror
//     tables: [public.accounts, orders]   # required; schema defaults to public
//     topic_prefix: pg1              # required; topics are <prefix>.<schema>.<table>
//     snapshot_mode: initial         # initial | never | initial_only
//     snapshot_chunk_rows: 10000
//     tombstones_on_delete: true
//     heartbeat_interval_ms: 10000   # 0 disables heartbeats
//     heartbeat_table: public.regionmirror_heartbeat
//     status_interval_ms: 1000
//     max_in_flight_events: 100000
//     shutdown_timeout_ms: 10000
//     snapshot_ack_timeout_ms: 600000  # snapshot rows unacked this long: run fails, retaken
//     reconnect_timeout_ms: 300000   # after a lost server, reconnect this long (0 = exit)
//     slot_lag_check_interval_ms: 10000
//     slot_lag_unhealthy_bytes: 1073741824  # /healthz 503 past this retained WAL; 0 = never
//     transforms: []                 # per-table chains of SMTs: src-cdc/transforms/config.h
//     errors.tolerance: none         # none | all (with errors.deadletterqueue.topic.name)
//     schema:                        # event schemas and schema evolution (schema_guard.h)
//       envelope: plain              # plain | json_with_schema (Debezium JsonConverter)
//       history: false               # schema history topic + run-time compatibility check
//       history_topic: ""            # default <topic_prefix>.schema-history
//       accept_poll_ms: 2000         # while a table is stopped: how often to look for
//                                    # `accept-schema`
//   kafka:                           # where events go; required by `cdc postgres run`
//     bootstrap_servers: "b1:9092"   # required when the section is present
//     properties: {linger.ms: "5"}   # librdkafka producer properties, checked by name
//     sasl_password_env: RM_KAFKA_PASSWORD   # becomes sasl.password; never inline
//     properties_env: {}             # other secret properties from variables, or from files:
//     properties_file: {ssl.key.password: /run/secrets/key}
//     topic_partitions: 6            # for topics created by provisioning
//     topic_replication_factor: -1   # -1: the brokers' default
//     create_topics: true            # false: topics are made elsewhere, provisioning skips them
//   admin:                           # the capture's admin HTTP API: /healthz, /metrics
//     bind: 127.0.0.1
//     port: 9701                     # 0 picks a free port, -1 disables
//
// Errors are rm::common::ConfigError listing every problem, one per line, each as
// "<file>:<line>: <field>: <reason>".
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "common/admin_api_config.h"
#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "common/secrets.h"
#include "src-cdc/kafka_sink_config.h"
#include "src-cdc/postgres/replication.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/transforms/config.h"

namespace rm::cdc::postgres {

struct ConnectionConfig {
  // Host name, IP address or unix socket directory. Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // Default: 5432.
  int port = 5432;
  // Database to capture. Required.
  std::string dbname;
  // Role to connect as. Required.
  std::string user;
  // The password: `password_env` (an environment variable) or `password_file` (a file, one
  // trailing newline removed), the project's one rule for secrets (common/secrets.h). At most
  // one; neither = no password (trust, peer, or ~/.pgpass).
  common::SecretRef password;
  // libpq sslmode. Default: prefer.
  std::string sslmode = "prefer";
  // Default: 10.
  int connect_timeout_s = 10;
  // statement_timeout of the SQL sessions (not of the replication stream): a call that hangs
  // (lock, stuck server) fails and the capture exits for its supervisor to restart it.
  // 0 = none. Default: 30000.
  int statement_timeout_ms = 30000;
  // TCP keepalives on every connection: a server that vanished without closing the
  // connection is noticed after idle + interval * count seconds. 0 = the OS default.
  // Defaults: 30, 10, 3.
  int keepalives_idle_s = 30;
  int keepalives_interval_s = 10;
  int keepalives_count = 3;

  // Problems with this block; `prefix` is the YAML path ("postgres.connection").
  std::vector<common::ConfigProblem> Validate(const std::string& prefix) const;
  // Connection parameters with the password read from its source. Throws ConfigError naming
  // `source_file` and the field when the variable is unset or the file unreadable.
  ConnectionParams Resolve(const std::string& source_file, const std::string& prefix) const;
};

enum class SnapshotMode {
  kInitial,      // snapshot once (consistent with the slot), then stream
  kNever,        // stream only, from the slot's confirmed position
  kInitialOnly,  // snapshot and stop; no slot is used
};
std::string_view SnapshotModeName(SnapshotMode mode);

struct TableName {
  std::string schema = "public";
  std::string table;
  std::string Qualified() const { return schema + "." + table; }  // public.accounts
  std::string Quoted() const;                                     // "public"."accounts"
  bool operator==(const TableName&) const = default;
  // "accounts" or "public.accounts" (no quoting; identifiers are taken as written).
  static std::optional<TableName> Parse(std::string_view text);
};

// The `postgres.schema:` block (shared with the Cassandra capture).
using cdc::EnvelopeFormat;
using cdc::SchemaConfig;

struct CaptureConfig {
  ConnectionConfig connection;
  // Logical replication slot name ([a-z0-9_], at most 63). Default: regionmirror.
  std::string slot = "regionmirror";
  // Publication name. Default: regionmirror.
  std::string publication = "regionmirror";
  // Captured tables. Required, at least one.
  std::vector<TableName> tables;
  // Topic prefix and source.name: events go to <prefix>.<schema>.<table>. Required.
  std::string topic_prefix;
  // Default: initial.
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  // Rows per snapshot query (keyset pagination on the primary key). Default: 10000.
  int snapshot_chunk_rows = 10000;
  // Emit a tombstone (key, null value) after each delete. Default: true.
  bool tombstones_on_delete = true;
  // How often the heartbeat row is updated, so the slot advances while captured tables are
  // idle. 0 disables. Default: 10000 ms.
  std::chrono::milliseconds heartbeat_interval{10000};
  // Heartbeat and capture state table (one row per slot; also records snapshot completion).
  // Default: public.regionmirror_heartbeat.
  TableName heartbeat_table{"public", "regionmirror_heartbeat"};
  // How often the confirmed flush position is reported to the server while changes stream;
  // must stay well under the server's wal_sender_timeout. Once caught up (nothing arrived for a
  // read timeout of 20 ms), a newly acked position is reported at once. Default: 1000 ms.
  std::chrono::milliseconds status_interval{1000};
  // Events produced but not yet acknowledged before reading pauses. Default: 100000.
  size_t max_in_flight_events = 100000;
  // On stop, how long to wait for outstanding acknowledgements. Default: 10000 ms.
  std::chrono::milliseconds shutdown_timeout{10000};
  // Once every snapshot row was handed to the sink, how long to wait for their acks. When it
  // passes with rows unacknowledged, Run() fails ("pg.snapshot_unacked") and the snapshot is
  // not recorded as complete, so the next run takes it again. Default: 600000 ms.
  std::chrono::milliseconds snapshot_ack_timeout{600000};
  // Once streaming ran, how long Run() keeps reconnecting after the server went away (a
  // restart, a crash, a cut connection: pg.connect, pg.stream*, pg.connection_lost, or the
  // slot still held by the old session's walsender), with backoff from 100 ms to 5 s, before
  // it gives up and returns the error. Errors before the first stream (wrong password, not
  // provisioned, a slot held by another capture) are returned at once. 0 = never reconnect.
  // Default: 300000 ms.
  std::chrono::milliseconds reconnect_timeout{300000};
  // How often the slot monitor measures the WAL the slot retains (a query on its own SQL
  // connection). Default: 10000 ms.
  std::chrono::milliseconds slot_lag_check_interval{10000};
  // /healthz turns 503 while the slot retains more WAL than this (pg_current_wal_lsn() -
  // restart_lsn), before the primary's disk fills. 0 = never. Default: 1073741824 (1 GiB).
  uint64_t slot_lag_unhealthy_bytes = uint64_t{1} << 30;
  // Transforms run on each table's events before they are written, and what happens to an
  // event one fails on (src-cdc/transforms/). Default: none.
  transforms::TransformsConfig transforms;
  SchemaConfig schema;

  std::vector<common::ConfigProblem> Validate(const std::string& prefix) const;
  std::string HistoryTopic() const {
    return schema.history_topic.empty() ? topic_prefix + ".schema-history" : schema.history_topic;
  }
  std::string TopicFor(const TableName& t) const {
    return topic_prefix + "." + t.schema + "." + t.table;
  }
};

// The `kafka:` section: the cluster events are produced to (src-cdc/kafka_sink_config.h).
// Optional in the file (the migration checker does not need it); `cdc postgres run` refuses to
// start without it, and provisioning skips its topics step.
using cdc::KafkaSinkConfig;

struct PostgresCdcConfig {
  std::string source_file;  // for messages
  CaptureConfig capture;
  // Provisioning's connection. Unset fields (host, port, dbname) default to the capture
  // connection's. Default user: postgres.
  ConnectionConfig admin;
  KafkaSinkConfig kafka;
  // The `admin:` section: the capture's HTTP API, /healthz and /metrics
  // (common/admin_api_config.h). Default: 127.0.0.1:9701
  common::AdminApiConfig admin_api{.port = 9701};

  // Every problem with the values, as data (the loader adds file and line); empty when valid.
  std::vector<common::ConfigProblem> Validate() const;
};

// Parses and validates; throws ConfigError listing every problem.
PostgresCdcConfig LoadPostgresCdcConfig(const std::filesystem::path& path);
PostgresCdcConfig ParsePostgresCdcConfig(const std::string& yaml, const std::string& source_name);

}  // namespace rm::cdc::postgres
