// kill -9 of a mirror with an offset map while it copies under load and checkpoints the map and
// a consumer group: after every kill the store opens and claims nothing the target does not
// hold; at the end every source offset translates exactly to its copy (per the provenance
// headers in the target), and the map rebuilt from the offset-syncs topic equals the RocksDB
// map. Rounds: RM_KILL_ROUNDS (default 4).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "tests/offsets/offsets_kafka_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using common::SourceOffset;
using common::TargetOffset;

constexpr int kPartitions = 6;
const std::string kFlow = "us-east->eu-west";
const std::string kRemote = "us-east.load";
const std::string kGroup = "robust-app";

int Rounds() {
  const char* env = std::getenv("RM_KILL_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : 4;
}

// Produces to the source in batches until stopped, and moves a consumer group along behind it
// (so group checkpoints are taken while the mirror is killed). Capped under the testbed's
// per-partition retention (see BackgroundLoad).
BackgroundLoad::Options LoadOptions(const std::string& bootstrap) {
  BackgroundLoad::Options o;
  o.partitions = kPartitions;
  o.batch_records = 120;
  o.max_records = kPartitions * 40'000;
  auto rng = std::make_shared<std::mt19937>(42);
  auto produced = std::make_shared<std::map<int32_t, int64_t>>();
  auto batches = std::make_shared<int64_t>(0);
  o.after_batch = [bootstrap, rng, produced, batches](const std::vector<Record>& done) {
    for (const auto& r : done) {
      (*produced)[r.partition] = std::max((*produced)[r.partition], r.offset + 1);
    }
    if (++*batches % 5 != 0) return;
    std::vector<common::TopicPartition> commit;
    for (const auto& [p, end] : *produced) {
      commit.push_back({"load", p, static_cast<int64_t>((*rng)() % (end + 1))});
    }
    CommitGroupOffsets(bootstrap, kGroup, commit);
  };
  return o;
}

class OffsetsRobustness : public TestbedTest {
 protected:
  OffsetsMirrorSpec Spec() {
    OffsetsMirrorSpec s;
    s.source_bootstrap = Bootstrap("us-east");
    s.target_bootstrap = Bootstrap("eu-west");
    s.topics = {"load"};
    s.groups = {kGroup};
    s.offsets_dir = (tmp_.path() / "offsets").string();
    s.admin_port = -1;
    return s;
  }

  // source offset -> target offset of every copy in the target, per partition.
  std::map<int32_t, std::map<int64_t, int64_t>> Copies() {
    std::map<int32_t, std::map<int64_t, int64_t>> out;
    int64_t total = TotalHighWatermark(Bootstrap("eu-west"), kRemote);
    for (const auto& r : ConsumeWithOurClient(
             Bootstrap("eu-west"), kRemote, static_cast<size_t>(std::max<int64_t>(0, total)), 2s)) {
      auto prov = ProvenanceOf(r);
      EXPECT_EQ(prov.size(), 1u);
      if (prov.size() == 1) out[prov[0].partition][prov[0].offset] = r.offset;
    }
    return out;
  }

  // The offset-syncs topic's records for one source partition, in topic order.
  std::string DescribeSyncs(int32_t partition) {
    const std::string topic = "mm2-offset-syncs.us-east.internal";
    std::string out;
    int64_t total = TotalHighWatermark(Bootstrap("eu-west"), topic);
    for (const auto& r : ConsumeWithOurClient(
             Bootstrap("eu-west"), topic, static_cast<size_t>(std::max<int64_t>(0, total)), 2s)) {
      auto sync = offsets::mm2::DecodeOffsetSync(r.key.value_or(""), r.value.value_or(""));
      if (!sync.ok()) {
        out += fmt::format("  @{} undecodable: {}\n", r.offset, sync.error().message);
      } else if (sync->partition == partition) {
        out += fmt::format("  @{} ({}, {})\n", r.offset, sync->upstream_offset.value(),
                           sync->downstream_offset.value());
      }
    }
    return out;
  }

  static std::string DescribeRuns(
      const std::vector<std::pair<offsets::PartitionKey, offsets::Run>>& runs) {
    std::string out;
    for (const auto& [p, r] : runs) {
      out += fmt::format("  {}[{}] source {} -> target {}, {} records\n", p.topic, p.partition,
                         r.source_start.value(), r.target_start.value(), r.count);
    }
    return out;
  }

  std::vector<std::pair<offsets::PartitionKey, offsets::Run>> Runs(const offsets::OffsetMap& map) {
    std::vector<std::pair<offsets::PartitionKey, offsets::Run>> out;
    EXPECT_TRUE(map.ForEachRun({},
                               [&](const offsets::PartitionKey& p, const offsets::Run& r) {
                                 out.push_back({p, r});
                                 return true;
                               })
                    .ok());
    return out;
  }
};

TEST_F(OffsetsRobustness, KillNineDuringCheckpointsLeavesAnExactMapAndARebuildableSyncTopic) {
  tb().CreateTopic("us-east", "load", kPartitions);
  tb().CreateTopic("eu-west", kRemote, kPartitions);
  tb().CreateTopic("eu-west", "mm2-offset-syncs.us-east.internal", 1);
  tb().CreateTopic("eu-west", "us-east.checkpoints.internal", 1);
  std::mt19937 rng(static_cast<unsigned>(std::time(nullptr)));
  BackgroundLoad load(Bootstrap("us-east"), "load", LoadOptions(Bootstrap("us-east")));
  int64_t copied_before = 0;
  for (int round = 0; round < Rounds(); ++round) {
    if (load.exhausted()) {
      // Nothing new to copy mid-way: a kill now would test nothing more.
      fmt::print("round {}: the load reached its cap ({} records); no more rounds\n", round,
                 load.produced());
      ASSERT_GE(round, 2) << "too few kill rounds before the load's cap";
      break;
    }
    {
      OffsetsMirror mirror(Spec(), tmp_.path(), fmt::format("round{}", round));
      // Kill while records are copied and the map (every 200 ms) and the group (every 500 ms)
      // are checkpointed: once this instance copies, at a random instant within 2 s.
      auto deadline = std::chrono::steady_clock::now() + 60s;
      while (TotalHighWatermark(Bootstrap("eu-west"), kRemote) <= copied_before &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
      }
      auto wait = std::chrono::milliseconds(rng() % 2000);
      std::this_thread::sleep_for(wait);
      ASSERT_TRUE(mirror.running()) << mirror.Log();
      mirror.Kill();
      copied_before = TotalHighWatermark(Bootstrap("eu-west"), kRemote);
      fmt::print("round {}: killed {} ms into copying; target has {} records\n", round,
                 wait.count(), copied_before);
    }
    // The store opens, and every run it holds is in the target exactly as claimed.
    auto store = offsets::OffsetStore::Open(Spec().offsets_dir);
    ASSERT_TRUE(store.ok()) << store.error().message;
    offsets::OffsetMap map(**store);
    auto copies = Copies();
    int64_t mapped = 0;
    for (const auto& [p, run] : Runs(map)) {
      for (int64_t i = 0; i < run.count; ++i) {
        auto it = copies[p.partition].find((run.source_start + i).value());
        ASSERT_NE(it, copies[p.partition].end())
            << "round " << round << ": the map claims " << p.topic << "[" << p.partition << "] "
            << (run.source_start + i).value() << " which is not in the target";
        ASSERT_EQ(it->second, (run.target_start + i).value());
      }
      mapped += run.count;
    }
    fmt::print("round {}: the store maps {} records, all in the target\n", round, mapped);
  }
  const int64_t produced = load.Stop();

  OffsetsMirror final_mirror(Spec(), tmp_.path(), "final");
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), kRemote, produced, 180s), produced)
      << final_mirror.Log();
  ASSERT_EQ(final_mirror.Stop(), 0) << final_mirror.Log();

  auto copies = Copies();
  {
    auto store = offsets::OffsetStore::Open(Spec().offsets_dir);
    ASSERT_TRUE(store.ok()) << store.error().message;
    offsets::OffsetMap map(**store);
    size_t bad = 0, checked = 0;
    for (const auto& [p, by_source] : copies) {
      const offsets::PartitionKey key{kFlow, "load", p};
      for (const auto& [s, t] : by_source) {
        auto got = map.Translate(key, SourceOffset(s));
        ASSERT_TRUE(got.ok()) << got.error().message;
        ++checked;
        if (!(*got ==
              offsets::TranslationResult{offsets::TranslationKind::kExact, TargetOffset(t)}) &&
            bad++ < 5) {
          ADD_FAILURE() << "load[" << p << "] " << s << " -> " << got->target.value() << " ("
                        << offsets::ToString(got->kind) << "), its copy is at " << t;
        }
      }
      // The end of the source is the end of the copies.
      auto end = map.Translate(key, SourceOffset(by_source.rbegin()->first + 1));
      ASSERT_TRUE(end.ok());
      EXPECT_EQ(end->target.value(), by_source.rbegin()->second + 1);
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(checked, static_cast<size_t>(produced));
  }

  // A new instance rebuilds the same map from the offset-syncs topic.
  auto rebuild = RunRegionmirror({"offsets", "rebuild", "--config",
                                  (tmp_.path() / "final.yaml").string(), "--flow", kFlow, "--into",
                                  (tmp_.path() / "rebuilt").string(), "--log_level", "off"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.output;
  auto original_store = offsets::OffsetStore::Open(Spec().offsets_dir);
  auto rebuilt_store = offsets::OffsetStore::Open(tmp_.path() / "rebuilt");
  ASSERT_TRUE(original_store.ok() && rebuilt_store.ok());
  offsets::OffsetMap original(**original_store), rebuilt(**rebuilt_store);
  auto a = Runs(original), b = Runs(rebuilt);
  ASSERT_EQ(a.size(), b.size()) << rebuild.output << "original:\n"
                                << DescribeRuns(a) << "rebuilt:\n"
                                << DescribeRuns(b) << "offset syncs of partition 0:\n"
                                << DescribeSyncs(0);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second, b[i].second) << a[i].first.topic << "[" << a[i].first.partition << "]";
  }
}

}  // namespace
}  // namespace rm::testing
