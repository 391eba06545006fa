// OffsetMap: runs, every translation case at its boundaries, durability rules, pruning,
// partition isolation and restart from a copied directory.
#include "offsets/offset_map.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "offsets/detail/key_codec.h"
#include "offsets/detail/rocksdb_handles.h"
#include "offsets/offset_store.h"
#include "tests/offsets/offsets_test_util.h"
#include "tests/util/test_util.h"

namespace rm::offsets {
namespace {

using testing::OpenStore;
using testing::S;
using testing::T;

const PartitionKey kP{"us-east->eu-west", "orders", 0};
// Inside a TEST body `Run` names testing::Test::Run; this alias avoids the clash.
using Runs = std::vector<Run>;

std::vector<Run> RunsOf(const OffsetMap& map, const PartitionKey& p) {
  std::vector<Run> runs;
  RunFilter filter{p.flow, p.topic, p.partition};
  auto s = map.ForEachRun(filter, [&](const PartitionKey& key, const Run& run) {
    EXPECT_EQ(key, p);
    runs.push_back(run);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.error().message;
  return runs;
}

TranslationResult Tr(const OffsetMap& map, const PartitionKey& p, int64_t position) {
  auto r = map.Translate(p, S(position));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : TranslationResult{};
}

void Deliver(OffsetMap& map, const PartitionKey& p, int64_t source, int64_t target,
             int64_t count = 1) {
  for (int64_t i = 0; i < count; ++i) map.OnDelivered(p, S(source + i), T(target + i));
}

// The picture of offset_map.h: run A 100..103 -> 50, gap 104..105, run B 106..108 -> 54,
// run C 109..111 -> 60 (delta change without a source gap).
class OffsetMapPicture : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.path() / "db");
    ASSERT_TRUE(store_);
    map_ = std::make_unique<OffsetMap>(*store_);
    Deliver(*map_, kP, 100, 50, 4);
    Deliver(*map_, kP, 106, 54, 3);
    Deliver(*map_, kP, 109, 60, 3);
    ASSERT_TRUE(map_->Checkpoint().ok());
  }

  rm::testing::TempDir dir_;
  std::unique_ptr<OffsetStore> store_;
  std::unique_ptr<OffsetMap> map_;
};

TEST_F(OffsetMapPicture, StoresOneEntryPerRun) {
  EXPECT_EQ(RunsOf(*map_, kP), (Runs{{S(100), T(50), 4}, {S(106), T(54), 3}, {S(109), T(60), 3}}));
}

TEST_F(OffsetMapPicture, TranslatesOffsetInsideRunExactly) {
  EXPECT_EQ(Tr(*map_, kP, 100), (TranslationResult{TranslationKind::kExact, T(50)}));
  EXPECT_EQ(Tr(*map_, kP, 102), (TranslationResult{TranslationKind::kExact, T(52)}));
  EXPECT_EQ(Tr(*map_, kP, 103), (TranslationResult{TranslationKind::kExact, T(53)}));
  EXPECT_EQ(Tr(*map_, kP, 106), (TranslationResult{TranslationKind::kExact, T(54)}));
  EXPECT_EQ(Tr(*map_, kP, 108), (TranslationResult{TranslationKind::kExact, T(56)}));
  // First offset of a run that starts right after the previous one (delta change only).
  EXPECT_EQ(Tr(*map_, kP, 109), (TranslationResult{TranslationKind::kExact, T(60)}));
  EXPECT_EQ(Tr(*map_, kP, 111), (TranslationResult{TranslationKind::kExact, T(62)}));
}

TEST_F(OffsetMapPicture, TranslatesOffsetInGapToNextMirroredRecord) {
  EXPECT_EQ(Tr(*map_, kP, 104), (TranslationResult{TranslationKind::kGap, T(54)}));
  EXPECT_EQ(Tr(*map_, kP, 105), (TranslationResult{TranslationKind::kGap, T(54)}));
}

TEST_F(OffsetMapPicture, TranslatesBeyondLastRecordToPositionAfterIt) {
  EXPECT_EQ(Tr(*map_, kP, 112), (TranslationResult{TranslationKind::kBeyondEnd, T(63)}));
  EXPECT_EQ(Tr(*map_, kP, 1'000'000), (TranslationResult{TranslationKind::kBeyondEnd, T(63)}));
}

TEST_F(OffsetMapPicture, TranslatesBelowFirstRunToEarliestMapping) {
  EXPECT_EQ(Tr(*map_, kP, 99), (TranslationResult{TranslationKind::kBelowEarliest, T(50)}));
  EXPECT_EQ(Tr(*map_, kP, 0), (TranslationResult{TranslationKind::kBelowEarliest, T(50)}));
}

TEST_F(OffsetMapPicture, RejectsNegativePosition) {
  auto r = map_->Translate(kP, S(-1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "offsets.invalid_argument");
}

TEST_F(OffsetMapPicture, GapFacingTargetHoleTranslatesToPositionAfterPreviousRun) {
  // Given a source gap 112..119 and a target that jumps from 63 to 70 (offsets 63..69 hold
  // records the map never heard of, e.g. delivered but not checkpointed before a crash).
  Deliver(*map_, kP, 120, 70, 2);
  ASSERT_TRUE(map_->Checkpoint().ok());
  // Then a position in the gap re-reads 63..69 rather than skipping them.
  EXPECT_EQ(Tr(*map_, kP, 115), (TranslationResult{TranslationKind::kGap, T(63)}));
  EXPECT_EQ(Tr(*map_, kP, 120), (TranslationResult{TranslationKind::kExact, T(70)}));
}

TEST_F(OffsetMapPicture, PruneDeletesRunsBelowLogStartButKeepsTheRunContainingIt) {
  auto pruned = map_->Prune(kP, S(107));
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->runs_deleted, 1);
  EXPECT_EQ(RunsOf(*map_, kP), (Runs{{S(106), T(54), 3}, {S(109), T(60), 3}}));
  EXPECT_EQ(Tr(*map_, kP, 107), (TranslationResult{TranslationKind::kExact, T(55)}));
  EXPECT_EQ(Tr(*map_, kP, 100), (TranslationResult{TranslationKind::kBelowEarliest, T(54)}));
  auto floor = map_->PruneFloor(kP);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ(*floor, std::optional<common::SourceOffset>(S(107)));
}

TEST_F(OffsetMapPicture, PruneAtRunEndDeletesThatRun) {
  auto pruned = map_->Prune(kP, S(104));  // run A is 100..103: entirely below
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->runs_deleted, 1);
  EXPECT_EQ(Tr(*map_, kP, 104), (TranslationResult{TranslationKind::kBelowEarliest, T(54)}));
}

TEST_F(OffsetMapPicture, PruneBeyondEverythingKeepsTheLastRun) {
  auto pruned = map_->Prune(kP, S(5000));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->runs_deleted, 2);
  EXPECT_EQ(RunsOf(*map_, kP), (Runs{{S(109), T(60), 3}}));
  EXPECT_EQ(Tr(*map_, kP, 5000), (TranslationResult{TranslationKind::kBeyondEnd, T(63)}));
}

TEST_F(OffsetMapPicture, PruneBelowFirstRunDeletesNothing) {
  auto pruned = map_->Prune(kP, S(10));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->runs_deleted, 0);
  EXPECT_EQ(RunsOf(*map_, kP).size(), 3u);
}

TEST_F(OffsetMapPicture, LastDurableIsTheLastCheckpointedRecord) {
  auto last = map_->LastDurable(kP);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, (std::optional<DeliveredPosition>(DeliveredPosition{S(111), T(62)})));
  Deliver(*map_, kP, 112, 63);
  last = map_->LastDurable(kP);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)->source, S(111));  // not yet checkpointed
  auto reported = map_->LastReported(kP);
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ((*reported)->source, S(112));
}

TEST(OffsetMap, EmptyMapHasNoMapping) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  EXPECT_EQ(Tr(map, kP, 0),
            (TranslationResult{TranslationKind::kNoMapping, common::TargetOffset()}));
  EXPECT_EQ(Tr(map, kP, 42).kind, TranslationKind::kNoMapping);
  auto last = map.LastDurable(kP);
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->has_value());
  EXPECT_TRUE(map.Checkpoint().ok());  // nothing to write is fine
  auto pruned = map.Prune(kP, S(10));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->runs_deleted, 0);
}

TEST(OffsetMap, SingleRecordMapTranslatesEveryCase) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  map.OnDelivered(kP, S(0), T(0));
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(Tr(map, kP, 0), (TranslationResult{TranslationKind::kExact, T(0)}));
  EXPECT_EQ(Tr(map, kP, 1), (TranslationResult{TranslationKind::kBeyondEnd, T(1)}));
}

TEST(OffsetMap, TranslationSeesOnlyCheckpointedRuns) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  Deliver(map, kP, 0, 0, 10);
  EXPECT_EQ(Tr(map, kP, 5).kind, TranslationKind::kNoMapping);
  ASSERT_TRUE(map.Checkpoint().ok());
  Deliver(map, kP, 10, 10, 10);
  EXPECT_EQ(Tr(map, kP, 15), (TranslationResult{TranslationKind::kBeyondEnd, T(10)}));
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(Tr(map, kP, 15), (TranslationResult{TranslationKind::kExact, T(15)}));
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(0), T(0), 20}}));  // grown in place
}

TEST(OffsetMap, DroppedWithoutCheckpointLosesOnlyUncheckpointedReports) {
  rm::testing::TempDir dir;
  {
    auto store = OpenStore(dir / "db");
    OffsetMap map(*store);
    Deliver(map, kP, 0, 0, 10);
    ASSERT_TRUE(map.Checkpoint().ok());
    Deliver(map, kP, 10, 10, 10);
    Deliver(map, kP, 30, 20, 10);
  }
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(0), T(0), 10}}));
}

TEST(OffsetMap, ContinuesLastDurableRunAfterReopen) {
  rm::testing::TempDir dir;
  {
    auto store = OpenStore(dir / "db");
    OffsetMap map(*store);
    Deliver(map, kP, 0, 100, 10);
    ASSERT_TRUE(map.Checkpoint().ok());
  }
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  Deliver(map, kP, 10, 110, 5);
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(0), T(100), 15}}));
  EXPECT_EQ(map.stats().runs_started, 0u);
}

TEST(OffsetMap, SyncedThroughBecomesDurableWithTheNextCheckpointAndOnlyGrows) {
  rm::testing::TempDir dir;
  {
    auto store = OpenStore(dir / "db");
    OffsetMap map(*store);
    Deliver(map, kP, 0, 100, 10);
    map.NoteSyncedThrough(kP, S(4));
    auto before = map.SyncedThrough(kP);
    ASSERT_TRUE(before.ok());
    EXPECT_FALSE(*before);            // not durable before a checkpoint
    map.NoteSyncedThrough(kP, S(2));  // an older acknowledgement does not move it back
    ASSERT_TRUE(map.Checkpoint().ok());
    map.NoteSyncedThrough(kP, S(9));  // lost with the process: never checkpointed
  }
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  auto synced = map.SyncedThrough(kP);
  ASSERT_TRUE(synced.ok());
  ASSERT_TRUE(*synced);
  EXPECT_EQ(**synced, S(4));
}

TEST(OffsetMap, DurableRunsFromStartsAtTheRunHoldingTheOffset) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  Deliver(map, kP, 0, 100, 10);  // 0..9
  Deliver(map, kP, 20, 110, 5);  // 20..24
  Deliver(map, kP, 30, 120, 5);  // 30..34
  ASSERT_TRUE(map.Checkpoint().ok());
  auto from = [&](std::optional<int64_t> s) {
    auto runs = map.DurableRunsFrom(kP, s ? std::optional(S(*s)) : std::nullopt);
    EXPECT_TRUE(runs.ok());
    return runs.ok() ? *runs : Runs{};
  };
  EXPECT_EQ(from(std::nullopt).size(), 3u);
  EXPECT_EQ(from(22), (Runs{{S(20), T(110), 5}, {S(30), T(120), 5}}));
  EXPECT_EQ(from(15), (Runs{{S(0), T(100), 10}, {S(20), T(110), 5}, {S(30), T(120), 5}}));
  EXPECT_EQ(from(34), (Runs{{S(30), T(120), 5}}));
  EXPECT_EQ(from(99), (Runs{{S(30), T(120), 5}}));
}

TEST(OffsetMap, RejectsReportsThatBreakTheOrderContract) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  Deliver(map, kP, 10, 10, 5);        // 10..14 -> 10..14
  map.OnDelivered(kP, S(12), T(12));  // identical re-report: ignored silently
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(map.stats().duplicate_reports, 1u);

  map.OnDelivered(kP, S(13), T(99));  // source went backwards with another target
  map.OnDelivered(kP, S(20), T(14));  // target did not advance
  map.OnDelivered(kP, S(-3), T(40));  // invalid
  map.OnDelivered(kP, S(15), T(15));  // fine
  auto s = map.Checkpoint();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "offsets.rejected_report");
  EXPECT_EQ(map.stats().rejected_reports, 3u);
  // The valid report was persisted anyway, the rejected ones were not.
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(10), T(10), 6}}));
  EXPECT_TRUE(map.Checkpoint().ok());  // reported once

  auto appended = map.AppendRun(kP, offsets::Run{S(16), T(15), 3});
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().code, "offsets.rejected_report");
  EXPECT_FALSE(map.AppendRun(kP, offsets::Run{S(16), T(16), 0}).ok());
}

TEST(OffsetMap, AppendRunMergesWithContiguousOpenRun) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  ASSERT_TRUE(map.AppendRun(kP, offsets::Run{S(0), T(0), 100}).ok());
  ASSERT_TRUE(map.AppendRun(kP, offsets::Run{S(100), T(100), 50}).ok());
  ASSERT_TRUE(map.AppendRun(kP, offsets::Run{S(151), T(150), 10}).ok());
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(0), T(0), 150}, {S(151), T(150), 10}}));
}

TEST(OffsetMap, PruneForgetsClosedRunsNotYetCheckpointed) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  Deliver(map, kP, 0, 0, 10);
  Deliver(map, kP, 20, 10, 10);
  Deliver(map, kP, 40, 20, 10);  // open run
  ASSERT_TRUE(map.Prune(kP, S(35)).ok());
  ASSERT_TRUE(map.Checkpoint().ok());
  EXPECT_EQ(RunsOf(map, kP), (Runs{{S(40), T(20), 10}}));
}

TEST(OffsetMap, PartitionsFlowsAndTopicsDoNotInterfere) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  // Names chosen so that naive concatenation would collide or sort one inside the other.
  const std::vector<PartitionKey> keys = {
      {"f", "a", 0},
      {"f", "a", 1},
      {"f", std::string("a\0b", 3), 0},
      {"f", "ab", 0},
      {"f", std::string("a\0", 2), 0},
      {std::string("f\0a", 3), "", 0},
      {"fa", "", 0},
      {"f", "a", 256},
      {"g", "a", 0},
      {"", "", 0},
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    Deliver(map, keys[i], 10, static_cast<int64_t>(1000 * (i + 1)), 5);
  }
  ASSERT_TRUE(map.Checkpoint().ok());
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(i);
    const int64_t base = static_cast<int64_t>(1000 * (i + 1));
    EXPECT_EQ(RunsOf(map, keys[i]), (Runs{{S(10), T(base), 5}}));
    EXPECT_EQ(Tr(map, keys[i], 12), (TranslationResult{TranslationKind::kExact, T(base + 2)}));
    EXPECT_EQ(Tr(map, keys[i], 100), (TranslationResult{TranslationKind::kBeyondEnd, T(base + 5)}));
    EXPECT_EQ(Tr(map, keys[i], 0), (TranslationResult{TranslationKind::kBelowEarliest, T(base)}));
  }
  // A partition with no runs next to partitions with runs sees nothing of theirs.
  EXPECT_EQ(Tr(map, {"f", "a", 2}, 12).kind, TranslationKind::kNoMapping);
  EXPECT_EQ(Tr(map, {"f", "", 0}, 12).kind, TranslationKind::kNoMapping);

  // Pruning one partition leaves the others alone.
  ASSERT_TRUE(map.Prune(keys[0], S(1000)).ok());
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_EQ(RunsOf(map, keys[i]).size(), 1u);

  // Filters: flow "f" sees its topics only, topic "a" of flow "f" sees partitions 0, 1, 256.
  size_t in_flow = 0;
  ASSERT_TRUE(map.ForEachRun(RunFilter{"f", std::nullopt, std::nullopt},
                             [&](const PartitionKey& p, const offsets::Run&) {
                               EXPECT_EQ(p.flow, "f");
                               ++in_flow;
                               return true;
                             })
                  .ok());
  EXPECT_EQ(in_flow, 6u);
  size_t in_topic = 0;
  ASSERT_TRUE(map.ForEachRun(RunFilter{"f", "a", std::nullopt},
                             [&](const PartitionKey& p, const offsets::Run&) {
                               EXPECT_EQ(p.topic, "a");
                               ++in_topic;
                               return true;
                             })
                  .ok());
  EXPECT_EQ(in_topic, 3u);
}

TEST(OffsetMap, RestartsFromCopiedDirectoryWithEqualTranslations) {
  rm::testing::TempDir dir;
  std::vector<std::pair<PartitionKey, int64_t>> probes;
  std::vector<TranslationResult> before;
  {
    auto store = OpenStore(dir / "db");
    OffsetMap map(*store);
    int64_t target = 0;
    for (int32_t partition = 0; partition < 4; ++partition) {
      PartitionKey p{"flow", "t", partition};
      for (int64_t s = 0; s < 5000; ++s) {
        if (s % 97 == 13) continue;     // source gaps
        if (s % 501 == 7) target += 3;  // delta changes
        map.OnDelivered(p, S(s), T(target++));
      }
      for (int64_t s = -1; s < 5002; s += 7) probes.push_back({p, std::max<int64_t>(s, 0)});
    }
    ASSERT_TRUE(map.Checkpoint().ok());
    for (const auto& [p, s] : probes) before.push_back(Tr(map, p, s));
  }
  std::filesystem::copy(dir / "db", dir / "copy", std::filesystem::copy_options::recursive);
  auto store = OpenStore(dir / "copy");
  OffsetMap map(*store);
  for (size_t i = 0; i < probes.size(); ++i) {
    ASSERT_EQ(Tr(map, probes[i].first, probes[i].second), before[i]) << i;
  }
}

TEST(OffsetMap, ConcurrentReportsCheckpointsAndTranslationsStayConsistent) {
  rm::testing::TempDir dir;
  auto store = OpenStore(dir / "db");
  OffsetMap map(*store);
  constexpr int kWriters = 3;
  constexpr int64_t kRecords = 100'000;
  // Each writer fills its own partition; the delta grows by 7 every 1000 records, so every
  // partition ends with kRecords / 1000 runs of 1000 records.
  auto target_of = [](int64_t s) { return s + (s / 1000) * 7; };
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const PartitionKey p{"f", "t", w};
      for (int64_t s = 0; s < kRecords; ++s) map.OnDelivered(p, S(s), T(target_of(s)));
    });
  }
  std::atomic<int> checkpoints{0};
  std::thread checkpointer([&] {
    // At least a few rounds each, however fast the writers are.
    while (!done || checkpoints < 3) {
      EXPECT_TRUE(map.Checkpoint().ok());
      ++checkpoints;
    }
  });
  std::atomic<int64_t> translations{0};
  std::thread translator([&] {
    uint64_t x = 1;
    while (!done || translations < 1000) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      const int w = static_cast<int>(x % kWriters);
      const int64_t position = static_cast<int64_t>((x >> 8) % kRecords);
      auto r = map.Translate({"f", "t", w}, S(position));
      ASSERT_TRUE(r.ok());
      // Either not durable yet (nothing, or beyond the durable end) or exactly right.
      if (r->kind == TranslationKind::kExact) {
        ASSERT_EQ(r->target, T(target_of(position)));
      } else {
        ASSERT_TRUE(r->kind == TranslationKind::kNoMapping ||
                    r->kind == TranslationKind::kBeyondEnd)
            << ToString(r->kind);
        if (r->kind == TranslationKind::kBeyondEnd) {
          ASSERT_LE(r->target, T(target_of(position)));
        }
      }
      ++translations;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  checkpointer.join();
  translator.join();
  ASSERT_TRUE(map.Checkpoint().ok());
  for (int w = 0; w < kWriters; ++w) {
    const auto runs = RunsOf(map, {"f", "t", w});
    ASSERT_EQ(runs.size(), static_cast<size_t>(kRecords / 1000));
    for (size_t i = 0; i < runs.size(); ++i) {
      const int64_t start = static_cast<int64_t>(i) * 1000;
      ASSERT_EQ(runs[i], (offsets::Run{S(start), T(target_of(start)), 1000}));
    }
  }
  EXPECT_GT(checkpoints.load(), 1);
  EXPECT_GT(translations.load(), 0);
  EXPECT_EQ(map.stats().rejected_reports, 0u);
}

TEST(OffsetStore, SecondOpenOfSameDirectoryFails) {
  rm::testing::TempDir dir;
  auto first = OpenStore(dir / "db");
  ASSERT_TRUE(first);
  auto second = OffsetStore::Open(dir / "db");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "offsets.locked");
  EXPECT_NE(second.error().message.find((dir / "db").string()), std::string::npos);
}

TEST(OffsetStore, RefusesUnknownFormatVersion) {
  rm::testing::TempDir dir;
  {
    auto store = OpenStore(dir / "db");
    ASSERT_TRUE(store);
    rocksdb::WriteOptions wo;
    ASSERT_TRUE(store->rocks().db()->Put(wo, store->rocks().state, "format", "99").ok());
  }
  auto reopened = OffsetStore::Open(dir / "db");
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, "offsets.format");
}

TEST(OffsetStore, OpenWithoutCreateFailsOnMissingDirectory) {
  rm::testing::TempDir dir;
  OffsetStoreOptions options;
  options.create_if_missing = false;
  auto store = OffsetStore::Open(dir / "absent", options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "offsets.rocksdb");
}

}  // namespace
}  // namespace rm::offsets
