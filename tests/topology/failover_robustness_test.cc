// Issue 13, scenario 4: `topology failover` killed with SIGKILL at each step (right after the
// step's side effect and before its record is saved, and right after the record is saved), then
// re-run: the end state (record and commits in eu-west) equals an uninterrupted run's.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/topology/failover_support.h"

namespace rm::testing {
namespace {

const char* kStateAfterStep[] = {"", "positioned", "translated", "checked", "committed", "done"};

struct CrashPoint {
  int step;
  bool before_save;
  std::string group() const {
    return fmt::format("g-{}-{}", step, before_save ? "before" : "after");
  }
};

std::vector<CrashPoint> CrashPoints() {
  std::vector<CrashPoint> out;
  for (int step = 1; step <= 5; ++step) {
    out.push_back({step, true});
    out.push_back({step, false});
  }
  return out;
}

class FailoverRobustness : public FailoverScenario {
 protected:
  std::vector<std::string> Groups() const override {
    std::vector<std::string> g = {"g-clean"};
    for (const auto& c : CrashPoints()) g.push_back(c.group());
    return g;
  }

  // The record of `group` as `topology status` reports it (null when none).
  nlohmann::json Record(const std::string& group) {
    auto status = Topology({"status", "--source_timeout_ms", "1000"});
    for (const auto& g : status["groups"]) {
      if (g["group"] == group) return g["record"];
    }
    return nullptr;
  }

  // What must be equal: everything but the times and the group's name (the groups' positions
  // are the same, their checkpoints were taken at slightly different times).
  static nlohmann::json EndState(nlohmann::json record) {
    const std::string group = record["group"];
    record.erase("group");
    record.erase("started_ms");
    record.erase("updated_ms");
    std::string activity = record["activity"];
    for (auto at = activity.find(group); at != std::string::npos; at = activity.find(group)) {
      activity.replace(at, group.size(), "G");
    }
    record["activity"] = activity;
    for (auto& p : record["partitions"]) p.erase("checkpoint_ms");
    return record;
  }
};

TEST_F(FailoverRobustness, FailoverKilledAtEachStepAndReRunEndsAsAnUninterruptedRun) {
  StartMirror();
  Produce("us-east", "orders", "us", 0, 200);
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", 200, 120s), 200) << MirrorLog();
  // Every group stopped at the same positions in us-east.
  OncallSession positions;
  std::vector<common::TopicPartition> commit;
  for (int p = 0; p < kFailoverPartitions; ++p) {
    commit.push_back({"orders", p, 7 + 11 * p});
    positions.committed[fmt::format("orders/{}", p)] = 7 + 11 * p;
  }
  for (const auto& g : Groups()) CommitGroupOffsets(Bootstrap("us-east"), g, commit);
  for (const auto& g : Groups()) WaitForCheckpoint(g, positions);
  StopMirror();
  SetRegion("us-east", false);

  auto clean = Topology({"failover", "--from", "us-east", "--to", "eu-west", "--group", "g-clean"});
  ASSERT_EQ(clean["groups"][0]["state"], "done") << last_output_;
  const nlohmann::json want = EndState(clean["groups"][0]);
  std::vector<common::TopicPartition> remote;
  for (int p = 0; p < kFailoverPartitions; ++p) remote.push_back({"us-east.orders", p});
  const auto want_commits = CommittedOffsets(Bootstrap("eu-west"), "g-clean", remote);
  ASSERT_EQ(want_commits.size(), remote.size());

  for (const auto& c : CrashPoints()) {
    SCOPED_TRACE(c.group());
    const std::string spec = fmt::format("{}{}", c.step, c.before_save ? ":before" : "");
    Topology({"failover", "--from", "us-east", "--to", "eu-west", "--group", c.group(),
              "--source_timeout_ms", "1000"},
             128 + SIGKILL, {{"RM_FAILOVER_CRASH", spec}});
    // The kill happened where asked: the saved record is the one of the step before (or of
    // this step).
    nlohmann::json saved = Record(c.group());
    const int saved_step = c.before_save ? c.step - 1 : c.step;
    if (saved_step == 0) {
      EXPECT_TRUE(saved.is_null()) << saved.dump();
    } else {
      ASSERT_FALSE(saved.is_null());
      EXPECT_EQ(saved["state"], kStateAfterStep[saved_step]);
    }
    if (c.step == 4 && c.before_save) {
      // The dangerous window: committed in eu-west, not recorded.
      EXPECT_EQ(CommittedOffsets(Bootstrap("eu-west"), c.group(), remote), want_commits);
    }

    // Re-run as from another machine: once past step 2 a group needs neither the offsets store
    // nor the dead region, only eu-west (where its record is).
    std::vector<std::string> rerun = {"failover", "--from",  "us-east", "--to",
                                      "eu-west",  "--group", c.group(), "--source_timeout_ms",
                                      "1000"};
    if (saved_step >= 2) {
      rerun.push_back("--offsets_dir");
      rerun.push_back((tmp_.path() / "not-this-machine").string());
    }
    auto resumed = Topology(rerun);
    ASSERT_EQ(resumed["groups"].size(), 1u) << last_output_;
    EXPECT_EQ(EndState(resumed["groups"][0]), want);
    EXPECT_EQ(EndState(Record(c.group())), want);
    EXPECT_EQ(CommittedOffsets(Bootstrap("eu-west"), c.group(), remote), want_commits);
  }
}

}  // namespace
}  // namespace rm::testing
