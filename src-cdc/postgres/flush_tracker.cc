#include "src-cdc/postgres/flush_tracker.h"

namespace rm::cdc::postgres {

uint64_t FlushTracker::Register() {
  std::lock_guard lock(mu_);
  return prefix_.Register();
}

void FlushTracker::Ack(uint64_t seq, const common::Status& status) {
  std::lock_guard lock(mu_);
  if (!status.ok()) {
    // Any failed delivery stops the capture, even one whose seq is a duplicate or unknown.
    prefix_.Fail(status.error());
    cv_.notify_all();
    return;
  }
  if (prefix_.Ack(seq, status) > 0) ReleaseBoundariesLocked();
}

void FlushTracker::AddBoundary(Lsn lsn) {
  std::lock_guard lock(mu_);
  const uint64_t registered = prefix_.registered();
  if (!boundaries_.empty() && boundaries_.back().first == registered) {
    // No record since the previous boundary: the later position supersedes it.
    if (boundaries_.back().second < lsn) boundaries_.back().second = lsn;
  } else {
    boundaries_.emplace_back(registered, lsn);
  }
  ReleaseBoundariesLocked();
}

void FlushTracker::ReleaseBoundariesLocked() {
  while (!boundaries_.empty() && prefix_.Covers(boundaries_.front().first)) {
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
  return prefix_.unacked();
}

uint64_t FlushTracker::Registered() const {
  std::lock_guard lock(mu_);
  return prefix_.registered();
}

uint64_t FlushTracker::AckedPrefix() const {
  std::lock_guard lock(mu_);
  return prefix_.acked_prefix();
}

std::optional<common::Error> FlushTracker::failure() const {
  std::lock_guard lock(mu_);
  return prefix_.failure();
}

bool FlushTracker::WaitAllAcked(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const auto all_acked = [this] { return prefix_.outstanding() == 0; };
  cv_.wait_for(lock, timeout, [&] { return prefix_.failure() || all_acked(); });
  return !prefix_.failure() && all_acked();
}

}  // namespace rm::cdc::postgres
