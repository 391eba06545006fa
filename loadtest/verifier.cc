#include "loadtest/verifier.h"

#include <fmt/format.h>
#include <unistd.h>

#include "common/kafka_client.h"
#include "common/log.h"
#include "common/result.h"
#include "loadtest/generator.h"
#include "loadtest/record_format.h"

namespace rm::loadtest {

using namespace std::chrono_literals;

struct Verifier::Client {
  std::unique_ptr<common::Consumer> consumer;
};

Verifier::Verifier(VerifierOptions options)
    : options_(std::move(options)), measure_from_ns_(options_.measure_from_ns) {
  for (size_t i = 0; i < options_.topics.size(); ++i) {
    topic_index_[options_.topics[i]] = static_cast<int>(i);
  }
}

Verifier::~Verifier() { Stop(); }

void Verifier::Start() {
  // fetch.wait.max.ms: the testbed's mock waits the whole time before answering a fetch even
  // when it has data, and that wait is part of every latency figure.
  common::KafkaProperties props = {{"bootstrap.servers", options_.bootstrap},
                                   {"group.id", fmt::format("rm-loadtest-verifier-{}", getpid())},
                                   {"enable.auto.commit", "false"},
                                   {"fetch.wait.max.ms", "10"},
                                   {"queued.min.messages", "500000"},
                                   {"queued.max.messages.kbytes", "131072"},
                                   {"enable.partition.eof", "false"}};
  for (const auto& [k, v] : options_.consumer) props[k] = v;
  client_ = std::make_unique<Client>();
  client_->consumer = std::make_unique<common::Consumer>(props, nullptr, "loadtest verifier");
  std::vector<common::TopicPartition> tps;
  for (const auto& t : options_.topics) {
    for (int p = 0; p < options_.partitions; ++p) tps.push_back({t, p});
  }
  auto wms = client_->consumer->QueryWatermarks(tps, 15s);
  if (!wms.ok()) {
    throw common::ConfigError(fmt::format("target {}: cannot read the ends of {}: {}",
                                          options_.bootstrap, fmt::join(options_.topics, ", "),
                                          wms.error().message));
  }
  for (size_t i = 0; i < tps.size(); ++i) {
    if (!(*wms)[i].ok()) {
      throw common::ConfigError(fmt::format("target {}: {}[{}]: {}", options_.bootstrap,
                                            tps[i].topic, tps[i].partition,
                                            (*wms)[i].error().message));
    }
    tps[i].offset = (*wms)[i]->high;
  }
  start_ = tps;
  if (auto st = client_->consumer->Assign(tps); !st.ok()) {
    throw common::ConfigError(fmt::format("target {}: cannot assign the target partitions: {}",
                                          options_.bootstrap, st.error().message));
  }
  thread_ = std::thread([this] { Run(); });
}

void Verifier::Pause() {
  if (auto st = client_->consumer->Pause(start_); !st.ok()) {
    throw common::ConfigError(fmt::format("verifier: cannot pause: {}", st.error().message));
  }
}

void Verifier::Resume() {
  if (auto st = client_->consumer->Resume(start_); !st.ok()) {
    throw common::ConfigError(fmt::format("verifier: cannot resume: {}", st.error().message));
  }
}

void Verifier::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (client_) {
    client_->consumer->Close();
    client_.reset();
  }
}

void Verifier::Observe(int topic, int32_t partition, std::string_view value, int64_t arrival_ns) {
  auto stamp = ReadStamp(value);
  received_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(static_cast<int64_t>(value.size()), std::memory_order_relaxed);
  if (!stamp) {
    checker_.ObserveForeign();
    return;
  }
  checker_.Observe({topic, stamp->partition, stamp->producer}, stamp->sequence,
                   static_cast<uint32_t>(partition));
  const int64_t from_intended = (arrival_ns - stamp->intended_ns) / 1000;
  const int64_t from_sent = (arrival_ns - stamp->sent_ns) / 1000;
  interval_.from_intended_us.Record(from_intended);
  interval_.from_sent_us.Record(from_sent);
  if (stamp->intended_ns >= measure_from_ns_.load(std::memory_order_relaxed)) {
    aggregated_.from_intended_us.Record(from_intended);
    aggregated_.from_sent_us.Record(from_sent);
  }
}

void Verifier::Run() {
  std::vector<common::KafkaMessage> batch;
  bool stalled = options_.stall_at_ns == 0;
  int64_t throttle_from_ns = 0, throttled = 0;
  while (!stop_.load()) {
    if (options_.max_rate > 0) {
      // Records read so far are due no earlier than throttle_from + n / max_rate.
      if (throttle_from_ns == 0) throttle_from_ns = SteadyNowNs();
      const int64_t due = throttle_from_ns + static_cast<int64_t>(static_cast<double>(throttled) *
                                                                  1e9 / options_.max_rate);
      const int64_t now = SteadyNowNs();
      if (due < now - 50'000'000) {
        // Idle time earns no credit beyond 50 ms: a capacity, not an average.
        throttle_from_ns = now - 50'000'000;
        throttled = 0;
      } else if (due > now) {
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(due - now, 50'000'000)));
        continue;
      }
    }
    if (!stalled && SteadyNowNs() >= options_.stall_at_ns) {
      stalled = true;
      std::this_thread::sleep_for(options_.stall);
    }
    batch.clear();
    // Wait for one record, then take what else is queued without waiting: a batch call with a
    // timeout waits for a full batch, which would add up to that timeout to every latency.
    common::KafkaMessage first = client_->consumer->Poll(100ms);
    if (!first) continue;
    batch.push_back(std::move(first));
    client_->consumer->PollBatch(0ms, options_.max_rate > 0 ? 16 : 1024, &batch);
    throttled += static_cast<int64_t>(batch.size());
    const int64_t now = SteadyNowNs();
    last_arrival_ns_.store(now, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    for (const auto& m : batch) {
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          RM_LOG_WARN("verifier: {}", rd_kafka_message_errstr(m.get()));
        }
        continue;
      }
      auto it = topic_index_.find(rd_kafka_topic_name(m->rkt));
      if (it == topic_index_.end()) continue;
      Observe(it->second, m->partition,
              std::string_view(static_cast<const char*>(m->payload), m->len), now);
    }
  }
}

int Verifier::RetentionDropped() {
  if (!client_) return -1;
  auto wms = client_->consumer->QueryWatermarks(start_, 10s);
  if (!wms.ok()) return -1;
  int dropped = 0;
  for (size_t i = 0; i < start_.size(); ++i) {
    if ((*wms)[i].ok() && (*wms)[i]->low > start_[i].offset) ++dropped;
  }
  return dropped;
}

LatencyFigures Verifier::TakeInterval() {
  std::lock_guard lock(mu_);
  LatencyFigures out = interval_;
  interval_.from_intended_us.Reset();
  interval_.from_sent_us.Reset();
  return out;
}

LatencyFigures Verifier::Aggregated() {
  std::lock_guard lock(mu_);
  return aggregated_;
}

Verification Verifier::Finish(const std::map<StreamId, uint64_t>& sent) {
  std::lock_guard lock(mu_);
  return checker_.Finish(sent);
}

}  // namespace rm::loadtest
