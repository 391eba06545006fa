// Kafka rate and latency probe for benchmarks (bench/mirror_bench.sh). Prints one JSON line.
//
//   kafka_rate produce --bootstrap B --topic T --count N [--size 100] [--rate R] [--partitions P]
//       Produces N records of `size` bytes (half random, half repeated, like typical payloads)
//       round-robin over P partitions, CreateTime = now; --rate paces it (records/s).
//   kafka_rate consume --bootstrap B --topic T --count N
//       Reads N records from the beginning of every partition (no group); rate measured from the
//       first record to the last.
//   kafka_rate wait --bootstrap B --topic T --count N
//       Polls the topic's high watermarks until they sum to N; reports the time from the first
//       record appearing to the last (the copy rate of whatever writes into T).
//   kafka_rate copy --bootstrap B --topic T --target B2 --target-topic T2 --count N [--headers 1]
//       Minimal consume->produce loop in one process, to tell client limits from mirror costs.
//   kafka_rate latency --bootstrap B --topic T --count N
//       Reads N new records and reports now - record timestamp percentiles (ms).
// Client settings (-X key=value, repeatable) apply to every client, so raw limits and the
// mirror can be measured with the same settings. Every mode but produce measures from its first
// record to its last, and every mode adds what the whole machine's CPU did over that window:
// cpu_cores (busy cores on average) and cpu_ns (busy CPU time per record).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "common/kafka_client.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using rm::common::KafkaProperties;

namespace {

struct Args {
  std::string mode, bootstrap, topic, target, target_topic;
  int64_t count = 0;
  int size = 100;
  int64_t rate = 0;
  int partitions = 6;
  bool headers = false;  // copy: add one 10-byte header per record, as the mirror's provenance
  KafkaProperties extra;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Busy CPU time of the whole machine (all processes: this one, the testbed's brokers, a mirror),
// read from /proc/stat at both ends of a measured window. It tells how much of the machine a
// rate cost (cpu_cores, of nproc) and what one record cost it (cpu_ns per record), so a copy's
// CPU ceiling can be set against what consuming and producing alone cost.
class MachineCpu {
 public:
  void Start() { start_ = BusyTicks(); }
  // JSON fields for a window of `secs` seconds and `records` records, with a leading comma.
  std::string Fields(double secs, int64_t records) const {
    const double busy = static_cast<double>(BusyTicks() - start_) / static_cast<double>(Hz());
    return fmt::format(",\"cpu_cores\":{:.2f},\"cpu_ns\":{:.0f}", secs > 0 ? busy / secs : 0.0,
                       records > 0 ? busy * 1e9 / static_cast<double>(records) : 0.0);
  }

 private:
  static int64_t Hz() { return sysconf(_SC_CLK_TCK); }
  static int64_t BusyTicks() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return user + nice + system + irq + softirq + steal;
  }
  int64_t start_ = 0;
};

int Produce(const Args& a) {
  KafkaProperties props = {{"bootstrap.servers", a.bootstrap},
                           {"enable.idempotence", "true"},
                           {"linger.ms", "5"},
                           {"batch.num.messages", "10000"},
                           {"queue.buffering.max.messages", "2000000"}};
  for (const auto& [k, v] : a.extra) props[k] = v;
  std::atomic<int64_t> failed{0};
  rm::common::Producer p(
      props, [&](const rd_kafka_message_t& m) { failed += m.err ? 1 : 0; }, "bench");
  // The random halves come from a pool made up front, so the generator measures the client,
  // not the random number generator. The pool (8192 x size/2 bytes) is far larger than lz4's
  // 64 KiB window, so batches compress as they would with fresh random bytes.
  constexpr int64_t kPool = 8192;
  const auto half = static_cast<size_t>(a.size / 2);
  std::string pool(static_cast<size_t>(kPool) * half, 'x');
  std::mt19937 rng(1);
  for (auto& ch : pool) ch = static_cast<char>('a' + rng() % 26);
  std::string value(static_cast<size_t>(a.size), 'x');
  char key[24];
  MachineCpu cpu;
  cpu.Start();
  auto start = Clock::now();
  for (int64_t i = 0; i < a.count; ++i) {
    std::copy_n(pool.data() + static_cast<size_t>(i % kPool) * half, half, value.data());
    size_t key_len = static_cast<size_t>(fmt::format_to_n(key, sizeof(key), "{}", i).size);
    rm::common::ProduceRecord r{a.topic,
                                static_cast<int32_t>(i % a.partitions),
                                std::string_view(key, key_len),
                                value,
                                NowMs(),
                                {}};
    while (p.Produce(r, nullptr) == RD_KAFKA_RESP_ERR__QUEUE_FULL) p.Poll(1ms);
    p.Poll(0ms);
    if (a.rate > 0) {
      // Pace without spinning (a spinning generator takes a core from what it measures): wait
      // at least 1 ms, then send what fell due meanwhile as one burst.
      auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(
                             1e9 * static_cast<double>(i + 1) / static_cast<double>(a.rate)));
      if (auto ahead = due - Clock::now(); ahead > Clock::duration::zero()) {
        p.Poll(std::max(1ms, std::chrono::ceil<std::chrono::milliseconds>(ahead)));
      }
    }
  }
  auto st = p.Flush(600s);
  double secs = Seconds(Clock::now() - start);
  fmt::print(
      "{{\"mode\":\"produce\",\"records\":{},\"seconds\":{:.3f},\"rate\":{:.0f},\"failed\":{},"
      "\"flushed\":{}{}}}\n",
      a.count, secs, static_cast<double>(a.count) / secs, failed.load(), st.ok(),
      cpu.Fields(secs, a.count));
  return failed.load() == 0 && st.ok() ? 0 : 1;
}

std::unique_ptr<rm::common::Consumer> ConsumerFor(const Args& a, int64_t start_offset) {
  KafkaProperties props = {{"bootstrap.servers", a.bootstrap},
                           {"group.id", "bench"},
                           {"enable.auto.commit", "false"},
                           {"fetch.wait.max.ms", "10"},
                           {"queued.max.messages.kbytes", "65536"}};
  for (const auto& [k, v] : a.extra) props[k] = v;
  auto c = std::make_unique<rm::common::Consumer>(props, nullptr, "bench");
  auto md = c->Metadata(a.topic, 10s);
  if (!md.ok() || md->topics.empty()) {
    fmt::print(stderr, "no topic {}\n", a.topic);
    std::exit(1);
  }
  std::vector<rm::common::TopicPartition> tps;
  for (const auto& p : md->topics[0].partitions) tps.push_back({a.topic, p.id, start_offset});
  (void)c->Assign(tps);
  return c;
}

int Consume(const Args& a) {
  auto c = ConsumerFor(a, RD_KAFKA_OFFSET_BEGINNING);
  int64_t n = 0;
  Clock::time_point first{}, last{};
  MachineCpu cpu;
  auto deadline = Clock::now() + 600s;
  while (n < a.count && Clock::now() < deadline) {
    auto m = c->Poll(100ms);
    if (!m || m->err) continue;
    if (n++ == 0) {
      first = Clock::now();
      cpu.Start();
    }
    last = Clock::now();
  }
  double secs = Seconds(last - first);
  fmt::print("{{\"mode\":\"consume\",\"records\":{},\"seconds\":{:.3f},\"rate\":{:.0f}{}}}\n", n,
             secs, secs > 0 ? static_cast<double>(n) / secs : 0.0, cpu.Fields(secs, n));
  return n == a.count ? 0 : 1;
}

int Wait(const Args& a) {
  rm::common::Consumer c({{"bootstrap.servers", a.bootstrap}, {"group.id", "bench-wait"}}, nullptr,
                         "bench");
  auto md = c.Metadata(a.topic, 10s);
  std::vector<int32_t> parts;
  if (md.ok() && !md->topics.empty()) {
    for (const auto& p : md->topics[0].partitions) parts.push_back(p.id);
  }
  Clock::time_point first{};
  MachineCpu cpu;
  int64_t total = 0;
  auto deadline = Clock::now() + 600s;
  while (Clock::now() < deadline) {
    total = 0;
    for (int32_t p : parts) {
      auto wm = c.QueryWatermarks(a.topic, p, 5s);
      if (wm.ok()) total += wm->high;
    }
    if (total > 0 && first == Clock::time_point{}) {
      first = Clock::now();
      cpu.Start();
    }
    if (total >= a.count) break;
    std::this_thread::sleep_for(20ms);  // polling faster loads the brokers measured
  }
  double secs = Seconds(Clock::now() - first);
  fmt::print("{{\"mode\":\"wait\",\"records\":{},\"seconds\":{:.3f},\"rate\":{:.0f}{}}}\n", total,
             secs, secs > 0 ? static_cast<double>(total) / secs : 0.0, cpu.Fields(secs, total));
  return total >= a.count ? 0 : 1;
}

// Minimal consume->produce loop in one process (no tracking, no provenance check): how fast the
// two clients go together here, to tell client limits from the mirror's own costs. Like the
// mirror it hands the consumer's buffers to the producer without copying, keeps CreateTime and
// releases each consumed record when its delivery report comes.
int Copy(const Args& a) {
  auto c = ConsumerFor(a, RD_KAFKA_OFFSET_BEGINNING);
  KafkaProperties props = {{"bootstrap.servers", a.target},
                           {"enable.idempotence", "true"},
                           {"linger.ms", "5"},
                           {"batch.num.messages", "10000"},
                           {"queue.buffering.max.messages", "2000000"}};
  for (const auto& [k, v] : a.extra) props[k] = v;
  rm::common::Producer p(
      props,
      [](const rd_kafka_message_t& m) {
        rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(m._private));
      },
      "copy");
  rd_kafka_topic_t* rkt = p.TopicHandle(a.target_topic);
  int64_t n = 0;
  Clock::time_point first{};
  MachineCpu cpu;
  std::vector<rm::common::KafkaMessage> batch;
  while (n < a.count) {
    batch.clear();
    if (c->PollBatch(0ms, 1024, &batch) == 0) {
      p.Poll(1ms);
      continue;
    }
    for (auto& m : batch) {
      if (m->err) continue;
      if (n++ == 0) {
        first = Clock::now();
        cpu.Start();
      }
      rd_kafka_headers_t* h = nullptr;
      if (a.headers) {
        h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, "rmp", -1, "0123456789", 10);
      }
      const int64_t ts = rd_kafka_message_timestamp(m.get(), nullptr);
      while (p.ProduceNoCopy(rkt, m->partition, m->key, m->key_len, m->payload, m->len,
                             ts > 0 ? ts : 0, h, m.get()) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        p.Poll(1ms);
      }
      (void)m.release();  // the delivery report destroys it
    }
    p.Poll(0ms);
  }
  (void)p.Flush(600s);
  double secs = Seconds(Clock::now() - first);
  fmt::print("{{\"mode\":\"copy\",\"records\":{},\"seconds\":{:.3f},\"rate\":{:.0f}{}}}\n", n, secs,
             static_cast<double>(n) / secs, cpu.Fields(secs, n));
  return 0;
}

int Latency(const Args& a) {
  auto c = ConsumerFor(a, RD_KAFKA_OFFSET_END);
  std::vector<int64_t> lat;
  lat.reserve(static_cast<size_t>(a.count));
  MachineCpu cpu;
  Clock::time_point first{}, last{};
  auto deadline = Clock::now() + 600s;
  while (static_cast<int64_t>(lat.size()) < a.count && Clock::now() < deadline) {
    auto m = c->Poll(100ms);
    if (!m || m->err) continue;
    if (lat.empty()) {
      first = Clock::now();
      cpu.Start();
    }
    last = Clock::now();
    lat.push_back(NowMs() - rd_kafka_message_timestamp(m.get(), nullptr));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&lat](double q) {
    return lat.empty() ? -1
                       : lat[std::min(lat.size() - 1,
                                      static_cast<size_t>(q * static_cast<double>(lat.size())))];
  };
  const auto n = static_cast<int64_t>(lat.size());
  fmt::print(
      "{{\"mode\":\"latency\",\"records\":{},\"p50_ms\":{},\"p99_ms\":{},\"max_ms\":{}{}}}\n", n,
      pct(0.5), pct(0.99), lat.empty() ? -1 : lat.back(), cpu.Fields(Seconds(last - first), n));
  return static_cast<int64_t>(lat.size()) == a.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    fmt::print(
        stderr,
        "usage: kafka_rate produce|consume|wait|latency --bootstrap B --topic T --count N\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--bootstrap")
      a.bootstrap = v;
    else if (k == "--topic")
      a.topic = v;
    else if (k == "--count")
      a.count = std::atoll(v.c_str());
    else if (k == "--headers")
      a.headers = v == "1";
    else if (k == "--target")
      a.target = v;
    else if (k == "--target-topic")
      a.target_topic = v;
    else if (k == "--size")
      a.size = std::atoi(v.c_str());
    else if (k == "--rate")
      a.rate = std::atoll(v.c_str());
    else if (k == "--partitions")
      a.partitions = std::atoi(v.c_str());
    else if (k == "-X") {
      auto eq = v.find('=');
      a.extra[v.substr(0, eq)] = v.substr(eq + 1);
    } else {
      fmt::print(stderr, "unknown argument {}\n", k);
      return 2;
    }
  }
  if (a.mode == "produce") return Produce(a);
  if (a.mode == "consume") return Consume(a);
  if (a.mode == "wait") return Wait(a);
  if (a.mode == "latency") return Latency(a);
  if (a.mode == "copy") return Copy(a);
  fmt::print(stderr, "unknown mode {}\n", a.mode);
  return 2;
}
