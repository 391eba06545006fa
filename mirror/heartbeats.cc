#include "mirror/heartbeats.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "common/result.h"
#include "offsets/mm2_format.h"

namespace rm::mirror {

using namespace std::chrono_literals;

namespace {
constexpr auto kTopicTimeout = 5s;
constexpr auto kTopicRetry = 10s;
}  // namespace

HeartbeatEmitter::HeartbeatEmitter(const replication::MirrorConfig& config,
                                   prometheus::Registry& registry) {
  auto& emitted = prometheus::BuildCounter()
                      .Name("rm_mirror_heartbeats_emitted_total")
                      .Help("MM2 heartbeats handed to the target's producer, per cluster pair")
                      .Register(registry);
  auto& last = prometheus::BuildGauge()
                   .Name("rm_mirror_heartbeat_last_emitted_timestamp_seconds")
                   .Help("Wall-clock time of the last heartbeat emitted, per cluster pair")
                   .Register(registry);
  for (const auto& hb : config.heartbeats) {
    const replication::ClusterConfig* dst = config.FindCluster(hb.target);
    if (!dst) {
      throw common::ConfigError(fmt::format("heartbeats: unknown cluster '{}'", hb.target));
    }
    Target& t = targets_[hb.target];
    if (!t.writer) {
      const std::string ctx = fmt::format("heartbeats into {}", hb.target);
      t.writer = std::make_unique<offsets::kafka::KafkaRecordWriter>(dst->ClientProperties(), ctx);
      t.admin = std::make_unique<common::AdminClient>(dst->ClientProperties(), ctx + " admin");
    }
    t.replication_factor = std::max(t.replication_factor, hb.replication_factor);
    const prometheus::Labels labels = {{"source", hb.source}, {"target", hb.target}};
    pairs_.push_back({hb, &t, {}, &emitted.Add(labels), &last.Add(labels)});
  }
}

HeartbeatEmitter::~HeartbeatEmitter() { Stop(); }

void HeartbeatEmitter::Start() {
  if (pairs_.empty() || thread_.joinable()) return;
  std::string list;
  for (const auto& p : pairs_) {
    list += fmt::format("{}{}->{} every {} ms", list.empty() ? "" : ", ", p.pair.source,
                        p.pair.target, p.pair.interval_ms);
  }
  RM_LOG_INFO("heartbeats: {} (topic '{}' on each target)", list, replication::kHeartbeatsTopic);
  thread_ = std::thread([this] { Loop(); });
}

void HeartbeatEmitter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [alias, t] : targets_) {
    if (auto st = t.writer->Flush(5s); !st.ok()) {
      RM_LOG_WARN("heartbeats into {}: not all acknowledged at exit: {}", alias,
                  st.error().message);
    }
  }
}

void HeartbeatEmitter::Loop() {
  std::map<std::string, Clock::time_point> topic_retry;
  while (true) {
    const auto now = Clock::now();
    for (auto& [alias, t] : targets_) {
      if (t.topic_ready || now < topic_retry[alias]) continue;
      // Control plane, off the data path: may block a few seconds on a slow target.
      auto st = offsets::kafka::EnsureInternalTopic(*t.admin, replication::kHeartbeatsTopic,
                                                    "compact", kTopicTimeout, &t.create_supported,
                                                    t.replication_factor);
      if (st.ok()) {
        t.topic_ready = true;
      } else {
        RM_LOG_WARN("heartbeats into {}: topic {} not ready ({}), retrying in {} s", alias,
                    replication::kHeartbeatsTopic, st.error().message, kTopicRetry.count());
        topic_retry[alias] = Clock::now() + kTopicRetry;
      }
    }
    Clock::time_point wake = Clock::now() + 1s;
    for (auto& p : pairs_) {
      if (!p.target->topic_ready) continue;  // retried within a second, see above
      const auto t = Clock::now();
      if (t >= p.next) {
        const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        auto record =
            offsets::mm2::Encode(offsets::mm2::Heartbeat{p.pair.source, p.pair.target, ms});
        // Aliases are short (validated), so encoding cannot fail; a full queue (target down for
        // long) skips this beat: the next one says the same, later.
        if (record.ok() &&
            p.target->writer->Write(replication::kHeartbeatsTopic,
                                    offsets::kafka::kInternalTopicPartition, *record)) {
          emitted_.fetch_add(1);
          p.emitted->Increment();
          p.last_emitted->Set(static_cast<double>(ms) / 1000.0);
        }
        p.next = t + std::chrono::milliseconds(p.pair.interval_ms);
      }
      wake = std::min(wake, p.next);
    }
    for (auto& [alias, t] : targets_) t.writer->Poll();
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, std::max(wake, Clock::now() + 1ms), [this] { return stop_; })) return;
  }
}

}  // namespace rm::mirror
