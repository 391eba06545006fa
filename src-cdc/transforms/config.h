// The transforms of a capture, read from its YAML section (`postgres:`), in the order they run:
//
//   transforms:
//     - name: unwrap                   # required, unique: names it in errors, logs and metrics
//       type: ExtractNewRecordState    # or io.debezium.transforms.ExtractNewRecordState
//       tables: [public.orders]        # default: every captured table
//       delete.tombstone.handling.mode: rewrite
//       add.fields: op,table,source.ts_ms
//     - name: tenant
//       type: InsertField$Value        # or InsertField, org.apache.kafka.connect.transforms...
//       static.field: tenant_id
//       static.value: acme
//     - name: no-test-rows
//       type: Filter
//       predicate: {field: customer, matches: "test-.*"}   # on any transform; negate: true
//   errors.tolerance: none             # none: a failing event stops the capture; all: it goes
//   errors.deadletterqueue.topic.name: pg1.dlq   #   to this topic (required with all)
//
// The per-type options, with Connect's and Debezium's names, are in README.md in this folder.
// Problems are reported as "<file>:<line>: <field>: <reason>", the field naming the transform,
// e.g. "cdc.yaml:14: postgres.transforms[1].static.value (InsertField 'tenant'): required".
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src-cdc/transforms/transform.h"

namespace rm::cdc::transforms {

// What happens to an event a transform fails on (Kafka Connect's errors.tolerance).
enum class ErrorTolerance {
  kNone,  // the capture stops at the event (a poison event); its position is not acknowledged
  kAll,   // the untransformed event goes to the dead-letter topic; acknowledged once stored
};

struct TransformStep {
  std::string name;
  std::string type;                    // the short name: "ExtractNewRecordState", "Cast", ...
  std::vector<std::string> tables;     // qualified names ("public.orders"); empty = every table
  std::optional<Predicate> predicate;  // applies only to the events it matches (or, negate,
  bool negate = false;                 // to the others)
  std::shared_ptr<const Transform> transform;
  int line = 0;  // in the config file

  bool AppliesTo(const std::string& table) const;
};

struct TransformsConfig {
  std::vector<TransformStep> steps;
  // Default: kNone.
  ErrorTolerance tolerance = ErrorTolerance::kNone;
  // Where failed events go with kAll. Default: none.
  std::string dead_letter_topic;

  bool empty() const { return steps.empty(); }
  // The topic records of `table`, written to `topic` by the capture, end up in after the
  // chain's RegexRouters that have no predicate (for provisioning topics).
  std::string RoutedTopic(const std::string& table, const std::string& topic) const;
};

// Reads `transforms`, `errors.tolerance` and `errors.deadletterqueue.topic.name` from `parent`
// (the capture's section, at YAML path `path`). `tables` are the captured tables (qualified);
// a step naming another table is a problem. Problems are appended to `problems` as
// "<source>:<line>: <field>: <reason>"; the keys themselves are not checked against the
// parent's known keys (the caller lists them).
TransformsConfig ReadTransforms(const YAML::Node& parent, const std::string& path,
                                const std::string& source, const std::vector<std::string>& tables,
                                std::vector<std::string>& problems);

// The keys ReadTransforms reads from the parent section.
inline constexpr const char* kTransformKeys[] = {"transforms", "errors.tolerance",
                                                 "errors.deadletterqueue.topic.name"};

}  // namespace rm::cdc::transforms
