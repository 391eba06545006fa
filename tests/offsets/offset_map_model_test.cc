// OffsetMap against a naive model (every delivered record in a std::map) over more than a
// million random operations: deliveries with random source gaps and delta changes,
// translations of random positions, checkpoints, prunes and reopen without checkpoint (what a
// crash does to unacknowledged reports).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "tests/offsets/offsets_test_util.h"
#include "tests/util/test_util.h"

namespace rm::offsets {
namespace {

using testing::NaiveMap;
using testing::S;
using testing::T;

struct ModelPartition {
  PartitionKey key;
  int64_t next_source = 0;
  int64_t next_target = 0;
  NaiveMap durable;                                  // what a checkpoint acknowledged
  std::vector<std::pair<int64_t, int64_t>> pending;  // reported since the last checkpoint
  int64_t floor = 0;                                 // highest prune point
};

// Runs of a set of records: maximal stretches with consecutive source AND target offsets.
std::vector<Run> RunsOfRecords(const std::map<int64_t, int64_t>& records, int64_t from) {
  std::vector<Run> runs;
  for (auto it = records.lower_bound(from); it != records.end(); ++it) {
    if (!runs.empty() && runs.back().source_end() == S(it->first) &&
        runs.back().target_end() == T(it->second)) {
      ++runs.back().count;
    } else {
      runs.push_back(Run{S(it->first), T(it->second), 1});
    }
  }
  return runs;
}

uint64_t Seed() {
  if (const char* env = std::getenv("RM_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return 20240611;
}

class OffsetMapModel : public ::testing::Test {
 protected:
  void Open() {
    store_ = testing::OpenStore(dir_.path() / "db");
    ASSERT_TRUE(store_);
    map_ = std::make_unique<OffsetMap>(*store_);
  }
  void Close() {
    map_.reset();
    store_.reset();
  }

  void Checkpoint() {
    auto s = map_->Checkpoint();
    ASSERT_TRUE(s.ok()) << s.error().message;
    for (auto& p : parts_) {
      for (auto [source, target] : p.pending) p.durable.Deliver(source, target);
      p.pending.clear();
    }
  }

  void CheckTranslation(ModelPartition& p, int64_t position) {
    auto got = map_->Translate(p.key, S(position));
    ASSERT_TRUE(got.ok()) << got.error().message;
    if (position >= p.floor) {
      ASSERT_EQ(*got, p.durable.Translate(position))
          << "partition " << p.key.topic << "/" << p.key.partition << " position " << position;
      return;
    }
    // Below the prune floor the source no longer has the records: any answer that is an
    // exact mapping kept with its run, or the earliest retained mapping, and that does not
    // pass the floor's translation, is right.
    auto at_floor = map_->Translate(p.key, S(p.floor));
    ASSERT_TRUE(at_floor.ok());
    ASSERT_TRUE(got->kind == TranslationKind::kExact ||
                got->kind == TranslationKind::kBelowEarliest)
        << ToString(got->kind);
    ASSERT_LE(got->target, at_floor->target);
  }

  void CheckRuns(ModelPartition& p) {
    const auto& records = p.durable.records();
    if (records.empty()) return;
    const int64_t from = std::min(p.floor, std::prev(records.end())->first);
    std::vector<offsets::Run> got;
    auto s = map_->ForEachRun(
        RunFilter{p.key.flow, p.key.topic, p.key.partition},
        [&](const PartitionKey&, const offsets::Run& run) {
          if (run.source_end() <= S(from)) return true;
          offsets::Run clipped = run;
          if (clipped.source_start < S(from)) {
            const int64_t cut = from - clipped.source_start.value();
            clipped = offsets::Run{S(from), clipped.target_start + cut, clipped.count - cut};
          }
          got.push_back(clipped);
          return true;
        });
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(got, RunsOfRecords(records, from)) << p.key.topic << "/" << p.key.partition;
  }

  rm::testing::TempDir dir_;
  std::unique_ptr<OffsetStore> store_;
  std::unique_ptr<OffsetMap> map_;
  std::vector<ModelPartition> parts_;
};

TEST_F(OffsetMapModel, AgreesWithNaiveFullMapOverAMillionRandomOperations) {
  const uint64_t seed = Seed();
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto chance = [&](uint64_t one_in) { return rng() % one_in == 0; };
  auto uniform = [&](int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };

  parts_ = {{{"f", "a", 0}},
            {{"f", "a", 1}},
            {{"f", std::string("a\0b", 3), 0}},
            {{"f2", "a", 0}, 5000, 1'000'000}};
  Open();

  constexpr int kOperations = 1'200'000;
  int translations = 0, checkpoints = 0, prunes = 0, reopens = 0;
  for (int op = 0; op < kOperations; ++op) {
    auto& p = parts_[rng() % parts_.size()];
    const uint64_t dice = rng() % 1000;
    if (dice < 700) {                                    // deliver
      if (chance(150)) p.next_source += uniform(1, 40);  // source gap
      if (chance(250)) p.next_target += uniform(1, 15);  // delta change
      map_->OnDelivered(p.key, S(p.next_source), T(p.next_target));
      p.pending.push_back({p.next_source, p.next_target});
      ++p.next_source;
      ++p.next_target;
    } else if (dice < 998) {  // translate a position in and around the mapped range
      const int64_t position =
          chance(50) ? uniform(0, p.next_source + 100)
                     : uniform(std::max<int64_t>(0, p.next_source - 3000), p.next_source + 5);
      ASSERT_NO_FATAL_FAILURE(CheckTranslation(p, position));
      ++translations;
    } else if (dice < 999) {
      ASSERT_NO_FATAL_FAILURE(Checkpoint());
      ++checkpoints;
      if (chance(20)) {
        for (auto& q : parts_) ASSERT_NO_FATAL_FAILURE(CheckRuns(q));
      }
    } else if (chance(8)) {  // prune, at a durable point
      ASSERT_NO_FATAL_FAILURE(Checkpoint());
      const int64_t log_start = uniform(p.floor, p.next_source + 10);
      auto pruned = map_->Prune(p.key, S(log_start));
      ASSERT_TRUE(pruned.ok()) << pruned.error().message;
      p.durable.PruneBelow(log_start);
      p.floor = std::max(p.floor, log_start);
      ++prunes;
    } else if (chance(30)) {  // reopen: reports since the last checkpoint are gone
      Close();
      for (auto& q : parts_) q.pending.clear();
      ASSERT_NO_FATAL_FAILURE(Open());
      ++reopens;
    }
  }
  ASSERT_NO_FATAL_FAILURE(Checkpoint());
  for (auto& p : parts_) {
    ASSERT_NO_FATAL_FAILURE(CheckRuns(p));
    for (int64_t position = std::max<int64_t>(0, p.next_source - 2000);
         position <= p.next_source + 2; ++position) {
      ASSERT_NO_FATAL_FAILURE(CheckTranslation(p, position));
    }
  }
  Close();
  ASSERT_NO_FATAL_FAILURE(Open());
  for (auto& p : parts_) ASSERT_NO_FATAL_FAILURE(CheckRuns(p));

  std::printf("seed %llu: %d operations, %d translations, %d checkpoints, %d prunes, %d reopens\n",
              static_cast<unsigned long long>(seed), kOperations, translations, checkpoints, prunes,
              reopens);
  EXPECT_GT(prunes, 0);
  EXPECT_GT(reopens, 0);
}

}  // namespace
}  // namespace rm::offsets
