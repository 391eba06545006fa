// Metrics of the Cassandra capture (names and labels live here; the capture calls verbs).
//   rm_cdc_cassandra_events_produced_total        records handed to the sink
//   rm_cdc_cassandra_events_acked_total           records the sink stored
//   rm_cdc_cassandra_events_failed_total          records the sink failed to store
//   rm_cdc_cassandra_mutations_total              commit log mutations of captured tables
//   rm_cdc_cassandra_segments_done_total          segments fully delivered and cleaned up
//   rm_cdc_cassandra_errors_total{kind}           segment (tolerated read errors, each naming
//                                                 file, section, offset), segment_open, event,
//                                                 io, cdc_raw, sink, state, cleanup
//   rm_cdc_cassandra_position_segment_id          checkpointed position: segment id
//   rm_cdc_cassandra_position_offset              checkpointed position: offset in it
//   rm_cdc_cassandra_read_offset                  read position in the current segment
//   rm_cdc_cassandra_lag_bytes                    readable (_cdc.idx) offset minus read offset
//                                                 in the current segment
//   rm_cdc_cassandra_segments_pending             segments in cdc_raw not yet cleaned up
//   rm_cdc_cassandra_inflight_events              produced, not yet in the acknowledged prefix
//   rm_cdc_cassandra_spill_bytes{table}           a stopped table's spill (its entries kept in
//                                                 state_dir while the checkpoint goes on)
// Thread-safe (prometheus-cpp metrics are atomic): the capture thread and the sink's ack
// callbacks both write.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/metrics.h"

namespace rm::cdc::cassandra {

class CaptureProbe {
 public:
  explicit CaptureProbe(prometheus::Registry& registry);

  void AddProduced(int64_t n = 1) { produced_.Increment(static_cast<double>(n)); }
  void AddAcked(bool ok) { (ok ? acked_ : failed_).Increment(); }
  void AddMutations(int64_t n) { mutations_.Increment(static_cast<double>(n)); }
  void AddSegmentDone() { segments_done_.Increment(); }
  void AddError(const std::string& kind, int64_t n = 1);
  void SetPosition(int64_t segment_id, uint32_t offset) {
    position_segment_.Set(static_cast<double>(segment_id));
    position_offset_.Set(offset);
  }
  void SetReadOffset(uint64_t offset) { read_offset_.Set(static_cast<double>(offset)); }
  void SetLagBytes(uint64_t bytes) { lag_bytes_.Set(static_cast<double>(bytes)); }
  void SetSegmentsPending(size_t n) { segments_pending_.Set(static_cast<double>(n)); }
  void SetInflight(uint64_t n) { inflight_.Set(static_cast<double>(n)); }
  void SetSpillBytes(const std::string& table, uint64_t bytes);

  // For tests and the closing summary.
  uint64_t produced() const { return static_cast<uint64_t>(produced_.Value()); }
  uint64_t acked() const { return static_cast<uint64_t>(acked_.Value()); }
  uint64_t failed() const { return static_cast<uint64_t>(failed_.Value()); }
  uint64_t segments_done() const { return static_cast<uint64_t>(segments_done_.Value()); }
  uint64_t errors(const std::string& kind) const;
  uint64_t errors_total() const;
  double lag_bytes() const { return lag_bytes_.Value(); }
  double spill_bytes(const std::string& table) const;

 private:
  prometheus::Counter& produced_;
  prometheus::Counter& acked_;
  prometheus::Counter& failed_;
  prometheus::Counter& mutations_;
  prometheus::Counter& segments_done_;
  prometheus::Family<prometheus::Counter>& errors_family_;
  prometheus::Gauge& position_segment_;
  prometheus::Gauge& position_offset_;
  prometheus::Gauge& read_offset_;
  prometheus::Gauge& lag_bytes_;
  prometheus::Gauge& segments_pending_;
  prometheus::Gauge& inflight_;
  prometheus::Family<prometheus::Gauge>& spill_family_;
  mutable std::mutex mu_;
  std::map<std::string, prometheus::Counter*> errors_;
  std::map<std::string, prometheus::Gauge*> spills_;
};

}  // namespace rm::cdc::cassandra
