// Configuration of `regionmirror run`: clusters, flows and the mirror's own settings, read
// from our YAML file or from a MirrorMaker 2 `mm2.properties` file.
//
// Loading throws common::ConfigError listing every problem at once, each naming the file and
// the field ("mirror.yaml: flows[1].topics[0]: bad regex '(' ..."). Keys we do not support are
// never silently ignored: YAML rejects them, mm2.properties lists them in
// MirrorConfig::warnings (logged at startup).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/admin_api_config.h"
#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "replication/placement.h"
#include "replication/record_transforms.h"

namespace rm::replication {

struct ClusterConfig {
  // Name of the cluster in flows and in remote topic names ("us-east"). Required.
  std::string alias;
  // librdkafka bootstrap.servers. Required.
  std::string bootstrap_servers;
  // librdkafka properties for every client of this cluster (TLS, SASL, ...). Default: none
  common::KafkaProperties properties;

  // What a client of this cluster starts from: `properties` plus bootstrap.servers.
  common::KafkaProperties ClientProperties() const {
    common::KafkaProperties props = properties;
    props["bootstrap.servers"] = bootstrap_servers;
    return props;
  }
};

enum class PolicyKind { kDefault, kIdentity };
// The words of `replication_policy` (default, identity), with Kafka's class names
// (DefaultReplicationPolicy, org.apache.kafka.connect.mirror.DefaultReplicationPolicy, ...)
// accepted as aliases: for every file that names a replication policy.
const std::vector<common::EnumWord<PolicyKind>>& PolicyWords();

struct FlowConfig {
  std::string source;  // cluster alias. Required.
  std::string target;  // cluster alias. Required.
  // Regexes (full match) of source topics to mirror. Default: [".*"]
  std::vector<std::string> topics = {".*"};
  // Regexes of source topics never mirrored (checked after `topics`).
  // Default: internal topics ("__.*", ".*\.internal", ".*-internal", "mm2-.*", ".*[-.]replica").
  std::vector<std::string> topics_exclude = DefaultTopicsExclude();
  // Remote topic naming: kDefault = "<source><separator><topic>", kIdentity = "<topic>".
  // Default: kDefault
  PolicyKind policy = PolicyKind::kDefault;
  // Separator of the default policy. Default: "."
  std::string separator = ".";
  // Regexes of consumer groups whose offsets are translated to the target. Default: [".*"]
  std::vector<std::string> groups = {".*"};
  // Regexes of groups never translated. Default: ["console-consumer-.*", "connect-.*", "__.*"]
  std::vector<std::string> groups_exclude = {"console-consumer-.*", "connect-.*", "__.*"};
  // A disabled flow is validated but not run. Default: true
  bool enabled = true;
  // librdkafka properties for this flow's clients, applied after the cluster's `properties` and
  // the mirror: section's: the source consumer, the target producer, the admin clients of
  // either side. Set from mm2.properties' client prefixes (see mm2_clients.h). Default: none
  common::KafkaProperties consumer;
  common::KafkaProperties producer;
  common::KafkaProperties source_admin;
  common::KafkaProperties target_admin;
  // The placement rules this flow obeys (residency of each topic, copy lag for read routing);
  // set by `run --topology`, never read from a file. Default: none (copy what `topics` selects)
  std::shared_ptr<FlowPlacement> placement;
  // Replication factor of the remote topics the mirror creates (MirrorMaker 2's
  // `replication.factor`); -1 leaves it to the target brokers' default.
  // Default: -1
  int replication_factor = -1;
  // Remote topics get the source topic's own configs (those set on the topic), minus
  // `config_properties_exclude`, when they are created and every
  // `sync_topic_configs_interval_ms` after (mirror/topic_config_sync.h), as MirrorMaker 2's
  // `sync.topic.configs.enabled`. false: the target's defaults only. Default: true
  bool sync_topic_configs = true;
  // How often remote topics' configs are brought in line with their source topics' (MM2's
  // `sync.topic.configs.interval.seconds`). Default: 600000
  int64_t sync_topic_configs_interval_ms = 600'000;
  // Regexes (full match) of topic configs never copied: they describe the source cluster's
  // replication, throttling or timestamp policy rather than the data (MM2's
  // `config.properties.exclude`). A target topic keeps its own value of these. Default: MM2's
  // list (DefaultConfigPropertiesExclude)
  std::vector<std::string> config_properties_exclude = DefaultConfigPropertiesExclude();
  // Replication factor of the internal topics this flow's offsets integration creates on the
  // target: mm2-offset-syncs.<source>.internal and <source>.checkpoints.internal (MM2's
  // `offset-syncs.topic.replication.factor`, `checkpoints.topic.replication.factor`). -1: the
  // target brokers' default. A value above the target's broker count fails the creation with an
  // error naming the setting, as in MM2. Default: -1
  int offset_syncs_replication_factor = -1;
  int checkpoints_replication_factor = -1;
  // Copy MirrorMaker 2 heartbeat topics ("heartbeats", "<alias>.heartbeats", ...) whatever
  // `topics` and `topics_exclude` say, as MM2 does: they tell consumers on the target which
  // clusters are upstream and that the links are alive. Set when heartbeats are on.
  // Default: false
  bool replicate_heartbeats = false;
  // Per-flow overrides of the offsets: section (mm2.properties' A->B.emit.checkpoints.enabled,
  // A->B.sync.group.offsets.enabled, A->B.emit.checkpoints.interval.seconds, ...); unset: the
  // section's value. See MirrorConfig::OffsetsFor.
  std::optional<bool> emit_checkpoints;
  std::optional<bool> sync_group_offsets;
  std::optional<int64_t> group_interval_ms;
  std::optional<int64_t> refresh_groups_interval_ms;
  // Transforms applied to each record without decoding it (Filter, InsertHeader, DropHeaders;
  // record_transforms.h). Default: none
  RecordTransforms transforms;

  std::string name() const { return source + "->" + target; }
  static std::vector<std::string> DefaultTopicsExclude() {
    return {"__.*", ".*\\.internal", ".*-internal", "mm2-.*", ".*[-.]replica"};
  }
  static std::vector<std::string> DefaultConfigPropertiesExclude() {
    return {"follower\\.replication\\.throttled\\.replicas",
            "leader\\.replication\\.throttled\\.replicas",
            "message\\.timestamp\\.difference\\.max\\.ms",
            "message\\.timestamp\\.type",
            "unclean\\.leader\\.election\\.enable",
            "min\\.insync\\.replicas"};
  }
};

struct MirrorSettings {
  // How often source topics and partitions are listed to find new ones. Default: 10000
  int64_t refresh_interval_ms = 10000;
  // Source offsets are committed (after delivery) at most this often. Default: 1000
  int64_t commit_interval_ms = 1000;
  // Records copied but not yet acknowledged by the target, per partition; above it the
  // partition is paused. Default: 20000
  int64_t max_inflight_per_partition = 20000;
  // The same over all partitions of a flow; above it every partition is paused. Default: 200000
  int64_t max_inflight_total = 200000;
  // Bytes of in-flight records per flow; above it every partition is paused. Default: 268435456
  int64_t max_inflight_bytes = 256LL << 20;
  // Prefix of the source consumer group of each flow: "<prefix>.<source>-<target>".
  // Default: "regionmirror"
  std::string group_prefix = "regionmirror";
  // Where a partition starts when the target holds nothing of it and the group has no
  // committed offset: "earliest" or "latest". Default: "earliest"
  std::string start_from = "earliest";
  // On SIGTERM, how long to wait for in-flight records before exiting. Default: 30000
  int64_t drain_timeout_ms = 30000;
  // A partition taken over from an instance that did not release it (killed, or stalled past
  // its session) may still receive records that instance had handed to its producer, up to
  // the source offset it reserved (mirror/README.md, "Fencing a paused instance"). The new
  // owner waits up to this long for them to land before it copies from the target's tail;
  // past it, it copies anyway and says so. 0: no wait. Default: 10000
  int64_t takeover_wait_ms = 10000;
  // One consumer group per flow: instances of another group on the same flow copy nothing
  // while this one claims it within this long (mirror/flow_lease.h), and take over once it
  // has been silent this long. Default: 30000
  int64_t flow_lease_ms = 30000;
  // When partitions are assigned, the target's tail is read to find where to resume, inside
  // the rebalance (nothing is copied meanwhile). Per partition, at most this many records are
  // read (walking back to the last copy, or from the offset map's last durable copy); past it
  // the partition does not start and /healthz says why. Default: 1000000
  int64_t tail_scan_max_records = 1'000'000;
  // The same scan's time bound, over all partitions of the rebalance. Default: 120000
  int64_t tail_scan_timeout_ms = 120'000;
  // librdkafka properties for every source consumer / target producer (after the cluster's).
  common::KafkaProperties consumer;
  common::KafkaProperties producer;
};

struct OffsetsSettings {
  // RocksDB directory of the offset map. Empty: offsets are not recorded. Default: ""
  std::string dir;
  // How often the offset map is made durable. Default: 1000
  int64_t checkpoint_interval_ms = 1000;
  // How often consumer group positions are read and translated. Default: 5000
  int64_t group_interval_ms = 5000;
  // Publish offset syncs and checkpoints to the target (MM2 formats). Default: true
  bool emit_syncs = true;
  bool emit_checkpoints = true;
  // Commit translated offsets to the target's __consumer_offsets for idle groups. Default: false
  bool sync_group_offsets = false;
  // How often the source is asked for its consumer groups (when `groups` has regexes); 0: at
  // every group round. mm2.properties: refresh.groups.interval.seconds (MM2's default 600 s).
  // Default: 0
  int64_t refresh_groups_interval_ms = 0;
};

// MirrorMaker 2's heartbeats (MirrorHeartbeatConnector): every `interval_ms` one record
// (source alias, target alias, now) in the `heartbeats` topic of the target cluster. Flows copy
// those topics onward as "<alias>.heartbeats", so a cluster's heartbeat topics name its upstream
// clusters and show that each link is alive (RemoteClusterUtils.upstreamClusters and
// replicationHops read them).
struct HeartbeatPair {
  std::string source;  // cluster alias
  std::string target;  // cluster alias: the heartbeats topic is written there
  int64_t interval_ms = 1000;
  // Replication factor of the heartbeats topic when it is created (MM2's
  // `heartbeats.topic.replication.factor`); -1: the target brokers' default. Default: -1
  int replication_factor = -1;
};
inline constexpr const char* kHeartbeatsTopic = "heartbeats";

struct MirrorConfig {
  std::vector<ClusterConfig> clusters;
  std::vector<FlowConfig> flows;
  MirrorSettings mirror;
  OffsetsSettings offsets;
  // /healthz and /metrics (common/admin_api_config.h). Default: 127.0.0.1:9700
  common::AdminApiConfig admin{.port = 9700};
  // Heartbeats to emit; empty: none. From our YAML's `heartbeats:` section (every ordered pair
  // of clusters, default off) or MM2's rule in mm2.properties (every ordered pair, unless
  // emit.heartbeats.enabled is false for it).
  std::vector<HeartbeatPair> heartbeats;
  // Non-fatal findings while loading (mm2.properties keys not applied, with the reason), for
  // the log: one readable block each.
  std::vector<std::string> warnings;
  // mm2.properties only: "<key> = <value>" lines for MM2 defaults we applied because the file
  // does not set them, for `run --check`.
  std::vector<std::string> defaulted;

  const ClusterConfig* FindCluster(const std::string& alias) const;
  // The offsets: section with `flow`'s overrides applied.
  OffsetsSettings OffsetsFor(const FlowConfig& flow) const;
  // Every problem with the values, as data (field, why); the loader adds the file and line.
  // Empty when valid.
  std::vector<common::ConfigProblem> Validate() const;
};

// Loads our YAML format (README.md, section "The mirror"). Throws ConfigError.
MirrorConfig LoadMirrorConfigYaml(const std::string& path);
MirrorConfig ParseMirrorConfigYaml(const std::string& text, const std::string& file);
// The same from a parsed document, for files that embed the mirror's sections (the topology's
// `mirror:` and `offsets:`): fills `out` and returns every problem, the reader's and Validate()'s,
// as data (field as written here, why; no file), throwing none of them.
std::vector<common::ConfigProblem> ReadMirrorConfigYaml(const YAML::Node& root, MirrorConfig& out);
// mm2.properties: the key of ours that sets offsets.dir, and its default. A properties file has
// no other place for it, and MM2 users get checkpoints and translation by default.
inline constexpr const char* kMm2OffsetsDirKey = "regionmirror.offsets.dir";
inline constexpr const char* kMm2DefaultOffsetsDir = "/var/lib/regionmirror/mm2-offsets";

// Loads a MirrorMaker 2 properties file (README.md, "Migrating from MirrorMaker 2"). Throws
// ConfigError.
MirrorConfig LoadMm2Properties(const std::string& path);
MirrorConfig ParseMm2Properties(const std::string& text, const std::string& file);
// Chooses by extension: .properties -> MM2, else YAML.
MirrorConfig LoadMirrorConfig(const std::string& path);

}  // namespace rm::replication
