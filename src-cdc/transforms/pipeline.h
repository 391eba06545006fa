// TransformPipeline: runs each captured table's chain of transforms on its events, between the
// capture building an event and the serializer writing it, and applies the error policy.
//
//   capture ──ChangeEvent──► Apply() ──kEmit──────► EncodeRecords ──► sink (acks move positions)
//                               ├──kFiltered─────► nothing written; the position may pass it
//                               ├──kDeadLetter───► the untransformed event, topic = the DLQ
//                               └──error─────────► the capture stops at this event
//
// Schemas: an event carrying Connect schemas (envelope json_with_schema) leaves the chain with
// schemas mapped by the steps that applied to it (Transform::MapSchema), so the schema
// describes the transformed record. The mapping depends only on the table version's schemas and
// on which steps applied (predicates may skip some), so it is built once per such pair and
// shared. A schema a step cannot map (a ValueToKey field the row schema lacks) is that step's
// failure, under the same error policy.
//
// Delivery guarantee: an event is either written (transformed, or untransformed to the
// dead-letter topic) and acknowledged by the sink before its position is, or deliberately
// filtered (counted), or the capture stops before acknowledging its position. Nothing is
// dropped silently.
//
// Metrics (registered on the registry given, labels table and transform):
//   rm_cdc_transform_filtered_total       events a transform dropped on purpose (Filter,
//                                         ExtractNewRecordState's delete handling)
//   rm_cdc_transform_failures_total       events a transform failed on
//   rm_cdc_transform_dead_lettered_total  of those, the ones written to the dead-letter topic
//
// Threading: Apply() from the capture's thread only; the counters are thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "src-cdc/change_event.h"
#include "src-cdc/transforms/config.h"

namespace rm::cdc::transforms {

// A captured table and the topic its events have when the capture builds them.
struct CapturedTable {
  std::string table;  // "public.orders"
  std::string topic;  // "pg1.public.orders"
};

class TransformPipeline {
 public:
  enum class Outcome { kEmit, kFiltered, kDeadLetter };

  // `config` must outlive the pipeline.
  TransformPipeline(const TransformsConfig& config, const std::vector<CapturedTable>& tables,
                    prometheus::Registry& registry);

  // Runs the chain of the event's table (found by its topic; other events pass unchanged).
  // kEmit: write `event`. kFiltered: write nothing. kDeadLetter: `event` is the untransformed
  // event addressed to the dead-letter topic (no tombstone after it): write it. An error
  // ("transform.failed", naming table, transform, position and reason): write nothing and stop;
  // already logged.
  common::Result<Outcome> Apply(ChangeEvent& event);

  struct Counts {
    uint64_t filtered = 0;
    uint64_t failures = 0;
    uint64_t dead_lettered = 0;
  };
  // The counters of one step of one table's chain (zeros when unknown).
  Counts CountsFor(const std::string& table, const std::string& transform) const;

 private:
  // This pipeline's own counts (the Prometheus counters are shared by every pipeline in the
  // process with the same labels).
  struct StepCounts {
    std::atomic<uint64_t> filtered{0}, failures{0}, dead_lettered{0};
  };
  struct Step {
    const TransformStep* spec;
    prometheus::Counter* filtered;
    prometheus::Counter* failures;
    prometheus::Counter* dead_lettered;
    std::unique_ptr<StepCounts> counts;
  };
  // Mapped schemas by (the captured schemas, which steps applied); the captured schemas are
  // held so their address is not reused while the entry exists.
  struct MappedSchemas {
    std::shared_ptr<const ConnectSchemas> captured;
    std::shared_ptr<const ConnectSchemas> mapped;
  };
  struct Chain {
    std::string table;
    std::vector<Step> steps;
    std::map<std::pair<const ConnectSchemas*, std::vector<bool>>, MappedSchemas> schemas;
  };
  // The schemas of an event of `chain` the steps marked in `applied` transformed; an error
  // names the step (its index in *failed_step).
  common::Result<std::shared_ptr<const ConnectSchemas>> MapSchemas(
      Chain& chain, const std::shared_ptr<const ConnectSchemas>& captured,
      const std::vector<bool>& applied, size_t* failed_step);
  // The error policy for a failure of `step` on `event` (`original`: the event as it came, set
  // with errors.tolerance all).
  common::Result<Outcome> Fail(const Chain& chain, const Step& step, ChangeEvent& event,
                               std::optional<ChangeEvent>& original, const std::string& reason);

  const TransformsConfig& config_;
  std::unordered_map<std::string, Chain> by_topic_;
};

}  // namespace rm::cdc::transforms
