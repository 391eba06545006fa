// The interface the mirror's in-order completion tracker reports deliveries through. The
// offsets module implements it (OffsetMap); the mirror depends only on this header, never on
// RocksDB.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/offset_types.h"
#include "common/result.h"

namespace rm::offsets {

// One source partition as seen by one flow. topic = source topic name.
struct PartitionKey {
  std::string flow;
  std::string topic;
  int32_t partition;

  bool operator==(const PartitionKey&) const = default;
};

// A record that is durably mapped: source offset -> offset of its copy in the target.
struct DeliveredPosition {
  common::SourceOffset source;
  common::TargetOffset target;

  bool operator==(const DeliveredPosition&) const = default;
};

class DeliverySink {
 public:
  virtual ~DeliverySink() = default;

  // The record at source offset `source` is durably in the target at `target`. For one
  // partition, calls come in increasing source order; only delivered records are reported,
  // so a skipped source offset (filtered, compacted, transaction marker) is a gap.
  virtual void OnDelivered(const PartitionKey& p, common::SourceOffset source,
                           common::TargetOffset target) = 0;

  // Makes everything reported so far durable (fsync'd WriteBatch). Called periodically and
  // before the mirror commits source offsets.
  virtual common::Status Checkpoint() = 0;

  // Restart contract. Records that reached the target after the last Checkpoint() before a
  // crash are in the target but not in the sink. On partition assignment, before reporting new
  // deliveries, the mirror reads the target partition from `LastDurable(p)->target + 1` to its
  // end and reports every record it finds there (source offset from the provenance header)
  // through OnDelivered, so that window is mapped exactly instead of looking like a source gap.
  // nullopt: nothing is durable for p (report the tail found on the target, if any, or
  // nothing). The default implementation is for sinks that keep no durable state.
  virtual common::Result<std::optional<DeliveredPosition>> LastDurable(const PartitionKey& p) {
    (void)p;
    return std::optional<DeliveredPosition>();
  }

  // Restart contract, when nothing is durable for p. A process killed before its first
  // Checkpoint() of p leaves copies in the target that no LastDurable() points to. So, when
  // LastDurable(p) is nullopt and FreshStartFloor(p) too, the mirror calls MarkFreshStart(p, f)
  // before copying anything, f being the target offset from which its copies (re)start (the
  // last copy it found there, or the partition's end), and the sink keeps f durably. After a
  // crash, FreshStartFloor(p) returns f and the mirror reports every copy it finds from f on,
  // as after LastDurable. The defaults record nothing (sinks without durable state).
  virtual common::Status MarkFreshStart(const PartitionKey& p, common::TargetOffset floor) {
    (void)p;
    (void)floor;
    return common::Status::Ok();
  }
  virtual common::Result<std::optional<common::TargetOffset>> FreshStartFloor(
      const PartitionKey& p) {
    (void)p;
    return std::optional<common::TargetOffset>();
  }
};

}  // namespace rm::offsets

template <>
struct std::hash<rm::offsets::PartitionKey> {
  size_t operator()(const rm::offsets::PartitionKey& p) const noexcept {
    size_t h = std::hash<std::string>()(p.flow);
    h = h * 31 + std::hash<std::string>()(p.topic);
    return h * 31 + std::hash<int32_t>()(p.partition);
  }
};
