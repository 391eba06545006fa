#include "src-cdc/kafka_event_sink.h"

#include <fmt/format.h>

#include <optional>

namespace rm::cdc {

using common::Error;
using common::Status;
using namespace std::chrono_literals;

namespace {

using Ack = std::function<void(Status)>;

common::KafkaProperties SinkProperties(common::KafkaProperties props) {
  common::KafkaProperties out = {{"linger.ms", "5"}, {"message.timeout.ms", "0"}};
  for (auto& [k, v] : props) out[k] = v;
  out["enable.idempotence"] = "true";
  out["acks"] = "all";
  return out;
}

}  // namespace

KafkaEventSink::KafkaEventSink(KafkaEventSinkOptions options) : options_(std::move(options)) {
  producer_ = std::make_unique<common::Producer>(
      SinkProperties(options_.properties),
      [](const rd_kafka_message_t& m) {
        std::unique_ptr<Ack> ack(static_cast<Ack*>(m._private));
        if (!ack || !*ack) return;
        if (m.err) {
          (*ack)(
              Error{rd_kafka_err2name(m.err), fmt::format("event to {}[{}] not stored: {}",
                                                          m.rkt ? rd_kafka_topic_name(m.rkt) : "?",
                                                          m.partition, rd_kafka_err2str(m.err))});
        } else {
          (*ack)(Status::Ok());
        }
      },
      options_.context);
  poller_ = std::thread([this] {
    while (!stop_.load()) producer_->Poll(50ms);
  });
}

KafkaEventSink::~KafkaEventSink() {
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  producer_.reset();  // purges what is left: those acks report failure
}

Status KafkaEventSink::Produce(const std::string& topic, std::optional<std::string> key,
                               std::optional<std::string> value, Ack on_ack) {
  auto* ack = new Ack(std::move(on_ack));
  common::ProduceRecord r{topic, RD_KAFKA_PARTITION_UA, std::nullopt, std::nullopt, 0, {}};
  if (key) r.key = *key;
  if (value) r.value = *value;
  // The clock is read only once the queue is full: the common case is one call per event.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  for (;;) {
    rd_kafka_resp_err_t err = producer_->Produce(r, ack);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !deadline) {
      deadline = std::chrono::steady_clock::now() + options_.queue_full_timeout;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > *deadline) {
      delete ack;
      return common::KafkaError(err, fmt::format("{}: produce to {}", options_.context, topic));
    }
    std::this_thread::sleep_for(5ms);  // the poll thread frees room as acks arrive
  }
}

Status KafkaEventSink::Flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (producer_->OutstandingCount() > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Error{"sink.flush_timeout",
                   fmt::format("{}: {} events still unacknowledged after {} ms", options_.context,
                               producer_->OutstandingCount(), timeout.count())};
    }
    std::this_thread::sleep_for(2ms);
  }
  return Status::Ok();
}

}  // namespace rm::cdc
