// AckTracker: decides which commit log position may be checkpointed and which segments may be
// deleted, from sink acknowledgements that arrive out of order on another thread.
//
// The guarantee, in one sentence: SafePosition() and the segments TakeDoneSegments() returns
// are covered by an acknowledged prefix — every event registered before them was acked ok.
// How:
//   1. Register() numbers each event before it is handed to the sink (0, 1, 2, ...).
//   2. Ack(seq, status) may arrive in any order, from any thread; the tracker keeps the length
//      of the acknowledged prefix (events 0..n-1 all acked ok).
//   3. AddBoundary(pos) after a mutation's events says "once every event registered so far is
//      acked, everything before `pos` is delivered"; AddSegmentDone(id) after a segment's last
//      mutation says the same of the whole segment.
//   4. SafePosition() is the latest boundary inside the acked prefix; TakeDoneSegments() hands
//      out (once) the segments whose mark is inside it.
// A failed ack freezes the prefix for good: nothing after it ever becomes safe, and failure()
// reports the error so the capture stops (a restart resumes from the checkpoint).
// Steps 1 and 2 and the freeze are common::AckedPrefix; the marks of step 3 are this class's.
//
// Thread-safe. Shared (shared_ptr) with the sink's ack callbacks, which may outlive the capture.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "common/acked_prefix.h"
#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"

namespace rm::cdc::cassandra {

class AckTracker {
 public:
  uint64_t Register();
  void Ack(uint64_t seq, const common::Status& status);
  void AddBoundary(CommitLogPosition position);
  void AddSegmentDone(int64_t segment_id);

  std::optional<CommitLogPosition> SafePosition() const;
  // SafePosition() with the number of boundaries inside the acked prefix (the n-th
  // AddBoundary() call is covered when boundaries >= n), read together: the capture ties what
  // else it persists with a position (a stopped table's spill length) to boundary numbers.
  struct Safe {
    std::optional<CommitLogPosition> position;
    uint64_t boundaries = 0;
  };
  Safe SafePoint() const;
  std::vector<int64_t> TakeDoneSegments();

  // Events registered and not yet inside the acked prefix (what the in-flight cap counts: it
  // also bounds the tracker's own memory).
  uint64_t InFlight() const;
  uint64_t Registered() const;
  std::optional<common::Error> failure() const;
  // How long events have been waiting with no ack moving the acknowledged prefix: zero when
  // nothing is in flight. For health checks (a Kafka that stopped acknowledging).
  std::chrono::steady_clock::duration StalledFor() const;

  // Waits until InFlight() < limit (true), or the timeout passes or an ack failed (false).
  bool WaitInFlightBelow(uint64_t limit, std::chrono::milliseconds timeout) const;
  // Waits until every registered event is acked ok.
  bool WaitAllAcked(std::chrono::milliseconds timeout) const {
    return WaitInFlightBelow(1, timeout);
  }

 private:
  struct Mark {
    uint64_t registered_before = 0;
    std::optional<CommitLogPosition> position;  // a boundary
    int64_t done_segment = 0;                   // when no position: a finished segment
  };
  void ReleaseMarksLocked();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  common::AckedPrefix prefix_;
  std::deque<Mark> marks_;
  std::optional<CommitLogPosition> safe_;
  uint64_t safe_boundaries_ = 0;
  std::vector<int64_t> done_;
  // When the acknowledged prefix last moved, or the first event was registered after it had
  // caught up.
  std::chrono::steady_clock::time_point progress_at_ = std::chrono::steady_clock::now();
};

}  // namespace rm::cdc::cassandra
