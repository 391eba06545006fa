#include "tests/support/mirror_helpers.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>

#include "replication/provenance.h"
#include "tests/util/test_util.h"

namespace rm::testing {

using namespace std::chrono_literals;

std::string MirrorYaml(const MirrorSpec& spec) {
  std::string y = "clusters:\n";
  for (const auto& [alias, bootstrap] : spec.clusters) {
    y += fmt::format("  - alias: {}\n    bootstrap_servers: \"{}\"\n", alias, bootstrap);
  }
  y += "flows:\n";
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt::format("'{}'", v[i]);
    return s + "]";
  };
  for (const auto& f : spec.flows) {
    y += fmt::format("  - source: {}\n    target: {}\n    topics: {}\n    replication_policy: {}\n",
                     f.source, f.target, list(f.topics), f.policy);
    if (!f.topics_exclude.empty())
      y += fmt::format("    topics_exclude: {}\n", list(f.topics_exclude));
    y += f.extra_yaml;
  }
  y += fmt::format(
      "mirror:\n  refresh_interval_ms: {}\n  commit_interval_ms: 500\n  drain_timeout_ms: 20000\n"
      "  consumer: {}\n",
      spec.refresh_interval_ms, TestConsumerYaml());
  y += spec.extra_mirror_yaml;
  if (!spec.offsets_dir.empty()) {
    y += fmt::format("offsets:\n  dir: {}\n  checkpoint_interval_ms: 200\n", spec.offsets_dir);
  }
  y += fmt::format("admin:\n  port: {}\n", spec.admin_port);
  return y;
}

MirrorProcess::MirrorProcess(const MirrorSpec& spec, const std::string& dir,
                             const std::string& name) {
  std::string config = dir + "/" + name + ".yaml";
  WriteFile(config, MirrorYaml(spec));
  log_path_ = dir + "/" + name + ".log";
  child_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{RegionmirrorPath(), "run", "--config", config}, log_path_);
}

int MirrorProcess::Stop(std::chrono::milliseconds timeout) {
  child_->Signal(SIGTERM);
  auto rc = child_->Wait(timeout);
  return rc ? *rc : -1;
}

std::string MirrorProcess::Log() const { return ReadFile(log_path_); }

std::string MirrorProcess::AdminAddress() const {
  std::smatch m;
  std::string log = Log();
  static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
  if (std::regex_search(log, m, re)) return m[1];
  return "";
}

namespace {

// The client TotalHighWatermark polls through, one per cluster: tests poll it every 20 ms, and a
// client made and destroyed per call let librdkafka 2.0.2 abort the test process now and then
// (rd_kafka_broker_destroy_final asserting it runs on the broker's own thread, librdkafka issue
// 3608, seen with short-lived clients). Released with the testbed (ScopedTestbed's destructor),
// while its brokers still answer: a client left running past them logs from its threads while
// the process exits, which crashed a test process.
struct WatermarkClient {
  std::mutex mu;
  std::unique_ptr<common::Consumer> client;
  std::string bootstrap;
};

WatermarkClient& TheWatermarkClient() {
  static WatermarkClient w;
  return w;
}

}  // namespace

void ReleaseWatermarkClient() {
  auto& w = TheWatermarkClient();
  std::lock_guard lock(w.mu);
  w.client.reset();
  w.bootstrap.clear();
}

int64_t TotalHighWatermark(const std::string& bootstrap, const std::string& topic) {
  auto wms = HighWatermarks(bootstrap, topic);
  if (wms.empty()) return -1;
  int64_t total = 0;
  for (const auto& [partition, high] : wms) total += high;
  return total;
}

std::map<int32_t, int64_t> HighWatermarks(const std::string& bootstrap, const std::string& topic) {
  auto& w = TheWatermarkClient();
  std::lock_guard lock(w.mu);
  if (!w.client || w.bootstrap != bootstrap) {
    w.client.reset();
    w.client = std::make_unique<common::Consumer>(
        common::KafkaProperties{{"bootstrap.servers", bootstrap}, {"group.id", "rm-test-wm"}},
        nullptr, "wm");
    w.bootstrap = bootstrap;
  }
  common::Consumer& c = *w.client;
  auto md = c.Metadata(topic, 5s);
  if (!md.ok() || md->topics.empty() || md->topics[0].error) return {};
  std::vector<common::TopicPartition> tps;
  for (const auto& p : md->topics[0].partitions) tps.push_back({topic, p.id});
  auto wms = c.QueryWatermarks(tps, 5s);
  if (!wms.ok()) return {};
  std::map<int32_t, int64_t> out;
  for (size_t i = 0; i < tps.size(); ++i) {
    if (!(*wms)[i].ok()) return {};
    out[tps[i].partition] = (*wms)[i]->high;
  }
  return out;
}

int64_t WaitForTotal(const std::string& bootstrap, const std::string& topic, int64_t expected,
                     std::chrono::milliseconds timeout, std::chrono::milliseconds settle) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t total = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    total = TotalHighWatermark(bootstrap, topic);
    if (total >= expected) break;
    std::this_thread::sleep_for(200ms);
  }
  if (settle.count() > 0) {
    std::this_thread::sleep_for(settle);
    total = TotalHighWatermark(bootstrap, topic);
  }
  return total;
}

std::vector<ProvenanceFields> ProvenanceOf(const Record& r) {
  std::vector<ProvenanceFields> out;
  for (const auto& h : r.headers) {
    if (h.key != replication::kProvenanceHeader || !h.value) continue;
    auto p = replication::DecodeProvenance(*h.value);
    if (p) out.push_back({p->cluster, p->partition, p->offset, p->target, p->topic});
  }
  return out;
}

CopyCheck CheckExactCopy(const std::string& source_bootstrap, const std::string& source_topic,
                         const std::string& target_bootstrap, const std::string& target_topic,
                         const std::string& source_alias, CopyReader reader) {
  auto read = [reader](const std::string& bootstrap, const std::string& topic) {
    // Read until the topic's high watermarks say every record was (the testbed's logs start at
    // 0 and have no gaps), rather than until nothing came for the idle time: that wait cost 3 s
    // per topic. A smaller count read (the log starts above 0) still ends at the idle time.
    const int64_t total = TotalHighWatermark(bootstrap, topic);
    return reader == CopyReader::kKafkaPython
               ? ConsumeWithKafkaPython(bootstrap, topic,
                                        total >= 0 ? std::optional<size_t>(total) : std::nullopt,
                                        3000)
               : ConsumeWithOurClient(bootstrap, topic,
                                      total >= 0 ? static_cast<size_t>(total) : SIZE_MAX, 3s);
  };
  auto source = read(source_bootstrap, source_topic);
  auto target = read(target_bootstrap, target_topic);
  CopyCheck c;
  c.source_records = source.size();
  std::map<std::pair<int32_t, int64_t>, const Record*> by_pos;
  for (const auto& r : source) by_pos[{r.partition, r.offset}] = &r;
  std::map<std::pair<int32_t, int64_t>, int> seen;
  std::map<int32_t, int64_t> last_source_offset;
  auto problem = [&c](const std::string& p) {
    if (c.first_problem.empty()) c.first_problem = p;
  };
  for (const auto& t : target) {
    // A copy's last header is the one the copying flow wrote; version 1 (older releases)
    // carries no topic.
    auto hops = ProvenanceOf(t);
    if (hops.empty()) continue;
    std::optional<ProvenanceFields> prov = hops.back();
    if (prov->cluster != source_alias || (!prov->topic.empty() && prov->topic != source_topic)) {
      continue;
    }
    ++c.target_copies;
    auto key = std::make_pair(prov->partition, prov->offset);
    if (++seen[key] > 1) {
      ++c.duplicated;
      ++c.duplicated_by_partition[prov->partition];
      problem(fmt::format("source {}[{}]@{} copied again at target offset {}", source_topic,
                          prov->partition, prov->offset, t.offset));
      continue;
    }
    if (prov->partition != t.partition || (last_source_offset.count(t.partition) &&
                                           prov->offset <= last_source_offset[t.partition])) {
      ++c.misplaced;
      problem(fmt::format("copy of {}[{}]@{} at target partition {} offset {} out of place",
                          source_topic, prov->partition, prov->offset, t.partition, t.offset));
    }
    last_source_offset[t.partition] = prov->offset;
    auto it = by_pos.find(key);
    if (it == by_pos.end()) {
      ++c.mismatched;
      problem(fmt::format("copy of unknown source record {}[{}]@{}", source_topic, prov->partition,
                          prov->offset));
      continue;
    }
    const Record& s = *it->second;
    std::vector<common::KafkaHeader> th;
    for (const auto& h : t.headers) {
      if (h.key != replication::kProvenanceHeader) th.push_back(h);
    }
    std::vector<common::KafkaHeader> sh;
    for (const auto& h : s.headers) {
      if (h.key != replication::kProvenanceHeader) sh.push_back(h);
    }
    bool headers_equal = th.size() == sh.size();
    for (size_t i = 0; headers_equal && i < th.size(); ++i) {
      headers_equal = th[i].key == sh[i].key && th[i].value == sh[i].value;
    }
    if (s.key != t.key || s.value != t.value || s.timestamp_ms != t.timestamp_ms ||
        !headers_equal) {
      ++c.mismatched;
      problem(fmt::format("copy of {}[{}]@{} differs in key, value, headers or timestamp",
                          source_topic, prov->partition, prov->offset));
    }
  }
  for (const auto& s : source) {
    if (!seen.count({s.partition, s.offset})) {
      ++c.lost;
      ++c.lost_by_partition[s.partition];
      problem(fmt::format("source {}[{}]@{} has no copy", source_topic, s.partition, s.offset));
    }
  }
  return c;
}

}  // namespace rm::testing
