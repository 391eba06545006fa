// OffsetSyncEmitter's publishing rule and OffsetSyncRebuilder: a map rebuilt from the emitted
// syncs has the same runs and translates identically to the original.
#include "offsets/offset_sync_emitter.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "offsets/offset_map.h"
#include "tests/offsets/offsets_test_util.h"
#include "tests/util/test_util.h"

namespace rm::offsets {
namespace {

using testing::AllRuns;
using testing::OpenStore;
using testing::S;
using testing::T;
using Runs = std::vector<Run>;

mm2::OffsetSync Sync(const std::string& topic, int32_t partition, int64_t u, int64_t d,
                     mm2::SyncMark mark = mm2::SyncMark::kRun) {
  return mm2::OffsetSync{topic, partition, S(u), T(d), mark};
}
constexpr auto kClose = mm2::SyncMark::kClosesRun;
constexpr auto kUnmarked = mm2::SyncMark::kUnmarked;

TEST(OffsetSyncEmitter, EmitsRunStartsRunEndsAndTail) {
  // The picture of offset_sync_emitter.h.
  const PartitionKey p{"f", "orders", 0};
  OffsetSyncEmitter emitter;
  std::vector<mm2::OffsetSync> syncs;
  for (int64_t i = 0; i < 4; ++i) emitter.OnDelivered(p, S(100 + i), T(50 + i), &syncs);
  for (int64_t i = 0; i < 3; ++i) emitter.OnDelivered(p, S(106 + i), T(54 + i), &syncs);
  for (int64_t i = 0; i < 3; ++i) emitter.OnDelivered(p, S(109 + i), T(60 + i), &syncs);
  emitter.FlushTail(&syncs);
  EXPECT_EQ(syncs,
            (std::vector<mm2::OffsetSync>{Sync("orders", 0, 100, 50), Sync("orders", 0, 103, 53),
                                          Sync("orders", 0, 106, 54), Sync("orders", 0, 108, 56),
                                          Sync("orders", 0, 109, 60), Sync("orders", 0, 111, 62)}));
  // Nothing new: nothing to flush.
  syncs.clear();
  emitter.FlushTail(&syncs);
  EXPECT_TRUE(syncs.empty());
}

TEST(OffsetSyncEmitter, MarksTheRunEndClosedWhenTheNextRunHasTheSameDelta) {
  const PartitionKey p{"f", "t", 0};
  OffsetSyncEmitter emitter;
  std::vector<mm2::OffsetSync> syncs;
  emitter.OnDelivered(p, S(0), T(0), &syncs);
  emitter.OnDelivered(p, S(1), T(1), &syncs);
  emitter.OnDelivered(p, S(5), T(5), &syncs);  // source gap 2..4 and target hole 2..4
  emitter.OnDelivered(p, S(9), T(9), &syncs);  // again, after a run of one record
  // The close mark goes on the run's last record: new for 0..1, a repeat of the run start for
  // the run of one record at 5.
  EXPECT_EQ(syncs, (std::vector<mm2::OffsetSync>{Sync("t", 0, 0, 0), Sync("t", 0, 1, 1, kClose),
                                                 Sync("t", 0, 5, 5), Sync("t", 0, 5, 5, kClose),
                                                 Sync("t", 0, 9, 9)}));
}

TEST(OffsetSyncEmitter, ResumeDescribesTheGivenRunsAsTheRulesWouldAndContinuesTheLast) {
  const PartitionKey p{"f", "t", 0};
  OffsetSyncEmitter emitter;
  std::vector<mm2::OffsetSync> syncs;
  // Two durable runs of the same delta apart (source gap 10..11 matched by a target hole).
  const std::vector<offsets::Run> durable = {{S(0), T(0), 10}, {S(12), T(12), 5}};
  emitter.Resume(p, durable, &syncs);
  EXPECT_EQ(syncs, (std::vector<mm2::OffsetSync>{Sync("t", 0, 0, 0), Sync("t", 0, 9, 9, kClose),
                                                 Sync("t", 0, 12, 12), Sync("t", 0, 16, 16)}));
  // Re-reports of what the map holds add nothing; the next record continues the last run.
  syncs.clear();
  emitter.OnDelivered(p, S(16), T(16), &syncs);
  emitter.OnDelivered(p, S(17), T(17), &syncs);
  emitter.FlushTail(&syncs);
  EXPECT_EQ(syncs, (std::vector<mm2::OffsetSync>{Sync("t", 0, 17, 17)}));
  // A partition the emitter already follows is not resumed again.
  syncs.clear();
  emitter.Resume(p, durable, &syncs);
  EXPECT_TRUE(syncs.empty());
}

TEST(OffsetSyncEmitter, IgnoresReportsTheMapRejects) {
  const PartitionKey p{"f", "t", 0};
  OffsetSyncEmitter emitter;
  std::vector<mm2::OffsetSync> syncs;
  emitter.OnDelivered(p, S(10), T(10), &syncs);
  emitter.OnDelivered(p, S(9), T(20), &syncs);   // source backwards
  emitter.OnDelivered(p, S(20), T(10), &syncs);  // target not advancing
  emitter.OnDelivered(p, S(-1), T(30), &syncs);
  EXPECT_EQ(syncs.size(), 1u);
}

TEST(OffsetSyncRebuilder, RebuildsThePictureExactly) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {
      Sync("orders", 0, 100, 50), Sync("orders", 0, 103, 53), Sync("orders", 0, 106, 54),
      Sync("orders", 0, 108, 56), Sync("orders", 0, 109, 60), Sync("orders", 0, 111, 62)};
  auto stats = RebuildFromOffsetSyncs(map, "f", syncs);
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  Runs runs;
  for (auto& [p, run] : AllRuns(map)) runs.push_back(run);
  EXPECT_EQ(runs, (Runs{{S(100), T(50), 4}, {S(106), T(54), 3}, {S(109), T(60), 3}}));
}

TEST(OffsetSyncRebuilder, CloseMarkKeepsSameDeltaRunsApart) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {Sync("t", 0, 0, 0), Sync("t", 0, 1, 1, kClose),
                                              Sync("t", 0, 5, 5)};
  ASSERT_TRUE(RebuildFromOffsetSyncs(map, "f", syncs).ok());
  Runs runs;
  for (auto& [p, run] : AllRuns(map)) runs.push_back(run);
  EXPECT_EQ(runs, (Runs{{S(0), T(0), 2}, {S(5), T(5), 1}}));
  auto in_gap = map.Translate({"f", "t", 0}, S(3));
  ASSERT_TRUE(in_gap.ok());
  EXPECT_EQ(in_gap->kind, TranslationKind::kGap);
}

TEST(OffsetSyncRebuilder, AnUnmarkedRepeatClosesTheRunAsBeforeTheMarkExisted) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {
      Sync("t", 0, 0, 0, kUnmarked), Sync("t", 0, 1, 1, kUnmarked), Sync("t", 0, 1, 1, kUnmarked),
      Sync("t", 0, 5, 5, kUnmarked)};
  ASSERT_TRUE(RebuildFromOffsetSyncs(map, "f", syncs).ok());
  Runs runs;
  for (auto& [p, run] : AllRuns(map)) runs.push_back(run);
  EXPECT_EQ(runs, (Runs{{S(0), T(0), 2}, {S(5), T(5), 1}}));
}

TEST(OffsetSyncRebuilder, AMarkedRepeatOnlyRestatesTheSync) {
  // A restarted emitter re-describes the run the topic already ends with: the run goes on.
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {Sync("t", 0, 0, 0), Sync("t", 0, 1, 1),
                                              Sync("t", 0, 0, 0), Sync("t", 0, 1, 1),
                                              Sync("t", 0, 5, 5)};
  auto stats = RebuildFromOffsetSyncs(map, "f", syncs);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stale_syncs, 1u);
  Runs runs;
  for (auto& [p, run] : AllRuns(map)) runs.push_back(run);
  EXPECT_EQ(runs, (Runs{{S(0), T(0), 6}}));
}

TEST(OffsetSyncRebuilder, SkipsWhatTheMapAlreadyHoldsSoARebuildCanResume) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {Sync("t", 0, 0, 0), Sync("t", 0, 50, 50),
                                              Sync("t", 0, 60, 70), Sync("t", 0, 80, 90)};
  ASSERT_TRUE(RebuildFromOffsetSyncs(map, "f", std::span(syncs).first(2)).ok());
  // A second pass over the whole topic only adds what is new.
  auto stats = RebuildFromOffsetSyncs(map, "f", syncs);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stale_syncs, 2u);
  EXPECT_EQ(stats->invalid_syncs, 0u);
  Runs runs;
  for (auto& [p, run] : AllRuns(map)) runs.push_back(run);
  EXPECT_EQ(runs, (Runs{{S(0), T(0), 51}, {S(60), T(70), 21}}));
}

TEST(OffsetSyncRebuilder, CountsSyncsThatContradictTheMap) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  const std::vector<mm2::OffsetSync> syncs = {Sync("t", 0, 10, 100), Sync("t", 0, 20, 50),
                                              Sync("t", 0, 5, 200), Sync("t", 0, -1, 3)};
  auto stats = RebuildFromOffsetSyncs(map, "f", syncs);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->invalid_syncs, 2u);  // target going back; negative upstream
  EXPECT_EQ(stats->stale_syncs, 1u);    // upstream going back
  EXPECT_EQ(AllRuns(map).size(), 1u);
}

// A random workload with gaps, delta changes and same-delta gaps on several partitions,
// flushed at random checkpoints; the rebuilt map must equal the original run for run.
TEST(OffsetSyncRebuilder, RebuildFromEmittedSyncsTranslatesIdenticallyForRandomWorkloads) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    rm::testing::TempDir dir;
    auto original_store = OpenStore(dir / "original");
    auto rebuilt_store = OpenStore(dir / "rebuilt");
    OffsetMap original(*original_store);
    OffsetMap rebuilt(*rebuilt_store);
    OffsetSyncEmitter emitter;
    std::vector<mm2::OffsetSync> syncs;

    struct Gen {
      PartitionKey key;
      int64_t source;
      int64_t target;
    };
    std::vector<Gen> gens = {
        {{"flow", "a", 0}, 0, 0}, {{"flow", "a", 1}, 100, 0}, {{"flow", "b", 0}, 0, 5000}};
    for (int i = 0; i < 200000; ++i) {
      auto& g = gens[rng() % gens.size()];
      const uint64_t dice = rng() % 1000;
      if (dice < 4) {
        g.source += 1 + static_cast<int64_t>(rng() % 20);  // source gap
      } else if (dice < 7) {
        g.target += 1 + static_cast<int64_t>(rng() % 20);  // delta change
      } else if (dice < 10) {
        const auto skip = 1 + static_cast<int64_t>(rng() % 5);  // same-delta gap
        g.source += skip;
        g.target += skip;
      }
      original.OnDelivered(g.key, S(g.source), T(g.target));
      emitter.OnDelivered(g.key, S(g.source), T(g.target), &syncs);
      ++g.source;
      ++g.target;
      if (rng() % 5000 == 0) {
        ASSERT_TRUE(original.Checkpoint().ok());
        emitter.FlushTail(&syncs);
      }
    }
    ASSERT_TRUE(original.Checkpoint().ok());
    emitter.FlushTail(&syncs);

    auto stats = RebuildFromOffsetSyncs(rebuilt, "flow", syncs);
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    EXPECT_EQ(stats->invalid_syncs, 0u);
    const auto original_runs = AllRuns(original);
    ASSERT_EQ(AllRuns(rebuilt), original_runs);
    std::printf("seed %llu: %zu runs from %zu syncs (%.2f syncs per run)\n",
                static_cast<unsigned long long>(seed), original_runs.size(), syncs.size(),
                static_cast<double>(syncs.size()) / static_cast<double>(original_runs.size()));

    for (const auto& g : gens) {
      for (int i = 0; i < 20000; ++i) {
        const auto position = static_cast<int64_t>(rng() % static_cast<uint64_t>(g.source + 10));
        auto a = original.Translate(g.key, S(position));
        auto b = rebuilt.Translate(g.key, S(position));
        ASSERT_TRUE(a.ok() && b.ok());
        ASSERT_EQ(*a, *b) << position;
      }
    }
  }
}

}  // namespace
}  // namespace rm::offsets
