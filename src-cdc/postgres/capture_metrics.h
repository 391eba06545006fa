// CaptureMetrics: publishes a CaptureProbe's figures as Prometheus metrics, for the admin
// API's /metrics of `regionmirror cdc postgres run`. The probe stays free of prometheus-cpp;
// this class owns the names and labels and copies the figures over when Update() is called.
//
//   rm_cdc_postgres_events_produced_total{slot}   events handed to the sink (snapshot + stream)
//   rm_cdc_postgres_events_acked_total{slot}      events the sink stored (Kafka acks)
//   rm_cdc_postgres_events_failed_total{slot}     events the sink failed to store
//   rm_cdc_postgres_inflight_events{slot}         produced - acked - failed
//   rm_cdc_postgres_snapshot_rows_total{slot}     snapshot rows read
//   rm_cdc_postgres_transactions_total{slot}      committed transactions streamed
//   rm_cdc_postgres_heartbeats_total{slot}        heartbeat rows written
//   rm_cdc_postgres_events_per_second{slot}       produce rate over the last Update() interval
//   rm_cdc_postgres_slot_lag_bytes{slot}          WAL the slot holds back (server WAL end -
//                                                 confirmed flush LSN)
//   rm_cdc_postgres_received_lsn{slot}            last LSN received from the server
//   rm_cdc_postgres_confirmed_flush_lsn{slot}     last LSN confirmed to the server
//   rm_cdc_postgres_server_wal_end_lsn{slot}      server WAL end from its last message
//   rm_cdc_postgres_streaming{slot}               1 while streaming, 0 during the snapshot
// From the SlotMonitor (the server's view, measured every slot_lag_check_interval_ms):
//   rm_cdc_postgres_slot_retained_wal_bytes{slot}  pg_current_wal_lsn() - restart_lsn: WAL the
//                                                 primary keeps on disk for the slot
//   rm_cdc_postgres_slot_confirmed_lag_bytes{slot} pg_current_wal_lsn() - confirmed_flush_lsn
//   rm_cdc_postgres_slot_safe_wal_size_bytes{slot} WAL that can still be written before the
//                                                 slot loses WAL; -1 unlimited or unknown
//   rm_cdc_postgres_slot_check_errors_total{slot}  measurements that failed
// From the schema guard (schema.history; after WatchSchema()):
//   rm_cdc_table_stopped{slot,table,reason}       1 while the table is stopped at an
//                                                 incompatible change (reason: the rules
//                                                 broken, e.g. "drop_column,type_change");
//                                                 the series is removed once it streams again
//   rm_cdc_schema_incompatible_changes_total{slot,table}  incompatible changes found
// LSNs are exported as numbers (exact below 2^53 bytes of WAL, 8 PiB).
//
// Threading: Update() from one thread (the CLI's main loop, about once a second); the
// registry is read by the admin server's thread (prometheus-cpp metrics are thread-safe).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "src-cdc/postgres/capture_probe.h"
#include "src-cdc/postgres/schema_guard.h"

namespace rm::cdc::postgres {

class CaptureMetrics {
 public:
  CaptureMetrics(prometheus::Registry& registry, std::shared_ptr<CaptureProbe> probe,
                 const std::string& slot);

  // Also publish the schema guard's stopped tables and incompatible changes (call before the
  // first Update()).
  void WatchSchema(std::shared_ptr<const SchemaStatus> status) { schema_ = std::move(status); }

  // Ticks the probe's rate and copies every figure into the metrics.
  void Update(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Empty while healthy; otherwise every reason, "; "-separated: events have been outstanding
  // without a single ack for `ack_timeout` (Kafka unreachable or refusing); the slot retains
  // more than `slot_lag_unhealthy_bytes` of WAL (0: no limit) or its WAL was removed
  // (wal_status "lost"). Reflects the state as of the last Update().
  std::string Unhealthy(std::chrono::milliseconds ack_timeout,
                        uint64_t slot_lag_unhealthy_bytes = 0) const;

 private:
  // A counter that follows a monotonically growing total.
  struct Total {
    prometheus::Counter* counter;
    uint64_t seen = 0;
    void Follow(uint64_t total);
  };

  void UpdateSchema();

  std::shared_ptr<CaptureProbe> probe_;
  const std::string slot_;
  Total produced_, acked_, failed_, snapshot_rows_, transactions_, heartbeats_, slot_errors_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& rate_;
  prometheus::Gauge& slot_lag_;
  prometheus::Gauge& received_;
  prometheus::Gauge& confirmed_;
  prometheus::Gauge& wal_end_;
  prometheus::Gauge& streaming_;
  prometheus::Gauge& retained_wal_;
  prometheus::Gauge& confirmed_lag_;
  prometheus::Gauge& safe_wal_size_;
  std::shared_ptr<const SchemaStatus> schema_;
  prometheus::Family<prometheus::Gauge>& stopped_family_;
  prometheus::Family<prometheus::Counter>& incompatible_family_;
  std::vector<SchemaStatus::StoppedTable> stopped_;  // the series stopped_family_ holds
  std::map<std::string, Total> incompatible_;        // by table
  std::optional<SlotRetention> retention_;           // as of the last Update()
  // For Unhealthy(): when the acked+failed total last moved, and what is outstanding.
  uint64_t last_completed_ = 0;
  uint64_t outstanding_ = 0;
  std::chrono::steady_clock::time_point last_progress_{};
  std::chrono::steady_clock::time_point last_update_{};
};

}  // namespace rm::cdc::postgres
