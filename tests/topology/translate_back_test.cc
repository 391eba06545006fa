// Back translation through a flow's runs (failback: a position on a copy -> the home position).
#include <gtest/gtest.h>

#include "topology/kafka/failover_kafka.h"

namespace rm::topology::kafka {
namespace {

offsets::Run MakeRun(int64_t s0, int64_t t0, int64_t n) {
  return {common::SourceOffset(s0), common::TargetOffset(t0), n};
}

// The picture of offsets/offset_map.h: runs A (100 -> 50, 4), B (106 -> 54, 3), C (109 -> 60, 3).
const std::vector<offsets::Run> kRuns = {MakeRun(100, 50, 4), MakeRun(106, 54, 3),
                                         MakeRun(109, 60, 3)};

TEST(TranslateBack, InvertsAForwardTranslationInsideARun) {
  EXPECT_EQ(TranslateBack(kRuns, 52).source, 102);
  EXPECT_EQ(TranslateBack(kRuns, 52).kind, "exact");
  EXPECT_EQ(TranslateBack(kRuns, 54).source, 106);
  EXPECT_EQ(TranslateBack(kRuns, 61).source, 110);
}

TEST(TranslateBack, ContinuesRightAfterARunWhenTheTargetHoldsOtherRecordsAfterIt) {
  // 57..59 on the target came from elsewhere: the consumer read all of B, so 109 comes next.
  EXPECT_EQ(TranslateBack(kRuns, 57).source, 109);
  EXPECT_EQ(TranslateBack(kRuns, 57).kind, "after_run");
}

TEST(TranslateBack, BeyondTheLastRunContinuesWithTheRecordsNotCopiedYet) {
  EXPECT_EQ(TranslateBack(kRuns, 63).source, 112);
  EXPECT_EQ(TranslateBack(kRuns, 1000).source, 112);
}

TEST(TranslateBack, BeforeTheFirstRunStartsAtTheFirstCopiedRecord) {
  EXPECT_EQ(TranslateBack(kRuns, 10).source, 100);
  EXPECT_EQ(TranslateBack(kRuns, 10).kind, "below_earliest");
}

TEST(TranslateBack, WithoutRunsThereIsNoMapping) {
  EXPECT_EQ(TranslateBack({}, 5).source, -1);
  EXPECT_EQ(TranslateBack({}, 5).kind, "no_mapping");
}

TEST(TranslateBack, RoundTripsEveryExactForwardPosition) {
  for (const auto& r : kRuns) {
    for (int64_t i = 0; i < r.count; ++i) {
      EXPECT_EQ(TranslateBack(kRuns, r.target_start.value() + i).source,
                r.source_start.value() + i);
    }
  }
}

}  // namespace
}  // namespace rm::topology::kafka
