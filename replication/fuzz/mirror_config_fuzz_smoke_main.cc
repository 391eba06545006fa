// Deterministic smoke run of mirror_config_fuzzer.cc for ctest and for builds without
// libFuzzer: the README's configurations as seeds, then seeded mutations (common/fuzz_smoke.h,
// with YAML's punctuation as the special bytes). A crash, an exception other
// than ConfigError or a sanitizer report fails the test.
//
// Usage: mirror_config_fuzz_smoke [iterations]   (default 20000)
//        mirror_config_fuzz_smoke --write-corpus DIR   (the seeds, as a libFuzzer corpus)
#include <cstdint>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// 'Y' + YAML, 'P' + mm2.properties (the target's format byte).
const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      R"yaml(Yclusters:
  - alias: us-east
    bootstrap_servers: "broker1:9092,broker2:9092"
    properties: {security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512, sasl.username: m}
    properties_env: {sasl.password: RM_FUZZ_UNSET_PASSWORD}
  - alias: eu-west
    bootstrap_servers: "broker9:9092"
flows:
  - source: us-east
    target: eu-west
    topics: ["orders.*", "payments"]
    topics_exclude: ["orders\\.tmp"]
    replication_policy: default
    separator: "."
    groups: ["app-.*"]
    replication_factor: -1
    sync_topic_configs: true
    sync_topic_configs_interval_ms: 600000
    config_properties_exclude: ["min\\.insync\\.replicas"]
    transforms:
      - {name: no-debug, type: Filter, predicate: {header: debug}}
      - {name: origin, type: InsertHeader, header: origin, value.literal: us-east}
      - {name: strip, type: DropHeaders, headers: [trace-id]}
mirror:
  refresh_interval_ms: 10000
  max_inflight_per_partition: 20000
  max_inflight_total: 200000
  start_from: earliest
  takeover_wait_ms: 10000
  flow_lease_ms: 30000
  tail_scan_max_records: 1000000
  tail_scan_timeout_ms: 120000
  consumer: {}
  producer: {compression.type: lz4}
offsets:
  dir: offsets
  checkpoint_interval_ms: 1000
  group_interval_ms: 5000
  emit_syncs: true
  emit_checkpoints: true
  sync_group_offsets: false
admin:
  bind: 127.0.0.1
  port: 9700
)yaml",
      "Yclusters:\n  - {alias: a, bootstrap_servers: \"a:9092\"}\n  - {alias: b, "
      "bootstrap_servers: \"b:9092\"}\nflows:\n  - {source: a, target: b, replication_policy: "
      "identity}\n",
      "Pclusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n"
      "A->B.enabled = true\nA->B.topics = orders.*, payments\ntopics.exclude = .*\\\\.tmp\n"
      "groups = app-.*\nreplication.policy.class = "
      "org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n"
      "emit.checkpoints.interval.seconds = 5\nsync.group.offsets.enabled = true\n"
      "A.security.protocol = SASL_SSL\nA.sasl.jaas.config = "
      "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" "
      "password=\"${env:RM_FUZZ_UNSET}\";\n"
      "transforms = f\ntransforms.f.type = org.apache.kafka.connect.transforms.Filter\n"
      "regionmirror.offsets.dir = offsets\n",
  };
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  return rm::common::FuzzSmokeMain(argc, argv, "mirror_config_fuzz_smoke", LLVMFuzzerTestOneInput,
                                   Seeds(), rm::common::kYamlSpecialBytes, 20000, 20261206);
}
