// The mirror's completion path with source gaps, which the testbed cannot produce (no
// compaction, no transaction markers: docs/architecture.md "The testbed's mock cluster"). A fake
// source with missing offsets and filtered records is driven through CompletionTracker -> the
// flow's offsets sink (OffsetSyncPublisher over an OffsetMap), with delivery reports in random
// order, foreign writes interleaved into the target and, in one test, crashes that drop everything
// not checkpointed and restart per the DeliverySink::LastDurable contract. Every translation is
// then checked against a naive model built from the fake target log, and the map rebuilt from
// the published OffsetSync records is compared with the original run for run.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "mirror/completion_tracker.h"
#include "offsets/checkpoint_store.h"
#include "offsets/kafka/group_checkpointer.h"
#include "offsets/kafka/offset_sync_publisher.h"
#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "offsets/offset_sync_emitter.h"
#include "replication/config.h"
#include "tests/offsets/offsets_test_util.h"

namespace rm::mirror {
namespace {

using common::SourceOffset;
using common::TargetOffset;
using offsets::PartitionKey;
using offsets::kafka::GroupCheckpointer;
using offsets::kafka::kInternalTopicPartition;
using offsets::kafka::OffsetSyncPublisher;
using offsets::kafka::RecordWriter;
using offsets::testing::NaiveMap;

const std::string kFlow = "us-east->eu-west";
const std::string kSyncTopic = "mm2-offset-syncs.us-east.internal";

// Captures what the publisher writes; refuses a write now and then, as a full producer queue
// does, to check that syncs are retried in order.
class FakeWriter : public RecordWriter {
 public:
  // The newest `unacknowledged` records are never acknowledged: a kill may drop them.
  FakeWriter(std::mt19937* rng, int refuse_percent, size_t unacknowledged)
      : rng_(rng), refuse_(refuse_percent), unacknowledged_(unacknowledged) {}
  bool Write(const std::string& topic, int32_t partition,
             const offsets::mm2::KafkaRecord& record) override {
    if (static_cast<int>((*rng_)() % 100) < refuse_) return false;
    EXPECT_EQ(topic, kSyncTopic);
    EXPECT_EQ(partition, kInternalTopicPartition);
    records_.push_back(record);
    return true;
  }
  // kill -9: what was still in the producer's queue never reaches the topic.
  void DropLast(size_t n) { records_.resize(records_.size() - std::min(n, records_.size())); }
  void Poll() override {}
  uint64_t Acknowledged(const std::string&) const override {
    return records_.size() - std::min(unacknowledged_, records_.size());
  }
  common::Status Flush(std::chrono::milliseconds) override { return common::Status::Ok(); }
  const std::vector<offsets::mm2::KafkaRecord>& records() const { return records_; }

 private:
  std::mt19937* rng_;
  int refuse_;
  size_t unacknowledged_;
  std::vector<offsets::mm2::KafkaRecord> records_;
};

struct SimOptions {
  int partitions = 3;
  int records_per_partition = 20000;
  int gap_percent = 8;        // source offsets that do not exist (compacted, markers)
  int filtered_percent = 3;   // records the cycle guard skips
  int foreign_percent = 0;    // chance of a foreign record in the target before an append
  int crash_every_steps = 0;  // 0: never crash
  int refuse_percent = 0;
  size_t lost_syncs_per_crash = 0;  // at most this many of the newest syncs are lost
  unsigned seed = 1;
};

// One source partition and its target partition, as the flow sees them.
struct Partition {
  PartitionKey key;
  std::vector<int64_t> source;  // the offsets that exist, increasing (missing ones are gaps)
  std::set<int64_t> filtered;
  size_t next = 0;  // index in `source` of the next record to consume
  std::unique_ptr<CompletionTracker> tracker;
  std::deque<std::pair<uint64_t, int64_t>> queued;  // produced, not yet in the target: slot, s
  std::vector<std::pair<uint64_t, int64_t>> acked;  // in the target, report pending: slot, t
  std::vector<int64_t> target_log;                  // source offset of each target record; -1
};

class Simulation {
 public:
  Simulation(const std::filesystem::path& dir, const SimOptions& o)
      : dir_(dir), o_(o), rng_(o.seed), writer_(&rng_, o.refuse_percent, o.lost_syncs_per_crash) {
    for (int p = 0; p < o.partitions; ++p) {
      Partition part;
      part.key = {kFlow, "orders", p};
      int64_t offset = 0;
      while (static_cast<int>(part.source.size()) < o.records_per_partition) {
        if (Percent(o.gap_percent)) {
          offset += 1 + static_cast<int64_t>(rng_() % 5);  // a run of missing offsets
          continue;
        }
        if (Percent(o.filtered_percent)) part.filtered.insert(offset);
        part.source.push_back(offset++);
      }
      parts_.push_back(std::move(part));
    }
    Open();
    for (auto& p : parts_) Resume(p);
  }

  void Run() {
    int steps = 0;
    while (!Done()) {
      ++steps;
      auto& p = parts_[rng_() % parts_.size()];
      switch (rng_() % 6) {
        case 0:
        case 1:
          Consume(p, 1 + rng_() % 50);
          break;
        case 2:
          Append(p, 1 + rng_() % 60);
          break;
        case 3:
          Acknowledge(p, 1 + rng_() % 60);
          break;
        case 4:
          for (auto& q : parts_) Drain(q);
          break;
        case 5:
          if (rng_() % 4 == 0) {
            for (auto& q : parts_) Drain(q);
            ASSERT_TRUE(publisher_->Checkpoint().ok());
          }
          break;
      }
      // Crashes come at any time, also before the first checkpoint of a partition (the
      // fresh-start floor then says where to re-read the target from).
      if (o_.crash_every_steps > 0 &&
          (steps % o_.crash_every_steps == 0 || steps == 3 || steps == 10)) {
        Crash();
      }
    }
    // Let everything land, then a final checkpoint (what a clean stop does).
    for (auto& p : parts_) {
      Append(p, SIZE_MAX);
      Acknowledge(p, SIZE_MAX);
      Drain(p);
    }
    ASSERT_TRUE(publisher_->Checkpoint().ok());
    // Later checkpoints publish what a full producer queue refused.
    for (int i = 0; i < 100000 && publisher_->stats().syncs_pending > 0; ++i) {
      ASSERT_TRUE(publisher_->Checkpoint().ok());
    }
    ASSERT_EQ(publisher_->stats().syncs_pending, 0u);
  }

  // Every source position of every partition translates as the naive model of the target says.
  void ExpectExactTranslations() {
    for (const auto& p : parts_) {
      NaiveMap naive;
      for (size_t t = 0; t < p.target_log.size(); ++t) {
        if (p.target_log[t] >= 0) naive.Deliver(p.target_log[t], static_cast<int64_t>(t));
      }
      ASSERT_GT(naive.size(), 0u);
      size_t bad = 0;
      for (int64_t s = 0; s <= p.source.back() + 3; ++s) {
        auto got = map_->Translate(p.key, SourceOffset(s));
        ASSERT_TRUE(got.ok()) << got.error().message;
        auto want = naive.Translate(s);
        if (!(*got == want) && bad++ < 5) {
          ADD_FAILURE() << "partition " << p.key.partition << " source " << s << ": got "
                        << offsets::ToString(got->kind) << "@" << got->target.value() << ", want "
                        << offsets::ToString(want.kind) << "@" << want.target.value();
        }
      }
      EXPECT_EQ(bad, 0u) << "partition " << p.key.partition;
    }
  }

  std::vector<std::pair<PartitionKey, offsets::Run>> Runs(const offsets::OffsetMap& map) const {
    std::vector<std::pair<PartitionKey, offsets::Run>> out;
    EXPECT_TRUE(map.ForEachRun({},
                               [&](const PartitionKey& p, const offsets::Run& r) {
                                 out.push_back({p, r});
                                 return true;
                               })
                    .ok());
    return out;
  }

  // The map rebuilt from the published syncs equals this one, run for run.
  void ExpectRebuildEqualsMap(const std::filesystem::path& rebuild_dir) {
    std::vector<offsets::mm2::OffsetSync> syncs;
    for (const auto& r : writer_.records()) {
      auto sync = offsets::mm2::DecodeOffsetSync(r);
      ASSERT_TRUE(sync.ok()) << sync.error().message;
      syncs.push_back(*sync);
    }
    auto store = offsets::testing::OpenStore(rebuild_dir);
    ASSERT_TRUE(store);
    offsets::OffsetMap rebuilt(*store);
    auto stats = offsets::RebuildFromOffsetSyncs(rebuilt, kFlow, syncs);
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    EXPECT_EQ(stats->invalid_syncs, 0u);
    auto original = Runs(*map_);
    auto copy = Runs(rebuilt);
    ASSERT_EQ(copy.size(), original.size());
    for (size_t i = 0; i < original.size(); ++i) {
      ASSERT_EQ(copy[i].first, original[i].first) << i;
      ASSERT_EQ(copy[i].second, original[i].second) << i;
    }
  }

  // The map rebuilt from the published syncs claims nothing the original does not.
  void ExpectRebuildWithinMap(const std::filesystem::path& rebuild_dir) {
    std::vector<offsets::mm2::OffsetSync> syncs;
    for (const auto& r : writer_.records()) {
      auto sync = offsets::mm2::DecodeOffsetSync(r);
      ASSERT_TRUE(sync.ok()) << sync.error().message;
      syncs.push_back(*sync);
    }
    auto store = offsets::testing::OpenStore(rebuild_dir);
    ASSERT_TRUE(store);
    offsets::OffsetMap rebuilt(*store);
    ASSERT_TRUE(offsets::RebuildFromOffsetSyncs(rebuilt, kFlow, syncs).ok());
    int64_t covered = 0;
    for (const auto& [p, run] : Runs(rebuilt)) {
      for (int64_t i = 0; i < run.count; ++i) {
        auto t = map_->Translate(p, run.source_start + i);
        ASSERT_TRUE(t.ok());
        ASSERT_EQ(*t, (offsets::TranslationResult{offsets::TranslationKind::kExact,
                                                  run.target_start + i}))
            << "rebuilt map claims " << (run.source_start + i).value() << " -> "
            << (run.target_start + i).value();
      }
      covered += run.count;
    }
    int64_t total = 0;
    for (const auto& [p, run] : Runs(*map_)) total += run.count;
    EXPECT_GT(covered, total / 2) << "the rebuild lost most of the map";
  }

  int crashes() const { return crashes_; }
  // Partitions resumed from a fresh-start floor (crashed before their first checkpoint).
  int floor_resumes() const { return floor_resumes_; }
  size_t gaps_in_runs() const { return Runs(*map_).size(); }

 private:
  bool Percent(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  bool Done() const {
    for (const auto& p : parts_) {
      if (p.next < p.source.size()) return false;
    }
    return true;
  }

  void Open() {
    store_ = offsets::testing::OpenStore(dir_);
    ASSERT_TRUE(store_);
    map_ = std::make_unique<offsets::OffsetMap>(*store_);
    publisher_ = std::make_unique<OffsetSyncPublisher>(*map_, kFlow, kSyncTopic, &writer_);
    publisher_->SetTopicReady();
  }

  // The consumer hands records to the producer (or the cycle guard skips them).
  void Consume(Partition& p, size_t n) {
    for (; n > 0 && p.next < p.source.size(); --n) {
      const int64_t s = p.source[p.next++];
      if (p.filtered.count(s)) {
        p.tracker->Skip(SourceOffset(s));
      } else {
        p.queued.push_back({p.tracker->Add(SourceOffset(s)), s});
      }
    }
  }

  // The broker appends produced records in order; other writers may get in between.
  void Append(Partition& p, size_t n) {
    for (; n > 0 && !p.queued.empty(); --n) {
      while (Percent(o_.foreign_percent)) p.target_log.push_back(-1);
      auto [slot, s] = p.queued.front();
      p.queued.pop_front();
      p.acked.push_back({slot, static_cast<int64_t>(p.target_log.size())});
      p.target_log.push_back(s);
    }
  }

  // Delivery reports, in random order.
  void Acknowledge(Partition& p, size_t n) {
    std::shuffle(p.acked.begin(), p.acked.end(), rng_);
    for (; n > 0 && !p.acked.empty(); --n) {
      auto [slot, t] = p.acked.back();
      p.acked.pop_back();
      p.tracker->Delivered(slot, TargetOffset(t));
    }
  }

  void Drain(Partition& p) {
    p.tracker->Drain([&](SourceOffset s, TargetOffset t) { publisher_->OnDelivered(p.key, s, t); });
  }

  // kill -9: everything not checkpointed is gone from the map, records not yet appended are
  // gone from the producer; the target keeps what it appended. Then the flow resumes.
  void Crash() {
    ++crashes_;
    if (o_.lost_syncs_per_crash > 0) writer_.DropLast(rng_() % (o_.lost_syncs_per_crash + 1));
    publisher_.reset();
    map_.reset();
    store_.reset();
    Open();
    for (auto& p : parts_) {
      p.queued.clear();
      p.acked.clear();
      Resume(p);
    }
  }

  // Flow::ResumePosition, on the fake target log, with the sink's restart contract.
  void Resume(Partition& p) {
    auto durable = publisher_->LastDurable(p.key);
    ASSERT_TRUE(durable.ok());
    std::optional<TargetOffset> floor;
    if (!*durable) {
      auto f = publisher_->FreshStartFloor(p.key);
      ASSERT_TRUE(f.ok());
      floor = *f;
    }
    int64_t last_source = -1, last_target = -1;
    auto report = [&](size_t from) {
      for (size_t t = from; t < p.target_log.size(); ++t) {
        const int64_t s = p.target_log[t];
        if (s <= last_source) continue;  // foreign (-1) or already known
        publisher_->OnDelivered(p.key, SourceOffset(s), TargetOffset(static_cast<int64_t>(t)));
        last_source = s;
        last_target = static_cast<int64_t>(t);
      }
    };
    if (*durable) {
      last_source = (*durable)->source.value();
      report(static_cast<size_t>((*durable)->target.value()) + 1);
    } else if (floor) {
      ++floor_resumes_;
      report(static_cast<size_t>(floor->value()));
    } else {
      // Fresh start: only the last copy is reported, and where copies (re)start is recorded.
      for (size_t t = p.target_log.size(); t-- > 0;) {
        if (p.target_log[t] < 0) continue;
        last_source = p.target_log[t];
        last_target = static_cast<int64_t>(t);
        publisher_->OnDelivered(p.key, SourceOffset(last_source), TargetOffset(last_target));
        break;
      }
      ASSERT_TRUE(
          publisher_
              ->MarkFreshStart(
                  p.key, TargetOffset(last_target >= 0 ? last_target
                                                       : static_cast<int64_t>(p.target_log.size())))
              .ok());
    }
    const int64_t resume = last_source + 1;
    p.tracker = std::make_unique<CompletionTracker>(SourceOffset(resume));
    p.next = static_cast<size_t>(std::lower_bound(p.source.begin(), p.source.end(), resume) -
                                 p.source.begin());
  }

  std::filesystem::path dir_;
  SimOptions o_;
  std::mt19937 rng_;
  FakeWriter writer_;
  std::vector<Partition> parts_;
  std::unique_ptr<offsets::OffsetStore> store_;
  std::unique_ptr<offsets::OffsetMap> map_;
  std::unique_ptr<OffsetSyncPublisher> publisher_;
  int crashes_ = 0;
  int floor_resumes_ = 0;
};

TEST(CompletionGaps, SourceGapsFilteredRecordsAndForeignTargetWritesTranslateExactly) {
  rm::testing::TempDir dir;
  SimOptions o;
  o.foreign_percent = 2;
  o.refuse_percent = 2;
  o.seed = 7;
  Simulation sim(dir / "map", o);
  sim.Run();
  if (HasFatalFailure()) return;
  EXPECT_GT(sim.gaps_in_runs(), 1000u) << "the fake source should produce many runs";
  sim.ExpectExactTranslations();
  sim.ExpectRebuildEqualsMap(dir / "rebuilt");
}

TEST(CompletionGaps, CrashesBetweenCheckpointsKeepTranslationsExactAfterRestart) {
  rm::testing::TempDir dir;
  SimOptions o;
  o.crash_every_steps = 150;
  o.seed = 11;
  Simulation sim(dir / "map", o);
  sim.Run();
  if (HasFatalFailure()) return;
  EXPECT_GT(sim.crashes(), 5);
  EXPECT_GT(sim.floor_resumes(), 0);
  sim.ExpectExactTranslations();
  // No foreign writes: an equal delta across a restart means every record between was
  // delivered, so even the syncs of restarted emitters rebuild the same runs.
  sim.ExpectRebuildEqualsMap(dir / "rebuilt");
}

TEST(CompletionGaps, SyncsLostInAKillNeverMakeTheRebuiltMapClaimMore) {
  rm::testing::TempDir dir;
  SimOptions o;
  o.crash_every_steps = 170;
  o.lost_syncs_per_crash = 4;
  o.seed = 5;
  Simulation sim(dir / "map", o);
  sim.Run();
  if (HasFatalFailure()) return;
  EXPECT_GT(sim.crashes(), 5);
  sim.ExpectExactTranslations();
  sim.ExpectRebuildWithinMap(dir / "rebuilt");
}

TEST(CompletionGaps, NothingButGapsStillMapsEveryDeliveredRecord) {
  rm::testing::TempDir dir;
  SimOptions o;
  o.partitions = 1;
  o.records_per_partition = 3000;
  o.gap_percent = 60;
  o.filtered_percent = 30;
  o.seed = 3;
  Simulation sim(dir / "map", o);
  sim.Run();
  if (HasFatalFailure()) return;
  sim.ExpectExactTranslations();
  sim.ExpectRebuildEqualsMap(dir / "rebuilt");
}

// Pruning is driven from the flow's log start reports but done on the checkpointer's thread.
TEST(CompletionGaps, RunsBelowTheSourceLogStartArePrunedOffTheDataPath) {
  rm::testing::TempDir dir;
  auto store = offsets::testing::OpenStore(dir / "map");
  ASSERT_TRUE(store);
  offsets::OffsetMap map(*store);
  offsets::CheckpointStore checkpoints(*store);
  OffsetSyncPublisher publisher(map, kFlow, kSyncTopic, nullptr);
  const PartitionKey key{kFlow, "orders", 0};
  for (int64_t s = 0; s < 100; ++s) publisher.OnDelivered(key, SourceOffset(s), TargetOffset(s));
  for (int64_t s = 110; s < 200; ++s) {
    publisher.OnDelivered(key, SourceOffset(s), TargetOffset(s - 10));
  }
  ASSERT_TRUE(publisher.Checkpoint().ok());
  publisher.OnSourceLogStart(key, SourceOffset(150));  // what the flow reports every 5 s

  replication::MirrorConfig config;
  config.clusters = {{"us-east", "127.0.0.1:1", {}}, {"eu-west", "127.0.0.1:1", {}}};
  replication::FlowConfig flow;
  flow.source = "us-east";
  flow.target = "eu-west";
  config.flows = {flow};
  GroupCheckpointer checkpointer(config, config.flows[0], map, checkpoints, nullptr, &publisher);
  checkpointer.PruneRound();
  EXPECT_EQ(checkpointer.stats().runs_pruned, 1u);
  auto floor = map.PruneFloor(key);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ(*floor, SourceOffset(150));
  auto kept = map.Translate(key, SourceOffset(150));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept,
            (offsets::TranslationResult{offsets::TranslationKind::kExact, TargetOffset(140)}));
  auto below = map.Translate(key, SourceOffset(5));
  ASSERT_TRUE(below.ok());
  EXPECT_EQ(*below, (offsets::TranslationResult{offsets::TranslationKind::kBelowEarliest,
                                                TargetOffset(100)}));
  checkpointer.PruneRound();  // nothing new reported: nothing to do
  EXPECT_EQ(checkpointer.stats().runs_pruned, 1u);
}

}  // namespace
}  // namespace rm::mirror
