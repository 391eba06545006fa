// In-order completion of one source partition's records.
//
// Delivery reports can complete records out of order (and a filtered record completes at
// once), but a source position may be committed, and an offset run recorded, only once every
// record before it is durably in the target (docs/architecture.md, invariant 1). The tracker:
//   1. Add(s) when record s is handed to the producer (s increasing; gaps allowed: compacted
//      offsets and transaction markers are simply never added);
//   2. Skip(s) for a record deliberately not copied (cycle guard): complete, but no target;
//   3. Delivered(slot, t) when the target acknowledged the copy at offset t;
//   4. Drain() pops the completed prefix, reporting each delivered (s, t) in source order,
//      and advances committable() to the offset after the last popped record.
// Not thread-safe: owned by one flow's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "common/offset_types.h"

namespace rm::mirror {

class CompletionTracker {
 public:
  // `next` is the first source offset this tracker will see (the resume position).
  explicit CompletionTracker(common::SourceOffset next) : committable_(next) {}

  // Returns the slot to pass to Delivered().
  uint64_t Add(common::SourceOffset source);
  void Skip(common::SourceOffset source);
  void Delivered(uint64_t slot, common::TargetOffset target);

  // Pops the completed prefix; calls on_delivered(source, target) for each copied record in
  // source order. Returns the number of records popped.
  size_t Drain(const std::function<void(common::SourceOffset, common::TargetOffset)>& on_delivered);

  // Everything below this source offset is done: the offset to commit.
  common::SourceOffset committable() const { return committable_; }
  // Records added (or skipped) and not yet popped.
  size_t pending() const { return entries_.size(); }
  // The last source offset added or skipped (or committable()-1 if none yet).
  common::SourceOffset last_seen() const { return last_seen_; }

 private:
  struct Entry {
    int64_t source;
    int64_t target;  // -1 while in flight
    bool done;
  };
  std::deque<Entry> entries_;
  uint64_t front_slot_ = 0;  // slot number of entries_.front()
  common::SourceOffset committable_;
  common::SourceOffset last_seen_{committable_ - 1};
};

}  // namespace rm::mirror
