#include "mirror/completion_tracker.h"

#include <cassert>

namespace rm::mirror {

uint64_t CompletionTracker::Add(common::SourceOffset source) {
  assert(source > last_seen_);
  last_seen_ = source;
  entries_.push_back({source.value(), -1, false});
  return front_slot_ + entries_.size() - 1;
}

void CompletionTracker::Skip(common::SourceOffset source) {
  assert(source > last_seen_);
  last_seen_ = source;
  entries_.push_back({source.value(), -1, true});
}

void CompletionTracker::Delivered(uint64_t slot, common::TargetOffset target) {
  if (slot < front_slot_ || slot - front_slot_ >= entries_.size()) return;  // stale report
  Entry& e = entries_[slot - front_slot_];
  e.target = target.value();
  e.done = true;
}

size_t CompletionTracker::Drain(
    const std::function<void(common::SourceOffset, common::TargetOffset)>& on_delivered) {
  size_t popped = 0;
  while (!entries_.empty() && entries_.front().done) {
    const Entry& e = entries_.front();
    if (e.target >= 0 && on_delivered) {
      on_delivered(common::SourceOffset(e.source), common::TargetOffset(e.target));
    }
    committable_ = common::SourceOffset(e.source + 1);
    entries_.pop_front();
    ++front_slot_;
    ++popped;
  }
  return popped;
}

}  // namespace rm::mirror
