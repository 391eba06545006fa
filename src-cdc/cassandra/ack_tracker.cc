#include "src-cdc/cassandra/ack_tracker.h"

#include <utility>

namespace rm::cdc::cassandra {

uint64_t AckTracker::Register() {
  std::lock_guard lock(mu_);
  if (prefix_.outstanding() == 0) progress_at_ = std::chrono::steady_clock::now();
  return prefix_.Register();
}

void AckTracker::Ack(uint64_t seq, const common::Status& status) {
  std::lock_guard lock(mu_);
  if (prefix_.Ack(seq, status) > 0) progress_at_ = std::chrono::steady_clock::now();
  ReleaseMarksLocked();
}

void AckTracker::AddBoundary(CommitLogPosition position) {
  std::lock_guard lock(mu_);
  marks_.push_back(Mark{prefix_.registered(), position, 0});
  ReleaseMarksLocked();
}

void AckTracker::AddSegmentDone(int64_t segment_id) {
  std::lock_guard lock(mu_);
  marks_.push_back(Mark{prefix_.registered(), std::nullopt, segment_id});
  ReleaseMarksLocked();
}

void AckTracker::ReleaseMarksLocked() {
  // Once frozen, nothing after a failed event becomes safe.
  while (!prefix_.failure() && !marks_.empty() &&
         prefix_.Covers(marks_.front().registered_before)) {
    Mark& m = marks_.front();
    if (m.position) {
      safe_ = m.position;
      ++safe_boundaries_;
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

AckTracker::Safe AckTracker::SafePoint() const {
  std::lock_guard lock(mu_);
  return Safe{safe_, safe_boundaries_};
}

std::vector<int64_t> AckTracker::TakeDoneSegments() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

uint64_t AckTracker::InFlight() const {
  std::lock_guard lock(mu_);
  return prefix_.outstanding();
}

uint64_t AckTracker::Registered() const {
  std::lock_guard lock(mu_);
  return prefix_.registered();
}

std::chrono::steady_clock::duration AckTracker::StalledFor() const {
  std::lock_guard lock(mu_);
  if (prefix_.outstanding() == 0) return {};
  return std::chrono::steady_clock::now() - progress_at_;
}

std::optional<common::Error> AckTracker::failure() const {
  std::lock_guard lock(mu_);
  return prefix_.failure();
}

bool AckTracker::WaitInFlightBelow(uint64_t limit, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const auto below = [&] { return prefix_.outstanding() < limit; };
  cv_.wait_for(lock, timeout, [&] { return prefix_.failure() || below(); });
  return !prefix_.failure() && below();
}

}  // namespace rm::cdc::cassandra
