#include "common/kafka_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <vector>

#include "common/log.h"

namespace rm::common {
namespace {

int TimeoutMs(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }

// Handles that must not be destroyed (Consumer::~Consumer) stay reachable from here until the
// process exits: kept on purpose, not lost, which is also what LeakSanitizer then sees. The
// list is allocated once and never freed, so no exit-time destructor empties it before the
// leak check runs.
void KeepForTheProcessLifetime(rd_kafka_t* rk) {
  static std::mutex mutex;
  static auto* kept = new std::vector<rd_kafka_t*>();
  std::lock_guard lock(mutex);
  kept->push_back(rk);
}

Status ToStatus(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return KafkaError(err, what);
}

Status ToStatus(rd_kafka_error_t* error, std::string_view what) {
  if (error == nullptr) return Status::Ok();
  Error e{rd_kafka_err2name(rd_kafka_error_code(error)),
          fmt::format("{}: {}", what, rd_kafka_error_string(error))};
  rd_kafka_error_destroy(error);
  return e;
}

// Errors after which the partition's leader (or its epoch) must be learned again.
bool LeaderIsStale(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

}  // namespace

Error KafkaError(rd_kafka_resp_err_t err, std::string_view what) {
  return Error{rd_kafka_err2name(err), fmt::format("{}: {}", what, rd_kafka_err2str(err))};
}

Result<ClusterMetadata> KafkaClient::Metadata(std::optional<std::string> topic,
                                              std::chrono::milliseconds timeout) const {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = nullptr;
  if (topic) rkt = rd_kafka_topic_new(rk_.get(), topic->c_str(), nullptr);
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk_.get(), topic ? 0 : 1, rkt, &md, TimeoutMs(timeout));
  if (rkt) rd_kafka_topic_destroy(rkt);
  if (err) return KafkaError(err, fmt::format("{}: metadata request", context_));
  ClusterMetadata out;
  for (int i = 0; i < md->broker_cnt; ++i) {
    out.brokers.push_back({md->brokers[i].id, md->brokers[i].host, md->brokers[i].port});
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    TopicMetadata tm{t.topic, {}, t.err};
    for (int p = 0; p < t.partition_cnt; ++p) {
      tm.partitions.push_back({t.partitions[p].id, t.partitions[p].leader, t.partitions[p].err});
    }
    out.topics.push_back(std::move(tm));
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

// librdkafka 2.0.2 answers ListOffsets from its metadata cache of leaders, and after
// NOT_LEADER_FOR_PARTITION it refreshes only the topics the handle "knows" (has topic objects
// for), which a handle that only asks watermarks does not: the stale leader then stays cached
// for metadata.max.age.ms (15 minutes by default) and every query fails, as a flow's tail scan
// did after a leader move in the fault schedule. Asking the topic's metadata explicitly
// replaces the cached entry (later librdkafka versions drop it themselves).
void KafkaClient::RelearnLeaders(const std::vector<std::string>& topics,
                                 std::chrono::steady_clock::time_point deadline) const {
  for (const auto& topic : topics) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) return;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
    if (!rkt) continue;
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk_.get(), 0, rkt, &md, TimeoutMs(left)) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
  }
}

Result<Watermarks> KafkaClient::QueryWatermarks(const std::string& topic, int32_t partition,
                                                std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Watermarks w;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition,
                                                             &w.low, &w.high, TimeoutMs(timeout));
  if (LeaderIsStale(err)) {
    RelearnLeaders({topic}, deadline);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left > std::chrono::milliseconds(0)) {
      err = rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, &w.low, &w.high,
                                             TimeoutMs(left));
    }
  }
  if (err) {
    return KafkaError(err, fmt::format("{}: watermarks of {}[{}]", context_, topic, partition));
  }
  return w;
}

Result<std::vector<Result<Watermarks>>> KafkaClient::QueryWatermarks(
    const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) const {
  std::vector<Result<Watermarks>> out(partitions.size(), Watermarks{});
  if (partitions.empty()) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // ListOffsets with the timestamps -2 and -1 answers the first and the next offset, as
  // rd_kafka_query_watermark_offsets asks them, but for every partition in one request.
  for (int64_t end : {static_cast<int64_t>(RD_KAFKA_OFFSET_BEGINNING),
                      static_cast<int64_t>(RD_KAFKA_OFFSET_END)}) {
    std::vector<TopicPartition> ask = partitions;
    for (auto& tp : ask) tp.offset = end;
    PartitionListPtr list = ToPartitionList(ask);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
        rk_.get(), list.get(), TimeoutMs(std::max(left, std::chrono::milliseconds(1))));
    if (LeaderIsStale(err)) {
      // One partition's moved leader fails the whole request: learn the leaders again (see
      // RelearnLeaders) and ask once more within the same deadline.
      std::vector<std::string> topics;
      for (const auto& tp : partitions) topics.push_back(tp.topic);
      std::sort(topics.begin(), topics.end());
      topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
      RelearnLeaders(topics, deadline);
      for (int i = 0; i < list->cnt; ++i) {
        list->elems[i].offset = end;
        list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left > std::chrono::milliseconds(0)) {
        err = rd_kafka_offsets_for_times(rk_.get(), list.get(), TimeoutMs(left));
      }
    }
    if (err) {
      return KafkaError(
          err, fmt::format("{}: watermarks of {} partitions", context_, partitions.size()));
    }
    for (size_t i = 0; i < partitions.size(); ++i) {
      if (!out[i].ok()) continue;
      const auto& tp = partitions[i];
      const rd_kafka_topic_partition_t* e =
          rd_kafka_topic_partition_list_find(list.get(), tp.topic.c_str(), tp.partition);
      if (!e || e->err || e->offset < 0) {
        out[i] =
            KafkaError(e && e->err ? e->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
                       fmt::format("{}: watermarks of {}[{}]", context_, tp.topic, tp.partition));
        continue;
      }
      (end == RD_KAFKA_OFFSET_BEGINNING ? out[i]->low : out[i]->high) = e->offset;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Producer

QueueWakeup::QueueWakeup() {
  if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot create a wakeup pipe");
  }
}

QueueWakeup::~QueueWakeup() {
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
}

void QueueWakeup::Clear() {
  char buf[256];
  while (read(fds_[0], buf, sizeof(buf)) > 0) {
  }
}

bool QueueWakeup::Wait(std::chrono::milliseconds timeout) {
  pollfd p{fds_[0], POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

Producer::Producer(const KafkaProperties& props, DeliveryCallback on_delivery,
                   std::string_view context)
    : KafkaClient(context), on_delivery_(std::move(on_delivery)) {
  RdKafkaConfPtr conf = BuildKafkaConf(props, context);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::OnDeliveryTrampoline);
  rk_ = CreateKafkaHandle(RD_KAFKA_PRODUCER, std::move(conf), context);
}

rd_kafka_topic_t* Producer::TopicHandle(const std::string& topic) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) return it->second;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
  topics_[topic] = rkt;
  return rkt;
}

void Producer::SignalReports(QueueWakeup& wakeup) {
  static const char kByte = 1;
  if (!signalling_) signalling_ = rd_kafka_queue_get_main(rk_.get());
  rd_kafka_queue_io_event_enable(signalling_, wakeup.write_fd(), &kByte, 1);
}

Producer::~Producer() {
  if (signalling_) {
    rd_kafka_queue_io_event_enable(signalling_, -1, nullptr, 0);
    rd_kafka_queue_destroy(signalling_);
  }
  // Serve what is already reported so callbacks see every record they were promised;
  // records still in flight after this are dropped with the handle (their callbacks fire
  // from rd_kafka_destroy's purge, which is why on_delivery_ must still be valid here).
  if (rk_) {
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_.get(), 0);
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    rk_.reset();
  }
}

void Producer::OnDeliveryTrampoline(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (self->on_delivery_) self->on_delivery_(*msg);
}

rd_kafka_resp_err_t Producer::Produce(const ProduceRecord& r, void* opaque) {
  rd_kafka_headers_t* hdrs = r.headers.empty() ? nullptr : MakeHeaders(r.headers);
  rd_kafka_resp_err_t err =
      ProduceVu(TopicHandle(std::string(r.topic)), r.partition, r.key ? r.key->data() : nullptr,
                r.key ? r.key->size() : 0, r.value ? r.value->data() : nullptr,
                r.value ? r.value->size() : 0, r.timestamp_ms, hdrs, opaque, RD_KAFKA_MSG_F_COPY);
  if (err && hdrs) rd_kafka_headers_destroy(hdrs);
  return err;
}

rd_kafka_resp_err_t Producer::ProduceNoCopy(std::string_view topic, int32_t partition,
                                            const void* key, size_t key_len, const void* value,
                                            size_t value_len, int64_t timestamp_ms,
                                            rd_kafka_headers_t* headers, void* opaque) {
  return ProduceNoCopy(TopicHandle(std::string(topic)), partition, key, key_len, value, value_len,
                       timestamp_ms, headers, opaque);
}

rd_kafka_resp_err_t Producer::ProduceNoCopy(rd_kafka_topic_t* topic, int32_t partition,
                                            const void* key, size_t key_len, const void* value,
                                            size_t value_len, int64_t timestamp_ms,
                                            rd_kafka_headers_t* headers, void* opaque) {
  return ProduceVu(topic, partition, key, key_len, value, value_len, timestamp_ms, headers, opaque,
                   0);
}

rd_kafka_resp_err_t Producer::ProduceVu(rd_kafka_topic_t* topic, int32_t partition, const void* key,
                                        size_t key_len, const void* value, size_t value_len,
                                        int64_t timestamp_ms, rd_kafka_headers_t* headers,
                                        void* opaque, int msgflags) {
  rd_kafka_vu_t vus[9];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = topic;
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = partition;
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = msgflags;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = const_cast<void*>(key);
  vus[n++].u.mem.size = key_len;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = const_cast<void*>(value);
  vus[n++].u.mem.size = value_len;
  if (timestamp_ms) {
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[n++].u.i64 = timestamp_ms;
  }
  if (headers) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[n++].u.headers = headers;
  }
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = opaque;
  rd_kafka_error_t* error = rd_kafka_produceva(rk_.get(), vus, n);
  if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t err = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return err;  // headers stay owned by the caller on failure
}

int Producer::Poll(std::chrono::milliseconds timeout) {
  return rd_kafka_poll(rk_.get(), TimeoutMs(timeout));
}

Status Producer::Flush(std::chrono::milliseconds timeout) {
  return ToStatus(rd_kafka_flush(rk_.get(), TimeoutMs(timeout)), context_ + ": flush");
}

// ---------------------------------------------------------------------------------------------
// Consumer

Consumer::Consumer(const KafkaProperties& props, RebalanceListener* listener,
                   std::string_view context)
    : KafkaClient(context), listener_(listener) {
  RdKafkaConfPtr conf = BuildKafkaConf(props, context);
  if (auto it = props.find("partition.assignment.strategy"); it != props.end()) {
    cooperative_sticky_ = it->second.find("cooperative-sticky") != std::string::npos;
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::OnRebalanceTrampoline);
  rk_ = CreateKafkaHandle(RD_KAFKA_CONSUMER, std::move(conf), context);
  // All events (including rebalances) are served by Consumer::Poll.
  rd_kafka_poll_set_consumer(rk_.get());
  queue_ = rd_kafka_queue_get_consumer(rk_.get());
}

void Consumer::SignalMessages(QueueWakeup& wakeup) {
  static const char kByte = 1;
  rd_kafka_queue_io_event_enable(queue_, wakeup.write_fd(), &kByte, 1);
  signalling_ = true;
}

Consumer::~Consumer() {
  // Before Close(): the wakeup may be gone by the time a leaked handle (below) enqueues again.
  if (signalling_) rd_kafka_queue_io_event_enable(queue_, -1, nullptr, 0);
  Close();
  if (queue_) rd_kafka_queue_destroy(queue_);
  if (cooperative_sticky_ && !ever_assigned_ && rd_kafka_version() < 0x020300ff) {
    RM_LOG_DEBUG(
        "{}: not destroying a cooperative-sticky consumer that was never assigned "
        "partitions (librdkafka < 2.3.0 asserts there)",
        context_);
    KeepForTheProcessLifetime(rk_.release());
  }
}

void Consumer::Close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get());
  if (err) RM_LOG_WARN("{}: consumer close: {}", context_, rd_kafka_err2str(err));
}

void Consumer::OnRebalanceTrampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Consumer*>(opaque)->OnRebalance(err, partitions);
}

void Consumer::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    ever_assigned_ = true;
    std::vector<TopicPartition> tps = FromPartitionList(partitions);
    if (listener_) listener_->OnPartitionsAssigned(tps);
    PartitionListPtr list = ToPartitionList(tps);
    Status st = cooperative
                    ? ToStatus(rd_kafka_incremental_assign(rk_.get(), list.get()),
                               context_ + ": incremental assign")
                    : ToStatus(rd_kafka_assign(rk_.get(), list.get()), context_ + ": assign");
    if (!st.ok()) RM_LOG_ERROR("{}", st.error().message);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    if (listener_) {
      listener_->OnPartitionsRevoked(FromPartitionList(partitions),
                                     rd_kafka_assignment_lost(rk_.get()) != 0);
    }
    Status st = cooperative
                    ? ToStatus(rd_kafka_incremental_unassign(rk_.get(), partitions),
                               context_ + ": incremental unassign")
                    : ToStatus(rd_kafka_assign(rk_.get(), nullptr), context_ + ": unassign");
    if (!st.ok()) RM_LOG_ERROR("{}", st.error().message);
    return;
  }
  RM_LOG_ERROR("{}: rebalance error: {}", context_, rd_kafka_err2str(err));
  if (cooperative) {
    ToStatus(rd_kafka_incremental_unassign(rk_.get(), partitions), "unassign").PermitUnchecked();
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), -1);
  return ToStatus(rd_kafka_subscribe(rk_.get(), list.get()), context_ + ": subscribe");
}

Status Consumer::Assign(const std::vector<TopicPartition>& partitions) {
  return ToStatus(rd_kafka_assign(rk_.get(), ToPartitionList(partitions).get()),
                  context_ + ": assign");
}

Status Consumer::IncrementalAssign(const std::vector<TopicPartition>& partitions) {
  return ToStatus(rd_kafka_incremental_assign(rk_.get(), ToPartitionList(partitions).get()),
                  context_ + ": incremental assign");
}

Status Consumer::IncrementalUnassign(const std::vector<TopicPartition>& partitions) {
  return ToStatus(rd_kafka_incremental_unassign(rk_.get(), ToPartitionList(partitions).get()),
                  context_ + ": incremental unassign");
}

Result<std::vector<TopicPartition>> Consumer::Assignment() const {
  rd_kafka_topic_partition_list_t* list = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_assignment(rk_.get(), &list);
  PartitionListPtr owned(list);
  if (err) return KafkaError(err, context_ + ": assignment");
  return FromPartitionList(list);
}

KafkaMessage Consumer::Poll(std::chrono::milliseconds timeout) {
  return KafkaMessage(rd_kafka_consumer_poll(rk_.get(), TimeoutMs(timeout)));
}

size_t Consumer::PollBatch(std::chrono::milliseconds timeout, size_t max,
                           std::vector<KafkaMessage>* out) {
  rd_kafka_message_t* batch[1024];
  max = std::min(max, sizeof(batch) / sizeof(batch[0]));
  ssize_t n = rd_kafka_consume_batch_queue(queue_, TimeoutMs(timeout), batch, max);
  if (n <= 0) return 0;
  for (ssize_t i = 0; i < n; ++i) out->emplace_back(batch[i]);
  return static_cast<size_t>(n);
}

Status Consumer::Commit(const std::vector<TopicPartition>& offsets, bool async) {
  PartitionListPtr list = ToPartitionList(offsets);
  Status st =
      ToStatus(rd_kafka_commit(rk_.get(), list.get(), async ? 1 : 0), context_ + ": commit");
  if (!st.ok() || async) return st;
  // A synchronous commit reports per partition (e.g. a member the group no longer knows).
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      return KafkaError(list->elems[i].err,
                        fmt::format("{}: commit of {}[{}]", context_, list->elems[i].topic,
                                    list->elems[i].partition));
    }
  }
  return st;
}

Result<std::vector<TopicPartition>> Consumer::Committed(std::vector<TopicPartition> partitions,
                                                        std::chrono::milliseconds timeout) const {
  PartitionListPtr list = ToPartitionList(partitions);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), TimeoutMs(timeout));
  if (err) return KafkaError(err, context_ + ": committed offsets");
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      return KafkaError(list->elems[i].err,
                        fmt::format("{}: committed offset of {}[{}]", context_,
                                    list->elems[i].topic, list->elems[i].partition));
    }
  }
  return FromPartitionList(list.get());
}

Status Consumer::Pause(const std::vector<TopicPartition>& partitions) {
  return ToStatus(rd_kafka_pause_partitions(rk_.get(), ToPartitionList(partitions).get()),
                  context_ + ": pause");
}

Status Consumer::Resume(const std::vector<TopicPartition>& partitions) {
  return ToStatus(rd_kafka_resume_partitions(rk_.get(), ToPartitionList(partitions).get()),
                  context_ + ": resume");
}

Status Consumer::Seek(const TopicPartition& position, std::chrono::milliseconds timeout) {
  PartitionListPtr list = ToPartitionList({position});
  return ToStatus(rd_kafka_seek_partitions(rk_.get(), list.get(), TimeoutMs(timeout)),
                  context_ + ": seek");
}

// ---------------------------------------------------------------------------------------------
// Headers

rd_kafka_headers_t* MakeHeaders(const std::vector<KafkaHeader>& headers) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(headers.size());
  for (const auto& kh : headers) {
    rd_kafka_header_add(h, kh.key.data(), static_cast<ssize_t>(kh.key.size()),
                        kh.value ? kh.value->data() : nullptr,
                        kh.value ? static_cast<ssize_t>(kh.value->size()) : 0);
  }
  return h;
}

std::vector<KafkaHeader> ReadHeaders(const rd_kafka_message_t& msg) {
  std::vector<KafkaHeader> out;
  rd_kafka_headers_t* h = nullptr;
  if (rd_kafka_message_headers(&msg, &h) != RD_KAFKA_RESP_ERR_NO_ERROR || h == nullptr) return out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &value, &size) == 0; ++i) {
    KafkaHeader kh{name, std::nullopt};
    if (value) kh.value = std::string(static_cast<const char*>(value), size);
    out.push_back(std::move(kh));
  }
  return out;
}

}  // namespace rm::common
