#include "src-cdc/postgres/flush_tracker.h"

namespace rm::cdc::postgres {

uint64_t FlushTracker::Register() {
  std::lock_guard lock(mu_);
  window_.push_back(0);
  ++unacked_;
  return next_seq_++;
}

void FlushTracker::Ack(uint64_t seq, const common::Status& status) {
  std::lock_guard lock(mu_);
  if (!status.ok()) {
    if (!failure_) failure_ = status.error();
    cv_.notify_all();
    return;
  }
  if (seq < acked_prefix_ || seq >= next_seq_) return;  // duplicate or unknown: ignore
  uint8_t& slot = window_[seq - acked_prefix_];
  if (slot) return;
  slot = 1;
  --unacked_;
  AdvanceLocked();
}

void FlushTracker::AddBoundary(Lsn lsn) {
  std::lock_guard lock(mu_);
  if (!boundaries_.empty() && boundaries_.back().first == next_seq_) {
    // No record since the previous boundary: the later position supersedes it.
    if (boundaries_.back().second < lsn) boundaries_.back().second = lsn;
  } else {
    boundaries_.emplace_back(next_seq_, lsn);
  }
  AdvanceLocked();
}

void FlushTracker::AdvanceLocked() {
  if (!failure_) {
    while (!window_.empty() && window_.front()) {
      window_.pop_front();
      ++acked_prefix_;
    }
  }
  while (!boundaries_.empty() && boundaries_.front().first <= acked_prefix_) {
    if (safe_ < boundaries_.front().second) safe_ = boundaries_.front().second;
    boundaries_.pop_front();
  }
  cv_.notify_all();
}

Lsn FlushTracker::SafeLsn() const {
  std::lock_guard lock(mu_);
  return safe_;
}

uint64_t FlushTracker::InFlight() const {
  std::lock_guard lock(mu_);
  return unacked_;
}

uint64_t FlushTracker::Registered() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

uint64_t FlushTracker::AckedPrefix() const {
  std::lock_guard lock(mu_);
  return acked_prefix_;
}

std::optional<common::Error> FlushTracker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool FlushTracker::WaitAllAcked(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return failure_ || acked_prefix_ == next_seq_; }) &&
         !failure_;
}

}  // namespace rm::cdc::postgres
