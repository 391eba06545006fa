// The topics the offsets integration writes on a flow's target cluster, and the small writer
// it writes them through.
//
//   mm2-offset-syncs.<source>.internal   MM2 OffsetSync records: the offset map's runs, so
//                                        another instance or region can rebuild its RocksDB
//                                        (`regionmirror offsets rebuild`). cleanup.policy=delete
//                                        when we create it: a compacted topic keeps only the
//                                        newest sync per partition, too little to rebuild runs.
//   <source>.checkpoints.internal        MM2 Checkpoint records: translated consumer group
//                                        positions, keyed by (group, remote topic, partition);
//                                        cleanup.policy=compact when we create it, as MM2 does.
//
// Both on the TARGET cluster, one partition, records written to partition 0 (as MM2 does).
// MirrorMaker 2 keeps its offset-syncs topic on the source and names it after the target
// (mm2-offset-syncs.<target>.internal); ours lives where the map is useful, next to the copies,
// so it survives an outage of the source region, and is named after the source so that several
// flows into one cluster do not share it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "common/result.h"
#include "offsets/mm2_format.h"

namespace rm::offsets::kafka {

std::string OffsetSyncsTopic(const std::string& source_alias);
std::string CheckpointsTopic(const std::string& source_alias);
inline constexpr int32_t kInternalTopicPartition = 0;

// Writes records to one cluster. The offset sync publisher (on a flow's thread) and the group
// checkpointer (on its own thread) share one per flow: implementations are thread-safe.
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // Enqueues a record without blocking; false when the local queue is full (retry later).
  virtual bool Write(const std::string& topic, int32_t partition,
                     const offsets::mm2::KafkaRecord& record) = 0;
  // Serves delivery reports without waiting.
  virtual void Poll() = 0;
  // How many records written to `topic` the cluster has acknowledged so far (as of the last
  // Poll or Flush). Records of one topic partition are acknowledged in the order written (an
  // idempotent producer), so this many of the first records written are in the topic.
  virtual uint64_t Acknowledged(const std::string& topic) const = 0;
  // Waits until everything written is acknowledged or failed, up to `timeout`.
  virtual common::Status Flush(std::chrono::milliseconds timeout) = 0;
};

// RecordWriter over an idempotent producer (acks=all, retried until delivered: a target that is
// down holds the records in the producer's queue, bounded by queue.buffering.max.*). A failed
// delivery is logged and counted; it is not retried by the caller.
class KafkaRecordWriter final : public RecordWriter {
 public:
  // `props`: the target cluster's client properties (bootstrap.servers included). Throws
  // ConfigError for bad properties.
  KafkaRecordWriter(const common::KafkaProperties& props, const std::string& context);

  bool Write(const std::string& topic, int32_t partition,
             const offsets::mm2::KafkaRecord& record) override;
  void Poll() override;
  common::Status Flush(std::chrono::milliseconds timeout) override;
  uint64_t Acknowledged(const std::string& topic) const override;

  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  // A record of `topic` failed for good: Acknowledged(topic) stops counting.
  void MarkFailed(const std::string& topic);

  std::string context_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  mutable std::mutex acknowledged_mu_;
  // Per topic: records acknowledged in order, and whether one failed (the count stops there).
  std::map<std::string, std::pair<uint64_t, bool>, std::less<>> acknowledged_;
  std::unique_ptr<common::Producer> producer_;
};

// Makes sure `topic` exists on the cluster of `admin`. Creation is tried with one partition,
// `cleanup_policy` and `replication_factor` (-1: the brokers' default); clusters that do not
// serve CreateTopics (the testbed's mock) fall back to auto-creation by a metadata request, and
// `*create_supported` is cleared so later calls skip the attempt. A replication factor the
// cluster refuses (more than its brokers) is an error, not a fallback: auto-creation would
// silently give the topic another one (MM2 fails the same way). Control plane: may block for a
// few times `timeout`.
common::Status EnsureInternalTopic(common::AdminClient& admin, const std::string& topic,
                                   const std::string& cleanup_policy,
                                   std::chrono::milliseconds timeout, bool* create_supported,
                                   int replication_factor = -1);

// Warns when an existing `topic` has another cleanup.policy than `cleanup_policy`. Silent (debug
// log) when the cluster does not answer DescribeConfigs (the mock): it is advice, not a check.
void CheckInternalTopicConfig(common::AdminClient& admin, const std::string& topic,
                              const std::string& cleanup_policy, std::chrono::milliseconds timeout);

}  // namespace rm::offsets::kafka
