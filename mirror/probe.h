// Metrics of the mirror (names and labels live here; the flow calls verbs).
//   rm_mirror_records_copied_total{flow,topic}    records acknowledged by the target
//   rm_mirror_bytes_copied_total{flow,topic}      key+value bytes of those
//   rm_mirror_replication_latency_seconds{flow}   now - source record timestamp, at delivery
//   rm_mirror_lag_records{flow,topic,partition}   source high watermark - next offset to copy
//   rm_mirror_inflight_records{flow}              handed to the producer, not yet acknowledged
//   rm_mirror_inflight_bytes{flow}
//   rm_mirror_records_filtered_total{flow}        not copied back: already passed the target
//   rm_mirror_records_skipped_total{flow,topic}   lost to source retention before being copied
//   rm_mirror_delivery_failures_total{flow,topic}  records the target refused (each is copied
//                                                 again from the first refused one)
//   rm_mirror_residency_refused_total{flow,topic}  records never copied: residency forbids a copy
//                                                 in the target (FlowConfig::placement)
//   rm_mirror_transform_filtered_total{flow,topic,transform}  records a flow's Filter dropped
//                                                 (not copied, their position passes)
//   rm_mirror_errors_total{flow,kind}             delivery, consume, topic, commit errors
//   rm_mirror_rebalances_total{flow,kind}         assigned / revoked / lost
//   rm_mirror_paused_partitions{flow}             partitions paused for back-pressure
#pragma once

#include <map>
#include <string>

#include "common/metrics.h"

namespace rm::mirror {

class MirrorProbe {
 public:
  MirrorProbe(prometheus::Registry& registry, std::string flow);

  void AddCopied(const std::string& topic, int64_t records, int64_t bytes);
  // Gathered locally (one thread: the flow's); FlushLatency() publishes them.
  void ObserveLatency(double seconds) { latency_batch_.Observe(seconds); }
  void FlushLatency() { latency_batch_.Flush(); }
  void SetLag(const std::string& topic, int32_t partition, int64_t lag);
  void RemoveLag(const std::string& topic, int32_t partition);
  void SetInflight(int64_t records, int64_t bytes) {
    inflight_records_.Set(static_cast<double>(records));
    inflight_bytes_.Set(static_cast<double>(bytes));
  }
  void AddFiltered(int64_t n) { filtered_.Increment(static_cast<double>(n)); }
  void AddSkipped(const std::string& topic, int64_t n);
  void AddDeliveryFailed(const std::string& topic);
  void AddResidencyRefused(const std::string& topic);
  void AddTransformFiltered(const std::string& topic, const std::string& transform);
  void AddError(const std::string& kind);
  void AddRebalance(const std::string& kind);
  void SetPaused(int64_t n) { paused_.Set(static_cast<double>(n)); }

  // For tests and the closing summary.
  double copied_total() const;

 private:
  std::string flow_;
  prometheus::Family<prometheus::Counter>& records_family_;
  prometheus::Family<prometheus::Counter>& bytes_family_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  prometheus::Family<prometheus::Counter>& skipped_family_;
  prometheus::Family<prometheus::Counter>& delivery_failures_family_;
  prometheus::Family<prometheus::Counter>& residency_refused_family_;
  std::map<std::string, prometheus::Counter*> residency_refused_;
  prometheus::Family<prometheus::Counter>& transform_filtered_family_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> transform_filtered_;
  prometheus::Family<prometheus::Counter>& errors_family_;
  prometheus::Family<prometheus::Counter>& rebalances_family_;
  prometheus::Histogram& latency_;
  common::BatchedHistogram latency_batch_;
  prometheus::Gauge& inflight_records_;
  prometheus::Gauge& inflight_bytes_;
  prometheus::Counter& filtered_;
  prometheus::Gauge& paused_;
  // Per-topic children cached: prometheus-cpp's Add() hashes labels on every call.
  std::map<std::string, std::pair<prometheus::Counter*, prometheus::Counter*>> copied_;
};

}  // namespace rm::mirror
