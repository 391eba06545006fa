// One replication flow (source cluster -> target cluster): discovery, consume, produce,
// in-order completion, commits, resume from the target's tail.
//
// Data path (DESIGN.md): source consumer (group protocol, cooperative) -> per-record produce
// to the same partition of the remote topic, handing the consumer's buffers to the producer
// without copying -> delivery reports -> per-partition CompletionTracker -> (a) source offset
// commits, (b) DeliverySink (offset map runs), (c) metrics.
//
// Guarantees: a source position is committed, and reported to the sink, only after every
// record before it is acknowledged by the target (acks=all, idempotent producer). On
// assignment, the resume position comes from the provenance headers at the target
// partition's tail, not from the commit; so a kill -9 at any instant neither loses nor
// duplicates. In-flight records are capped per partition, per flow and in bytes: a slow or
// dead target pauses source partitions instead of growing memory.
//
// Lifecycle: construct (creates clients; throws ConfigError for bad client settings), Run()
// on a dedicated thread until `stop` is set, then it drains in-flight records (up to the
// drain timeout), commits and leaves the group. Run() returns an error status when the flow
// cannot continue (e.g. fatal producer error); the caller may build a new Flow, which resumes
// exactly from the target. Threading: everything but Health() runs on the Run() thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "common/offset_types.h"
#include "mirror/completion_tracker.h"
#include "mirror/flow_clients.h"
#include "mirror/flow_lease.h"
#include "mirror/probe.h"
#include "mirror/tail_scanner.h"
#include "mirror/target_topics.h"
#include "offsets/delivery_sink.h"
#include "offsets/flow_hooks.h"
#include "replication/config.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"

namespace rm::mirror {

// Per source partition (topic, partition), the first offset the target refused.
using RefusedOffsets = std::map<std::pair<std::string, int32_t>, common::SourceOffset>;

class Flow : public common::RebalanceListener {
 public:
  // `sink` may be null (no offset map); it must outlive the flow. So may `hooks` (told the
  // source log start of assigned partitions, for pruning the offset map).
  //
  // `refused` carries, from a previous Flow of the same configuration that stopped on an
  // error, the first source offset per partition that the target refused (see Refused()):
  // a partition assigned again never resumes above it.
  //
  // `clients` builds the Kafka clients (flow_clients.h); unit tests pass fakes.
  Flow(const replication::MirrorConfig& config, const replication::FlowConfig& flow,
       offsets::DeliverySink* sink, prometheus::Registry& registry,
       offsets::OffsetsFlowHooks* hooks = nullptr, RefusedOffsets refused = {},
       const FlowClientFactory& clients = MakeKafkaFlowClients);
  ~Flow() override;

  // Start(), then Step() until `stop` or a fatal producer error, then Finish().
  common::Status Run(const std::atomic<bool>& stop);

  // Run() in its parts, for unit tests that drive a flow over fake clients one turn at a
  // time. Start: claims the flow (false if `stop` came first: the flow is closed then),
  // discovers topics and subscribes. Step: one turn of the loop (consume, produce, reports,
  // back-pressure, resync, timers); true while the flow should go on. Finish: drains what is
  // in flight, commits, leaves the group; the error that ended the flow, if any.
  bool Start(const std::atomic<bool>& stop);
  bool Step();
  common::Status Finish();

  // "" when healthy, otherwise why not. Thread-safe.
  std::string Health() const;
  // Per source partition, the first offset whose copy the target refused and that has not
  // been copied since. Read after Run() returned, to hand to the next Flow.
  RefusedOffsets Refused() const;
  const std::string& name() const { return name_; }
  MirrorProbe& probe() { return probe_; }

  // RebalanceListener (called inside consumer poll, on the Run() thread).
  void OnPartitionsAssigned(std::vector<common::TopicPartition>& partitions) override;
  void OnPartitionsRevoked(const std::vector<common::TopicPartition>& partitions,
                           bool lost) override;

 private:
  struct PartitionState;
  struct InFlight;
  struct TopicState {
    std::string target;  // remote topic name
    int partitions = 0;
    std::string error;  // non-empty: this topic is stopped
    // Non-empty: residency forbids a copy in the target (FlowConfig::placement says why). Its
    // records are read and counted but never produced, and its remote topic is never created.
    std::string refused;
  };

  void Refresh();
  void UpdateSubscription();
  // Resume positions of newly assigned (or failed) partitions, answer i for parts[i] (see
  // flow.cc for the rules).
  std::vector<common::Result<common::SourceOffset>> ResumePositions(
      const std::vector<PartitionState*>& parts);
  // Raises, through the source group's coordinator, the owner mark of every partition the
  // batch goes past (see mirror/ownership.h); a partition whose mark cannot be raised (this
  // member lost it, or a rebalance is under way) copies nothing more of the batch and resyncs.
  void Reserve(const std::vector<SourceRecord>& batch);
  // The owner mark committed with `ps`'s offsets.
  std::string MarkOf(const PartitionState& ps) const;
  void HandleMessage(SourceRecord msg);
  void HandleOutOfRange(const std::string& topic, int32_t partition, int64_t offset);
  void OnDelivery(const Delivery& d);
  void DrainCompleted();
  void ApplyBackpressure();
  void ResyncFailed();
  void CommitOffsets(bool sync);
  void UpdateLag();
  // Tells the flow's placement how far behind each copy is (FlowPlacement::OnCopyLag).
  void ReportCopyLag();
  // Waits for in-flight records (serving delivery reports) up to `timeout`.
  bool WaitInflight(std::chrono::milliseconds timeout, const std::function<bool()>& done);
  void ReleasePartitions(const std::vector<common::TopicPartition>& partitions, bool lost);
  void SetHealth(const std::string& key, const std::string& problem);
  // A record the target refused (delivery report error or local produce error): the
  // partition resyncs and never resumes above `offset`; health and metrics say so.
  void OnRefused(PartitionState& ps, int64_t offset, rd_kafka_resp_err_t err);
  // True once the producer raised a fatal error (fatal_error_ then says why).
  bool ProducerFailed();
  // Waits until this instance's group owns the flow (FlowLease) or `stop`; false on stop.
  bool AcquireFlow(const std::atomic<bool>& stop);
  // Renews the claim; sets fatal_error_ if another group took the flow over.
  void KeepFlow();

  const replication::MirrorConfig& config_;
  const replication::FlowConfig flow_;
  const std::string name_;
  offsets::DeliverySink* sink_;
  offsets::OffsetsFlowHooks* hooks_;
  MirrorProbe probe_;
  std::unique_ptr<replication::ReplicationPolicy> policy_;
  replication::TopicFilter filter_;
  common::KafkaProperties source_props_, target_props_;

  // Declared before the clients so it outlives them: they signal it.
  common::QueueWakeup wakeup_;
  // Null with fake clients; declared before what refers to them, so destroyed after.
  std::unique_ptr<common::AdminClient> source_admin_, target_admin_;
  std::unique_ptr<TargetProducer> producer_;
  std::unique_ptr<SourceConsumer> consumer_;
  std::unique_ptr<TopicAdmin> source_topic_admin_, target_topic_admin_;
  std::unique_ptr<TargetTopics> target_topics_;
  std::unique_ptr<TailScans> scanner_;
  std::unique_ptr<FlowClaim> lease_;
  std::function<std::chrono::steady_clock::time_point()> now_;  // FlowClients::now
  std::string group_id_;

  std::map<std::string, TopicState> topics_;  // by source topic
  std::vector<std::string> subscribed_;
  bool in_rebalance_ = false;
  bool subscription_dirty_ = false;

  std::map<std::pair<std::string, int32_t>, std::shared_ptr<PartitionState>> partitions_;
  // Partitions lost with records still in flight: assigned again, they wait until those
  // landed or failed, or the tail would be read before them.
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<PartitionState>> lost_inflight_;
  // Per partition taken over from an owner that did not release it: the owner mark waited for,
  // and when the wait ends. Kept while that mark is the group's (across resyncs, losses and
  // assignments), so one mark costs at most one mirror.takeover_wait_ms.
  struct TakeoverWait {
    std::string instance;
    int64_t reserved = -1;
    std::chrono::steady_clock::time_point deadline;
    bool timed_out = false;  // said so once
  };
  std::map<std::pair<std::string, int32_t>, TakeoverWait> takeovers_;
  // Fast path: librdkafka topic handle + partition -> state.
  struct HandleKey {
    const rd_kafka_topic_t* rkt;
    int32_t partition;
    bool operator==(const HandleKey&) const = default;
  };
  struct HandleKeyHash {
    size_t operator()(const HandleKey& k) const {
      return std::hash<const void*>()(k.rkt) * 31 + static_cast<size_t>(k.partition);
    }
  };
  std::unordered_map<HandleKey, std::shared_ptr<PartitionState>, HandleKeyHash> by_handle_;
  // Reused InFlight records: the data path allocates nothing per record in steady state.
  std::vector<InFlight*> free_inflight_;
  InFlight* NewInFlight();
  void FreeInFlight(InFlight* f);
  int64_t now_ms_ = 0;      // wall clock, read once per batch
  bool delivered_ = false;  // a delivery report arrived since last_delivery_ was set

  int64_t inflight_records_ = 0;
  int64_t inflight_bytes_ = 0;
  bool all_paused_ = false;
  bool resync_needed_ = false;
  std::string fatal_error_;
  std::string first_refusal_;  // "topic[p] source offset N (error)": the cause of a fatal error
  // Refusals carried over from a previous Flow (see the constructor), applied on the first
  // assignment; after a fatal error, the refusals of partitions released while leaving.
  RefusedOffsets carried_refused_;
  const std::atomic<bool>* stop_ = nullptr;
  std::vector<SourceRecord> batch_;  // Step()'s, reused

  std::chrono::steady_clock::time_point next_refresh_{}, next_commit_{}, next_checkpoint_{},
      next_lag_{}, next_lease_{};
  // How often UpdateLag runs: 5 s, or the placement's lag report interval when shorter.
  std::chrono::milliseconds lag_interval_;
  std::chrono::steady_clock::time_point last_delivery_ = std::chrono::steady_clock::now();

  mutable std::mutex health_mu_;
  std::map<std::string, std::string> health_problems_;
};

}  // namespace rm::mirror
