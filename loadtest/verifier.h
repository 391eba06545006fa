// Verifier: one consumer on the target that reads every partition of the target topics from
// where they ended when it started, checks each stamped record with a SequenceChecker and
// measures end-to-end latency (arrival on this process's steady clock minus the stamp's
// intended and actual send times).
//
// Lifecycle: Start() assigns the partitions (no consumer group: nothing to wait for) and starts
// the reading thread; Stop() ends it; Finish() gives the verdict. Threading: the figures are
// guarded by one mutex, taken once per polled batch by the reader and once per interval by the
// runner (TakeInterval()).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_config.h"
#include "loadtest/histogram.h"
#include "loadtest/sequence_checker.h"

namespace rm::loadtest {

struct VerifierOptions {
  std::string bootstrap;
  std::vector<std::string> topics;  // target topic names, index = StreamId::topic
  int partitions = 1;
  common::KafkaProperties consumer;  // over the verifier's defaults
  // Records intended before this time (steady ns) are verified but left out of the aggregated
  // latency (the warm-up). Default: 0 (none left out)
  int64_t measure_from_ns = 0;
  // Test hook: at this time (steady ns) the reader stops reading for `stall` (a stalled
  // consumer). 0: never.
  int64_t stall_at_ns = 0;
  std::chrono::milliseconds stall{0};
  // Test hook: read at most this many records/s (a consumer of known capacity). 0: no limit.
  double max_rate = 0;
};

struct LatencyFigures {
  LatencyHistogram from_intended_us;
  LatencyHistogram from_sent_us;
};

class Verifier {
 public:
  explicit Verifier(VerifierOptions options);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Assigns every partition at its current end and starts reading. Throws ConfigError when the
  // consumer cannot be made or the partitions' ends cannot be read.
  void Start();
  void Stop();
  // Stops / starts fetching every partition (OMB's paused consumers, for a backlog). After
  // Start(). Throws ConfigError when the client refuses.
  void Pause();
  void Resume();

  int64_t received() const { return received_.load(std::memory_order_relaxed); }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // When the last record was read (steady ns; 0 before the first).
  int64_t last_arrival_ns() const { return last_arrival_ns_.load(std::memory_order_relaxed); }
  // Moves the start of the aggregated figures (see VerifierOptions::measure_from_ns): a run
  // whose measured window is known only later (the rate search) starts with a far one.
  void SetMeasureFrom(int64_t ns) { measure_from_ns_.store(ns, std::memory_order_relaxed); }
  // Latency of the records that arrived since the last call.
  LatencyFigures TakeInterval();
  // Latency over the whole run after the warm-up.
  LatencyFigures Aggregated();
  Verification Finish(const std::map<StreamId, uint64_t>& sent);
  // Partitions whose retention dropped records written since Start() (their low watermark
  // passed where the verifier began); -1 when it cannot be asked. Before Stop(). A cluster that
  // deletes unread records (the testbed keeps 5 MiB per partition) explains a loss without any
  // fault of the mirror's.
  int RetentionDropped();

  // The reader's per-record work, public for tests that feed a synthetic stream.
  void Observe(int topic, int32_t partition, std::string_view value, int64_t arrival_ns);

 private:
  void Run();

  VerifierOptions options_;
  std::map<std::string, int> topic_index_;
  std::vector<common::TopicPartition> start_;  // where reading began, per partition
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> last_arrival_ns_{0};
  std::atomic<int64_t> measure_from_ns_{0};
  std::mutex mu_;
  SequenceChecker checker_;
  LatencyFigures interval_;
  LatencyFigures aggregated_;
  std::thread thread_;
  struct Client;
  std::unique_ptr<Client> client_;
};

}  // namespace rm::loadtest
