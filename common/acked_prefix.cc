#include "common/acked_prefix.h"

#include <utility>

namespace rm::common {

uint64_t AckedPrefix::Register() {
  window_.push_back(0);
  ++unacked_;
  return next_seq_++;
}

uint64_t AckedPrefix::Ack(uint64_t seq, const Status& status) {
  if (seq < acked_prefix_ || seq >= next_seq_) return 0;  // duplicate or unknown: ignore
  if (!status.ok()) {
    Fail(status.error());
    return 0;
  }
  uint8_t& slot = window_[seq - acked_prefix_];
  if (slot) return 0;
  slot = 1;
  --unacked_;
  if (failure_) return 0;  // frozen: nothing after a failed event becomes acked
  const uint64_t before = acked_prefix_;
  while (!window_.empty() && window_.front()) {
    window_.pop_front();
    ++acked_prefix_;
  }
  return acked_prefix_ - before;
}

void AckedPrefix::Fail(Error error) {
  if (!failure_) failure_ = std::move(error);
}

}  // namespace rm::common
