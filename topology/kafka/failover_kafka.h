// Failover and failback over Kafka (`regionmirror topology failover | failback | status`): the
// FailoverIo and FailoverStateStore of topology/failover.h on real clusters, and the runner
// that moves many groups at once.
//
// Where things come from:
//   positions    `from`'s committed offsets (one metadata probe decides whether `from` answers,
//                within --source_timeout_ms), else the newest checkpoints in the offsets store
//                (the topology's offsets.dir, opened read-only beside a running mirror).
//   translation  per topic name the group reads in `from`, by the region that writes it (H):
//                H == from: forward through the map of flow from->to ("us-east.orders");
//                H == to:   back through the map of flow to->from (runs are one-to-one);
//                otherwise: back through H->from, then forward through H->to.
//   target       `to`'s primary cluster: committed offsets, non-member commits, DescribeGroups
//                (where served) for active members.
//   state        the compacted topic regionmirror.failover.internal on `to` (required) and, when
//                it answers, on `from` too, keyed by group; the newest record (updated_ms) wins.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "offsets/offset_map.h"
#include "topology/failover.h"
#include "topology/topology.h"

namespace rm::topology::kafka {

// The compacted topic holding failover records, on each region's primary cluster.
inline constexpr const char* kFailoverStateTopic = "regionmirror.failover.internal";

// Back translation: where a consumer continues on a flow's SOURCE when it stands at `target`
// (the next offset to read) on the flow's target, through the flow's runs (sorted). Exact inside
// a run; after a run's end (a gap, or beyond the last run: records not copied yet) the source
// position right after that run, so nothing the consumer did not read is skipped;
// before the first run, the first run's start. kind is "exact", "after_run", "below_earliest"
// or "no_mapping" (no runs; source -1).
struct BackTranslation {
  int64_t source = -1;
  std::string kind = "no_mapping";
};
BackTranslation TranslateBack(const std::vector<offsets::Run>& runs, int64_t target);

struct FailoverRequest {
  std::string from_region;
  std::string to_region;
  std::string kind = "failover";  // or "failback": what is printed and recorded
  // Literal group names; empty: the topology's groups allowed in `to` (literal names, plus the
  // groups of the stored checkpoints that a group pattern matches).
  std::vector<std::string> groups;
  // Only the candidate groups this regex fully matches (ECMAScript). Empty: all.
  std::string groups_regex;
  bool dry_run = false;
  bool force = false;
  // The offsets store holding the flows' maps and checkpoints. Empty: the topology's
  // offsets.dir.
  std::string offsets_dir;
  // How long `from` may take to answer a metadata request before it counts as down.
  std::chrono::milliseconds source_timeout{3000};
  // Per request to `to` (commits, reads, state records).
  std::chrono::milliseconds target_timeout{10000};
  // Groups moved at once.
  int parallelism = 16;
  StepHook hook;
};

struct FailoverReport {
  std::vector<GroupFailover> groups;  // sorted by group
  bool source_up = false;
  std::string source_detail;  // why `from` counts as down
  std::string store_dir;
  int64_t now_ms = 0;
  // Problems outside any group (a group not allowed in `to`, ...).
  std::vector<std::string> notes;
  // True when every group ended done (a dry run: checked).
  bool ok() const;
};

// Runs the operation for every selected group. Throws ConfigError for what a person must fix
// before anything is attempted (unknown region, no offsets store, `to` not answering).
FailoverReport RunFailover(const Topology& topology, const FailoverRequest& request);

nlohmann::json ToJson(const FailoverReport& report);
std::string FailoverReportText(const FailoverReport& report);

// `topology status`: per region its primary cluster's health (a metadata round trip), per
// group where it runs and its newest failover record.
struct RegionHealth {
  std::string region;
  std::string cluster;
  bool up = false;
  int64_t latency_ms = -1;
  int brokers = 0;
  std::string detail;
};
struct GroupStatus {
  std::string group;
  // The region it runs in as far as the records say ("us-east"), or "" when never moved.
  std::string runs_in;
  std::optional<GroupFailover> record;
};
struct StatusReport {
  std::vector<RegionHealth> regions;
  std::vector<GroupStatus> groups;
  int64_t now_ms = 0;
};
StatusReport TopologyStatus(const Topology& topology, std::chrono::milliseconds timeout);
nlohmann::json ToJson(const StatusReport& report);
std::string StatusText(const StatusReport& report);

}  // namespace rm::topology::kafka
