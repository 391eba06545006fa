// SlotMonitor: measures, on its own SQL connection, how much WAL the capture's replication
// slot makes the primary keep, so that a Kafka outage or a crash loop is seen (metrics,
// /healthz) long before the primary's disk fills.
//
// Lifecycle: construct, Start() (first measurement right away, then every `interval` on the
// monitor's thread), destroy (stops the thread, closes the connection). Check() runs one
// measurement on the caller's thread, for tests and for callers without a thread; do not mix
// the two on one monitor. The connection is opened on first use and reopened after an error;
// it is an ordinary (non-replication) session with the statement timeout and keepalives of
// `params`, so a stuck server fails the query instead of stalling the monitor.
//
// What it reads: pg_replication_slots (restart_lsn, confirmed_flush_lsn, and from PG13
// wal_status and safe_wal_size) against pg_current_wal_lsn(); once per connection, the
// server's max_slot_wal_keep_size: when it is -1 (unlimited) a slot can fill the disk, which
// is logged as a warning (once per monitor). Results go to the CaptureProbe
// (set_slot_retention, add_slot_check_error). Nothing is written to the server.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "src-cdc/postgres/capture_probe.h"
#include "src-cdc/postgres/replication.h"

namespace rm::cdc::postgres {

class SlotMonitor {
 public:
  SlotMonitor(ConnectionParams params, std::string slot, std::chrono::milliseconds interval,
              std::shared_ptr<CaptureProbe> probe);
  ~SlotMonitor();
  SlotMonitor(const SlotMonitor&) = delete;
  SlotMonitor& operator=(const SlotMonitor&) = delete;

  void Start();

  // One measurement; also stored in the probe. Errors ("pg.connect", "pg.query") are counted
  // in the probe and drop the connection so the next call reconnects.
  common::Result<SlotRetention> Check();

  // The warning about the server's settings from the last connection, "" when none (e.g.
  // "max_slot_wal_keep_size is -1 (unlimited) on ...: slot regionmirror can fill the disk").
  std::string settings_warning() const;

 private:
  common::Status CheckSettings();
  void Loop();

  ConnectionParams params_;
  const std::string slot_;
  const std::chrono::milliseconds interval_;
  std::shared_ptr<CaptureProbe> probe_;
  std::optional<PgConnection> conn_;  // used by one thread at a time (Check's caller)
  bool warned_ = false;               // the settings warning was logged once

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;             // guarded by mu_
  std::string settings_warning_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rm::cdc::postgres
