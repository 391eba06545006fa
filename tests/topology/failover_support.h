// Helpers of the failover scenarios (issue 13): a two-region topology with `orders` written in
// both regions (so each region holds its own `orders` and a copy of the other's), the mirror of
// both flows as a `regionmirror run` process with offsets, an on-call group read with
// kafka-python, and the `topology` commands as processes.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_client.h"
#include "tests/offsets/offsets_kafka_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {

using namespace std::chrono_literals;

inline constexpr int kFailoverPartitions = 4;

// One record as the on-call tool saw it.
struct ReadRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
};

struct OncallSession {
  std::vector<ReadRecord> read;
  std::map<std::string, int64_t> committed;  // "topic/partition" -> offset
};

class FailoverScenario : public TestbedTest {
 protected:
  void SetUp() override {
    TestbedTest::SetUp();
    for (const auto& [region, other] : {std::pair{"us-east", "eu-west"}, {"eu-west", "us-east"}}) {
      tb().CreateTopic(region, "orders", kFailoverPartitions);
      tb().CreateTopic(region, fmt::format("{}.orders", other), kFailoverPartitions);
      tb().CreateTopic(region, fmt::format("mm2-offset-syncs.{}.internal", other), 1);
      tb().CreateTopic(region, fmt::format("{}.checkpoints.internal", other), 1);
      tb().CreateTopic(region, "regionmirror.failover.internal", 1);
    }
    offsets_dir_ = (tmp_.path() / "offsets").string();
    topology_ = (tmp_.path() / "topology.yaml").string();
    mirror_config_ = (tmp_.path() / "mirror.yaml").string();
    WriteFile(topology_, TopologyYaml());
    WriteFile(mirror_config_, MirrorYaml());
  }

  void TearDown() override {
    mirror_.reset();
    TestbedTest::TearDown();
  }

  // Groups the mirror checkpoints (the flows' `groups`).
  virtual std::vector<std::string> Groups() const { return {"oncall"}; }

  std::string TopologyYaml() const {
    return fmt::format(
        "regions:\n"
        "  - name: us-east\n    clusters:\n      - alias: us-east\n"
        "        bootstrap_servers: \"{}\"\n"
        "  - name: eu-west\n    clusters:\n      - alias: eu-west\n"
        "        bootstrap_servers: \"{}\"\n"
        "links:\n  - regions: [us-east, eu-west]\n    rtt_ms: 80\n"
        "topics:\n  - topic: orders\n    home: [us-east, eu-west]\n    replicate_to: [\"*\"]\n"
        "groups:\n  - name: oncall\n    regions: [us-east, eu-west]\n    topics: [orders]\n"
        "  - pattern: 'g-.*'\n    regions: [us-east, eu-west]\n    topics: [orders]\n"
        "offsets:\n  dir: {}\n",
        Bootstrap("us-east"), Bootstrap("eu-west"), offsets_dir_);
  }

  // The flows `run --topology --pair us-east:eu-west` plans, as a mirror configuration.
  std::string MirrorYaml() const {
    std::string flows;
    for (const auto& [s, t] : {std::pair{"us-east", "eu-west"}, {"eu-west", "us-east"}}) {
      flows +=
          fmt::format("  - source: {}\n    target: {}\n    topics: ['orders']\n    groups: {}\n", s,
                      t, YamlList(Groups()));
    }
    return fmt::format(
        "clusters:\n"
        "  - alias: us-east\n    bootstrap_servers: \"{}\"\n"
        "  - alias: eu-west\n    bootstrap_servers: \"{}\"\n"
        "flows:\n{}"
        "mirror:\n  refresh_interval_ms: 1000\n  commit_interval_ms: 500\n"
        "  drain_timeout_ms: 20000\n"
        "  consumer: {}\n"
        "offsets:\n  dir: {}\n  checkpoint_interval_ms: 200\n  group_interval_ms: 300\n"
        "admin:\n  port: 0\n",
        Bootstrap("us-east"), Bootstrap("eu-west"), flows, TestConsumerYaml(), offsets_dir_);
  }

  void StartMirror() {
    mirror_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{RegionmirrorPath(), "run", "--config", mirror_config_},
        (tmp_.path() / "mirror.log").string());
  }
  void StopMirror() {
    ASSERT_TRUE(mirror_);
    mirror_->Signal(SIGTERM);
    auto rc = mirror_->Wait(60s);
    EXPECT_EQ(rc.value_or(-1), 0) << MirrorLog();
    mirror_.reset();
  }
  std::string MirrorLog() const { return ReadFile(tmp_.path() / "mirror.log"); }

  // `count` records "<tag>-<seq>" round robin over the partitions, with our client.
  std::vector<std::string> Produce(const std::string& region, const std::string& topic,
                                   const std::string& tag, int first, int count) {
    std::vector<Record> records;
    std::vector<std::string> values;
    for (int i = first; i < first + count; ++i) {
      Record r;
      r.partition = i % kFailoverPartitions;
      r.key = fmt::format("k{}", i);
      r.value = fmt::format("{}-{:06d}", tag, i);
      values.push_back(*r.value);
      records.push_back(std::move(r));
    }
    ProduceWithOurClient(Bootstrap(region), topic, records);
    return values;
  }

  // The on-call tool (kafka-python) reads in `region` and commits where it stopped.
  OncallSession Oncall(const std::string& region, const std::string& group,
                       const std::vector<std::string>& topics, int max = 0) {
    std::string joined;
    for (const auto& t : topics) joined += (joined.empty() ? "" : ",") + t;
    auto r = RunCommand(
        {"/usr/bin/python3", (SourceDir() / "tests/topology/oncall_consumer.py").string(),
         "--bootstrap", Bootstrap(region), "--group", group, "--topics", joined, "--max",
         std::to_string(max), "--idle-ms", "3000"},
        120s);
    OncallSession s;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return s;
    // The JSON is the last line (kafka-python may log before it).
    auto start = r.output.rfind("{\"read\"");
    auto j = nlohmann::json::parse(r.output.substr(start == std::string::npos ? 0 : start));
    for (const auto& x : j["read"]) {
      s.read.push_back({x[0], x[1], x[2], x[3]});
    }
    for (const auto& [k, v] : j["committed"].items()) s.committed[k] = v;
    return s;
  }

  // Waits until the mirror stored checkpoints of `group` at the committed offsets of `session`
  // on us-east's orders (what the failover finds when us-east is gone).
  void WaitForCheckpoint(const std::string& group, const OncallSession& session) {
    std::string last;
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
      auto r = RunRegionmirror({"offsets", "translate", "--config", mirror_config_, "--group",
                                group, "--stored", "--json", "--log_level", "off"});
      last = r.output;
      if (r.exit_code != 0) continue;
      auto rows = nlohmann::json::parse(r.output, nullptr, false);
      if (rows.is_discarded()) continue;
      size_t matching = 0;
      for (const auto& row : rows) {
        if (row["flow"] != "us-east->eu-west") continue;
        auto it = session.committed.find(fmt::format("orders/{}", row["partition"].get<int>()));
        if (it != session.committed.end() && row["source_offset"] == it->second) ++matching;
      }
      if (matching == session.committed.size()) return;
    }
    FAIL() << "no checkpoint of " << group << " at its committed offsets: " << last;
  }

  // Waits until the map of `flow` durably covers `records` records (what the commands read).
  void WaitForRuns(const std::string& flow, int64_t records) {
    int64_t covered = 0;
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
      auto r = RunRegionmirror({"offsets", "dump", "--config", mirror_config_, "--flow", flow,
                                "--json", "--log_level", "off"});
      if (r.exit_code != 0) continue;
      auto j = nlohmann::json::parse(r.output, nullptr, false);
      if (j.is_discarded()) continue;
      covered = 0;
      for (const auto& run : j["runs"]) covered += run["count"].get<int64_t>();
      if (covered >= records) return;
    }
    FAIL() << "flow " << flow << " maps " << covered << " records, expected " << records;
  }

  // `regionmirror topology <args> <topology file> --json`, parsed.
  nlohmann::json Topology(std::vector<std::string> args, int expect_exit = 0,
                          const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), RegionmirrorPath());
    args.insert(args.begin() + 1, "topology");
    args.insert(args.begin() + 3, topology_);
    args.push_back("--json");
    args.push_back("--log_level");
    args.push_back("warn");
    auto r = RunCommand(args, 120s, env);
    EXPECT_EQ(r.exit_code, expect_exit) << r.output;
    auto start = r.output.find('{');
    auto j = nlohmann::json::parse(start == std::string::npos ? "" : r.output.substr(start),
                                   nullptr, false);
    if (expect_exit == 0) {
      EXPECT_FALSE(j.is_discarded()) << r.output;
    }
    last_output_ = r.output;
    return j;
  }

  void SetRegion(const std::string& region, bool up) {
    for (int broker = 1; broker <= 3; ++broker) {
      auto st = up ? tb().testbed().SetBrokerUp(region, broker)
                   : tb().testbed().SetBrokerDown(region, broker);
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
  }

  std::string offsets_dir_, topology_, mirror_config_, last_output_;
  std::unique_ptr<ChildProcess> mirror_;
};

// Counts how often each value was read over all sessions.
inline std::map<std::string, int> ReadCounts(const std::vector<OncallSession>& sessions) {
  std::map<std::string, int> n;
  for (const auto& s : sessions) {
    for (const auto& r : s.read) ++n[r.value];
  }
  return n;
}

// Checks that every value in `expected` was read exactly once and nothing else was read.
inline void ExpectEachReadOnce(const std::vector<std::string>& expected,
                               const std::vector<OncallSession>& sessions) {
  auto counts = ReadCounts(sessions);
  size_t missing = 0, twice = 0, unexpected = 0;
  std::string first;
  std::set<std::string> want(expected.begin(), expected.end());
  for (const auto& v : want) {
    auto it = counts.find(v);
    if (it == counts.end()) {
      ++missing;
      if (first.empty()) first = "missing " + v;
    } else if (it->second > 1) {
      ++twice;
      if (first.empty()) first = fmt::format("{} read {} times", v, it->second);
    }
  }
  for (const auto& [v, n] : counts) {
    if (!want.count(v)) {
      ++unexpected;
      if (first.empty()) first = "unexpected " + v;
    }
  }
  EXPECT_EQ(missing, 0u) << first;
  EXPECT_EQ(twice, 0u) << first;
  EXPECT_EQ(unexpected, 0u) << first;
}

}  // namespace rm::testing
