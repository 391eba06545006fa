// Helpers of the offsets integration and robustness suites: a mirror configuration with
// consumer groups and offsets settings (tests/support's MirrorSpec has neither), the mirror
// and the offsets CLI as processes, and single-record reads and group commits with our client.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/kafka_client.h"
#include "replication/provenance.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::testing {

struct OffsetsMirrorSpec {
  std::string source_bootstrap;
  std::string target_bootstrap;
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  std::string offsets_dir;
  int group_interval_ms = 500;
  int checkpoint_interval_ms = 200;
  bool sync_group_offsets = false;
  int admin_port = 0;
};

inline std::string YamlList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt::format("'{}'", v[i]);
  return s + "]";
}

inline std::string OffsetsMirrorYaml(const OffsetsMirrorSpec& s) {
  return fmt::format(
      "clusters:\n"
      "  - alias: us-east\n    bootstrap_servers: \"{}\"\n"
      "  - alias: eu-west\n    bootstrap_servers: \"{}\"\n"
      "flows:\n"
      "  - source: us-east\n    target: eu-west\n    topics: {}\n    groups: {}\n"
      "mirror:\n  refresh_interval_ms: 1000\n  commit_interval_ms: 500\n"
      "  drain_timeout_ms: 20000\n"
      "  consumer: {}\n"
      "offsets:\n  dir: {}\n  checkpoint_interval_ms: {}\n  group_interval_ms: {}\n"
      "  sync_group_offsets: {}\n"
      "admin:\n  port: {}\n",
      s.source_bootstrap, s.target_bootstrap, YamlList(s.topics), YamlList(s.groups),
      TestConsumerYaml(), s.offsets_dir, s.checkpoint_interval_ms, s.group_interval_ms,
      s.sync_group_offsets ? "true" : "false", s.admin_port);
}

// `regionmirror run` on a configuration written to <dir>/<name>.yaml; killed (SIGKILL) when
// destroyed unless stopped.
class OffsetsMirror {
 public:
  OffsetsMirror(const OffsetsMirrorSpec& spec, const std::filesystem::path& dir,
                const std::string& name)
      : config_((dir / (name + ".yaml")).string()), log_((dir / (name + ".log")).string()) {
    WriteFile(config_, OffsetsMirrorYaml(spec));
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{RegionmirrorPath(), "run", "--config", config_}, log_);
  }
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    child_->Signal(SIGTERM);
    auto rc = child_->Wait(timeout);
    return rc ? *rc : -1;
  }
  void Kill() { child_->Kill(); }
  bool running() { return child_->running(); }
  std::string Log() const { return ReadFile(log_); }
  const std::string& config() const { return config_; }
  std::string AdminAddress() const {
    std::smatch m;
    std::string log = Log();
    static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
    return std::regex_search(log, m, re) ? std::string(m[1]) : "";
  }

 private:
  std::string config_;
  std::string log_;
  std::unique_ptr<ChildProcess> child_;
};

// `regionmirror <args...>`.
inline CommandResult RunRegionmirror(std::vector<std::string> args,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  args.insert(args.begin(), RegionmirrorPath());
  return RunCommand(args, timeout);
}

// Commits `offsets` (topic, partition, next offset to read) for `group` as a non-member commit.
inline void CommitGroupOffsets(const std::string& bootstrap, const std::string& group,
                               const std::vector<common::TopicPartition>& offsets) {
  common::Consumer c(
      {{"bootstrap.servers", bootstrap}, {"group.id", group}, {"enable.auto.commit", "false"}},
      nullptr, "test committer");
  auto st = c.Commit(offsets, /*async=*/false);
  ASSERT_TRUE(st.ok()) << st.error().message;
}

// The group's committed offsets for `partitions` (-1001 where none).
inline std::vector<common::TopicPartition> CommittedOffsets(
    const std::string& bootstrap, const std::string& group,
    const std::vector<common::TopicPartition>& partitions) {
  common::Consumer c({{"bootstrap.servers", bootstrap}, {"group.id", group}}, nullptr,
                     "test committed");
  auto r = c.Committed(partitions, std::chrono::seconds(10));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<common::TopicPartition>{};
}

// What a consumer assigned to topic/partition at `offset` reads first (nullopt: nothing within
// `wait`, i.e. the position is the end of the partition).
inline std::optional<Record> FirstRecordAt(
    const std::string& bootstrap, const std::string& topic, int32_t partition, int64_t offset,
    std::chrono::milliseconds wait = std::chrono::seconds(3)) {
  common::Consumer c({{"bootstrap.servers", bootstrap},
                      {"group.id", "rm-test-first-record"},
                      {"enable.auto.commit", "false"},
                      {"enable.partition.eof", "true"}},
                     nullptr, "test reader");
  EXPECT_TRUE(c.Assign({{topic, partition, offset}}).ok());
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    common::KafkaMessage m = c.Poll(std::chrono::milliseconds(200));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
    if (m->err) continue;
    Record r;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value = std::string(static_cast<const char*>(m->payload), m->len);
    r.headers = common::ReadHeaders(*m);
    return r;
  }
  return std::nullopt;
}

// Headers without the mirror's provenance header.
inline std::vector<common::KafkaHeader> UserHeaders(const Record& r) {
  std::vector<common::KafkaHeader> out;
  for (const auto& h : r.headers) {
    if (h.key != replication::kProvenanceHeader) out.push_back(h);
  }
  return out;
}

inline bool SameRecord(const Record& a, const Record& b) {
  auto ha = UserHeaders(a), hb = UserHeaders(b);
  if (a.key != b.key || a.value != b.value || ha.size() != hb.size()) return false;
  for (size_t i = 0; i < ha.size(); ++i) {
    if (ha[i].key != hb[i].key || ha[i].value != hb[i].value) return false;
  }
  return true;
}

}  // namespace rm::testing
