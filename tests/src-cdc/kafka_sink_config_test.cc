// The captures' shared `kafka:` section (src-cdc/kafka_sink_config.h): one reader for both, and
// a capture that creates no topics (Cassandra) refuses the keys it could not honour.
#include "src-cdc/kafka_sink_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "common/result.h"
#include "src-cdc/cassandra/capture_config.h"
#include "tests/util/test_util.h"

namespace rm::cdc {
namespace {

constexpr const char* kSection = R"(
kafka:
  bootstrap_servers: "b1:9092"
  properties: {linger.ms: "5"}
  sasl_password_env: RM_TEST_SINK_PASSWORD
  topic_partitions: 12
  topic_replication_factor: 3
  create_topics: false
)";

TEST(KafkaSinkConfig, ACaptureThatCreatesTopicsReadsEveryKey) {
  std::vector<std::string> problems;
  common::YamlFieldReader r(problems);
  KafkaSinkConfig k;
  k.Read(r, YAML::Load(kSection)["kafka"], "kafka", /*topics_created=*/true);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(k.bootstrap_servers, "b1:9092");
  EXPECT_EQ(k.properties.at("linger.ms"), "5");
  EXPECT_EQ(k.sasl_password_env, "RM_TEST_SINK_PASSWORD");
  EXPECT_EQ(k.topic_partitions, 12);
  EXPECT_EQ(k.topic_replication_factor, 3);
  EXPECT_FALSE(k.create_topics);
  EXPECT_TRUE(k.Validate("kafka").empty());
}

TEST(KafkaSinkConfig, ACaptureThatCreatesNoTopicsRefusesTheTopicKeysNamingEach) {
  std::vector<std::string> problems;
  common::YamlFieldReader r(problems);
  KafkaSinkConfig k;
  k.Read(r, YAML::Load(kSection)["kafka"], "kafka", /*topics_created=*/false);
  ASSERT_EQ(problems.size(), 3u);
  for (const char* key : {"topic_partitions", "topic_replication_factor", "create_topics"}) {
    const std::string expected = std::string("kafka.") + key + ": this capture creates no topics";
    EXPECT_TRUE(std::any_of(problems.begin(), problems.end(),
                            [&](const std::string& p) { return p.rfind(expected, 0) == 0; }))
        << "missing " << expected;
  }
  EXPECT_EQ(k.topic_partitions, 6) << "a refused key keeps its default";
  EXPECT_EQ(k.sasl_password_env, "RM_TEST_SINK_PASSWORD") << "the other keys are read";
}

TEST(KafkaSinkConfig, ResolveAddsTheServersAndEverySecretAndNamesWhatIsMissing) {
  KafkaSinkConfig k;
  k.bootstrap_servers = "b1:9092";
  k.sasl_password_env = "RM_TEST_SINK_PASSWORD";
  k.secrets.from_env["ssl.key.password"] = "RM_TEST_SINK_KEY_PASSWORD";
  unsetenv("RM_TEST_SINK_PASSWORD");
  unsetenv("RM_TEST_SINK_KEY_PASSWORD");
  try {
    k.Resolve("cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cdc.yaml: kafka.sasl_password_env: environment variable "
                       "RM_TEST_SINK_PASSWORD is not set"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("cdc.yaml: kafka.properties_env.ssl.key.password:"), std::string::npos)
        << msg;
  }
  setenv("RM_TEST_SINK_PASSWORD", "s3cret", 1);
  setenv("RM_TEST_SINK_KEY_PASSWORD", "k3y", 1);
  const auto props = k.Resolve("cdc.yaml");
  EXPECT_EQ(props.at("bootstrap.servers"), "b1:9092");
  EXPECT_EQ(props.at("sasl.password"), "s3cret");
  EXPECT_EQ(props.at("ssl.key.password"), "k3y");
  unsetenv("RM_TEST_SINK_PASSWORD");
  unsetenv("RM_TEST_SINK_KEY_PASSWORD");
}

// The Cassandra capture's file: the same section, sasl_password_env honoured, topic keys refused.
class CassandraKafkaSection : public ::testing::Test {
 protected:
  std::string Yaml(const std::string& kafka) {
    return "cassandra:\n  cdc_raw_dir: " + tmp_.path().string() +
           "\n  state_dir: " + (tmp_ / "state").string() +
           "\n  topic_prefix: cass1\n  tables:\n    cql: CREATE TABLE ks.t (id int PRIMARY KEY) "
           "WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true\n" +
           kafka;
  }
  rm::testing::TempDir tmp_;
};

TEST_F(CassandraKafkaSection, SaslPasswordEnvBecomesTheSaslPassword) {
  setenv("RM_TEST_SINK_PASSWORD", "s3cret", 1);
  auto c = cassandra::ParseCassandraCdcConfig(
      Yaml("kafka:\n  bootstrap_servers: b1:9092\n  sasl_password_env: RM_TEST_SINK_PASSWORD\n"),
      "cdc.yaml");
  EXPECT_EQ(c.kafka.Resolve("cdc.yaml").at("sasl.password"), "s3cret");
  unsetenv("RM_TEST_SINK_PASSWORD");
}

TEST_F(CassandraKafkaSection, TopicKeysAndAMissingSectionAreRefusedWithTheirLines) {
  try {
    cassandra::ParseCassandraCdcConfig(
        Yaml("kafka:\n  bootstrap_servers: b1:9092\n  topic_partitions: 3\n"), "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("cdc.yaml:9: kafka.topic_partitions: this capture creates "
                                    "no topics",
                                    0),
        0u)
        << e.what();
  }
  try {
    cassandra::ParseCassandraCdcConfig(Yaml(""), "cdc.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "cdc.yaml: kafka: required section is missing");
  }
}

}  // namespace
}  // namespace rm::cdc
