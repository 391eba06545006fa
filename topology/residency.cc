#include "topology/residency.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mutex>

namespace rm::topology {

ResidencyGuard::ResidencyGuard(std::shared_ptr<const Topology> topology)
    : topology_(std::move(topology)) {}

std::optional<size_t> ResidencyGuard::RuleOf(const std::string& topic) const {
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(topic); it != cache_.end()) return it->second;
  }
  std::optional<size_t> rule = topology_->RuleForTopic(topic, nullptr);
  std::unique_lock lock(mu_);
  if (cache_.size() < kMaxCached) cache_.emplace(topic, rule);
  return rule;
}

ResidencyDecision ResidencyGuard::MayHold(const std::string& topic, size_t region) const {
  if (region >= topology_->region_count()) return {};
  auto rule = RuleOf(topic);
  if (!rule) return {};
  return {static_cast<bool>(topology_->placement(*rule).allowed[region]),
          &topology_->rules().rule(*rule)};
}

ResidencyDecision ResidencyGuard::MayHold(const std::string& topic,
                                          const std::string& region) const {
  auto index = topology_->RegionIndex(region);
  if (!index) return {};
  return MayHold(topic, *index);
}

std::string ResidencyGuard::Explain(const std::string& topic, const std::string& region) const {
  if (!topology_->RegionIndex(region)) {
    return fmt::format("topic '{}' may not be copied to '{}': not a region of the topology", topic,
                       region);
  }
  ResidencyDecision d = MayHold(topic, region);
  if (d.rule == nullptr) {
    return fmt::format("topic '{}' may not be copied to {}: no topic rule governs it", topic,
                       region);
  }
  return fmt::format("topic '{}' {} be copied to {}: {} allows [{}]", topic,
                     d.allowed ? "may" : "may not", region, d.rule->Describe(),
                     fmt::join(d.rule->allowed_regions, ", "));
}

}  // namespace rm::topology
