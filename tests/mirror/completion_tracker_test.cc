#include "mirror/completion_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace rm::mirror {
namespace {

using common::SourceOffset;
using common::TargetOffset;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;

Pairs DrainAll(CompletionTracker& t) {
  Pairs out;
  t.Drain([&](SourceOffset s, TargetOffset d) { out.emplace_back(s.value(), d.value()); });
  return out;
}

TEST(CompletionTracker, CommitsOnlyTheContiguousDeliveredPrefix) {
  CompletionTracker t(SourceOffset(100));
  auto a = t.Add(SourceOffset(100));
  auto b = t.Add(SourceOffset(101));
  auto c = t.Add(SourceOffset(102));
  t.Delivered(c, TargetOffset(7));
  t.Delivered(b, TargetOffset(6));
  EXPECT_TRUE(DrainAll(t).empty());
  EXPECT_EQ(t.committable(), SourceOffset(100));
  t.Delivered(a, TargetOffset(5));
  EXPECT_EQ(DrainAll(t), (Pairs{{100, 5}, {101, 6}, {102, 7}}));
  EXPECT_EQ(t.committable(), SourceOffset(103));
  EXPECT_EQ(t.pending(), 0u);
}

TEST(CompletionTracker, SkippedRecordsAdvanceTheCommitButAreNotReported) {
  CompletionTracker t(SourceOffset(0));
  auto a = t.Add(SourceOffset(0));
  t.Skip(SourceOffset(1));  // already passed through the target
  auto c = t.Add(SourceOffset(2));
  t.Delivered(a, TargetOffset(0));
  t.Delivered(c, TargetOffset(1));
  EXPECT_EQ(DrainAll(t), (Pairs{{0, 0}, {2, 1}}));
  EXPECT_EQ(t.committable(), SourceOffset(3));
}

TEST(CompletionTracker, SourceGapsFromCompactionOrMarkersAreAllowed) {
  CompletionTracker t(SourceOffset(10));
  auto a = t.Add(SourceOffset(10));
  auto b = t.Add(SourceOffset(15));  // 11..14 compacted away / transaction marker
  t.Delivered(a, TargetOffset(0));
  t.Delivered(b, TargetOffset(1));
  EXPECT_EQ(DrainAll(t), (Pairs{{10, 0}, {15, 1}}));
  EXPECT_EQ(t.committable(), SourceOffset(16));
  EXPECT_EQ(t.last_seen(), SourceOffset(15));
}

TEST(CompletionTracker, StaleSlotsAreIgnored) {
  CompletionTracker t(SourceOffset(0));
  auto a = t.Add(SourceOffset(0));
  t.Delivered(a, TargetOffset(0));
  DrainAll(t);
  t.Delivered(a, TargetOffset(99));  // a duplicate report after the pop
  t.Delivered(12345, TargetOffset(1));
  EXPECT_TRUE(DrainAll(t).empty());
  EXPECT_EQ(t.committable(), SourceOffset(1));
}

TEST(CompletionTracker, RandomOrderMatchesAModel) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 50; ++round) {
    CompletionTracker t(SourceOffset(0));
    std::vector<std::pair<uint64_t, int64_t>> inflight;  // slot, source
    std::map<int64_t, int64_t> expected;                 // source -> target (delivered only)
    int64_t src = 0, tgt = 0;
    Pairs reported;
    int64_t committed = 0;
    for (int step = 0; step < 5000; ++step) {
      int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        src += 1 + static_cast<int64_t>(rng() % 3 == 0 ? rng() % 5 : 0);
        if (rng() % 20 == 0) {
          t.Skip(SourceOffset(src));
        } else {
          inflight.emplace_back(t.Add(SourceOffset(src)), src);
        }
      } else if (!inflight.empty()) {
        size_t i = rng() % inflight.size();
        auto [slot, s] = inflight[i];
        inflight.erase(inflight.begin() + static_cast<long>(i));
        t.Delivered(slot, TargetOffset(tgt));
        expected[s] = tgt++;
      }
      for (auto& p : DrainAll(t)) reported.push_back(p);
      ASSERT_GE(t.committable().value(), committed);
      committed = t.committable().value();
      // Nothing in flight lies below the committable offset.
      for (auto& [slot, s] : inflight) ASSERT_GE(s, committed);
    }
    // Deliver the rest; everything must come out once, in source order.
    for (auto& [slot, s] : inflight) {
      t.Delivered(slot, TargetOffset(tgt));
      expected[s] = tgt++;
    }
    for (auto& p : DrainAll(t)) reported.push_back(p);
    ASSERT_EQ(reported.size(), expected.size());
    size_t i = 0;
    for (auto& [s, d] : expected) {
      EXPECT_EQ(reported[i].first, s);
      EXPECT_EQ(reported[i].second, d);
      ++i;
    }
    EXPECT_EQ(t.pending(), 0u);
  }
}

}  // namespace
}  // namespace rm::mirror
