// Failover and failback of consumer groups between regions (issue 13, "Failover and failback"):
// the per-group state machine, free of Kafka. The IO it needs (positions, translation, the
// target's group, the persisted state) is behind FailoverIo and FailoverStateStore;
// topology/kafka/ implements them over Kafka, tests over fakes.
//
// One operation moves one group from region `from` to region `to` in five steps; after each
// step the record (GroupFailover) is saved durably, so a run killed at any point (kill -9)
// resumes from the last saved step when re-run, from any machine that reaches the store:
//
//   started ─1─► positioned ─2─► translated ─3─► checked ─4─► committed ─5─► done
//                                                  │  ▲
//                                                  ▼  │ re-run (the check is repeated)
//                                                refused
//
//   1 position   the group's position on `from` per partition: its committed offsets when
//                `from` answers, else the newest stored checkpoint (with its age).
//   2 translate  each partition exactly through the offset map, to the name on `to`.
//   3 check      residency (`to` may hold each topic), the group has no active members on
//                `to` (unless forced), and the group's committed offsets on `to` now, so the
//                record says what was there before the commit.
//   4 commit     on `to`, only partitions whose committed offset is below the translated one
//                (read again right before: a target offset is never moved backwards, even when
//                a consumer moved it after step 3).
//   5 verify     read the commits back; each partition must be at or beyond its translation.
//
// Idempotency: steps 1-3 only read; step 4 commits the translated offsets of step 2 (persisted)
// after re-reading the target, so repeating it after a kill changes nothing more; step 5 only
// reads. The record's outcome per partition is computed from what step 3 saw, so an
// interrupted-and-resumed run ends with the same record as an uninterrupted one.
//
// Failback is the same machine with the regions swapped: FailoverIo decides per topic how a
// position maps (forward through the map of the flow from -> to, or back through the map of
// the flow to -> from: runs are one-to-one).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rm::topology {

enum class FailoverState {
  kStarted,
  kPositioned,
  kTranslated,
  kChecked,
  kCommitted,
  kDone,
  kRefused
};
std::string_view ToString(FailoverState state);
std::optional<FailoverState> ParseFailoverState(std::string_view s);
// The step a state leads to next (1-5); 0 for kDone.
int NextStep(FailoverState state);

// One partition of a group's move. Offsets are Kafka positions (the next offset to read);
// -1 means none.
struct PartitionMove {
  // Step 1.
  std::string source_topic;  // the name on `from`
  int32_t partition = 0;
  int64_t source_offset = -1;
  std::string from;           // "live" (committed offset read now) or "checkpoint"
  int64_t checkpoint_ms = 0;  // when the checkpoint was taken; 0 for live
  // Step 2.
  std::string target_topic;  // the name on `to`
  int64_t target_offset = -1;
  std::string how;  // "forward via us-east->eu-west (exact)", "back via ..."; why for no mapping
  // Step 3.
  std::string residency;       // "ok", or why `to` may not hold target_topic
  int64_t target_before = -1;  // the group's committed offset on `to` before the commit
  // Steps 4-5. "moved" (committed target_offset), "kept" (the target was at or beyond it),
  // "no_mapping" (nothing to commit: the map knows nothing of the partition).
  std::string outcome;
  int64_t verified = -1;  // read back after the commit

  bool operator==(const PartitionMove&) const = default;
};

// The persisted record of one group's operation (the value in the state topic, as JSON).
struct GroupFailover {
  std::string group;
  std::string from_region;
  std::string to_region;
  // "failover" or "failback" (what the operator ran; the machine is the same).
  std::string kind;
  FailoverState state = FailoverState::kStarted;
  std::vector<PartitionMove> partitions;  // sorted by source topic, partition
  bool forced = false;
  // Step 3: what the activity check found ("inactive", "active", or "unknown: <why>").
  std::string activity;
  // Why the last attempt stopped (refused or failed); empty when it did not.
  std::string error;
  int64_t started_ms = 0;
  int64_t updated_ms = 0;

  // "us-east->eu-west"
  std::string direction() const { return from_region + "->" + to_region; }
  bool operator==(const GroupFailover&) const = default;
};

nlohmann::json ToJson(const GroupFailover& record);
common::Result<GroupFailover> GroupFailoverFromJson(const nlohmann::json& j);

// A group's position on `from` for one partition (step 1).
struct SourcePosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  std::string from;  // "live" or "checkpoint"
  int64_t checkpoint_ms = 0;
};

// Where a source position continues on `to` (step 2).
struct TranslatedPosition {
  std::string target_topic;
  int64_t target_offset = -1;  // -1: no mapping
  std::string how;
};

enum class TargetActivity { kInactive, kActive, kUnknown };

struct ActivityCheck {
  TargetActivity activity = TargetActivity::kUnknown;
  std::string detail;  // for kUnknown: why (e.g. "the cluster does not serve DescribeGroups")
};

// A committed offset on `to`.
struct TargetOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
};

// What the machine asks of the world. Implementations are used by one group's machine at a
// time per call, but several machines (groups) may run concurrently: thread-safe.
class FailoverIo {
 public:
  virtual ~FailoverIo() = default;
  // Step 1: live when `from` answers, else stored checkpoints. An error when neither is known.
  virtual common::Result<std::vector<SourcePosition>> GroupPositions(const std::string& group) = 0;
  // Step 2. Errors only for a failing store; "no mapping" is a result (target_offset -1).
  virtual common::Result<TranslatedPosition> Translate(const std::string& group,
                                                       const SourcePosition& position) = 0;
  // Step 3: an empty string when `to` may hold `target_topic`, else the residency problem.
  virtual std::string ResidencyProblem(const std::string& target_topic) = 0;
  virtual ActivityCheck Activity(const std::string& group) = 0;
  // Steps 3-5: the group's committed offsets on `to` for these partitions (missing: none).
  virtual common::Result<std::vector<TargetOffset>> Committed(
      const std::string& group, const std::vector<TargetOffset>& partitions) = 0;
  // Step 4. The error code "failover.group_active" when the broker refused the commit because
  // the group has members.
  virtual common::Status Commit(const std::string& group,
                                const std::vector<TargetOffset>& offsets) = 0;
  virtual int64_t NowMs() = 0;
};

// Where records are kept: a compacted topic on `to`'s cluster in production, keyed by group.
class FailoverStateStore {
 public:
  virtual ~FailoverStateStore() = default;
  // The newest record of `group` (nullopt: none).
  virtual common::Result<std::optional<GroupFailover>> Load(const std::string& group) = 0;
  // Durable on return.
  virtual common::Status Save(const GroupFailover& record) = 0;
};

struct FailoverOptions {
  std::string from_region;
  std::string to_region;
  std::string kind = "failover";
  // Skip the active-members check (the broker still refuses non-member commits while the
  // group has members).
  bool force = false;
  // Run steps 1-3 in memory, save nothing, commit nothing.
  bool dry_run = false;
};

// Called after each step's side effect: `saved` false right before the record of `step` is
// saved, true right after. Tests (and RM_FAILOVER_CRASH) kill the process here.
using StepHook = std::function<void(const std::string& group, int step, bool saved)>;

// Runs (or resumes) one group's operation. Returns the record as it ends (kDone, kRefused, or
// the last saved state when a step failed, with `error` set). An error Result only when the
// store fails. A record of the same direction that is kDone is returned as is (a re-run is a
// no-op); a record of another direction, or none, starts a new operation.
common::Result<GroupFailover> RunGroupFailover(const std::string& group,
                                               const FailoverOptions& options, FailoverIo& io,
                                               FailoverStateStore& store,
                                               const StepHook& hook = nullptr);

// For people: one block per group with one line per partition.
std::string FailoverText(const std::vector<GroupFailover>& records, int64_t now_ms);

}  // namespace rm::topology
