#include "mirror/flow.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <thread>

#include "common/log.h"
#include "mirror/flow_transforms.h"
#include "mirror/ownership.h"
#include "replication/provenance.h"

namespace rm::mirror {

using common::Error;
using common::Result;
using common::SourceOffset;
using common::Status;
using common::TargetOffset;
using common::TopicPartition;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kAdminTimeout = 5000ms;
constexpr auto kScanTimeout = 60000ms;
constexpr auto kSourceResetConfirm = 3000ms;

std::string RefusalKey(const std::string& topic, int32_t partition) {
  return fmt::format("refused:{}[{}]", topic, partition);
}

std::string TakeoverKey(const std::string& topic, int32_t partition) {
  return fmt::format("takeover:{}[{}]", topic, partition);
}

std::string ScanKey(const std::string& topic, int32_t partition) {
  return fmt::format("scan:{}[{}]", topic, partition);
}

// The tail scan hit its bounds (TailScanLimits): retried seldom, and said in /healthz.
bool IsScanBound(const Error& e) {
  return e.code == "mirror.tail_scan_bound" || e.code == "mirror.tail_timeout";
}

// What two deployments must not both copy: the flow and its topic selection. Deployments of
// one cluster pair with different topic sets (one process per set) are not the same flow.
std::string FlowLeaseKey(const replication::FlowConfig& f) {
  std::string what =
      fmt::format("{}|{}|{}|{}", fmt::join(f.topics, ","), fmt::join(f.topics_exclude, ","),
                  static_cast<int>(f.policy), f.separator);
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: the same on every host and build
  for (unsigned char ch : what) h = (h ^ ch) * 1099511628211ULL;
  return fmt::format("{} {:016x}", f.name(), h);
}

// What the target says about a partition being resumed (Flow::ResumePositions).
struct TargetSide {
  std::optional<CopiedRecord> last;     // the newest copy of this flow found there
  std::optional<CopiedRecord> durable;  // the offset map's last durable copy
  bool report_all = false;              // durable state or a recorded fresh start
  bool lost = false;                    // the target lost copies the map knows of
  TargetOffset low{0};                  // the target partition's log start
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Flow::PartitionState {
  std::string topic;
  int32_t partition = 0;
  std::string target_topic;
  rd_kafka_topic_t* target_rkt = nullptr;  // producer's handle for target_topic
  offsets::PartitionKey key;
  std::unique_ptr<CompletionTracker> tracker;
  uint32_t epoch = 0;
  int64_t inflight = 0;            // records of this partition awaiting a delivery report
  bool paused = false;             // paused by this partition's back-pressure
  bool failed = false;             // needs a resync from the target's tail
  bool pause_for_failure = false;  // failed and not yet paused at the consumer
  bool released = false;           // revoked: reports still arriving are ignored
  // The first source offset of this partition that the target refused, -1 if none since the
  // last resync. The next resume position is never above it: with librdkafka's gapless
  // guarantee nothing after a refused batch lands, and if anything did (a gap), copying again
  // from here duplicates it instead of losing the refused records.
  SourceOffset first_refused;
  bool refusal_reported = false;  // health names the refusal until a copy lands again
  // Residency forbids copies of this topic in the target (TopicState::refused): no target
  // topic, no scan of it; each record is skipped and counted.
  bool residency_refused = false;
  // Timestamp of the newest record the target acknowledged, -1 before the first.
  int64_t last_copied_timestamp_ms = -1;
  int64_t last_committed = -1;
  // The highest source offset this flow may hand to the producer: the group coordinator
  // accepted a commit carrying it as our owner mark (-1: nothing yet). Never exceeded, so the
  // next owner knows from the last mark how far our records may still arrive.
  int64_t reserved = -1;
  bool releasing = false;         // being released: the last commit says so if nothing is in flight
  bool takeover_waiting = false;  // waiting for the previous owner's records (Flow::takeovers_)
  // The source partition was first seen ending below what was copied from it.
  std::optional<Clock::time_point> source_behind_since;
  Clock::time_point retry_at{};
  // Delivered since the metrics were last updated (pushed once per loop, not per record).
  int64_t copied_records = 0;
  int64_t copied_bytes = 0;
};

struct Flow::InFlight {
  SourceRecord msg;  // keeps the consumer's buffer alive for the zero-copy produce
  std::shared_ptr<PartitionState> ps;
  uint64_t slot = 0;
  uint32_t epoch = 0;
  int64_t bytes = 0;
  int64_t timestamp_ms = -1;
};

Flow::Flow(const replication::MirrorConfig& config, const replication::FlowConfig& flow,
           offsets::DeliverySink* sink, prometheus::Registry& registry,
           offsets::OffsetsFlowHooks* hooks, RefusedOffsets refused,
           const FlowClientFactory& clients)
    : config_(config),
      flow_(flow),
      name_(flow.name()),
      sink_(sink),
      hooks_(hooks),
      probe_(registry, flow.name()),
      policy_(replication::MakeReplicationPolicy(flow.policy, flow.separator)),
      filter_(flow_, *policy_),
      carried_refused_(std::move(refused)),
      lag_interval_(flow.placement ? std::min<std::chrono::milliseconds>(
                                         5s, flow.placement->LagReportInterval())
                                   : 5s) {
  // A rebuilt flow keeps saying what the target refused until a copy lands again, so /healthz
  // does not flap back to ok between rebuilds while a record is refused for good.
  for (const auto& [tp, offset] : carried_refused_) {
    SetHealth(RefusalKey(tp.first, tp.second),
              fmt::format("{}[{}] source offset {} was refused by the target {}; copying again",
                          tp.first, tp.second, offset.value(), flow.target));
  }
  const replication::ClusterConfig* src = config.FindCluster(flow.source);
  const replication::ClusterConfig* dst = config.FindCluster(flow.target);
  if (!src || !dst) throw common::ConfigError(fmt::format("flow {}: unknown cluster", name_));

  source_props_ = src->ClientProperties();
  target_props_ = dst->ClientProperties();

  // Consumer: defaults an operator may override, then the settings the guarantees rest on.
  common::KafkaProperties cprops = source_props_;
  cprops["partition.assignment.strategy"] = "cooperative-sticky";
  cprops["isolation.level"] = "read_committed";
  cprops["fetch.wait.max.ms"] = "50";
  // librdkafka 2.0.2 stops fetching a partition once the consumer queue holds
  // queued.min.messages records (or queued.max.messages.kbytes), and its broker thread then
  // sleeps up to a second before it looks again, however soon we drain the queue. With the
  // default (100000) the mirror idled half of the time in a backlog; a queue that holds more
  // than a second of copying keeps it busy (a 400k-record backlog on the testbed copied 1.5x to
  // 1.8x faster, peak RSS under 200 MB). Memory stays bounded by these two numbers.
  cprops["queued.min.messages"] = "500000";
  cprops["queued.max.messages.kbytes"] = "131072";
  cprops["session.timeout.ms"] = "10000";
  cprops["client.id"] = "regionmirror-" + name_;
  // The group notices new partitions of subscribed topics from the consumer's own metadata:
  // refresh it as often as discovery runs, so growth is mirrored within one interval.
  cprops["topic.metadata.refresh.interval.ms"] = std::to_string(config.mirror.refresh_interval_ms);
  for (const auto& [k, v] : config.mirror.consumer) cprops[k] = v;
  for (const auto& [k, v] : flow.consumer) cprops[k] = v;
  group_id_ = config.mirror.group_prefix + "." + name_;
  cprops["group.id"] = group_id_;
  cprops["enable.auto.commit"] = "false";
  cprops["enable.auto.offset.store"] = "false";
  cprops["auto.offset.reset"] = "error";  // never skip silently: see HandleOutOfRange

  common::KafkaProperties pprops = target_props_;
  pprops["linger.ms"] = "5";
  pprops["batch.num.messages"] = "10000";
  pprops["queue.buffering.max.messages"] = "2000000";
  pprops["queue.buffering.max.kbytes"] = "2097151";
  pprops["client.id"] = "regionmirror-" + name_;
  for (const auto& [k, v] : config.mirror.producer) pprops[k] = v;
  for (const auto& [k, v] : flow.producer) pprops[k] = v;
  pprops["enable.idempotence"] = "true";
  pprops["acks"] = "all";
  // Retry until delivered: a dead target pauses the source instead. Forced, because the
  // gapless guarantee below does not cover records that time out.
  pprops["message.timeout.ms"] = "0";
  // Without it, librdkafka answers a batch the target refuses for good by bumping the
  // producer epoch and sending the batches after it: they land, the refused one does not, and
  // a resync from the target's tail would resume past the gap. With it, a refusal is a fatal
  // producer error: nothing after the refused batch lands, the flow is rebuilt, and it resumes
  // exactly at the refused record.
  pprops["enable.gapless.guarantee"] = "true";

  FlowClientSettings cs;
  cs.context = "flow " + name_;
  cs.consumer = std::move(cprops);
  cs.producer = std::move(pprops);
  cs.source_admin = source_props_;
  for (const auto& [k, v] : flow.source_admin) cs.source_admin[k] = v;
  cs.target_admin = target_props_;
  for (const auto& [k, v] : flow.target_admin) cs.target_admin[k] = v;
  cs.target = target_props_;
  cs.listener = this;
  cs.on_delivery = [this](const Delivery& d) { OnDelivery(d); };
  cs.wakeup = &wakeup_;
  cs.source_cluster = flow.source;
  cs.target_cluster = flow.target;
  cs.scan_limits = TailScanLimits{config.mirror.tail_scan_max_records,
                                  std::chrono::milliseconds(config.mirror.tail_scan_timeout_ms)};
  cs.lease_key = FlowLeaseKey(flow_);
  cs.group_id = group_id_;
  cs.lease_ms = config.mirror.flow_lease_ms;
  FlowClients c = clients(cs);
  source_admin_ = std::move(c.source_admin_client);
  target_admin_ = std::move(c.target_admin_client);
  producer_ = std::move(c.producer);
  consumer_ = std::move(c.consumer);
  source_topic_admin_ = std::move(c.source_admin);
  target_topic_admin_ = std::move(c.target_admin);
  scanner_ = std::move(c.scanner);
  lease_ = std::move(c.claim);
  now_ = std::move(c.now);
  last_delivery_ = now_();
  target_topics_ = std::make_unique<TargetTopics>(
      *source_topic_admin_, *target_topic_admin_, cs.context,
      TargetTopicOptions{flow.replication_factor, flow.sync_topic_configs,
                         flow.config_properties_exclude});
}

Flow::~Flow() {
  // Consumer first (it may call back into us while leaving), then the producer: its purge
  // reports return the InFlight records that still hold consumer messages.
  consumer_.reset();
  producer_.reset();
  for (InFlight* f : free_inflight_) delete f;
}

Flow::InFlight* Flow::NewInFlight() {
  if (free_inflight_.empty()) return new InFlight;
  InFlight* f = free_inflight_.back();
  free_inflight_.pop_back();
  return f;
}

void Flow::FreeInFlight(InFlight* f) {
  f->msg.reset();
  f->ps.reset();
  // Keep enough for the in-flight cap so steady state allocates nothing.
  if (free_inflight_.size() < static_cast<size_t>(config_.mirror.max_inflight_total)) {
    free_inflight_.push_back(f);
  } else {
    delete f;
  }
}

void Flow::SetHealth(const std::string& key, const std::string& problem) {
  std::lock_guard<std::mutex> lock(health_mu_);
  if (problem.empty()) {
    health_problems_.erase(key);
  } else {
    health_problems_[key] = problem;
  }
}

void Flow::OnRefused(PartitionState& ps, int64_t offset, rd_kafka_resp_err_t err) {
  probe_.AddDeliveryFailed(ps.topic);
  if (ps.first_refused.valid() && ps.first_refused <= SourceOffset(offset)) return;
  ps.first_refused = SourceOffset(offset);
  std::string what = fmt::format("{}[{}] source offset {} refused by the target {} ({})", ps.topic,
                                 ps.partition, offset, flow_.target, rd_kafka_err2str(err));
  if (first_refusal_.empty()) first_refusal_ = what;
  RM_LOG_ERROR("flow {}: {}; copying the partition again from there", name_, what);
  SetHealth(RefusalKey(ps.topic, ps.partition), what);
  ps.refusal_reported = true;
}

bool Flow::ProducerFailed() {
  if (!fatal_error_.empty()) return true;
  auto fatal = producer_->FatalError();
  if (!fatal) return false;
  fatal_error_ = fmt::format("fatal producer error: {}", *fatal);
  if (!first_refusal_.empty()) fatal_error_ += "; first refused: " + first_refusal_;
  return true;
}

bool Flow::AcquireFlow(const std::atomic<bool>& stop) {
  // Where the cluster does not auto-create topics, the claims topic must be made first.
  if (auto st = lease_->Prepare(); !st.ok()) {
    RM_LOG_WARN("flow {}: {}", name_, st.error().message);
  }
  const auto started = now_();
  bool refused_said = false, unknown_said = false;
  while (!stop.load()) {
    auto verdict = lease_->Poll(NowMs());
    if (verdict == FlowLease::Verdict::kOwned) {
      if (refused_said || unknown_said) {
        RM_LOG_INFO("flow {}: group {} owns the flow now; copying", name_, group_id_);
      }
      SetHealth("owner", "");
      return true;
    }
    if (verdict == FlowLease::Verdict::kRefused && !refused_said) {
      std::string what = fmt::format(
          "flow {} is run by consumer group {} (another deployment; this one is group {}): "
          "this instance copies nothing while that group claims the flow in {} on {}",
          name_, lease_->owner(), group_id_, kFlowOwnersTopic, flow_.target);
      RM_LOG_ERROR("{}", what);
      probe_.AddError("flow_refused");
      SetHealth("owner", what);
      refused_said = true;
    } else if (verdict == FlowLease::Verdict::kUnknown && !unknown_said && now_() - started > 30s) {
      std::string what = fmt::format("flow {}: cannot claim the flow in {} on {} yet", name_,
                                     kFlowOwnersTopic, flow_.target);
      RM_LOG_WARN("{}", what);
      SetHealth("owner", what);
      unknown_said = true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void Flow::KeepFlow() {
  if (lease_->Poll(NowMs()) != FlowLease::Verdict::kRefused) return;
  // Our claims lapsed (this instance or its group was silent for flow_lease_ms) and another
  // group took the flow: stop at once; what is queued is purged by the drain.
  fatal_error_ = fmt::format("flow taken over by consumer group {} (this is group {})",
                             lease_->owner(), group_id_);
  RM_LOG_ERROR("flow {}: {}", name_, fatal_error_);
  probe_.AddError("flow_lost");
}

RefusedOffsets Flow::Refused() const {
  RefusedOffsets out = carried_refused_;
  for (const auto& [key, ps] : partitions_) {
    if (ps->first_refused.valid()) out[key] = ps->first_refused;
  }
  return out;
}

std::string Flow::Health() const {
  std::lock_guard<std::mutex> lock(health_mu_);
  std::string out;
  for (const auto& [key, p] : health_problems_) out += (out.empty() ? "" : "; ") + p;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Discovery

void Flow::Refresh() {
  auto md = consumer_->Metadata(10s);
  if (!md.ok()) {
    RM_LOG_WARN("flow {}: listing source topics failed: {}", name_, md.error().message);
    probe_.AddError("metadata");
    SetHealth("source", fmt::format("source cluster {}: {}", flow_.source, md.error().message));
    return;
  }
  SetHealth("source", "");
  std::optional<TargetTopics::Listing> target_listing;  // listed once, when first needed
  for (const auto& t : md->topics) {
    if (t.error != RD_KAFKA_RESP_ERR_NO_ERROR || t.partitions.empty()) continue;
    if (!filter_.ShouldReplicate(t.name)) continue;
    int n = static_cast<int>(t.partitions.size());
    auto [it, fresh] = topics_.try_emplace(t.name);
    TopicState& ts = it->second;
    if (fresh) ts.target = policy_->FormatRemoteTopic(flow_.source, t.name);
    if (fresh && flow_.placement) {
      // Residency, whatever the flow's regexes say: no copy, not even an empty remote topic.
      if (auto why = flow_.placement->Refusal(t.name)) {
        ts.refused = *why;
        RM_LOG_ERROR(
            "flow {}: {}; its records are never copied to {} (counted in "
            "rm_mirror_residency_refused_total)",
            name_, ts.refused, flow_.target);
        SetHealth("residency:" + t.name, fmt::format("residency: {}", ts.refused));
      }
    }
    if (!ts.refused.empty()) {
      ts.partitions = n;  // subscribed, so positions move past what is never copied
      continue;
    }
    if (n <= ts.partitions && ts.error.empty()) continue;
    if (fresh) {
      RM_LOG_INFO("flow {}: mirroring topic {} ({} partitions) to {}", name_, t.name, n, ts.target);
    } else if (n > ts.partitions && ts.partitions > 0) {
      RM_LOG_INFO("flow {}: topic {} grew from {} to {} partitions", name_, t.name, ts.partitions,
                  n);
    }
    if (!target_listing) target_listing = target_topics_->ListTarget();
    Status st = target_topics_->Ensure(*target_listing, t.name, ts.target, n);
    if (st.ok()) {
      ts.partitions = n;
      if (!ts.error.empty()) RM_LOG_INFO("flow {}: topic {} is mirrored again", name_, t.name);
      ts.error.clear();
      SetHealth("topic:" + t.name, "");
    } else {
      if (ts.error != st.error().message) {
        RM_LOG_ERROR("flow {}: topic {} stopped: {}", name_, t.name, st.error().message);
        probe_.AddError("topic");
      }
      ts.error = st.error().message;
      SetHealth("topic:" + t.name, fmt::format("topic {}: {}", t.name, ts.error));
    }
  }
  UpdateSubscription();
}

void Flow::UpdateSubscription() {
  if (in_rebalance_) {
    subscription_dirty_ = true;  // never re-subscribe from inside a rebalance callback
    return;
  }
  subscription_dirty_ = false;
  std::vector<std::string> want;
  for (const auto& [name, ts] : topics_) {
    if (ts.error.empty() && ts.partitions > 0) want.push_back(name);
  }
  if (want == subscribed_) return;
  if (auto st = consumer_->Subscribe(want); !st.ok()) {
    RM_LOG_ERROR("flow {}: {}", name_, st.error().message);
    probe_.AddError("subscribe");
    return;
  }
  subscribed_ = std::move(want);
}

// ---------------------------------------------------------------------------------------------
// Assignment and resume

// Resume rules, in order:
//   1. The target is the truth: the record after the last one whose provenance header says it
//      came from this source partition. When the offset map has durable state, the target is
//      read from just after its last durable record (or, before the first checkpoint, from the
//      recorded fresh start), and every copied record found there is reported to the map
//      first, so the map has no hole after a crash.
//   2. Nothing of ours in the target: the group's committed source offset (it only advances
//      after delivery, so it never skips; it matters when the target's copy has expired).
//   3. Neither: mirror.start_from (earliest or latest).
// Then, below the source's low watermark: the missing range is reported as skipped (error log
// naming topic, partition and offsets, and a metric), never silently.
// All of a rebalance's partitions are worked out together (one watermark request per broker,
// one scan of the target, one committed-offsets request), so handing out hundreds of
// partitions costs a few round trips, not a few per partition.
std::vector<Result<SourceOffset>> Flow::ResumePositions(const std::vector<PartitionState*>& parts) {
  const size_t n = parts.size();
  std::vector<Result<SourceOffset>> out(n, SourceOffset(0));
  std::vector<TargetSide> target(n);  // target[i] is for parts[i]
  std::vector<TailScanRequest> requests;
  std::vector<size_t> scanned;  // requests[k] is for parts[scanned[k]]
  for (size_t i = 0; i < n; ++i) {
    PartitionState& ps = *parts[i];
    // Never copied: nothing of it in the target; the group's commit says where to go on.
    if (ps.residency_refused) continue;
    TailScanRequest req{ps.target_topic, ps.partition, 0, true, ps.topic};
    if (sink_) {
      auto durable = sink_->LastDurable(ps.key);
      if (!durable.ok()) {
        out[i] = durable.error();
        continue;
      }
      if (*durable) {
        req.find_last_only = false;
        // From the durable copy itself: finding it there proves the target still holds it.
        req.from = (*durable)->target.value();
        target[i].last = CopiedRecord{(*durable)->source, (*durable)->target};
        target[i].durable = target[i].last;
        target[i].report_all = true;
      } else {
        auto floor = sink_->FreshStartFloor(ps.key);
        if (!floor.ok()) {
          out[i] = floor.error();
          continue;
        }
        if (*floor) {
          req.find_last_only = false;
          req.from = (*floor)->value();
          target[i].report_all = true;
        }
      }
    }
    requests.push_back(std::move(req));
    scanned.push_back(i);
  }

  auto scans = scanner_->ScanMany(requests, kScanTimeout);
  // A target partition that lost copies the offset map recorded (an unclean leader election,
  // a topic recreated on the target): its end is at or below the map's last durable copy, or
  // that copy is no longer where the map says. The map must not be trusted over the target
  // then: read the target's tail as if there were no map, and resume after the last copy
  // still there (or, with none, from the source's start).
  std::vector<TailScanRequest> rescan;
  std::vector<size_t> rescanned;  // scans index k
  for (size_t k = 0; k < scanned.size(); ++k) {
    const size_t i = scanned[k];
    if (!scans[k].ok() || !target[i].durable) continue;
    const auto& wm = scans[k]->watermarks;
    const auto& copied = scans[k]->copied;
    const TargetOffset d = target[i].durable->target;
    const bool gone = TargetOffset(wm.high) <= d ||
                      (TargetOffset(wm.low) <= d &&
                       (copied.empty() || copied.front().target != target[i].durable->target ||
                        copied.front().source != target[i].durable->source));
    if (!gone) continue;
    PartitionState& ps = *parts[i];
    RM_LOG_ERROR(
        "flow {}: target partition {}[{}] no longer holds the copy of source offset {} at "
        "offset {} that this flow wrote (the target's offsets are now {}..{}): the target lost "
        "records (unclean leader election, or the topic was recreated there); copying again "
        "from the last copy the target still holds",
        name_, ps.target_topic, ps.partition, target[i].durable->source.value(), d.value(), wm.low,
        wm.high - 1);
    probe_.AddError("target_lost_data");
    target[i].lost = true;
    target[i].last.reset();
    target[i].report_all = false;
    rescan.push_back({ps.target_topic, ps.partition, 0, true, ps.topic});
    rescanned.push_back(k);
  }
  if (!rescan.empty()) {
    auto again = scanner_->ScanMany(rescan, kScanTimeout);
    for (size_t j = 0; j < rescan.size(); ++j) scans[rescanned[j]] = std::move(again[j]);
  }
  for (size_t k = 0; k < scanned.size(); ++k) {
    const size_t i = scanned[k];
    PartitionState& ps = *parts[i];
    if (!scans[k].ok()) {
      out[i] = scans[k].error();
      if (IsScanBound(scans[k].error())) {
        RM_LOG_ERROR("flow {}: {}[{}] cannot start: {}", name_, ps.topic, ps.partition,
                     scans[k].error().message);
        probe_.AddError("tail_scan_bound");
        SetHealth(ScanKey(ps.topic, ps.partition),
                  fmt::format("{}[{}] cannot start: {}", ps.topic, ps.partition,
                              scans[k].error().message));
      }
      continue;
    }
    SetHealth(ScanKey(ps.topic, ps.partition), "");
    target[i].low = TargetOffset(scans[k]->watermarks.low);
    for (const auto& c : scans[k]->copied) {
      if (target[i].last && c.source <= target[i].last->source) continue;
      if (sink_ && target[i].report_all) sink_->OnDelivered(ps.key, c.source, c.target);
      target[i].last = c;
    }
    // The newest copy in target order decides where to resume. It is the one with the highest
    // source offset, except after the source topic was recreated: then the newer copies carry
    // the new topic's (lower) offsets.
    if (!scans[k]->copied.empty() && target[i].last &&
        scans[k]->copied.back().target > target[i].last->target) {
      target[i].last = scans[k]->copied.back();
    }
    if (sink_ && !target[i].report_all) {
      if (target[i].last) {
        sink_->OnDelivered(ps.key, target[i].last->source, target[i].last->target);
      }
      // DeliverySink restart contract: record durably where this fresh start's copies begin,
      // so a crash before the first checkpoint still lets the next start re-report them.
      auto st =
          sink_->MarkFreshStart(ps.key, target[i].last ? target[i].last->target
                                                       : TargetOffset(scans[k]->watermarks.high));
      if (!st.ok()) out[i] = st.error();
    }
  }

  // The source side: watermarks of every partition still going, committed offsets of those
  // with nothing of ours in the target.
  std::vector<size_t> going;
  std::vector<TopicPartition> tps;
  for (size_t i = 0; i < n; ++i) {
    if (!out[i].ok()) continue;
    going.push_back(i);
    tps.push_back({parts[i]->topic, parts[i]->partition});
  }
  if (going.empty()) return out;
  auto wms = consumer_->QueryWatermarks(tps, kAdminTimeout);
  // Committed offsets, and with them the last owner's marks (mirror/ownership.h).
  std::map<std::pair<std::string, int32_t>, TopicPartition> committed;
  std::optional<Error> committed_error;
  if (wms.ok()) {
    auto c = consumer_->Committed(tps, kAdminTimeout);
    if (c.ok()) {
      for (auto& tp : *c) committed[{tp.topic, tp.partition}] = std::move(tp);
    } else {
      committed_error = c.error();
    }
  }
  for (size_t k = 0; k < going.size(); ++k) {
    const size_t i = going[k];
    PartitionState& ps = *parts[i];
    if (!wms.ok()) {
      out[i] = wms.error();
      continue;
    }
    const Result<common::Watermarks>& wm = (*wms)[k];
    if (!wm.ok()) {
      out[i] = wm.error();
      continue;
    }
    const SourceOffset low(wm->low), high(wm->high);
    if (committed_error) {
      out[i] = *committed_error;
      continue;
    }
    if (auto li = lost_inflight_.find({ps.topic, ps.partition}); li != lost_inflight_.end()) {
      if (li->second->inflight > 0) {
        out[i] = Error{"mirror.takeover",
                       fmt::format("{} records this flow sent before it lost the partition are "
                                   "still in flight",
                                   li->second->inflight)};
        continue;
      }
      lost_inflight_.erase(li);
    }
    auto cit = committed.find({ps.topic, ps.partition});
    // Taking over from an owner that did not release the partition (killed, or paused past its
    // session): it may have handed records up to its mark to its producer, and if it is alive
    // they can still land. Wait for them (the target's tail reaches the mark) before copying
    // from the tail, up to takeover_wait_ms.
    std::optional<OwnerMark> mark;
    if (cit != committed.end()) mark = ParseOwnerMark(cit->second.metadata);
    const SourceOffset have = target[i].last ? target[i].last->source : SourceOffset();
    // (A topic refused by residency is never produced: nothing of it can arrive.)
    if (mark && !mark->released && mark->instance != ThisInstance() &&
        have < SourceOffset(mark->reserved) && !ps.residency_refused &&
        config_.mirror.takeover_wait_ms > 0) {
      const auto now = now_();
      // One wait per mark: a resync or a new assignment while that mark is still the group's
      // (our own commits were refused meanwhile, e.g. during a rebalance) does not wait again.
      TakeoverWait& w = takeovers_[{ps.topic, ps.partition}];
      const std::string what = fmt::format(
          "{}[{}]: the previous owner {} did not release it and may still deliver source "
          "offsets up to {} (the target holds up to {}); waiting up to {} ms for them",
          ps.topic, ps.partition, mark->instance, mark->reserved, have.value(),
          config_.mirror.takeover_wait_ms);
      if (w.instance != mark->instance || w.reserved != mark->reserved) {
        w = {mark->instance, mark->reserved,
             now + std::chrono::milliseconds(config_.mirror.takeover_wait_ms), false};
        RM_LOG_WARN("flow {}: {}", name_, what);
        probe_.AddError("takeover_wait");
      }
      if (now < w.deadline) {
        SetHealth(TakeoverKey(ps.topic, ps.partition), what);
        ps.takeover_waiting = true;
        out[i] = Error{"mirror.takeover",
                       fmt::format("waiting for the records the previous owner {} reserved up to "
                                   "source offset {} (target holds up to {})",
                                   mark->instance, mark->reserved, have.value())};
        continue;
      }
      if (!w.timed_out) {
        w.timed_out = true;
        RM_LOG_ERROR(
            "flow {}: {}[{}]: the previous owner {} reserved source offsets up to {} but the "
            "target holds only up to {} after {} ms; taking over. If that instance is alive and "
            "delivers them later, up to {} records are duplicated",
            name_, ps.topic, ps.partition, mark->instance, mark->reserved, have.value(),
            config_.mirror.takeover_wait_ms, mark->reserved - have.value());
        probe_.AddError("takeover_timeout");
      }
    } else {
      takeovers_.erase({ps.topic, ps.partition});  // released, reached, or our own mark
    }
    if (ps.takeover_waiting) {
      ps.takeover_waiting = false;
      SetHealth(TakeoverKey(ps.topic, ps.partition), "");
    }
    SourceOffset resume;
    const char* why;
    const SourceOffset c(cit == committed.end() ? -1 : cit->second.offset);
    if (target[i].last) {
      resume = target[i].last->source + 1;
      why = "target tail";
    } else if (target[i].lost) {
      resume = low;
      why = "target lost its copies: from the source's start";
    } else if (!ps.residency_refused && c > low && target[i].low == TargetOffset(0)) {
      // The group committed up to c, so copies up to c were acknowledged, yet the target holds
      // none of them and deleted none (its log starts at 0): it lost them, or the flow now
      // points at another cluster. Copying again from the source's start loses nothing and,
      // with none of ours there, duplicates nothing.
      RM_LOG_ERROR(
          "flow {}: {}[{}] was copied up to source offset {} (the group's commit) but the target "
          "partition {}[{}] holds none of this flow's copies and deleted none: the target lost "
          "them; copying again from the source's start",
          name_, ps.topic, ps.partition, (c - 1).value(), ps.target_topic, ps.partition);
      probe_.AddError("target_lost_data");
      resume = low;
      why = "target lost its copies: from the source's start";
    } else {
      if (c.valid()) {
        resume = c;
        why = "committed offset";
      } else {
        resume = config_.mirror.start_from == "latest" ? high : low;
        why = config_.mirror.start_from == "latest" ? "start_from latest" : "start_from earliest";
      }
    }
    if (ps.first_refused.valid() && resume > ps.first_refused) {
      RM_LOG_ERROR(
          "flow {}: the target holds copies of {}[{}] past source offset {}, which it refused "
          "(a gap); copying again from {}: up to {} records may be duplicated, none lost",
          name_, ps.topic, ps.partition, ps.first_refused.value(), ps.first_refused.value(),
          resume - ps.first_refused);
      probe_.AddError("gap");
      resume = ps.first_refused;
      why = "first refused record";
    }
    if (resume < low) {
      int64_t lost = low - resume;
      RM_LOG_ERROR(
          "flow {}: {}[{}] offsets {}..{} ({} records) were deleted by source retention "
          "before they were copied; continuing at {}",
          name_, ps.topic, ps.partition, resume.value(), (low - 1).value(), lost, low.value());
      probe_.AddSkipped(ps.topic, lost);
      resume = low;
    } else if (resume > high) {
      // The source partition ends below what was copied from it: the topic was deleted and
      // recreated (its offsets start again at 0), or an unclean leader election truncated it.
      // Its records from low on are not the ones copied before (librdkafka 2.0.2 shows no
      // topic ids to tell): copy them, from the start. A high watermark can lag briefly on a
      // new leader, so the condition must hold twice, kSourceResetConfirm apart.
      const auto now = now_();
      if (!ps.source_behind_since) ps.source_behind_since = now;
      if (now - *ps.source_behind_since < kSourceResetConfirm) {
        out[i] = Error{"mirror.source_behind",
                       fmt::format("the source partition ends at {}, below source offset {} "
                                   "already copied; checking again",
                                   high.value(), (resume - 1).value())};
        continue;
      }
      RM_LOG_ERROR(
          "flow {}: {}[{}] was copied up to source offset {} but the source partition now holds "
          "offsets {}..{}: the topic was deleted and recreated (or truncated); copying the new "
          "records from its start, after the old copies in {}",
          name_, ps.topic, ps.partition, (resume - 1).value(), low.value(), (high - 1).value(),
          ps.target_topic);
      probe_.AddError("source_recreated");
      resume = low;
      why = "source topic recreated: from its start";
    }
    ps.source_behind_since.reset();
    RM_LOG_INFO("flow {}: {}[{}] resumes at {} ({})", name_, ps.topic, ps.partition, resume.value(),
                why);
    out[i] = resume;
  }
  return out;
}

void Flow::OnPartitionsAssigned(std::vector<TopicPartition>& partitions) {
  probe_.AddRebalance("assigned");
  in_rebalance_ = true;
  std::vector<std::shared_ptr<PartitionState>> states;
  std::vector<PartitionState*> usable;
  for (auto& tp : partitions) {
    auto it = topics_.find(tp.topic);
    auto ps = std::make_shared<PartitionState>();
    ps->topic = tp.topic;
    ps->partition = tp.partition;
    ps->key = {name_, tp.topic, tp.partition};
    if (auto r = carried_refused_.find({tp.topic, tp.partition}); r != carried_refused_.end()) {
      ps->first_refused = r->second;
      ps->refusal_reported = true;  // its health line stays until a copy lands
      carried_refused_.erase(r);
    }
    if (it == topics_.end() || !it->second.error.empty() || it->second.partitions <= tp.partition) {
      // A partition the last refresh did not see: check the target before copying.
      Refresh();
      it = topics_.find(tp.topic);
    }
    if (it != topics_.end() && it->second.error.empty() && it->second.partitions > tp.partition) {
      if (!it->second.refused.empty()) {
        ps->residency_refused = true;
      } else {
        ps->target_topic = it->second.target;
        ps->target_rkt = producer_->TopicHandle(ps->target_topic);
      }
      usable.push_back(ps.get());
    }
    states.push_back(std::move(ps));
  }
  const auto started = now_();
  auto resumes = ResumePositions(usable);
  RM_LOG_INFO("flow {}: {} partitions assigned, resume positions found in {} ms", name_,
              partitions.size(),
              std::chrono::duration_cast<std::chrono::milliseconds>(now_() - started).count());
  for (size_t i = 0, k = 0; i < partitions.size(); ++i) {
    TopicPartition& tp = partitions[i];
    auto& ps = states[i];
    // `usable` keeps the order of `partitions`, so its answers come in that order too.
    const bool is_usable = k < usable.size() && usable[k] == ps.get();
    Result<SourceOffset> resume =
        is_usable ? std::move(resumes[k++])
                  : Result<SourceOffset>(Error{"mirror.topic", "topic not ready"});
    if (resume.ok()) {
      tp.offset = resume->value();
      ps->tracker = std::make_unique<CompletionTracker>(*resume);
      ps->last_committed = resume->value();
      ps->first_refused = SourceOffset();  // at or below the resume position: copied again
    } else {
      RM_LOG_WARN("flow {}: {}[{}] cannot start yet: {}", name_, tp.topic, tp.partition,
                  resume.error().message);
      // Assigned (the group requires it) but held paused until a resync succeeds.
      tp.offset = RD_KAFKA_OFFSET_END;
      ps->tracker = std::make_unique<CompletionTracker>(SourceOffset(0));
      ps->failed = true;
      ps->pause_for_failure = true;
      ps->retry_at = now_() + (resume.error().code == "mirror.takeover" ? 500ms
                               : IsScanBound(resume.error())            ? 30s
                                                                        : 2s);
      resync_needed_ = true;
    }
    partitions_[{tp.topic, tp.partition}] = ps;
  }
  // A partition starts unpaused (its new state says so), but librdkafka keeps an application
  // pause on the partition across assignments: one paused when it was revoked or lost (at its
  // in-flight cap, or failed and awaiting a resync) would be assigned back paused and copy
  // nothing, ever. Those that cannot start yet are paused again by ApplyBackpressure.
  if (!partitions.empty()) consumer_->Resume(partitions).PermitUnchecked();
  by_handle_.clear();
  in_rebalance_ = false;
  // Carried refusals are for the first assignment after a rebuild only: a partition that
  // another instance copied in the meantime must not be sent back to an old position.
  for (const auto& [tp, offset] : carried_refused_) SetHealth(RefusalKey(tp.first, tp.second), "");
  carried_refused_.clear();
}

void Flow::OnPartitionsRevoked(const std::vector<TopicPartition>& partitions, bool lost) {
  probe_.AddRebalance(lost ? "lost" : "revoked");
  ReleasePartitions(partitions, lost);
}

void Flow::ReleasePartitions(const std::vector<TopicPartition>& partitions, bool lost) {
  std::vector<std::shared_ptr<PartitionState>> gone;
  for (const auto& tp : partitions) {
    auto it = partitions_.find({tp.topic, tp.partition});
    if (it != partitions_.end()) gone.push_back(it->second);
  }
  if (!lost) {
    // Let what is in flight land before another member reads the target's tail.
    WaitInflight(std::chrono::milliseconds(config_.mirror.drain_timeout_ms), [&gone] {
      for (const auto& ps : gone) {
        if (ps->inflight > 0) return false;
      }
      return true;
    });
    DrainCompleted();
    // The last commit says "released" for those with nothing in flight: the next owner need
    // not wait for our records.
    for (const auto& ps : gone) ps->releasing = true;
    CommitOffsets(/*sync=*/true);
  }
  for (const auto& ps : gone) {
    // Leaving after a fatal producer error: the next Flow must not resume above a refusal.
    if (!fatal_error_.empty() && ps->first_refused.valid()) {
      carried_refused_[{ps->topic, ps->partition}] = ps->first_refused;
    }
    if (ps->refusal_reported) SetHealth(RefusalKey(ps->topic, ps->partition), "");
    SetHealth(ScanKey(ps->topic, ps->partition), "");
    if (ps->takeover_waiting) SetHealth(TakeoverKey(ps->topic, ps->partition), "");
    ps->released = true;
    if (ps->inflight > 0) lost_inflight_[{ps->topic, ps->partition}] = ps;
    probe_.RemoveLag(ps->topic, ps->partition);
    partitions_.erase({ps->topic, ps->partition});
  }
  by_handle_.clear();
}

// ---------------------------------------------------------------------------------------------
// Data path

void Flow::HandleOutOfRange(const std::string& topic, int32_t partition, int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it == partitions_.end()) return;
  PartitionState& ps = *it->second;
  auto wm = consumer_->QueryWatermarks(topic, partition, kAdminTimeout);
  if (!wm.ok()) {
    ps.failed = true;
    ps.pause_for_failure = true;
    ps.retry_at = now_() + 2s;
    resync_needed_ = true;
    return;
  }
  int64_t from = ps.tracker->last_seen().value() + 1;
  if (offset >= 0) from = offset;
  if (from < wm->low) {
    RM_LOG_ERROR(
        "flow {}: {}[{}] offsets {}..{} ({} records) were deleted by source retention "
        "before they were copied; continuing at {}",
        name_, topic, partition, from, wm->low - 1, wm->low - from, wm->low);
    probe_.AddSkipped(topic, wm->low - from);
    // Everything up to the low watermark is gone: the tracker must not wait for it.
    if (ps.tracker->pending() == 0) {
      ps.tracker = std::make_unique<CompletionTracker>(SourceOffset(wm->low));
    }
    consumer_->Seek({topic, partition, wm->low}, kAdminTimeout).PermitUnchecked();
  } else {
    // Past the source's end: recreated or truncated. The resync decides (ResumePositions).
    RM_LOG_WARN("flow {}: {}[{}] position {} is past the source's end {}; resyncing", name_, topic,
                partition, from, wm->high);
    probe_.AddError("out_of_range");
    ps.failed = true;
    ps.pause_for_failure = true;
    ps.retry_at = now_() + 1s;
    resync_needed_ = true;
  }
}

std::string Flow::MarkOf(const PartitionState& ps) const {
  if (ps.releasing && ps.inflight == 0 && fatal_error_.empty()) {
    return EncodeOwnerMark({ThisInstance(), true, -1});
  }
  return ps.reserved >= 0 ? EncodeOwnerMark({ThisInstance(), false, ps.reserved}) : "";
}

void Flow::Reserve(const std::vector<SourceRecord>& batch) {
  std::map<PartitionState*, int64_t> want;  // partition -> highest offset in the batch
  for (const auto& m : batch) {
    if (m->err || !m->rkt) continue;
    PartitionState* ps = nullptr;
    if (auto it = by_handle_.find({m->rkt, m->partition}); it != by_handle_.end()) {
      ps = it->second.get();
    } else if (auto pit =
                   partitions_.find({std::string(consumer_->TopicName(m->rkt)), m->partition});
               pit != partitions_.end()) {
      ps = pit->second.get();
    }
    if (!ps || ps->failed || ps->released || m->offset <= ps->reserved) continue;
    int64_t& w = want[ps];
    w = std::max(w, m->offset);
  }
  if (want.empty()) return;
  // Reserve ahead (as far as the partition's in-flight cap), so marks are raised once per that
  // many records, not per batch. The cost: an owner that dies leaves a mark up to that far past
  // what it copied, and the next owner waits takeover_wait_ms for records that never come.
  const int64_t ahead = config_.mirror.max_inflight_per_partition;
  // Partitions with less than half of that left come along, so one commit serves many.
  for (auto& [key, sp] : partitions_) {
    PartitionState* ps = sp.get();
    if (ps->failed || ps->released || ps->reserved < 0 || want.contains(ps)) continue;
    const int64_t seen = ps->tracker->last_seen().value();
    if (seen + ahead / 2 > ps->reserved) want[ps] = seen;
  }
  std::vector<TopicPartition> commits;
  for (auto& [ps, top] : want) {
    int64_t at = ps->last_committed >= 0 ? ps->last_committed : ps->tracker->committable().value();
    top += ahead;
    commits.push_back(
        {ps->topic, ps->partition, at, EncodeOwnerMark({ThisInstance(), false, top})});
  }
  auto st = consumer_->Commit(commits, /*async=*/false);
  if (st.ok()) {
    size_t k = 0;
    for (auto& [ps, top] : want) {
      ps->reserved = top;
      ps->last_committed = std::max(ps->last_committed, commits[k++].offset);
    }
    return;
  }
  // Not accepted: this member may have lost the partitions (another instance may own them
  // now), or a rebalance is under way. Copy nothing past the old marks; resync later.
  RM_LOG_WARN(
      "flow {}: the source group did not accept the owner marks of {} partitions ({}); they "
      "copy nothing past their marks and resync",
      name_, want.size(), st.error().message);
  probe_.AddError("reserve");
  for (auto& [ps, top] : want) {
    ps->failed = true;
    ps->pause_for_failure = true;
    ps->retry_at = now_() + 1s;
  }
  resync_needed_ = true;
}

void Flow::HandleMessage(SourceRecord msg) {
  if (msg->err) {
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    if (msg->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
        msg->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      if (msg->rkt) {
        HandleOutOfRange(std::string(consumer_->TopicName(msg->rkt)), msg->partition, msg->offset);
      }
      return;
    }
    RM_LOG_WARN("flow {}: consumer: {}", name_, consumer_->ErrorString(*msg));
    probe_.AddError("consume");
    return;
  }
  HandleKey hkey{msg->rkt, msg->partition};
  std::shared_ptr<PartitionState> ps;
  if (auto it = by_handle_.find(hkey); it != by_handle_.end()) {
    ps = it->second;
  } else {
    auto pit = partitions_.find({std::string(consumer_->TopicName(msg->rkt)), msg->partition});
    if (pit == partitions_.end()) return;  // not ours (any more)
    ps = pit->second;
    by_handle_[hkey] = ps;
  }
  if (ps->failed || ps->released) return;  // a resync re-reads it
  const int64_t offset = msg->offset;
  if (offset <= ps->tracker->last_seen().value()) return;  // fetched before a seek
  if (ps->residency_refused) {
    // Deliberately never copied (a copy may not exist in the target): the position moves past
    // it, as for the cycle guard, and every such record is counted. Health names the topic.
    ps->tracker->Skip(SourceOffset(offset));
    probe_.AddResidencyRefused(ps->topic);
    return;
  }
  if (offset > ps->reserved) {
    // Past our owner mark (Reserve() could not raise it): never produced, re-read on resync.
    ps->failed = true;
    ps->pause_for_failure = true;
    ps->retry_at = now_() + 1s;
    resync_needed_ = true;
    return;
  }

  rd_kafka_headers_t* hdrs = consumer_->Headers(*msg);
  if (hdrs && replication::PassedThrough(hdrs, {flow_.source, ps->topic}, flow_.target)) {
    ps->tracker->Skip(SourceOffset(offset));
    probe_.AddFiltered(1);
    return;
  }
  // The flow's transforms (replication/record_transforms.h): a filtered record is skipped like
  // the cycle guard's (its position passes; a gap in the offset map).
  replication::RecordTransformResult edits;
  if (!flow_.transforms.empty()) {
    edits = RunRecordTransforms(flow_.transforms, ps->topic, ps->target_topic,
                                msg->payload == nullptr, hdrs);
    if (edits.dropped_by) {
      ps->tracker->Skip(SourceOffset(offset));
      probe_.AddTransformFiltered(ps->topic, *edits.dropped_by);
      return;
    }
  }
  rd_kafka_headers_t* out_hdrs = hdrs == nullptr ? nullptr : consumer_->DetachHeaders(*msg);
  if (out_hdrs == nullptr) out_hdrs = rd_kafka_headers_new(1);
  if (!edits.empty()) ApplyHeaderEdits(edits, out_hdrs);
  char prov[replication::kMaxProvenanceSize];
  size_t prov_len = replication::EncodeProvenanceTo(flow_.source, flow_.target, ps->topic,
                                                    msg->partition, offset, prov);
  rd_kafka_header_add(out_hdrs, replication::kProvenanceHeader, -1, prov,
                      static_cast<ssize_t>(prov_len));

  int64_t ts = consumer_->Timestamp(*msg);
  InFlight* f = NewInFlight();
  f->ps = ps;
  f->epoch = ps->epoch;
  f->bytes = static_cast<int64_t>(msg->len + msg->key_len);
  f->timestamp_ms = ts;
  f->slot = ps->tracker->Add(SourceOffset(offset));
  const void* key = msg->key;
  size_t key_len = msg->key_len;
  const void* value = msg->payload;
  size_t value_len = msg->len;
  int32_t partition = msg->partition;
  f->msg = std::move(msg);

  for (;;) {
    rd_kafka_resp_err_t err = producer_->ProduceNoCopy(
        ps->target_rkt, partition, key, key_len, value, value_len, ts > 0 ? ts : 0, out_hdrs, f);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_->load()) {
      producer_->Poll(10ms);
      continue;
    }
    // After a fatal producer error every produce fails with its code: the flow is ending, and
    // these records were never handed over, so they are neither refusals nor news.
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL && !ProducerFailed()) {
      RM_LOG_ERROR("flow {}: cannot produce {}[{}] offset {} to {}: {}", name_, ps->topic,
                   partition, offset, ps->target_topic, rd_kafka_err2str(err));
      probe_.AddError("produce");
      OnRefused(*ps, offset, err);
    }
    // Never added to the producer: the tracker keeps it pending, so nothing after it commits;
    // a resync re-reads it from the source.
    rd_kafka_headers_destroy(out_hdrs);
    FreeInFlight(f);
    ps->failed = true;
    ps->pause_for_failure = true;
    ps->retry_at = now_() + 1s;
    resync_needed_ = true;
    return;
  }
  ++ps->inflight;
  ++inflight_records_;
  inflight_bytes_ += f->bytes;
}

void Flow::OnDelivery(const Delivery& m) {
  auto* f = static_cast<InFlight*>(m.opaque);
  if (!f) return;
  struct Release {
    Flow* flow;
    InFlight* f;
    ~Release() { flow->FreeInFlight(f); }
  } release{this, f};
  PartitionState& ps = *f->ps;
  --ps.inflight;
  --inflight_records_;
  inflight_bytes_ -= f->bytes;
  const bool current = f->epoch == ps.epoch && !ps.released;
  if (m.err) {
    if (m.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      return;  // shutting down
    }
    if (current && m.not_persisted) {
      OnRefused(ps, f->msg->offset, m.err);
    }
    if (current && !ps.failed) {
      RM_LOG_ERROR(
          "flow {}: delivery of {}[{}] to {} failed: {}; resyncing the partition from "
          "the target",
          name_, ps.topic, ps.partition, ps.target_topic, rd_kafka_err2str(m.err));
      probe_.AddError("delivery");
      ps.failed = true;
      ps.pause_for_failure = true;
      ps.retry_at = now_() + 1s;
      resync_needed_ = true;
    }
    return;
  }
  delivered_ = true;
  ++ps.copied_records;
  ps.copied_bytes += f->bytes;
  if (f->timestamp_ms > 0) {
    probe_.ObserveLatency(static_cast<double>(now_ms_ - f->timestamp_ms) / 1000.0);
  }
  if (current && !ps.failed) {
    ps.last_copied_timestamp_ms = std::max(ps.last_copied_timestamp_ms, f->timestamp_ms);
    ps.tracker->Delivered(f->slot, TargetOffset(m.offset));
    if (ps.refusal_reported) {
      // Copying again landed: the refusal is behind us.
      ps.refusal_reported = false;
      SetHealth(RefusalKey(ps.topic, ps.partition), "");
    }
  }
}

void Flow::DrainCompleted() {
  if (delivered_) {
    last_delivery_ = now_();
    delivered_ = false;
    probe_.FlushLatency();
  }
  for (auto& [key, ps] : partitions_) {
    if (ps->copied_records > 0) {
      probe_.AddCopied(ps->topic, ps->copied_records, ps->copied_bytes);
      ps->copied_records = 0;
      ps->copied_bytes = 0;
    }
    if (ps->failed) continue;
    ps->tracker->Drain([this, p = ps.get()](SourceOffset s, TargetOffset t) {
      if (sink_) sink_->OnDelivered(p->key, s, t);
    });
  }
}

void Flow::ApplyBackpressure() {
  const auto& m = config_.mirror;
  std::vector<TopicPartition> pause, resume;
  int64_t paused = 0;
  for (auto& [key, ps] : partitions_) {
    if (ps->pause_for_failure) {
      pause.push_back({ps->topic, ps->partition});
      ps->pause_for_failure = false;
      continue;
    }
    if (ps->failed) continue;
    auto pending = static_cast<int64_t>(ps->tracker->pending());
    if (!ps->paused && pending >= m.max_inflight_per_partition) {
      ps->paused = true;
      if (!all_paused_) pause.push_back({ps->topic, ps->partition});
    } else if (ps->paused && pending < m.max_inflight_per_partition / 2) {
      ps->paused = false;
      if (!all_paused_) resume.push_back({ps->topic, ps->partition});
    }
    paused += ps->paused ? 1 : 0;
  }
  bool over = inflight_records_ >= m.max_inflight_total || inflight_bytes_ >= m.max_inflight_bytes;
  bool under =
      inflight_records_ < m.max_inflight_total / 2 && inflight_bytes_ < m.max_inflight_bytes / 2;
  if (!all_paused_ && over) {
    all_paused_ = true;
    for (auto& [key, ps] : partitions_) pause.push_back({ps->topic, ps->partition});
  } else if (all_paused_ && under) {
    all_paused_ = false;
    for (auto& [key, ps] : partitions_) {
      if (!ps->paused && !ps->failed) resume.push_back({ps->topic, ps->partition});
    }
  }
  if (!pause.empty()) consumer_->Pause(pause).PermitUnchecked();
  if (!resume.empty()) consumer_->Resume(resume).PermitUnchecked();
  probe_.SetPaused(all_paused_ ? static_cast<int64_t>(partitions_.size()) : paused);
  probe_.SetInflight(inflight_records_, inflight_bytes_);
}

void Flow::ResyncFailed() {
  resync_needed_ = false;
  auto now = now_();
  std::vector<PartitionState*> due;
  for (auto& [key, sp] : partitions_) {
    PartitionState& ps = *sp;
    if (!ps.failed) continue;
    // Only once every report of the failed epoch is in does the target's tail tell the truth.
    if (ps.inflight > 0 || now < ps.retry_at) {
      resync_needed_ = true;
      continue;
    }
    if (ps.target_topic.empty() && !ps.residency_refused) {
      auto it = topics_.find(ps.topic);
      if (it == topics_.end() || !it->second.error.empty()) {
        ps.retry_at = now + 5s;
        resync_needed_ = true;
        continue;
      }
      ps.target_topic = it->second.target;
      ps.target_rkt = producer_->TopicHandle(ps.target_topic);
    }
    due.push_back(&ps);
  }
  auto resumes = ResumePositions(due);
  for (size_t i = 0; i < due.size(); ++i) {
    PartitionState& ps = *due[i];
    const auto& resume = resumes[i];
    if (!resume.ok()) {
      // A takeover wait was logged when it began and is in /healthz until it ends.
      if (resume.error().code != "mirror.takeover") {
        RM_LOG_WARN("flow {}: resync of {}[{}] failed: {}; retrying", name_, ps.topic, ps.partition,
                    resume.error().message);
      }
      ps.retry_at = now + (resume.error().code == "mirror.takeover" ? 500ms
                           : IsScanBound(resume.error())            ? 30s
                                                                    : 2s);
      resync_needed_ = true;
      continue;
    }
    ++ps.epoch;
    ps.tracker = std::make_unique<CompletionTracker>(*resume);
    ps.last_committed = std::min(ps.last_committed, resume->value());
    auto st = consumer_->Seek({ps.topic, ps.partition, resume->value()}, kAdminTimeout);
    if (!st.ok()) {
      RM_LOG_WARN("flow {}: seek of {}[{}]: {}", name_, ps.topic, ps.partition, st.error().message);
      ps.retry_at = now + 2s;
      resync_needed_ = true;
      continue;
    }
    ps.failed = false;
    ps.first_refused = SourceOffset();  // the resume position is at or below it: copied again
    if (!all_paused_ && !ps.paused) {
      consumer_->Resume({{ps.topic, ps.partition}}).PermitUnchecked();
    }
  }
}

void Flow::CommitOffsets(bool sync) {
  if (sink_) {
    if (auto st = sink_->Checkpoint(); !st.ok()) {
      RM_LOG_ERROR("flow {}: offset map checkpoint failed: {}", name_, st.error().message);
      probe_.AddError("checkpoint");
    }
  }
  std::vector<TopicPartition> offsets;
  for (auto& [key, ps] : partitions_) {
    // Every commit carries the owner mark: a commit without it would erase the mark the next
    // owner relies on. A partition being released commits once more to say so.
    if (ps->failed && !ps->releasing) continue;
    int64_t c = ps->failed ? ps->last_committed : ps->tracker->committable().value();
    std::string mark = MarkOf(*ps);
    if (c < 0 || mark.empty()) continue;
    if (c > ps->last_committed || ps->releasing) {
      offsets.push_back({ps->topic, ps->partition, c, std::move(mark)});
    }
  }
  if (offsets.empty()) return;
  auto st = consumer_->Commit(offsets, !sync);
  if (!st.ok()) {
    // Commits are bookkeeping (the target is the truth); a rejected one is retried next time.
    RM_LOG_DEBUG("flow {}: {}", name_, st.error().message);
    probe_.AddError("commit");
    return;
  }
  for (const auto& tp : offsets) {
    if (auto it = partitions_.find({tp.topic, tp.partition}); it != partitions_.end()) {
      it->second->last_committed = tp.offset;
    }
  }
}

void Flow::UpdateLag() {
  for (auto& [key, ps] : partitions_) {
    auto cached = consumer_->CachedWatermarks(ps->topic, ps->partition);
    const int64_t lo = cached ? cached->low : 0, hi = cached ? cached->high : 0;
    if (cached && hi >= 0) {
      probe_.SetLag(ps->topic, ps->partition,
                    std::max<int64_t>(0, hi - (ps->tracker->last_seen().value() + 1)));
      // Offsets hook: the cached low watermark is the source log start; the offset map's runs
      // below it can go (the pruning itself happens off this thread).
      if (hooks_ && lo >= 0) hooks_->OnSourceLogStart(ps->key, SourceOffset(lo));
    }
  }
  if (flow_.placement) ReportCopyLag();
  auto stalled = std::chrono::duration_cast<std::chrono::seconds>(now_() - last_delivery_);
  if (inflight_records_ > 0 && stalled > 30s) {
    SetHealth("target", fmt::format("target cluster {} has acknowledged nothing for {} s ({} "
                                    "records in flight)",
                                    flow_.target, stalled.count(), inflight_records_));
  } else {
    SetHealth("target", "");
  }
}

void Flow::ReportCopyLag() {
  // Per copy (remote topic), the worst of its partitions: 0 when everything the source holds
  // (as of the consumer's last fetch) is copied, else the age of the newest record copied, i.e.
  // how old the copy's view is. Partitions that copied nothing yet say nothing.
  std::map<std::string, std::optional<int64_t>> lag;
  for (auto& [key, ps] : partitions_) {
    if (ps->residency_refused || ps->target_topic.empty()) continue;
    auto& worst = lag[ps->target_topic];
    auto cached = consumer_->CachedWatermarks(ps->topic, ps->partition);
    const int64_t hi = cached ? cached->high : -1;
    const bool caught_up = !ps->failed && hi >= 0 && ps->tracker->pending() == 0 &&
                           ps->tracker->last_seen().value() + 1 >= hi;
    std::optional<int64_t> l;
    if (caught_up) {
      l = 0;
    } else if (ps->last_copied_timestamp_ms > 0) {
      l = std::max<int64_t>(0, NowMs() - ps->last_copied_timestamp_ms);
    }
    if (l) worst = std::max(worst.value_or(0), *l);
  }
  for (const auto& [topic, l] : lag) {
    if (l) flow_.placement->OnCopyLag(topic, std::chrono::milliseconds(*l));
  }
}

bool Flow::WaitInflight(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = now_() + timeout;
  while (!done()) {
    if (now_() > deadline) return false;
    now_ms_ = NowMs();
    producer_->Poll(10ms);
  }
  return true;
}

Status Flow::Run(const std::atomic<bool>& stop) {
  if (!Start(stop)) return Status::Ok();
  while (Step()) {
  }
  return Finish();
}

bool Flow::Start(const std::atomic<bool>& stop) {
  stop_ = &stop;
  RM_LOG_INFO("flow {}: starting ({} -> {}, group {}.{})", name_, flow_.source, flow_.target,
              config_.mirror.group_prefix, name_);
  if (!AcquireFlow(stop)) {
    consumer_->Close();
    return false;
  }
  Refresh();
  auto now = now_();
  next_refresh_ = now + std::chrono::milliseconds(config_.mirror.refresh_interval_ms);
  next_commit_ = now + std::chrono::milliseconds(config_.mirror.commit_interval_ms);
  next_checkpoint_ = now + std::chrono::milliseconds(config_.offsets.checkpoint_interval_ms);
  next_lag_ = now + lag_interval_;
  batch_.reserve(1024);
  return true;
}

bool Flow::Step() {
  // A fatal producer error (a refusal under the gapless guarantee) ends the loop: the Mirror
  // builds a new Flow, which resumes from the target's tail, never above a refused record.
  if (stop_->load() || ProducerFailed()) return false;
  // Consume what is there (bounded, so delivery reports are served often), serve delivery
  // reports, and when neither had anything wait for whichever comes first: a report is
  // served as soon as it arrives, not after a consumer poll times out.
  wakeup_.Clear();
  size_t consumed = 0;
  for (int round = 0; round < 16; ++round) {
    batch_.clear();
    size_t n = consumer_->PollBatch(1024, &batch_);
    if (n == 0) break;
    consumed += n;
    Reserve(batch_);
    for (auto& msg : batch_) HandleMessage(std::move(msg));
    now_ms_ = NowMs();
    producer_->Poll(0ms);
  }
  now_ms_ = NowMs();
  if (producer_->Poll(0ms) == 0 && consumed == 0) {
    wakeup_.Wait(5ms);
    now_ms_ = NowMs();
    producer_->Poll(0ms);
  }
  DrainCompleted();
  ApplyBackpressure();
  if (resync_needed_) ResyncFailed();
  if (subscription_dirty_) UpdateSubscription();

  auto now = now_();
  if (now >= next_refresh_) {
    Refresh();
    next_refresh_ = now + std::chrono::milliseconds(config_.mirror.refresh_interval_ms);
  }
  if (now >= next_commit_) {
    CommitOffsets(false);
    next_commit_ = now + std::chrono::milliseconds(config_.mirror.commit_interval_ms);
    next_checkpoint_ = now + std::chrono::milliseconds(config_.offsets.checkpoint_interval_ms);
  } else if (sink_ && now >= next_checkpoint_) {
    if (auto st = sink_->Checkpoint(); !st.ok()) {
      RM_LOG_ERROR("flow {}: offset map checkpoint failed: {}", name_, st.error().message);
      probe_.AddError("checkpoint");
    }
    next_checkpoint_ = now + std::chrono::milliseconds(config_.offsets.checkpoint_interval_ms);
  }
  if (now >= next_lag_) {
    UpdateLag();
    next_lag_ = now + lag_interval_;
  }
  if (now >= next_lease_) {
    KeepFlow();
    next_lease_ = now + 200ms;
  }
  return true;
}

Status Flow::Finish() {
  // Drain: stop reading, let in-flight records land, record and commit them, leave the group.
  std::vector<TopicPartition> all;
  for (auto& [key, ps] : partitions_) all.push_back({ps->topic, ps->partition});
  if (!all.empty()) consumer_->Pause(all).PermitUnchecked();
  if (!fatal_error_.empty()) {
    // Nothing more will be delivered after a fatal error, and librdkafka 2.0.2 was seen to
    // leave a record neither sent nor reported then (the drain, and the rebalance's drain
    // after it, each waited out drain_timeout_ms). Fail what is queued or in flight now:
    // those reports come back as purged, and the next flow resumes from the target's tail.
    producer_->PurgeAll();
  }
  bool drained = WaitInflight(std::chrono::milliseconds(config_.mirror.drain_timeout_ms),
                              [this] { return inflight_records_ == 0; });
  if (!drained) {
    RM_LOG_WARN(
        "flow {}: {} records still in flight after {} ms; they are not committed and "
        "will be resolved from the target on the next start",
        name_, inflight_records_, config_.mirror.drain_timeout_ms);
  }
  DrainCompleted();
  CommitOffsets(/*sync=*/true);
  consumer_->Close();
  if (!fatal_error_.empty()) {
    return Error{"mirror.fatal", fmt::format("flow {}: {}", name_, fatal_error_)};
  }
  RM_LOG_INFO("flow {}: stopped", name_);
  return Status::Ok();
}

}  // namespace rm::mirror
