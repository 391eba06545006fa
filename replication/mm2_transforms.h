// MirrorMaker 2's Kafka Connect transforms (`transforms`, `predicates` in mm2.properties) onto a
// flow's record transforms (record_transforms.h), exactly where the bytes allow it, refused with
// the reason where they do not: no transform key is ignored silently.
//
// Which keys MM2 reads (MirrorMakerConfig.connectorBaseConfig): the lists `transforms` and
// `predicates` from the top level, overridden per flow by `A->B.transforms` / `A->B.predicates`;
// the settings of each alias only with the flow prefix (`A->B.transforms.<alias>.type`,
// `.predicate`, `.negate`, the transform's own settings; `A->B.predicates.<alias>.type` and its
// settings). A top-level `transforms.<alias>.type` never reaches MM2's connectors, so it is named
// among the keys not applied, and a listed transform without a flow-prefixed type is an error, as
// in MM2.
//
// Mapped, with Connect's semantics:
//   Filter                                   drops the record (a predicate is required here: MM2
//                                            would drop every record of the flow without one)
//   InsertHeader  header, value.literal      adds the header; the literal's text is the value.
//                                            Connect parses the literal (Values.parseString), so
//                                            literals it reads as something other than text
//                                            (null, numbers not in canonical form, dates, arrays,
//                                            maps) are refused: their bytes would be the header
//                                            converter's rendering, not the text
//   DropHeaders   headers                    removes every header of those names
//   predicates    TopicNameMatches pattern   full match on the remote topic name: MM2's source
//                                            records carry the topic they are written to
//                 HasHeaderKey name          the record has such a header (as the chain left it)
//                 RecordIsTombstone          the value is null
//   `negate`, true or false (only with a predicate, as Connect requires).
// Patterns are read as the file's `topics` and `groups` regexes are (std::regex, ECMAScript
// syntax), with Connect's full-match rule.
// Refused, naming the key, the class and why: every other transform (value and key transforms:
// a flow copies keys and values as bytes and never decodes them; RegexRouter / TimestampRouter:
// remote topic names come from the replication policy), every other predicate, Java classes of
// other packages, and edits of the provenance header `rmp`.
//
// One difference cannot be mapped and is named among the keys not applied when it matters: MM2
// also runs a flow's chain on the records its heartbeat and checkpoint connectors write to the
// target, which regionmirror writes unchanged. Those records are known (topic `heartbeats` and
// `<source>.checkpoints.internal`, no headers, never tombstones), so the chain is evaluated on
// them at load time and only a chain that would drop them or add a header to them is reported.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "replication/record_transforms.h"

namespace rm::replication {

// What flow `source`->`target` runs. `props` are the file's keys (trimmed, providers resolved);
// the keys read are added to `used`. Problems are appended as "<key>: <why>", keys that have no
// effect as (key, reason) to `not_applied`. `enabled`: the flow copies records; `heartbeats`:
// MM2 emits heartbeats for this pair; `checkpoints`: it emits checkpoints for it. A pair with
// none of them runs no MM2 connector, so its transform keys are only named as not applied.
RecordTransforms ReadMm2FlowTransforms(
    const std::map<std::string, std::string>& props, const std::string& source,
    const std::string& target, bool enabled, bool heartbeats, bool checkpoints,
    std::set<std::string>* used, std::vector<std::string>* problems,
    std::vector<std::pair<std::string, std::string>>* not_applied);

// After every flow is read: the top-level `transforms.<alias>.*` / `predicates.<alias>.*` keys
// (MM2 passes none of them to a connector) and the lists themselves when no flow read them, each
// with its reason; all are added to `used`.
void ExplainTopLevelMm2TransformKeys(const std::map<std::string, std::string>& props,
                                     std::set<std::string>* used,
                                     std::vector<std::pair<std::string, std::string>>* not_applied);

}  // namespace rm::replication
