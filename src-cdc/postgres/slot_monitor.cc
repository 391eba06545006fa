#include "src-cdc/postgres/slot_monitor.h"

#include <fmt/format.h>

#include "common/log.h"

namespace rm::cdc::postgres {

using common::Error;
using common::Result;
using common::Status;

SlotMonitor::SlotMonitor(ConnectionParams params, std::string slot,
                         std::chrono::milliseconds interval, std::shared_ptr<CaptureProbe> probe)
    : params_(std::move(params)),
      slot_(std::move(slot)),
      interval_(interval),
      probe_(std::move(probe)) {}

SlotMonitor::~SlotMonitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SlotMonitor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SlotMonitor::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto r = Check();
    if (!r.ok()) RM_LOG_WARN("postgres slot monitor: {}", r.error().message);
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

std::string SlotMonitor::settings_warning() const {
  std::lock_guard lock(mu_);
  return settings_warning_;
}

Status SlotMonitor::CheckSettings() {
  std::string warning;
  if (conn_->server_version() < 130000) {
    warning = fmt::format(
        "{} runs PostgreSQL {} which has no max_slot_wal_keep_size: slot {} can retain WAL "
        "until the disk is full; watch rm_cdc_postgres_slot_retained_wal_bytes",
        params_.Describe(), conn_->server_version() / 10000, slot_);
  } else {
    auto r = conn_->Exec("SELECT current_setting('max_slot_wal_keep_size')");
    if (!r.ok()) return r.error();
    std::string value = r->rows.empty() ? "" : r->rows[0][0].value_or("");
    if (value == "-1") {
      warning = fmt::format(
          "max_slot_wal_keep_size is -1 (unlimited) on {}: while the capture is down or Kafka "
          "does not acknowledge, slot {} retains WAL until the primary's disk is full. Set "
          "max_slot_wal_keep_size (the slot is then invalidated instead, and a new snapshot is "
          "needed) and watch rm_cdc_postgres_slot_retained_wal_bytes",
          params_.Describe(), slot_);
    }
  }
  if (!warning.empty() && !warned_) {
    RM_LOG_WARN("postgres slot monitor: {}", warning);
    warned_ = true;
  }
  std::lock_guard lock(mu_);
  settings_warning_ = std::move(warning);
  return Status::Ok();
}

Result<SlotRetention> SlotMonitor::Check() {
  auto fail = [this](Error e) -> Result<SlotRetention> {
    probe_->add_slot_check_error();
    conn_.reset();
    return e;
  };
  if (!conn_) {
    auto c = PgConnection::Connect(params_);
    if (!c.ok()) return fail(c.error());
    conn_.emplace(std::move(*c));
    if (auto st = CheckSettings(); !st.ok()) return fail(st.error());
  }
  // wal_status and safe_wal_size exist from PostgreSQL 13 on.
  const bool pg13 = conn_->server_version() >= 130000;
  auto r = conn_->Exec(
      fmt::format("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, "
                  "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, {} "
                  "FROM pg_replication_slots WHERE slot_name = $1",
                  pg13 ? "wal_status, safe_wal_size" : "NULL::text, NULL::bigint"),
      {slot_});
  if (!r.ok()) return fail(r.error());
  SlotRetention s;
  if (!r->rows.empty()) {
    const auto& row = r->rows[0];
    auto bytes = [](const std::optional<std::string>& v) -> uint64_t {
      if (!v) return 0;
      int64_t n = std::stoll(*v);
      return n > 0 ? static_cast<uint64_t>(n) : 0;
    };
    s.slot_exists = true;
    s.retained_bytes = bytes(row[0]);
    s.confirmed_lag_bytes = bytes(row[1]);
    s.wal_status = row[2].value_or("");
    if (row[3]) s.safe_wal_size = std::stoll(*row[3]);
  }
  probe_->set_slot_retention(s);
  return s;
}

}  // namespace rm::cdc::postgres
