// mm2.properties: MirrorMaker 2's defaults for offsets, groups, heartbeats and topic creation,
// their per-flow overrides, and the one start-up block that names every key not applied with
// its reason.
#include <gtest/gtest.h>

#include <string>

#include "common/result.h"
#include "replication/config.h"
#include "replication/config_report.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"

namespace rm::replication {
namespace {

const char* kAB =
    "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
    "A->B.enabled = true\n";

const FlowConfig& Flow(const MirrorConfig& c, const std::string& name) {
  for (const auto& f : c.flows) {
    if (f.name() == name) return f;
  }
  throw std::runtime_error("no flow " + name);
}

std::string ErrorOf(const std::string& text) {
  try {
    ParseMm2Properties(text, "mm2.properties");
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Mm2Defaults, APropertiesFileGetsMirrorMakersOffsetsAndGroupDefaults) {
  MirrorConfig c = ParseMm2Properties(kAB, "mm2.properties");
  EXPECT_EQ(c.offsets.dir, kMm2DefaultOffsetsDir);
  const FlowConfig& f = Flow(c, "A->B");
  const OffsetsSettings o = c.OffsetsFor(f);
  EXPECT_TRUE(o.emit_checkpoints);
  EXPECT_TRUE(o.emit_syncs);
  EXPECT_FALSE(o.sync_group_offsets);
  EXPECT_EQ(o.group_interval_ms, 60000);
  EXPECT_EQ(o.refresh_groups_interval_ms, 600000);
  EXPECT_EQ(f.groups, std::vector<std::string>{".*"});
  EXPECT_EQ(f.groups_exclude,
            (std::vector<std::string>{"console-consumer-.*", "connect-.*", "__.*"}));
  EXPECT_TRUE(f.sync_topic_configs);
  EXPECT_EQ(f.replication_factor, -1);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
  const std::string defaulted = [&] {
    std::string s;
    for (const auto& d : c.defaulted) s += d + "\n";
    return s;
  }();
  EXPECT_NE(defaulted.find("regionmirror.offsets.dir = /var/lib/regionmirror/mm2-offsets"),
            std::string::npos)
      << defaulted;
  EXPECT_NE(defaulted.find("emit.checkpoints.interval.seconds = 60"), std::string::npos);
  EXPECT_NE(defaulted.find("emit.heartbeats.enabled = true"), std::string::npos);
}

TEST(Mm2Defaults, OurKeySetsTheOffsetsDirectory) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) + "regionmirror.offsets.dir = /srv/rm\n",
                                      "mm2.properties");
  EXPECT_EQ(c.offsets.dir, "/srv/rm");
  for (const auto& d : c.defaulted)
    EXPECT_EQ(d.find("regionmirror.offsets.dir"), std::string::npos);
}

TEST(Mm2Defaults, FlowSettingsOverrideTopLevelOnes) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "B->A.enabled = true\n"
                                          "emit.checkpoints.interval.seconds = 10\n"
                                          "sync.group.offsets.enabled = true\n"
                                          "sync.group.offsets.interval.seconds = 4\n"
                                          "B->A.emit.checkpoints.enabled = false\n"
                                          "B->A.sync.group.offsets.enabled = false\n"
                                          "A->B.refresh.groups.interval.seconds = 30\n"
                                          "B->A.refresh.groups.enabled = false\n"
                                          "replication.factor = 3\n"
                                          "B->A.replication.factor = 2\n"
                                          "A->B.sync.topic.configs.enabled = false\n",
                                      "mm2.properties");
  const OffsetsSettings ab = c.OffsetsFor(Flow(c, "A->B"));
  const OffsetsSettings ba = c.OffsetsFor(Flow(c, "B->A"));
  EXPECT_TRUE(ab.emit_checkpoints);
  EXPECT_TRUE(ab.sync_group_offsets);
  EXPECT_EQ(ab.group_interval_ms, 4000);  // the shorter of checkpoints (10 s) and sync (4 s)
  EXPECT_EQ(ab.refresh_groups_interval_ms, 30000);
  EXPECT_FALSE(ba.emit_checkpoints);
  EXPECT_FALSE(ba.sync_group_offsets);
  EXPECT_EQ(ba.group_interval_ms, 10000);
  EXPECT_GT(ba.refresh_groups_interval_ms, int64_t{1} << 40);  // listed once
  EXPECT_EQ(Flow(c, "A->B").replication_factor, 3);
  EXPECT_EQ(Flow(c, "B->A").replication_factor, 2);
  EXPECT_FALSE(Flow(c, "A->B").sync_topic_configs);
  EXPECT_TRUE(Flow(c, "B->A").sync_topic_configs);
}

TEST(Mm2Defaults, BadValuesAreErrorsNamingTheKey) {
  const std::string err = ErrorOf(std::string(kAB) +
                                  "emit.checkpoints.enabled = yes\n"
                                  "A->B.emit.checkpoints.interval.seconds = soon\n"
                                  "replication.factor = 0\n");
  EXPECT_NE(err.find("emit.checkpoints.enabled: 'yes' is not true or false"), std::string::npos)
      << err;
  EXPECT_NE(err.find("A->B.emit.checkpoints.interval.seconds: 'soon' is not a whole number"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("replication.factor: '0' is not a whole number >= 1"), std::string::npos)
      << err;
}

TEST(Mm2Defaults, OffsetSyncsOnTheTargetAreAcceptedOnTheSourceExplained) {
  EXPECT_NO_THROW(
      ParseMm2Properties(std::string(kAB) + "offset-syncs.topic.location = target\n", "m"));
  const std::string err = ErrorOf(std::string(kAB) + "offset-syncs.topic.location = source\n");
  EXPECT_NE(err.find("offset-syncs.topic.location: 'source' is not supported: regionmirror keeps "
                     "offset syncs on the target (mm2-offset-syncs.A.internal)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("source region is down"), std::string::npos) << err;
}

TEST(Mm2Defaults, HeartbeatsFollowMirrorMakersRuleForEveryPairOfClusters) {
  // A->B only: MM2 still emits B->A heartbeats (into A), so that B sees A.heartbeats.
  MirrorConfig c = ParseMm2Properties(std::string(kAB) + "emit.heartbeats.interval.seconds = 5\n",
                                      "mm2.properties");
  ASSERT_EQ(c.heartbeats.size(), 2u);
  EXPECT_EQ(c.heartbeats[0].source, "A");
  EXPECT_EQ(c.heartbeats[0].target, "B");
  EXPECT_EQ(c.heartbeats[0].interval_ms, 5000);
  EXPECT_EQ(c.heartbeats[1].source, "B");
  EXPECT_EQ(c.heartbeats[1].target, "A");
  EXPECT_TRUE(Flow(c, "A->B").replicate_heartbeats);

  c = ParseMm2Properties(std::string(kAB) + "B->A.emit.heartbeats.enabled = false\n", "m");
  ASSERT_EQ(c.heartbeats.size(), 1u);
  EXPECT_EQ(c.heartbeats[0].target, "B");
  c = ParseMm2Properties(std::string(kAB) + "emit.heartbeats.enabled = false\n", "m");
  EXPECT_TRUE(c.heartbeats.empty());
}

TEST(Mm2Defaults, HeartbeatTopicsPassEveryFilterButNeverGoBack) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "B->A.enabled = true\n"
                                          "topics = orders\ntopics.exclude = .*beats\n",
                                      "m");
  const FlowConfig& ab = Flow(c, "A->B");
  const FlowConfig& ba = Flow(c, "B->A");
  auto policy = MakeReplicationPolicy(ab.policy, ab.separator);
  TopicFilter to_b(ab, *policy), to_a(ba, *policy);
  EXPECT_TRUE(to_b.ShouldReplicate("heartbeats"));
  EXPECT_TRUE(to_b.ShouldReplicate("C.heartbeats"));   // multi-hop, as MM2
  EXPECT_FALSE(to_b.ShouldReplicate("B.heartbeats"));  // came from B: a cycle
  EXPECT_FALSE(to_a.ShouldReplicate("A.heartbeats"));
  EXPECT_FALSE(to_b.ShouldReplicate("payments"));
  EXPECT_EQ(policy->FormatRemoteTopic("A", "heartbeats"), "A.heartbeats");
}

TEST(Mm2Defaults, TheIdentityPolicyStillPrefixesHeartbeatTopicsAsMirrorMakerDoes) {
  auto identity = MakeReplicationPolicy(PolicyKind::kIdentity, "");
  EXPECT_EQ(identity->FormatRemoteTopic("A", "orders"), "orders");
  EXPECT_EQ(identity->FormatRemoteTopic("A", "heartbeats"), "A.heartbeats");
  EXPECT_EQ(identity->FormatRemoteTopic("B", "A.heartbeats"), "B.A.heartbeats");
  EXPECT_TRUE(IsHeartbeatsTopic(*identity, "B.A.heartbeats"));
  EXPECT_TRUE(IsCycle(*identity, "A.heartbeats", "A"));
  EXPECT_FALSE(IsCycle(*identity, "orders", "A"));
  EXPECT_FALSE(IsHeartbeatsTopic(*identity, "orders"));
}

TEST(Mm2Defaults, KeysNotAppliedAreOneBlockGroupedByReason) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "tasks.max = 4\n"
                                          "A->B.tasks.max = 2\n"
                                          "offset.lag.max = 100\n"
                                          "A.offset.storage.replication.factor = 1\n"
                                          "config.storage.replication.factor = 1\n"
                                          "sync.topic.acls.enabled = false\n"
                                          "A.ssl.enabled.protocols = TLSv1.2\n"
                                          "linger.ms = 5\n"
                                          "no.such.key = 1\n",
                                      "mm2.properties");
  ASSERT_EQ(c.warnings.size(), 1u);
  const std::string& w = c.warnings[0];
  EXPECT_EQ(w.rfind("mm2.properties: 8 keys not applied:\n", 0), 0u) << w;
  EXPECT_NE(w.find("  - A->B.tasks.max, tasks.max: one process runs every flow"), std::string::npos)
      << w;
  EXPECT_NE(w.find("  - offset.lag.max: exact translation"), std::string::npos) << w;
  EXPECT_NE(w.find("A.offset.storage.replication.factor, config.storage.replication.factor: "
                   "Kafka Connect's own internal topics"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("A.ssl.enabled.protocols: Java TLS engine setting"), std::string::npos) << w;
  EXPECT_NE(w.find("linger.ms: MM2 applies top-level client settings only for"), std::string::npos)
      << w;
  EXPECT_NE(w.find("no.such.key: not a MirrorMaker 2 setting"), std::string::npos) << w;
  EXPECT_EQ(w.find("sync.topic.acls"), std::string::npos) << w;  // false is what we do anyway
}

TEST(Mm2Defaults, ConsumerSettingsTheMirrorSetsItselfAreReportedNotDropped) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "A.consumer.auto.offset.reset = latest\n"
                                          "A.consumer.isolation.level = read_committed\n"
                                          "B.producer.acks = 1\n",
                                      "mm2.properties");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("A.consumer.auto.offset.reset: a flow starts after the last copy"),
            std::string::npos)
      << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("B.producer.acks: set by regionmirror"), std::string::npos);
  EXPECT_EQ(Flow(c, "A->B").consumer.at("isolation.level"), "read_committed");
}

TEST(Mm2Defaults, TopLevelSecuritySettingsApplyToEveryClusterWithoutItsOwn) {
  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "security.protocol = SASL_SSL\n"
                                          "B.security.protocol = SSL\n"
                                          "sasl.mechanism = SCRAM-SHA-256\n",
                                      "mm2.properties");
  EXPECT_EQ(c.clusters[0].properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c.clusters[1].properties.at("security.protocol"), "SSL");
  EXPECT_EQ(c.clusters[1].properties.at("sasl.mechanism"), "SCRAM-SHA-256");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(Mm2Defaults, TopicConfigSyncKeysApplyPerFlowWithMirrorMakersDefaults) {
  MirrorConfig d = ParseMm2Properties(kAB, "m");
  EXPECT_EQ(Flow(d, "A->B").sync_topic_configs_interval_ms, 600'000);
  EXPECT_EQ(Flow(d, "A->B").config_properties_exclude,
            FlowConfig::DefaultConfigPropertiesExclude());
  EXPECT_TRUE(d.warnings.empty()) << d.warnings[0];

  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "sync.topic.configs.interval.seconds = 30\n"
                                          "A->B.config.properties.exclude = retention\\\\..*, "
                                          "min\\\\.insync\\\\.replicas\n",
                                      "m");
  const FlowConfig& f = Flow(c, "A->B");
  EXPECT_EQ(f.sync_topic_configs_interval_ms, 30'000);
  EXPECT_EQ(f.config_properties_exclude,
            (std::vector<std::string>{"retention\\..*", "min\\.insync\\.replicas"}));
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
  // The name before Kafka 2.7 still works.
  MirrorConfig old =
      ParseMm2Properties(std::string(kAB) + "config.properties.blacklist = segment\\\\..*\n", "m");
  EXPECT_EQ(Flow(old, "A->B").config_properties_exclude, std::vector<std::string>{"segment\\..*"});
  EXPECT_NE(ErrorOf(std::string(kAB) + "sync.topic.configs.interval.seconds = 0\n"), "");
  EXPECT_NE(ErrorOf(std::string(kAB) + "config.properties.exclude = (\n"), "");
}

TEST(Mm2Defaults, InternalTopicReplicationFactorsApplyToTheTopicsWeCreate) {
  MirrorConfig d = ParseMm2Properties(kAB, "m");
  EXPECT_EQ(Flow(d, "A->B").offset_syncs_replication_factor, -1);
  EXPECT_EQ(Flow(d, "A->B").checkpoints_replication_factor, -1);
  ASSERT_FALSE(d.heartbeats.empty());
  EXPECT_EQ(d.heartbeats[0].replication_factor, -1);
  bool reported = false;
  for (const auto& line : d.defaulted) {
    reported |= line.find("checkpoints.topic.replication.factor") != std::string::npos &&
                line.find("MM2 would use 3") != std::string::npos;
  }
  EXPECT_TRUE(reported);

  MirrorConfig c = ParseMm2Properties(std::string(kAB) +
                                          "offset-syncs.topic.replication.factor = 2\n"
                                          "A->B.checkpoints.topic.replication.factor = 3\n"
                                          "heartbeats.topic.replication.factor = 1\n"
                                          "B->A.heartbeats.topic.replication.factor = -1\n"
                                          "config.storage.replication.factor = 3\n",
                                      "m");
  const FlowConfig& f = Flow(c, "A->B");
  EXPECT_EQ(f.offset_syncs_replication_factor, 2);
  EXPECT_EQ(f.checkpoints_replication_factor, 3);
  for (const auto& hb : c.heartbeats) {
    EXPECT_EQ(hb.replication_factor, hb.source == "A" ? 1 : -1) << hb.source << "->" << hb.target;
  }
  // Connect's own internal topics are named in the warning, with the reason.
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("config.storage.replication.factor: Kafka Connect's own internal "
                               "topics"),
            std::string::npos)
      << c.warnings[0];
  EXPECT_EQ(c.warnings[0].find("offset-syncs.topic"), std::string::npos) << c.warnings[0];
  EXPECT_NE(ErrorOf(std::string(kAB) + "checkpoints.topic.replication.factor = 0\n"), "");
}

TEST(Mm2Defaults, YamlTakesTheSameTopicConfigAndReplicationSettings) {
  MirrorConfig c = ParseMirrorConfigYaml(
      "clusters:\n  - {alias: a, bootstrap_servers: 'x:1'}\n  - {alias: b, bootstrap_servers: "
      "'y:1'}\nflows:\n  - {source: a, target: b, sync_topic_configs_interval_ms: 5000, "
      "config_properties_exclude: ['retention\\..*'], offset_syncs_replication_factor: 2, "
      "checkpoints_replication_factor: 3}\nheartbeats: {enabled: true, replication_factor: 2}\n",
      "m.yaml");
  EXPECT_EQ(c.flows[0].sync_topic_configs_interval_ms, 5000);
  EXPECT_EQ(c.flows[0].config_properties_exclude, std::vector<std::string>{"retention\\..*"});
  EXPECT_EQ(c.flows[0].offset_syncs_replication_factor, 2);
  EXPECT_EQ(c.flows[0].checkpoints_replication_factor, 3);
  EXPECT_EQ(c.heartbeats[0].replication_factor, 2);
}

TEST(Mm2Defaults, YamlHeartbeatsAreOffUnlessAskedFor) {
  const std::string base =
      "clusters:\n  - {alias: a, bootstrap_servers: 'x:1'}\n  - {alias: b, bootstrap_servers: "
      "'y:1'}\nflows:\n  - {source: a, target: b}\n";
  MirrorConfig off = ParseMirrorConfigYaml(base, "m.yaml");
  EXPECT_TRUE(off.heartbeats.empty());
  EXPECT_FALSE(off.flows[0].replicate_heartbeats);
  MirrorConfig on =
      ParseMirrorConfigYaml(base + "heartbeats: {enabled: true, interval_ms: 500}\n", "m.yaml");
  ASSERT_EQ(on.heartbeats.size(), 2u);
  EXPECT_EQ(on.heartbeats[0].interval_ms, 500);
  EXPECT_TRUE(on.flows[0].replicate_heartbeats);
}

TEST(Mm2Defaults, TheCheckReportSaysWhatRunsWhatIsDefaultedAndWhatIsNotApplied) {
  MirrorConfig c =
      ParseMm2Properties(std::string(kAB) + "tasks.max = 4\ngroups = app-.*\n", "mm2.properties");
  const std::string r = DescribeMirrorConfig(c, "mm2.properties");
  for (const char* expected :
       {"mm2.properties: OK (2 clusters, 1 flows)", "  A: a:1", "  A->B\n",
        "    topics: .*; excluded: __.*", "heartbeat topics always", "remote topics: A.<topic>",
        "groups: app-.*; excluded: console-consumer-.*, connect-.*, __.*",
        "group positions translated every 60 s, checkpoints into A.checkpoints.internal on B",
        "offsets: /var/lib/regionmirror/mm2-offsets", "heartbeats: A->B every 1 s, B->A every 1 s",
        "defaulted (not set in the file):", "  emit.checkpoints.enabled = true",
        "not applied: mm2.properties: 1 key not applied:", "tasks.max: one process"}) {
    EXPECT_NE(r.find(expected), std::string::npos) << expected << "\n---\n" << r;
  }
}

}  // namespace
}  // namespace rm::replication
