// Keeps remote topics' configs in step with their source topics' (MirrorMaker 2's
// `sync.topic.configs.enabled` / `sync.topic.configs.interval.seconds`), off the data path.
//
// TargetTopics copies a source topic's configs when it creates the remote topic; a config
// changed on the source later (retention.ms raised, cleanup.policy switched) reaches the remote
// topic here. Every `FlowConfig::sync_topic_configs_interval_ms`, for each source topic the flow
// copies (its TopicFilter; a topic its placement refuses is left alone) whose remote topic exists
// on the target:
//   wanted = the source topic's own configs minus `config_properties_exclude`
//          + the target topic's own values of the excluded configs
// and when the target topic's own configs differ from `wanted`, they are replaced by it.
// So a min.insync.replicas set on the target stays, and a config removed from the source is
// removed from the copy. librdkafka 2.0.2 has no IncrementalAlterConfigs: the whole set is
// written with AlterConfigs (MM2's `use.incremental.alter.configs = never`).
//
// A topic that cannot be described or altered (no ACL, a config the target refuses) is reported
// once per distinct error at warning level and asked again each interval (an ACL may be granted
// later); the other topics go on. A request that times out ends the round: every other request
// to that cluster would wait as long (the testbed's mock: librdkafka 2.0.2 sends DescribeConfigs
// and AlterConfigs to the controller, which the mock never names, and the mock has no handler
// for either request anyway).
//
// Threading: TopicConfigSync is used from one thread. TopicConfigSyncer runs every flow's sync
// on one thread of its own: Start() spawns it, Stop() or the destructor joins it (a round in
// progress finishes its current request first, at most a few seconds).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_admin.h"
#include "common/result.h"
#include "mirror/target_topics.h"
#include "replication/config.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"

namespace rm::mirror {

class TopicConfigSync {
 public:
  // `flow`, `source` and `target` must outlive this object.
  TopicConfigSync(const replication::FlowConfig& flow, TopicAdmin& source, TopicAdmin& target);

  struct Round {
    int topics = 0;   // remote topics compared
    int altered = 0;  // remote topics whose configs were replaced
    int failed = 0;   // topics that could not be described or altered
  };
  // One pass over the flow's topics. Errors: listing either cluster failed.
  common::Result<Round> SyncOnce();

 private:
  const replication::FlowConfig& flow_;
  TopicAdmin& source_;
  TopicAdmin& target_;
  std::unique_ptr<replication::ReplicationPolicy> policy_;
  replication::TopicFilter filter_;
  replication::RegexList exclude_;
  std::set<std::string> reported_;  // "<topic>: <error code>" already logged at warning level
};

// The admin clients of one flow's sync: the real ones own librdkafka clients.
struct ConfigSyncAdmins {
  std::unique_ptr<common::AdminClient> source_client, target_client;
  std::unique_ptr<TopicAdmin> source, target;
};
using ConfigSyncAdminFactory = std::function<ConfigSyncAdmins(const replication::FlowConfig&)>;

class TopicConfigSyncer {
 public:
  // Builds the admin clients of every enabled flow with `sync_topic_configs` (`factory`: for
  // tests; default: librdkafka admin clients with the flow's source_admin / target_admin
  // properties). Throws ConfigError for bad client properties.
  explicit TopicConfigSyncer(const replication::MirrorConfig& config,
                             ConfigSyncAdminFactory factory = nullptr);
  ~TopicConfigSyncer();
  TopicConfigSyncer(const TopicConfigSyncer&) = delete;
  TopicConfigSyncer& operator=(const TopicConfigSyncer&) = delete;

  void Start();
  void Stop();
  // Remote topics whose configs were replaced so far, over all flows.
  uint64_t altered() const { return altered_.load(); }
  // Rounds finished so far, over all flows.
  uint64_t rounds() const { return rounds_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct FlowSync {
    replication::FlowConfig flow;
    ConfigSyncAdmins admins;
    std::unique_ptr<TopicConfigSync> sync;
    Clock::time_point next{};
    bool listing_reported = false;
  };

  void Loop();

  std::vector<std::unique_ptr<FlowSync>> flows_;
  std::atomic<uint64_t> altered_{0}, rounds_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rm::mirror
