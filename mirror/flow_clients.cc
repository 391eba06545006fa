#include "mirror/flow_clients.h"

#include <utility>

#include "offsets/kafka/internal_topics.h"

namespace rm::mirror {

using common::Result;
using common::Status;
using common::TopicPartition;
using common::Watermarks;

namespace {

class KafkaSourceConsumer : public SourceConsumer {
 public:
  KafkaSourceConsumer(const common::KafkaProperties& props, common::RebalanceListener* listener,
                      const std::string& context)
      : consumer_(props, listener, context) {
    scratch_.reserve(1024);
  }

  Result<common::ClusterMetadata> Metadata(std::chrono::milliseconds timeout) override {
    return consumer_.Metadata(std::nullopt, timeout);
  }
  Status Subscribe(const std::vector<std::string>& topics) override {
    if (topics.empty()) {
      rd_kafka_unsubscribe(consumer_.handle());
      return Status::Ok();
    }
    return consumer_.Subscribe(topics);
  }
  size_t PollBatch(size_t max, std::vector<SourceRecord>* out) override {
    scratch_.clear();
    size_t n = consumer_.PollBatch(std::chrono::milliseconds(0), max, &scratch_);
    for (auto& m : scratch_) out->emplace_back(m.release());
    return n;
  }
  Status Pause(const std::vector<TopicPartition>& partitions) override {
    return consumer_.Pause(partitions);
  }
  Status Resume(const std::vector<TopicPartition>& partitions) override {
    return consumer_.Resume(partitions);
  }
  Status Seek(const TopicPartition& position, std::chrono::milliseconds timeout) override {
    return consumer_.Seek(position, timeout);
  }
  Status Commit(const std::vector<TopicPartition>& offsets, bool async) override {
    return consumer_.Commit(offsets, async);
  }
  Result<std::vector<TopicPartition>> Committed(std::vector<TopicPartition> partitions,
                                                std::chrono::milliseconds timeout) override {
    return consumer_.Committed(std::move(partitions), timeout);
  }
  Result<Watermarks> QueryWatermarks(const std::string& topic, int32_t partition,
                                     std::chrono::milliseconds timeout) override {
    return consumer_.QueryWatermarks(topic, partition, timeout);
  }
  Result<std::vector<Result<Watermarks>>> QueryWatermarks(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) override {
    return consumer_.QueryWatermarks(partitions, timeout);
  }
  std::optional<Watermarks> CachedWatermarks(const std::string& topic, int32_t partition) override {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(consumer_.handle(), topic.c_str(), partition, &lo, &hi) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::nullopt;
    }
    return Watermarks{lo, hi};
  }
  void Close() override { consumer_.Close(); }

  std::string_view TopicName(const rd_kafka_topic_t* rkt) const override {
    return rd_kafka_topic_name(rkt);
  }
  rd_kafka_headers_t* Headers(rd_kafka_message_t& msg) const override {
    rd_kafka_headers_t* hdrs = nullptr;
    rd_kafka_message_headers(&msg, &hdrs);
    return hdrs;
  }
  rd_kafka_headers_t* DetachHeaders(rd_kafka_message_t& msg) const override {
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_detach_headers(&msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return nullptr;
    return hdrs;
  }
  int64_t Timestamp(const rd_kafka_message_t& msg) const override {
    rd_kafka_timestamp_type_t type;
    return rd_kafka_message_timestamp(&msg, &type);
  }
  std::string ErrorString(const rd_kafka_message_t& msg) const override {
    return rd_kafka_message_errstr(&msg);
  }

  void SignalMessages(common::QueueWakeup& wakeup) { consumer_.SignalMessages(wakeup); }

 private:
  common::Consumer consumer_;
  std::vector<common::KafkaMessage> scratch_;
};

class KafkaTargetProducer : public TargetProducer {
 public:
  KafkaTargetProducer(const common::KafkaProperties& props, DeliveryCallback on_delivery,
                      const std::string& context)
      : on_delivery_(std::move(on_delivery)),
        producer_(
            props,
            [this](const rd_kafka_message_t& m) {
              on_delivery_(Delivery{
                  m._private, m.err, m.offset,
                  m.err && rd_kafka_message_status(&m) == RD_KAFKA_MSG_STATUS_NOT_PERSISTED});
            },
            context) {}

  rd_kafka_topic_t* TopicHandle(const std::string& topic) override {
    return producer_.TopicHandle(topic);
  }
  rd_kafka_resp_err_t ProduceNoCopy(rd_kafka_topic_t* topic, int32_t partition, const void* key,
                                    size_t key_len, const void* value, size_t value_len,
                                    int64_t timestamp_ms, rd_kafka_headers_t* headers,
                                    void* opaque) override {
    return producer_.ProduceNoCopy(topic, partition, key, key_len, value, value_len, timestamp_ms,
                                   headers, opaque);
  }
  int Poll(std::chrono::milliseconds timeout) override { return producer_.Poll(timeout); }
  std::optional<std::string> FatalError() override {
    char buf[512];
    if (rd_kafka_fatal_error(producer_.handle(), buf, sizeof(buf)) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::nullopt;
    }
    return std::string(buf);
  }
  void PurgeAll() override {
    rd_kafka_purge(producer_.handle(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }

  void SignalReports(common::QueueWakeup& wakeup) { producer_.SignalReports(wakeup); }

 private:
  DeliveryCallback on_delivery_;  // before producer_: its callback uses it
  common::Producer producer_;
};

class KafkaFlowClaim : public FlowClaim {
 public:
  KafkaFlowClaim(common::AdminClient& admin, const FlowClientSettings& s)
      : admin_(admin), lease_(s.target, s.lease_key, s.group_id, s.lease_ms, s.context) {}

  Status Prepare() override {
    return offsets::kafka::EnsureInternalTopic(admin_, kFlowOwnersTopic, "delete",
                                               std::chrono::milliseconds(5000), &create_supported_);
  }
  FlowLease::Verdict Poll(int64_t now_ms) override { return lease_.Poll(now_ms); }
  const std::string& owner() const override { return lease_.owner(); }

 private:
  common::AdminClient& admin_;
  FlowLease lease_;
  bool create_supported_ = true;
};

class KafkaTailScans : public TailScans {
 public:
  explicit KafkaTailScans(const FlowClientSettings& s)
      : scanner_(s.target, s.source_cluster, s.target_cluster, s.context, s.scan_limits) {}
  std::vector<Result<TailScanResult>> ScanMany(const std::vector<TailScanRequest>& requests,
                                               std::chrono::milliseconds timeout) override {
    return scanner_.ScanMany(requests, timeout);
  }

 private:
  TailScanner scanner_;
};

}  // namespace

FlowClients MakeKafkaFlowClients(const FlowClientSettings& s) {
  FlowClients c;
  auto producer =
      std::make_unique<KafkaTargetProducer>(s.producer, s.on_delivery, s.context + " producer");
  auto consumer =
      std::make_unique<KafkaSourceConsumer>(s.consumer, s.listener, s.context + " consumer");
  if (s.wakeup) {
    producer->SignalReports(*s.wakeup);
    consumer->SignalMessages(*s.wakeup);
  }
  c.producer = std::move(producer);
  c.consumer = std::move(consumer);
  c.source_admin_client =
      std::make_unique<common::AdminClient>(s.source_admin, s.context + " source admin");
  c.target_admin_client =
      std::make_unique<common::AdminClient>(s.target_admin, s.context + " target admin");
  c.source_admin = MakeKafkaTopicAdmin(*c.source_admin_client);
  c.target_admin = MakeKafkaTopicAdmin(*c.target_admin_client);
  c.scanner = std::make_unique<KafkaTailScans>(s);
  c.claim = std::make_unique<KafkaFlowClaim>(*c.target_admin_client, s);
  return c;
}

}  // namespace rm::mirror
