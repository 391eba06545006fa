// OffsetSyncPublisher across kill -9: a mirror reports deliveries, checkpoints and publishes
// syncs, and is killed at random moments (reports since the last checkpoint and syncs not yet
// acknowledged by the topic are lost); each restart resumes as the flow does (LastDurable, then
// every copy the target holds past the durable record is reported again). At the end the map
// rebuilt from the syncs that reached the topic has exactly the original map's runs.
#include "offsets/kafka/offset_sync_publisher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"
#include "offsets/offset_sync_emitter.h"
#include "tests/offsets/offsets_test_util.h"
#include "tests/util/test_util.h"

namespace rm::offsets {
namespace {

using testing::AllRuns;
using testing::OpenStore;
using testing::S;
using testing::T;

// The offset-syncs topic: records written are in flight until the next Poll() acknowledges
// them; a kill keeps a random prefix of what is in flight.
class FakeSyncTopic final : public kafka::RecordWriter {
 public:
  bool Write(const std::string&, int32_t, const mm2::KafkaRecord& record) override {
    auto sync = mm2::DecodeOffsetSync(record);
    EXPECT_TRUE(sync.ok());
    if (sync.ok()) in_flight_.push_back(*sync);
    return true;
  }
  void Poll() override { Acknowledge(in_flight_.size()); }
  uint64_t Acknowledged(const std::string&) const override { return acknowledged_.size(); }
  common::Status Flush(std::chrono::milliseconds) override {
    Poll();
    return common::Status::Ok();
  }
  void Kill(std::mt19937& rng) {
    Acknowledge(in_flight_.empty() ? 0 : rng() % (in_flight_.size() + 1));
    in_flight_.clear();
  }
  const std::vector<mm2::OffsetSync>& acknowledged() const { return acknowledged_; }

 private:
  void Acknowledge(size_t n) {
    acknowledged_.insert(acknowledged_.end(), in_flight_.begin(), in_flight_.begin() + n);
    in_flight_.erase(in_flight_.begin(), in_flight_.begin() + n);
  }
  std::vector<mm2::OffsetSync> in_flight_, acknowledged_;
};

struct Copy {
  int64_t source, target;
};

// Stories per test: RM_KILL_STORIES (default 12; each reopens RocksDB a few times).
unsigned Stories() {
  const char* env = std::getenv("RM_KILL_STORIES");
  return env ? static_cast<unsigned>(std::max(1, std::atoi(env))) : 12;
}

std::string Describe(const std::vector<std::pair<PartitionKey, Run>>& runs) {
  std::string out;
  for (const auto& [p, r] : runs) {
    out += fmt::format("  [{}] {}->{} x{}\n", p.partition, r.source_start.value(),
                       r.target_start.value(), r.count);
  }
  return out;
}

struct KillRun {
  std::vector<std::pair<PartitionKey, Run>> original, rebuilt;
  std::string syncs;  // what reached the topic, for failure messages
};

// One mirror life story: 2-7 processes, all but the last killed. `gaps`: the copies have
// source gaps, target holes and same-delta gaps (several runs per partition); without, every
// partition is one run, as in a mirror of an ordinary topic.
KillRun RunWithKills(unsigned seed, bool gaps) {
  std::mt19937 rng(seed);
  rm::testing::TempDir dir;
  const std::vector<PartitionKey> parts = {{"f", "load", 0}, {"f", "load", 1}};
  std::vector<std::vector<Copy>> target(parts.size());  // what each target partition holds
  std::vector<Copy> next(parts.size(), Copy{0, 0});
  FakeSyncTopic topic;
  const int processes = 2 + static_cast<int>(rng() % 6);
  for (int process = 0; process < processes; ++process) {
    auto store = OpenStore(dir / "map");
    if (!store) return {};
    OffsetMap map(*store);
    kafka::OffsetSyncPublisher publisher(map, "f", "syncs", &topic);
    publisher.SetTopicReady();
    // Resume as Flow::ResumePositions does: everything past the durable copy is reported
    // again, in target order.
    for (size_t i = 0; i < parts.size(); ++i) {
      auto durable = publisher.LastDurable(parts[i]);
      EXPECT_TRUE(durable.ok());
      if (!durable.ok()) return {};
      for (const Copy& c : target[i]) {
        if (*durable && c.source <= (*durable)->source.value()) continue;
        publisher.OnDelivered(parts[i], S(c.source), T(c.target));
      }
    }
    const int steps = 1 + static_cast<int>(rng() % 60);
    for (int step = 0; step < steps; ++step) {
      const size_t i = rng() % parts.size();
      // Sometimes a source gap (compaction, transaction markers), a target hole (another
      // writer), or both of the same size (the same delta).
      const int64_t skip = gaps && rng() % 8 == 0 ? 1 + rng() % 3 : 0;
      const unsigned shape = rng() % 3;
      Copy c{next[i].source + (shape != 1 ? skip : 0), next[i].target + (shape != 0 ? skip : 0)};
      target[i].push_back(c);
      next[i] = Copy{c.source + 1, c.target + 1};
      publisher.OnDelivered(parts[i], S(c.source), T(c.target));
      if (rng() % 10 == 0) {
        EXPECT_TRUE(publisher.Checkpoint().ok());
      }
      if (rng() % 7 == 0) topic.Poll();
    }
    if (process + 1 == processes) {
      EXPECT_TRUE(publisher.Checkpoint().ok());  // a clean stop
      topic.Poll();
    } else {
      topic.Kill(rng);  // kill -9: reports since the last checkpoint die with the map object
    }
  }

  auto original_store = OpenStore(dir / "map");
  auto rebuilt_store = OpenStore(dir / "rebuilt");
  if (!original_store || !rebuilt_store) return {};
  OffsetMap original(*original_store), rebuilt(*rebuilt_store);
  EXPECT_TRUE(RebuildFromOffsetSyncs(rebuilt, "f", topic.acknowledged()).ok());
  KillRun out{AllRuns(original), AllRuns(rebuilt), ""};
  for (const auto& s : topic.acknowledged()) {
    out.syncs += fmt::format(" [{}]({},{}){}", s.partition, s.upstream_offset.value(),
                             s.downstream_offset.value(),
                             s.mark == mm2::SyncMark::kClosesRun ? "close" : "");
  }
  return out;
}

TEST(OffsetSyncPublisherKills, RebuiltMapHasTheOriginalRunsAfterRandomKills) {
  for (unsigned seed = 1; seed <= Stories(); ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    KillRun run = RunWithKills(seed, /*gaps=*/false);
    ASSERT_FALSE(run.original.empty());
    ASSERT_EQ(Describe(run.original), Describe(run.rebuilt)) << "syncs:" << run.syncs;
  }
}

// Several runs per partition, same-delta gaps among them: a kill may lose the syncs of many
// runs at once, and the restart must re-describe all of them.
TEST(OffsetSyncPublisherKills, RebuiltMapHasTheOriginalRunsWithManyRunsPerPartition) {
  for (unsigned seed = 1; seed <= Stories(); ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    KillRun run = RunWithKills(seed, /*gaps=*/true);
    ASSERT_FALSE(run.original.empty());
    ASSERT_EQ(Describe(run.original), Describe(run.rebuilt)) << "syncs:" << run.syncs;
  }
}

}  // namespace
}  // namespace rm::offsets
