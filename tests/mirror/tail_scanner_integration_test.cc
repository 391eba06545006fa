// TailScanner against a testbed: what the mirror finds at the target's tail when it resumes,
// for many partitions at once and one at a time.
#include <gtest/gtest.h>

#include "mirror/tail_scanner.h"
#include "replication/provenance.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using mirror::TailScanRequest;
using mirror::TailScanResult;

// A record the mirror copied from `cluster`'s `topic` partition `partition` at `offset` into
// `target` (by default eu-west, where these tests write).
Record Copied(int32_t target_partition, const std::string& cluster, int32_t partition,
              int64_t offset, const std::string& topic = "t",
              const std::string& target = "eu-west") {
  return {target_partition,
          -1,
          "k",
          "copied",
          {{replication::kProvenanceHeader,
            replication::EncodeProvenance({cluster, target, topic, partition, offset})}},
          0};
}
// The same as an older release wrote it: version 1 names only the source cluster.
Record CopiedV1(int32_t target_partition, const std::string& cluster, int32_t partition,
                int64_t offset) {
  std::string v1 = std::string("\x01") + static_cast<char>(cluster.size()) + cluster +
                   static_cast<char>(partition) + static_cast<char>(offset);
  return {target_partition, -1, "k", "copied", {{replication::kProvenanceHeader, v1}}, 0};
}
Record Local(int32_t target_partition) { return {target_partition, -1, "k", "local", {}, 0}; }

std::vector<std::pair<int64_t, int64_t>> Pairs(const TailScanResult& r) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& c : r.copied) out.emplace_back(c.source.value(), c.target.value());
  return out;
}

class TailScannerIntegration : public TestbedTest {
 protected:
  using Pairs_t = std::vector<std::pair<int64_t, int64_t>>;
  // Fills eu-west's "us-east.t" (5 partitions) and "us-east.r" (1) as a mirror from us-east
  // (and one from ap-south) would have left them.
  void Fill() {
    tb().CreateTopic("eu-west", "us-east.t", 5);
    tb().CreateTopic("eu-west", "us-east.r", 1);
    std::vector<Record> t;
    // p0: ten copies, source offsets 100..109.
    for (int i = 0; i < 10; ++i) t.push_back(Copied(0, "us-east", 0, 100 + i));
    // p1: three copies, then 200 local writes (identity policy): the walk back must widen.
    for (int i = 0; i < 3; ++i) t.push_back(Copied(1, "us-east", 1, i));
    for (int i = 0; i < 200; ++i) t.push_back(Local(1));
    // p2: empty. p3: local writes only.
    for (int i = 0; i < 70; ++i) t.push_back(Local(3));
    // p4: five copies of ours (source 10..14), then copies from another cluster and a record
    // whose provenance names our cluster but another partition: neither counts.
    for (int i = 0; i < 5; ++i) t.push_back(Copied(4, "us-east", 4, 10 + i));
    for (int i = 0; i < 5; ++i) t.push_back(Copied(4, "ap-south", 4, 500 + i));
    t.push_back(Copied(4, "us-east", 3, 999));
    // Headers an application copied from another topic's copies (Kafka Streams does), and a
    // copy into another cluster: they name our cluster and partition but not this flow.
    t.push_back(Copied(4, "us-east", 4, 5000, "other"));
    t.push_back(Copied(4, "us-east", 4, 6000, "t", "ap-south"));
    ProduceWithOurClient(Bootstrap("eu-west"), "us-east.t", t);
    std::vector<Record> r;
    for (int i = 0; i < 10; ++i) r.push_back(Copied(0, "us-east", 0, 40 + i, "r"));
    ProduceWithOurClient(Bootstrap("eu-west"), "us-east.r", r);
  }
  std::vector<TailScanRequest> Requests() const {
    std::vector<TailScanRequest> q;
    for (int p = 0; p < 5; ++p) q.push_back({"us-east.t", p, 0, true, "t"});
    q.push_back({"us-east.r", 0, 3, false, "r"});  // every copy from target offset 3 on
    return q;
  }
  static std::vector<Pairs_t> Expected() {
    return {{{109, 9}}, {{2, 2}},  {},
            {},         {{14, 4}}, {{43, 3}, {44, 4}, {45, 5}, {46, 6}, {47, 7}, {48, 8}, {49, 9}}};
  }
  mirror::TailScanner Scanner() {
    return mirror::TailScanner({{"bootstrap.servers", Bootstrap("eu-west")}}, "us-east", "eu-west",
                               "test");
  }
};

TEST_F(TailScannerIntegration, ScansManyPartitionsAtOnceAsItWouldOneByOne) {
  Fill();
  auto scanner = Scanner();
  auto q = Requests();
  auto many = scanner.ScanMany(q, 30s);
  ASSERT_EQ(many.size(), q.size());
  const auto want = Expected();
  const int64_t want_high[] = {10, 203, 0, 70, 13, 10};
  for (size_t i = 0; i < q.size(); ++i) {
    ASSERT_TRUE(many[i].ok()) << i << ": " << many[i].error().message;
    EXPECT_EQ(Pairs(*many[i]), want[i]) << q[i].target_topic << "[" << q[i].partition << "]";
    EXPECT_EQ(many[i]->watermarks.high, want_high[i]) << i;
    auto one = scanner.Scan(q[i], 30s);
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(Pairs(*one), want[i])
        << "alone: " << q[i].target_topic << "[" << q[i].partition << "]";
  }
  // The scanner is left with nothing assigned, so it can scan again.
  auto again = scanner.ScanMany(q, 30s);
  for (size_t i = 0; i < q.size(); ++i) {
    ASSERT_TRUE(again[i].ok()) << again[i].error().message;
    EXPECT_EQ(Pairs(*again[i]), want[i]) << i;
  }
}

TEST_F(TailScannerIntegration, APartitionThatCannotBeScannedFailsAlone) {
  Fill();
  auto scanner = Scanner();
  auto q = Requests();
  q.insert(q.begin() + 2, TailScanRequest{"us-east.t", 9, 0, true, "t"});  // no such partition
  auto many = scanner.ScanMany(q, 30s);
  ASSERT_EQ(many.size(), q.size());
  ASSERT_FALSE(many[2].ok());
  EXPECT_NE(many[2].error().message.find("us-east.t[9]"), std::string::npos)
      << many[2].error().message;
  auto want = Expected();
  want.insert(want.begin() + 2, Pairs_t{});
  for (size_t i = 0; i < q.size(); ++i) {
    if (i == 2) continue;
    ASSERT_TRUE(many[i].ok()) << i << ": " << many[i].error().message;
    EXPECT_EQ(Pairs(*many[i]), want[i]) << i;
  }
}

TEST_F(TailScannerIntegration, CopiesWrittenByOlderReleasesStillCount) {
  tb().CreateTopic("eu-west", "us-east.v1", 1);
  std::vector<Record> t;
  for (int i = 0; i < 4; ++i) t.push_back(CopiedV1(0, "us-east", 0, 20 + i));
  t.push_back(CopiedV1(0, "us-east", 1, 99));  // another partition: not ours, as before
  ProduceWithOurClient(Bootstrap("eu-west"), "us-east.v1", t);
  auto scanner = Scanner();
  auto r = scanner.Scan({"us-east.v1", 0, 0, false, "v1"}, 30s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Pairs(*r), (Pairs_t{{20, 0}, {21, 1}, {22, 2}, {23, 3}}));
}

// The scan runs inside a rebalance: bounded in records read (and so in memory) per partition.
// Past the bound the answer is an error naming the partition, never a guess.
TEST_F(TailScannerIntegration, ScanPastItsRecordBoundIsAnErrorForThatPartitionOnly) {
  Fill();
  mirror::TailScanner scanner({{"bootstrap.servers", Bootstrap("eu-west")}}, "us-east", "eu-west",
                              "test", mirror::TailScanLimits{150, 30s});
  auto many = scanner.ScanMany(Requests(), 30s);
  ASSERT_EQ(many.size(), 6u);
  // p1's last copy sits behind 200 local writes: not found within 150 records.
  ASSERT_FALSE(many[1].ok());
  EXPECT_EQ(many[1].error().code, "mirror.tail_scan_bound");
  EXPECT_NE(many[1].error().message.find("us-east.t[1]: no copy of this flow in the last 150 "
                                         "records (offsets 53..202)"),
            std::string::npos)
      << many[1].error().message;
  // Within the bound everything is answered as without one (p3 holds 70 local writes only).
  const auto want = Expected();
  for (size_t i : {0u, 2u, 3u, 4u, 5u}) {
    ASSERT_TRUE(many[i].ok()) << i << ": " << many[i].error().message;
    EXPECT_EQ(Pairs(*many[i]), want[i]) << i;
  }
  // A range longer than the bound is refused before reading it.
  mirror::TailScanner tiny({{"bootstrap.servers", Bootstrap("eu-west")}}, "us-east", "eu-west",
                           "test", mirror::TailScanLimits{5, 30s});
  auto r = tiny.Scan({"us-east.r", 0, 3, false, "r"}, 30s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "mirror.tail_scan_bound");
  EXPECT_NE(r.error().message.find("offsets 3..9"), std::string::npos) << r.error().message;
}

TEST_F(TailScannerIntegration, ADeadTargetIsAnErrorForEveryPartitionNotAHang) {
  Fill();
  auto scanner = Scanner();
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(tb().testbed().SetBrokerDown("eu-west", b).ok());
  auto many = scanner.ScanMany(Requests(), 3s);
  for (const auto& r : many) {
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(r.error().message.empty());
  }
}

}  // namespace
}  // namespace rm::testing
