#include "src-cdc/cassandra/ack_tracker.h"

#include <utility>

namespace rm::cdc::cassandra {

uint64_t AckTracker::Register() {
  std::lock_guard lock(mu_);
  if (window_.empty()) progress_at_ = std::chrono::steady_clock::now();
  window_.push_back(0);
  return next_seq_++;
}

void AckTracker::Ack(uint64_t seq, const common::Status& status) {
  std::lock_guard lock(mu_);
  if (seq < acked_prefix_ || seq >= next_seq_) return;  // duplicate or unknown: ignore
  if (!status.ok()) {
    if (!failure_) failure_ = status.error();
    cv_.notify_all();
    return;
  }
  window_[seq - acked_prefix_] = 1;
  AdvanceLocked();
}

void AckTracker::AddBoundary(CommitLogPosition position) {
  std::lock_guard lock(mu_);
  marks_.push_back(Mark{next_seq_, position, 0});
  AdvanceLocked();
}

void AckTracker::AddSegmentDone(int64_t segment_id) {
  std::lock_guard lock(mu_);
  marks_.push_back(Mark{next_seq_, std::nullopt, segment_id});
  AdvanceLocked();
}

void AckTracker::AdvanceLocked() {
  if (failure_) return;  // frozen: nothing after a failed event becomes safe
  const uint64_t before = acked_prefix_;
  while (!window_.empty() && window_.front() != 0) {
    window_.pop_front();
    ++acked_prefix_;
  }
  if (acked_prefix_ != before) progress_at_ = std::chrono::steady_clock::now();
  while (!marks_.empty() && marks_.front().registered_before <= acked_prefix_) {
    Mark& m = marks_.front();
    if (m.position) {
      safe_ = m.position;
    } else {
      done_.push_back(m.done_segment);
    }
    marks_.pop_front();
  }
  cv_.notify_all();
}

std::optional<CommitLogPosition> AckTracker::SafePosition() const {
  std::lock_guard lock(mu_);
  return safe_;
}

std::vector<int64_t> AckTracker::TakeDoneSegments() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

uint64_t AckTracker::InFlight() const {
  std::lock_guard lock(mu_);
  return next_seq_ - acked_prefix_;
}

uint64_t AckTracker::Registered() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

std::chrono::steady_clock::duration AckTracker::StalledFor() const {
  std::lock_guard lock(mu_);
  if (window_.empty()) return {};
  return std::chrono::steady_clock::now() - progress_at_;
}

std::optional<common::Error> AckTracker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool AckTracker::WaitInFlightBelow(uint64_t limit, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return failure_ || next_seq_ - acked_prefix_ < limit; });
  return !failure_ && next_seq_ - acked_prefix_ < limit;
}

}  // namespace rm::cdc::cassandra
