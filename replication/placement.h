// What a deployment's placement rules (the topology: residency, read routing health) ask of
// and learn from one flow, without Kafka and without the topology module: `mirror/` calls this
// interface, `topology/` implements it (TopologyRuntime), `apps/` connects the two by setting
// FlowConfig::placement. A flow without one copies what its regexes select, as before.
//
// Threading: called from the flow's thread; one object per flow, so an implementation shared
// between flows must be thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace rm::replication {

class FlowPlacement {
 public:
  virtual ~FlowPlacement() = default;

  // nullopt when a copy of `source_topic` (its name in the flow's source cluster) may exist in
  // the flow's target; otherwise why not, naming the topic, the rule and the region. The answer
  // for a name never changes over the life of the object, so a flow may cache it.
  virtual std::optional<std::string> Refusal(const std::string& source_topic) const = 0;

  // How far behind its source the copy `target_topic` (its name in the flow's target) is: 0
  // when every record the source holds is copied, else the age of the newest record copied.
  virtual void OnCopyLag(const std::string& target_topic, std::chrono::milliseconds lag) = 0;

  // How often the flow should call OnCopyLag for each copy it writes.
  virtual std::chrono::milliseconds LagReportInterval() const = 0;
};

}  // namespace rm::replication
