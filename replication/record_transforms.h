// Per-flow transforms of the mirror: the Kafka Connect SMTs that apply to a record without
// decoding it. A flow copies opaque bytes (key, value, headers) and never parses a value, so
// the honest set is what the record's envelope shows:
//
//   Filter        drops the records its predicate matches (Connect's Filter)
//   InsertHeader  adds a header with a literal value (Connect's InsertHeader: header,
//                 value.literal)
//   DropHeaders   removes headers by name (Connect's DropHeaders: headers)
//
// and, on any step, a predicate written inline as in the capture's transforms
// (src-cdc/transforms/), with Connect's three predicates as conditions (all that are set must
// hold): `topic: regex` (TopicNameMatches on the source topic, full match), `remote_topic: regex`
// (the same on the topic the copy is written to, which is what TopicNameMatches sees in
// MirrorMaker 2: its records carry the remote topic name), `header: name` (HasHeaderKey, as the
// headers are at that step), `tombstone: true|false` (RecordIsTombstone: a null value).
// mm2.properties' Connect-style `transforms` / `predicates` keys map onto the same steps
// (replication/mm2_transforms.h).
//
//   flows:
//     - source: us-east
//       target: eu-west
//       transforms:
//         - {name: no-debug, type: Filter, predicate: {header: debug}}
//         - {name: origin, type: InsertHeader, header: origin, value.literal: us-east}
//         - {name: strip, type: DropHeaders, headers: [trace-id, baggage],
//            predicate: {topic: "public\\..*"}}
//
// Refused at load time, naming flow, transform and reason: the value transforms
// (ExtractNewRecordState, ReplaceField, InsertField, Cast, ValueToKey, ...: they need the
// value decoded, and a flow's records have no declared format), RegexRouter (remote topic names
// come from the flow's replication policy, which offset translation, group failover and the
// cycle guard rely on: change `replication_policy` / `separator` instead), and any header
// edit of the provenance header `rmp` (the cycle guard and resume read it).
//
// A filtered record is deliberately not copied: like a record the cycle guard drops, its
// source position passes (it completes at once, CompletionTracker::Skip), it is counted, and it
// is a gap in the offset map: a group committed at it translates to the next copied record's
// target offset (offsets/offset_map.h, kGap), which is what a consumer of the target reads next.
//
// Kafka-free: the mirror's flow adapts its librdkafka headers to HeaderLookup and applies the
// edits. Immutable after loading; Apply() is const and thread-compatible.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rm::replication {

// Which records a step applies to.
struct RecordPredicate {
  std::optional<std::regex> topic;  // full match on the source topic
  std::string topic_text;
  std::optional<std::regex> remote_topic;  // full match on the remote (target) topic
  std::string remote_topic_text;
  std::string header;             // the record has a header of this name
  std::optional<bool> tombstone;  // the value is null (true) or not (false)
};

struct RecordTransformStep {
  enum class Kind { kFilter, kInsertHeader, kDropHeaders };
  std::string name;
  Kind kind = Kind::kFilter;
  std::optional<RecordPredicate> predicate;
  bool negate = false;
  std::string header;                // kInsertHeader
  std::string value;                 // kInsertHeader (value.literal)
  std::vector<std::string> headers;  // kDropHeaders
};

// What the chain decided for one record.
struct RecordTransformResult {
  // Set: the record is not copied; the name of the Filter that dropped it.
  std::optional<std::string> dropped_by;
  // Header edits, applied in this order: every header named in `remove` is removed from the
  // record's headers, then `add` is appended.
  std::vector<std::string> remove;
  std::vector<std::pair<std::string, std::string>> add;
  bool empty() const { return !dropped_by && remove.empty() && add.empty(); }
};

class RecordTransforms {
 public:
  // Whether the record (as consumed) has a header of this name.
  using HeaderLookup = std::function<bool(std::string_view name)>;

  RecordTransforms() = default;
  explicit RecordTransforms(std::vector<RecordTransformStep> steps) : steps_(std::move(steps)) {}

  bool empty() const { return steps_.empty(); }
  const std::vector<RecordTransformStep>& steps() const { return steps_; }
  // Runs the chain on a record of source topic `topic`, copied to `remote_topic`.
  RecordTransformResult Apply(std::string_view topic, std::string_view remote_topic, bool tombstone,
                              const HeaderLookup& has_header) const;

 private:
  std::vector<RecordTransformStep> steps_;
};

// Reads a flow's `transforms:` list (`node`, at YAML path `path`, e.g. "flows[0].transforms")
// of flow `flow_name` ("us-east->eu-west"). Problems are appended as
// "<path>[i].<field> (<Type> '<name>') of flow <flow>: <reason>".
// One line saying what a step does to a record, for `run --check`:
//   "strip: DropHeaders: remove headers trace-id, baggage, when the source topic matches
//    'public\..*'"
std::string DescribeRecordTransformStep(const RecordTransformStep& step);

RecordTransforms ReadRecordTransforms(const YAML::Node& node, const std::string& path,
                                      const std::string& flow_name,
                                      std::vector<std::string>& problems);

}  // namespace rm::replication
