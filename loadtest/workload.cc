#include "loadtest/workload.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/config_reader.h"
#include "common/result.h"
#include "loadtest/record_format.h"

namespace rm::loadtest {
namespace {

// OMB fields that configure its own consumers; the harness always reads every partition with one
// verifier, so they are read, reported and otherwise without effect.
constexpr std::string_view kOmbConsumerFields[] = {"subscriptionsPerTopic",
                                                   "consumerPerSubscription"};

void ReadReplication(const YAML::Node& node, common::YamlFieldReader& r, ReplicationBlock& out,
                     std::vector<std::string>& warnings, const std::string& source) {
  if (!r.IsMap(node, "replication")) return;
  r.Get(node, "replication", "rttMs", out.rtt_ms);
  r.GetProperties(node, "replication", "producer", out.producer);
  r.GetProperties(node, "replication", "consumer", out.consumer);
  if (node["mirror"]) {
    if (node["mirror"].IsMap()) {
      out.mirror = YAML::Clone(node["mirror"]);
    } else {
      r.Problem("replication.mirror", "expected a map (the mirror YAML's `mirror:` block)");
    }
  }
  for (const auto& kv : node) {
    if (!r.IsScalarKey(kv.first, "replication")) continue;
    auto key = kv.first.as<std::string>();
    if (key != "rttMs" && key != "producer" && key != "consumer" && key != "mirror") {
      warnings.push_back(
          fmt::format("{}: replication.{}: unknown field, ignored (known: rttMs, "
                      "producer, consumer, mirror)",
                      source, key));
    }
  }
}

}  // namespace

const char* KeyDistributorName(KeyDistributor k) {
  switch (k) {
    case KeyDistributor::kNoKey:
      return "NO_KEY";
    case KeyDistributor::kKeyRoundRobin:
      return "KEY_ROUND_ROBIN";
    case KeyDistributor::kRandomNano:
      return "RANDOM_NANO";
  }
  return "?";
}

std::optional<KeyDistributor> ParseKeyDistributor(const std::string& name) {
  for (auto k :
       {KeyDistributor::kNoKey, KeyDistributor::kKeyRoundRobin, KeyDistributor::kRandomNano}) {
    if (name == KeyDistributorName(k)) return k;
  }
  return std::nullopt;
}

std::vector<common::ConfigProblem> ValidateWorkload(const Workload& w) {
  std::vector<common::ConfigProblem> p;
  if (w.topics < 1) p.push_back({"topics", fmt::format("{} is not a positive count", w.topics)});
  if (w.partitions_per_topic < 1) {
    p.push_back(
        {"partitionsPerTopic", fmt::format("{} is not a positive count", w.partitions_per_topic)});
  }
  if (w.payload_file.empty() && w.message_size < static_cast<int>(kRecordHeaderSize)) {
    p.push_back({"messageSize", fmt::format("{} is below the {} bytes each record's stamp needs",
                                            w.message_size, kRecordHeaderSize)});
  }
  if (w.message_size > (8 << 20)) {
    p.push_back({"messageSize", fmt::format("{} is above 8 MiB", w.message_size)});
  }
  if (w.random_bytes_ratio < 0 || w.random_bytes_ratio > 1) {
    p.push_back(
        {"randomBytesRatio", fmt::format("{} is not between 0 and 1", w.random_bytes_ratio)});
  }
  if (w.randomized_payload_pool_size < 0) {
    p.push_back({"randomizedPayloadPoolSize",
                 fmt::format("{} is negative", w.randomized_payload_pool_size)});
  }
  if (w.producers_per_topic < 1) {
    p.push_back(
        {"producersPerTopic", fmt::format("{} is not a positive count", w.producers_per_topic)});
  }
  if (w.producer_rate < 0) {
    p.push_back({"producerRate", fmt::format("{} is negative", w.producer_rate)});
  }
  if (w.consumer_backlog_size_gb < 0) {
    p.push_back(
        {"consumerBacklogSizeGB", fmt::format("{} is negative", w.consumer_backlog_size_gb)});
  }
  if (w.backlog_drain_ratio < 0 || w.backlog_drain_ratio > 1) {
    p.push_back(
        {"backlogDrainRatio", fmt::format("{} is not between 0 and 1", w.backlog_drain_ratio)});
  }
  if (w.consumer_backlog_size_gb > 0 && w.producer_rate == 0) {
    p.push_back({"consumerBacklogSizeGB",
                 "a backlog needs a producerRate (0 searches for the maximum, "
                 "which a paused consumer cannot show)"});
  }
  if (!(w.test_duration_minutes > 0)) {
    p.push_back(
        {"testDurationMinutes", fmt::format("{} is not positive", w.test_duration_minutes)});
  }
  if (w.warmup_duration_minutes < 0) {
    p.push_back(
        {"warmupDurationMinutes", fmt::format("{} is negative", w.warmup_duration_minutes)});
  }
  if (w.replication.rtt_ms < 0 || w.replication.rtt_ms > 10000) {
    p.push_back(
        {"replication.rttMs", fmt::format("{} is not between 0 and 10000", w.replication.rtt_ms)});
  }
  return p;
}

Workload ParseWorkload(const std::string& yaml, const std::string& source,
                       const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw common::ConfigError(
        fmt::format("{}: not valid YAML (line {}): {}", source, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) {
    throw common::ConfigError(
        fmt::format("{}: expected a map of OMB workload fields (name, topics, ...)", source));
  }
  Workload w;
  std::vector<std::string> problems;
  common::YamlFieldReader r(problems);
  r.Get(root, "", "name", w.name);
  r.Get(root, "", "topics", w.topics);
  r.Get(root, "", "partitionsPerTopic", w.partitions_per_topic);
  r.Get(root, "", "messageSize", w.message_size);
  r.Get(root, "", "payloadFile", w.payload_file);
  r.Get(root, "", "useRandomizedPayloads", w.use_randomized_payloads);
  r.Get(root, "", "randomBytesRatio", w.random_bytes_ratio);
  r.Get(root, "", "randomizedPayloadPoolSize", w.randomized_payload_pool_size);
  std::vector<common::EnumWord<KeyDistributor>> distributors;
  for (auto k :
       {KeyDistributor::kNoKey, KeyDistributor::kKeyRoundRobin, KeyDistributor::kRandomNano}) {
    distributors.push_back({KeyDistributorName(k), k});
  }
  r.GetEnum(root, "", "keyDistributor", distributors, w.key_distributor);
  r.Get(root, "", "producersPerTopic", w.producers_per_topic);
  r.Get(root, "", "producerRate", w.producer_rate);
  r.Get(root, "", "consumerBacklogSizeGB", w.consumer_backlog_size_gb);
  r.Get(root, "", "backlogDrainRatio", w.backlog_drain_ratio);
  r.Get(root, "", "testDurationMinutes", w.test_duration_minutes);
  r.Get(root, "", "warmupDurationMinutes", w.warmup_duration_minutes);
  ReadReplication(root["replication"], r, w.replication, w.warnings, source);

  static const std::vector<std::string_view> kKnown = {"name",
                                                       "topics",
                                                       "partitionsPerTopic",
                                                       "messageSize",
                                                       "payloadFile",
                                                       "useRandomizedPayloads",
                                                       "randomBytesRatio",
                                                       "randomizedPayloadPoolSize",
                                                       "keyDistributor",
                                                       "producersPerTopic",
                                                       "producerRate",
                                                       "consumerBacklogSizeGB",
                                                       "backlogDrainRatio",
                                                       "testDurationMinutes",
                                                       "warmupDurationMinutes",
                                                       "replication"};
  for (const auto& kv : root) {
    if (!r.IsScalarKey(kv.first, "")) continue;
    auto key = kv.first.as<std::string>();
    if (std::find(kKnown.begin(), kKnown.end(), key) != kKnown.end()) continue;
    if (std::find(std::begin(kOmbConsumerFields), std::end(kOmbConsumerFields), key) !=
        std::end(kOmbConsumerFields)) {
      w.warnings.push_back(fmt::format(
          "{}: {}: read but without effect (one verifier consumer reads every partition)", source,
          key));
      continue;
    }
    w.warnings.push_back(fmt::format("{}: {}: unknown field, ignored", source, key));
  }
  if (!w.payload_file.empty()) {
    std::filesystem::path p = w.payload_file;
    if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      r.Problem("payloadFile", fmt::format("cannot read {}", p.string()));
    } else {
      w.payload_file = p.string();
    }
  }
  std::vector<common::ConfigProblem> invalid;
  if (problems.empty()) invalid = ValidateWorkload(w);
  common::ThrowIfProblems(source, problems, invalid, common::YamlLines(root));
  return w;
}

Workload LoadWorkloadFile(const std::string& path) {
  std::string text = common::ReadConfigFile(path);
  return ParseWorkload(text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace rm::loadtest
