// Residency in the data path: may a copy of a topic exist in a region? The mirror asks before
// each produce, so the answer is cached per topic name and costs a hash lookup after the first
// record of a topic.
//
// A topic that no rule governs is not allowed anywhere but where it is: the topology places no
// copy of it, and residency fails closed (a hand-written flow regex never widens it).
//
// Thread-safe; MayHold may be called from every flow thread at once.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "topology/topology.h"

namespace rm::topology {

struct ResidencyDecision {
  bool allowed = false;
  // The rule that decided; null when no rule governs the topic. Owned by the guard's topology.
  const TopicRule* rule = nullptr;
};

class ResidencyGuard {
 public:
  // Most topic names cached; beyond it answers are computed each time (still correct).
  static constexpr size_t kMaxCached = 100000;

  explicit ResidencyGuard(std::shared_ptr<const Topology> topology);

  // `topic` is the name in the source cluster (a remote copy's name is traced to its upstream
  // topic's rule); `region` a region name (an unknown region is never allowed).
  ResidencyDecision MayHold(const std::string& topic, const std::string& region) const;
  // The same by region index (Topology::RegionIndex), without the name lookup.
  ResidencyDecision MayHold(const std::string& topic, size_t region) const;
  // One line for logs and errors: "topic 'x' may not be copied to us-east: topics[2] (...)
  // allows only [eu-*]".
  std::string Explain(const std::string& topic, const std::string& region) const;

  const Topology& topology() const { return *topology_; }

 private:
  std::optional<size_t> RuleOf(const std::string& topic) const;

  std::shared_ptr<const Topology> topology_;
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<std::string, std::optional<size_t>> cache_;
};

}  // namespace rm::topology
