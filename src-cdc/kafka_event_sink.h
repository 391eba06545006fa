// EventSink backed by a Kafka producer: the production sink of both captures.
//
// Delivery: idempotent producer with acks=all and unlimited retries (message.timeout.ms=0 by
// default), so events of one key stay in order and an ack means the event is durably in Kafka.
// Each accepted event's on_ack runs exactly once, on this sink's poll thread.
//
// Lifecycle and threading: the constructor creates the producer and starts a thread that
// serves delivery reports; Produce() and Flush() may be called from any thread. On a full
// local queue Produce() waits (bounded by `queue_full_timeout`) rather than failing, so a slow
// cluster slows the capture instead of dropping events. The destructor stops the thread; events
// still queued then are failed (on_ack with an error), never reported as stored.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/kafka_client.h"
#include "src-cdc/event_sink.h"

namespace rm::cdc {

struct KafkaEventSinkOptions {
  // Cluster client properties (bootstrap.servers required; TLS, SASL, ...).
  common::KafkaProperties properties;
  // How long Produce() waits for room in a full local queue before failing. Default: 60 s
  std::chrono::milliseconds queue_full_timeout{60000};
  // Name in logs and errors. Default: "cdc sink"
  std::string context = "cdc sink";
};

class KafkaEventSink : public EventSink {
 public:
  // Throws common::ConfigError for bad client properties.
  explicit KafkaEventSink(KafkaEventSinkOptions options);
  ~KafkaEventSink() override;

  common::Status Produce(const std::string& topic, std::optional<std::string> key,
                         std::optional<std::string> value,
                         std::function<void(common::Status)> on_ack) override;
  common::Status Flush(std::chrono::milliseconds timeout) override;

  // The producer, e.g. for metadata queries (creating topics is up to the caller).
  common::Producer& producer() { return *producer_; }

 private:
  KafkaEventSinkOptions options_;
  std::unique_ptr<common::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace rm::cdc
