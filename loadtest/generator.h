// Generator: open-loop load on a fixed schedule. Producer k of n sends its i-th record at the
// intended time start + i * n / rate, whatever happened to earlier records: when a send is late
// (the client queue was full, the thread was descheduled, a stall was injected), the record
// keeps its intended time, so latency measured from it includes the delay (no coordinated
// omission), and the lateness itself is recorded as schedule delay. Each record is stamped
// (record_format.h) with its producer, partition, a per-(producer, partition) sequence number
// and both times.
//
// Lifecycle: Start() starts one thread per producer; they stop at the end time or on Stop(),
// flush, and Join() returns the totals. Counters are atomics, read by the runner every interval.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_config.h"
#include "loadtest/histogram.h"
#include "loadtest/sequence_checker.h"
#include "loadtest/workload.h"

namespace rm::loadtest {

// Nanoseconds on the steady clock, the harness's one time base.
int64_t SteadyNowNs();

struct GeneratorOptions {
  std::string bootstrap;
  std::vector<std::string> topics;
  int partitions = 1;
  int producers_per_topic = 1;
  // Records/s over every producer at the start (SetRate() changes it); 0: as fast as the clients
  // take them (intended = actual).
  double rate = 1000;
  KeyDistributor keys = KeyDistributor::kNoKey;
  // Record values to cycle through (each at least kRecordHeaderSize bytes; the stamp overwrites
  // the start).
  std::vector<std::string> payloads;
  common::KafkaProperties producer;  // over the generator's defaults
  // Test hook: after this many records, producer 0 sleeps `stall` (a stalled sender). 0: never.
  int64_t stall_after_records = 0;
  std::chrono::milliseconds stall{0};
  // How long each producer waits at the end for its records' delivery reports.
  std::chrono::milliseconds flush_timeout{30000};
};

struct GeneratorTotals {
  int64_t sent = 0;             // enqueued to the client
  int64_t acked = 0;            // delivery reports without error
  int64_t delivery_errors = 0;  // delivery reports with an error
  int64_t bytes = 0;
  std::string first_error;
  // Per stream, how many records were enqueued (sequences 0..n-1): what the verifier expects.
  std::map<StreamId, uint64_t> per_stream;
  // Actual send minus intended send, microseconds, every record.
  LatencyHistogram schedule_delay_us;
};

class Generator {
 public:
  explicit Generator(GeneratorOptions options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Sends from `start_ns` until `end_ns` (steady clock). Throws ConfigError if a client cannot be
  // made (bad librdkafka property).
  void Start(int64_t start_ns, int64_t end_ns);
  void Stop() { stop_ = true; }
  // From `from_ns` on, records are due at `rate` (> 0) on a schedule that starts there: records
  // still owed under the old rate are not sent late, the new schedule replaces the old one (as
  // a new rate limiter does in OMB). Used by the maximum-rate search and the backlog phases.
  void SetRate(double rate, int64_t from_ns);
  // Moves the end of sending (steady ns) earlier: a run whose length is not known at Start()
  // starts with a far end and sets the real one once it is known.
  void SetEnd(int64_t end_ns) { end_ns_.store(end_ns); }
  double rate() const;
  // Waits for every thread (each flushes for up to options.flush_timeout).
  GeneratorTotals Join();

  int64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  int64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  int64_t bytes_sent() const { return bytes_.load(std::memory_order_relaxed); }
  // The largest schedule delay (ns) since the last call, and resets it.
  int64_t TakeMaxDelayNs() { return max_delay_ns_.exchange(0); }
  bool done() const { return running_.load() == 0; }

 private:
  struct Worker;
  void RunWorker(Worker& w);

  GeneratorOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> max_delay_ns_{0};
  int64_t start_ns_ = 0;
  std::atomic<int64_t> end_ns_{0};
  // The current schedule: set by SetRate() under mu_, read by each producer when `epoch_` moved.
  mutable std::mutex mu_;
  double rate_ = 0;
  int64_t rate_from_ns_ = 0;
  std::atomic<uint64_t> epoch_{0};
};

}  // namespace rm::loadtest
