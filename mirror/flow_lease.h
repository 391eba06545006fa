// One deployment per flow. Two instances started with different group ids on one flow are two
// consumer groups: each owns every partition and everything would be copied twice. So every
// instance of a flow claims the flow, in a topic on the target cluster, for its group, and
// copies only while its group owns it.
//
// The claims topic (kFlowOwnersTopic, partition 0) is read in log order by every instance, so
// all of them reach the same verdict: a claim wins if nobody owns the flow, if its group already
// owns it, or if the owner's last claim is more than `lease_ms` older than it (record
// timestamps). Owners renew every lease_ms / 5; an instance whose group does not own the flow
// keeps claiming, and takes over once the owner has been silent for lease_ms (its deployment
// stopped). A group that loses the flow (it was silent that long, e.g. paused) stops copying.
//
// Threading: not thread-safe; a flow calls it from its Run() thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/kafka_client.h"

namespace rm::mirror {

inline constexpr const char* kFlowOwnersTopic = "regionmirror-flow-owners.internal";

// The verdict over the claims of one flow, fed in log order. Pure, unit-tested.
class FlowOwners {
 public:
  explicit FlowOwners(int64_t lease_ms) : lease_ms_(lease_ms) {}
  // A claim by `group` stamped `ts_ms`; returns whether it won.
  bool Apply(const std::string& group, int64_t ts_ms);
  // The group that owns the flow ("" if none yet).
  const std::string& owner() const { return owner_; }
  // Whether the owner claimed within lease_ms of `now_ms`.
  bool OwnerLive(int64_t now_ms) const {
    return !owner_.empty() && now_ms - owner_last_ms_ <= lease_ms_;
  }

 private:
  int64_t lease_ms_;
  std::string owner_;
  int64_t owner_last_ms_ = 0;
};

class FlowLease {
 public:
  // `props`: the target cluster's client properties. `flow`: what is claimed (the flow and its
  // topic selection). `group`: this instance's consumer group.
  FlowLease(const common::KafkaProperties& props, std::string flow, std::string group,
            int64_t lease_ms, std::string context);

  enum class Verdict { kUnknown, kOwned, kRefused };
  // Claims again when due, reads the claims that arrived; never blocks. kUnknown until this
  // instance's first claim was read back.
  Verdict Poll(int64_t now_ms);
  // The owning group ("" if none).
  const std::string& owner() const { return owners_.owner(); }

 private:
  const std::string flow_, group_, context_;
  const int64_t lease_ms_;
  FlowOwners owners_;
  std::unique_ptr<common::Producer> producer_;
  std::unique_ptr<common::Consumer> reader_;
  int64_t next_claim_ms_ = 0;
  int64_t first_claim_offset_ = -1;  // from its delivery report
  int64_t read_up_to_ = -1;          // last offset read
  bool claim_failed_ = false;
  bool assigned_ = false;
};

}  // namespace rm::mirror
