// Issue 13, scenarios 1 and 2 on the testbed: an on-call group fails over to eu-west when every
// us-east broker is down and continues at exactly the next record; then it fails back to
// us-east, which is back, and reads the rest there exactly once, including the records written
// in us-east that were never copied before the outage (the RPO). Reads are checked by sequence
// numbers with kafka-python.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/topology/failover_support.h"

namespace rm::testing {
namespace {

constexpr int kCopied = 400;    // written in us-east and copied before the outage
constexpr int kReadInUs = 250;  // read (and committed) by the on-call group in us-east
constexpr int kUncopied = 37;   // written in us-east, not copied when it went down: the RPO
constexpr int kWrittenInEu = 50;
constexpr int kReadInEuLocal = 20;

class FailoverIntegration : public FailoverScenario {
 protected:
  // Scenario 1 up to the consumer in eu-west; returns the values written in us-east.
  std::vector<std::string> FailOver() {
    StartMirror();
    std::vector<std::string> us = Produce("us-east", "orders", "us", 0, kCopied);
    EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", kCopied, 120s), kCopied)
        << MirrorLog();

    sessions_.push_back(Oncall("us-east", "oncall", {"orders", "eu-west.orders"}, kReadInUs));
    EXPECT_EQ(sessions_.back().read.size(), static_cast<size_t>(kReadInUs));
    WaitForCheckpoint("oncall", sessions_.back());
    StopMirror();

    // Written after the last copy: not in eu-west when us-east goes down.
    auto late = Produce("us-east", "orders", "us", kCopied, kUncopied);
    us.insert(us.end(), late.begin(), late.end());
    SetRegion("us-east", false);

    // The dry run says what would happen and changes nothing.
    auto dry = Topology(
        {"failover", "--from", "us-east", "--to", "eu-west", "--group", "oncall", "--dry-run"});
    EXPECT_EQ(dry["source_up"], false);
    EXPECT_EQ(dry["groups"].size(), 1u) << dry.dump();
    for (const auto& p : dry["groups"][0]["partitions"]) {
      EXPECT_EQ(p["from"], "checkpoint");
      EXPECT_GT(p["checkpoint_ms"].get<int64_t>(), 0);
      EXPECT_EQ(p["target_topic"], "us-east.orders");
      EXPECT_EQ(p["outcome"], "would move") << p.dump();
      EXPECT_EQ(p["residency"], "ok");
    }
    std::vector<common::TopicPartition> remote;
    for (int p = 0; p < kFailoverPartitions; ++p) remote.push_back({"us-east.orders", p});
    for (const auto& tp : CommittedOffsets(Bootstrap("eu-west"), "oncall", remote)) {
      EXPECT_LT(tp.offset, 0) << "the dry run committed " << tp.partition;
    }

    auto done = Topology({"failover", "--from", "us-east", "--to", "eu-west", "--group", "oncall"});
    EXPECT_EQ(done["ok"], true) << last_output_;
    const auto& g = done["groups"][0];
    EXPECT_EQ(g["state"], "done");
    // Exactly the translated positions are committed in eu-west (no foreign records here: the
    // copies start at offset 0, so they equal the source positions).
    std::map<int32_t, int64_t> translated;
    for (const auto& p : g["partitions"]) {
      translated[p["partition"]] = p["target_offset"];
      EXPECT_EQ(p["verified"], p["target_offset"]);
      EXPECT_EQ(p["target_offset"],
                sessions_[0].committed.at(fmt::format("orders/{}", p["partition"].get<int>())));
    }
    for (const auto& tp : CommittedOffsets(Bootstrap("eu-west"), "oncall", remote)) {
      // A partition the group never committed in us-east has nothing to carry over.
      auto it = translated.find(tp.partition);
      EXPECT_EQ(tp.offset, it == translated.end() ? RD_KAFKA_OFFSET_INVALID : it->second)
          << tp.partition;
    }

    // The on-call tool starts in eu-west and continues at exactly the next record.
    sessions_.push_back(Oncall("eu-west", "oncall", {"us-east.orders", "orders"}));
    return us;
  }

  std::vector<OncallSession> sessions_;
};

TEST_F(FailoverIntegration, OnCallGroupContinuesInEuWestAtExactlyTheNextRecord) {
  std::vector<std::string> us = FailOver();
  ASSERT_FALSE(HasFailure()) << last_output_;
  EXPECT_EQ(sessions_[1].read.size(), static_cast<size_t>(kCopied - kReadInUs));
  // Every copied record read once over both regions; the uncopied ones are in us-east only.
  us.resize(kCopied);
  ExpectEachReadOnce(us, sessions_);

  // A re-run changes nothing and says done.
  auto again = Topology({"failover", "--from", "us-east", "--to", "eu-west", "--group", "oncall"});
  EXPECT_EQ(again["groups"][0]["state"], "done");
  auto status = Topology({"status", "--source_timeout_ms", "1500"});
  ASSERT_EQ(status["regions"].size(), 2u);
  EXPECT_EQ(status["regions"][0]["up"], false);  // us-east
  EXPECT_EQ(status["regions"][1]["up"], true);
  bool found = false;
  for (const auto& g : status["groups"]) {
    if (g["group"] != "oncall") continue;
    found = true;
    EXPECT_EQ(g["runs_in"], "eu-west");
    EXPECT_EQ(g["record"]["state"], "done");
  }
  EXPECT_TRUE(found) << status.dump();
}

TEST_F(FailoverIntegration, GroupFailsBackToUsEastAndReadsTheRestOnceIncludingUncopiedRecords) {
  std::vector<std::string> us = FailOver();
  ASSERT_FALSE(HasFailure()) << last_output_;

  // During the outage producers write in eu-west; the on-call tool reads part of it.
  std::vector<std::string> eu = Produce("eu-west", "orders", "eu", 0, kWrittenInEu);
  sessions_.push_back(Oncall("eu-west", "oncall", {"us-east.orders", "orders"}, kReadInEuLocal));
  EXPECT_EQ(sessions_.back().read.size(), static_cast<size_t>(kReadInEuLocal));

  // us-east is back; the mirror runs both ways again: the uncopied records reach eu-west, the
  // records written in eu-west reach us-east.
  SetRegion("us-east", true);
  StartMirror();
  EXPECT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.orders", kCopied + kUncopied, 120s),
            kCopied + kUncopied)
      << MirrorLog();
  EXPECT_EQ(WaitForTotal(Bootstrap("us-east"), "eu-west.orders", kWrittenInEu, 120s), kWrittenInEu)
      << MirrorLog();
  WaitForRuns("eu-west->us-east", kWrittenInEu);
  WaitForRuns("us-east->eu-west", kCopied + kUncopied);

  auto back = Topology({"failback", "--from", "eu-west", "--to", "us-east", "--group", "oncall"});
  EXPECT_EQ(back["ok"], true) << last_output_;
  EXPECT_EQ(back["source_up"], true);
  const auto& g = back["groups"][0];
  EXPECT_EQ(g["state"], "done");
  EXPECT_EQ(g["kind"], "failback");
  std::set<std::string> targets;
  for (const auto& p : g["partitions"]) {
    EXPECT_EQ(p["from"], "live");
    targets.insert(p["target_topic"].get<std::string>());
    EXPECT_EQ(p["verified"], p["target_offset"]) << p.dump();
  }
  // Copies map back to us-east's own orders; eu-west's orders to their copy in us-east.
  EXPECT_TRUE(targets.count("orders")) << g.dump();
  EXPECT_TRUE(targets.count("eu-west.orders")) << g.dump();

  sessions_.push_back(Oncall("us-east", "oncall", {"orders", "eu-west.orders"}));
  size_t rpo = 0;
  for (const auto& r : sessions_.back().read) {
    if (r.topic == "orders" && std::stoi(r.value.substr(3)) >= kCopied) ++rpo;
  }
  std::cout << "RPO: " << rpo << " records written in us-east and not copied when it went down,"
            << " read once in us-east after the failback\n";
  EXPECT_EQ(rpo, static_cast<size_t>(kUncopied));
  EXPECT_EQ(sessions_.back().read.size(),
            static_cast<size_t>(kUncopied + kWrittenInEu - kReadInEuLocal));

  std::vector<std::string> all = us;
  all.insert(all.end(), eu.begin(), eu.end());
  ExpectEachReadOnce(all, sessions_);

  auto status = Topology({"status"});
  for (const auto& st : status["groups"]) {
    if (st["group"] == "oncall") {
      EXPECT_EQ(st["runs_in"], "us-east") << st.dump();
    }
  }
  StopMirror();
}

}  // namespace
}  // namespace rm::testing
