#include "loadtest/generator.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "common/kafka_client.h"
#include "common/log.h"
#include "loadtest/record_format.h"

namespace rm::loadtest {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Generator::Worker {
  uint32_t id = 0;
  int topic_index = 0;
  std::string topic;
  std::unique_ptr<common::Producer> producer;
  std::vector<uint64_t> next_sequence;  // per partition
  GeneratorTotals totals;               // this thread's; merged by Join()
  int64_t acked = 0;                    // from delivery reports, on this thread
  int64_t delivery_errors = 0;
  std::string first_error;
};

Generator::Generator(GeneratorOptions options) : options_(std::move(options)) {}

Generator::~Generator() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Generator::SetRate(double rate, int64_t from_ns) {
  std::lock_guard lock(mu_);
  rate_ = rate;
  rate_from_ns_ = from_ns;
  epoch_.fetch_add(1);
}

double Generator::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void Generator::Start(int64_t start_ns, int64_t end_ns) {
  start_ns_ = start_ns;
  end_ns_ = end_ns;
  {
    std::lock_guard lock(mu_);
    rate_ = options_.rate;
    rate_from_ns_ = start_ns;
  }
  uint32_t id = 0;
  for (size_t t = 0; t < options_.topics.size(); ++t) {
    for (int k = 0; k < options_.producers_per_topic; ++k) {
      auto w = std::make_unique<Worker>();
      w->id = id++;
      w->topic_index = static_cast<int>(t);
      w->topic = options_.topics[t];
      w->next_sequence.assign(options_.partitions, 0);
      // Defaults for an honest latency figure: little lingering, idempotence so retries keep
      // each partition's order (the verifier fails a run on reordering), lz4 so the testbed's
      // 5 MiB per partition holds a large backlog.
      common::KafkaProperties props = {{"bootstrap.servers", options_.bootstrap},
                                       {"enable.idempotence", "true"},
                                       {"linger.ms", "2"},
                                       {"compression.type", "lz4"},
                                       {"batch.num.messages", "10000"},
                                       {"queue.buffering.max.messages", "1000000"},
                                       {"queue.buffering.max.kbytes", "1048576"}};
      for (const auto& [k2, v] : options_.producer) props[k2] = v;
      Worker* raw = w.get();
      w->producer = std::make_unique<common::Producer>(
          props,
          [raw](const rd_kafka_message_t& msg) {
            if (msg.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
              ++raw->acked;
            } else {
              ++raw->delivery_errors;
              if (raw->first_error.empty()) raw->first_error = rd_kafka_err2str(msg.err);
            }
          },
          fmt::format("loadtest producer {}", w->id));
      workers_.push_back(std::move(w));
    }
  }
  running_ = static_cast<int>(workers_.size());
  for (auto& w : workers_) threads_.emplace_back([this, raw = w.get()] { RunWorker(*raw); });
}

void Generator::RunWorker(Worker& w) {
  const int n = static_cast<int>(workers_.size());
  // The schedule: producer k's records are due every n / rate seconds from `anchor_ns`, offset by
  // k / rate so the producers interleave instead of sending in bursts. `anchor_i` is the index of
  // the first record of the current schedule (SetRate() starts a new one).
  bool paced = false;
  double interval_ns = 0, offset_ns = 0;
  int64_t anchor_ns = 0, anchor_i = 0;
  uint64_t epoch = ~uint64_t{0};
  std::mt19937_64 rng(w.id * 7919 + 1);
  std::string value;
  std::string key;
  int64_t i = 0;
  int64_t last_acked = 0;
  uint64_t round_robin = w.id;
  auto publish_acks = [&] {
    acked_.fetch_add(w.acked - last_acked, std::memory_order_relaxed);
    last_acked = w.acked;
  };
  while (!stop_.load(std::memory_order_relaxed)) {
    if (const uint64_t e = epoch_.load(std::memory_order_acquire); e != epoch) {
      std::lock_guard lock(mu_);
      epoch = e;
      paced = rate_ > 0;
      interval_ns = paced ? 1e9 * n / rate_ : 0;
      offset_ns = paced ? 1e9 * w.id / rate_ : 0;
      anchor_ns = rate_from_ns_;
      anchor_i = i;
    }
    int64_t intended =
        paced
            ? anchor_ns + std::llround(offset_ns + interval_ns * static_cast<double>(i - anchor_i))
            : SteadyNowNs();
    if (intended >= end_ns_.load(std::memory_order_relaxed)) break;
    int64_t now = SteadyNowNs();
    if (intended > now) {
      w.producer->Poll(std::chrono::milliseconds(0));
      publish_acks();
      // Sleep only when the next record is far enough ahead; nearer ones are sent on time by
      // spinning through the loop (sleeps overshoot by tens of microseconds).
      if (intended - now > 200'000) {
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(intended - now - 100'000, 50'000'000)));
      }
      continue;
    }
    if (w.id == 0 && options_.stall_after_records > 0 && i == options_.stall_after_records) {
      std::this_thread::sleep_for(options_.stall);
    }
    const int32_t partition = static_cast<int32_t>(round_robin++ % options_.partitions);
    const std::string& payload = options_.payloads[i % options_.payloads.size()];
    value.assign(payload);
    std::optional<std::string_view> key_view;
    if (options_.keys == KeyDistributor::kKeyRoundRobin) {
      key = fmt::format("key-{}", partition);
      key_view = key;
    } else if (options_.keys == KeyDistributor::kRandomNano) {
      key = fmt::format("{}", SteadyNowNs() ^ static_cast<int64_t>(rng()));
      key_view = key;
    }
    RecordStamp stamp{w.id, static_cast<uint32_t>(partition), w.next_sequence[partition], intended,
                      0};
    common::ProduceRecord rec;
    rec.topic = w.topic;
    rec.partition = partition;
    rec.key = key_view;
    bool enqueued = false;
    bool refused = false;
    for (;;) {
      stamp.sent_ns = SteadyNowNs();
      StampRecord(stamp, value);
      rec.value = value;
      rd_kafka_resp_err_t err = w.producer->Produce(rec, nullptr);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        enqueued = true;
        break;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ++w.delivery_errors;
        if (w.first_error.empty()) w.first_error = rd_kafka_err2str(err);
        refused = true;
        break;
      }
      // Back-pressure: the record keeps its intended time while we wait.
      w.producer->Poll(std::chrono::milliseconds(1));
      if (stop_.load(std::memory_order_relaxed)) break;
    }
    if (refused) {  // refused for good: the sequence number stays unused
      ++i;
      continue;
    }
    if (!enqueued) break;  // stopped while the queue was full
    ++w.next_sequence[partition];
    const int64_t delay = stamp.sent_ns - intended;
    w.totals.schedule_delay_us.Record(delay / 1000);
    int64_t seen = max_delay_ns_.load(std::memory_order_relaxed);
    while (delay > seen && !max_delay_ns_.compare_exchange_weak(seen, delay)) {
    }
    ++w.totals.sent;
    w.totals.bytes += static_cast<int64_t>(value.size() + key.size() * (key_view ? 1 : 0));
    sent_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(static_cast<int64_t>(value.size()), std::memory_order_relaxed);
    ++i;
    if ((i & 63) == 0) {
      w.producer->Poll(std::chrono::milliseconds(0));
      publish_acks();
    }
  }
  auto st = w.producer->Flush(options_.flush_timeout);
  if (!st.ok() && w.first_error.empty()) w.first_error = st.error().message;
  publish_acks();
  running_.fetch_sub(1);
}

GeneratorTotals Generator::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  GeneratorTotals all;
  for (auto& w : workers_) {
    all.sent += w->totals.sent;
    all.bytes += w->totals.bytes;
    all.acked += w->acked;
    all.delivery_errors += w->delivery_errors;
    if (all.first_error.empty()) all.first_error = w->first_error;
    all.schedule_delay_us.Merge(w->totals.schedule_delay_us);
    for (int p = 0; p < options_.partitions; ++p) {
      if (w->next_sequence[p] == 0) continue;
      all.per_stream[{w->topic_index, static_cast<uint32_t>(p), w->id}] = w->next_sequence[p];
    }
  }
  return all;
}

}  // namespace rm::loadtest
