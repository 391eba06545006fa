// Capture configuration: defaults, every problem reported at once with file and field.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/result.h"
#include "src-cdc/postgres/config.h"
#include "tests/util/test_util.h"

namespace rm::cdc::postgres {
namespace {

constexpr const char* kMinimal = R"(
postgres:
  connection:
    dbname: app
    user: capture
    password_env: RM_TEST_PG_PASSWORD
  tables: [accounts, sales.orders]
  topic_prefix: pg1
)";

TEST(PostgresConfig, MinimalFileGetsDocumentedDefaults) {
  auto cfg = ParsePostgresCdcConfig(kMinimal, "cdc.yaml");
  const auto& c = cfg.capture;
  EXPECT_EQ(c.connection.host, "127.0.0.1");
  EXPECT_EQ(c.connection.port, 5432);
  EXPECT_EQ(c.slot, "regionmirror");
  EXPECT_EQ(c.publication, "regionmirror");
  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].Qualified(), "public.accounts");
  EXPECT_EQ(c.tables[1].Qualified(), "sales.orders");
  EXPECT_EQ(c.snapshot_mode, SnapshotMode::kInitial);
  EXPECT_TRUE(c.tombstones_on_delete);
  EXPECT_EQ(c.heartbeat_interval.count(), 10000);
  EXPECT_EQ(c.heartbeat_table.Qualified(), "public.regionmirror_heartbeat");
  EXPECT_EQ(c.TopicFor(c.tables[1]), "pg1.sales.orders");
  // The admin connection inherits where to connect, not who.
  EXPECT_EQ(cfg.admin.dbname, "app");
  EXPECT_EQ(cfg.admin.user, "postgres");
  EXPECT_TRUE(cfg.admin.password.env.empty());
}

TEST(PostgresConfig, ReportsEveryProblemWithFileAndField) {
  const char* bad = R"(
postgres:
  connection:
    port: 70000
    password: hunter2
    password_env: A
    password_file: /b
    sslmode: strict
  slot: Bad-Slot
  tables: []
  snapshot_mode: sometimes
  snapshot_chunk_rows: 0
  status_interval_ms: 120000
  snaphot_mode: initial
)";
  try {
    ParsePostgresCdcConfig(bad, "cdc.yaml");
    FAIL() << "expected ConfigError";
  } catch (const common::ConfigError& e) {
    std::string msg = e.what();
    for (const char* field :
         {"cdc.yaml:4: postgres.connection.port", "postgres.connection.dbname",
          "postgres.connection.user",
          "postgres.connection.password:", "postgres.connection.password_file", "postgres.slot",
          "postgres.tables", "postgres.topic_prefix",
          "cdc.yaml:8: postgres.connection.sslmode: must be one of disable, allow, prefer, "
          "require, verify-ca, verify-full (got \"strict\")",
          "cdc.yaml:11: postgres.snapshot_mode: must be one of initial, never, initial_only (got "
          "\"sometimes\")",
          "postgres.snapshot_chunk_rows", "postgres.status_interval_ms",
          "postgres.snaphot_mode: unknown field (known here: connection, admin, slot, "
          "publication, tables, topic_prefix, snapshot_mode, snapshot_chunk_rows,"}) {
      EXPECT_NE(msg.find(field), std::string::npos) << field << "\n" << msg;
    }
    EXPECT_EQ(msg.find("hunter2"), std::string::npos) << "password must never be echoed";
  }
}

TEST(PostgresConfig, PasswordComesFromEnvironmentOrFileNeverTheConfig) {
  auto cfg = ParsePostgresCdcConfig(kMinimal, "cdc.yaml");
  unsetenv("RM_TEST_PG_PASSWORD");
  EXPECT_THROW(cfg.capture.connection.Resolve("cdc.yaml", "postgres.connection"),
               common::ConfigError);
  setenv("RM_TEST_PG_PASSWORD", "s3cret", 1);
  auto p = cfg.capture.connection.Resolve("cdc.yaml", "postgres.connection");
  EXPECT_EQ(p.password, "s3cret");
  EXPECT_EQ(p.Describe().find("s3cret"), std::string::npos);

  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "pw", "from-file\n");
  ConnectionConfig c = cfg.capture.connection;
  c.password.env.clear();
  c.password.file = (dir / "pw").string();
  EXPECT_EQ(c.Resolve("cdc.yaml", "postgres.connection").password, "from-file");
  c.password.file = (dir / "missing").string();
  EXPECT_THROW(c.Resolve("cdc.yaml", "postgres.connection"), common::ConfigError);
}

TEST(PostgresConfig, LoadsFromFileAndNamesItInErrors) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "cdc.yaml", kMinimal);
  EXPECT_EQ(LoadPostgresCdcConfig(dir / "cdc.yaml").capture.topic_prefix, "pg1");
  try {
    LoadPostgresCdcConfig(dir / "nope.yaml");
    FAIL();
  } catch (const common::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.yaml"), std::string::npos);
  }
  rm::testing::WriteFile(dir / "broken.yaml", "postgres: [");
  EXPECT_THROW(LoadPostgresCdcConfig(dir / "broken.yaml"), common::ConfigError);
}

// Found by the cdc_config fuzz target: a document that is not a mapping made yaml-cpp throw
// BadSubscript out of the loader, which ended the process instead of naming the file.
TEST(PostgresConfig, RefusesADocumentThatIsNotAMappingWithTheFileName) {
  for (const char* text : {"postgres", "- postgres\n- kafka\n", "'['"}) {
    try {
      ParsePostgresCdcConfig(text, "cdc.yaml");
      FAIL() << "expected ConfigError for: " << text;
    } catch (const common::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("cdc.yaml: expected a mapping at the top"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(PostgresConfig, KafkaAndAdminSectionsAreOptionalWithDocumentedDefaults) {
  auto cfg = ParsePostgresCdcConfig(kMinimal, "cdc.yaml");
  EXPECT_FALSE(cfg.kafka.configured());
  EXPECT_EQ(cfg.admin_api.bind, "127.0.0.1");
  EXPECT_EQ(cfg.admin_api.port, 9701);

  auto full = ParsePostgresCdcConfig(std::string(kMinimal) + R"(
kafka:
  bootstrap_servers: "b1:9092,b2:9092"
  properties: {linger.ms: 5, compression.type: lz4}
  sasl_password_env: RM_TEST_KAFKA_PASSWORD
  topic_partitions: 12
  create_topics: false
admin:
  port: 0
)",
                                     "cdc.yaml");
  ASSERT_TRUE(full.kafka.configured());
  EXPECT_EQ(full.kafka.topic_partitions, 12);
  EXPECT_EQ(full.kafka.topic_replication_factor, -1);
  EXPECT_FALSE(full.kafka.create_topics);
  EXPECT_EQ(full.admin_api.port, 0);
  unsetenv("RM_TEST_KAFKA_PASSWORD");
  EXPECT_THROW(full.kafka.Resolve("cdc.yaml"), common::ConfigError);
  setenv("RM_TEST_KAFKA_PASSWORD", "k-secret", 1);
  auto props = full.kafka.Resolve("cdc.yaml");
  EXPECT_EQ(props["bootstrap.servers"], "b1:9092,b2:9092");
  EXPECT_EQ(props["linger.ms"], "5");
  EXPECT_EQ(props["compression.type"], "lz4");
  EXPECT_EQ(props["sasl.password"], "k-secret");
}

TEST(PostgresConfig, KafkaSecretPropertiesComeFromVariablesOrFiles) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "key-pass", "k3y\n");
  setenv("RM_TEST_KAFKA_SECRET", "oauth", 1);
  auto cfg = ParsePostgresCdcConfig(std::string(kMinimal) + R"(
kafka:
  bootstrap_servers: "b1:9092"
  properties_env: {sasl.oauthbearer.client.secret: RM_TEST_KAFKA_SECRET}
  properties_file: {ssl.key.password: )" +
                                        (dir / "key-pass").string() +
                                        R"(}
)",
                                    "cdc.yaml");
  auto props = cfg.kafka.Resolve("cdc.yaml");
  EXPECT_EQ(props["sasl.oauthbearer.client.secret"], "oauth");
  EXPECT_EQ(props["ssl.key.password"], "k3y");

  auto missing = ParsePostgresCdcConfig(std::string(kMinimal) + R"(
kafka:
  bootstrap_servers: "b1:9092"
  properties_file: {ssl.key.password: /nonexistent/key-pass}
)",
                                        "cdc.yaml");
  try {
    missing.kafka.Resolve("cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_NE(
        std::string(e.what()).find("cdc.yaml: kafka.properties_file.ssl.key.password: cannot read "
                                   "/nonexistent/key-pass"),
        std::string::npos)
        << e.what();
  }
}

TEST(PostgresConfig, ReportsEveryKafkaAndAdminProblemAtOnce) {
  const std::string bad = std::string(kMinimal) + R"(
kafka:
  properties: {sasl.password: inline, bootstrap.servers: "x:1"}
  topic_partitions: 0
  topic_replication_factor: 0
  partitions: 3
admin:
  port: 70000
mirror: {}
)";
  try {
    ParsePostgresCdcConfig(bad, "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    std::string msg = e.what();
    for (const char* expected :
         {"cdc.yaml:10: kafka.bootstrap_servers: required",
          "cdc.yaml:11: kafka.properties.sasl.password: secrets are never written",
          "cdc.yaml:11: kafka.properties.bootstrap.servers: set kafka.bootstrap_servers",
          "cdc.yaml:12: kafka.topic_partitions: must be at least 1",
          "cdc.yaml:13: kafka.topic_replication_factor: must be -1",
          "cdc.yaml:14: kafka.partitions: unknown field",
          "cdc.yaml:16: admin.port: 70000 is not -1 (off), 0 (any free port)",
          "cdc.yaml:17: mirror: unknown field (known here: postgres, kafka, admin)"}) {
      EXPECT_NE(msg.find(expected), std::string::npos) << "missing '" << expected << "' in\n"
                                                       << msg;
    }
    EXPECT_EQ(msg.find("inline"), std::string::npos) << "the password leaked into the error";
  }
}

TEST(PostgresConfig, GuardsHaveDocumentedDefaultsAndReachTheConnection) {
  auto cfg = ParsePostgresCdcConfig(kMinimal, "cdc.yaml");
  const auto& c = cfg.capture;
  EXPECT_EQ(c.connection.statement_timeout_ms, 30000);
  EXPECT_EQ(c.connection.keepalives_idle_s, 30);
  EXPECT_EQ(c.connection.keepalives_interval_s, 10);
  EXPECT_EQ(c.connection.keepalives_count, 3);
  EXPECT_EQ(c.snapshot_ack_timeout.count(), 600000);
  EXPECT_EQ(c.slot_lag_check_interval.count(), 10000);
  EXPECT_EQ(c.slot_lag_unhealthy_bytes, uint64_t{1} << 30);

  auto set = ParsePostgresCdcConfig(R"(
postgres:
  connection:
    dbname: app
    user: capture
    statement_timeout_ms: 5000
    keepalives_idle_s: 7
    keepalives_interval_s: 2
    keepalives_count: 4
  tables: [accounts]
  topic_prefix: pg1
  snapshot_ack_timeout_ms: 1500
  slot_lag_check_interval_ms: 250
  slot_lag_unhealthy_bytes: 5000000000
)",
                                    "cdc.yaml");
  EXPECT_EQ(set.capture.snapshot_ack_timeout.count(), 1500);
  EXPECT_EQ(set.capture.slot_lag_check_interval.count(), 250);
  EXPECT_EQ(set.capture.slot_lag_unhealthy_bytes, 5'000'000'000u);
  auto p = set.capture.connection.Resolve("cdc.yaml", "postgres.connection");
  EXPECT_EQ(p.statement_timeout_ms, 5000);
  EXPECT_EQ(p.keepalives_idle_s, 7);
  EXPECT_EQ(p.keepalives_interval_s, 2);
  EXPECT_EQ(p.keepalives_count, 4);

  try {
    ParsePostgresCdcConfig(R"(
postgres:
  connection: {dbname: app, user: capture, statement_timeout_ms: -1, keepalives_count: -2}
  tables: [accounts]
  topic_prefix: pg1
  snapshot_ack_timeout_ms: 0
  slot_lag_check_interval_ms: 10
)",
                           "cdc.yaml");
    FAIL() << "expected ConfigError";
  } catch (const common::ConfigError& e) {
    std::string msg = e.what();
    for (const char* field :
         {"postgres.connection.statement_timeout_ms", "postgres.connection.keepalives_count",
          "postgres.snapshot_ack_timeout_ms", "postgres.slot_lag_check_interval_ms"}) {
      EXPECT_NE(msg.find(field), std::string::npos) << field << "\n" << msg;
    }
  }
}

}  // namespace
}  // namespace rm::cdc::postgres
