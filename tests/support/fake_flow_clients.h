// Fakes of the Kafka clients under mirror::Flow (mirror/flow_clients.h), for unit tests of the
// flow's logic: clusters in memory, no broker, no threads, no sleeps. Time is FakeClock, which
// moves only when a test advances it or when the flow waits on the fake producer (as time
// passes while a real producer blocks).
//
// What the fakes do as librdkafka does, because the flow relies on it:
// - the consumer serves queued rebalances inside PollBatch(), before any record; an assignment
//   starts each partition at the offset the listener set (RD_KAFKA_OFFSET_END: the end);
// - a paused partition returns nothing, and stays paused when it is revoked (also lost) and
//   assigned again until Resume(): librdkafka 2.0.2 keeps the application's pause flag on the
//   partition object, which outlives assignments (rdkafka_assignment.c resets only its own
//   pause flag on assignment);
// - a position outside [low, high] returns one
//   RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET event (auto.offset.reset=error) and nothing more until
//   the next Seek();
// - the producer reports each record once, from Poll(), in the order the test decides
//   (auto_ack, or Ack()/Refuse()); an accepted record lands in the target partition with its
//   headers, where FakeTailScans finds its provenance;
// - Close() revokes every assigned partition (not lost) through the listener.
//
// Lifecycle: a test owns a FakeKafka, passes FakeKafka::Factory() to the Flow, and reaches the
// flow's clients through FakeKafka::consumer / producer while the flow lives.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mirror/flow_clients.h"
#include "replication/provenance.h"

namespace rm::mirror::testing {

class FakeClock {
 public:
  std::chrono::steady_clock::time_point now() const { return now_; }
  void Advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  // Far from the epoch: a retry time left at its default is in the past.
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
};

struct FakeRecord {
  std::string key, value;
  int64_t timestamp_ms = 0;
  std::shared_ptr<rd_kafka_headers_t> headers;  // null: none
};

// A partition: offset i is records[i]; those below `low` were deleted by retention.
struct FakePartition {
  int64_t low = 0;
  std::vector<FakeRecord> records;
  int64_t high() const { return static_cast<int64_t>(records.size()); }
};

inline std::shared_ptr<rd_kafka_headers_t> OwnHeaders(rd_kafka_headers_t* h) {
  return std::shared_ptr<rd_kafka_headers_t>(h, [](rd_kafka_headers_t* p) {
    if (p) rd_kafka_headers_destroy(p);
  });
}

// A cluster in memory: topics and their partitions.
class FakeCluster {
 public:
  std::map<std::string, std::vector<FakePartition>> topics;

  void CreateTopic(const std::string& topic, int partitions) {
    topics[topic].resize(static_cast<size_t>(partitions));
  }
  FakePartition& at(const std::string& topic, int32_t partition) {
    return topics.at(topic).at(static_cast<size_t>(partition));
  }
  // Appends `n` records "<topic>-<partition>-<offset>" (value) to a partition.
  void Append(const std::string& topic, int32_t partition, int n) {
    FakePartition& p = at(topic, partition);
    for (int i = 0; i < n; ++i) {
      FakeRecord r;
      r.value = topic + "-" + std::to_string(partition) + "-" + std::to_string(p.high());
      r.timestamp_ms = 1000 + p.high();
      p.records.push_back(std::move(r));
    }
  }
  // Appends a record carrying the provenance of a copy of source_topic[partition] at
  // `source_offset` (what a flow from `source` to `target` wrote).
  void AppendCopy(const std::string& topic, int32_t partition, const std::string& source,
                  const std::string& target, const std::string& source_topic,
                  int64_t source_offset) {
    FakeRecord r;
    r.value = source_topic + "-" + std::to_string(partition) + "-" + std::to_string(source_offset);
    std::string prov =
        replication::EncodeProvenance({source, target, source_topic, partition, source_offset,
                                       replication::Provenance{}.version});
    r.headers = OwnHeaders(rd_kafka_headers_new(1));
    rd_kafka_header_add(r.headers.get(), replication::kProvenanceHeader, -1, prov.data(),
                        static_cast<ssize_t>(prov.size()));
    at(topic, partition).records.push_back(std::move(r));
  }
  // Source offsets of the copies in a target partition, in target order.
  std::vector<int64_t> CopiedOffsets(const std::string& topic, int32_t partition) {
    std::vector<int64_t> out;
    for (const auto& r : at(topic, partition).records) {
      if (auto p = replication::LastProvenance(r.headers.get())) out.push_back(p->offset);
    }
    return out;
  }
};

class FakeTopicAdmin : public TopicAdmin {
 public:
  explicit FakeTopicAdmin(FakeCluster& cluster) : cluster_(cluster) {}
  common::Result<std::map<std::string, int>> ListTopics() override {
    std::map<std::string, int> out;
    for (const auto& [name, parts] : cluster_.topics) out[name] = static_cast<int>(parts.size());
    return out;
  }
  common::Result<std::map<std::string, std::string>> TopicConfigs(const std::string&) override {
    return std::map<std::string, std::string>{};
  }
  common::Status ReplaceTopicConfigs(const std::string&,
                                     const std::map<std::string, std::string>&) override {
    return common::Status::Ok();
  }
  common::Status CreateTopic(const std::string& topic, int partitions, int,
                             const std::map<std::string, std::string>&) override {
    if (cluster_.topics.contains(topic)) return common::Error{"TOPIC_ALREADY_EXISTS", topic};
    cluster_.CreateTopic(topic, partitions);
    return common::Status::Ok();
  }
  common::Status CreatePartitions(const std::string& topic, int total) override {
    cluster_.CreateTopic(topic, total);
    return common::Status::Ok();
  }
  common::Result<int> RequestTopic(const std::string& topic) override {
    auto it = cluster_.topics.find(topic);
    return it == cluster_.topics.end() ? 0 : static_cast<int>(it->second.size());
  }

 private:
  FakeCluster& cluster_;
};

// Topic handles the fakes hand out: a name behind an opaque pointer, never dereferenced by
// librdkafka.
class FakeTopicHandles {
 public:
  rd_kafka_topic_t* Get(const std::string& topic) {
    auto& h = handles_[topic];
    if (!h) h = std::make_unique<std::string>(topic);
    return reinterpret_cast<rd_kafka_topic_t*>(h.get());
  }
  static const std::string& Name(const rd_kafka_topic_t* rkt) {
    return *reinterpret_cast<const std::string*>(rkt);
  }

 private:
  std::map<std::string, std::unique_ptr<std::string>> handles_;
};

// What a fake record owns; hangs off rd_kafka_message_t::_private (which the flow does not read
// on consumed records).
struct FakeMessageData {
  std::string key, value;
  rd_kafka_headers_t* headers = nullptr;
  int64_t timestamp_ms = -1;
  ~FakeMessageData() {
    if (headers) rd_kafka_headers_destroy(headers);
  }
};

inline void DestroyFakeMessage(rd_kafka_message_t* m) {
  delete static_cast<FakeMessageData*>(m->_private);
  delete m;
}

class FakeSourceConsumer : public SourceConsumer {
 public:
  struct Assigned {
    int64_t position = 0;
    bool reset_reported = false;  // an out-of-range event was returned since the last seek
  };

  FakeSourceConsumer(FakeCluster& cluster, common::RebalanceListener* listener)
      : cluster_(cluster), listener_(listener) {}

  // Queued for the next PollBatch(), as the group coordinator would hand them out.
  void Assign(std::vector<common::TopicPartition> tps) { rebalances_.push_back({tps, false, {}}); }
  void Revoke(std::vector<common::TopicPartition> tps, bool lost) {
    rebalances_.push_back({{}, true, {tps, lost}});
  }

  std::map<std::pair<std::string, int32_t>, Assigned> assigned;
  // Paused by Pause() and not resumed since, assigned or not (see the header comment).
  std::set<std::pair<std::string, int32_t>> app_paused;
  std::map<std::pair<std::string, int32_t>, common::TopicPartition> committed;
  std::vector<std::string> subscribed;
  std::vector<common::TopicPartition> seeks;  // every Seek(), in order
  std::optional<common::Error> commit_error;  // set: every Commit() fails with it

  bool paused(const std::string& topic, int32_t partition) const {
    return app_paused.contains({topic, partition});
  }

  common::Result<common::ClusterMetadata> Metadata(std::chrono::milliseconds) override {
    common::ClusterMetadata md;
    md.brokers.push_back({1, "fake", 9092});
    for (const auto& [name, parts] : cluster_.topics) {
      common::TopicMetadata t;
      t.name = name;
      for (size_t i = 0; i < parts.size(); ++i)
        t.partitions.push_back({static_cast<int32_t>(i), 1});
      md.topics.push_back(std::move(t));
    }
    return md;
  }
  common::Status Subscribe(const std::vector<std::string>& topics) override {
    subscribed = topics;
    return common::Status::Ok();
  }
  size_t PollBatch(size_t max, std::vector<SourceRecord>* out) override {
    ServeRebalances();
    size_t n = 0;
    for (auto& [tp, a] : assigned) {
      if (app_paused.contains(tp)) continue;
      FakePartition& p = cluster_.at(tp.first, tp.second);
      if (a.position < p.low || a.position > p.high()) {
        if (a.reset_reported || n >= max) continue;
        a.reset_reported = true;
        auto* m = NewMessage(tp.first, tp.second, a.position);
        m->err = RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET;
        out->emplace_back(m, SourceRecordDeleter{&DestroyFakeMessage});
        ++n;
        continue;
      }
      while (n < max && a.position < p.high()) {
        const FakeRecord& r = p.records[static_cast<size_t>(a.position)];
        auto* m = NewMessage(tp.first, tp.second, a.position);
        auto* d = static_cast<FakeMessageData*>(m->_private);
        d->key = r.key;
        d->value = r.value;
        d->timestamp_ms = r.timestamp_ms;
        if (r.headers) d->headers = rd_kafka_headers_copy(r.headers.get());
        m->key = d->key.empty() ? nullptr : d->key.data();
        m->key_len = d->key.size();
        m->payload = d->value.data();
        m->len = d->value.size();
        out->emplace_back(m, SourceRecordDeleter{&DestroyFakeMessage});
        ++a.position;
        ++n;
      }
    }
    return n;
  }
  common::Status Pause(const std::vector<common::TopicPartition>& tps) override {
    for (const auto& tp : tps) app_paused.insert({tp.topic, tp.partition});
    return common::Status::Ok();
  }
  common::Status Resume(const std::vector<common::TopicPartition>& tps) override {
    for (const auto& tp : tps) app_paused.erase({tp.topic, tp.partition});
    return common::Status::Ok();
  }
  common::Status Seek(const common::TopicPartition& tp, std::chrono::milliseconds) override {
    seeks.push_back(tp);
    auto it = assigned.find({tp.topic, tp.partition});
    if (it == assigned.end()) return common::Error{"ERR__STATE", "not assigned"};
    it->second.position = tp.offset;
    it->second.reset_reported = false;
    return common::Status::Ok();
  }
  common::Status Commit(const std::vector<common::TopicPartition>& offsets, bool) override {
    if (commit_error) return *commit_error;
    for (const auto& tp : offsets) committed[{tp.topic, tp.partition}] = tp;
    return common::Status::Ok();
  }
  common::Result<std::vector<common::TopicPartition>> Committed(
      std::vector<common::TopicPartition> tps, std::chrono::milliseconds) override {
    for (auto& tp : tps) {
      auto it = committed.find({tp.topic, tp.partition});
      tp.offset = it == committed.end() ? RD_KAFKA_OFFSET_INVALID : it->second.offset;
      tp.metadata = it == committed.end() ? "" : it->second.metadata;
    }
    return tps;
  }
  common::Result<common::Watermarks> QueryWatermarks(const std::string& topic, int32_t partition,
                                                     std::chrono::milliseconds) override {
    FakePartition& p = cluster_.at(topic, partition);
    return common::Watermarks{p.low, p.high()};
  }
  common::Result<std::vector<common::Result<common::Watermarks>>> QueryWatermarks(
      const std::vector<common::TopicPartition>& tps, std::chrono::milliseconds t) override {
    std::vector<common::Result<common::Watermarks>> out;
    for (const auto& tp : tps) out.push_back(QueryWatermarks(tp.topic, tp.partition, t));
    return out;
  }
  std::optional<common::Watermarks> CachedWatermarks(const std::string& topic,
                                                     int32_t partition) override {
    return *QueryWatermarks(topic, partition, std::chrono::milliseconds(0));
  }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    std::vector<common::TopicPartition> all;
    for (const auto& [tp, a] : assigned) all.push_back({tp.first, tp.second});
    if (!all.empty()) listener_->OnPartitionsRevoked(all, false);
    assigned.clear();
  }

  std::string_view TopicName(const rd_kafka_topic_t* rkt) const override {
    return FakeTopicHandles::Name(rkt);
  }
  rd_kafka_headers_t* Headers(rd_kafka_message_t& msg) const override {
    return static_cast<FakeMessageData*>(msg._private)->headers;
  }
  rd_kafka_headers_t* DetachHeaders(rd_kafka_message_t& msg) const override {
    return std::exchange(static_cast<FakeMessageData*>(msg._private)->headers, nullptr);
  }
  int64_t Timestamp(const rd_kafka_message_t& msg) const override {
    return static_cast<FakeMessageData*>(msg._private)->timestamp_ms;
  }
  std::string ErrorString(const rd_kafka_message_t& msg) const override {
    return rd_kafka_err2str(msg.err);
  }

 private:
  struct Rebalance {
    std::vector<common::TopicPartition> assign;
    bool revoke = false;
    std::pair<std::vector<common::TopicPartition>, bool> revoked;
  };

  rd_kafka_message_t* NewMessage(const std::string& topic, int32_t partition, int64_t offset) {
    auto* m = new rd_kafka_message_t{};
    m->rkt = handles_.Get(topic);
    m->partition = partition;
    m->offset = offset;
    m->_private = new FakeMessageData;
    return m;
  }

  void ServeRebalances() {
    while (!rebalances_.empty()) {
      Rebalance r = std::move(rebalances_.front());
      rebalances_.pop_front();
      if (r.revoke) {
        listener_->OnPartitionsRevoked(r.revoked.first, r.revoked.second);
        for (const auto& tp : r.revoked.first) assigned.erase({tp.topic, tp.partition});
        continue;
      }
      listener_->OnPartitionsAssigned(r.assign);
      for (const auto& tp : r.assign) {
        const int64_t end = cluster_.at(tp.topic, tp.partition).high();
        assigned[{tp.topic, tp.partition}].position =
            tp.offset == RD_KAFKA_OFFSET_END ? end : tp.offset;
      }
    }
  }

  FakeCluster& cluster_;
  common::RebalanceListener* listener_;
  FakeTopicHandles handles_;
  std::deque<Rebalance> rebalances_;
  bool closed_ = false;
};

class FakeTargetProducer : public TargetProducer {
 public:
  struct Sent {
    std::string topic;
    int32_t partition = 0;
    FakeRecord record;
    void* opaque = nullptr;
  };

  FakeTargetProducer(FakeCluster& cluster, DeliveryCallback on_delivery, FakeClock& clock)
      : cluster_(cluster), on_delivery_(std::move(on_delivery)), clock_(clock) {}
  // As a real producer's: what is still queued comes back purged, so every opaque is returned.
  ~FakeTargetProducer() override {
    PurgeAll();
    Poll(std::chrono::milliseconds(0));
  }

  // true: every record produced is accepted at the next Poll(). false: records wait for the
  // test's Ack()/Refuse().
  bool auto_ack = true;
  std::optional<std::string> fatal;  // FatalError()
  // Set: the next ProduceNoCopy() fails with it, as a local refusal (nothing is queued).
  std::optional<rd_kafka_resp_err_t> produce_error;
  std::deque<Sent> queued;  // produced, not yet answered

  // The first `n` queued records land in the target; their reports come at the next Poll().
  void Ack(size_t n) {
    for (; n > 0 && !queued.empty(); --n) {
      Sent s = std::move(queued.front());
      queued.pop_front();
      FakePartition& p = cluster_.at(s.topic, s.partition);
      reports_.push_back({s.opaque, RD_KAFKA_RESP_ERR_NO_ERROR, p.high(), false});
      p.records.push_back(std::move(s.record));
    }
  }
  // The target refuses the first `n` queued records for good (not persisted).
  void Refuse(size_t n, rd_kafka_resp_err_t err) {
    for (; n > 0 && !queued.empty(); --n) {
      reports_.push_back({queued.front().opaque, err, -1, true});
      queued.pop_front();
    }
  }

  rd_kafka_topic_t* TopicHandle(const std::string& topic) override { return handles_.Get(topic); }
  rd_kafka_resp_err_t ProduceNoCopy(rd_kafka_topic_t* topic, int32_t partition, const void* key,
                                    size_t key_len, const void* value, size_t value_len,
                                    int64_t timestamp_ms, rd_kafka_headers_t* headers,
                                    void* opaque) override {
    if (produce_error) return *std::exchange(produce_error, std::nullopt);
    const std::string& name = FakeTopicHandles::Name(topic);
    auto it = cluster_.topics.find(name);
    if (it == cluster_.topics.end() || partition >= static_cast<int32_t>(it->second.size())) {
      return RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
    }
    Sent s{name, partition, {}, opaque};
    if (key) s.record.key.assign(static_cast<const char*>(key), key_len);
    if (value) s.record.value.assign(static_cast<const char*>(value), value_len);
    s.record.timestamp_ms = timestamp_ms;
    s.record.headers = OwnHeaders(headers);
    queued.push_back(std::move(s));
    return RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  int Poll(std::chrono::milliseconds timeout) override {
    if (auto_ack && !purged_) Ack(queued.size());
    if (reports_.empty()) {
      clock_.Advance(timeout);  // a real producer would have waited that long
      return 0;
    }
    std::deque<Delivery> ready;
    ready.swap(reports_);
    for (const auto& d : ready) on_delivery_(d);
    return static_cast<int>(ready.size());
  }
  std::optional<std::string> FatalError() override { return fatal; }
  void PurgeAll() override {
    purged_ = true;
    for (const auto& s : queued) reports_.push_back({s.opaque, RD_KAFKA_RESP_ERR__PURGE_QUEUE});
    queued.clear();
  }

 private:
  FakeCluster& cluster_;
  DeliveryCallback on_delivery_;
  FakeClock& clock_;
  FakeTopicHandles handles_;
  std::deque<Delivery> reports_;
  bool purged_ = false;  // after PurgeAll() nothing more lands
};

class FakeTailScans : public TailScans {
 public:
  FakeTailScans(FakeCluster& cluster, std::string source, std::string target)
      : cluster_(cluster), source_(std::move(source)), target_(std::move(target)) {}

  std::vector<common::Result<TailScanResult>> ScanMany(const std::vector<TailScanRequest>& requests,
                                                       std::chrono::milliseconds) override {
    std::vector<common::Result<TailScanResult>> out;
    for (const auto& req : requests) {
      auto it = cluster_.topics.find(req.target_topic);
      if (it == cluster_.topics.end() || req.partition >= static_cast<int32_t>(it->second.size())) {
        out.push_back(common::Error{"UNKNOWN_TOPIC_OR_PART", req.target_topic});
        continue;
      }
      const FakePartition& p = it->second[static_cast<size_t>(req.partition)];
      TailScanResult r;
      r.watermarks = {p.low, p.high()};
      // The whole retained range even for find_last_only: the newest copy decides either way.
      const int64_t from = req.find_last_only ? p.low : std::max(req.from, p.low);
      for (int64_t o = from; o < p.high(); ++o) {
        auto prov = replication::LastProvenance(p.records[static_cast<size_t>(o)].headers.get());
        if (prov && IsFlowCopy(*prov, source_, target_, req)) {
          r.copied.push_back({common::SourceOffset(prov->offset), common::TargetOffset(o)});
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  FakeCluster& cluster_;
  std::string source_, target_;
};

class FakeFlowClaim : public FlowClaim {
 public:
  common::Status Prepare() override { return common::Status::Ok(); }
  FlowLease::Verdict Poll(int64_t) override { return FlowLease::Verdict::kOwned; }
  const std::string& owner() const override { return owner_; }

 private:
  std::string owner_;
};

// The two clusters, the clock, and the clients of the flow built over them.
class FakeKafka {
 public:
  FakeCluster source, target;
  FakeClock clock;
  // Set when the flow is built; owned by the flow.
  FakeSourceConsumer* consumer = nullptr;
  FakeTargetProducer* producer = nullptr;

  FlowClientFactory Factory() {
    return [this](const FlowClientSettings& s) {
      FlowClients c;
      auto consumer_fake = std::make_unique<FakeSourceConsumer>(source, s.listener);
      auto producer_fake = std::make_unique<FakeTargetProducer>(target, s.on_delivery, clock);
      consumer = consumer_fake.get();
      producer = producer_fake.get();
      c.consumer = std::move(consumer_fake);
      c.producer = std::move(producer_fake);
      c.source_admin = std::make_unique<FakeTopicAdmin>(source);
      c.target_admin = std::make_unique<FakeTopicAdmin>(target);
      c.scanner = std::make_unique<FakeTailScans>(target, s.source_cluster, s.target_cluster);
      c.claim = std::make_unique<FakeFlowClaim>();
      c.now = [this] { return clock.now(); };
      return c;
    };
  }
};

}  // namespace rm::mirror::testing
