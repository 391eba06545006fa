// LatencyHistogram: an HDR-style histogram of non-negative integer values (the harness records
// microseconds). Buckets are log-linear: every power of two is split into kSubBuckets equal
// sub-buckets, so a value is kept to within 1/kSubBuckets of itself (0.1%) over the whole range
// at a fixed memory cost, and histograms of intervals merge exactly by adding counts.
//
// Percentile(p) answers the smallest recorded value v (to that precision) such that at least
// p% of the samples are <= v, the definition an exact sorted-array percentile uses; max and min
// are exact. Not thread-safe: one writer, or guard it.
#pragma once

#include <cstdint>
#include <vector>

namespace rm::loadtest {

class LatencyHistogram {
 public:
  // Sub-buckets per power of two; the relative error of a value read back is below 1/1024.
  static constexpr int kSubBucketBits = 11;
  static constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;

  LatencyHistogram();

  // Records `value` `count` times; negative values are recorded as 0.
  void Record(int64_t value, int64_t count = 1);
  void Merge(const LatencyHistogram& other);
  void Reset();

  int64_t count() const { return count_; }
  int64_t max() const { return count_ ? max_ : 0; }
  int64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  // 0 <= p <= 100; 0 when empty. p = 100 is the exact max.
  int64_t Percentile(double p) const;

 private:
  static int BucketOf(int64_t value);
  // The largest value that lands in `bucket` (what a percentile reports, never below the
  // values it stands for).
  static int64_t HighestOf(int bucket);

  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t max_ = 0;
  int64_t min_ = 0;
  // Saturates only beyond 2^63 microseconds in total: not a concern for a run.
  int64_t sum_ = 0;
};

}  // namespace rm::loadtest
