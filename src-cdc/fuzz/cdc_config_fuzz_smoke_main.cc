// Deterministic smoke run of cdc_config_fuzzer.cc for ctest and for builds without libFuzzer:
// the README's capture configurations as seeds, then seeded mutations (common/fuzz_smoke.h,
// with YAML's punctuation as the special bytes). A crash, an exception other than ConfigError
// or a sanitizer report fails the test.
//
// Usage: cdc_config_fuzz_smoke [iterations]   (default 20000)
//        cdc_config_fuzz_smoke --write-corpus DIR   (the seeds, as a libFuzzer corpus)
#include <cstdint>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// 'P' + a Postgres capture's YAML, 'C' + a Cassandra capture's (the target's format byte).
const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      R"yaml(Ppostgres:
  connection:
    host: db1.internal
    port: 5432
    dbname: app
    user: regionmirror
    password_env: RM_FUZZ_UNSET_PASSWORD
  admin: {user: postgres, password_env: RM_FUZZ_UNSET_ADMIN_PASSWORD}
  tables: [public.accounts, orders]
  topic_prefix: pg1
  snapshot_mode: initial
  slot_lag_unhealthy_bytes: 1073741824
  schema:
    envelope: json_with_schema
    history: true
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, add.fields: "op,table,source.ts_ms"}
    - {name: tenant, type: InsertField$Value, static.field: tenant_id, static.value: acme}
    - {name: pii, type: ReplaceField, exclude: [email], renames: "customer:client"}
    - {name: amounts, type: Cast, spec: "amount:int64,ratio:float64"}
    - {name: key, type: ValueToKey, fields: [tenant_id, id]}
    - {name: route, type: RegexRouter, regex: "pg1\\.public\\.(.*)", replacement: "a.$1"}
    - {name: f, type: Filter, predicate: {field: client, matches: "test-.*"}}
  errors.tolerance: all
  errors.deadletterqueue.topic.name: pg1.dlq
kafka:
  bootstrap_servers: "broker1:9092,broker2:9092"
  properties: {compression.type: lz4}
  topic_partitions: 6
admin:
  port: 9701
)yaml",
      R"yaml(Ccassandra:
  cdc_raw_dir: .
  state_dir: cass-state
  processed: move:cdc-done
  topic_prefix: cass1
  cluster: Production
  tables:
    cql: |
      CREATE TABLE shop.orders (id uuid PRIMARY KEY, total decimal, tags set<text>,
        m map<int, frozen<list<blob>>>)
        WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true;
  max_in_flight_events: 10000
  schema: {history: true, envelope: json_with_schema}
  transforms: []
kafka:
  bootstrap_servers: "broker1:9092"
  properties: {compression.type: lz4}
admin:
  port: 9702
)yaml",
  };
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  return rm::common::FuzzSmokeMain(argc, argv, "cdc_config_fuzz_smoke", LLVMFuzzerTestOneInput,
                                   Seeds(), rm::common::kYamlSpecialBytes, 20000, 20261206);
}
