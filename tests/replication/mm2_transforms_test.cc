// mm2.properties' Kafka Connect transforms: Filter with TopicNameMatches (on the remote topic, as
// MM2's records carry it), HasHeaderKey, RecordIsTombstone and negate, InsertHeader and
// DropHeaders map onto the flow's record transforms with Connect's semantics; every other
// transform or predicate, and every form Connect itself would refuse, is an error naming the key,
// the class and why; keys that have no effect in MM2 are named among the keys not applied, and so
// is a chain MM2 would also run on its heartbeats and checkpoints.
#include "replication/mm2_transforms.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/result.h"
#include "replication/config.h"
#include "replication/config_report.h"

namespace rm::replication {
namespace {

const char* kAB =
    "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
    "A->B.enabled = true\n";

MirrorConfig Load(const std::string& extra) {
  return ParseMm2Properties(std::string(kAB) + extra, "mm2.properties");
}

std::string ErrorOf(const std::string& extra) {
  try {
    Load(extra);
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string Warnings(const MirrorConfig& c) {
  std::string out;
  for (const auto& w : c.warnings) out += w + "\n";
  return out;
}

const RecordTransforms& FlowTransforms(const MirrorConfig& c) {
  for (const auto& f : c.flows) {
    if (f.name() == "A->B") return f.transforms;
  }
  throw std::runtime_error("no flow A->B");
}

RecordTransforms::HeaderLookup Headers(std::set<std::string> names) {
  return [names = std::move(names)](std::string_view n) { return names.count(std::string(n)) > 0; };
}

TEST(Mm2Transforms, FilterWithConnectsPredicatesMapsOntoTheFlowsChain) {
  MirrorConfig c = Load(
      "A->B.transforms = dropDebug, dropTmpTombstones, onlyOrders\n"
      "A->B.transforms.dropDebug.type = org.apache.kafka.connect.transforms.Filter\n"
      "A->B.transforms.dropDebug.predicate = hasDebug\n"
      "A->B.transforms.dropTmpTombstones.type = Filter\n"
      "A->B.transforms.dropTmpTombstones.predicate = isTombstone\n"
      "A->B.transforms.onlyOrders.type = org.apache.kafka.connect.transforms.Filter\n"
      "A->B.transforms.onlyOrders.predicate = isOrders\n"
      "A->B.transforms.onlyOrders.negate = TRUE\n"
      "A->B.predicates = hasDebug, isTombstone, isOrders\n"
      "A->B.predicates.hasDebug.type = "
      "org.apache.kafka.connect.transforms.predicates.HasHeaderKey\n"
      "A->B.predicates.hasDebug.name = debug\n"
      "A->B.predicates.isTombstone.type = RecordIsTombstone\n"
      "A->B.predicates.isOrders.type = "
      "org.apache.kafka.connect.transforms.predicates.TopicNameMatches\n"
      "A->B.predicates.isOrders.pattern = A\\\\.orders|A\\\\.tmp\\\\..*\n");
  const RecordTransforms& t = FlowTransforms(c);
  ASSERT_EQ(t.steps().size(), 3u);
  EXPECT_EQ(t.steps()[0].name, "dropDebug");
  EXPECT_EQ(t.steps()[2].name, "onlyOrders");
  EXPECT_EQ(t.Apply("orders", "A.orders", false, Headers({"debug"})).dropped_by, "dropDebug");
  EXPECT_TRUE(t.Apply("orders", "A.orders", false, Headers({"trace"})).empty());
  EXPECT_EQ(t.Apply("tmp.x", "A.tmp.x", true, Headers({})).dropped_by, "dropTmpTombstones");
  EXPECT_TRUE(t.Apply("tmp.x", "A.tmp.x", false, Headers({})).empty());
  // TopicNameMatches sees the remote topic, as in MM2: the source name does not match.
  EXPECT_EQ(t.Apply("payments", "A.payments", false, Headers({})).dropped_by, "onlyOrders");
  EXPECT_EQ(t.Apply("orders", "orders", false, Headers({})).dropped_by, "onlyOrders");
  // In MM2 the same chain drops the heartbeats and checkpoints it writes to B: said at load.
  const std::string w = Warnings(c);
  EXPECT_NE(w.find("drop its heartbeats (heartbeats on B; Filter 'onlyOrders'), and drop its "
                   "checkpoints (A.checkpoints.internal on B; Filter 'onlyOrders')"),
            std::string::npos)
      << w;
}

TEST(Mm2Transforms, InsertHeaderAndDropHeadersMapWithTheirSettingsInOrder) {
  MirrorConfig c = Load(
      "A->B.transforms = strip, origin, count\n"
      "A->B.transforms.origin.type = org.apache.kafka.connect.transforms.InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = us-east\n"
      "A->B.transforms.strip.type = org.apache.kafka.connect.transforms.DropHeaders\n"
      "A->B.transforms.strip.headers = trace-id , baggage\n"
      "A->B.transforms.count.type = InsertHeader\n"
      "A->B.transforms.count.header = hops\n"
      "A->B.transforms.count.value.literal = 1\n"
      "A->B.transforms.count.predicate = traced\n"
      "A->B.transforms.count.negate = false\n"
      "A->B.predicates = traced\n"
      "A->B.predicates.traced.type = HasHeaderKey\n"
      "A->B.predicates.traced.name = origin\n");
  const RecordTransforms& t = FlowTransforms(c);
  ASSERT_EQ(t.steps().size(), 3u);
  auto r = t.Apply("orders", "A.orders", false, Headers({"trace-id"}));
  EXPECT_FALSE(r.dropped_by);
  EXPECT_EQ(r.remove, (std::vector<std::string>{"trace-id", "baggage"}));
  // `count` sees the header `origin` inserted before it.
  EXPECT_EQ(r.add, (std::vector<std::pair<std::string, std::string>>{{"origin", "us-east"},
                                                                     {"hops", "1"}}));
}

TEST(Mm2Transforms, TopLevelListsApplyToEveryFlowTheirSettingsOnlyWithTheFlowPrefix) {
  // As MirrorMakerConfig.connectorBaseConfig: the `transforms` list reaches every flow's
  // connectors, a top-level transforms.<alias>.type does not.
  const std::string e = ErrorOf(
      "B->A.enabled = true\n"
      "transforms = origin\n"
      "transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = A\n");
  EXPECT_NE(e.find("mm2.properties: B->A.transforms.origin.type: required: transforms lists "
                   "transform 'origin' (MirrorMaker 2 reads a transform's settings with the flow "
                   "prefix only"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("A->B.transforms"), std::string::npos) << e;

  MirrorConfig c = Load(
      "emit.heartbeats.enabled = false\n"  // B->A runs nothing, so it reads no transforms
      "transforms = origin\n"
      "transforms.origin.header = ignored\n"
      "A->B.transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = A\n"
      "A->B.transforms.origin.predicate = copies\n"
      "A->B.predicates = copies\n"
      "A->B.predicates.copies.type = TopicNameMatches\n"
      "A->B.predicates.copies.pattern = A\\\\.orders\n");
  ASSERT_EQ(FlowTransforms(c).steps().size(), 1u);
  EXPECT_EQ(FlowTransforms(c).steps()[0].header, "origin");
  const std::string w = Warnings(c);
  EXPECT_NE(w.find("transforms.origin.header: MirrorMaker 2 passes only the transforms list from "
                   "the top level to its connectors"),
            std::string::npos)
      << w;
}

TEST(Mm2Transforms, EveryOtherTransformIsRefusedNamingTheKeyTheClassAndWhy) {
  const std::string e = ErrorOf(
      "A->B.transforms = unwrap, route, custom, dbz, p1, p2, p3, p4, p5, p6, p7, p8, p9\n"
      "A->B.transforms.unwrap.type = org.apache.kafka.connect.transforms.ReplaceField$Value\n"
      "A->B.transforms.unwrap.exclude = secret\n"
      "A->B.transforms.route.type = org.apache.kafka.connect.transforms.RegexRouter\n"
      "A->B.transforms.custom.type = com.example.MaskPii\n"
      "A->B.transforms.dbz.type = io.debezium.transforms.ExtractNewRecordState\n"
      "A->B.transforms.p1.type = Filter\n"
      "A->B.transforms.p2.type = Filter\n"
      "A->B.transforms.p2.negate = true\n"
      "A->B.transforms.p3.type = Filter\n"
      "A->B.transforms.p3.predicate = nope\n"
      "A->B.transforms.p4.type = Filter\n"
      "A->B.transforms.p4.predicate = script\n"
      "A->B.transforms.p5.type = DropHeaders\n"
      "A->B.transforms.p5.headers = rmp\n"
      "A->B.transforms.p6.type = InsertHeader\n"
      "A->B.transforms.p6.header = h\n"
      "A->B.transforms.p6.value.literal = 1.50\n"
      "A->B.transforms.p7.type = InsertHeader\n"
      "A->B.transforms.p7.header = h\n"
      "A->B.transforms.p7.value.literal = null\n"
      "A->B.transforms.p8.type = InsertHeader\n"
      "A->B.transforms.p8.header = h\n"
      "A->B.transforms.p8.value.literal = [1, 2]\n"
      "A->B.transforms.p9.type = DropHeaders\n"
      "A->B.predicates = script, badRegex\n"
      "A->B.predicates.script.type = com.example.JsPredicate\n"
      "A->B.predicates.badRegex.type = TopicNameMatches\n"
      "A->B.predicates.badRegex.pattern = (\n");
  for (const char* part : {
           "A->B.transforms.unwrap.type: org.apache.kafka.connect.transforms.ReplaceField$Value "
           "reads or rewrites the record's key or value, and regionmirror copies keys and values "
           "as bytes without ever decoding them",
           "A->B.transforms.route.type: org.apache.kafka.connect.transforms.RegexRouter renames "
           "the record's topic, and on a mirror flow remote topic names come from the "
           "replication policy",
           "A->B.transforms.custom.type: com.example.MaskPii is not a transform regionmirror can "
           "run: Java classes are not loaded",
           "A->B.transforms.dbz.type: io.debezium.transforms.ExtractNewRecordState reads or "
           "rewrites the record's key or value",
           "A->B.transforms.p1.predicate: required here: a Filter without a predicate drops "
           "every record",
           "A->B.transforms.p2.negate: given without A->B.transforms.p2.predicate",
           "A->B.transforms.p3.predicate: 'nope' is not a predicate of this flow "
           "(A->B.predicates lists badRegex, script)",
           "A->B.predicates.script.type: com.example.JsPredicate is not a predicate regionmirror "
           "can evaluate",
           "A->B.predicates.badRegex.pattern: bad regex '('",
           "A->B.transforms.p5.headers: 'rmp' is regionmirror's provenance header",
           "A->B.transforms.p6.value.literal: '1.50': Connect reads a literal that starts with a "
           "digit, '+' or '-' as a number",
           "A->B.transforms.p7.value.literal: 'null': Connect reads 'null' as a header with no "
           "value",
           "A->B.transforms.p8.value.literal: '[1, 2]': Connect reads a literal that starts with "
           "'[' or '{' as an array or map",
           "A->B.transforms.p9.headers: required",
       }) {
    EXPECT_NE(e.find(part), std::string::npos) << part << "\nin:\n" << e;
  }
  // The refused transform's own settings are not reported a second time.
  EXPECT_EQ(e.find("unwrap.exclude"), std::string::npos) << e;
  EXPECT_NE(e.find("15 problems in configuration"), std::string::npos) << e;
}

TEST(Mm2Transforms, LiteralsConnectReadsAsTheirOwnTextAreAccepted) {
  for (const char* literal : {"us-east", "42", "-7", "0", "true", "false", "a [b]", "x:1"}) {
    MirrorConfig c = Load(std::string("A->B.transforms = h\n"
                                      "A->B.transforms.h.type = InsertHeader\n"
                                      "A->B.transforms.h.header = h\n"
                                      "A->B.transforms.h.value.literal = ") +
                          literal + "\n");
    ASSERT_EQ(FlowTransforms(c).steps().size(), 1u) << literal;
    EXPECT_EQ(FlowTransforms(c).steps()[0].value, literal);
  }
  for (const char* literal : {"007", "-0", "+5", "2024-01-01", "{a: 1}"}) {
    EXPECT_NE(ErrorOf(std::string("A->B.transforms = h\n"
                                  "A->B.transforms.h.type = InsertHeader\n"
                                  "A->B.transforms.h.header = h\n"
                                  "A->B.transforms.h.value.literal = ") +
                      literal + "\n")
                  .find("A->B.transforms.h.value.literal: '"),
              std::string::npos)
        << literal;
  }
}

TEST(Mm2Transforms, SettingsWithoutEffectAreNamedAmongTheKeysNotApplied) {
  MirrorConfig c = Load(
      "A->B.transforms = origin\n"
      "A->B.transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = A\n"
      "A->B.transforms.origin.predicate = copies\n"
      "A->B.transforms.origin.value.type = string\n"
      "A->B.transforms.old.type = Filter\n"
      "A->B.predicates = copies\n"
      "A->B.predicates.copies.type = TopicNameMatches\n"
      "A->B.predicates.copies.pattern = A\\\\.orders\n");
  const std::string w = Warnings(c);
  EXPECT_NE(w.find("A->B.transforms.origin.value.type: not a setting of InsertHeader (Connect "
                   "ignores it too)"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("A->B.transforms.old.type: A->B.transforms does not list its alias, so "
                   "Connect does not read it"),
            std::string::npos)
      << w;
  EXPECT_EQ(w.find("heartbeat"), std::string::npos) << w;
}

TEST(Mm2Transforms, AChainMirrorMakerWouldAlsoRunOnHeartbeatsAndCheckpointsIsNamed) {
  // Without a predicate, MM2 adds the header to its heartbeats and checkpoints too.
  MirrorConfig all = Load(
      "A->B.transforms = origin\n"
      "A->B.transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = A\n");
  std::string w = Warnings(all);
  EXPECT_NE(w.find("A->B.transforms: applied to the records flow A->B copies; MirrorMaker 2 also "
                   "runs the chain on the records its heartbeat and checkpoint connectors write, "
                   "where it would add header origin to its heartbeats (heartbeats on B), and add "
                   "header origin to its checkpoints (A.checkpoints.internal on B); regionmirror "
                   "writes those unchanged"),
            std::string::npos)
      << w;
  // Keeping only A.orders would drop MM2's checkpoints (heartbeats are off here).
  MirrorConfig prefixed = Load(
      "emit.heartbeats.enabled = false\n"
      "A->B.transforms = keepOrders\n"
      "A->B.transforms.keepOrders.type = Filter\n"
      "A->B.transforms.keepOrders.predicate = notA\n"
      "A->B.predicates = notA\n"
      "A->B.predicates.notA.type = TopicNameMatches\n"
      "A->B.predicates.notA.pattern = A\\\\.orders\n"
      "A->B.transforms.keepOrders.negate = true\n");
  w = Warnings(prefixed);
  EXPECT_NE(w.find("where it would drop its checkpoints (A.checkpoints.internal on B; Filter "
                   "'keepOrders')"),
            std::string::npos)
      << w;
  EXPECT_EQ(w.find("heartbeats on B"), std::string::npos) << w;
}

TEST(Mm2Transforms, TheCheckReportListsTheMappedChainInOrder) {
  MirrorConfig c = Load(
      "A->B.transforms = dropDebug, origin\n"
      "A->B.transforms.dropDebug.type = Filter\n"
      "A->B.transforms.dropDebug.predicate = hasDebug\n"
      "A->B.transforms.origin.type = InsertHeader\n"
      "A->B.transforms.origin.header = origin\n"
      "A->B.transforms.origin.value.literal = A\n"
      "A->B.transforms.origin.predicate = hasDebug\n"
      "A->B.transforms.origin.negate = true\n"
      "A->B.predicates = hasDebug\n"
      "A->B.predicates.hasDebug.type = HasHeaderKey\n"
      "A->B.predicates.hasDebug.name = debug\n");
  const std::string r = DescribeMirrorConfig(c, "mm2.properties");
  EXPECT_NE(r.find("    transforms, in order:\n"
                   "      1. dropDebug: Filter: drop the record, when it has a header debug\n"
                   "      2. origin: InsertHeader: add header origin = \"A\", unless it has a "
                   "header debug\n"),
            std::string::npos)
      << r;
}

}  // namespace
}  // namespace rm::replication
