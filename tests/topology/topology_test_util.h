// Helpers of the topology tests: topologies from inline YAML, the problems of a file.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/util/test_util.h"
#include "topology/config.h"
#include "topology/topology.h"

namespace rm::topology::testing {

// Every problem of `yaml` (loader and validation), read as the file "t.yaml".
inline std::vector<Problem> ProblemsOf(const std::string& yaml) {
  LoadedTopology loaded = ParseTopologyYaml(yaml, "t.yaml");
  std::vector<Problem> all = loaded.problems;
  for (auto& p : Validate(loaded.config)) all.push_back(std::move(p));
  return all;
}

inline std::shared_ptr<const Topology> BuildFrom(const std::string& yaml) {
  return Topology::Build(ParseTopologyYaml(yaml, "t.yaml"));
}

inline std::filesystem::path ThreeRegionsFile() {
  return rm::testing::SourceDir() / "tests/topology/testdata/three_regions.yaml";
}

// Two regions with one cluster each and a link; append `topics:` etc.
inline std::string TwoRegions() {
  return R"(
regions:
  - name: us-east
    zones: [a1, a2]
    clusters:
      - alias: us-east
        bootstrap_servers: us:9092
  - name: eu-west
    clusters:
      - alias: eu-west
        bootstrap_servers: eu:9092
links:
  - regions: [us-east, eu-west]
    rtt_ms: 80
)";
}

inline std::string Joined(const std::vector<Problem>& problems) {
  std::string s;
  for (const auto& p : problems) s += p.ToString() + "\n";
  return s;
}

}  // namespace rm::topology::testing
