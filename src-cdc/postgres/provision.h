// Provisioning of a Postgres source for capture: the runbook as idempotent, resumable steps.
//
//   connect      connect as the admin role (postgres.admin)
//   wal_level    wal_level must be logical (else: what to change in postgresql.conf, restart)
//   tables       every captured table exists (checked before anything is changed)
//   slot         logical replication slot with pgoutput (not for snapshot_mode initial_only)
//   role         the capture role: LOGIN REPLICATION, password from password_env/_file
//   heartbeat    the heartbeat/state table
//   grants       USAGE on the schemas, SELECT on the captured tables, SELECT/INSERT/UPDATE on
//                the heartbeat table: nothing more
//   publication  for the captured tables and the heartbeat table (created or its table list
//                set)
//   topics       Kafka topics, through the TopicProvisioner hook (skipped when none): the
//                tables' (routed) topics, the dead-letter topic, and with schema.history the
//                history topic, compacted with infinite retention and one partition
//
// Each step reports done / already done / would do (dry run) / failed with the reason.
// Nothing is half-applied: checks run first; role, heartbeat, grants and publication run in
// one transaction, rolled back if any fails; a slot created by this run is dropped again if
// a later step fails. Passwords are sent as SCRAM verifiers and never printed.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "src-cdc/postgres/config.h"

namespace rm::cdc::postgres {

enum class StepOutcome { kDone, kAlreadyDone, kWouldDo, kFailed, kSkipped, kRolledBack };
std::string_view StepOutcomeName(StepOutcome outcome);

struct StepReport {
  std::string step;
  StepOutcome outcome = StepOutcome::kDone;
  std::string detail;
};

struct ProvisionReport {
  std::vector<StepReport> steps;
  bool ok() const;
  // One line per step: "[already done] role regionmirror: ...".
  std::string Format() const;
};

// A topic the capture needs.
struct TopicSpec {
  std::string name;
  // 0: the provisioner's default (kafka.topic_partitions).
  int partitions = 0;
  // Topic configs it must be created with (and an existing topic must have).
  std::map<std::string, std::string> configs;
  bool operator==(const TopicSpec&) const = default;
};

// The topics the capture writes to: each table's topic after the transforms' unconditional
// RegexRouters, the dead-letter topic, and with schema.history the history topic. The history
// is compacted with infinite retention (cleanup.policy=compact, retention.ms=-1,
// retention.bytes=-1: every version has a key of its own, so nothing of it is ever deleted) and
// has one partition (pending and accepted records of a table are read in the order written).
std::vector<TopicSpec> CaptureTopics(const CaptureConfig& capture);

// The hook for the Kafka topics step (wired by the CLI once the Kafka admin client exists).
class TopicProvisioner {
 public:
  virtual ~TopicProvisioner() = default;
  // Creates missing topics with their configs (or, when dry_run, says which it would create)
  // and checks the configs of existing ones.
  virtual StepReport EnsureTopics(const std::vector<TopicSpec>& topics, bool dry_run) = 0;
};

struct ProvisionOptions {
  bool dry_run = false;
  TopicProvisioner* topics = nullptr;  // nullptr: the topics step is skipped
};

// Runs the steps. `admin` connects as the admin role; `role_password` is the capture role's
// password (nullopt: the role is created without one).
ProvisionReport Provision(const PostgresCdcConfig& config, const ConnectionParams& admin,
                          const std::optional<std::string>& role_password,
                          const ProvisionOptions& options);

// CLI entry point (`regionmirror cdc postgres provision --config F [--dry-run]`): loads the
// config, resolves both passwords, runs Provision, prints the report to `out`. Returns 0 when
// every step succeeded, 1 otherwise. Throws ConfigError for configuration problems.
int RunProvision(const std::filesystem::path& config_path, bool dry_run, std::ostream& out,
                 TopicProvisioner* topics = nullptr);

}  // namespace rm::cdc::postgres
