// CheckpointStore and the admin queries built on it and on the map (dump, translate a group).
#include "offsets/checkpoint_store.h"

#include <gtest/gtest.h>

#include <vector>

#include "offsets/admin.h"
#include "offsets/offset_map.h"
#include "tests/offsets/offsets_test_util.h"
#include "tests/util/test_util.h"

namespace rm::offsets {
namespace {

using testing::OpenStore;
using testing::S;
using testing::T;

GroupCheckpoint Cp(std::string flow, std::string group, std::string topic, int32_t partition,
                   int64_t source, int64_t target) {
  return GroupCheckpoint{std::move(flow), std::move(group), std::move(topic),        partition,
                         S(source),       T(target),        TranslationKind::kExact, 1700000000000,
                         "meta"};
}

TEST(CheckpointStore, PutGetAndOverwrite) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  CheckpointStore checkpoints(*store);
  ASSERT_TRUE(checkpoints.Put({Cp("f", "g", "t", 0, 10, 5), Cp("f", "g", "t", 1, 20, 15)}).ok());
  auto got = checkpoints.Get("f", "g", "t", 1);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, Cp("f", "g", "t", 1, 20, 15));

  ASSERT_TRUE(checkpoints.Put({Cp("f", "g", "t", 1, 25, 19)}).ok());
  got = checkpoints.Get("f", "g", "t", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->source_offset, S(25));

  auto missing = checkpoints.Get("f", "g", "t", 2);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(checkpoints.Delete("f", "g", "t", 1).ok());
  got = checkpoints.Get("f", "g", "t", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(CheckpointStore, ListsOneGroupWithoutNeighboursSharingItsPrefix) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  CheckpointStore checkpoints(*store);
  ASSERT_TRUE(checkpoints
                  .Put({Cp("f1", "g", "t", 0, 1, 1), Cp("f2", "g", "u", 0, 2, 2),
                        Cp("f1", "g2", "t", 0, 3, 3),
                        Cp("f1", std::string("g\0x", 3), "t", 0, 4, 4), Cp("f1", "", "t", 0, 5, 5)})
                  .ok());
  auto group = checkpoints.List({.group = "g"});
  ASSERT_TRUE(group.ok());
  ASSERT_EQ(group->size(), 2u);
  EXPECT_EQ((*group)[0].flow, "f1");
  EXPECT_EQ((*group)[1].flow, "f2");

  auto by_topic = StoredGroupPositions(checkpoints, "g", "u");
  ASSERT_TRUE(by_topic.ok());
  ASSERT_EQ(by_topic->size(), 1u);
  EXPECT_EQ((*by_topic)[0].source_offset, S(2));

  auto everything = checkpoints.List();
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), 5u);
  auto one_flow = checkpoints.List({.flow = "f1"});
  ASSERT_TRUE(one_flow.ok());
  EXPECT_EQ(one_flow->size(), 4u);
}

TEST(CheckpointStore, SurvivesReopen) {
  rm::testing::TempDir dir;
  {
    auto store = OpenStore(dir / "db");
    CheckpointStore checkpoints(*store);
    ASSERT_TRUE(checkpoints.Put({Cp("f", "g", "t", 3, 100, 90)}).ok());
  }
  auto store = OpenStore(dir / "db");
  CheckpointStore checkpoints(*store);
  auto got = checkpoints.Get("f", "g", "t", 3);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(**got, Cp("f", "g", "t", 3, 100, 90));
}

TEST(CheckpointStore, RejectsNegativePartition) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  CheckpointStore checkpoints(*store);
  auto s = checkpoints.Put({Cp("f", "g", "t", -1, 1, 1)});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "offsets.invalid_argument");
}

TEST(OffsetsAdmin, CheckpointGroupTranslatesStoresAndSkipsUnmappedPartitions) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  CheckpointStore checkpoints(*store);
  for (int64_t s = 0; s < 100; ++s) {
    if (s >= 40 && s < 50) continue;  // compacted away
    map.OnDelivered({"f", "t", 0}, S(s), T(s < 40 ? s : s - 10));
  }
  // Not checkpointed yet: CheckpointGroup makes the map durable before translating.
  const std::vector<GroupOffset> offsets = {
      {"t", 0, S(20), "a"}, {"t", 0, S(45), "b"}, {"t", 0, S(100), "c"}, {"t", 1, S(5), "d"}};
  auto stored = CheckpointGroup(map, checkpoints, "f", "g", offsets, 1234);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->size(), 3u);  // partition 1 has no mapping
  EXPECT_EQ((*stored)[0].target_offset, T(20));
  EXPECT_EQ((*stored)[1].target_offset, T(40));
  EXPECT_EQ((*stored)[1].kind, TranslationKind::kGap);
  EXPECT_EQ((*stored)[2].target_offset, T(90));
  EXPECT_EQ((*stored)[2].kind, TranslationKind::kBeyondEnd);
  // One entry per group partition: the last one written for partition 0 wins.
  auto listed = checkpoints.List({.group = "g"});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].source_offset, S(100));
  EXPECT_EQ((*listed)[0].metadata, "c");

  auto translated = TranslateGroup(map, "f", "g", offsets, 1234);
  ASSERT_TRUE(translated.ok());
  EXPECT_EQ(translated->size(), 4u);
  EXPECT_EQ((*translated)[3].kind, TranslationKind::kNoMapping);

  const auto json = ToJson(*translated);
  EXPECT_EQ(json[1]["translation"], "gap");
  EXPECT_EQ(json[1]["target_offset"], 40);
  EXPECT_EQ(json[3]["target_offset"], -1);
}

TEST(OffsetsAdmin, DumpRunsHonoursFilterAndLimit) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  for (int32_t partition = 0; partition < 3; ++partition) {
    for (int64_t s = 0; s < 30; s += 3) map.OnDelivered({"f", "t", partition}, S(s), T(s));
  }
  map.OnDelivered({"g", "t", 0}, S(0), T(0));
  ASSERT_TRUE(map.Checkpoint().ok());

  auto all = DumpRuns(map, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->runs.size(), 31u);
  EXPECT_FALSE(all->truncated);

  auto limited = DumpRuns(map, {.flow = "f", .topic = "t", .partition = 1}, 4);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->runs.size(), 4u);
  EXPECT_TRUE(limited->truncated);
  for (const auto& row : limited->runs) EXPECT_EQ(row.partition.partition, 1);

  const auto json = ToJson(*limited);
  EXPECT_EQ(json["runs"][1]["source_start"], 3);
  EXPECT_EQ(json["runs"][1]["count"], 1);
  EXPECT_EQ(json["truncated"], true);
}

}  // namespace
}  // namespace rm::offsets
