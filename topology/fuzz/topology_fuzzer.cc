// libFuzzer target for the topology loader: the YAML file an operator writes, then everything
// that runs on a file that loaded (validation, and on a valid file planning, residency and
// read routing). Nothing may crash, hang or throw anything but ConfigError.
//
// Built as the real fuzzer with clang (-DRM_FUZZ=ON, target topology_loader_fuzzer) and, with
// the normal compiler, linked with topology_fuzz_smoke_main.cc into a deterministic smoke test
// run by ctest (label robustness).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/result.h"
#include "topology/config.h"
#include "topology/planner.h"
#include "topology/residency.h"
#include "topology/router.h"
#include "topology/topology.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  namespace topo = rm::topology;
  topo::LoadedTopology loaded;
  try {
    loaded = topo::ParseTopologyYaml(text, "fuzz.yaml");
  } catch (const rm::common::ConfigError&) {
    return 0;  // not YAML, or not a mapping
  }
  auto problems = topo::Validate(loaded.config);
  for (const auto& p : problems) {
    if (p.message.empty()) std::abort();  // every problem says what is wrong
  }
  if (!loaded.problems.empty() || !problems.empty()) return 0;
  std::shared_ptr<const topo::Topology> t;
  try {
    t = topo::Topology::Build(std::move(loaded));
  } catch (const rm::common::ConfigError&) {
    std::abort();  // Validate accepted it: Build must too
  }
  auto plan = topo::MakePlan(*t, {});
  if (!plan.ok()) std::abort();
  topo::PlanText(*plan);
  topo::ResidencyGuard guard(t);
  for (size_t r = 0; r < t->region_count(); ++r) {
    const std::string& region = t->region(r).name;
    for (const char* topic : {"orders", "a.b", "", "x-1"}) {
      auto d = guard.MayHold(topic, region);
      auto route = topo::Resolve(*t, {topic, region, ""}, {});
      // A rule that allows nothing there still routes reads; a route exists iff a rule does.
      if (route.ok() != (d.rule != nullptr)) std::abort();
    }
  }
  return 0;
}
