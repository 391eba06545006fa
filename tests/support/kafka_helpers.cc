#include "tests/support/kafka_helpers.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::testing {

std::string TestConsumerYaml() {
  return fmt::format(
      "{{session.timeout.ms: '{}', heartbeat.interval.ms: '{}', fetch.wait.max.ms: '10'}}",
      kTestSessionTimeoutMs, kTestHeartbeatIntervalMs);
}

namespace {

std::string Kclient() { return (SourceDir() / "tests" / "tools" / "kclient.py").string(); }

void SortRecords(std::vector<Record>& rs) {
  std::sort(rs.begin(), rs.end(), [](const Record& a, const Record& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
}

}  // namespace

std::vector<Record> ConsumeWholeTopic(const std::string& bootstrap, const std::string& topic,
                                      int partitions) {
  common::Producer probe({{"bootstrap.servers", bootstrap}}, nullptr, "watermarks");
  for (int p = 0; p < partitions; ++p) {
    auto wm = probe.QueryWatermarks(topic, p, std::chrono::seconds(10));
    EXPECT_TRUE(wm.ok()) << (wm.ok() ? "" : wm.error().message);
    if (wm.ok()) {
      EXPECT_EQ(wm->low, 0) << topic << "[" << p << "]: the testbed dropped records";
    }
  }
  return ConsumeWithOurClient(bootstrap, topic, SIZE_MAX, std::chrono::seconds(3));
}

BackgroundLoad::BackgroundLoad(std::string bootstrap, std::string topic, Options options)
    : thread_([this, bootstrap = std::move(bootstrap), topic = std::move(topic),
               o = std::move(options)] {
        int64_t batch = 0;
        while (!stop_.load()) {
          if (produced_.load() >= o.max_records) {
            exhausted_ = true;
            return;
          }
          auto recs = MakeRecords(o.batch_records, o.partitions, o.value_size,
                                  1'700'000'000'000 + batch * 1000);
          auto done = ProduceWithOurClient(bootstrap, topic, std::move(recs));
          produced_ += static_cast<int64_t>(done.size());
          if (o.after_batch) o.after_batch(done);
          ++batch;
          std::this_thread::sleep_for(o.pause);
        }
      }) {}

int64_t BackgroundLoad::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return produced_.load();
}

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<Record> MakeRecords(size_t count, int partitions, size_t value_size, int64_t base_ts) {
  std::vector<Record> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Record r;
    r.partition = static_cast<int32_t>(i % static_cast<size_t>(partitions));
    r.key = fmt::format("k{}", i);
    std::string v = fmt::format("v{}-", i);
    while (v.size() < value_size) v.push_back(static_cast<char>('a' + (v.size() + i) % 26));
    r.value = v;
    r.headers = {{"seq", std::to_string(i)}};
    r.timestamp_ms = base_ts + static_cast<int64_t>(i);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Record> ProduceWithOurClient(const std::string& bootstrap, const std::string& topic,
                                         std::vector<Record> records,
                                         const common::KafkaProperties& extra) {
  common::KafkaProperties props = {
      {"bootstrap.servers", bootstrap}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  for (const auto& [k, v] : extra) props[k] = v;
  std::atomic<size_t> failed{0};
  std::string first_error;
  common::Producer producer(
      props,
      [&](const rd_kafka_message_t& m) {
        auto* r = static_cast<Record*>(m._private);
        if (m.err) {
          if (failed++ == 0) first_error = rd_kafka_err2str(m.err);
          return;
        }
        r->offset = m.offset;
        r->partition = m.partition;
      },
      "test-producer");
  for (auto& r : records) {
    common::ProduceRecord pr{topic, r.partition, r.key, r.value, r.timestamp_ms, r.headers};
    rd_kafka_resp_err_t err;
    while ((err = producer.Produce(pr, &r)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      producer.Poll(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    producer.Poll(std::chrono::milliseconds(0));
  }
  auto st = producer.Flush(std::chrono::seconds(60));
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  EXPECT_EQ(failed.load(), 0u) << "first delivery error: " << first_error;
  return records;
}

std::vector<Record> ConsumeWithOurClient(const std::string& bootstrap, const std::string& topic,
                                         size_t expected, std::chrono::milliseconds idle) {
  common::Consumer consumer({{"bootstrap.servers", bootstrap},
                             {"group.id", "rm-test-reader"},
                             {"enable.auto.commit", "false"},
                             {"fetch.wait.max.ms", "10"}},
                            nullptr, "test-consumer");
  auto md = consumer.Metadata(topic, std::chrono::seconds(10));
  EXPECT_TRUE(md.ok()) << (md.ok() ? "" : md.error().message);
  std::vector<Record> out;
  if (!md.ok() || md->topics.empty()) return out;
  std::vector<common::TopicPartition> tps;
  for (const auto& p : md->topics[0].partitions) {
    tps.push_back({topic, p.id, RD_KAFKA_OFFSET_BEGINNING});
  }
  EXPECT_TRUE(consumer.Assign(tps).ok());
  auto last = std::chrono::steady_clock::now();
  while (out.size() < expected && std::chrono::steady_clock::now() - last < idle) {
    common::KafkaMessage m = consumer.Poll(std::chrono::milliseconds(100));
    if (!m || m->err) continue;
    Record r;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value = std::string(static_cast<const char*>(m->payload), m->len);
    r.headers = common::ReadHeaders(*m);
    r.timestamp_ms = rd_kafka_message_timestamp(m.get(), nullptr);
    out.push_back(std::move(r));
    last = std::chrono::steady_clock::now();
  }
  SortRecords(out);
  return out;
}

std::vector<Record> ConsumeWithKafkaPython(const std::string& bootstrap, const std::string& topic,
                                           std::optional<size_t> expected, int idle_ms) {
  std::vector<std::string> argv = {
      "/usr/bin/python3", Kclient(), "consume",   "--bootstrap",          bootstrap,
      "--topic",          topic,     "--idle-ms", std::to_string(idle_ms)};
  if (expected) {
    argv.push_back("--expect");
    argv.push_back(std::to_string(*expected));
  }
  CommandResult res = RunCommand(argv, std::chrono::minutes(5));
  EXPECT_EQ(res.exit_code, 0) << res.output.substr(0, 4000);
  std::vector<Record> out;
  std::istringstream lines(res.output);
  std::string line;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("o")) continue;
    Record r;
    r.partition = j["p"].get<int32_t>();
    r.offset = j["o"].get<int64_t>();
    if (!j["k"].is_null()) r.key = Unhex(j["k"].get<std::string>());
    if (!j["v"].is_null()) r.value = Unhex(j["v"].get<std::string>());
    for (const auto& h : j["h"]) {
      common::KafkaHeader kh{h[0].get<std::string>(), std::nullopt};
      if (!h[1].is_null()) kh.value = Unhex(h[1].get<std::string>());
      r.headers.push_back(std::move(kh));
    }
    r.timestamp_ms = j["ts"].get<int64_t>();
    out.push_back(std::move(r));
  }
  SortRecords(out);
  return out;
}

void ProduceWithKafkaPython(const std::string& bootstrap, const std::string& topic, int count,
                            const std::string& tag, std::optional<int32_t> partition) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   Kclient(),
                                   "produce",
                                   "--bootstrap",
                                   bootstrap,
                                   "--topic",
                                   topic,
                                   "--count",
                                   std::to_string(count),
                                   "--tag",
                                   tag};
  if (partition) {
    argv.push_back("--partition");
    argv.push_back(std::to_string(*partition));
  }
  CommandResult res = RunCommand(argv, std::chrono::minutes(5));
  EXPECT_EQ(res.exit_code, 0) << res.output.substr(0, 4000);
}

int PartitionsSeenByKafkaPython(const std::string& bootstrap, const std::string& topic) {
  CommandResult res = RunCommand(
      {"/usr/bin/python3", Kclient(), "partitions", "--bootstrap", bootstrap, "--topic", topic},
      std::chrono::minutes(1));
  EXPECT_EQ(res.exit_code, 0) << res.output;
  auto pos = res.output.rfind("{\"partitions\"");
  if (pos == std::string::npos) return -1;
  return nlohmann::json::parse(res.output.substr(pos))["partitions"].get<int>();
}

}  // namespace rm::testing
