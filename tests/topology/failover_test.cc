// The failover state machine over fakes: each step, idempotency, never backwards, refusals, and
// resuming after a crash at every step (before and after the step's record is saved).
#include "topology/failover.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <tuple>

namespace rm::topology {
namespace {

using Key = std::pair<std::string, int32_t>;

// The world as the machine sees it: source positions, a translation table, the target's group.
class FakeIo : public FailoverIo {
 public:
  std::vector<SourcePosition> positions;
  std::optional<common::Error> positions_error;
  // (source topic, partition) -> target = source + delta; absent: no mapping.
  std::map<Key, int64_t> delta;
  std::map<std::string, std::string> residency_problem;  // target topic -> problem
  ActivityCheck activity{TargetActivity::kInactive, ""};
  std::map<Key, int64_t> target;  // committed on the target
  bool broker_refuses_commits = false;
  int commits = 0;
  int commit_calls = 0;
  int64_t now = 1'000'000;

  common::Result<std::vector<SourcePosition>> GroupPositions(const std::string&) override {
    if (positions_error) return *positions_error;
    return positions;
  }
  common::Result<TranslatedPosition> Translate(const std::string&,
                                               const SourcePosition& s) override {
    auto it = delta.find({s.topic, s.partition});
    if (it == delta.end()) return TranslatedPosition{"us-east." + s.topic, -1, "no runs"};
    return TranslatedPosition{"us-east." + s.topic, s.offset + it->second, "forward (exact)"};
  }
  std::string ResidencyProblem(const std::string& topic) override {
    auto it = residency_problem.find(topic);
    return it == residency_problem.end() ? "" : it->second;
  }
  ActivityCheck Activity(const std::string&) override { return activity; }
  common::Result<std::vector<TargetOffset>> Committed(
      const std::string&, const std::vector<TargetOffset>& partitions) override {
    std::vector<TargetOffset> out;
    for (const auto& p : partitions) {
      auto it = target.find({p.topic, p.partition});
      if (it != target.end()) out.push_back({p.topic, p.partition, it->second});
    }
    return out;
  }
  common::Status Commit(const std::string& group,
                        const std::vector<TargetOffset>& offsets) override {
    ++commit_calls;
    if (broker_refuses_commits) {
      return common::Error{"failover.group_active", "UNKNOWN_MEMBER_ID for " + group};
    }
    for (const auto& o : offsets) target[{o.topic, o.partition}] = o.offset;
    commits += static_cast<int>(offsets.size());
    return common::Status::Ok();
  }
  int64_t NowMs() override { return now; }
};

class FakeStore : public FailoverStateStore {
 public:
  std::map<std::string, GroupFailover> records;
  int saves = 0;
  common::Result<std::optional<GroupFailover>> Load(const std::string& group) override {
    auto it = records.find(group);
    if (it == records.end()) return std::optional<GroupFailover>{};
    return std::optional<GroupFailover>(it->second);
  }
  common::Status Save(const GroupFailover& r) override {
    // Through JSON, as the topic stores it.
    auto back = GroupFailoverFromJson(ToJson(r));
    if (!back.ok()) return back.error();
    records[r.group] = *back;
    ++saves;
    return common::Status::Ok();
  }
};

struct Crash : std::runtime_error {
  Crash() : std::runtime_error("killed") {}
};

class FailoverMachine : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int32_t p = 0; p < 3; ++p) {
      io_.positions.push_back({"orders", p, 100 + p, "checkpoint", 990'000});
      io_.delta[{"orders", p}] = 7 + p;
    }
    options_.from_region = "us-east";
    options_.to_region = "eu-west";
  }

  GroupFailover Run(const StepHook& hook = nullptr) {
    auto r = RunGroupFailover("oncall", options_, io_, store_, hook);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : GroupFailover{};
  }

  FakeIo io_;
  FakeStore store_;
  FailoverOptions options_;
};

TEST_F(FailoverMachine, MovesAGroupThroughFiveStepsToItsTranslatedOffsets) {
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kDone) << r.error;
  ASSERT_EQ(r.partitions.size(), 3u);
  for (int32_t p = 0; p < 3; ++p) {
    const auto& m = r.partitions[p];
    EXPECT_EQ(m.source_offset, 100 + p);
    EXPECT_EQ(m.from, "checkpoint");
    EXPECT_EQ(m.target_topic, "us-east.orders");
    EXPECT_EQ(m.target_offset, 107 + 2 * p);
    EXPECT_EQ(m.residency, "ok");
    EXPECT_EQ(m.target_before, -1);
    EXPECT_EQ(m.outcome, "moved");
    EXPECT_EQ(m.verified, 107 + 2 * p);
    EXPECT_EQ((io_.target[{"us-east.orders", p}]), 107 + 2 * p);
  }
  EXPECT_EQ(r.activity, "inactive");
  EXPECT_EQ(store_.records.at("oncall"), r);
}

TEST_F(FailoverMachine, SavesTheRecordAfterEveryStepInOrder) {
  std::vector<std::pair<int, bool>> seen;
  Run([&](const std::string&, int step, bool saved) { seen.emplace_back(step, saved); });
  std::vector<std::pair<int, bool>> want;
  for (int s = 1; s <= 5; ++s) {
    want.emplace_back(s, false);
    want.emplace_back(s, true);
  }
  EXPECT_EQ(seen, want);
  EXPECT_EQ(store_.saves, 5);
}

TEST_F(FailoverMachine, ReRunningAFinishedOperationChangesNothing) {
  GroupFailover first = Run();
  io_.positions[0].offset = 150;  // the source moved on: a finished operation does not care
  GroupFailover again = Run();
  EXPECT_EQ(again, first);
  EXPECT_EQ(io_.commit_calls, 1);
  EXPECT_EQ(store_.saves, 5);
}

TEST_F(FailoverMachine, NeverMovesATargetOffsetBackwards) {
  io_.target[{"us-east.orders", 1}] = 500;  // ahead of the translation (108)
  io_.target[{"us-east.orders", 2}] = 111;  // exactly at it
  GroupFailover r = Run();
  ASSERT_EQ(r.state, FailoverState::kDone) << r.error;
  EXPECT_EQ(r.partitions[0].outcome, "moved");
  EXPECT_EQ(r.partitions[1].outcome, "kept");
  EXPECT_EQ(r.partitions[1].target_before, 500);
  EXPECT_EQ(r.partitions[1].verified, 500);
  EXPECT_EQ(r.partitions[2].outcome, "kept");
  EXPECT_EQ((io_.target[{"us-east.orders", 1}]), 500);
  EXPECT_EQ(io_.commits, 1);  // only partition 0
}

TEST_F(FailoverMachine, ATargetMovedOnAfterTheCheckIsNotMovedBack) {
  Run([&](const std::string&, int step, bool saved) {
    if (step == 3 && saved) io_.target[{"us-east.orders", 0}] = 400;  // a consumer started
  });
  EXPECT_EQ((io_.target[{"us-east.orders", 0}]), 400);
  EXPECT_EQ(store_.records.at("oncall").partitions[0].outcome, "kept");
  EXPECT_EQ(store_.records.at("oncall").state, FailoverState::kDone);
}

TEST_F(FailoverMachine, RefusesAGroupWithActiveMembersOnTheTargetUnlessForced) {
  io_.activity = {TargetActivity::kActive, ""};
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kRefused);
  EXPECT_NE(r.error.find("active members on eu-west"), std::string::npos) << r.error;
  EXPECT_EQ(io_.commit_calls, 0);
  EXPECT_EQ(store_.records.at("oncall").state, FailoverState::kRefused);

  options_.force = true;
  r = Run();
  EXPECT_EQ(r.state, FailoverState::kDone) << r.error;
  EXPECT_TRUE(r.forced);
  EXPECT_EQ(r.activity, "not checked (--force)");
}

TEST_F(FailoverMachine, ARefusedOperationChecksAgainWhenReRun) {
  io_.activity = {TargetActivity::kActive, ""};
  EXPECT_EQ(Run().state, FailoverState::kRefused);
  io_.activity = {TargetActivity::kInactive, ""};  // the consumers were stopped
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kDone) << r.error;
  EXPECT_TRUE(r.error.empty());
}

TEST_F(FailoverMachine, ACommitTheBrokerRefusesForMembersIsARefusal) {
  io_.activity = {TargetActivity::kUnknown, "the cluster does not serve DescribeGroups"};
  io_.broker_refuses_commits = true;
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kRefused);
  EXPECT_EQ(r.activity, "unknown: the cluster does not serve DescribeGroups");
  EXPECT_NE(r.error.find("UNKNOWN_MEMBER_ID"), std::string::npos);
  io_.broker_refuses_commits = false;
  EXPECT_EQ(Run().state, FailoverState::kDone);
}

TEST_F(FailoverMachine, ResidencyRefusesEvenWhenForced) {
  options_.force = true;
  io_.residency_problem["us-east.orders"] = "rule topics[0] keeps orders in us-*";
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kRefused);
  EXPECT_EQ(r.error, "residency: rule topics[0] keeps orders in us-*");
  EXPECT_EQ(r.partitions[0].residency, "rule topics[0] keeps orders in us-*");
  EXPECT_EQ(io_.commit_calls, 0);
}

TEST_F(FailoverMachine, WithoutAnyPositionItStopsAtStepOneAndSaysWhy) {
  io_.positions.clear();
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kStarted);
  EXPECT_NE(r.error.find("no position on us-east"), std::string::npos) << r.error;
  io_.positions_error = common::Error{"kafka", "us-east: timed out"};
  r = Run();
  EXPECT_EQ(r.error, "us-east: timed out");
  EXPECT_EQ(io_.commit_calls, 0);
}

TEST_F(FailoverMachine, PartitionsWithoutMappingAreRecordedAndNotCommitted) {
  io_.delta.erase({"orders", 2});
  GroupFailover r = Run();
  ASSERT_EQ(r.state, FailoverState::kDone) << r.error;
  EXPECT_EQ(r.partitions[2].outcome, "no_mapping");
  EXPECT_EQ(r.partitions[2].target_offset, -1);
  EXPECT_EQ(io_.target.count({"us-east.orders", 2}), 0u);
}

TEST_F(FailoverMachine, DryRunSavesAndCommitsNothingAndSaysWhatWouldMove) {
  options_.dry_run = true;
  io_.target[{"us-east.orders", 1}] = 500;
  GroupFailover r = Run();
  EXPECT_EQ(r.state, FailoverState::kChecked);
  EXPECT_EQ(store_.saves, 0);
  EXPECT_EQ(io_.commit_calls, 0);
  EXPECT_EQ(r.partitions[0].outcome, "would move");
  EXPECT_EQ(r.partitions[1].outcome, "kept");
}

TEST_F(FailoverMachine, VerifyingBelowTheTranslationSendsTheOperationBackToCommit) {
  // The commit is lost (e.g. the coordinator moved): the read-back shows nothing.
  Run([&](const std::string&, int step, bool saved) {
    if (step == 4 && saved) io_.target.clear();
  });
  const GroupFailover& saved = store_.records.at("oncall");
  EXPECT_EQ(saved.state, FailoverState::kChecked);
  EXPECT_NE(saved.error.find("reads back -1 below the translated 107"), std::string::npos)
      << saved.error;
  EXPECT_EQ(Run().state, FailoverState::kDone);
  EXPECT_EQ((io_.target[{"us-east.orders", 0}]), 107);
}

TEST_F(FailoverMachine, AnotherDirectionStartsANewOperation) {
  Run();
  options_.from_region = "eu-west";
  options_.to_region = "us-east";
  options_.kind = "failback";
  io_.now += 5000;
  GroupFailover back = Run();
  EXPECT_EQ(back.kind, "failback");
  EXPECT_EQ(back.started_ms, io_.now);
  EXPECT_EQ(back.state, FailoverState::kDone);
  EXPECT_EQ(io_.commit_calls, 1);  // the targets already stand there: nothing to move
  EXPECT_EQ(back.partitions[0].outcome, "kept");
}

// The heart of "safe after kill -9": for every step, a crash right before and right after its
// record is saved, then a re-run, ends exactly as an uninterrupted run (record and commits).
TEST_F(FailoverMachine, ResumesAfterACrashAtEveryStepToTheSameEndState) {
  FakeIo clean_io = io_;
  FakeStore clean_store;
  auto clean = RunGroupFailover("oncall", options_, clean_io, clean_store);
  ASSERT_TRUE(clean.ok());
  ASSERT_EQ(clean->state, FailoverState::kDone);

  for (int step = 1; step <= 5; ++step) {
    for (bool saved : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "crash at step " << step << " saved=" << saved);
      FakeIo io = io_;
      FakeStore store;
      EXPECT_THROW((void)RunGroupFailover("oncall", options_, io, store,
                                          [&](const std::string&, int s, bool after) {
                                            if (s == step && after == saved) throw Crash();
                                          }),
                   Crash);
      const int saves_before = store.saves;
      EXPECT_EQ(saves_before, saved ? step : step - 1);
      auto resumed = RunGroupFailover("oncall", options_, io, store);
      ASSERT_TRUE(resumed.ok());
      EXPECT_EQ(*resumed, *clean);
      EXPECT_EQ(io.target, clean_io.target);
      // Only the steps left were done again.
      EXPECT_EQ(store.saves - saves_before, 5 - (saved ? step : step - 1));
    }
  }
}

TEST(FailoverRecord, SurvivesItsJsonForm) {
  GroupFailover r;
  r.group = "g";
  r.from_region = "us-east";
  r.to_region = "eu-west";
  r.kind = "failover";
  r.state = FailoverState::kCommitted;
  r.partitions.push_back(
      {"orders", 3, 10, "live", 0, "us-east.orders", 12, "forward", "ok", 5, "moved", -1});
  r.activity = "inactive";
  r.started_ms = 1;
  r.updated_ms = 2;
  auto back = GroupFailoverFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(GroupFailoverFromJson(nlohmann::json{{"group", "g"}}).ok());
}

TEST(FailoverRecord, NamesItsStatesAndTheirNextSteps) {
  EXPECT_EQ(ToString(FailoverState::kChecked), "checked");
  EXPECT_EQ(ParseFailoverState("refused"), FailoverState::kRefused);
  EXPECT_FALSE(ParseFailoverState("nope").has_value());
  EXPECT_EQ(NextStep(FailoverState::kStarted), 1);
  EXPECT_EQ(NextStep(FailoverState::kRefused), 3);
  EXPECT_EQ(NextStep(FailoverState::kDone), 0);
}

}  // namespace
}  // namespace rm::topology
