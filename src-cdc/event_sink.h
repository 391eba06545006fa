// EventSink: where change events go (Kafka in production, memory in tests).
//
// Delivery contract, shared by every capture (Postgres, Cassandra): Produce() only queues the
// event; `on_ack` is called exactly once per event that Produce() accepted, from any thread,
// after the event is durably stored (ok) or has definitely failed (error). If Produce() itself
// returns an error, the event was not accepted and `on_ack` is never called. Events produced
// to one topic with the same key are stored in the order Produce() was called. A source
// position is acknowledged upstream only after every event before it was acked ok.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"

namespace rm::cdc {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Queues one record. `key` absent = null key (tables without a primary key); `value` absent
  // = tombstone (null value, for log compaction after a delete).
  virtual common::Status Produce(const std::string& topic, std::optional<std::string> key,
                                 std::optional<std::string> value,
                                 std::function<void(common::Status)> on_ack) = 0;

  // Waits until every accepted event was acked, or the timeout passed (error
  // "sink.flush_timeout").
  virtual common::Status Flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace rm::cdc
