// The Cassandra capture's building blocks: the configuration (every problem at once, naming
// file and field), the in-order AckTracker, and the RocksDB PositionStore.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "src-cdc/cassandra/ack_tracker.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/cassandra/position_store.h"
#include "tests/src-cdc/cassandra_capture_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

using common::Status;

// ---- AckTracker

TEST(CassandraAckTracker, PositionBecomesSafeOnlyOnceEveryEventBeforeItIsAcked) {
  AckTracker t;
  const uint64_t a = t.Register();
  t.AddBoundary({1, 100});
  const uint64_t b = t.Register();
  const uint64_t c = t.Register();
  t.AddBoundary({1, 200});
  t.AddSegmentDone(1);

  t.Ack(c, Status::Ok());
  t.Ack(b, Status::Ok());
  EXPECT_FALSE(t.SafePosition().has_value()) << "a is not acked";
  EXPECT_TRUE(t.TakeDoneSegments().empty());
  EXPECT_EQ(t.InFlight(), 3u);

  t.Ack(a, Status::Ok());
  ASSERT_TRUE(t.SafePosition().has_value());
  EXPECT_EQ(*t.SafePosition(), (CommitLogPosition{1, 200}));
  EXPECT_EQ(t.TakeDoneSegments(), std::vector<int64_t>{1});
  EXPECT_TRUE(t.TakeDoneSegments().empty()) << "handed out once";
  EXPECT_EQ(t.InFlight(), 0u);
}

TEST(CassandraAckTracker, AFailedAckFreezesThePositionForGood) {
  AckTracker t;
  const uint64_t a = t.Register();
  t.AddBoundary({1, 100});
  const uint64_t b = t.Register();
  t.AddBoundary({1, 200});

  t.Ack(a, Status::Ok());
  t.Ack(b, common::Error{"sink.failed", "broker said no"});
  const uint64_t c = t.Register();
  t.AddBoundary({1, 300});
  t.Ack(c, Status::Ok());

  EXPECT_EQ(*t.SafePosition(), (CommitLogPosition{1, 100}));
  ASSERT_TRUE(t.failure().has_value());
  EXPECT_EQ(t.failure()->code, "sink.failed");
  EXPECT_FALSE(t.WaitAllAcked(std::chrono::milliseconds(10)));
}

TEST(CassandraAckTracker, AcksFromManyThreadsInAnyOrderEndWithEverythingSafe) {
  AckTracker t;
  constexpr int kEvents = 10000;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < kEvents; ++i) {
    seqs.push_back(t.Register());
    t.AddBoundary({7, static_cast<uint32_t>(i + 1)});
  }
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = kEvents - 1 - k; i >= 0; i -= 4)
        t.Ack(seqs[static_cast<size_t>(i)], Status::Ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(t.WaitAllAcked(std::chrono::milliseconds(100)));
  EXPECT_EQ(*t.SafePosition(), (CommitLogPosition{7, kEvents}));
}

// ---- PositionStore

TEST(CassandraPositionStore, SavedStateSurvivesReopening) {
  rm::testing::TempDir tmp;
  CaptureState state;
  state.resume =
      CaptureState::Resume{{"CommitLog-7-1699285478684.log", 2049, 131074}, {1699285478684, 4242}};
  state.delivered = {{{"CommitLog-7-1699285478690.log", 2049, 131080}, false},
                     {{"CommitLog-6-12.log", 2049, 7}, true}};
  // Columns learned from schema mutations: an ALTER, then a DROP.
  TableShape before;
  before.columns.push_back({.name = "k",
                            .type = "text (partition key 1)",
                            .optional = false,
                            .key = true,
                            .connect = {{"type", "string"}}});
  TableShape altered = before;
  altered.columns.push_back({.name = "extra", .type = "int"});
  state.tables["ks.t"] = CaptureState::LearnedTable{
      .id = "5a1c395e-b41f-11e5-9f22-ba0be0483c18",
      .configured = before,
      .before = before,
      .changes = {{{1699285478684, 100}, altered, false}, {{1699285478690, 7}, {}, true}}};
  {
    auto store = PositionStore::Open(tmp / "state");
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto none = store.value()->Load();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->resume.has_value());
    EXPECT_TRUE(none->delivered.empty());
    ASSERT_TRUE(store.value()->Save(state).ok());
  }
  auto store = PositionStore::Open(tmp / "state");
  ASSERT_TRUE(store.ok());
  auto loaded = store.value()->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->resume.has_value());
  EXPECT_EQ(loaded->resume->segment, state.resume->segment);
  EXPECT_EQ(loaded->resume->position, (CommitLogPosition{1699285478684, 4242}));
  EXPECT_EQ(loaded->delivered, state.delivered);
  EXPECT_EQ(loaded->tables, state.tables);
  EXPECT_FALSE(loaded->legacy);
}

// Only the spill holds a stopped table's changes once the checkpoint passed them, so a state
// naming a spill must not be readable by a version that would ignore it: such a state is format
// 3 (older versions read format 2 only and refuse anything else); without a spill it stays 2.
TEST(CassandraPositionStore, AStateNamingASpillIsAFormatOlderVersionsRefuse) {
  rm::testing::TempDir tmp;
  CaptureState state;
  state.resume = CaptureState::Resume{SegmentIdentity{"CommitLog-7-1699285478684.log", 11},
                                      CommitLogPosition{1699285478684, 4242}};
  {
    auto store = PositionStore::Open(tmp / "plain");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store.value()->Save(state).ok());
  }
  EXPECT_EQ(nlohmann::json::parse(testing::ReadRawState(tmp / "plain")).at("format"), 2);

  state.spills["shop.orders"] = 1234;
  {
    auto store = PositionStore::Open(tmp / "spill");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store.value()->Save(state).ok());
  }
  const auto raw = nlohmann::json::parse(testing::ReadRawState(tmp / "spill"));
  EXPECT_EQ(raw.at("format"), 3);
  EXPECT_EQ(raw.at("spills").at("shop.orders"), 1234);
  auto loaded = testing::LoadState(tmp / "spill");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->spills, state.spills);
  EXPECT_EQ(loaded->resume->position, (CommitLogPosition{1699285478684, 4242}));

  // And a format this version does not know is refused, naming it.
  testing::WriteRawState(tmp / "future", R"({"format": 4, "resume": null, "delivered": []})");
  auto future = testing::LoadState(tmp / "future");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.error().message.find("format 4"), std::string::npos) << future.error().message;
}

TEST(CassandraPositionStore, OldFormatLoadsAsALegacyPositionNamingTheSegmentById) {
  rm::testing::TempDir tmp;
  testing::WriteRawState(tmp / "state", "1699284515157:100");

  auto loaded = testing::LoadState(tmp / "state");

  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->legacy);
  ASSERT_TRUE(loaded->resume.has_value());
  EXPECT_EQ(loaded->resume->position, (CommitLogPosition{1699284515157, 100}));
  EXPECT_TRUE(loaded->resume->segment.file.empty());
  EXPECT_TRUE(loaded->delivered.empty()) << "nothing is known to be delivered";
}

TEST(CassandraPositionStore, UnreadableStateIsAnErrorNamingTheDirectory) {
  rm::testing::TempDir tmp;
  testing::WriteRawState(tmp / "state", "{\"format\": 2, \"resume\": 7}");

  auto loaded = testing::LoadState(tmp / "state");

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, "cassandra.state");
  EXPECT_NE(loaded.error().message.find((tmp / "state").string()), std::string::npos);
}

TEST(CassandraPositionStore, SecondOpenOfTheSameDirectoryFailsNamingIt) {
  rm::testing::TempDir tmp;
  auto first = PositionStore::Open(tmp / "state");
  ASSERT_TRUE(first.ok());
  auto second = PositionStore::Open(tmp / "state");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "cassandra.state_locked");
  EXPECT_NE(second.error().message.find((tmp / "state").string()), std::string::npos);
}

// ---- Configuration

constexpr char kTable[] =
    "CREATE TABLE shop.orders (id int PRIMARY KEY, total int) "
    "WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true;\n"
    "CREATE TABLE shop.audit (id int PRIMARY KEY, what text) "
    "WITH ID = 6b1c395e-b41f-11e5-9f22-ba0be0483c18";

std::string Indent(const std::string& text) {
  std::string out = "      ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "      ";
  }
  return out;
}

class CassandraCaptureConfig : public ::testing::Test {
 protected:
  std::string Yaml(const std::string& extra_cassandra = "", const std::string& tail = "") {
    return "cassandra:\n"
           "  cdc_raw_dir: " +
           tmp_.path().string() +
           "\n"
           "  state_dir: " +
           (tmp_ / "state").string() +
           "\n"
           "  topic_prefix: cass1\n"
           "  tables:\n"
           "    cql: |\n" +
           Indent(kTable) + "\n" + extra_cassandra +
           "kafka:\n"
           "  bootstrap_servers: 127.0.0.1:9092\n" +
           tail;
  }

  rm::testing::TempDir tmp_;
};

TEST_F(CassandraCaptureConfig, MinimalFileGetsTheDocumentedDefaults) {
  auto c = ParseCassandraCdcConfig(Yaml(), "cdc.yaml");

  EXPECT_EQ(c.capture.topic_prefix, "cass1");
  EXPECT_EQ(c.capture.processed, ProcessedAction::kDelete);
  EXPECT_EQ(c.capture.cluster, "Test Cluster");
  EXPECT_EQ(c.capture.poll_interval.count(), 100);
  EXPECT_EQ(c.capture.max_in_flight_events, 10000u);
  EXPECT_EQ(c.capture.max_spill_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c.admin.port, 9702);
  auto schema = c.capture.BuildSchema();
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->size(), 1u) << "only the table WITH cdc = true";
  EXPECT_NE(schema->FindTable("shop", "orders"), nullptr);
}

TEST_F(CassandraCaptureConfig, MaxSpillBytesTakesZeroForNoSpillAndRefusesANegativeSize) {
  EXPECT_EQ(
      ParseCassandraCdcConfig(Yaml("  max_spill_bytes: 0\n"), "cdc.yaml").capture.max_spill_bytes,
      0u);
  try {
    ParseCassandraCdcConfig(Yaml("  max_spill_bytes: -1\n"), "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cassandra.max_spill_bytes: must be >= 0"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CassandraCaptureConfig, IncludeListOverridesTheCdcFlagAndMoveTakesADirectory) {
  auto c = ParseCassandraCdcConfig(
      Yaml("    include: [shop.audit]\n  processed: move:/var/tmp/done\n"), "cdc.yaml");

  EXPECT_EQ(c.capture.processed, ProcessedAction::kMove);
  EXPECT_EQ(c.capture.move_to, "/var/tmp/done");
  auto schema = c.capture.BuildSchema();
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->size(), 1u);
  EXPECT_NE(schema->FindTable("shop", "audit"), nullptr);
}

TEST_F(CassandraCaptureConfig, EveryProblemIsReportedAtOnceNamingFileAndField) {
  const std::string yaml =
      "cassandra:\n"
      "  cdc_raw_dir: /no/such/dir\n"
      "  processed: shred\n"
      "  topic_prefix: 'bad prefix'\n"
      "  max_in_flight_events: 0\n"
      "  poll_intervall_ms: 5\n"
      "  tables:\n"
      "    cql: CREATE TABLE ks.t (id int PRIMARY KEY) WITH cdc = true\n"
      "  encryption:\n"
      "    keystore: /etc/ks\n"
      "kafka:\n"
      "  properties: {no.such.property: 1}\n"
      "admin:\n"
      "  port: 70000\n";
  try {
    ParseCassandraCdcConfig(yaml, "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    const std::string msg = e.what();
    for (const char* needle :
         {"cdc.yaml:2: cassandra.cdc_raw_dir: /no/such/dir is not a directory",
          "cdc.yaml:3: cassandra.processed: must be 'delete' or 'move:<directory>'",
          "cdc.yaml:4: cassandra.topic_prefix:", "cdc.yaml:5: cassandra.max_in_flight_events",
          "cdc.yaml:6: cassandra.poll_intervall_ms: unknown field (known here: cdc_raw_dir, "
          "processed, state_dir, topic_prefix, cluster, tables, encryption, poll_interval_ms,",
          "cdc.yaml:1: cassandra.state_dir: required",
          "cdc.yaml:7: cassandra.tables:", "cdc.yaml:9: cassandra.encryption.keystore_password_env",
          "cdc.yaml:11: kafka.bootstrap_servers: required", "no.such.property",
          "cdc.yaml:14: admin.port: 70000 is not -1 (off), 0 (any free port)"}) {
      EXPECT_NE(msg.find(needle), std::string::npos) << "missing: " << needle << "\nin:\n" << msg;
    }
  }
}

TEST_F(CassandraCaptureConfig, TableWithoutIdIsReportedUnderTables) {
  std::string yaml = Yaml();
  yaml.replace(yaml.find("WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND "), 51, "WITH ");
  try {
    ParseCassandraCdcConfig(yaml, "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cdc.yaml:5: cassandra.tables: table shop.orders"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CassandraCaptureConfig, KeyFromAnEnvironmentVariableBuildsAKeyProvider) {
  setenv("RM_TEST_CASS_KEY", "b7d96fb9b11d829179aeeb0b4e81f97a", 1);
  auto c = ParseCassandraCdcConfig(Yaml("  encryption:\n    key_hex_env: RM_TEST_CASS_KEY\n"),
                                   "cdc.yaml");
  auto keys = c.capture.encryption.BuildKeyProvider("cassandra.encryption");
  ASSERT_TRUE(keys.ok());
  ASSERT_NE(keys.value(), nullptr);
  auto key = keys.value()->GetKey("testing:1");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 16u);

  unsetenv("RM_TEST_CASS_KEY");
  EXPECT_THROW(
      ParseCassandraCdcConfig(Yaml("  encryption:\n    key_hex_env: RM_TEST_CASS_KEY\n"), "f"),
      common::ConfigError);
}

// The project's one rule for secrets: each secret field has _env and _file forms; Kafka
// properties holding secrets come from properties_env / properties_file, never inline.
TEST_F(CassandraCaptureConfig, SecretsComeFromVariablesOrFilesNeverFromTheFile) {
  rm::testing::WriteFile(tmp_ / "key.hex", "b7d96fb9b11d829179aeeb0b4e81f97a\n");
  rm::testing::WriteFile(tmp_ / "sasl-pass", "s3cret\n");
  auto c = ParseCassandraCdcConfig(
      Yaml("  encryption:\n    key_hex_file: " + (tmp_ / "key.hex").string() + "\n",
           "  properties: {security.protocol: sasl_plaintext, sasl.mechanism: PLAIN, "
           "sasl.username: u}\n  properties_file: {sasl.password: " +
               (tmp_ / "sasl-pass").string() + "}\n"),
      "cdc.yaml");
  auto keys = c.capture.encryption.BuildKeyProvider("cassandra.encryption");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_NE(keys.value(), nullptr);
  EXPECT_EQ(keys.value()->GetKey("any").value().size(), 16u);
  EXPECT_EQ(c.kafka.Resolve("cdc.yaml").at("sasl.password"), "s3cret");

  try {
    ParseCassandraCdcConfig(
        Yaml("  encryption:\n    key_hex_env: A\n    key_hex_file: /x\n",
             "  properties: {sasl.password: inline}\n  properties_file: {ssl.key.password: "
             "/nonexistent/pass}\n"),
        "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    const std::string msg = e.what();
    for (const char* needle :
         {"cdc.yaml:11: cassandra.encryption.key_hex_file: give key_hex_env or key_hex_file, not "
          "both",
          "cdc.yaml:14: kafka.properties.sasl.password: secrets are never written in the config",
          "cdc.yaml:15: kafka.properties_file.ssl.key.password: cannot read /nonexistent/pass"}) {
      EXPECT_NE(msg.find(needle), std::string::npos) << "missing: " << needle << "\nin:\n" << msg;
    }
  }
}

}  // namespace
}  // namespace rm::cdc::cassandra
