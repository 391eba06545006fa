// Read routing from memory: how long one Resolve() takes (goal in issue 13: p99 under 1 ms), and
// one cached residency check (the mirror's per-record cost).
//
// The topology is generated: 8 regions in full mesh with RTTs, 200 literal topic rules, 40
// prefix patterns and a catch-all, some EU-resident; a health snapshot with one region down and
// lag reported for every copy. Each call is timed on its own with steady_clock.
//
// Usage: topology_resolve_bench [calls]   (default 200000)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "topology/residency.h"
#include "topology/router.h"
#include "topology/topology.h"

namespace {

using rm::topology::Clock;

std::string GenerateTopology() {
  const std::vector<std::string> regions = {"us-east",  "us-west",  "eu-west", "eu-central",
                                            "eu-north", "ap-south", "ap-east", "sa-east"};
  std::string y = "regions:\n";
  for (const auto& r : regions) {
    y += fmt::format(
        "  - name: {0}\n    zones: [{0}-a, {0}-b]\n    clusters:\n      - alias: {0}\n"
        "        bootstrap_servers: kafka.{0}:9092\n",
        r);
  }
  y += "links:\n";
  for (size_t i = 0; i < regions.size(); ++i) {
    for (size_t j = i + 1; j < regions.size(); ++j) {
      y += fmt::format("  - regions: [{}, {}]\n    rtt_ms: {}\n", regions[i], regions[j],
                       10 + (i * 37 + j * 11) % 200);
    }
  }
  y += "topics:\n";
  for (int i = 0; i < 200; ++i) {
    y += fmt::format("  - topic: orders-{}\n    home: {}\n    replicate_to: ['*']\n", i,
                     regions[i % regions.size()]);
  }
  for (int i = 0; i < 40; ++i) {
    bool eu = i % 4 == 0;
    y += fmt::format("  - pattern: 'svc{}\\..*'\n    home: {}\n    replicate_to: [{}]\n{}", i,
                     eu ? "eu-west" : regions[i % regions.size()], eu ? "eu-*" : "'*'",
                     eu ? "    allowed_regions: [eu-*]\n" : "");
  }
  y += "  - pattern: '.*'\n    home: us-east\n    replicate_to: [us-west, eu-west]\n";
  return y;
}

void Report(const char* what, std::vector<int64_t>& ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&ns](double q) {
    return ns[std::min(ns.size() - 1, static_cast<size_t>(q * ns.size()))];
  };
  fmt::print("{}: {} calls, p50 {:.2f} us, p99 {:.2f} us, p99.9 {:.2f} us, max {:.2f} us\n", what,
             ns.size(), at(0.50) / 1e3, at(0.99) / 1e3, at(0.999) / 1e3, ns.back() / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  auto topo = rm::topology::Topology::Build(
      rm::topology::ParseTopologyYaml(GenerateTopology(), "bench.yaml"));

  rm::topology::HealthModel model(
      {std::chrono::milliseconds(1000), std::chrono::milliseconds(30000)});
  auto t0 = Clock::now();
  for (size_t r = 0; r < topo->region_count(); ++r) {
    const std::string& alias = topo->PrimaryCluster(r).alias;
    model.Track(alias, t0);
    model.RecordProbe(alias, alias != "eu-central", t0, "down for the bench");
    for (int i = 0; i < 200; ++i) {
      model.RecordLag(alias, fmt::format("us-east.orders-{}", i),
                      std::chrono::milliseconds(i * 200), t0);
    }
  }
  const rm::topology::HealthSnapshot health = model.Snapshot(t0);

  std::vector<std::string> topics;
  for (int i = 0; i < 200; ++i) topics.push_back(fmt::format("orders-{}", i));
  for (int i = 0; i < 40; ++i) topics.push_back(fmt::format("svc{}.events", i));
  for (int i = 0; i < 20; ++i) topics.push_back(fmt::format("misc-{}", i));
  std::mt19937_64 rng(7);

  std::vector<int64_t> ns;
  ns.reserve(calls);
  size_t candidates = 0;
  for (long i = 0; i < calls; ++i) {
    const std::string& topic = topics[rng() % topics.size()];
    const std::string& region = topo->region(rng() % topo->region_count()).name;
    auto start = Clock::now();
    auto route = rm::topology::Resolve(*topo, {topic, region, region + "-a"}, health);
    auto end = Clock::now();
    if (!route.ok()) {
      fmt::print(stderr, "resolve failed: {}\n", route.error().message);
      return 1;
    }
    candidates += route->candidates.size();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
  }
  Report("resolve", ns);
  fmt::print("  ({:.1f} candidates per route on average)\n",
             static_cast<double>(candidates) / calls);

  rm::topology::ResidencyGuard guard(topo);
  ns.clear();
  size_t allowed = 0;
  for (long i = 0; i < calls; ++i) {
    const std::string& topic = topics[rng() % topics.size()];
    size_t region = rng() % topo->region_count();
    auto start = Clock::now();
    allowed += guard.MayHold(topic, region).allowed;
    auto end = Clock::now();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
  }
  Report("residency MayHold (cached)", ns);
  fmt::print("  ({} of {} allowed)\n", allowed, calls);
  return 0;
}
