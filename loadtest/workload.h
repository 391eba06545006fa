// Workload: what the harness generates, read from an OpenMessaging Benchmark (OMB) workload file
// as is, or built from flags. OMB's fields keep their names and meaning; `replication:` is our
// own block (mirror settings and the link), which OMB never sees.
//
//   name: 1 topic / 6 partitions / 1kb            # OMB fields
//   topics: 1
//   partitionsPerTopic: 6
//   messageSize: 1024
//   payloadFile: "payload/payload-1Kb.data"       # relative to the workload file
//   keyDistributor: "NO_KEY"                      # or KEY_ROUND_ROBIN, RANDOM_NANO
//   producersPerTopic: 1
//   producerRate: 5000                            # records/s over all producers; 0: maximum
//   testDurationMinutes: 1
//   replication:                                  # ours
//     rttMs: 100                                  # the testbed's broker RTT (source region)
//     producer: {linger.ms: "5"}                  # generator librdkafka properties
//     consumer: {fetch.wait.max.ms: "10"}         # verifier librdkafka properties
//     mirror: {max_inflight_per_partition: 5000}  # the mirror YAML's `mirror:` block
//
// Unknown keys are warnings (OMB grows fields; a file written for it must still run); bad values
// throw common::ConfigError naming the file and the field.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config_reader.h"

namespace rm::loadtest {

enum class KeyDistributor { kNoKey, kKeyRoundRobin, kRandomNano };

struct ReplicationBlock {
  // Extra round-trip time of every broker of the source region, ms (testbed only). Default: 0
  int rtt_ms = 0;
  // librdkafka properties of the generator's producers / the verifier's consumer, over ours.
  std::map<std::string, std::string> producer;
  std::map<std::string, std::string> consumer;
  // The mirror YAML's `mirror:` block, merged over the harness's defaults (testbed mode only; the
  // mirror validates it). Default: none
  YAML::Node mirror;
};

struct Workload {
  // Default: "regionmirror loadtest"
  std::string name = "regionmirror loadtest";
  // Default: 1
  int topics = 1;
  // Default: 6
  int partitions_per_topic = 6;
  // Bytes per record value, our 40-byte stamp included (kRecordHeaderSize). Default: 1024
  int message_size = 1024;
  // Payload bytes read from this file (size = the file's, padded to the stamp). Default: none
  std::string payload_file;
  // Random payloads from a pool instead of zeros (or the file). Default: false
  bool use_randomized_payloads = false;
  // Share of random bytes in each randomized payload, 0..1. Default: 0
  double random_bytes_ratio = 0;
  // Payloads in the pool. Default: 0 (read as 1000)
  int randomized_payload_pool_size = 0;
  // Default: NO_KEY
  KeyDistributor key_distributor = KeyDistributor::kNoKey;
  // Default: 1
  int producers_per_topic = 1;
  // Records/s over every producer; 0 asks for the maximum sustainable rate: a bounded search
  // (rate_search.h) runs first, then the test at the rate it found. Default: 1000
  double producer_rate = 1000;
  // OMB: before the test, records are produced at producerRate with the consumers paused until
  // this many GiB (records x messageSize) wait; then the consumers resume (the harness's
  // mirror starts, the verifier reads) while producing goes on, and the time to drain it is
  // reported. The testbed keeps 5 MiB per partition (compressed): keep it small there.
  // Default: 0 (none)
  double consumer_backlog_size_gb = 0;
  // OMB: the share of the backlog that must drain before the test goes on (1: all of it, down to
  // 1000 records; 0.9: down to a tenth of it). Default: 1.0
  double backlog_drain_ratio = 1.0;
  // Default: 1
  double test_duration_minutes = 1;
  // Default: 0
  double warmup_duration_minutes = 0;
  ReplicationBlock replication;
  // Non-fatal findings while loading (unknown keys, fields we read but do not act on).
  std::vector<std::string> warnings;
};

// Reads an OMB workload file. Throws common::ConfigError naming the file and each bad field.
Workload LoadWorkloadFile(const std::string& path);
// The same from text; `source` names it in errors, `base_dir` resolves payloadFile.
Workload ParseWorkload(const std::string& yaml, const std::string& source,
                       const std::string& base_dir);
// Every problem of a workload's values (after flags overrode some), as data (field, why).
std::vector<common::ConfigProblem> ValidateWorkload(const Workload& w);

const char* KeyDistributorName(KeyDistributor k);
// NO_KEY, KEY_ROUND_ROBIN, RANDOM_NANO; nullopt for anything else.
std::optional<KeyDistributor> ParseKeyDistributor(const std::string& name);

}  // namespace rm::loadtest
