// Configuration of the Cassandra capture (`regionmirror cdc cassandra run`), read from YAML.
// One struct per role: CaptureConfig (what to read, where to keep state, how to pace),
// EncryptionConfig (keys of encrypted segments), and the sections both captures share: `kafka:`
// (cdc::KafkaSinkConfig, where events go) and `admin:` (common::AdminApiConfig).
// Every field says its default.
//
// Example (required fields marked; every other field shown with its default):
//   cassandra:
//     cdc_raw_dir: /var/lib/cassandra/cdc_raw   # required: the node's cdc_raw_directory
//     processed: delete                  # delete | move:/var/lib/regionmirror/cdc-done
//     state_dir: /var/lib/regionmirror/cass     # required: RocksDB with the resume position
//     topic_prefix: cass1                # required: topics <prefix>.<keyspace>.<table>
//     cluster: Test Cluster              # source.cluster (cassandra.yaml cluster_name)
//     tables:                            # required: CQL of the captured tables, with WITH ID
//       cql: |
//         CREATE TABLE shop.orders (id uuid PRIMARY KEY, total decimal)
//           WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true;
//       cql_file: schema.cql             # or from a file (relative to this file)
//       include: [shop.orders]           # default: the tables declared WITH cdc = true
//     encryption:                        # only for encrypted segments (Cassandra 3.x TDE)
//       keystore: /etc/cassandra/conf/.keystore   # JCEKS, as transparent_data_encryption_options
//       keystore_password_env: RM_CASS_KEYSTORE_PASSWORD   # or keystore_password_file: PATH
//       key_password_env: ""             # or _file; default: the keystore password
//       key_hex_env: ""                  # or _file: instead of a keystore, the raw AES key in hex
//     poll_interval_ms: 100              # how often cdc_raw and the _cdc.idx files are read
//     checkpoint_interval_ms: 1000       # how often the acknowledged position is saved
//     max_in_flight_events: 10000        # unacknowledged events before reading pauses
//     tombstones_on_delete: true         # a null-value record after each row deletion
//     shutdown_timeout_ms: 10000         # on stop, wait this long for acknowledgements
//     ack_stall_timeout_ms: 30000        # /healthz fails while events wait longer for an ack
//     max_spill_bytes: 1073741824        # per stopped table: its entries kept in state_dir so
//                                        # the checkpoint goes on; 0 or full: hold it instead
//     transforms: []                     # per-table chains of SMTs: src-cdc/transforms/config.h
//     errors.tolerance: none             # none | all (with errors.deadletterqueue.topic.name)
//     schema:                            # event schemas and schema evolution (schema_guard.h)
//       envelope: plain                  # plain | json_with_schema (Debezium JsonConverter)
//       history: false                   # schema history topic + run-time compatibility check
//       history_topic: ""                # default <topic_prefix>.schema-history
//       accept_poll_ms: 2000             # while a table is stopped: how often to look for
//                                        # `cdc cassandra accept-schema`
//   kafka:
//     bootstrap_servers: broker1:9092    # required
//     properties: {}                     # librdkafka properties, checked by name; secrets in
//     sasl_password_env: ""              #   sasl_password_env, properties_env or
//     properties_env: {}                 #   properties_file, never inline
//     properties_file: {}
//   admin:
//     bind: 127.0.0.1
//     port: 9702                         # /healthz and /metrics; 0 any free port, -1 off
//
// Errors are rm::common::ConfigError listing every problem, one per line, each as
// "<file>:<line>: <field>: <reason>".
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/admin_api_config.h"
#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "common/result.h"
#include "common/secrets.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/table_schema.h"
#include "src-cdc/kafka_sink_config.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/transforms/config.h"

namespace rm::cdc::cassandra {

// What happens to a segment (and its _cdc.idx) once every event in it was acknowledged.
enum class ProcessedAction {
  kDelete,  // remove the files, so Cassandra's cdc_total_space is freed
  kMove,    // move them to CaptureConfig::move_to (same file system: a rename)
};

struct EncryptionConfig {
  // JCEKS keystore holding the keys named by encrypted segments. Default: none.
  std::filesystem::path keystore;
  // The keystore password (keystore_password_env / keystore_password_file). Required with
  // keystore.
  common::SecretRef keystore_password;
  // The key password (key_password_env / _file). Default: the keystore password.
  common::SecretRef key_password;
  // One raw AES key in hex (key_hex_env / _file), used for every key alias (instead of a
  // keystore). Default: none.
  common::SecretRef key_hex;

  bool enabled() const { return !keystore.empty() || key_hex.given(); }
  std::vector<common::ConfigProblem> Validate(const std::string& prefix) const;
  // The key provider; nullptr when encryption is not configured. Errors name the field.
  common::Result<std::unique_ptr<KeyProvider>> BuildKeyProvider(const std::string& prefix) const;
};

struct CaptureConfig {
  // The node's cdc_raw directory (cassandra.yaml cdc_raw_directory). Required.
  std::filesystem::path cdc_raw_dir;
  // Default: kDelete.
  ProcessedAction processed = ProcessedAction::kDelete;
  // Destination of processed segments with kMove. Created if missing.
  std::filesystem::path move_to;
  // Where the resume position is kept (RocksDB). Required; one capture per directory.
  std::filesystem::path state_dir;
  // Topic prefix and source.name: events go to <prefix>.<keyspace>.<table>. Required.
  std::string topic_prefix;
  // source.cluster. Default: "Test Cluster" (Cassandra's default cluster_name).
  std::string cluster = "Test Cluster";
  // CREATE TABLE statements, each with `WITH ID = <uuid>`. Required (cql or cql_file).
  std::string tables_cql;
  // Captured tables ("keyspace.table"). Default: every table declared WITH cdc = true.
  std::vector<std::string> include;
  EncryptionConfig encryption;
  // Default: 100 ms.
  std::chrono::milliseconds poll_interval{100};
  // Default: 1000 ms.
  std::chrono::milliseconds checkpoint_interval{1000};
  // Default: 10000.
  size_t max_in_flight_events = 10000;
  // Default: true.
  bool tombstones_on_delete = true;
  // Default: 10000 ms.
  std::chrono::milliseconds shutdown_timeout{10000};
  // Health() reports a problem while events have waited this long with no acknowledgement
  // (Kafka down or refusing). Default: 30000 ms.
  std::chrono::milliseconds ack_stall_timeout{30000};
  // A table stopped by an incompatible schema change keeps its commit log entries read since
  // in <state_dir>/spill/ (spill.h), so the checkpoint advances and segments are cleaned up
  // for the other tables; this caps each table's spill. Reaching it (or 0: no spill) holds the
  // checkpoint from there until the shape is accepted, as a Postgres slot keeps its WAL.
  // Default: 1 GiB.
  uint64_t max_spill_bytes = uint64_t{1} << 30;
  // Per-table transforms (Kafka Connect / Debezium SMTs) and what happens to an event one fails
  // on (src-cdc/transforms/). Default: none.
  transforms::TransformsConfig transforms;
  // Event schemas and schema evolution (schema_guard.h). Default: plain envelope, no history.
  SchemaConfig schema;

  std::string HistoryTopic() const {
    return schema.history_topic.empty() ? topic_prefix + ".schema-history" : schema.history_topic;
  }
  std::vector<common::ConfigProblem> Validate(const std::string& prefix) const;
  // The captured tables only (others are skipped whole by the reader). Errors name the table
  // or the CQL line at fault.
  common::Result<Schema> BuildSchema() const;
};

struct CassandraCdcConfig {
  std::string source_file;  // for messages
  CaptureConfig capture;
  // Where events go (src-cdc/kafka_sink_config.h). This capture creates no topics, so the
  // section's topic keys are refused. Required.
  KafkaSinkConfig kafka;
  // /healthz and /metrics (common/admin_api_config.h). Default: 127.0.0.1:9702
  common::AdminApiConfig admin{.port = 9702};

  // Every problem with the values, as data (the loader adds file and line); empty when valid.
  std::vector<common::ConfigProblem> Validate() const;
};

// Parses and validates; throws ConfigError listing every problem.
CassandraCdcConfig LoadCassandraCdcConfig(const std::filesystem::path& path);
CassandraCdcConfig ParseCassandraCdcConfig(const std::string& yaml, const std::string& source_name,
                                           const std::filesystem::path& base_dir = {});

}  // namespace rm::cdc::cassandra
