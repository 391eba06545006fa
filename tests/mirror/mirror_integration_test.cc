// The mirror against a two-region testbed, checked with kafka-python and by comparing every
// record of the source with its copy.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "replication/provenance.h"
#include "testbed/control_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

class MirrorIntegration : public TestbedTest {
 protected:
  MirrorSpec Spec(std::vector<FlowSpec> flows) {
    MirrorSpec s;
    s.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
    s.flows = std::move(flows);
    return s;
  }
  static void ExpectExact(const CopyCheck& c, size_t expected) {
    EXPECT_EQ(c.source_records, expected);
    EXPECT_EQ(c.target_copies, expected);
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.duplicated, 0u);
    EXPECT_EQ(c.misplaced, 0u);
    EXPECT_EQ(c.mismatched, 0u);
    EXPECT_TRUE(c.first_problem.empty()) << c.first_problem;
  }
};

TEST_F(MirrorIntegration, CopiesHundredThousandRecordsExactlyAsAThirdPartyClientSeesThem) {
  tb().CreateTopic("us-east", "orders", 6);
  tb().CreateTopic("eu-west", "us-east.orders", 6);
  auto records = MakeRecords(100000, 6, 24);
  for (size_t i = 0; i < records.size(); i += 997) records[i].key.reset();     // null keys
  for (size_t i = 5; i < records.size(); i += 1009) records[i].value.reset();  // tombstones
  records[3].headers.push_back({"null-header", std::nullopt});
  auto written = ProduceWithOurClient(Bootstrap("us-east"), "orders", records);

  MirrorProcess mirror(Spec({{"us-east", "eu-west", {"orders"}}}), tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", 100000, 120s), 100000)
      << mirror.Log();

  // kafka-python reads the copy: same partition, order, key, value, headers and timestamp.
  auto copies = ConsumeWithKafkaPython(Bootstrap("eu-west"), "us-east.orders", 100000);
  ASSERT_EQ(copies.size(), written.size());
  std::map<std::pair<int32_t, int64_t>, const Record*> by_pos;
  for (const auto& r : written) by_pos[{r.partition, r.offset}] = &r;
  size_t bad = 0;
  for (const auto& c : copies) {
    auto prov = ProvenanceOf(c);
    ASSERT_EQ(prov.size(), 1u);
    EXPECT_EQ(prov[0].cluster, "us-east");
    const Record* s = by_pos.at({prov[0].partition, prov[0].offset});
    // Same partition and, since nothing else writes there, the same offset.
    bool ok = c.partition == s->partition && c.offset == s->offset && c.key == s->key &&
              c.value == s->value && c.timestamp_ms == s->timestamp_ms &&
              c.headers.size() == s->headers.size() + 1;
    for (size_t h = 0; ok && h < s->headers.size(); ++h) {
      ok = c.headers[h].key == s->headers[h].key && c.headers[h].value == s->headers[h].value;
    }
    if (!ok && bad++ < 5) ADD_FAILURE() << "copy differs at target offset " << c.offset;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
}

TEST_F(MirrorIntegration, DiscoversNewTopicsHonoursDenyRegexAndStopsOnlyMismatchedTopics) {
  tb().CreateTopic("us-east", "t-first", 2);
  tb().CreateTopic("eu-west", "us-east.t-first", 2);
  tb().CreateTopic("us-east", "t-skip", 1);
  ProduceWithOurClient(Bootstrap("us-east"), "t-first", MakeRecords(100, 2));
  ProduceWithOurClient(Bootstrap("us-east"), "t-skip", MakeRecords(10, 1));
  FlowSpec flow{"us-east", "eu-west", {"t-.*"}, {"t-skip"}};
  MirrorProcess mirror(Spec({flow}), tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.t-first", 100, 60s), 100) << mirror.Log();

  // Created after start, no target topic: the testbed cannot create topics, so the mirror
  // relies on auto-creation (4 partitions): a 4-partition topic works, a 6-partition one is
  // stopped with a clear error while the others go on.
  tb().CreateTopic("us-east", "t-new", 4);
  tb().CreateTopic("us-east", "t-six", 6);
  ProduceWithOurClient(Bootstrap("us-east"), "t-new", MakeRecords(400, 4));
  ProduceWithOurClient(Bootstrap("us-east"), "t-six", MakeRecords(60, 6));
  ProduceWithOurClient(Bootstrap("us-east"), "t-first", MakeRecords(50, 2, 16, 1'800'000'000'000));
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.t-new", 400, 60s), 400) << mirror.Log();
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.t-first", 150, 60s), 150);
  ExpectExact(CheckExactCopy(Bootstrap("us-east"), "t-new", Bootstrap("eu-west"), "us-east.t-new",
                             "us-east"),
              400);
  std::string log = mirror.Log();
  EXPECT_NE(log.find("target topic us-east.t-six was auto-created with 4 partitions but source "
                     "topic t-six has 6"),
            std::string::npos)
      << log;
  // Denied: never created on the target.
  auto md = common::Consumer({{"bootstrap.servers", Bootstrap("eu-west")}}, nullptr, "md")
                .Metadata(std::nullopt, 5s);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->Find("us-east.t-skip"), nullptr);
  // Health names the stopped topic.
  auto health = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->first, 503);
  EXPECT_NE(health->second.find("t-six"), std::string::npos) << health->second;
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, IdentityPolicyKeepsTopicNames) {
  tb().CreateTopic("us-east", "same", 3);
  tb().CreateTopic("eu-west", "same", 3);
  ProduceWithOurClient(Bootstrap("us-east"), "same", MakeRecords(300, 3));
  MirrorProcess mirror(Spec({{"us-east", "eu-west", {"same"}, {}, "identity"}}), tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "same", 300, 60s), 300) << mirror.Log();
  ExpectExact(CheckExactCopy(Bootstrap("us-east"), "same", Bootstrap("eu-west"), "same", "us-east"),
              300);
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, ActiveActiveInBothDirectionsDoesNotLoop) {
  // Identity policy in both directions: only provenance headers can stop the loop.
  for (const std::string r : {"us-east", "eu-west"}) tb().CreateTopic(r, "shared", 3);
  // Default policy in both directions: remote topics are not mirrored back by name.
  tb().CreateTopic("us-east", "prefixed", 2);
  tb().CreateTopic("eu-west", "us-east.prefixed", 2);
  tb().CreateTopic("eu-west", "prefixed", 2);
  tb().CreateTopic("us-east", "eu-west.prefixed", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "shared", MakeRecords(500, 3));
  ProduceWithOurClient(Bootstrap("eu-west"), "shared", MakeRecords(700, 3, 16, 1'800'000'000'000));
  ProduceWithOurClient(Bootstrap("us-east"), "prefixed", MakeRecords(100, 2));
  ProduceWithOurClient(Bootstrap("eu-west"), "prefixed", MakeRecords(200, 2));
  MirrorSpec spec = Spec({{"us-east", "eu-west", {"shared"}, {}, "identity"},
                          {"eu-west", "us-east", {"shared"}, {}, "identity"},
                          {"us-east", "eu-west", {".*prefixed"}},
                          {"eu-west", "us-east", {".*prefixed"}}});
  // Two flows between the same clusters need distinct names: give the prefixed ones their own
  // mirror process (and consumer group) instead.
  MirrorSpec identity = spec;
  identity.flows.resize(2);
  MirrorSpec prefixed = spec;
  prefixed.flows.erase(prefixed.flows.begin(), prefixed.flows.begin() + 2);
  prefixed.extra_mirror_yaml = "  group_prefix: prefixed\n";
  MirrorProcess m1(identity, tmp_.path(), "identity");
  MirrorProcess m2(prefixed, tmp_.path(), "prefixed");
  EXPECT_EQ(WaitForTotal(Bootstrap("us-east"), "shared", 1200, 90s, 5s), 1200) << m1.Log();
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "shared", 1200, 90s, 0s), 1200) << m1.Log();
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.prefixed", 100, 60s), 100) << m2.Log();
  EXPECT_EQ(WaitForTotal(Bootstrap("us-east"), "eu-west.prefixed", 200, 60s), 200) << m2.Log();
  auto md = common::Consumer({{"bootstrap.servers", Bootstrap("us-east")}}, nullptr, "md")
                .Metadata(std::nullopt, 5s);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->Find("eu-west.us-east.prefixed"), nullptr);
  EXPECT_EQ(m1.Stop(), 0);
  EXPECT_EQ(m2.Stop(), 0);
  // Nothing kept circulating while we looked.
  EXPECT_EQ(TotalHighWatermark(Bootstrap("us-east"), "shared"), 1200);
  EXPECT_EQ(TotalHighWatermark(Bootstrap("eu-west"), "shared"), 1200);
}

TEST_F(MirrorIntegration, ADerivedTopicWithCopiedHeadersIsMirroredBack) {
  // An application in eu-west reads the copies of us-east's "orders" and writes "enriched"
  // records with their headers (as Kafka Streams does by default). They are new data: the
  // eu-west -> us-east flow must copy them, not take them for copies coming home.
  tb().CreateTopic("us-east", "orders", 2);
  tb().CreateTopic("eu-west", "us-east.orders", 2);
  tb().CreateTopic("eu-west", "orders-enriched", 2);
  tb().CreateTopic("us-east", "eu-west.orders-enriched", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "orders", MakeRecords(100, 2));
  MirrorProcess mirror(
      Spec({{"us-east", "eu-west", {"orders"}}, {"eu-west", "us-east", {"orders-enriched"}}}),
      tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", 100, 60s), 100) << mirror.Log();
  std::vector<Record> derived;
  for (const auto& c : ConsumeWithOurClient(Bootstrap("eu-west"), "us-east.orders", 100, 30s)) {
    ASSERT_EQ(ProvenanceOf(c).size(), 1u);
    derived.push_back({c.partition, -1, c.key, "enriched:" + c.value.value_or(""), c.headers, 0});
  }
  ASSERT_EQ(derived.size(), 100u);
  ProduceWithOurClient(Bootstrap("eu-west"), "orders-enriched", derived);
  EXPECT_EQ(WaitForTotal(Bootstrap("us-east"), "eu-west.orders-enriched", 100, 60s, 2s), 100)
      << mirror.Log();
  ExpectExact(CheckExactCopy(Bootstrap("eu-west"), "orders-enriched", Bootstrap("us-east"),
                             "eu-west.orders-enriched", "eu-west"),
              100);
  EXPECT_EQ(mirror.Stop(), 0);
  EXPECT_EQ(TotalHighWatermark(Bootstrap("us-east"), "orders"), 100);
}

TEST_F(MirrorIntegration, ForeignProvenanceHeadersInTheTargetDoNotMoveTheResumePosition) {
  // Identity policy: other producers may write into the target topic. One writes records whose
  // headers it copied from copies of another topic: they name our source cluster and these
  // partitions with a source offset far ahead. A restarted mirror must still resume after its
  // own last copy, not jump there.
  tb().CreateTopic("us-east", "events", 2);
  tb().CreateTopic("eu-west", "events", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "events", MakeRecords(300, 2));
  MirrorSpec spec = Spec({{"us-east", "eu-west", {"events"}, {}, "identity"}});
  {
    MirrorProcess mirror(spec, tmp_.path(), "first");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "events", 300, 60s), 300) << mirror.Log();
    EXPECT_EQ(mirror.Stop(), 0);
  }
  std::vector<Record> foreign;
  for (int i = 0; i < 20; ++i) {
    int32_t p = i % 2;
    foreign.push_back(
        {p,
         -1,
         "k",
         "foreign",
         {{replication::kProvenanceHeader,
           replication::EncodeProvenance({"us-east", "eu-west", "other", p, 1'000'000 + i})}},
         0});
  }
  ProduceWithOurClient(Bootstrap("eu-west"), "events", foreign);
  ProduceWithOurClient(Bootstrap("us-east"), "events", MakeRecords(200, 2, 16, 1'800'000'000'000));
  // A different consumer group: no committed offsets, so only the target's tail can tell.
  spec.extra_mirror_yaml = "  group_prefix: fresh-group\n";
  MirrorProcess mirror(spec, tmp_.path(), "second");
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "events", 520, 60s, 3s), 520) << mirror.Log();
  ExpectExact(
      CheckExactCopy(Bootstrap("us-east"), "events", Bootstrap("eu-west"), "events", "us-east"),
      500);
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, TargetBrokerDownForTenSecondsLosesNothing) {
  tb().CreateTopic("us-east", "flaky", 3);
  tb().CreateTopic("eu-west", "us-east.flaky", 3);
  for (int p = 0; p < 3; ++p) {
    ASSERT_TRUE(tb().testbed().SetPartitionLeader("eu-west", "us-east.flaky", p, 1).ok());
  }
  MirrorProcess mirror(Spec({{"us-east", "eu-west", {"flaky"}}}), tmp_.path());
  ProduceWithOurClient(Bootstrap("us-east"), "flaky", MakeRecords(3000, 3));
  ASSERT_GE(WaitForTotal(Bootstrap("eu-west"), "us-east.flaky", 1, 60s), 1) << mirror.Log();
  ASSERT_TRUE(tb().testbed().SetBrokerDown("eu-west", 1).ok());
  std::thread load([&] {
    ProduceWithOurClient(Bootstrap("us-east"), "flaky",
                         MakeRecords(6000, 3, 16, 1'800'000'000'000));
  });
  std::this_thread::sleep_for(10s);
  ASSERT_TRUE(tb().testbed().SetBrokerUp("eu-west", 1).ok());
  load.join();
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.flaky", 9000, 120s), 9000) << mirror.Log();
  ExpectExact(CheckExactCopy(Bootstrap("us-east"), "flaky", Bootstrap("eu-west"), "us-east.flaky",
                             "us-east"),
              9000);
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, HundredMillisecondTargetRttLosesNothing) {
  tb().CreateTopic("us-east", "far", 4);
  tb().CreateTopic("eu-west", "us-east.far", 4);
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(tb().testbed().SetBrokerRtt("eu-west", b, 100).ok());
  MirrorProcess mirror(Spec({{"us-east", "eu-west", {"far"}}}), tmp_.path());
  ProduceWithOurClient(Bootstrap("us-east"), "far", MakeRecords(20000, 4));
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.far", 20000, 120s), 20000) << mirror.Log();
  ExpectExact(
      CheckExactCopy(Bootstrap("us-east"), "far", Bootstrap("eu-west"), "us-east.far", "us-east"),
      20000);
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, RestartResumesFromTheTargetWithoutDuplicates) {
  tb().CreateTopic("us-east", "resume", 2);
  tb().CreateTopic("eu-west", "us-east.resume", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "resume", MakeRecords(1000, 2));
  {
    MirrorProcess mirror(Spec({{"us-east", "eu-west", {"resume"}}}), tmp_.path(), "first");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.resume", 1000, 60s), 1000);
    EXPECT_EQ(mirror.Stop(), 0);
  }
  ProduceWithOurClient(Bootstrap("us-east"), "resume", MakeRecords(500, 2, 16, 1'800'000'000'000));
  // A different consumer group: no committed offsets, so only the target's tail can tell.
  MirrorSpec spec = Spec({{"us-east", "eu-west", {"resume"}}});
  spec.extra_mirror_yaml = "  group_prefix: fresh-group\n";
  MirrorProcess mirror(spec, tmp_.path(), "second");
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.resume", 1500, 60s, 3s), 1500);
  ExpectExact(CheckExactCopy(Bootstrap("us-east"), "resume", Bootstrap("eu-west"), "us-east.resume",
                             "us-east"),
              1500);
  EXPECT_NE(mirror.Log().find("resumes at 500 (target tail)"), std::string::npos) << mirror.Log();
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, MetricsAndHealthAreServed) {
  tb().CreateTopic("us-east", "m", 1);
  tb().CreateTopic("eu-west", "us-east.m", 1);
  ProduceWithOurClient(Bootstrap("us-east"), "m", MakeRecords(50, 1));
  MirrorProcess mirror(Spec({{"us-east", "eu-west", {"m"}}}), tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.m", 50, 60s), 50);
  testbed::ControlClient admin(mirror.AdminAddress());
  auto health = admin.Request("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->first, 200) << health->second;
  auto metrics = admin.Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  const std::string& m = metrics->second;
  EXPECT_NE(m.find("rm_mirror_records_copied_total{flow=\"us-east->eu-west\",topic=\"m\"} 50"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("rm_mirror_replication_latency_seconds_count"), std::string::npos);
  EXPECT_NE(m.find("rm_mirror_rebalances_total"), std::string::npos);
  EXPECT_NE(m.find("rm_mirror_inflight_records"), std::string::npos);
  EXPECT_EQ(mirror.Stop(), 0);
}

TEST_F(MirrorIntegration, StopsCleanlyBeforeItWasEverAssignedPartitions) {
  // librdkafka < 2.3.0 aborts when a cooperative-sticky consumer that never got an assignment
  // is destroyed; on the testbed the first group join takes about 3 s, and stops between
  // 2.5 s and 5 s land while it is in progress (where the abort was seen).
  tb().CreateTopic("us-east", "early", 2);
  tb().CreateTopic("eu-west", "us-east.early", 2);
  for (int i = 0; i < 6; ++i) {
    MirrorProcess mirror(Spec({{"us-east", "eu-west", {"early"}}}), tmp_.path(),
                         fmt::format("early{}", i));
    std::this_thread::sleep_for(std::chrono::milliseconds(2500 + 400 * i));
    EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
  }
}

TEST_F(MirrorIntegration, BadConfigurationIsOneClearErrorAndExitOne) {
  WriteFile(tmp_ / "bad.yaml", "clusters: [{alias: a}]\nflows: [{source: a, target: b}]\n");
  auto res = RunCommand({RegionmirrorPath(), "run", "--config", (tmp_ / "bad.yaml").string()}, 30s);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("clusters[0].bootstrap_servers: required"), std::string::npos)
      << res.output;
  EXPECT_NE(res.output.find("flows[0].target: unknown cluster 'b'"), std::string::npos)
      << res.output;
  res = RunCommand({RegionmirrorPath(), "run", "--config", (tmp_ / "missing.yaml").string()}, 30s);
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("missing.yaml: cannot read file"), std::string::npos) << res.output;
}

}  // namespace
}  // namespace rm::testing
