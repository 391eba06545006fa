#include "src-cdc/postgres/capture_metrics.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace rm::cdc::postgres {
namespace {

prometheus::Counter& AddCounter(prometheus::Registry& registry, const std::string& name,
                                const std::string& help, const std::string& slot) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({{"slot", slot}});
}

prometheus::Gauge& AddGauge(prometheus::Registry& registry, const std::string& name,
                            const std::string& help, const std::string& slot) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({{"slot", slot}});
}

}  // namespace

void CaptureMetrics::Total::Follow(uint64_t total) {
  if (total > seen) counter->Increment(static_cast<double>(total - seen));
  seen = total;
}

CaptureMetrics::CaptureMetrics(prometheus::Registry& registry, std::shared_ptr<CaptureProbe> probe,
                               const std::string& slot)
    : probe_(std::move(probe)),
      slot_(slot),
      produced_{&AddCounter(registry, "rm_cdc_postgres_events_produced_total",
                            "Change events handed to the sink (snapshot rows and streamed).",
                            slot)},
      acked_{&AddCounter(registry, "rm_cdc_postgres_events_acked_total",
                         "Change events the sink acknowledged as stored.", slot)},
      failed_{&AddCounter(registry, "rm_cdc_postgres_events_failed_total",
                          "Change events the sink failed to store.", slot)},
      snapshot_rows_{&AddCounter(registry, "rm_cdc_postgres_snapshot_rows_total",
                                 "Rows read by the initial snapshot.", slot)},
      transactions_{&AddCounter(registry, "rm_cdc_postgres_transactions_total",
                                "Committed transactions streamed.", slot)},
      heartbeats_{&AddCounter(registry, "rm_cdc_postgres_heartbeats_total",
                              "Heartbeat rows written so the slot advances while tables are idle.",
                              slot)},
      slot_errors_{&AddCounter(registry, "rm_cdc_postgres_slot_check_errors_total",
                               "Slot retention measurements that failed.", slot)},
      inflight_(AddGauge(registry, "rm_cdc_postgres_inflight_events",
                         "Events handed to the sink and not yet acknowledged.", slot)),
      rate_(AddGauge(registry, "rm_cdc_postgres_events_per_second",
                     "Change events produced per second (last interval).", slot)),
      slot_lag_(AddGauge(registry, "rm_cdc_postgres_slot_lag_bytes",
                         "WAL bytes the slot holds back: server WAL end - confirmed flush LSN.",
                         slot)),
      received_(AddGauge(registry, "rm_cdc_postgres_received_lsn",
                         "Last WAL position received from the server.", slot)),
      confirmed_(AddGauge(registry, "rm_cdc_postgres_confirmed_flush_lsn",
                          "Last WAL position confirmed to the server (everything before it is "
                          "stored in Kafka).",
                          slot)),
      wal_end_(AddGauge(registry, "rm_cdc_postgres_server_wal_end_lsn",
                        "The server's WAL end as of its last message.", slot)),
      streaming_(AddGauge(registry, "rm_cdc_postgres_streaming",
                          "1 while streaming changes, 0 before (connecting, snapshot).", slot)),
      retained_wal_(AddGauge(registry, "rm_cdc_postgres_slot_retained_wal_bytes",
                             "WAL the primary keeps for the slot: pg_current_wal_lsn() - "
                             "restart_lsn, as the server reports it.",
                             slot)),
      confirmed_lag_(AddGauge(registry, "rm_cdc_postgres_slot_confirmed_lag_bytes",
                              "pg_current_wal_lsn() - confirmed_flush_lsn, as the server "
                              "reports it.",
                              slot)),
      safe_wal_size_(AddGauge(registry, "rm_cdc_postgres_slot_safe_wal_size_bytes",
                              "WAL that can still be written before the slot loses WAL "
                              "(max_slot_wal_keep_size); -1 unlimited or unknown.",
                              slot)),
      stopped_family_(prometheus::BuildGauge()
                          .Name("rm_cdc_table_stopped")
                          .Help("1 while a captured table is stopped at an incompatible schema "
                                "change (reason: the rules broken); removed once it streams "
                                "again after accept-schema.")
                          .Register(registry)),
      incompatible_family_(prometheus::BuildCounter()
                               .Name("rm_cdc_schema_incompatible_changes_total")
                               .Help("Incompatible schema changes found (each stops its table).")
                               .Register(registry)) {}

void CaptureMetrics::Update(std::chrono::steady_clock::time_point now) {
  CaptureProbe& p = *probe_;
  p.Tick(now);
  // Read acks before produced: a concurrent ack can then only make inflight look larger.
  uint64_t acked = p.events_acked(), failed = p.events_failed();
  uint64_t produced = p.events_produced();
  produced_.Follow(produced);
  acked_.Follow(acked);
  failed_.Follow(failed);
  snapshot_rows_.Follow(p.snapshot_rows());
  transactions_.Follow(p.transactions());
  heartbeats_.Follow(p.heartbeats());
  uint64_t completed = acked + failed;
  outstanding_ = produced > completed ? produced - completed : 0;
  inflight_.Set(static_cast<double>(outstanding_));
  rate_.Set(p.events_per_second());
  slot_lag_.Set(static_cast<double>(p.slot_lag_bytes()));
  received_.Set(static_cast<double>(p.received_lsn()));
  confirmed_.Set(static_cast<double>(p.confirmed_flush_lsn()));
  wal_end_.Set(static_cast<double>(p.server_wal_end()));
  streaming_.Set(p.streaming() ? 1 : 0);
  slot_errors_.Follow(p.slot_check_errors());
  retention_ = p.slot_retention();
  if (retention_) {
    retained_wal_.Set(static_cast<double>(retention_->retained_bytes));
    confirmed_lag_.Set(static_cast<double>(retention_->confirmed_lag_bytes));
    safe_wal_size_.Set(retention_->safe_wal_size ? static_cast<double>(*retention_->safe_wal_size)
                                                 : -1);
  }
  if (schema_) UpdateSchema();
  if (completed != last_completed_ || outstanding_ == 0 ||
      last_progress_.time_since_epoch().count() == 0) {
    last_completed_ = completed;
    last_progress_ = now;
  }
  last_update_ = now;
}

void CaptureMetrics::UpdateSchema() {
  auto stopped = schema_->Stopped();
  if (stopped != stopped_) {
    for (const auto& t : stopped_) {
      stopped_family_.Remove(
          &stopped_family_.Add({{"slot", slot_}, {"table", t.table}, {"reason", t.reason}}));
    }
    for (const auto& t : stopped) {
      stopped_family_.Add({{"slot", slot_}, {"table", t.table}, {"reason", t.reason}}).Set(1);
    }
    stopped_ = std::move(stopped);
  }
  for (const auto& [table, n] : schema_->IncompatibleChanges()) {
    auto it = incompatible_.find(table);
    if (it == incompatible_.end()) {
      it =
          incompatible_
              .emplace(table, Total{&incompatible_family_.Add({{"slot", slot_}, {"table", table}})})
              .first;
    }
    it->second.Follow(n);
  }
}

std::string CaptureMetrics::Unhealthy(std::chrono::milliseconds ack_timeout,
                                      uint64_t slot_lag_unhealthy_bytes) const {
  std::vector<std::string> reasons;
  if (outstanding_ != 0 && last_update_ - last_progress_ >= ack_timeout) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(last_update_ - last_progress_);
    reasons.push_back(fmt::format("the sink has acknowledged no event for {} s ({} outstanding)",
                                  secs.count(), outstanding_));
  }
  if (retention_ && retention_->wal_status == "lost") {
    reasons.push_back(fmt::format(
        "replication slot {} lost WAL it needed (wal_status lost, max_slot_wal_keep_size "
        "exceeded): changes are missing; a new snapshot is needed",
        slot_));
  } else if (retention_ && slot_lag_unhealthy_bytes > 0 &&
             retention_->retained_bytes > slot_lag_unhealthy_bytes) {
    std::string safe = retention_->safe_wal_size ? fmt::format(", {} bytes before it loses WAL",
                                                               *retention_->safe_wal_size)
                                                 : "";
    reasons.push_back(fmt::format(
        "replication slot {} retains {} bytes of WAL ({:.1f} MiB; limit "
        "slot_lag_unhealthy_bytes {}; wal_status {}{})",
        slot_, retention_->retained_bytes,
        static_cast<double>(retention_->retained_bytes) / (1 << 20), slot_lag_unhealthy_bytes,
        retention_->wal_status.empty() ? "unknown" : retention_->wal_status, safe));
  }
  return fmt::format("{}", fmt::join(reasons, "; "));
}

}  // namespace rm::cdc::postgres
