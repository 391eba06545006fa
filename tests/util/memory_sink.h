// The change captures' EventSink in memory, for both captures' unit, integration and robustness
// suites: every record kept in produce order, each acknowledged in one of three ways.
//
//   kImmediate  acked ok inside Produce();
//   kAsync      acked from a background thread, each batch in reverse order (out-of-order
//               completion, as a real producer's partitions give);
//   kManual     acked only when the test calls Ack(i) / AckAll(), in any order, from its thread.
//
// On top of a mode: FailNext() fails the next record's ack (it counts as delivered nowhere), and
// WithholdAfter(n) holds every ack past the first n records until ReleaseWithheld().
// Thread-safe; the callbacks run without the lock held.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "src-cdc/event_sink.h"

namespace rm::testing {

struct SinkRecord {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;
};

class MemorySink : public cdc::EventSink {
 public:
  enum class Mode { kImmediate, kAsync, kManual };

  explicit MemorySink(Mode mode = Mode::kAsync) : mode_(mode) {
    if (mode_ == Mode::kAsync) worker_ = std::thread([this] { Work(); });
  }
  ~MemorySink() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  MemorySink(const MemorySink&) = delete;
  MemorySink& operator=(const MemorySink&) = delete;

  common::Status Produce(const std::string& topic, std::optional<std::string> key,
                         std::optional<std::string> value,
                         std::function<void(common::Status)> on_ack) override {
    std::unique_lock lock(mu_);
    const size_t i = records_.size();
    records_.push_back({topic, std::move(key), std::move(value)});
    state_.push_back(State::kPending);
    callbacks_.push_back(std::move(on_ack));
    if (fail_next_) {
      fail_next_ = false;
      state_[i] = State::kFailed;
      auto cb = std::move(callbacks_[i]);
      callbacks_[i] = nullptr;
      lock.unlock();
      cb(common::Error{"sink.failed", "injected delivery failure"});
      cv_.notify_all();
      return common::Status::Ok();
    }
    if (i >= ack_limit_) {
      withheld_.push_back(i);
      return common::Status::Ok();
    }
    switch (mode_) {
      case Mode::kImmediate:
        lock.unlock();
        Ack(i);
        break;
      case Mode::kAsync:
        queued_.push_back(i);
        cv_.notify_all();
        break;
      case Mode::kManual:
        break;
    }
    return common::Status::Ok();
  }

  // Waits until no record waits for its ack (failed ones do not wait).
  common::Status Flush(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    const bool done = cv_.wait_for(lock, timeout, [this] {
      return std::none_of(state_.begin(), state_.end(),
                          [](State s) { return s == State::kPending; });
    });
    if (!done) return common::Error{"sink.flush_timeout", "memory sink: acks outstanding"};
    return common::Status::Ok();
  }

  // Acks record `i` (in produce order) ok, once; a no-op for a record already acked or failed.
  void Ack(size_t i) {
    std::function<void(common::Status)> cb;
    {
      std::lock_guard lock(mu_);
      if (i >= state_.size() || state_[i] != State::kPending || !callbacks_[i]) return;
      cb = std::move(callbacks_[i]);
      callbacks_[i] = nullptr;
      state_[i] = State::kAcked;
    }
    cb(common::Status::Ok());
    cv_.notify_all();
  }
  void AckAll() {
    for (size_t i = 0; i < size(); ++i) Ack(i);
  }
  // Switches between kManual (false) and kImmediate (true) for the records produced from now on.
  void SetAutoAck(bool on) {
    std::lock_guard lock(mu_);
    mode_ = on ? Mode::kImmediate : Mode::kManual;
  }

  void FailNext() {
    std::lock_guard lock(mu_);
    fail_next_ = true;
  }
  // Acks only records below index `n` from now on; the rest wait for ReleaseWithheld().
  void WithholdAfter(size_t n) {
    std::lock_guard lock(mu_);
    ack_limit_ = n;
  }
  void ReleaseWithheld() {
    std::vector<size_t> release;
    {
      std::lock_guard lock(mu_);
      release.swap(withheld_);
      ack_limit_ = SIZE_MAX;
    }
    for (size_t i : release) Ack(i);
  }

  std::vector<SinkRecord> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return records_.size();
  }
  // How many records were acked ok.
  size_t acked_count() const {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count(state_.begin(), state_.end(), State::kAcked));
  }
  // The records acked ok, in produce order (what a real Kafka would hold for sure).
  std::vector<SinkRecord> acked_records() const {
    std::lock_guard lock(mu_);
    std::vector<SinkRecord> out;
    for (size_t i = 0; i < records_.size(); ++i) {
      if (state_[i] == State::kAcked) out.push_back(records_[i]);
    }
    return out;
  }

 private:
  enum class State : uint8_t { kPending, kAcked, kFailed };

  void Work() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait_for(lock, std::chrono::milliseconds(2),
                   [this] { return closing_ || !queued_.empty(); });
      if (closing_ && queued_.empty()) return;
      std::vector<size_t> batch;
      batch.swap(queued_);
      lock.unlock();
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) Ack(*it);
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_;
  bool closing_ = false;
  bool fail_next_ = false;
  size_t ack_limit_ = SIZE_MAX;
  std::vector<SinkRecord> records_;
  std::vector<State> state_;
  std::vector<std::function<void(common::Status)>> callbacks_;
  std::vector<size_t> queued_;    // kAsync: produced, not yet acked by the worker
  std::vector<size_t> withheld_;  // past ack_limit_, waiting for ReleaseWithheld()
  std::thread worker_;
};

}  // namespace rm::testing
