#include "src-cdc/cassandra/capture_probe.h"

namespace rm::cdc::cassandra {
namespace {

prometheus::Counter& Counter(prometheus::Registry& r, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::Gauge& Gauge(prometheus::Registry& r, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

CaptureProbe::CaptureProbe(prometheus::Registry& r)
    : produced_(Counter(r, "rm_cdc_cassandra_events_produced_total",
                        "Change event records handed to the sink.")),
      acked_(Counter(r, "rm_cdc_cassandra_events_acked_total",
                     "Change event records the sink stored.")),
      failed_(Counter(r, "rm_cdc_cassandra_events_failed_total",
                      "Change event records the sink failed to store.")),
      mutations_(Counter(r, "rm_cdc_cassandra_mutations_total",
                         "Commit log mutations of captured tables read.")),
      segments_done_(Counter(r, "rm_cdc_cassandra_segments_done_total",
                             "Segments fully delivered and cleaned up.")),
      errors_family_(prometheus::BuildCounter()
                         .Name("rm_cdc_cassandra_errors_total")
                         .Help("Errors by kind (segment, segment_open, event, io, cdc_raw, sink, "
                               "state, cleanup).")
                         .Register(r)),
      position_segment_(
          Gauge(r, "rm_cdc_cassandra_position_segment_id", "Checkpointed position: segment id.")),
      position_offset_(Gauge(r, "rm_cdc_cassandra_position_offset",
                             "Checkpointed position: offset in the segment.")),
      read_offset_(
          Gauge(r, "rm_cdc_cassandra_read_offset", "Read position in the current segment.")),
      lag_bytes_(Gauge(r, "rm_cdc_cassandra_lag_bytes",
                       "Readable (_cdc.idx) offset minus read offset in the current segment.")),
      segments_pending_(
          Gauge(r, "rm_cdc_cassandra_segments_pending", "Segments in cdc_raw not yet cleaned up.")),
      inflight_(Gauge(r, "rm_cdc_cassandra_inflight_events",
                      "Records produced and not yet in the acknowledged prefix.")),
      spill_family_(prometheus::BuildGauge()
                        .Name("rm_cdc_cassandra_spill_bytes")
                        .Help("Bytes a stopped table's spill holds in state_dir (its entries "
                              "read since the stop, while the checkpoint goes on).")
                        .Register(r)) {}

void CaptureProbe::SetSpillBytes(const std::string& table, uint64_t bytes) {
  std::lock_guard lock(mu_);
  auto it = spills_.find(table);
  if (it == spills_.end())
    it = spills_.emplace(table, &spill_family_.Add({{"table", table}})).first;
  it->second->Set(static_cast<double>(bytes));
}

double CaptureProbe::spill_bytes(const std::string& table) const {
  std::lock_guard lock(mu_);
  auto it = spills_.find(table);
  return it == spills_.end() ? 0 : it->second->Value();
}

void CaptureProbe::AddError(const std::string& kind, int64_t n) {
  std::lock_guard lock(mu_);
  auto it = errors_.find(kind);
  if (it == errors_.end()) it = errors_.emplace(kind, &errors_family_.Add({{"kind", kind}})).first;
  it->second->Increment(static_cast<double>(n));
}

uint64_t CaptureProbe::errors(const std::string& kind) const {
  std::lock_guard lock(mu_);
  auto it = errors_.find(kind);
  return it == errors_.end() ? 0 : static_cast<uint64_t>(it->second->Value());
}

uint64_t CaptureProbe::errors_total() const {
  std::lock_guard lock(mu_);
  double total = 0;
  for (const auto& [kind, c] : errors_) total += c->Value();
  return static_cast<uint64_t>(total);
}

}  // namespace rm::cdc::cassandra
