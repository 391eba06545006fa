// Shared helpers of the offsets tests: open a store in a temporary directory, short names for
// strong offsets, and a naive model of the map (a std::map from every delivered source offset
// to its target offset) that states the translation rules independently of the runs.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "tests/util/test_util.h"

namespace rm::offsets::testing {

using common::SourceOffset;
using common::TargetOffset;

inline SourceOffset S(int64_t v) { return SourceOffset(v); }
inline TargetOffset T(int64_t v) { return TargetOffset(v); }

// Every durable run of the map, in key order.
inline std::vector<std::pair<PartitionKey, Run>> AllRuns(const OffsetMap& map) {
  std::vector<std::pair<PartitionKey, Run>> out;
  EXPECT_TRUE(map.ForEachRun({},
                             [&](const PartitionKey& p, const Run& run) {
                               out.push_back({p, run});
                               return true;
                             })
                  .ok());
  return out;
}

inline std::unique_ptr<OffsetStore> OpenStore(const std::filesystem::path& dir) {
  auto store = OffsetStore::Open(dir);
  if (!store.ok()) {
    ADD_FAILURE() << store.error().code << ": " << store.error().message;
    return nullptr;
  }
  return std::move(store).value();
}

// Every delivered record of one partition, and the translation rules of offset_map.h stated on
// single records:
//   exact           S was delivered                       -> target(S)
//   gap             records below and above S exist       -> min(target(next >= S),
//                                                               target(last < S) + 1)
//   beyond end      only records below S                  -> target(last < S) + 1
//   below earliest  only records above S                  -> target(first)
class NaiveMap {
 public:
  void Deliver(int64_t source, int64_t target) { records_[source] = target; }
  // Drops records below log_start except the newest one (OffsetMap keeps the last run).
  void PruneBelow(int64_t log_start) {
    if (records_.empty()) return;
    auto keep_last = std::prev(records_.end());
    records_.erase(records_.begin(), records_.lower_bound(std::min(log_start, keep_last->first)));
  }
  void Clear() { records_.clear(); }
  size_t size() const { return records_.size(); }
  const std::map<int64_t, int64_t>& records() const { return records_; }

  TranslationResult Translate(int64_t position) const {
    auto next = records_.lower_bound(position);
    const bool has_prev = next != records_.begin();
    if (next != records_.end() && next->first == position) {
      return {TranslationKind::kExact, T(next->second)};
    }
    if (next != records_.end() && has_prev) {
      return {TranslationKind::kGap, T(std::min(next->second, std::prev(next)->second + 1))};
    }
    if (has_prev) return {TranslationKind::kBeyondEnd, T(std::prev(next)->second + 1)};
    if (next != records_.end()) return {TranslationKind::kBelowEarliest, T(next->second)};
    return {TranslationKind::kNoMapping, TargetOffset()};
  }

 private:
  std::map<int64_t, int64_t> records_;
};

}  // namespace rm::offsets::testing

namespace rm::offsets {
inline void PrintTo(const TranslationResult& r, std::ostream* os) {
  *os << ToString(r.kind) << "@" << r.target.value();
}
inline void PrintTo(const Run& r, std::ostream* os) {
  *os << "{" << r.source_start << "->" << r.target_start << " x" << r.count << "}";
}
}  // namespace rm::offsets
