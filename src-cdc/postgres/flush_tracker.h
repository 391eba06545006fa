// FlushTracker: decides which WAL position may be confirmed to the server.
//
// The guarantee, in one sentence: the position returned by SafeLsn() is at most the end of a
// transaction all of whose records (and all records before them) were acknowledged ok by
// the sink. How:
//   1. Register() numbers each record before it is handed to the sink (0, 1, 2, ...).
//   2. Ack(seq, status) may arrive in any order, from any thread; the tracker keeps the
//      length of the acknowledged prefix (records 0..n-1 all acked ok).
//   3. AddBoundary(lsn) after a transaction's last record says "once every record
//      registered so far is acked, `lsn` is safe" (a commit's end LSN, or an idle
//      keepalive's WAL end when no transaction is open).
//   4. SafeLsn() is the highest boundary whose records form part of the acked prefix.
// A failed ack freezes the prefix for good: nothing after it is ever confirmed, and
// failure() reports the error so the capture stops (a restart resumes from SafeLsn()).
// Steps 1 and 2 and the freeze are common::AckedPrefix; the boundaries of step 3 are this
// class's.
//
// Thread-safe. Shared (shared_ptr) with the sink's callbacks, which may outlive the capture.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "common/acked_prefix.h"
#include "common/result.h"
#include "src-cdc/postgres/lsn.h"

namespace rm::cdc::postgres {

class FlushTracker {
 public:
  uint64_t Register();
  void Ack(uint64_t seq, const common::Status& status);
  void AddBoundary(Lsn lsn);

  Lsn SafeLsn() const;
  // Records registered but not acked.
  uint64_t InFlight() const;
  uint64_t Registered() const;
  uint64_t AckedPrefix() const;
  std::optional<common::Error> failure() const;

  // Waits until every registered record is acked (true) or the timeout passes or an ack
  // failed (false).
  bool WaitAllAcked(std::chrono::milliseconds timeout) const;

 private:
  void ReleaseBoundariesLocked();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  common::AckedPrefix prefix_;
  std::deque<std::pair<uint64_t, Lsn>> boundaries_;  // (records registered before, lsn)
  Lsn safe_;
};

}  // namespace rm::cdc::postgres
