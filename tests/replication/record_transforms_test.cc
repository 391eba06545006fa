// A mirror flow's record transforms: Filter with Connect's predicates (topic, header,
// tombstone), InsertHeader and DropHeaders as header edits, and the loader refusing the
// transforms that would need the value decoded or would rename remote topics, naming flow and
// transform.
#include "replication/record_transforms.h"

#include <gtest/gtest.h>

#include <set>

#include "common/result.h"
#include "replication/config.h"
#include "replication/config_report.h"

namespace rm::replication {
namespace {

const char* kClusters = R"(
clusters:
  - {alias: us-east, bootstrap_servers: "a:9092"}
  - {alias: eu-west, bootstrap_servers: "b:9092"}
flows:
  - source: us-east
    target: eu-west
)";

MirrorConfig Load(const std::string& transforms) {
  return ParseMirrorConfigYaml(std::string(kClusters) + "    transforms:\n" + transforms, "m.yaml");
}

std::string ErrorOf(const std::string& transforms) {
  try {
    Load(transforms);
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

RecordTransforms::HeaderLookup Headers(std::set<std::string> names) {
  return [names = std::move(names)](std::string_view n) { return names.count(std::string(n)) > 0; };
}

TEST(RecordTransforms, AFilterDropsWhatItsPredicateMatchesOnTopicHeaderOrTombstone) {
  MirrorConfig c = Load(R"y(
      - {name: no-debug, type: Filter, predicate: {header: debug}}
      - {name: no-tmp-tombstones, type: org.apache.kafka.connect.transforms.Filter,
         predicate: {topic: "tmp\\..*", tombstone: true}}
      - {name: only-orders, type: Filter, predicate: {topic: "orders|tmp\\..*"}, negate: true}
)y");
  const RecordTransforms& t = c.flows[0].transforms;
  ASSERT_EQ(t.steps().size(), 3u);
  EXPECT_EQ(t.Apply("orders", "us-east.orders", false, Headers({"debug"})).dropped_by, "no-debug");
  EXPECT_TRUE(t.Apply("orders", "us-east.orders", false, Headers({"trace"})).empty());
  EXPECT_EQ(t.Apply("tmp.x", "us-east.tmp.x", true, Headers({})).dropped_by, "no-tmp-tombstones");
  EXPECT_TRUE(t.Apply("tmp.x", "us-east.tmp.x", false, Headers({})).empty());
  EXPECT_EQ(t.Apply("payments", "us-east.payments", false, Headers({})).dropped_by, "only-orders");
}

TEST(RecordTransforms, HeaderEditsRunInOrderAndLaterPredicatesSeeThem) {
  MirrorConfig c = Load(R"y(
      - {name: origin, type: InsertHeader, header: origin, value.literal: us-east}
      - {name: strip, type: DropHeaders, headers: "trace-id, baggage", predicate: {topic: "orders"}}
      - {name: mark, type: InsertHeader, header: stripped, value.literal: "yes",
         predicate: {header: trace-id}, negate: true}
      - {name: no-origin-twice, type: DropHeaders, headers: [old-origin]}
)y");
  const RecordTransforms& t = c.flows[0].transforms;
  auto r = t.Apply("orders", "us-east.orders", false, Headers({"trace-id"}));
  EXPECT_FALSE(r.dropped_by);
  EXPECT_EQ(r.remove, (std::vector<std::string>{"trace-id", "baggage", "old-origin"}));
  EXPECT_EQ(r.add, (std::vector<std::pair<std::string, std::string>>{{"origin", "us-east"},
                                                                     {"stripped", "yes"}}));
  // Another topic keeps trace-id, so "mark" does not apply.
  auto other = t.Apply("payments", "us-east.payments", false, Headers({"trace-id"}));
  EXPECT_EQ(other.remove, (std::vector<std::string>{"old-origin"}));
  EXPECT_EQ(other.add, (std::vector<std::pair<std::string, std::string>>{{"origin", "us-east"}}));

  // Dropping a header an earlier step inserted removes the insert too.
  MirrorConfig undo = Load(R"y(
      - {name: add, type: InsertHeader, header: h, value.literal: v}
      - {name: drop, type: DropHeaders, headers: [h]}
      - {name: seen, type: Filter, predicate: {header: h}}
)y");
  auto u = undo.flows[0].transforms.Apply("t", "us-east.t", false, Headers({}));
  EXPECT_FALSE(u.dropped_by);
  EXPECT_TRUE(u.add.empty());
  EXPECT_EQ(u.remove, (std::vector<std::string>{"h"}));
}

TEST(RecordTransforms, ValueTransformsAndRoutingAreRefusedNamingFlowAndTransform) {
  std::string e = ErrorOf(R"y(
      - {name: unwrap, type: ExtractNewRecordState}
      - {name: pii, type: ReplaceField$Value, exclude: [a]}
      - {name: route, type: RegexRouter, regex: "(.*)", replacement: "x.$1"}
      - {name: provenance, type: DropHeaders, headers: [rmp]}
      - {name: by-op, type: Filter, predicate: {op: [d]}}
      - {name: nothing, type: Filter}
      - {name: what, type: Frobnicate}
      - {name: what, type: InsertHeader, value.literal: x}
)y");
  for (const char* part :
       {"flows[0].transforms[0].type (ExtractNewRecordState 'unwrap') of flow "
        "us-east->eu-west: not available on a mirror flow: it reshapes the record's value",
        "flows[0].transforms[1].type (ReplaceField$Value 'pii') of flow us-east->eu-west: "
        "not available on a mirror flow",
        "flows[0].transforms[2].type (RegexRouter 'route') of flow us-east->eu-west: not "
        "available on a mirror flow: remote topic names come from the flow's replication "
        "policy",
        "flows[0].transforms[3].headers (DropHeaders 'provenance') of flow us-east->eu-west: "
        "'rmp' is the mirror's provenance header",
        "flows[0].transforms[4].predicate.op (Filter 'by-op') of flow us-east->eu-west: not "
        "available on a mirror flow: it needs the value decoded",
        "flows[0].transforms[5].predicate (Filter 'nothing') of flow us-east->eu-west: "
        "required",
        "flows[0].transforms[6].type (Frobnicate 'what') of flow us-east->eu-west: unknown "
        "transform 'Frobnicate'",
        "flows[0].transforms[7].name (InsertHeader 'what') of flow us-east->eu-west: used by "
        "an earlier transform",
        "flows[0].transforms[7].header (InsertHeader 'what') of flow us-east->eu-west: "
        "required"}) {
    EXPECT_NE(e.find(part), std::string::npos) << part << "\nin:\n" << e;
  }
  EXPECT_NE(e.find("m.yaml"), std::string::npos) << e;
}

TEST(RecordTransforms, ARemoteTopicConditionMatchesTheNameTheCopyIsWrittenTo) {
  MirrorConfig c = Load(R"y(
      - {name: only-remote-orders, type: Filter, predicate: {remote_topic: "us-east\\.orders"},
         negate: true}
)y");
  const RecordTransforms& t = c.flows[0].transforms;
  EXPECT_TRUE(t.Apply("orders", "us-east.orders", false, Headers({})).empty());
  EXPECT_EQ(t.Apply("orders", "orders", false, Headers({})).dropped_by, "only-remote-orders");
  EXPECT_NE(ErrorOf("      - {name: r, type: Filter, predicate: {remote_topic: \"(\"}}\n")
                .find("flows[0].transforms[0].predicate.remote_topic (Filter 'r') of flow "
                      "us-east->eu-west: bad regex '('"),
            std::string::npos);
}

TEST(RecordTransforms, AFlowWithoutTransformsHasNone) {
  MirrorConfig c = ParseMirrorConfigYaml(kClusters, "m.yaml");
  EXPECT_TRUE(c.flows[0].transforms.empty());
  EXPECT_NE(DescribeMirrorConfig(c, "m.yaml")
                .find("    transforms: none (records are copied as "
                      "read)\n"),
            std::string::npos);
}

TEST(RecordTransforms, TheCheckReportListsEachFlowsTransformsInOrderWithTheirSettings) {
  MirrorConfig c = Load(R"y(
      - {name: no-debug, type: Filter, predicate: {header: debug}}
      - {name: no-tmp-tombstones, type: Filter, predicate: {topic: "tmp\\..*", tombstone: true}}
      - {name: origin, type: InsertHeader, header: origin, value.literal: us-east}
      - {name: strip, type: DropHeaders, headers: "trace-id, baggage",
         predicate: {remote_topic: "us-east\\.public\\..*"}, negate: true}
      - {name: one, type: DropHeaders, headers: [x], predicate: {tombstone: false}}
)y");
  const std::string r = DescribeMirrorConfig(c, "m.yaml");
  EXPECT_NE(r.find("  us-east->eu-west\n"), std::string::npos) << r;
  EXPECT_NE(
      r.find("    transforms, in order:\n"
             "      1. no-debug: Filter: drop the record, when it has a header debug\n"
             "      2. no-tmp-tombstones: Filter: drop the record, when the source topic matches "
             "'tmp\\..*' and it is a tombstone\n"
             "      3. origin: InsertHeader: add header origin = \"us-east\"\n"
             "      4. strip: DropHeaders: remove headers trace-id, baggage, unless the remote "
             "topic matches 'us-east\\.public\\..*'\n"
             "      5. one: DropHeaders: remove header x, when it is no tombstone\n"),
      std::string::npos)
      << r;
}

}  // namespace
}  // namespace rm::replication
