#include "loadtest/sequence_checker.h"

#include <gtest/gtest.h>

#include <string>

#include "loadtest/record_format.h"
#include "loadtest/verifier.h"

namespace rm::loadtest {
namespace {

using Outcome = SequenceChecker::Outcome;

TEST(SequenceChecker, AStreamInOrderPasses) {
  SequenceChecker c;
  StreamId s{0, 2, 1};
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(c.Observe(s, i, 2), Outcome::kInOrder);
  Verification v = c.Finish({{s, 100}});
  EXPECT_TRUE(v.ok()) << v.first_problem;
  EXPECT_EQ(v.received, 100);
}

TEST(SequenceChecker, AGapIsLossAndARepeatIsADuplicate) {
  SequenceChecker c;
  StreamId s{0, 0, 0};
  for (uint64_t i : {0, 1, 2, 5, 6, 6, 7}) c.Observe(s, i, 0);
  Verification v = c.Finish({{s, 8}});
  EXPECT_EQ(v.lost, 2);  // 3 and 4
  EXPECT_EQ(v.duplicates, 1);
  EXPECT_EQ(v.reordered, 0);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.first_problem.find("sequence 6 arrived again"), std::string::npos) << v.first_problem;
}

TEST(SequenceChecker, ALateRecordIsReorderedNotLost) {
  SequenceChecker c;
  StreamId s{1, 3, 2};
  EXPECT_EQ(c.Observe(s, 0, 3), Outcome::kInOrder);
  EXPECT_EQ(c.Observe(s, 2, 3), Outcome::kGap);
  EXPECT_EQ(c.Observe(s, 1, 3), Outcome::kLate);
  EXPECT_EQ(c.Observe(s, 1, 3), Outcome::kDuplicate);  // the late one, again
  Verification v = c.Finish({{s, 3}});
  EXPECT_EQ(v.lost, 0);
  EXPECT_EQ(v.reordered, 1);
  EXPECT_EQ(v.duplicates, 1);
}

TEST(SequenceChecker, TheTailThatNeverArrivedAndSilentStreamsAreLost) {
  SequenceChecker c;
  StreamId a{0, 0, 0}, b{0, 1, 0};
  c.Observe(a, 0, 0);
  Verification v = c.Finish({{a, 10}, {b, 4}});
  EXPECT_EQ(v.lost, 9 + 4);
}

TEST(SequenceChecker, ARecordInAnotherPartitionIsMisplaced) {
  SequenceChecker c;
  StreamId s{0, 1, 0};
  c.Observe(s, 0, 4);
  Verification v = c.Finish({{s, 1}});
  EXPECT_EQ(v.misplaced, 1);
  EXPECT_FALSE(v.ok());
}

std::string Stamped(uint32_t producer, uint32_t partition, uint64_t seq, int64_t intended) {
  std::string v(64, 'x');
  StampRecord({producer, partition, seq, intended, intended + 1000}, v);
  return v;
}

TEST(Verifier, CountsLossAndDuplicatesInASyntheticStream) {
  // The verifier's per-record path, fed without Kafka: partition 0 skips sequence 2, partition 1
  // delivers sequence 1 twice; a foreign record is counted apart.
  Verifier verifier({"unused:9092", {"t"}, 2, {}, 0});
  const int64_t t0 = 1'000'000'000;
  for (uint64_t seq : {0, 1, 3}) verifier.Observe(0, 0, Stamped(0, 0, seq, t0), t0 + 5'000'000);
  for (uint64_t seq : {0, 1, 1, 2}) verifier.Observe(0, 1, Stamped(0, 1, seq, t0), t0 + 5'000'000);
  verifier.Observe(0, 1, "not ours", t0);
  Verification v = verifier.Finish({{{0, 0, 0}, 4}, {{0, 1, 0}, 3}});
  EXPECT_EQ(v.lost, 1);
  EXPECT_EQ(v.duplicates, 1);
  EXPECT_EQ(v.foreign, 1);
  EXPECT_EQ(v.received, 7);
  EXPECT_FALSE(v.ok());
  // Latency is arrival minus the intended time: 5 ms for every record.
  LatencyFigures lat = verifier.Aggregated();
  EXPECT_EQ(lat.from_intended_us.count(), 7);
  EXPECT_EQ(lat.from_intended_us.max(), 5000);
  EXPECT_EQ(lat.from_sent_us.max(), 4999);
}

TEST(RecordFormat, StampsRoundTrip) {
  std::string v(40, '\0');
  StampRecord({7, 3, 123456789012ULL, -5, 99}, v);
  auto s = ReadStamp(v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->producer, 7u);
  EXPECT_EQ(s->partition, 3u);
  EXPECT_EQ(s->sequence, 123456789012ULL);
  EXPECT_EQ(s->intended_ns, -5);
  EXPECT_EQ(s->sent_ns, 99);
  EXPECT_FALSE(ReadStamp(v.substr(0, 39)));
  EXPECT_FALSE(ReadStamp(std::string(40, 'a')));
}

}  // namespace
}  // namespace rm::loadtest
