#include "loadtest/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace rm::loadtest {
namespace {

// Values below kSubBuckets are their own bucket; above, each power of two 2^e (e >= bits)
// holds kSubBuckets / 2 buckets of width 2^(e - bits + 1).
constexpr int kHalf = static_cast<int>(LatencyHistogram::kSubBuckets / 2);
constexpr int kBuckets = static_cast<int>(LatencyHistogram::kSubBuckets) +
                         (63 - LatencyHistogram::kSubBucketBits) * kHalf;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(int64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  const int top = 63 - std::countl_zero(static_cast<uint64_t>(value));  // floor(log2(value))
  const int shift = top - kSubBucketBits + 1;
  // (value >> shift) is in [kHalf, kSubBuckets).
  return static_cast<int>(kSubBuckets) + (shift - 1) * kHalf +
         static_cast<int>((value >> shift) - kHalf);
}

int64_t LatencyHistogram::HighestOf(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  const int rel = bucket - static_cast<int>(kSubBuckets);
  const int shift = rel / kHalf + 1;
  const int64_t sub = rel % kHalf + kHalf;
  if (shift + kSubBucketBits >= 63) return INT64_MAX;  // the last power of two: no overflow
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t value, int64_t count) {
  if (count <= 0) return;
  value = std::max<int64_t>(value, 0);
  counts_[BucketOf(value)] += count;
  if (count_ == 0 || value > max_) max_ = value;
  if (count_ == 0 || value < min_) min_ = value;
  count_ += count;
  sum_ += value * count;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = max_ = min_ = sum_ = 0;
}

int64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  if (p >= 100) return max_;
  // The rank of the sample that p% of the samples are at or below (1-based).
  int64_t rank = static_cast<int64_t>(std::ceil(std::max(p, 0.0) / 100.0 * count_));
  rank = std::clamp<int64_t>(rank, 1, count_);
  int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::clamp(HighestOf(b), min_, max_);
  }
  return max_;
}

}  // namespace rm::loadtest
