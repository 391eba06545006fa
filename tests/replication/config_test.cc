#include "replication/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/result.h"
#include "tests/util/test_util.h"

namespace rm::replication {
namespace {

const char* kValid = R"(
clusters:
  - alias: us-east
    bootstrap_servers: "a:9092"
    properties: {security.protocol: plaintext}
  - alias: eu-west
    bootstrap_servers: "b:9092"
flows:
  - source: us-east
    target: eu-west
    topics: ["orders.*", "payments"]
    topics_exclude: ["orders\\.tmp"]
    replication_policy: identity
    groups: ["app-.*"]
mirror:
  refresh_interval_ms: 2000
  producer: {compression.type: lz4}
offsets:
  dir: /tmp/x
admin:
  port: 0
)";

std::string ErrorOf(const std::string& yaml) {
  try {
    ParseMirrorConfigYaml(yaml, "m.yaml");
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(MirrorConfig, LoadsEveryFieldOfAValidFile) {
  MirrorConfig c = ParseMirrorConfigYaml(kValid, "m.yaml");
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[0].properties.at("security.protocol"), "plaintext");
  ASSERT_EQ(c.flows.size(), 1u);
  EXPECT_EQ(c.flows[0].name(), "us-east->eu-west");
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kIdentity);
  EXPECT_EQ(c.flows[0].topics, (std::vector<std::string>{"orders.*", "payments"}));
  EXPECT_EQ(c.mirror.refresh_interval_ms, 2000);
  EXPECT_EQ(c.mirror.producer.at("compression.type"), "lz4");
  EXPECT_EQ(c.offsets.dir, "/tmp/x");
  EXPECT_EQ(c.admin.port, 0);
}

TEST(MirrorConfig, DefaultsMatchMirrorMaker) {
  MirrorConfig c = ParseMirrorConfigYaml(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b}]
)",
                                         "m.yaml");
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kDefault);
  EXPECT_EQ(c.flows[0].separator, ".");
  EXPECT_EQ(c.flows[0].topics, std::vector<std::string>{".*"});
  EXPECT_EQ(c.flows[0].replication_factor, -1);  // MM2's replication.factor=-1: brokers' default
  EXPECT_TRUE(c.flows[0].sync_topic_configs);
  EXPECT_EQ(c.mirror.refresh_interval_ms, 10000);
}

TEST(MirrorConfig, FlowSetsReplicationFactorAndTopicConfigSync) {
  MirrorConfig c = ParseMirrorConfigYaml(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, replication_factor: 3, sync_topic_configs: false}]
)",
                                         "m.yaml");
  EXPECT_EQ(c.flows[0].replication_factor, 3);
  EXPECT_FALSE(c.flows[0].sync_topic_configs);
  std::string err = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, replication_factor: 0}]
)");
  EXPECT_NE(err.find("m.yaml:3: flows[0].replication_factor: 0 is not a replication factor"),
            std::string::npos)
      << err;
}

TEST(MirrorConfig, ReportsEveryProblemAtOnceWithFileAndField) {
  std::string err = ErrorOf(R"(
clusters:
  - alias: us-east
    bootstrap_servers: ""
    properties: {no.such.prop: 1}
  - alias: us-east
    bootstrap_servers: "b:1"
flows:
  - source: us-east
    target: mars
    topics: ["(unclosed"]
    replication_policy: fancy
mirror:
  start_from: middle
)");
  EXPECT_NE(err.find("m.yaml:4: clusters[0].bootstrap_servers: required"), std::string::npos)
      << err;
  EXPECT_NE(err.find("unknown property 'no.such.prop'"), std::string::npos) << err;
  EXPECT_NE(err.find("clusters[1].alias: alias 'us-east' is used twice"), std::string::npos) << err;
  EXPECT_NE(err.find("flows[0].target: unknown cluster 'mars'"), std::string::npos) << err;
  EXPECT_NE(err.find("flows[0].topics[0]: bad regex '(unclosed'"), std::string::npos) << err;
  EXPECT_NE(
      err.find("m.yaml:14: mirror.start_from: must be one of earliest, latest (got \"middle\")"),
      std::string::npos)
      << err;
}

// The project's one rule for secrets (as Postgres' password_env/password_file): never inline.
TEST(MirrorConfig, SecretsComeFromTheEnvironmentOrAFileNeverFromTheFile) {
  const rm::testing::TempDir dir;
  std::ofstream(dir / "key-pass") << "k3y\n";
  ::setenv("RM_TEST_SASL_PASSWORD", "s3cret", 1);
  auto cfg = ParseMirrorConfigYaml(R"(
clusters:
  - alias: a
    bootstrap_servers: "a:1"
    properties: {security.protocol: sasl_ssl, sasl.mechanism: PLAIN, sasl.username: u}
    properties_env: {sasl.password: RM_TEST_SASL_PASSWORD}
    properties_file: {ssl.key.password: )" +
                                       (dir / "key-pass").string() + R"(}
  - alias: b
    bootstrap_servers: "b:1"
flows: [{source: a, target: b}]
)",
                                   "m.yaml");
  EXPECT_EQ(cfg.clusters[0].properties.at("sasl.password"), "s3cret");
  EXPECT_EQ(cfg.clusters[0].properties.at("ssl.key.password"), "k3y");

  ::unsetenv("RM_TEST_UNSET_VAR");
  std::string err = ErrorOf(R"(
clusters:
  - alias: a
    bootstrap_servers: "a:1"
    properties: {sasl.password: inline, sasl.oauthbearer.client.secret: x}
    properties_env: {sasl.username: RM_TEST_UNSET_VAR}
    properties_file: {ssl.keystore.password: /nonexistent/pass}
flows: [{source: a, target: a}]
)");
  EXPECT_NE(err.find("m.yaml:5: clusters[0].properties.sasl.password: secrets are never written in "
                     "the file: use properties_env or properties_file"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("clusters[0].properties.sasl.oauthbearer.client.secret: secrets are never"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:6: clusters[0].properties_env.sasl.username: environment variable "
                     "RM_TEST_UNSET_VAR is not set"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:7: clusters[0].properties_file.ssl.keystore.password: cannot read "
                     "/nonexistent/pass"),
            std::string::npos)
      << err;
}

TEST(MirrorConfig, UnknownKeysAreErrorsNotIgnored) {
  std::string err = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: "x:1", bootstrap: "typo"}]
flows: [{source: a, target: b, topic: orders}]
mirorr: {}
)");
  EXPECT_NE(err.find("m.yaml:2: clusters[0].bootstrap: unknown field (known here: alias, "
                     "bootstrap_servers, properties, properties_env, properties_file)"),
            std::string::npos)
      << err;
  EXPECT_NE(
      err.find("m.yaml:3: flows[0].topic: unknown field (known here: source, target, topics,"),
      std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:4: mirorr: unknown field (known here: clusters, flows, mirror, "
                     "offsets, admin, heartbeats)"),
            std::string::npos)
      << err;
}

TEST(MirrorConfig, WrongTypesAreNamed) {
  std::string err = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, enabled: perhaps}]
mirror: {refresh_interval_ms: soon}
)");
  EXPECT_NE(err.find("m.yaml:3: flows[0].enabled: expected true or false"), std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:4: mirror.refresh_interval_ms: expected an integer"),
            std::string::npos)
      << err;
}

TEST(MirrorConfig, SectionsAndListsOfTheWrongShapeAreNamed) {
  std::string err = ErrorOf(R"(
clusters:
  - alias: a
    bootstrap_servers: "x:1"
    properties: [linger.ms]
  - just-a-name
flows:
  - source: a
    target: b
    topics: [orders, {name: payments}]
mirror: fast
admin: {port: 0}
)");
  EXPECT_NE(err.find("m.yaml:5: clusters[0].properties: expected a map of librdkafka properties"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:6: clusters[1]: expected a map"), std::string::npos) << err;
  EXPECT_NE(err.find("m.yaml:10: flows[0].topics[1]: expected a string"), std::string::npos) << err;
  EXPECT_NE(err.find("m.yaml:11: mirror: expected a map"), std::string::npos) << err;
}

TEST(MirrorConfig, ASingleTopicStringIsAOneItemList) {
  MirrorConfig c = ParseMirrorConfigYaml(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, topics: "orders.*"}]
)",
                                         "m.yaml");
  EXPECT_EQ(c.flows[0].topics, std::vector<std::string>{"orders.*"});
}

TEST(MirrorConfig, SeveralProblemsAreCountedOneALineAndASingleOneStandsAlone) {
  std::string several = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: ""}]
flows: []
)");
  EXPECT_EQ(several.rfind("2 problems in configuration:\n  m.yaml:2: ", 0), 0u) << several;

  std::string one = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b}]
admin: {port: 70000}
)");
  EXPECT_EQ(one,
            "m.yaml:4: admin.port: 70000 is not -1 (off), 0 (any free port) or a port up to 65535");
}

TEST(MirrorConfig, AWrongEnumWordListsTheWordsAllowedAndKafkasClassNamesAreAccepted) {
  const std::string err = ErrorOf(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, replication_policy: mirror}]
mirror: {start_from: newest}
)");
  EXPECT_NE(err.find("m.yaml:3: flows[0].replication_policy: must be one of default, identity "
                     "(got \"mirror\")"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("m.yaml:4: mirror.start_from: must be one of earliest, latest (got "
                     "\"newest\")"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.rfind("2 problems in configuration:\n", 0), 0u)
      << "one report each, no second from validation:\n"
      << err;

  auto c = ParseMirrorConfigYaml(R"(
clusters: [{alias: a, bootstrap_servers: "x:1"}, {alias: b, bootstrap_servers: "y:1"}]
flows: [{source: a, target: b, replication_policy: IdentityReplicationPolicy}]
mirror: {start_from: latest}
)",
                                 "m.yaml");
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kIdentity);
  EXPECT_EQ(c.mirror.start_from, "latest");
}

TEST(MirrorConfig, BrokenYamlNamesTheLine) {
  std::string err = ErrorOf("clusters:\n  - alias: [a\n");
  EXPECT_NE(err.find("m.yaml: line"), std::string::npos) << err;
}

TEST(Mm2Properties, MapsTheCommonKeys) {
  MirrorConfig c = ParseMm2Properties(R"(
clusters = A, B
A.bootstrap.servers = a1:9092,a2:9092
B.bootstrap.servers = b1:9092
A->B.enabled = true
A->B.topics = orders.*, payments
B->A.enabled = false
topics.exclude = .*\\.tmp
replication.policy.separator = _
groups = app-.*
A.security.protocol = SSL
refresh.topics.interval.seconds = 5
)",
                                      "mm2.properties");
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[0].bootstrap_servers, "a1:9092,a2:9092");
  EXPECT_EQ(c.clusters[0].properties.at("security.protocol"), "SSL");
  ASSERT_EQ(c.flows.size(), 1u);
  EXPECT_EQ(c.flows[0].name(), "A->B");
  EXPECT_EQ(c.flows[0].topics, (std::vector<std::string>{"orders.*", "payments"}));
  EXPECT_EQ(c.flows[0].topics_exclude, std::vector<std::string>{".*\\.tmp"});
  EXPECT_EQ(c.flows[0].separator, "_");
  EXPECT_EQ(c.flows[0].groups, std::vector<std::string>{"app-.*"});
  EXPECT_EQ(c.mirror.refresh_interval_ms, 5000);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Mm2Properties, IdentityPolicyByClassName) {
  MirrorConfig c = ParseMm2Properties(R"(
clusters = A, B
A.bootstrap.servers = a:1
B.bootstrap.servers = b:1
A->B.enabled = true
B->A.enabled = true
replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
)",
                                      "mm2.properties");
  ASSERT_EQ(c.flows.size(), 2u);
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kIdentity);
  EXPECT_EQ(c.flows[1].policy, PolicyKind::kIdentity);
}

TEST(Mm2Properties, UnsupportedKeysAreListedInAWarning) {
  MirrorConfig c = ParseMm2Properties(R"(
clusters = A, B
A.bootstrap.servers = a:1
B.bootstrap.servers = b:1
A->B.enabled = true
tasks.max = 4
A.ssl.protocol = TLSv1.3
sync.topic.acls.enabled = true
)",
                                      "mm2.properties");
  ASSERT_EQ(c.warnings.size(), 1u);
  const std::string& w = c.warnings[0];
  EXPECT_NE(w.find("3 keys not applied"), std::string::npos) << w;
  EXPECT_NE(w.find("tasks.max"), std::string::npos) << w;
  EXPECT_NE(w.find("A.ssl.protocol"), std::string::npos) << w;
  EXPECT_NE(w.find("sync.topic.acls.enabled"), std::string::npos) << w;
}

// The settings of Apache Kafka's sample config/connect-mirror-maker.properties (its comments
// left out): it must keep loading, with both flows.
TEST(Mm2Properties, KafkasSampleFileLoadsWithBothFlows) {
  MirrorConfig c = ParseMm2Properties(R"(
# Sample MirrorMaker 2.0 top-level configuration file
clusters = A, B
A.bootstrap.servers = A_host1:9092, A_host2:9092, A_host3:9092
B.bootstrap.servers = B_host1:9092, B_host2:9092, B_host3:9092
A->B.enabled = true
A->B.topics = .*
B->A.enabled = true
B->A.topics = .*
replication.factor=1
checkpoints.topic.replication.factor=1
heartbeats.topic.replication.factor=1
offset-syncs.topic.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
config.storage.replication.factor=1
# customize as needed
# replication.policy.separator = _
)",
                                      "connect-mirror-maker.properties");
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[1].bootstrap_servers, "B_host1:9092, B_host2:9092, B_host3:9092");
  ASSERT_EQ(c.flows.size(), 2u);
  EXPECT_EQ(c.flows[0].name(), "A->B");
  EXPECT_EQ(c.flows[1].name(), "B->A");
  EXPECT_EQ(c.flows[0].separator, ".");
}

std::string Mm2ErrorOf(const std::string& text) {
  try {
    ParseMm2Properties(text, "mm2.properties");
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kTwoClusters =
    "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
    "A->B.enabled = true\n";

// MM2 names remote topics source.cluster.alias + separator + topic: both empty is the
// widespread "no prefix" setup.
TEST(Mm2Properties, EmptySeparatorWithEmptySourceAliasKeepsTopicNames) {
  MirrorConfig c = ParseMm2Properties(std::string(kTwoClusters) +
                                          "replication.policy.separator =\n"
                                          "source.cluster.alias =\ntarget.cluster.alias =\n",
                                      "mm2.properties");
  ASSERT_EQ(c.flows.size(), 1u);
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kIdentity);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(Mm2Properties, TheNoPrefixSetupCanBeGivenPerFlow) {
  MirrorConfig c = ParseMm2Properties(std::string(kTwoClusters) +
                                          "B->A.enabled = true\n"
                                          "A->B.replication.policy.separator =\n"
                                          "A->B.source.cluster.alias =\n",
                                      "mm2.properties");
  ASSERT_EQ(c.flows.size(), 2u);
  EXPECT_EQ(c.flows[0].policy, PolicyKind::kIdentity);
  EXPECT_EQ(c.flows[1].policy, PolicyKind::kDefault);
  EXPECT_EQ(c.flows[1].separator, ".");
}

TEST(Mm2Properties, EmptySeparatorAloneIsAnErrorThatSaysWhatToDo) {
  EXPECT_EQ(Mm2ErrorOf(std::string(kTwoClusters) + "replication.policy.separator =\n"),
            "mm2.properties: replication.policy.separator: empty for flow A->B: remote topics "
            "would be named 'Aorders'; for names without prefix set source.cluster.alias empty "
            "too, or use IdentityReplicationPolicy");
}

TEST(Mm2Properties, EmptySourceAliasAloneOrRenamedClustersAreErrors) {
  std::string err = Mm2ErrorOf(std::string(kTwoClusters) + "source.cluster.alias =\n");
  EXPECT_NE(err.find("source.cluster.alias: empty for flow A->B needs an empty "
                     "replication.policy.separator too"),
            std::string::npos)
      << err;
  err = Mm2ErrorOf(std::string(kTwoClusters) +
                   "A->B.source.cluster.alias = X\ntarget.cluster.alias = Y\n");
  EXPECT_NE(err.find("source.cluster.alias: 'X' for flow A->B: renaming a cluster is not"),
            std::string::npos)
      << err;
  // The reason, and what gives the same remote names.
  EXPECT_NE(err.find("the reverse flow would copy 'X.<topic>' back"), std::string::npos) << err;
  EXPECT_NE(err.find("call the cluster X in `clusters` (X.bootstrap.servers = ...)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("target.cluster.alias: 'Y' for flow A->B: renaming"), std::string::npos)
      << err;
}

TEST(Mm2Properties, MissingBootstrapAndUnknownPolicyAreErrors) {
  try {
    ParseMm2Properties(
        "clusters = A, B\nA.bootstrap.servers = a:1\nA->B.enabled = true\n"
        "replication.policy.class = com.example.Custom\n",
        "mm2.properties");
    FAIL();
  } catch (const common::ConfigError& e) {
    std::string err = e.what();
    EXPECT_NE(err.find("mm2.properties: B.bootstrap.servers: required"), std::string::npos) << err;
    EXPECT_NE(err.find("mm2.properties: replication.policy.class: 'com.example.Custom'"),
              std::string::npos)
        << err;
  }
}

}  // namespace
}  // namespace rm::replication
