// A mirror flow's record transforms on the testbed: a Filter by header and by tombstone drops
// records (counted), InsertHeader / DropHeaders edit the copies' headers and leave the
// provenance header alone, a remote_topic condition matches the copy's topic, the source
// group's position passes the filtered records (also when the partition ends with them), and
// the offset map stays exact: every copied record maps to its copy, and a position at a
// filtered record translates to the next copy, which is what a consumer of the target reads
// next.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "testbed/control_client.h"
#include "tests/offsets/offsets_kafka_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

class FlowTransformsIntegration : public TestbedTest {};

std::optional<std::string> HeaderOf(const Record& r, const std::string& key) {
  for (const auto& h : r.headers) {
    if (h.key == key) return h.value.value_or("");
  }
  return std::nullopt;
}

TEST_F(FlowTransformsIntegration,
       FilteredRecordsAreNotCopiedTheirPositionsPassAndTranslateExactly) {
  tb().CreateTopic("us-east", "orders", 1);
  tb().CreateTopic("eu-west", "us-east.orders", 1);
  // Offsets 0..11; 3, 4 and 11 carry "debug" (filtered), 8 is a tombstone (filtered); 11 is the
  // last record, so the partition ends with a filtered one.
  std::vector<Record> records;
  for (int i = 0; i < 12; ++i) {
    Record r;
    r.key = "k" + std::to_string(i);
    r.value = "v" + std::to_string(i);
    r.headers.push_back({"trace-id", "t" + std::to_string(i)});
    if (i == 3 || i == 4 || i == 11) r.headers.push_back({"debug", "1"});
    if (i == 8) r.value.reset();
    records.push_back(std::move(r));
  }
  ProduceWithOurClient(Bootstrap("us-east"), "orders", records);

  MirrorSpec spec;
  spec.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
  FlowSpec flow{"us-east", "eu-west", {"orders"}};
  flow.extra_yaml = R"(    transforms:
      - {name: no-debug, type: Filter, predicate: {header: debug}}
      - {name: no-tombstones, type: Filter, predicate: {tombstone: true}}
      - {name: origin, type: InsertHeader, header: origin, value.literal: us-east}
      - {name: strip, type: DropHeaders, headers: [trace-id]}
      - {name: routed, type: InsertHeader, header: routed, value.literal: "yes",
         predicate: {remote_topic: "us-east\\.orders"}}
      - {name: not-source, type: InsertHeader, header: wrong, value.literal: "yes",
         predicate: {remote_topic: orders}}
)";
  spec.flows = {flow};
  spec.offsets_dir = (tmp_.path() / "offsets").string();
  MirrorProcess mirror(spec, tmp_.path());
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", 8, 60s), 8) << mirror.Log();

  // The source group passed every record, the filtered last one included.
  const std::string group = "regionmirror.us-east->eu-west";  // <group_prefix>.<flow>
  int64_t committed = -1;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline && committed != 12;
       std::this_thread::sleep_for(200ms)) {
    auto c = CommittedOffsets(Bootstrap("us-east"), group, {{"orders", 0}});
    committed = c.empty() ? -1 : c[0].offset;
  }
  EXPECT_EQ(committed, 12) << mirror.Log();

  auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  for (const char* line :
       {R"(rm_mirror_transform_filtered_total{flow="us-east->eu-west",topic="orders",)"
        R"(transform="no-debug"} 3)",
        R"(rm_mirror_transform_filtered_total{flow="us-east->eu-west",topic="orders",)"
        R"(transform="no-tombstones"} 1)"}) {
    EXPECT_NE(metrics->second.find(line), std::string::npos) << line << "\n" << metrics->second;
  }
  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();

  // The copies: the kept records in order, headers edited, provenance still last.
  auto copies = ConsumeWithOurClient(Bootstrap("eu-west"), "us-east.orders", 8);
  ASSERT_EQ(copies.size(), 8u);
  const std::vector<int64_t> kept = {0, 1, 2, 5, 6, 7, 9, 10};
  for (size_t i = 0; i < copies.size(); ++i) {
    const Record& c = copies[i];
    EXPECT_EQ(c.offset, static_cast<int64_t>(i));
    EXPECT_EQ(c.value, "v" + std::to_string(kept[i]));
    EXPECT_EQ(HeaderOf(c, "origin"), "us-east");
    EXPECT_EQ(HeaderOf(c, "trace-id"), std::nullopt);
    // remote_topic conditions see the name the copy is written to, not the source topic's.
    EXPECT_EQ(HeaderOf(c, "routed"), "yes");
    EXPECT_EQ(HeaderOf(c, "wrong"), std::nullopt);
    ASSERT_FALSE(c.headers.empty());
    EXPECT_EQ(c.headers.back().key, "rmp");
    auto prov = ProvenanceOf(c);
    ASSERT_EQ(prov.size(), 1u);
    EXPECT_EQ(prov[0].offset, kept[i]);
  }

  // Translation: a copied record maps to its copy; a position at a filtered record (a gap)
  // maps to the next copy; past the filtered tail, to the end of the copies.
  auto store = offsets::OffsetStore::Open(spec.offsets_dir);
  ASSERT_TRUE(store.ok()) << store.error().message;
  offsets::OffsetMap map(**store);
  const offsets::PartitionKey p{"us-east->eu-west", "orders", 0};
  std::map<int64_t, int64_t> want = {{0, 0}, {2, 2}, {3, 3},  {4, 3},  {5, 3}, {7, 5},
                                     {8, 6}, {9, 6}, {10, 7}, {11, 8}, {12, 8}};
  for (const auto& [source, target] : want) {
    auto t = map.Translate(p, common::SourceOffset(source));
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->target.value(), target) << "source " << source;
    // What a consumer of the target reads from there is the copy of the first record at or
    // after `source` that was not filtered.
    if (target < 8) {
      auto first = copies[static_cast<size_t>(target)];
      EXPECT_GE(ProvenanceOf(first)[0].offset, source);
    }
  }
}

}  // namespace
}  // namespace rm::testing
