// CaptureProbe: the capture's metrics, as plain atomics with getters, so that the process's
// metrics registry (common/) can publish them without the capture knowing about it.
// Written by the capture thread and the sink's ack callbacks; read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace rm::cdc::postgres {

// The slot's WAL retention as the server reports it (SlotMonitor's last measurement).
struct SlotRetention {
  bool slot_exists = false;
  // pg_current_wal_lsn() - restart_lsn: WAL the server keeps on disk for this slot.
  uint64_t retained_bytes = 0;
  // pg_current_wal_lsn() - confirmed_flush_lsn: changes not yet confirmed as stored.
  uint64_t confirmed_lag_bytes = 0;
  // pg_replication_slots.wal_status (reserved, extended, unreserved, lost); "" if unknown.
  std::string wal_status;
  // pg_replication_slots.safe_wal_size: bytes that can still be written before the slot is
  // at risk of losing WAL; nullopt when unlimited (max_slot_wal_keep_size = -1) or unknown.
  std::optional<int64_t> safe_wal_size;
};

class CaptureProbe {
 public:
  // ---- written by the capture
  void add_event_produced() { events_produced_.fetch_add(1, std::memory_order_relaxed); }
  void add_event_acked(bool ok) {
    (ok ? events_acked_ : events_failed_).fetch_add(1, std::memory_order_relaxed);
  }
  void add_snapshot_row() { snapshot_rows_.fetch_add(1, std::memory_order_relaxed); }
  void add_transaction() { transactions_.fetch_add(1, std::memory_order_relaxed); }
  void add_heartbeat() { heartbeats_.fetch_add(1, std::memory_order_relaxed); }
  void set_server_wal_end(uint64_t lsn) { server_wal_end_.store(lsn, std::memory_order_relaxed); }
  void set_received_lsn(uint64_t lsn) { received_lsn_.store(lsn, std::memory_order_relaxed); }
  void set_confirmed_flush_lsn(uint64_t lsn) {
    confirmed_flush_lsn_.store(lsn, std::memory_order_relaxed);
  }
  void set_streaming(bool v) { streaming_.store(v, std::memory_order_relaxed); }
  // ---- written by the SlotMonitor
  void set_slot_retention(SlotRetention r) {
    std::lock_guard lock(retention_mu_);
    retention_ = std::move(r);
  }
  void add_slot_check_error() { slot_check_errors_.fetch_add(1, std::memory_order_relaxed); }

  // Updates the events/s rate from the produced counter; call about once a second.
  void Tick(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(rate_mu_);
    uint64_t produced = events_produced();
    if (last_tick_.time_since_epoch().count() != 0) {
      double secs = std::chrono::duration<double>(now - last_tick_).count();
      if (secs > 0) {
        events_per_second_.store(static_cast<double>(produced - last_produced_) / secs,
                                 std::memory_order_relaxed);
      }
    }
    last_tick_ = now;
    last_produced_ = produced;
  }

  // ---- read by anyone
  uint64_t events_produced() const { return events_produced_.load(std::memory_order_relaxed); }
  uint64_t events_acked() const { return events_acked_.load(std::memory_order_relaxed); }
  uint64_t events_failed() const { return events_failed_.load(std::memory_order_relaxed); }
  uint64_t snapshot_rows() const { return snapshot_rows_.load(std::memory_order_relaxed); }
  uint64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }
  uint64_t heartbeats() const { return heartbeats_.load(std::memory_order_relaxed); }
  uint64_t server_wal_end() const { return server_wal_end_.load(std::memory_order_relaxed); }
  uint64_t received_lsn() const { return received_lsn_.load(std::memory_order_relaxed); }
  uint64_t confirmed_flush_lsn() const {
    return confirmed_flush_lsn_.load(std::memory_order_relaxed);
  }
  bool streaming() const { return streaming_.load(std::memory_order_relaxed); }
  // Bytes of WAL the slot holds back: server WAL end minus the confirmed flush position.
  uint64_t slot_lag_bytes() const {
    uint64_t end = server_wal_end(), flushed = confirmed_flush_lsn();
    return end > flushed ? end - flushed : 0;
  }
  double events_per_second() const { return events_per_second_.load(std::memory_order_relaxed); }
  // The last measurement of the slot monitor; nullopt before its first.
  std::optional<SlotRetention> slot_retention() const {
    std::lock_guard lock(retention_mu_);
    return retention_;
  }
  uint64_t slot_check_errors() const { return slot_check_errors_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> events_produced_{0};
  std::atomic<uint64_t> events_acked_{0};
  std::atomic<uint64_t> events_failed_{0};
  std::atomic<uint64_t> snapshot_rows_{0};
  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> server_wal_end_{0};
  std::atomic<uint64_t> received_lsn_{0};
  std::atomic<uint64_t> confirmed_flush_lsn_{0};
  std::atomic<bool> streaming_{false};
  std::atomic<double> events_per_second_{0};
  std::atomic<uint64_t> slot_check_errors_{0};
  mutable std::mutex retention_mu_;
  std::optional<SlotRetention> retention_;  // guarded by retention_mu_
  std::mutex rate_mu_;
  std::chrono::steady_clock::time_point last_tick_{};
  uint64_t last_produced_ = 0;
};

}  // namespace rm::cdc::postgres
