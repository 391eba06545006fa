#include "mirror/topic_config_sync.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "common/log.h"

namespace rm::mirror {

using common::Result;

namespace {
// A cluster that does not answer (librdkafka 2.0.2 waits for a controller first, which the
// testbed's mock never names) makes every request of the round wait as long: the round stops.
bool TimedOut(const common::Error& e) { return e.code == "_TIMED_OUT" || e.code == "TIMED_OUT"; }

std::string Every(int64_t ms) {
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
}
}  // namespace

TopicConfigSync::TopicConfigSync(const replication::FlowConfig& flow, TopicAdmin& source,
                                 TopicAdmin& target)
    : flow_(flow),
      source_(source),
      target_(target),
      policy_(replication::MakeReplicationPolicy(flow.policy, flow.separator)),
      filter_(flow, *policy_),
      exclude_(flow.config_properties_exclude) {}

Result<TopicConfigSync::Round> TopicConfigSync::SyncOnce() {
  auto sources = source_.ListTopics();
  if (!sources.ok()) return sources.error();
  auto targets = target_.ListTopics();
  if (!targets.ok()) return targets.error();
  Round round;
  // Logged at warning level once per topic and error code; later repeats at debug level.
  auto report = [&](const std::string& topic, const common::Error& e, const char* what) {
    ++round.failed;
    if (reported_.insert(fmt::format("{}: {} {}", topic, what, e.code)).second) {
      RM_LOG_WARN(
          "{}: cannot {} of topic {} ({}); its remote topic's configs are not kept in step "
          "until this works (asked again every {})",
          flow_.name(), what, topic, e.message, Every(flow_.sync_topic_configs_interval_ms));
    } else {
      RM_LOG_DEBUG("{}: cannot {} of topic {}: {}", flow_.name(), what, topic, e.message);
    }
  };
  for (const auto& [source_topic, partitions] : *sources) {
    if (!filter_.ShouldReplicate(source_topic)) continue;
    if (flow_.placement && flow_.placement->Refusal(source_topic)) continue;
    const std::string remote = policy_->FormatRemoteTopic(flow_.source, source_topic);
    if (!targets->contains(remote)) continue;  // not created yet: TargetTopics copies them then
    ++round.topics;
    auto source_configs = source_.TopicConfigs(source_topic);
    if (!source_configs.ok()) {
      report(source_topic, source_configs.error(), "describe the configs");
      if (TimedOut(source_configs.error())) break;
      continue;
    }
    auto target_configs = target_.TopicConfigs(remote);
    if (!target_configs.ok()) {
      report(remote, target_configs.error(), "describe the configs");
      if (TimedOut(target_configs.error())) break;
      continue;
    }
    std::map<std::string, std::string> wanted =
        CopyableTopicConfigs(std::move(*source_configs), exclude_);
    for (const auto& [name, value] : *target_configs) {
      if (exclude_.Matches(name)) wanted.emplace(name, value);  // the target's own setting
    }
    if (wanted == *target_configs) continue;
    if (auto st = target_.ReplaceTopicConfigs(remote, wanted); !st.ok()) {
      report(remote, st.error(), "alter the configs");
      if (TimedOut(st.error())) break;
      continue;
    }
    ++round.altered;
    std::vector<std::string> changes;
    for (const auto& [name, value] : wanted) {
      auto it = target_configs->find(name);
      if (it == target_configs->end() || it->second != value) {
        changes.push_back(fmt::format("{}={}", name, value));
      }
    }
    for (const auto& [name, value] : *target_configs) {
      if (!wanted.contains(name)) changes.push_back(fmt::format("{} (back to default)", name));
    }
    RM_LOG_INFO("{}: configs of {} synced from {}: {}", flow_.name(), remote, source_topic,
                fmt::join(changes, ", "));
  }
  return round;
}

TopicConfigSyncer::TopicConfigSyncer(const replication::MirrorConfig& config,
                                     ConfigSyncAdminFactory factory) {
  if (!factory) {
    factory = [&config](const replication::FlowConfig& fl) {
      // The same clients the flow's own admin clients are: the cluster's properties, then the
      // flow's admin overrides (mm2.properties' A->B.source.admin.*, ...).
      auto props = [&config](const std::string& alias, const common::KafkaProperties& extra) {
        common::KafkaProperties p = config.FindCluster(alias)->ClientProperties();
        for (const auto& [k, v] : extra) p[k] = v;
        return p;
      };
      const std::string ctx = fmt::format("{} topic configs", fl.name());
      ConfigSyncAdmins a;
      a.source_client = std::make_unique<common::AdminClient>(props(fl.source, fl.source_admin),
                                                              ctx + " source admin");
      a.target_client = std::make_unique<common::AdminClient>(props(fl.target, fl.target_admin),
                                                              ctx + " target admin");
      a.source = MakeKafkaTopicAdmin(*a.source_client);
      a.target = MakeKafkaTopicAdmin(*a.target_client);
      return a;
    };
  }
  for (const auto& fl : config.flows) {
    if (!fl.enabled || !fl.sync_topic_configs) continue;
    auto f = std::make_unique<FlowSync>();
    f->flow = fl;
    f->admins = factory(f->flow);
    f->sync = std::make_unique<TopicConfigSync>(f->flow, *f->admins.source, *f->admins.target);
    flows_.push_back(std::move(f));
  }
}

TopicConfigSyncer::~TopicConfigSyncer() { Stop(); }

void TopicConfigSyncer::Start() {
  if (flows_.empty() || thread_.joinable()) return;
  // The first round waits one interval: remote topics get the source's configs when they are
  // created, at start.
  for (auto& f : flows_) {
    f->next = Clock::now() + std::chrono::milliseconds(f->flow.sync_topic_configs_interval_ms);
    RM_LOG_INFO("{}: remote topics' configs kept in step with the source every {}", f->flow.name(),
                Every(f->flow.sync_topic_configs_interval_ms));
  }
  thread_ = std::thread([this] { Loop(); });
}

void TopicConfigSyncer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TopicConfigSyncer::Loop() {
  while (true) {
    Clock::time_point wake = Clock::time_point::max();
    for (auto& f : flows_) {
      if (Clock::now() >= f->next) {
        // Control plane: each request may block up to the admin timeout.
        auto round = f->sync->SyncOnce();
        if (!round.ok()) {
          if (!f->listing_reported) {
            RM_LOG_WARN("{}: cannot list topics to sync their configs ({}); retrying every {}",
                        f->flow.name(), round.error().message,
                        Every(f->flow.sync_topic_configs_interval_ms));
            f->listing_reported = true;
          }
        } else {
          altered_.fetch_add(static_cast<uint64_t>(round->altered));
        }
        rounds_.fetch_add(1);
        f->next = Clock::now() + std::chrono::milliseconds(f->flow.sync_topic_configs_interval_ms);
      }
      wake = std::min(wake, f->next);
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, wake, [this] { return stop_; })) return;
  }
}

}  // namespace rm::mirror
