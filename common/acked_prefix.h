// AckedPrefix: the length of the acknowledged prefix of a numbered event stream, from
// acknowledgements that arrive out of order — the core of the CDC trackers that decide what
// may be checkpointed (src-cdc/postgres/flush_tracker.h, src-cdc/cassandra/ack_tracker.h).
//
// The guarantee, in one sentence: Covers(n) is true only once events 0..n-1 were all acked ok.
// How:
//   1. Register() numbers each event before it is handed on (0, 1, 2, ...).
//   2. Ack(seq, status) may arrive in any order. An event acked ok past a gap waits in the
//      window until the gap closes; then the prefix moves over it, and Ack() returns by how
//      many events it moved.
//   3. A caller that wants something done "once every event registered so far is acked" records
//      registered() with it and does it once Covers() that count.
// A failed ack freezes the prefix for good: nothing after it is ever covered, and failure()
// keeps the first error.
//
//   registered events:  0 .......... acked_prefix() ......................... registered()
//                       [ all acked ok )[ window: one state per event, any order )
//
// Not thread-safe: its owner calls it under the owner's mutex (the owner also keeps the
// condition variable its waiters sleep on). Memory: one byte per event past the prefix.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "common/result.h"

namespace rm::common {

class AckedPrefix {
 public:
  // Numbers the next event.
  uint64_t Register();
  // Records the outcome of event `seq` and returns how many events the prefix moved over
  // (0 when it did not move). A seq outside [acked_prefix(), registered()) — a duplicate or an
  // event never registered — is ignored, as is a second ok ack. A failed ack freezes the prefix.
  uint64_t Ack(uint64_t seq, const Status& status);
  // Freezes the prefix for a failure that no registered event can be named for.
  void Fail(Error error);

  // Covered: every event registered before `registered_before` is acked ok.
  bool Covers(uint64_t registered_before) const { return registered_before <= acked_prefix_; }
  uint64_t registered() const { return next_seq_; }
  uint64_t acked_prefix() const { return acked_prefix_; }
  // Events past the prefix, acked or not: the window the prefix still has to cross.
  uint64_t outstanding() const { return next_seq_ - acked_prefix_; }
  // Events not acked ok (those acked ok past a gap do not count).
  uint64_t unacked() const { return unacked_; }
  const std::optional<Error>& failure() const { return failure_; }

 private:
  uint64_t next_seq_ = 0;
  uint64_t acked_prefix_ = 0;   // events [0, acked_prefix_) are acked ok
  uint64_t unacked_ = 0;        // events not acked ok
  std::deque<uint8_t> window_;  // ack state of events [acked_prefix_, next_seq_): 1 = acked ok
  std::optional<Error> failure_;
};

}  // namespace rm::common
