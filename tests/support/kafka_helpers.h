// Kafka helpers for integration tests: produce and read back with our own clients, and with
// a client no one here wrote (kafka-python through tests/tools/kclient.py, and kcat).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka_client.h"

namespace rm::testing {

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

std::string Hex(const std::string& s);
std::string Unhex(const std::string& hex);

}  // namespace rm::testing
