// mirror::Flow's logic over fake Kafka clients (tests/support/fake_flow_clients.h): each test
// drives the flow one Step() at a time and decides when the target acknowledges or refuses.
// The same logic against a real testbed: tests/mirror/mirror_integration_test.cc and
// mirror_robustness_test.cc.
#include "mirror/flow.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <numeric>

#include "mirror/ownership.h"
#include "tests/support/fake_flow_clients.h"

namespace rm::mirror {
namespace {

using namespace std::chrono_literals;
using testing::FakeKafka;

constexpr const char* kTopic = "orders";
constexpr const char* kRemote = "a.orders";  // the default policy's name in cluster b

std::vector<int64_t> Range(int64_t from, int64_t to) {  // [from, to)
  std::vector<int64_t> v(static_cast<size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<int64_t> Concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class FlowTest : public ::testing::Test {
 protected:
  FlowTest() {
    for (const char* alias : {"a", "b"}) {
      replication::ClusterConfig c;
      c.alias = alias;
      c.bootstrap_servers = std::string("fake-") + alias + ":9092";
      config_.clusters.push_back(c);
    }
    replication::FlowConfig flow;
    flow.source = "a";
    flow.target = "b";
    flow.topics = {kTopic};
    config_.flows = {flow};
    // Nothing happens on a timer unless a test says so.
    config_.mirror.refresh_interval_ms = 3'600'000;
    config_.mirror.commit_interval_ms = 3'600'000;
    config_.offsets.checkpoint_interval_ms = 3'600'000;
    config_.mirror.drain_timeout_ms = 1000;
    config_.mirror.takeover_wait_ms = 0;
    kafka_.source.CreateTopic(kTopic, 2);
  }

  ~FlowTest() override {
    if (flow_) {
      stop_ = true;
      flow_->Finish().PermitUnchecked();
    }
  }

  Flow& Build(RefusedOffsets refused = {}) {
    if (flow_) {
      stop_ = true;
      flow_->Finish().PermitUnchecked();
      flow_.reset();
      stop_ = false;
    }
    flow_ = std::make_unique<Flow>(config_, config_.flows[0], nullptr, registry_, nullptr,
                                   std::move(refused), kafka_.Factory());
    EXPECT_TRUE(flow_->Start(stop_));
    return *flow_;
  }

  void Step(int n = 1) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(flow_->Step());
  }

  void Assign(std::vector<int32_t> partitions) {
    std::vector<common::TopicPartition> tps;
    for (int32_t p : partitions) tps.push_back({kTopic, p});
    kafka_.consumer->Assign(tps);
  }

  // Partition 0 is revoked (lost or not) and assigned back, `more` records arrive, three turns.
  void RevokeAndAssignBack(bool lost, int more) {
    kafka_.consumer->Revoke({{kTopic, 0}}, lost);
    Assign({0});
    kafka_.source.Append(kTopic, 0, more);
    Step(3);
  }

  bool Paused(int32_t partition) const { return kafka_.consumer->paused(kTopic, partition); }

  std::vector<int64_t> Copied(int32_t partition) {
    return kafka_.target.CopiedOffsets(kRemote, partition);
  }

  // A counter of the flow, 0 when it was never incremented.
  double Counter(const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        bool match = true;
        for (const auto& [k, v] : labels) {
          match = match && std::any_of(m.label.begin(), m.label.end(),
                                       [&](const auto& l) { return l.name == k && l.value == v; });
        }
        if (match) return m.counter.value;
      }
    }
    return 0;
  }
  double Errors(const std::string& kind) {
    return Counter("rm_mirror_errors_total", {{"kind", kind}});
  }

  replication::MirrorConfig config_;
  prometheus::Registry registry_;
  FakeKafka kafka_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Flow> flow_;
};

// ---------------------------------------------------------------------------------------------
// Back-pressure

TEST_F(FlowTest, APartitionAtItsInFlightCapIsPausedAndResumedWhenHalfOfItsDeliveriesReturn) {
  config_.mirror.max_inflight_per_partition = 4;
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  // One batch is read whole (the cap is checked between batches), then the partition waits.
  EXPECT_EQ(kafka_.producer->queued.size(), 10u);
  EXPECT_TRUE(Paused(0));

  kafka_.source.Append(kTopic, 0, 5);
  Step();
  EXPECT_EQ(kafka_.producer->queued.size(), 10u) << "a paused partition was read";

  kafka_.producer->Ack(7);
  Step();
  EXPECT_TRUE(Paused(0)) << "resumed with 3 of 4 in flight (resumes below half the cap)";

  kafka_.producer->Ack(2);
  Step();
  EXPECT_FALSE(Paused(0));
  Step();
  EXPECT_EQ(kafka_.producer->queued.size(), 6u);  // the one left, and the 5 read since

  kafka_.producer->auto_ack = true;
  Step(2);
  EXPECT_EQ(Copied(0), Range(0, 15));
}

TEST_F(FlowTest, TheFlowWideInFlightCapPausesEveryPartitionAndResumesThemBelowHalf) {
  config_.mirror.max_inflight_total = 6;
  kafka_.source.Append(kTopic, 0, 4);
  kafka_.source.Append(kTopic, 1, 4);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0, 1});
  Step();
  EXPECT_EQ(kafka_.producer->queued.size(), 8u);
  EXPECT_TRUE(Paused(0));
  EXPECT_TRUE(Paused(1));

  kafka_.source.Append(kTopic, 0, 1);
  kafka_.producer->Ack(5);  // 3 in flight: not below half of 6
  Step();
  EXPECT_TRUE(Paused(0));
  EXPECT_TRUE(Paused(1));

  kafka_.producer->Ack(1);
  Step();
  EXPECT_FALSE(Paused(0));
  EXPECT_FALSE(Paused(1));
  kafka_.producer->auto_ack = true;
  Step(2);
  EXPECT_EQ(Copied(0), Range(0, 5));
  EXPECT_EQ(Copied(1), Range(0, 4));
}

TEST_F(FlowTest, BytesInFlightPauseEveryPartitionLikeRecordsDo) {
  // Each record's value is "orders-0-N": 10 bytes.
  config_.mirror.max_inflight_bytes = 50;
  kafka_.source.Append(kTopic, 0, 5);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  EXPECT_TRUE(Paused(0));
  kafka_.producer->Ack(5);
  Step();
  EXPECT_FALSE(Paused(0));
}

// ---------------------------------------------------------------------------------------------
// A produce the target refuses for good

TEST_F(FlowTest, AfterARefusalThePartitionResyncsAtTheRefusedRecordEvenWhenLaterOnesLanded) {
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  ASSERT_EQ(kafka_.producer->queued.size(), 10u);
  // 0..2 land, 3 is refused, 4..9 land anyway: the gap an epoch bump would leave.
  kafka_.producer->Ack(3);
  kafka_.producer->Refuse(1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
  kafka_.producer->Ack(6);
  Step();
  EXPECT_TRUE(Paused(0)) << "a failed partition must stop reading until it resynced";
  EXPECT_NE(flow_->Health().find("source offset 3"), std::string::npos) << flow_->Health();
  EXPECT_EQ(Counter("rm_mirror_delivery_failures_total", {{"topic", kTopic}}), 1);

  // The resync waits its retry time, then resumes at the refused record, not at the tail.
  kafka_.producer->auto_ack = true;
  Step();
  EXPECT_TRUE(Paused(0));
  kafka_.clock.Advance(1s);
  Step();
  ASSERT_FALSE(kafka_.consumer->seeks.empty());
  EXPECT_EQ(kafka_.consumer->seeks.back().offset, 3);
  EXPECT_FALSE(Paused(0));
  EXPECT_EQ(Errors("gap"), 1);

  Step(2);
  // Duplicates (4..9 twice), nothing lost; health is clear once the refused record landed.
  EXPECT_EQ(Copied(0), Concat(Concat(Range(0, 3), Range(4, 10)), Range(3, 10)));
  EXPECT_EQ(flow_->Health(), "");
}

TEST_F(FlowTest, AfterARefusalWithNothingLandedBehindItTheTargetTailDecides) {
  kafka_.source.Append(kTopic, 0, 6);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  kafka_.producer->Ack(2);
  kafka_.producer->Refuse(4, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  Step();
  kafka_.producer->auto_ack = true;
  kafka_.clock.Advance(1s);
  Step(3);
  EXPECT_EQ(kafka_.consumer->seeks.back().offset, 2);
  EXPECT_EQ(Errors("gap"), 0);
  EXPECT_EQ(Copied(0), Range(0, 6));
}

TEST_F(FlowTest, ALocalProduceErrorResyncsFromTheRecordThatWasNotSent) {
  kafka_.source.Append(kTopic, 0, 4);
  Build();
  kafka_.producer->produce_error = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;  // offset 0
  Assign({0});
  Step();
  EXPECT_TRUE(Paused(0));
  EXPECT_EQ(Errors("produce"), 1);
  kafka_.clock.Advance(1s);
  Step(3);
  EXPECT_EQ(kafka_.consumer->seeks.back().offset, 0);
  EXPECT_EQ(Copied(0), Range(0, 4));
}

TEST_F(FlowTest, AFlowRebuiltAfterAFatalRefusalResumesAtTheRefusedRecord) {
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  kafka_.producer->Ack(3);
  kafka_.producer->Refuse(1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
  kafka_.producer->Ack(6);
  kafka_.producer->fatal = "refused under the gapless guarantee";
  EXPECT_FALSE(flow_->Step()) << "a fatal producer error must end the flow";
  auto st = flow_->Finish();
  EXPECT_FALSE(st.ok());
  RefusedOffsets refused = flow_->Refused();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused.begin()->second, common::SourceOffset(3));
  flow_.reset();

  Build(refused);
  EXPECT_NE(flow_->Health().find("source offset 3"), std::string::npos) << flow_->Health();
  Assign({0});
  Step(3);
  EXPECT_EQ(Errors("gap"), 1);
  EXPECT_EQ(Copied(0), Concat(Concat(Range(0, 3), Range(4, 10)), Range(3, 10)));
  EXPECT_EQ(flow_->Health(), "");
}

// ---------------------------------------------------------------------------------------------
// Rebalance: where an assigned partition resumes, and what a revocation leaves behind

TEST_F(FlowTest, AnAssignedPartitionResumesAfterTheLastCopyInTheTargetNotAtTheCommit) {
  kafka_.source.Append(kTopic, 0, 10);
  kafka_.target.CreateTopic(kRemote, 2);
  for (int64_t o = 0; o < 5; ++o) kafka_.target.AppendCopy(kRemote, 0, "a", "b", kTopic, o);
  Build();
  kafka_.consumer->committed[{kTopic, 0}] = {kTopic, 0, 2, ""};
  Assign({0});
  Step(2);
  EXPECT_EQ(Copied(0), Range(0, 10));  // 5..9 once, nothing twice
}

TEST_F(FlowTest, CopiesOfAnotherFlowInTheTargetDoNotCount) {
  kafka_.source.Append(kTopic, 0, 3);
  kafka_.target.CreateTopic(kRemote, 2);
  kafka_.target.AppendCopy(kRemote, 0, "c", "b", kTopic, 7);  // from cluster c
  Build();
  Assign({0});
  Step(2);
  EXPECT_EQ(Copied(0), Concat({7}, Range(0, 3)));
}

TEST_F(FlowTest, WithNoCopyInTheTargetAndItsCopiesExpiredThePartitionResumesAtTheCommit) {
  kafka_.source.Append(kTopic, 0, 10);
  kafka_.target.CreateTopic(kRemote, 2);
  kafka_.target.AppendCopy(kRemote, 0, "a", "b", kTopic, 0);
  kafka_.target.at(kRemote, 0).low = 1;  // retention deleted the only copy
  Build();
  kafka_.consumer->committed[{kTopic, 0}] = {kTopic, 0, 7, ""};
  Assign({0});
  Step(2);
  EXPECT_EQ(Copied(0), Concat({0}, Range(7, 10)));
}

TEST_F(FlowTest, ATargetThatLostEveryCopyIsFilledAgainFromTheSourceStart) {
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  kafka_.consumer->committed[{kTopic, 0}] = {kTopic, 0, 7, ""};
  Assign({0});
  Step(2);
  EXPECT_EQ(Errors("target_lost_data"), 1);
  EXPECT_EQ(Copied(0), Range(0, 10));
}

TEST_F(FlowTest, ARevokedPartitionLetsItsRecordsLandThenCommitsAReleasedMark) {
  kafka_.source.Append(kTopic, 0, 5);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  ASSERT_EQ(kafka_.producer->queued.size(), 5u);
  kafka_.producer->auto_ack = true;
  kafka_.consumer->Revoke({{kTopic, 0}}, /*lost=*/false);
  Step();
  EXPECT_EQ(Copied(0), Range(0, 5));
  const auto& c = kafka_.consumer->committed.at({kTopic, 0});
  EXPECT_EQ(c.offset, 5);
  auto mark = ParseOwnerMark(c.metadata);
  ASSERT_TRUE(mark);
  EXPECT_TRUE(mark->released) << c.metadata;
}

TEST_F(FlowTest, APartitionLostWithRecordsInFlightResumesOnlyAfterTheyLanded) {
  kafka_.source.Append(kTopic, 0, 5);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  kafka_.consumer->Revoke({{kTopic, 0}}, /*lost=*/true);
  Assign({0});
  Step();
  // Assigned again while its records are in flight: the tail would be read before them.
  EXPECT_TRUE(Paused(0));
  kafka_.producer->Ack(5);
  Step();
  kafka_.producer->auto_ack = true;
  kafka_.source.Append(kTopic, 0, 2);
  kafka_.clock.Advance(1s);
  Step(3);
  EXPECT_FALSE(Paused(0));
  EXPECT_EQ(Copied(0), Range(0, 7));  // once each: resumed after the records that landed
}

TEST_F(FlowTest, APartitionWhoseOwnerMarkTheGroupRefusesCopiesNothingPastIt) {
  kafka_.source.Append(kTopic, 0, 3);
  Build();
  kafka_.consumer->commit_error = common::Error{"ILLEGAL_GENERATION", "rebalance under way"};
  Assign({0});
  Step(2);
  EXPECT_TRUE(Paused(0));
  EXPECT_TRUE(kafka_.producer->queued.empty());
  EXPECT_TRUE(Copied(0).empty());
  EXPECT_EQ(Errors("reserve"), 1);

  kafka_.consumer->commit_error.reset();
  kafka_.clock.Advance(1s);
  Step(3);
  EXPECT_EQ(Copied(0), Range(0, 3));
}

// FaultSchedule seed 822064751 at session.timeout.ms 3000: the owner marks were refused
// (ILLEGAL_GENERATION), the partitions paused for a resync, then were lost and assigned back to
// the same member, which found their resume positions and copied nothing more: the consumer
// keeps a partition paused across assignments (librdkafka's application pause flag).
TEST_F(FlowTest, APartitionPausedForAResyncWhenItWasLostCopiesAgainWhenAssignedBack) {
  kafka_.source.Append(kTopic, 0, 3);
  Build();
  kafka_.consumer->commit_error = common::Error{"ILLEGAL_GENERATION", "member fenced"};
  Assign({0});
  Step(2);
  ASSERT_TRUE(Paused(0));
  kafka_.consumer->commit_error.reset();
  RevokeAndAssignBack(/*lost=*/true, 2);
  EXPECT_FALSE(Paused(0));
  EXPECT_EQ(Copied(0), Range(0, 5));
}

TEST_F(FlowTest, APartitionRevokedWhilePausedAtItsInFlightCapCopiesAgainWhenAssignedBack) {
  config_.mirror.max_inflight_per_partition = 4;
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  kafka_.producer->auto_ack = false;
  Assign({0});
  Step();
  ASSERT_TRUE(Paused(0));
  kafka_.producer->auto_ack = true;  // the revocation lets them land
  RevokeAndAssignBack(/*lost=*/false, 5);
  EXPECT_FALSE(Paused(0));
  EXPECT_EQ(Copied(0), Range(0, 15));
}

// A rebalance that refuses the new owner's marks after its takeover wait ended must not start
// another wait for the same mark (FaultSchedule: three 10 s waits in a row for one killed owner).
TEST_F(FlowTest, ATakeoverWaitForAnOwnerMarkIsNotRepeatedAfterTheNewOwnersMarksAreRefused) {
  config_.mirror.takeover_wait_ms = 10'000;
  kafka_.source.Append(kTopic, 0, 3);
  Build();
  kafka_.consumer->committed[{kTopic, 0}] = {kTopic, 0, 0,
                                             EncodeOwnerMark({"killed-instance", false, 100})};
  Assign({0});
  Step(2);
  EXPECT_TRUE(Paused(0));
  EXPECT_NE(flow_->Health().find("killed-instance"), std::string::npos) << flow_->Health();
  kafka_.clock.Advance(10s);
  Step();  // the wait is over: resumes from the target's tail
  EXPECT_EQ(flow_->Health(), "");
  kafka_.consumer->commit_error = common::Error{"ILLEGAL_GENERATION", "rebalance under way"};
  Step(2);
  ASSERT_EQ(Errors("reserve"), 1);
  ASSERT_TRUE(Copied(0).empty());

  kafka_.consumer->commit_error.reset();
  kafka_.clock.Advance(1s);
  Step(3);
  EXPECT_EQ(Copied(0), Range(0, 3));
  EXPECT_EQ(Errors("takeover_wait"), 1);
  EXPECT_EQ(Errors("takeover_timeout"), 1);
}

// ---------------------------------------------------------------------------------------------
// Out of range on the source

TEST_F(FlowTest, RecordsDeletedByRetentionBeforeTheyWereReadAreReportedAndSkipped) {
  kafka_.source.Append(kTopic, 0, 10);
  Build();
  Assign({0});
  Step(2);
  ASSERT_EQ(Copied(0), Range(0, 10));
  kafka_.source.Append(kTopic, 0, 10);
  kafka_.source.at(kTopic, 0).low = 15;  // 10..14 deleted before the flow read them
  Step(3);
  EXPECT_EQ(Counter("rm_mirror_records_skipped_total", {{"topic", kTopic}}), 5);
  EXPECT_EQ(kafka_.consumer->seeks.back().offset, 15);
  EXPECT_EQ(Copied(0), Concat(Range(0, 10), Range(15, 20)));
}

TEST_F(FlowTest, AResumePositionBelowTheSourceLogStartIsReportedAsSkipped) {
  kafka_.source.Append(kTopic, 0, 10);
  kafka_.source.at(kTopic, 0).low = 6;
  kafka_.target.CreateTopic(kRemote, 2);
  kafka_.target.AppendCopy(kRemote, 0, "a", "b", kTopic, 3);
  Build();
  Assign({0});
  Step(2);
  EXPECT_EQ(Counter("rm_mirror_records_skipped_total", {{"topic", kTopic}}), 2);  // 4 and 5
  EXPECT_EQ(Copied(0), Concat({3}, Range(6, 10)));
}

TEST_F(FlowTest, ASourcePartitionEndingBelowWhatWasCopiedIsCopiedFromItsStartOnceConfirmed) {
  // The target holds copies up to source offset 7; the source topic was recreated with 3.
  kafka_.source.Append(kTopic, 0, 3);
  kafka_.target.CreateTopic(kRemote, 2);
  for (int64_t o = 0; o < 8; ++o) kafka_.target.AppendCopy(kRemote, 0, "a", "b", kTopic, o);
  Build();
  Assign({0});
  Step(2);
  EXPECT_TRUE(Paused(0)) << "a high watermark can lag on a new leader: checked again first";
  EXPECT_EQ(Copied(0), Range(0, 8));
  kafka_.clock.Advance(3s);
  Step(3);
  EXPECT_EQ(Errors("source_recreated"), 1);
  EXPECT_EQ(Copied(0), Concat(Range(0, 8), Range(0, 3)));
}

TEST_F(FlowTest, APositionPastTheSourceEndResyncsInsteadOfSkipping) {
  kafka_.source.Append(kTopic, 0, 5);
  Build();
  Assign({0});
  Step(2);
  ASSERT_EQ(Copied(0), Range(0, 5));
  // Truncated under the flow (an unclean leader election): the position 5 is past the end 3.
  kafka_.source.at(kTopic, 0).records.resize(3);
  Step();
  EXPECT_EQ(Errors("out_of_range"), 1);
  EXPECT_TRUE(Paused(0));
  EXPECT_EQ(Counter("rm_mirror_records_skipped_total", {{"topic", kTopic}}), 0);
}

}  // namespace
}  // namespace rm::mirror
