// RAII wrappers over librdkafka's C API: producer, consumer, and what both can ask a cluster
// (metadata, watermarks). Admin calls are in kafka_admin.h.
//
// Threading: librdkafka handles are thread-safe, but callbacks (delivery reports, rebalances)
// run only inside Poll()/Flush()/Consumer::Poll() on the calling thread. Each wrapper owns its
// handle; destruction closes it (a consumer leaves its group first).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kafka_config.h"
#include "common/result.h"

namespace rm::common {

Error KafkaError(rd_kafka_resp_err_t err, std::string_view what);

// Low and high watermark of a partition: the first retained offset and the next offset to be
// written.
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

class KafkaClient {
 public:
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;
  virtual ~KafkaClient() = default;

  rd_kafka_t* handle() const { return rk_.get(); }
  const std::string& context() const { return context_; }

  // Metadata for one topic (may auto-create it on brokers that do so) or for all topics.
  Result<ClusterMetadata> Metadata(std::optional<std::string> topic,
                                   std::chrono::milliseconds timeout) const;
  Result<Watermarks> QueryWatermarks(const std::string& topic, int32_t partition,
                                     std::chrono::milliseconds timeout) const;
  // Watermarks of many partitions in two round trips (one request per leader for each end)
  // instead of two per partition. Answer i is for partitions[i] (offsets are ignored); the
  // outer error fails the whole call (e.g. timed out), an inner one only its partition.
  Result<std::vector<Result<Watermarks>>> QueryWatermarks(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) const;

 protected:
  explicit KafkaClient(std::string_view context) : context_(context) {}
  // Replaces the cached leaders of these topics with the cluster's current ones (by deadline).
  void RelearnLeaders(const std::vector<std::string>& topics,
                      std::chrono::steady_clock::time_point deadline) const;
  RdKafkaPtr rk_;
  std::string context_;
};

// One record header; a header may have a null value.
struct KafkaHeader {
  std::string key;
  std::optional<std::string> value;
};

// A record to produce. Views must stay valid for the Produce() call (the producer copies them
// unless the caller asks for zero-copy).
struct ProduceRecord {
  std::string_view topic;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  int64_t timestamp_ms = 0;  // 0: let librdkafka stamp the current time.
  std::vector<KafkaHeader> headers;
};

// A non-blocking pipe that librdkafka queues write to when they go from empty to non-empty
// (rd_kafka_queue_io_event_enable), so one thread can wait for a consumer's messages and a
// producer's delivery reports at once instead of blocking on one while the other waits.
// Use: Clear(), drain every signalling queue without blocking, then Wait(). A queue that fills
// after Clear() signals, so Wait() returns at once: no wakeup is lost. Must outlive the clients
// that signal it (they stop signalling when destroyed).
class QueueWakeup {
 public:
  QueueWakeup();  // throws std::system_error when no pipe can be made
  ~QueueWakeup();
  QueueWakeup(const QueueWakeup&) = delete;
  QueueWakeup& operator=(const QueueWakeup&) = delete;

  int write_fd() const { return fds_[1]; }
  // Consumes pending signals.
  void Clear();
  // Waits until a queue signals or `timeout` passes; true when signalled.
  bool Wait(std::chrono::milliseconds timeout);

 private:
  int fds_[2] = {-1, -1};
};

class Producer : public KafkaClient {
 public:
  // Called once per record from Poll()/Flush() on the polling thread. msg._private is the
  // opaque given to Produce(); msg.err says whether the record was stored.
  using DeliveryCallback = std::function<void(const rd_kafka_message_t& msg)>;

  Producer(const KafkaProperties& props, DeliveryCallback on_delivery, std::string_view context);
  ~Producer() override;

  // Enqueues a record. Returns RD_KAFKA_RESP_ERR__QUEUE_FULL when the local queue is full:
  // the caller polls and retries (that is the back-pressure signal). On any error, nothing
  // was enqueued and no delivery report will come.
  rd_kafka_resp_err_t Produce(const ProduceRecord& record, void* opaque);

  // Like Produce but takes ownership of `headers` on success and does not copy key/value:
  // they must stay valid until the delivery report for `opaque` arrives. For the mirror,
  // which keeps the consumed message alive until then.
  rd_kafka_resp_err_t ProduceNoCopy(std::string_view topic, int32_t partition, const void* key,
                                    size_t key_len, const void* value, size_t value_len,
                                    int64_t timestamp_ms, rd_kafka_headers_t* headers,
                                    void* opaque);

  // The same, addressing the topic by a handle from TopicHandle(): no per-record name lookup.
  rd_kafka_resp_err_t ProduceNoCopy(rd_kafka_topic_t* topic, int32_t partition, const void* key,
                                    size_t key_len, const void* value, size_t value_len,
                                    int64_t timestamp_ms, rd_kafka_headers_t* headers,
                                    void* opaque);
  // A handle for `topic`, owned by the producer (valid until it is destroyed).
  rd_kafka_topic_t* TopicHandle(const std::string& topic);

  // Serves delivery reports; returns how many were served.
  int Poll(std::chrono::milliseconds timeout);
  // Waits until every enqueued record is delivered or failed, serving reports.
  Status Flush(std::chrono::milliseconds timeout);
  // Records enqueued and not yet reported.
  int OutstandingCount() const { return rd_kafka_outq_len(rk_.get()); }
  // Delivery reports signal `wakeup` when they arrive to an empty queue.
  void SignalReports(QueueWakeup& wakeup);

 private:
  static void OnDeliveryTrampoline(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  // The one place that builds librdkafka's produce arguments. On failure `headers` stays the
  // caller's.
  rd_kafka_resp_err_t ProduceVu(rd_kafka_topic_t* topic, int32_t partition, const void* key,
                                size_t key_len, const void* value, size_t value_len,
                                int64_t timestamp_ms, rd_kafka_headers_t* headers, void* opaque,
                                int msgflags);
  DeliveryCallback on_delivery_;
  rd_kafka_queue_t* signalling_ = nullptr;  // main queue, while SignalReports() is in force
  std::mutex topics_mu_;                    // Produce() may be called from several threads
  std::map<std::string, rd_kafka_topic_t*> topics_;
};

// Told about partition assignment changes, from inside Consumer::Poll().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Called before the partitions are assigned. The listener may set each partition's start
  // offset (default: the committed offset, or auto.offset.reset).
  virtual void OnPartitionsAssigned(std::vector<TopicPartition>& partitions) = 0;
  // Called before the partitions are taken away, so in-flight work can be finished or
  // abandoned. `lost`: the group already gave them to another member (commits will fail).
  virtual void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
};

class Consumer : public KafkaClient {
 public:
  // `listener` may be null; it must outlive the consumer. With a group.id and Subscribe(),
  // partitions come from the group (eager or cooperative, as partition.assignment.strategy
  // says); with Assign(), the caller picks them.
  Consumer(const KafkaProperties& props, RebalanceListener* listener, std::string_view context);
  ~Consumer() override;

  // Topic names, or regexes starting with '^'.
  Status Subscribe(const std::vector<std::string>& topics);
  Status Assign(const std::vector<TopicPartition>& partitions);
  Status IncrementalAssign(const std::vector<TopicPartition>& partitions);
  Status IncrementalUnassign(const std::vector<TopicPartition>& partitions);
  Result<std::vector<TopicPartition>> Assignment() const;

  // A message, an error event (msg->err set), or nullptr on timeout. Also serves rebalances.
  KafkaMessage Poll(std::chrono::milliseconds timeout);
  // Up to `max` messages (or error events) into `out` (appended), waiting up to `timeout` for
  // the first. Serves rebalances like Poll(). Returns how many were added.
  size_t PollBatch(std::chrono::milliseconds timeout, size_t max, std::vector<KafkaMessage>* out);
  // Messages and events signal `wakeup` when they arrive to an empty consumer queue.
  void SignalMessages(QueueWakeup& wakeup);

  // Commits offsets (the next offset to read, as Kafka defines a commit) with their metadata.
  // A synchronous commit fails if any partition's commit failed.
  Status Commit(const std::vector<TopicPartition>& offsets, bool async);
  // Committed offsets of the consumer's group for `partitions`, with their metadata.
  Result<std::vector<TopicPartition>> Committed(std::vector<TopicPartition> partitions,
                                                std::chrono::milliseconds timeout) const;

  Status Pause(const std::vector<TopicPartition>& partitions);
  Status Resume(const std::vector<TopicPartition>& partitions);
  Status Seek(const TopicPartition& position, std::chrono::milliseconds timeout);

  // Leaves the group (revoking partitions through the listener). Idempotent; the destructor
  // calls it.
  void Close();

 private:
  static void OnRebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  RebalanceListener* listener_;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue (rd_kafka_queue_get_consumer)
  bool signalling_ = false;
  bool closed_ = false;
  // librdkafka before 2.3.0 asserts when a cooperative-sticky consumer that never received an
  // assignment is destroyed (librdkafka issue 4312). Such a handle is closed (it leaves the
  // group) but not destroyed; the few kilobytes stay, reachable, until the process exits.
  bool cooperative_sticky_ = false;
  bool ever_assigned_ = false;
};

// Builds a header list for Produce()/ProduceNoCopy().
rd_kafka_headers_t* MakeHeaders(const std::vector<KafkaHeader>& headers);
// Reads a message's headers (empty if it has none).
std::vector<KafkaHeader> ReadHeaders(const rd_kafka_message_t& msg);

}  // namespace rm::common
