// HeartbeatEmitter: MirrorMaker 2's heartbeats (MirrorHeartbeatConnector), for
// MirrorConfig::heartbeats.
//
// For each pair (source, target), every interval one record in the `heartbeats` topic of the
// TARGET cluster, partition 0, in MM2's wire format (offsets/mm2_format.h: key
// sourceClusterAlias, targetClusterAlias; value version 0, timestamp in ms). The flows copy
// heartbeat topics onward whatever their topic regexes say (FlowConfig::replicate_heartbeats),
// named "<source>.heartbeats" by the replication policy and never back into the cluster they
// came from, so each cluster's heartbeat topics name its upstream clusters and the number of
// hops (RemoteClusterUtils.upstreamClusters / replicationHops), and their newest timestamps show
// that the links are alive.
//
// Metrics (the registry given, normally common::MetricsRegistry(), served at /metrics):
//   rm_mirror_heartbeats_emitted_total{source,target}            heartbeats handed to the producer
//   rm_mirror_heartbeat_last_emitted_timestamp_seconds{source,target}  wall-clock time of the last
// so an alert on `time() - last` sees a pair that stopped beating while the process lives.
//
// The topic is created compacted with one partition where the target allows it (as MM2 does),
// with the replication factor of HeartbeatPair::replication_factor (the highest of the pairs
// into that target);
// clusters that do not serve CreateTopics (the testbed's mock) auto-create it on the first
// write. A target that is down holds its heartbeats in the producer's queue (a few bytes each).
//
// Lifecycle: construct (builds one producer and admin client per target cluster; throws
// ConfigError for bad client properties), Start() (spawns the thread), Stop() or destroy (joins,
// then flushes for up to 5 s). Threading: Start/Stop from one controlling thread; emitted() from
// any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_admin.h"
#include "common/metrics.h"
#include "offsets/kafka/internal_topics.h"
#include "replication/config.h"

namespace rm::mirror {

class HeartbeatEmitter {
 public:
  explicit HeartbeatEmitter(const replication::MirrorConfig& config,
                            prometheus::Registry& registry = *common::MetricsRegistry());
  ~HeartbeatEmitter();
  HeartbeatEmitter(const HeartbeatEmitter&) = delete;
  HeartbeatEmitter& operator=(const HeartbeatEmitter&) = delete;

  void Start();
  void Stop();
  // Heartbeats handed to the producers so far.
  uint64_t emitted() const { return emitted_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Target {
    std::unique_ptr<offsets::kafka::KafkaRecordWriter> writer;
    std::unique_ptr<common::AdminClient> admin;
    bool topic_ready = false;
    bool create_supported = true;
    int replication_factor = -1;
  };
  struct Pair {
    replication::HeartbeatPair pair;
    Target* target = nullptr;
    Clock::time_point next{};
    prometheus::Counter* emitted = nullptr;
    prometheus::Gauge* last_emitted = nullptr;
  };

  void Loop();

  std::map<std::string, Target> targets_;  // by target alias
  std::vector<Pair> pairs_;
  std::atomic<uint64_t> emitted_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rm::mirror
