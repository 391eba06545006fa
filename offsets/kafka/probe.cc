#include "offsets/kafka/probe.h"

namespace rm::offsets::kafka {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

namespace {

prometheus::Counter& FlowCounter(prometheus::Registry& registry, const std::string& name,
                                 const std::string& help, const std::string& flow) {
  return BuildCounter().Name(name).Help(help).Register(registry).Add({{"flow", flow}});
}

}  // namespace

OffsetsProbe::OffsetsProbe(prometheus::Registry& registry, std::string flow)
    : flow_(std::move(flow)),
      syncs_published_(FlowCounter(registry, "rm_offsets_syncs_published_total",
                                   "MM2 OffsetSync records handed to the producer", flow_)),
      syncs_pending_(BuildGauge()
                         .Name("rm_offsets_syncs_pending")
                         .Help("Offset syncs waiting for their topic or for producer queue space")
                         .Register(registry)
                         .Add({{"flow", flow_}})),
      group_checkpoints_(FlowCounter(registry, "rm_offsets_group_checkpoints_total",
                                     "Consumer group partitions translated and stored", flow_)),
      checkpoint_records_(FlowCounter(registry, "rm_offsets_checkpoint_records_total",
                                      "MM2 Checkpoint records written", flow_)),
      target_commits_(FlowCounter(registry, "rm_offsets_target_commits_total",
                                  "Consumer group partitions committed on the target", flow_)),
      group_syncs_skipped_(FlowCounter(
          registry, "rm_offsets_group_syncs_skipped_total",
          "Group offset syncs skipped because the group is active on the target", flow_)),
      runs_pruned_(FlowCounter(registry, "rm_offsets_runs_pruned_total",
                               "Offset map runs deleted below the source log start", flow_)),
      errors_family_(BuildCounter()
                         .Name("rm_offsets_errors_total")
                         .Help("Offsets integration errors by kind")
                         .Register(registry)) {}

void OffsetsProbe::AddError(const std::string& kind) {
  errors_family_.Add({{"flow", flow_}, {"kind", kind}}).Increment();
}

}  // namespace rm::offsets::kafka
