// Kafka helpers for integration tests: produce and read back with our own clients, and with
// a client no one here wrote (kafka-python through tests/tools/kclient.py, and kcat).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_client.h"

namespace rm::testing {

// The group timing of every consumer a test starts in a mirror (MirrorYaml, the offsets and
// topology tests' configs). The mock cluster holds each rebalance round for
// session.timeout.ms - 1 s and a cooperative-sticky membership change takes two rounds, so this
// timeout is what most multi-instance tests wait for. 3000/500 would save 6-9 s per change. At
// 3000/500 FaultSchedule seed 822064751 once left one instance's partitions copying nothing (a
// partition paused when it was lost stayed paused when assigned back; fixed in Flow, FlowTest
// *AssignedBack); the tests stay at 6000 until the multi-instance suites (FaultSchedule, mirror,
// topology, offsets) have been run at 3000/500.
// A test that pauses an instance sizes the pause against kTestSessionTimeoutMs: below it to keep
// the partitions, above it to lose them.
inline constexpr int kTestSessionTimeoutMs = 6000;
inline constexpr int kTestHeartbeatIntervalMs = 1000;
// Those two and a short fetch wait as a YAML flow map, for a `consumer:` key.
std::string TestConsumerYaml();

struct Record {
  int32_t partition = 0;
  int64_t offset = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<common::KafkaHeader> headers;
  int64_t timestamp_ms = 0;
};

// Produces `records` (partition, key, value, headers, timestamp as given) and waits for all
// delivery reports; fails the test on any delivery error. Returns the records with offsets.
std::vector<Record> ProduceWithOurClient(const std::string& bootstrap, const std::string& topic,
                                         std::vector<Record> records,
                                         const common::KafkaProperties& extra = {});

// Reads every partition of `topic` from the beginning with our consumer (no group) until
// `expected` records arrived or nothing came for `idle`. Sorted by (partition, offset).
std::vector<Record> ConsumeWithOurClient(const std::string& bootstrap, const std::string& topic,
                                         size_t expected,
                                         std::chrono::milliseconds idle = std::chrono::seconds(5));

// Every record of `topic` (our consumer), after checking that the testbed dropped none: the
// mock drops a partition's oldest batches beyond 5 MiB, which would be the testbed's loss, not
// the code under test's, and must not pass unnoticed (a test failure names the partition).
std::vector<Record> ConsumeWholeTopic(const std::string& bootstrap, const std::string& topic,
                                      int partitions);

// The same, with kafka-python (tests/tools/kclient.py). Sorted by (partition, offset).
std::vector<Record> ConsumeWithKafkaPython(const std::string& bootstrap, const std::string& topic,
                                           std::optional<size_t> expected, int idle_ms = 3000);
// Produces `count` records with kafka-python: key "<tag>-i", value "<tag>-value-i", header n=i.
void ProduceWithKafkaPython(const std::string& bootstrap, const std::string& topic, int count,
                            const std::string& tag, std::optional<int32_t> partition = {});
// Partition count of `topic` as kafka-python sees it.
int PartitionsSeenByKafkaPython(const std::string& bootstrap, const std::string& topic);

// Records made for tests: key "k<i>", value "v<i>" of `value_size` bytes, header seq=i,
// timestamp base_ts + i, spread over `partitions` round-robin.
std::vector<Record> MakeRecords(size_t count, int partitions, size_t value_size = 16,
                                int64_t base_ts = 1'700'000'000'000);

// Produces MakeRecords batches to `topic` on a thread of its own, one batch per `pause`, until
// stopped or until `max_records` were produced: the testbed keeps at most 5 MiB per partition,
// so a test that runs longer on a slow machine must not outgrow it (the oldest records would
// vanish from the source or the target and look lost). Thread-safe getters.
class BackgroundLoad {
 public:
  struct Options {
    int partitions = 6;
    size_t batch_records = 300;
    size_t value_size = 40;
    std::chrono::milliseconds pause{20};
    int64_t max_records = std::numeric_limits<int64_t>::max();
    // Runs on the load's thread after each batch, with the batch as produced (offsets set).
    std::function<void(const std::vector<Record>&)> after_batch;
  };
  BackgroundLoad(std::string bootstrap, std::string topic, Options options);
  ~BackgroundLoad() { Stop(); }
  // Stops producing; returns how many records were produced (all acknowledged).
  int64_t Stop();
  int64_t produced() const { return produced_.load(); }
  // max_records was reached: no more records come.
  bool exhausted() const { return exhausted_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> exhausted_{false};
  std::atomic<int64_t> produced_{0};
  std::thread thread_;
};

std::string Hex(const std::string& s);
std::string Unhex(const std::string& hex);

}  // namespace rm::testing
