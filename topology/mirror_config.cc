#include "topology/mirror_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "common/result.h"

namespace rm::topology {

namespace {

YAML::Node ClusterNode(const replication::ClusterConfig& c) {
  YAML::Node n;
  n["alias"] = c.alias;
  n["bootstrap_servers"] = c.bootstrap_servers;
  if (!c.properties.empty()) {
    for (const auto& [k, v] : c.properties) n["properties"][k] = v;
  }
  return n;
}

YAML::Node FlowNode(const replication::FlowConfig& f) {
  YAML::Node n;
  n["source"] = f.source;
  n["target"] = f.target;
  n["topics"] = f.topics;
  n["topics_exclude"] = f.topics_exclude;
  n["replication_policy"] = f.policy == replication::PolicyKind::kIdentity ? "identity" : "default";
  n["separator"] = f.separator;
  n["groups"] = YAML::Node(YAML::NodeType::Sequence);
  for (const auto& g : f.groups) n["groups"].push_back(g);
  n["groups_exclude"] = f.groups_exclude;
  return n;
}

// The mirror's YAML document for these clusters and flows with the file's sections.
std::string MirrorYaml(const TopologyConfig& config, const YAML::Node& clusters,
                       const YAML::Node& flows) {
  YAML::Node doc;
  doc["clusters"] = clusters;
  doc["flows"] = flows;
  if (config.mirror_section.IsMap()) doc["mirror"] = config.mirror_section;
  if (config.offsets_section.IsMap()) doc["offsets"] = config.offsets_section;
  YAML::Emitter out;
  out << doc;
  return out.c_str();
}

}  // namespace

replication::MirrorConfig MirrorConfigFor(const Topology& topology, const Plan& plan) {
  const TopologyConfig& config = topology.config();
  YAML::Node clusters(YAML::NodeType::Sequence);
  YAML::Node flows(YAML::NodeType::Sequence);
  std::map<std::string, const ClusterSpec*> added;
  for (const auto& f : plan.flows) {
    for (const auto& [region, alias] :
         {std::pair{f.source_region, f.source}, std::pair{f.target_region, f.target}}) {
      const ClusterSpec& spec = topology.PrimaryCluster(*topology.RegionIndex(region));
      if (!added.emplace(alias, &spec).second) continue;
      clusters.push_back(ClusterNode(spec));
    }
    flows.push_back(FlowNode(f.ToFlowConfig()));
  }
  // Secrets are read after the mirror's loader ran (it refuses them inline), with errors that
  // name the topology's cluster.
  replication::MirrorConfig out =
      replication::ParseMirrorConfigYaml(MirrorYaml(config, clusters, flows), config.file);
  for (auto& c : out.clusters)
    c.properties = added.at(c.alias)->WithSecrets(config.file).properties;
  return out;
}

std::vector<Problem> ValidateMirrorSections(const TopologyConfig& config) {
  if (!config.mirror_section.IsMap() && !config.offsets_section.IsMap()) return {};
  // Every cluster (without secrets) and no flow: the loader's complaints about those are not
  // about what the file says, and are dropped below.
  YAML::Node clusters(YAML::NodeType::Sequence);
  for (const auto& r : config.regions) {
    for (const auto& c : r.clusters) clusters.push_back(ClusterNode(c));
  }
  replication::MirrorConfig ignored;
  const YAML::Node doc =
      YAML::Load(MirrorYaml(config, clusters, YAML::Node(YAML::NodeType::Sequence)));
  std::vector<Problem> problems;
  for (auto& p : replication::ReadMirrorConfigYaml(doc, ignored)) {
    if (p.field.rfind("mirror", 0) != 0 && p.field.rfind("offsets", 0) != 0) continue;
    // The field paths are the same in the topology file, which gives the line.
    const int line = config.LineOf(p.field);
    problems.push_back({config.file, line, std::move(p.field), std::move(p.why)});
  }
  return problems;
}

}  // namespace rm::topology
