// `regionmirror topology validate | plan | resolve | failover | failback | status`: the topology
// file from the command line. Exit codes: 0 ok, 1 problems found (invalid file, no rule for the
// topic, a group not moved), 2 usage.
#include <fmt/format.h>
#include <gflags/gflags.h>
#include <signal.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "apps/subcommands.h"
#include "common/result.h"
#include "topology/config.h"
#include "topology/kafka/failover_kafka.h"
#include "topology/planner.h"
#include "topology/router.h"
#include "topology/topology.h"

DECLARE_string(topic);  // apps/offsets_cmd.cc
DECLARE_bool(json);     // apps/offsets_cmd.cc
DECLARE_string(group);  // apps/offsets_cmd.cc
DECLARE_bool(dry_run);  // apps/cdc_postgres_cmd.cc
DEFINE_string(region, "",
              "topology plan: only the flows into this region; topology resolve: the client's "
              "region.");
DEFINE_string(pair, "", "topology plan: only the flows between two regions, A:B (both ways).");
DEFINE_string(zone, "", "topology resolve: the client's zone, for the client.rack hint.");
DEFINE_string(from, "", "topology failover/failback: the region the groups leave.");
DEFINE_string(to, "", "topology failover/failback: the region the groups move to.");
DEFINE_string(groups, "",
              "topology failover/failback: only the groups this regex fully matches (among "
              "--group, or the topology's groups).");
DEFINE_bool(force, false,
            "topology failover/failback: skip the active-members check (residency is never "
            "skipped; brokers still refuse non-member commits while a group has members).");
DEFINE_string(offsets_dir, "",
              "topology failover/failback: the offsets store (default: the file's offsets.dir).");
DEFINE_int32(source_timeout_ms, 3000,
             "topology failover/failback: how long --from may take to answer before its stored "
             "checkpoints are used; topology status: per cluster probe.");
DEFINE_int32(parallelism, 16, "topology failover/failback: groups moved at once.");

namespace rm::apps {
namespace {

int Usage(const std::string& command, const std::string& message) {
  fmt::print(stderr, "regionmirror topology {}: {}\n", command, message);
  return common::kUsageExit;
}

void Print(const nlohmann::json& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The topology of `file`; throws ConfigError (exit 1) listing every problem.
std::shared_ptr<const topology::Topology> Load(const std::string& file) {
  return topology::Topology::Load(file);
}

int Validate(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("validate", "expects one FILE");
  topology::LoadedTopology loaded = topology::LoadTopologyFile(args[0]);
  std::vector<topology::Problem> problems = loaded.problems;
  for (auto& p : topology::Validate(loaded.config)) problems.push_back(std::move(p));
  if (FLAGS_json) {
    nlohmann::json j = {{"file", args[0]}, {"ok", problems.empty()}};
    j["problems"] = nlohmann::json::array();
    for (const auto& p : problems) {
      j["problems"].push_back(
          {{"file", p.file}, {"line", p.line}, {"field", p.field}, {"message", p.message}});
    }
    Print(j);
  } else if (problems.empty()) {
    const auto& c = loaded.config;
    fmt::print("{}: ok ({} regions, {} links, {} topic rules, {} groups)\n", args[0],
               c.regions.size(), c.links.size(), c.topics.size(), c.groups.size());
  } else {
    for (const auto& p : problems) fmt::print("{}\n", p.ToString());
    fmt::print("{} problem{}\n", problems.size(), problems.size() == 1 ? "" : "s");
  }
  return problems.empty() ? 0 : 1;
}

int Plan(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("plan", "expects one FILE");
  topology::PlanScope scope;
  if (!FLAGS_region.empty() && !FLAGS_pair.empty()) {
    return Usage("plan", "give --region or --pair, not both");
  }
  scope.region = FLAGS_region;
  if (!FLAGS_pair.empty()) {
    auto colon = FLAGS_pair.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == FLAGS_pair.size()) {
      return Usage("plan", fmt::format("--pair '{}' is not A:B", FLAGS_pair));
    }
    scope.pair = {FLAGS_pair.substr(0, colon), FLAGS_pair.substr(colon + 1)};
  }
  auto topo = Load(args[0]);
  auto plan = topology::MakePlan(*topo, scope);
  if (!plan.ok()) return Usage("plan", plan.error().message);
  if (FLAGS_json) {
    Print(topology::ToJson(*plan));
  } else {
    fmt::print("{}", topology::PlanText(*plan));
  }
  return 0;
}

int Resolve(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("resolve", "expects one FILE");
  if (FLAGS_topic.empty()) return Usage("resolve", "--topic is required");
  if (FLAGS_region.empty()) return Usage("resolve", "--region is required");
  auto topo = Load(args[0]);
  // No prober runs here: every cluster counts as healthy, lags as unknown.
  auto route = topology::Resolve(*topo, {FLAGS_topic, FLAGS_region, FLAGS_zone}, {});
  if (!route.ok()) {
    if (route.error().code == "topology.unknown_region") {
      return Usage("resolve", route.error().message);
    }
    fmt::print(stderr, "regionmirror topology resolve: {}\n", route.error().message);
    return 1;
  }
  if (FLAGS_json) {
    Print(topology::ToJson(*route));
  } else {
    fmt::print("{}", topology::RouteText(*route));
  }
  return 0;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Tests kill the command at a step: RM_FAILOVER_CRASH="<step>" (after the step's record is saved)
// or "<step>:before" (after its side effect, before the record is saved).
topology::StepHook CrashHookFromEnv() {
  const char* env = std::getenv("RM_FAILOVER_CRASH");
  if (env == nullptr || *env == '\0') return nullptr;
  const std::string spec = env;
  const int step = std::atoi(spec.c_str());
  const bool before = spec.find(":before") != std::string::npos;
  return [step, before](const std::string&, int s, bool saved) {
    if (s == step && saved != before) raise(SIGKILL);
  };
}

int Move(const std::string& kind, const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(kind, "expects one FILE");
  if (FLAGS_from.empty() || FLAGS_to.empty()) return Usage(kind, "--from and --to are required");
  auto topo = Load(args[0]);
  topology::kafka::FailoverRequest req;
  req.from_region = FLAGS_from;
  req.to_region = FLAGS_to;
  req.kind = kind;
  req.groups = SplitCommas(FLAGS_group);
  req.groups_regex = FLAGS_groups;
  req.dry_run = FLAGS_dry_run;
  req.force = FLAGS_force;
  req.offsets_dir = FLAGS_offsets_dir;
  req.source_timeout = std::chrono::milliseconds(FLAGS_source_timeout_ms);
  req.parallelism = FLAGS_parallelism;
  req.hook = CrashHookFromEnv();
  auto report = topology::kafka::RunFailover(*topo, req);
  if (FLAGS_json) {
    Print(topology::kafka::ToJson(report));
  } else {
    fmt::print("{}", topology::kafka::FailoverReportText(report));
  }
  return report.ok() ? 0 : 1;
}

int Failover(const std::vector<std::string>& args) { return Move("failover", args); }
int Failback(const std::vector<std::string>& args) { return Move("failback", args); }

int Status(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("status", "expects one FILE");
  auto topo = Load(args[0]);
  auto report =
      topology::kafka::TopologyStatus(*topo, std::chrono::milliseconds(FLAGS_source_timeout_ms));
  if (FLAGS_json) {
    Print(topology::kafka::ToJson(report));
  } else {
    fmt::print("{}", topology::kafka::StatusText(report));
  }
  return 0;
}

}  // namespace

std::vector<common::Subcommand> TopologySubcommands() {
  return {
      {"topology validate",
       "Check a topology file; list every problem with file, line and field (exit 1 if any).",
       "FILE",
       {"json"},
       Validate},
      {"topology plan",
       "Print the flows a topology runs (source, target, topics, remote names) and its "
       "residency table.",
       "FILE",
       {"region", "pair", "json"},
       Plan},
      {"topology resolve",
       "Where a client in --region reads --topic: candidates best first (local copy, nearest "
       "copy, home).",
       "FILE",
       {"topic", "region", "zone", "json"},
       Resolve},
      {"topology failover",
       "Move consumer groups from --from to --to at their exactly translated positions (a "
       "resumable state machine per group; --dry-run prints the plan).",
       "FILE",
       {"from", "to", "group", "groups", "dry_run", "force", "offsets_dir", "source_timeout_ms",
        "parallelism", "json"},
       Failover},
      {"topology failback",
       "Return consumer groups to their home region once it is back (the same state machine; "
       "positions map back through the forward map).",
       "FILE",
       {"from", "to", "group", "groups", "dry_run", "force", "offsets_dir", "source_timeout_ms",
        "parallelism", "json"},
       Failback},
      {"topology status",
       "Per region its health (a metadata round trip), per group where it runs and its last "
       "failover record.",
       "FILE",
       {"source_timeout_ms", "json"},
       Status},
  };
}

}  // namespace rm::apps
