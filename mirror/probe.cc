#include "mirror/probe.h"

namespace rm::mirror {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

MirrorProbe::MirrorProbe(prometheus::Registry& registry, std::string flow)
    : flow_(std::move(flow)),
      records_family_(BuildCounter()
                          .Name("rm_mirror_records_copied_total")
                          .Help("Records copied and acknowledged by the target")
                          .Register(registry)),
      bytes_family_(BuildCounter()
                        .Name("rm_mirror_bytes_copied_total")
                        .Help("Key and value bytes copied and acknowledged by the target")
                        .Register(registry)),
      lag_family_(BuildGauge()
                      .Name("rm_mirror_lag_records")
                      .Help("Source high watermark minus the next offset to copy")
                      .Register(registry)),
      skipped_family_(BuildCounter()
                          .Name("rm_mirror_records_skipped_total")
                          .Help("Records deleted by source retention before they were copied")
                          .Register(registry)),
      delivery_failures_family_(BuildCounter()
                                    .Name("rm_mirror_delivery_failures_total")
                                    .Help("Records the target refused; each is copied again")
                                    .Register(registry)),
      residency_refused_family_(BuildCounter()
                                    .Name("rm_mirror_residency_refused_total")
                                    .Help("Records never copied: residency forbids a copy of "
                                          "their topic in the target")
                                    .Register(registry)),
      transform_filtered_family_(BuildCounter()
                                     .Name("rm_mirror_transform_filtered_total")
                                     .Help("Records a flow's Filter transform dropped (not "
                                           "copied; their source position passes)")
                                     .Register(registry)),
      errors_family_(
          BuildCounter().Name("rm_mirror_errors_total").Help("Errors by kind").Register(registry)),
      rebalances_family_(BuildCounter()
                             .Name("rm_mirror_rebalances_total")
                             .Help("Partition assignment changes")
                             .Register(registry)),
      latency_(BuildHistogram()
                   .Name("rm_mirror_replication_latency_seconds")
                   .Help("Time from the source record's timestamp to its acknowledgement")
                   .Register(registry)
                   .Add({{"flow", flow_}}, common::LatencyBucketsSeconds())),
      latency_batch_(latency_),
      inflight_records_(BuildGauge()
                            .Name("rm_mirror_inflight_records")
                            .Help("Records handed to the producer and not yet acknowledged")
                            .Register(registry)
                            .Add({{"flow", flow_}})),
      inflight_bytes_(BuildGauge()
                          .Name("rm_mirror_inflight_bytes")
                          .Help("Bytes of in-flight records")
                          .Register(registry)
                          .Add({{"flow", flow_}})),
      filtered_(BuildCounter()
                    .Name("rm_mirror_records_filtered_total")
                    .Help("Records not copied because they already passed through the target")
                    .Register(registry)
                    .Add({{"flow", flow_}})),
      paused_(BuildGauge()
                  .Name("rm_mirror_paused_partitions")
                  .Help("Source partitions paused for back-pressure")
                  .Register(registry)
                  .Add({{"flow", flow_}})) {}

void MirrorProbe::AddCopied(const std::string& topic, int64_t records, int64_t bytes) {
  auto it = copied_.find(topic);
  if (it == copied_.end()) {
    it = copied_
             .emplace(topic,
                      std::make_pair(&records_family_.Add({{"flow", flow_}, {"topic", topic}}),
                                     &bytes_family_.Add({{"flow", flow_}, {"topic", topic}})))
             .first;
  }
  it->second.first->Increment(static_cast<double>(records));
  it->second.second->Increment(static_cast<double>(bytes));
}

void MirrorProbe::AddDeliveryFailed(const std::string& topic) {
  delivery_failures_family_.Add({{"flow", flow_}, {"topic", topic}}).Increment();
}

void MirrorProbe::AddResidencyRefused(const std::string& topic) {
  auto it = residency_refused_.find(topic);
  if (it == residency_refused_.end()) {
    it = residency_refused_
             .emplace(topic, &residency_refused_family_.Add({{"flow", flow_}, {"topic", topic}}))
             .first;
  }
  it->second->Increment();
}

void MirrorProbe::AddTransformFiltered(const std::string& topic, const std::string& transform) {
  auto key = std::make_pair(topic, transform);
  auto it = transform_filtered_.find(key);
  if (it == transform_filtered_.end()) {
    it = transform_filtered_
             .emplace(key, &transform_filtered_family_.Add(
                               {{"flow", flow_}, {"topic", topic}, {"transform", transform}}))
             .first;
  }
  it->second->Increment();
}

void MirrorProbe::SetLag(const std::string& topic, int32_t partition, int64_t lag) {
  lag_family_.Add({{"flow", flow_}, {"topic", topic}, {"partition", std::to_string(partition)}})
      .Set(static_cast<double>(lag));
}

void MirrorProbe::RemoveLag(const std::string& topic, int32_t partition) {
  auto& g = lag_family_.Add(
      {{"flow", flow_}, {"topic", topic}, {"partition", std::to_string(partition)}});
  lag_family_.Remove(&g);
}

void MirrorProbe::AddSkipped(const std::string& topic, int64_t n) {
  skipped_family_.Add({{"flow", flow_}, {"topic", topic}}).Increment(static_cast<double>(n));
}

void MirrorProbe::AddError(const std::string& kind) {
  errors_family_.Add({{"flow", flow_}, {"kind", kind}}).Increment();
}

void MirrorProbe::AddRebalance(const std::string& kind) {
  rebalances_family_.Add({{"flow", flow_}, {"kind", kind}}).Increment();
}

double MirrorProbe::copied_total() const {
  double sum = 0;
  for (const auto& [topic, c] : copied_) sum += c.first->Value();
  return sum;
}

}  // namespace rm::mirror
