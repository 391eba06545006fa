// The seam under Flow: the Kafka clients a flow uses, as small interfaces. The flow's logic
// (back-pressure, resync after a refused produce, rebalance, out-of-range, pause/resume) talks
// only to these, so unit tests drive it with the deterministic fakes in tests/mirror/fakes/
// (no broker, no threads, no sleeps; time is a fake clock). MakeKafkaFlowClients() builds the
// real ones over librdkafka (common/kafka_client.h), as the flow always used.
//
// Records stay librdkafka's plain rd_kafka_message_t (its fields are public), so the data path
// still hands the consumer's buffers to the producer without copying and pays no allocation per
// record. Everything librdkafka would look up inside a message (topic name, headers, timestamp)
// goes through the SourceConsumer that produced it, and a record's deleter is the consumer's.
//
// Threading: like the clients they wrap, used only on the flow's Run() thread; callbacks
// (rebalances, delivery reports) run inside SourceConsumer::PollBatch() and
// TargetProducer::Poll().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "mirror/flow_lease.h"
#include "mirror/tail_scanner.h"
#include "mirror/target_topics.h"

namespace rm::mirror {

// Frees a record the way the consumer that read it allocated it.
struct SourceRecordDeleter {
  void (*destroy)(rd_kafka_message_t*) = &rd_kafka_message_destroy;
  void operator()(rd_kafka_message_t* m) const {
    if (m) destroy(m);
  }
};
// A record (or an error event, err set) read from the source. rkt is a topic handle only the
// SourceConsumer that read it can name.
using SourceRecord = std::unique_ptr<rd_kafka_message_t, SourceRecordDeleter>;

// The flow's consumer of the source cluster (group member, cooperative rebalances).
class SourceConsumer {
 public:
  virtual ~SourceConsumer() = default;

  // Every topic of the source cluster.
  virtual common::Result<common::ClusterMetadata> Metadata(std::chrono::milliseconds timeout) = 0;
  // Topic names; empty: unsubscribe.
  virtual common::Status Subscribe(const std::vector<std::string>& topics) = 0;
  // Up to `max` records (or error events) into `out` (appended), without waiting. Serves
  // rebalances (the RebalanceListener given at construction) first. Returns how many.
  virtual size_t PollBatch(size_t max, std::vector<SourceRecord>* out) = 0;
  virtual common::Status Pause(const std::vector<common::TopicPartition>& partitions) = 0;
  virtual common::Status Resume(const std::vector<common::TopicPartition>& partitions) = 0;
  virtual common::Status Seek(const common::TopicPartition& position,
                              std::chrono::milliseconds timeout) = 0;
  // Offsets (the next to read) with their metadata (the owner marks, mirror/ownership.h).
  virtual common::Status Commit(const std::vector<common::TopicPartition>& offsets, bool async) = 0;
  virtual common::Result<std::vector<common::TopicPartition>> Committed(
      std::vector<common::TopicPartition> partitions, std::chrono::milliseconds timeout) = 0;
  virtual common::Result<common::Watermarks> QueryWatermarks(const std::string& topic,
                                                             int32_t partition,
                                                             std::chrono::milliseconds timeout) = 0;
  // Answer i for partitions[i]; the outer error fails all of them.
  virtual common::Result<std::vector<common::Result<common::Watermarks>>> QueryWatermarks(
      const std::vector<common::TopicPartition>& partitions, std::chrono::milliseconds timeout) = 0;
  // The watermarks the consumer last saw in a fetch, without asking the cluster; nullopt when
  // it knows none.
  virtual std::optional<common::Watermarks> CachedWatermarks(const std::string& topic,
                                                             int32_t partition) = 0;
  // Leaves the group (revoking through the listener). Idempotent.
  virtual void Close() = 0;

  // About a record this consumer returned.
  virtual std::string_view TopicName(const rd_kafka_topic_t* rkt) const = 0;
  // The record's headers, owned by the record; null when it has none.
  virtual rd_kafka_headers_t* Headers(rd_kafka_message_t& msg) const = 0;
  // Takes the record's headers (the caller owns them then); null when it has none.
  virtual rd_kafka_headers_t* DetachHeaders(rd_kafka_message_t& msg) const = 0;
  // The record's timestamp in ms, -1 if none.
  virtual int64_t Timestamp(const rd_kafka_message_t& msg) const = 0;
  // What an error event says.
  virtual std::string ErrorString(const rd_kafka_message_t& msg) const = 0;
};

// A delivery report of the target producer.
struct Delivery {
  void* opaque = nullptr;  // as given to ProduceNoCopy()
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t offset = -1;  // in the target partition, when err is none
  // The target refused the record for good: it is not there and never will be (librdkafka's
  // RD_KAFKA_MSG_STATUS_NOT_PERSISTED).
  bool not_persisted = false;
};

// The flow's idempotent producer towards the target cluster.
class TargetProducer {
 public:
  using DeliveryCallback = std::function<void(const Delivery&)>;
  virtual ~TargetProducer() = default;

  // A handle for `topic`, owned by the producer.
  virtual rd_kafka_topic_t* TopicHandle(const std::string& topic) = 0;
  // As common::Producer::ProduceNoCopy: on success takes `headers`, and key/value must stay
  // valid until the report for `opaque`; RD_KAFKA_RESP_ERR__QUEUE_FULL asks to poll and retry.
  virtual rd_kafka_resp_err_t ProduceNoCopy(rd_kafka_topic_t* topic, int32_t partition,
                                            const void* key, size_t key_len, const void* value,
                                            size_t value_len, int64_t timestamp_ms,
                                            rd_kafka_headers_t* headers, void* opaque) = 0;
  // Serves delivery reports (the DeliveryCallback given at construction), waiting up to
  // `timeout` for the first; returns how many were served.
  virtual int Poll(std::chrono::milliseconds timeout) = 0;
  // Why the producer cannot go on (a fatal error, e.g. a refusal under the gapless guarantee);
  // nullopt while it can.
  virtual std::optional<std::string> FatalError() = 0;
  // Fails every queued and in-flight record: their reports come back as purged.
  virtual void PurgeAll() = 0;
};

// The flow's claim on the target (FlowLease): one consumer group copies a flow at a time.
class FlowClaim {
 public:
  virtual ~FlowClaim() = default;
  // Makes the claims topic where the cluster does not auto-create it.
  virtual common::Status Prepare() = 0;
  virtual FlowLease::Verdict Poll(int64_t now_ms) = 0;
  virtual const std::string& owner() const = 0;
};

// Reads target partitions' tails (TailScanner::ScanMany).
class TailScans {
 public:
  virtual ~TailScans() = default;
  virtual std::vector<common::Result<TailScanResult>> ScanMany(
      const std::vector<TailScanRequest>& requests, std::chrono::milliseconds timeout) = 0;
};

// What a flow's clients are built from (Flow's constructor works the properties out).
struct FlowClientSettings {
  std::string context;  // "flow <name>": log lines and errors
  common::KafkaProperties consumer, producer, source_admin, target_admin;
  common::KafkaProperties target;  // the target cluster's plain client properties
  common::RebalanceListener* listener = nullptr;
  TargetProducer::DeliveryCallback on_delivery;
  // Signalled by the real clients when records or reports arrive (fakes need not).
  common::QueueWakeup* wakeup = nullptr;
  std::string source_cluster, target_cluster;
  TailScanLimits scan_limits;
  std::string lease_key, group_id;
  int64_t lease_ms = 0;
};

struct FlowClients {
  std::unique_ptr<TargetProducer> producer;
  std::unique_ptr<SourceConsumer> consumer;
  std::unique_ptr<TopicAdmin> source_admin, target_admin;
  std::unique_ptr<TailScans> scanner;
  std::unique_ptr<FlowClaim> claim;
  // Every deadline and retry time of the flow is read from it (a fake clock in unit tests).
  std::function<std::chrono::steady_clock::time_point()> now = &std::chrono::steady_clock::now;
  // Owned for the real clients (they reference them); null for fakes. Destroyed last.
  std::unique_ptr<common::AdminClient> source_admin_client, target_admin_client;
};

using FlowClientFactory = std::function<FlowClients(const FlowClientSettings&)>;

// The real clients over librdkafka. Throws ConfigError for bad client settings.
FlowClients MakeKafkaFlowClients(const FlowClientSettings& settings);

}  // namespace rm::mirror
