// Consumer group failover on a two-region testbed: a source group stopped at random positions
// continues on the target at the translated position with exactly the record that comes next
// on the source; the MM2 checkpoint topic, the offsets CLI and the admin API say the same.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "offsets/checkpoint_store.h"
#include "offsets/mm2_format.h"
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

constexpr int kPartitions = 10;
constexpr int kRounds = 10;  // x 10 partitions = 100 positions
const std::string kGroup = "failover-app";
const std::string kRemote = "us-east.orders";

using Position = std::pair<int32_t, int64_t>;  // partition, offset

class OffsetsIntegration : public TestbedTest {
 protected:
  // Foreign records written straight into the target partition (other producers): they shift
  // the target offsets, so translation is not the identity and differs per partition.
  void WriteForeign(int per_partition_base) {
    std::vector<Record> foreign;
    for (int p = 0; p < kPartitions; ++p) {
      for (int i = 0; i < per_partition_base + p; ++i) {
        Record r;
        r.partition = p;
        r.key = fmt::format("foreign-{}-{}", p, i);
        r.value = "not from the source";
        foreign.push_back(r);
      }
    }
    ProduceWithOurClient(Bootstrap("eu-west"), kRemote, foreign);
    foreign_ += static_cast<int64_t>(foreign.size());
  }

  // Waits until the stored checkpoints of kGroup show `want` (source offsets per partition).
  std::map<int32_t, offsets::GroupCheckpoint> WaitForCheckpoints(
      offsets::OffsetStore& store, const std::map<int32_t, int64_t>& want) {
    offsets::CheckpointStore checkpoints(store);
    std::map<int32_t, offsets::GroupCheckpoint> got;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      EXPECT_TRUE(store.CatchUp().ok());
      auto list = checkpoints.List({kGroup, std::nullopt, std::string("orders")});
      EXPECT_TRUE(list.ok());
      got.clear();
      size_t matching = 0;
      for (const auto& c : *list) {
        got[c.partition] = c;
        auto it = want.find(c.partition);
        if (it != want.end() && it->second == c.source_offset.value()) ++matching;
      }
      if (matching == want.size()) return got;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "checkpoints of " << kGroup << " did not reach the committed positions";
    return got;
  }

  int64_t foreign_ = 0;
};

TEST_F(OffsetsIntegration, GroupStoppedAtHundredRandomPositionsContinuesOnTargetAtTheNextRecord) {
  tb().CreateTopic("us-east", "orders", kPartitions);
  tb().CreateTopic("eu-west", kRemote, kPartitions);
  tb().CreateTopic("eu-west", "mm2-offset-syncs.us-east.internal", 1);
  tb().CreateTopic("eu-west", "us-east.checkpoints.internal", 1);
  WriteForeign(1);

  OffsetsMirrorSpec spec;
  spec.source_bootstrap = Bootstrap("us-east");
  spec.target_bootstrap = Bootstrap("eu-west");
  spec.topics = {"orders"};
  spec.groups = {kGroup};
  spec.offsets_dir = (tmp_.path() / "offsets").string();
  spec.sync_group_offsets = true;
  OffsetsMirror mirror(spec, tmp_.path(), "mirror");

  // Two phases with foreign writes in between: two runs per partition, different deltas.
  ProduceWithOurClient(Bootstrap("us-east"), "orders", MakeRecords(3000, kPartitions, 24));
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), kRemote, foreign_ + 3000, 120s), foreign_ + 3000)
      << mirror.Log();
  WriteForeign(2);
  ProduceWithOurClient(Bootstrap("us-east"), "orders",
                       MakeRecords(3000, kPartitions, 24, 1'800'000'000'000));
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), kRemote, foreign_ + 6000, 120s), foreign_ + 6000)
      << mirror.Log();

  std::map<Position, Record> source_at, target_at;
  for (auto& r : ConsumeWithOurClient(Bootstrap("us-east"), "orders", 6000, 3s)) {
    source_at[{r.partition, r.offset}] = r;
  }
  for (auto& r : ConsumeWithOurClient(Bootstrap("eu-west"), kRemote, foreign_ + 6000, 3s)) {
    target_at[{r.partition, r.offset}] = r;
  }
  ASSERT_EQ(source_at.size(), 6000u);
  std::map<int32_t, int64_t> source_end, target_end;
  for (const auto& [pos, r] : source_at) source_end[pos.first] = pos.second + 1;
  for (const auto& [pos, r] : target_at) target_end[pos.first] = pos.second + 1;

  // The mirror holds the store: watch it as a secondary instance, as the CLI does.
  std::unique_ptr<offsets::OffsetStore> store;
  for (int i = 0; i < 50 && !store; ++i) {
    offsets::OffsetStoreOptions o;
    o.secondary = true;
    auto s = offsets::OffsetStore::Open(spec.offsets_dir, o);
    if (s.ok()) store = std::move(s).value();
    if (!store) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(store);

  std::mt19937 rng(static_cast<unsigned>(std::time(nullptr)));
  std::map<int32_t, int64_t> highest_target;  // what the sync to the target may have reached
  std::map<int32_t, offsets::GroupCheckpoint> last;
  size_t checked = 0, at_end = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::map<int32_t, int64_t> want;
    std::vector<common::TopicPartition> commit;
    for (int p = 0; p < kPartitions; ++p) {
      // Offsets 0..end inclusive: "at the end" is a position too (nothing left to read).
      int64_t s = static_cast<int64_t>(rng() % static_cast<unsigned>(source_end[p] + 1));
      if (round == 0 && p == 0) s = source_end[p];
      want[p] = s;
      commit.push_back({"orders", p, s});
    }
    CommitGroupOffsets(Bootstrap("us-east"), kGroup, commit);
    last = WaitForCheckpoints(*store, want);
    ASSERT_EQ(last.size(), static_cast<size_t>(kPartitions));
    for (const auto& [p, c] : last) {
      const int64_t s = c.source_offset.value();
      const int64_t t = c.target_offset.value();
      highest_target[p] = std::max(highest_target[p], t);
      ++checked;
      if (s == source_end[p]) {
        // Nothing comes next on the source, and nothing of ours on the target either.
        EXPECT_EQ(t, target_end[p]) << "partition " << p;
        ++at_end;
        continue;
      }
      auto it = target_at.find({p, t});
      ASSERT_NE(it, target_at.end()) << "partition " << p << " source " << s << " -> " << t;
      EXPECT_TRUE(SameRecord(source_at.at({p, s}), it->second))
          << "partition " << p << " source " << s << " -> target " << t << " holds key "
          << it->second.key.value_or("(null)");
      auto prov = ProvenanceOf(it->second);
      ASSERT_EQ(prov.size(), 1u);
      EXPECT_EQ(prov[0].offset, s);
      EXPECT_EQ(c.kind, offsets::TranslationKind::kExact);
    }
    // And literally: a consumer starting there reads what a source consumer reads next.
    const int32_t p = static_cast<int32_t>(round % kPartitions);
    auto on_target = FirstRecordAt(Bootstrap("eu-west"), kRemote, p, last[p].target_offset.value());
    auto on_source = FirstRecordAt(Bootstrap("us-east"), "orders", p, want[p]);
    ASSERT_EQ(on_target.has_value(), on_source.has_value()) << "partition " << p;
    if (on_source) {
      EXPECT_TRUE(SameRecord(*on_source, *on_target)) << "partition " << p;
    }
  }
  EXPECT_EQ(checked, static_cast<size_t>(kRounds * kPartitions));
  EXPECT_GE(at_end, 1u);

  // MM2's checkpoint topic: the newest record per partition holds the last positions, under
  // the remote topic name.
  auto records =
      ConsumeWithOurClient(Bootstrap("eu-west"), "us-east.checkpoints.internal", SIZE_MAX, 2s);
  ASSERT_FALSE(records.empty());
  std::map<int32_t, offsets::mm2::Checkpoint> newest;
  for (const auto& r : records) {
    auto cp = offsets::mm2::DecodeCheckpoint(r.key.value_or(""), r.value.value_or(""));
    ASSERT_TRUE(cp.ok()) << cp.error().message;
    EXPECT_EQ(cp->group, kGroup);
    EXPECT_EQ(cp->topic, kRemote);
    newest[cp->partition] = *cp;
  }
  for (const auto& [p, c] : last) {
    ASSERT_TRUE(newest.count(p)) << p;
    EXPECT_EQ(newest[p].upstream_offset, c.source_offset) << p;
    EXPECT_EQ(newest[p].downstream_offset, c.target_offset) << p;
  }
  // The independent decoder (written from MM2's schema) reads the same from the last record.
  WriteFile(tmp_.path() / "cp.key", records.back().key.value_or(""));
  WriteFile(tmp_.path() / "cp.value", records.back().value.value_or(""));
  auto py =
      RunCommand({"python3", (SourceDir() / "tests/offsets/mm2_decode.py").string(), "checkpoint",
                  (tmp_.path() / "cp.key").string(), (tmp_.path() / "cp.value").string()});
  ASSERT_EQ(py.exit_code, 0) << py.output;
  auto decoded = nlohmann::json::parse(py.output);
  auto ours = offsets::mm2::DecodeCheckpoint(*records.back().key, *records.back().value);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(decoded["group"], ours->group);
  EXPECT_EQ(decoded["topic"], ours->topic);
  EXPECT_EQ(decoded["partition"], ours->partition);
  EXPECT_EQ(decoded["upstreamOffset"], ours->upstream_offset.value());
  EXPECT_EQ(decoded["offset"], ours->downstream_offset.value());

  // The CLI (secondary store, beside the running mirror) and the admin API agree.
  auto cli = RunRegionmirror({"offsets", "translate", "--config", mirror.config(), "--group",
                              kGroup, "--json", "--log_level", "off"});
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  auto cli_rows = nlohmann::json::parse(cli.output);
  auto http = testbed::ControlClient(mirror.AdminAddress())
                  .Request("GET", "/offsets/translate?group=" + kGroup, "");
  ASSERT_TRUE(http.ok());
  ASSERT_EQ(http->first, 200) << http->second;
  auto http_rows = nlohmann::json::parse(http->second);
  auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->second.find("rm_offsets_group_checkpoints_total{flow=\"us-east->eu-west\"}"),
            std::string::npos)
      << metrics->second;
  EXPECT_NE(metrics->second.find("rm_offsets_syncs_published_total"), std::string::npos);
  EXPECT_EQ(cli_rows, http_rows);
  ASSERT_EQ(cli_rows.size(), static_cast<size_t>(kPartitions)) << cli.output;
  for (const auto& row : cli_rows) {
    const int32_t p = row["partition"];
    EXPECT_EQ(row["from"], "live");
    EXPECT_EQ(row["remote_topic"], kRemote);
    EXPECT_EQ(row["source_offset"], last[p].source_offset.value());
    EXPECT_EQ(row["target_offset"], last[p].target_offset.value());
  }

  // The dump shows two runs per partition (the foreign writes changed the delta once).
  auto dump = RunRegionmirror(
      {"offsets", "dump", "--config", mirror.config(), "--json", "--log_level", "off"});
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  auto dumped = nlohmann::json::parse(dump.output);
  EXPECT_EQ(dumped["runs"].size(), static_cast<size_t>(2 * kPartitions)) << dump.output;
  EXPECT_EQ(dumped["checkpoints"].size(), static_cast<size_t>(kPartitions));

  // sync_group_offsets: the group on the target reached the furthest translated positions
  // (commits there only ever move forward).
  std::vector<common::TopicPartition> remote;
  for (int p = 0; p < kPartitions; ++p) remote.push_back({kRemote, p});
  std::vector<common::TopicPartition> synced;
  for (auto deadline = std::chrono::steady_clock::now() + 15s;
       std::chrono::steady_clock::now() < deadline;) {
    synced = CommittedOffsets(Bootstrap("eu-west"), kGroup, remote);
    bool done = synced.size() == remote.size();
    for (const auto& tp : synced) done = done && tp.offset == highest_target[tp.partition];
    if (done) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(synced.size(), remote.size());
  for (const auto& tp : synced) {
    EXPECT_EQ(tp.offset, highest_target[tp.partition]) << "partition " << tp.partition;
  }

  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();

  // Failover: the source region is down; translate answers from the stored checkpoints.
  for (int broker = 1; broker <= 3; ++broker) {
    ASSERT_TRUE(tb().testbed().SetBrokerDown("us-east", broker).ok());
  }
  auto down = RunRegionmirror({"offsets", "translate", "--config", mirror.config(), "--group",
                               kGroup, "--json", "--log_level", "off"});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  auto stored_rows = nlohmann::json::parse(down.output);
  ASSERT_EQ(stored_rows.size(), static_cast<size_t>(kPartitions)) << down.output;
  for (const auto& row : stored_rows) {
    const int32_t p = row["partition"];
    EXPECT_EQ(row["from"], "checkpoint");
    EXPECT_EQ(row["target_offset"], last[p].target_offset.value());
  }
}

}  // namespace
}  // namespace rm::testing
