// The cluster prober: every probe interval, one metadata round trip with each cluster of the
// topology, its outcome recorded in a HealthModel (DESIGN.md "Topology": a cluster that stops
// answering is demoted within two probe intervals).
//
// One thread per cluster, so a cluster that hangs (its probe waits out the timeout) never
// delays the others' probes. A probe's timeout is half the probe interval: the first probe
// that starts after a cluster died (at most one interval later) has failed half an interval
// after that, so the cluster is demoted within 1.5 intervals, inside the promised two (and
// HealthModel demotes a cluster silent for two intervals whatever the probes do).
//
// Lifecycle: construct, Start() (Track()s every cluster, starts the threads), Stop() or
// destroy (joins them; a probe in progress is waited for, at most its timeout). Thread-safe:
// Start/Stop from one owner thread; the probes only touch the HealthModel, which is.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_config.h"
#include "common/result.h"
#include "topology/health.h"

namespace rm::topology {

// One probe of one cluster: ok, or why not. Must return within about `timeout`.
using ProbeFunction = std::function<common::Status(std::chrono::milliseconds timeout)>;

// A metadata round trip (brokers only, no topic) with a librdkafka client of its own for the
// cluster `alias`. The client is created on first use and kept; it reconnects quickly
// (reconnect backoff bounded by `interval`), so a cluster that comes back is promoted at the
// next probe. Throws ConfigError for client properties librdkafka refuses.
ProbeFunction MakeKafkaProbe(const common::KafkaProperties& properties, const std::string& alias,
                             std::chrono::milliseconds interval);

class ClusterProber {
 public:
  struct Target {
    std::string alias;
    ProbeFunction probe;
  };

  ClusterProber(HealthModel& health, std::chrono::milliseconds interval,
                std::vector<Target> targets);
  ~ClusterProber();
  ClusterProber(const ClusterProber&) = delete;
  ClusterProber& operator=(const ClusterProber&) = delete;

  void Start();
  void Stop();

  // Probes completed so far (every cluster, any outcome). For tests.
  int64_t probes() const { return probes_.load(); }
  // The timeout each probe gets: half the interval, at least 1 ms.
  std::chrono::milliseconds probe_timeout() const;

 private:
  void Loop(const Target& target);

  HealthModel& health_;
  const std::chrono::milliseconds interval_;
  const std::vector<Target> targets_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<int64_t> probes_{0};
  std::vector<std::thread> threads_;
};

}  // namespace rm::topology
