// Local Kafka regions for development, tests and the demo: one librdkafka mock cluster per
// region, all in this process, each speaking the Kafka protocol on its own loopback ports.
// Product code only ever sees bootstrap servers, so it runs unchanged against real Kafka.
// See docs/architecture.md "The testbed's mock cluster" for what the mock does and does not serve.
//
// Lifecycle: the constructor starts every region's cluster (one thread each) and returns
// when they listen; the destructor stops them. Threading: every method may be called from
// any thread (the mock serialises commands onto its cluster thread).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace rm::testbed {

struct TestbedOptions {
  // Region names, e.g. {"us-east", "eu-west"}: lower-case letters, digits, '-', '_' or '.'.
  // Default: none (at least one is required)
  std::vector<std::string> regions;
  // Brokers per region cluster, numbered 1..N. Default: 3
  int brokers_per_region = 3;
};

// One region's mock cluster.
class Region {
 public:
  Region(std::string name, int brokers);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  const std::string& name() const { return name_; }
  const std::string& bootstrap_servers() const { return bootstrap_; }
  int broker_count() const { return brokers_; }
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

  // Faults that change a broker's RTT or take it down hold this, so that SetBrokerDown's
  // flush-then-close sequence sees the RTT it has to restore.
  std::mutex& fault_mutex() { return fault_mu_; }
  // The RTT last set on `broker` (0 when never set). Callers hold fault_mutex().
  int& rtt_ms(int32_t broker) { return rtt_ms_[broker]; }

 private:
  std::string name_;
  int brokers_;
  rd_kafka_t* host_ = nullptr;  // The client handle that hosts the mock cluster.
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  std::mutex fault_mu_;
  std::map<int32_t, int> rtt_ms_;
};

class Testbed {
 public:
  // Throws common::ConfigError for bad options (no region, bad or duplicate name, brokers < 1).
  explicit Testbed(TestbedOptions options);

  std::vector<std::string> RegionNames() const;
  // Error "testbed.unknown_region" naming the region and the known ones.
  common::Result<std::string> BootstrapServers(const std::string& region) const;

  // Creates `topic` with `partitions` partitions (the mock auto-creates unknown topics with 4,
  // so tests create theirs up front). replication_factor <= brokers.
  common::Status CreateTopic(const std::string& region, const std::string& topic, int partitions,
                             int replication_factor = 1);
  // Closes the broker's connections and refuses new ones; leadership does not move. First it
  // sends the responses the broker owes (held back by its RTT): the mock does not deduplicate
  // an idempotent producer's retry of a produce it appended, so a dropped response would become
  // duplicates a real broker never writes (docs/architecture.md, "The testbed's mock cluster").
  common::Status SetBrokerDown(const std::string& region, int32_t broker);
  common::Status SetBrokerUp(const std::string& region, int32_t broker);
  // Adds `rtt_ms` to every response of the broker (0 clears it).
  common::Status SetBrokerRtt(const std::string& region, int32_t broker, int rtt_ms);
  // The next errors.size() requests with `api_key` fail with these codes, in order.
  common::Status PushRequestErrors(const std::string& region, int16_t api_key,
                                   const std::vector<rd_kafka_resp_err_t>& errors);
  common::Status ClearRequestErrors(const std::string& region, int16_t api_key);
  common::Status SetPartitionLeader(const std::string& region, const std::string& topic,
                                    int32_t partition, int32_t broker);

  // {"regions": {"<name>": {"bootstrap_servers": "...", "brokers": N}}}
  nlohmann::json Describe() const;

 private:
  common::Result<Region*> Find(const std::string& region) const;
  common::Status CheckBroker(const Region& r, int32_t broker) const;

  TestbedOptions options_;
  std::map<std::string, std::unique_ptr<Region>> regions_;
};

// Kafka protocol API keys by name ("Produce" -> 0), for the control API. -1 if unknown.
int16_t ApiKeyByName(const std::string& name);
// librdkafka error codes by name ("NOT_LEADER_FOR_PARTITION"); false if unknown.
bool ErrorCodeByName(const std::string& name, rd_kafka_resp_err_t* out);

}  // namespace rm::testbed
