// Flow planning: the flows a deployment runs, derived from the topic rules, and the residency
// table. A pure, deterministic function of the topology and the scope: the same file gives the
// same plan, byte for byte, so plans can be diffed and reviewed.
//
// A topic T is carried by the flow X -> Y exactly when the rule that wins for T (precedence in
// config.h) has X as a home and gives Y a copy. A flow's topic set is one regex per rule it
// carries; a rule that a higher-ranked, differently-routed rule overlaps becomes
// "(?!(?:<higher>)$)(?:<rule>)", so a name goes only where its winning rule sends it, even
// though the mirror's flow takes a single allow list and a single deny list.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "replication/config.h"
#include "topology/topology.h"

namespace rm::topology {

// Which flows to plan: all (both fields empty), every flow into `region`, or both directions
// between the regions of `pair` ("us-east", "eu-west").
struct PlanScope {
  std::string region;
  std::vector<std::string> pair;
};

struct PlannedFlow {
  std::string source_region;
  std::string target_region;
  // Cluster aliases (the regions' primary clusters).
  std::string source;
  std::string target;
  // Full-match regexes of source topics, one per carried rule (highest ranked first).
  std::vector<std::string> topics;
  // Regexes of source topics never copied, besides the mirror's default internal topics: under
  // the default policy, copies held in the source ("<alias>.<topic>") are never copied onward
  // (every region gets its copy from the home).
  std::vector<std::string> topics_exclude;
  // Regexes of the consumer groups whose offsets are translated to the target: the topology's
  // groups that may run in the target region and read a topic this flow carries (a group that
  // lists no topics counts for every flow). nullopt when the topology lists no groups: the
  // mirror's default (every group).
  std::optional<std::vector<std::string>> groups;
  struct Carried {
    size_t rule = 0;
    std::string description;
    // The rule's regex in `topics`.
    std::string regex;
    // How a topic is named in the target: "us-east.{topic}" or "{topic}" (identity).
    std::string remote_name;
  };
  std::vector<Carried> carried;
  // Remote topic names (the topology's replication_policy and separator).
  replication::PolicyKind policy = replication::PolicyKind::kDefault;
  std::string separator = ".";

  std::string name() const { return source + "->" + target; }
  // The mirror's flow: these topics and groups; its default internal-topic excludes kept.
  replication::FlowConfig ToFlowConfig() const;
};

struct ResidencyRow {
  size_t rule = 0;
  std::string description;
  struct Cell {
    std::string region;
    // "home": written there; "copy": the plan copies it there; "allowed": a copy may exist
    // (allowed_regions) but none is planned; "forbidden": a copy may never exist there.
    std::string state;
    // Which part of the rule says so: "home", "replicate_to [eu-*]", "allowed_regions [eu-*]".
    std::string because;
  };
  std::vector<Cell> cells;
};

struct Plan {
  // "all", "into eu-west", "pair us-east:eu-west"
  std::string scope;
  std::vector<PlannedFlow> flows;
  // Every rule, every region (residency does not depend on the scope).
  std::vector<ResidencyRow> residency;
};

// Errors: "topology.unknown_region" for a scope naming a region the topology lacks;
// "topology.bad_scope" for a pair that is not two different regions.
common::Result<Plan> MakePlan(const Topology& topology, const PlanScope& scope);

nlohmann::json ToJson(const Plan& plan);
// For people: each flow with its topics and remote names, then the residency table.
std::string PlanText(const Plan& plan);

}  // namespace rm::topology
