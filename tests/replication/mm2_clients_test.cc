// MM2's client-override prefixes in mm2.properties, and their precedence.
#include "replication/mm2_clients.h"

#include <gtest/gtest.h>

#include "replication/config.h"

namespace rm::replication {
namespace {

const char* kAb =
    "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
    "A->B.enabled = true\nB->A.enabled = true\n";

const FlowConfig& FlowNamed(const MirrorConfig& c, const std::string& name) {
  for (const auto& f : c.flows) {
    if (f.name() == name) return f;
  }
  throw std::runtime_error("no flow " + name);
}

TEST(Mm2ClientOverrides, ClusterPrefixesReachTheFlowsThatUseTheCluster) {
  MirrorConfig c = ParseMm2Properties(std::string(kAb) +
                                          "A.consumer.fetch.min.bytes = 1000\n"
                                          "B.producer.compression.type = lz4\n"
                                          "A.admin.request.timeout.ms = 7000\n",
                                      "mm2.properties");
  const FlowConfig& ab = FlowNamed(c, "A->B");
  const FlowConfig& ba = FlowNamed(c, "B->A");
  EXPECT_EQ(ab.consumer, (common::KafkaProperties{{"fetch.min.bytes", "1000"}}));
  EXPECT_TRUE(ba.consumer.empty());
  EXPECT_EQ(ab.producer, (common::KafkaProperties{{"compression.type", "lz4"}}));
  EXPECT_TRUE(ba.producer.empty());
  EXPECT_EQ(ab.source_admin, (common::KafkaProperties{{"request.timeout.ms", "7000"}}));
  EXPECT_EQ(ba.target_admin, (common::KafkaProperties{{"request.timeout.ms", "7000"}}));
  EXPECT_TRUE(ab.target_admin.empty());
  EXPECT_TRUE(ba.source_admin.empty());
  // Cluster-level client keys are not cluster properties too.
  EXPECT_TRUE(c.clusters[0].properties.empty());
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(Mm2ClientOverrides, PrecedenceIsMm2s) {
  MirrorConfig c = ParseMm2Properties(std::string(kAb) +
                                          // consumer: flow < cluster < flow's source.consumer
                                          "A->B.consumer.fetch.min.bytes = 1\n"
                                          "A.consumer.fetch.min.bytes = 2\n"
                                          "A->B.consumer.fetch.wait.max.ms = 3\n"
                                          "A->B.source.consumer.fetch.wait.max.ms = 4\n"
                                          "A.consumer.fetch.wait.max.ms = 5\n"
                                          "A->B.consumer.check.crcs = true\n"
                                          // producer: cluster < flow's producer.override
                                          "B.producer.linger.ms = 10\n"
                                          "A->B.producer.override.linger.ms = 20\n"
                                          // admin: flow < cluster < flow's source/target.admin
                                          "A->B.admin.request.timeout.ms = 100\n"
                                          "B.admin.request.timeout.ms = 200\n"
                                          "A->B.source.admin.request.timeout.ms = 300\n",
                                      "mm2.properties");
  const FlowConfig& ab = FlowNamed(c, "A->B");
  EXPECT_EQ(ab.consumer,
            (common::KafkaProperties{
                {"fetch.min.bytes", "2"}, {"fetch.wait.max.ms", "4"}, {"check.crcs", "true"}}));
  EXPECT_EQ(ab.producer, (common::KafkaProperties{{"linger.ms", "20"}}));
  EXPECT_EQ(ab.source_admin, (common::KafkaProperties{{"request.timeout.ms", "300"}}));
  EXPECT_EQ(ab.target_admin, (common::KafkaProperties{{"request.timeout.ms", "200"}}));
  EXPECT_TRUE(FlowNamed(c, "B->A").consumer.empty());
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(Mm2ClientOverrides, FormsThatCannotApplyAreListedWithTheReason) {
  MirrorConfig c = ParseMm2Properties(
      "clusters = A, B, C\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
      "C.bootstrap.servers = c:1\nA->B.enabled = true\n"
      "A.consumer.max.poll.records = 500\n"
      "A->B.producer.acks = all\n"
      "C.consumer.fetch.min.bytes = 1\n"
      "A->C.consumer.fetch.min.bytes = 1\n",
      "mm2.properties");
  ASSERT_EQ(c.warnings.size(), 1u);
  const std::string& w = c.warnings[0];
  EXPECT_NE(w.find("4 keys not applied"), std::string::npos) << w;
  EXPECT_NE(w.find("  - A.consumer.max.poll.records: not a librdkafka property"), std::string::npos)
      << w;
  EXPECT_NE(w.find("  - A->B.producer.acks: MM2's offset-syncs producer; records are written with "
                   "B.producer.* and A->B.producer.override.*"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("  - A->C.consumer.fetch.min.bytes, C.consumer.fetch.min.bytes: no enabled flow "
                   "uses it"),
            std::string::npos)
      << w;
  EXPECT_TRUE(FlowNamed(c, "A->B").consumer.empty());
}

TEST(Mm2ClientOverrides, AliasesThatPrefixOtherAliasesAreToldApart) {
  MirrorConfig c = ParseMm2Properties(
      "clusters = us, us-east\nus.bootstrap.servers = a:1\nus-east.bootstrap.servers = b:1\n"
      "us->us-east.enabled = true\nus-east->us.enabled = true\n"
      "us-east.consumer.fetch.min.bytes = 9\nus->us-east.source.consumer.fetch.min.bytes = 8\n",
      "mm2.properties");
  EXPECT_EQ(FlowNamed(c, "us-east->us").consumer.at("fetch.min.bytes"), "9");
  EXPECT_EQ(FlowNamed(c, "us->us-east").consumer.at("fetch.min.bytes"), "8");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

}  // namespace
}  // namespace rm::replication
