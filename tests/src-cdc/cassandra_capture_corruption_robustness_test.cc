// The capture over damaged segments: random byte flips, zeroed ranges and truncations of real
// segments never crash it or stop it; every segment is dealt with (delivered or moved to
// bad-segments), problems are counted, and what is delivered is a subset of the intact data.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "src-cdc/cassandra/capture.h"
#include "tests/src-cdc/cassandra_capture_support.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::CheckEvents;
using testing::FixtureRoot;

TEST(CassandraCaptureCorruption, DamagedSegmentsNeverStopTheCaptureAndYieldOnlyIntactData) {
  const std::string dir = "3.0.13-encrypted";
  const std::string file = "CommitLog-6-1699284515156.log";
  const Schema schema = testing::Standard1Schema(dir);
  const std::string intact = rm::testing::ReadFile(FixtureRoot() / dir / file);
  const size_t data_end = testing::SectionEnds(intact).back();

  // The intact segment's events, as the reference
  rm::testing::TempDir ref_dir;
  testing::MemorySink ref_sink;
  {
    fs::create_directories(ref_dir / "cdc_raw");
    fs::copy_file(FixtureRoot() / dir / file, ref_dir / "cdc_raw" / file);
    CaptureConfig c;
    c.cdc_raw_dir = ref_dir / "cdc_raw";
    c.state_dir = ref_dir / "state";
    c.topic_prefix = "cass";
    c.poll_interval = 5ms;
    c.checkpoint_interval = 10ms;
    auto registry = std::make_shared<prometheus::Registry>();
    CassandraCapture capture(c, schema, nullptr, ref_sink, *registry);
    std::atomic<bool> stop{false};
    std::thread t([&] { ASSERT_TRUE(capture.Run(stop).ok()); });
    ASSERT_TRUE(testing::WaitFor([&] { return fs::is_empty(ref_dir / "cdc_raw"); }));
    stop = true;
    t.join();
  }
  // Events differ from the reference only in file name, segment id and processing time.
  const auto normalized = [&](const std::string& value) {
    auto v = nlohmann::json::parse(value);
    v["source"]["file"] = file;
    v["source"]["segment_id"] = 1699284515156;
    v["ts_ms"] = 0;
    return v.dump();
  };
  std::set<std::string> reference;
  for (const auto& r : ref_sink.records()) reference.insert(normalized(*r.value));
  ASSERT_FALSE(reference.empty());

  // 40 damaged copies, each under its own segment id, all in one cdc_raw
  rm::testing::TempDir tmp;
  const fs::path cdc_raw = tmp / "cdc_raw";
  fs::create_directories(cdc_raw);
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  constexpr int kCopies = 40;
  for (int i = 0; i < kCopies; ++i) {
    std::string bytes = intact;
    switch (i % 4) {
      case 0:  // flip a few bytes anywhere in the data (header included)
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k) {
          bytes[rng() % data_end] ^= static_cast<char>(1 + rng() % 255);
        }
        break;
      case 1: {  // zero a range
        const size_t at = rng() % data_end, n = 1 + rng() % 512;
        std::fill(bytes.begin() + static_cast<long>(at),
                  bytes.begin() + static_cast<long>(std::min(at + n, bytes.size())), '\0');
        break;
      }
      case 2:  // truncate
        bytes.resize(rng() % data_end);
        break;
      default:  // flip one byte after the header
        bytes[100 + rng() % (data_end - 100)] ^= 0x40;
    }
    rm::testing::WriteFile(cdc_raw / ("CommitLog-6-" + std::to_string(1699284515200 + i) + ".log"),
                           bytes);
  }
  CaptureConfig c;
  c.cdc_raw_dir = cdc_raw;
  c.state_dir = tmp / "state";
  c.topic_prefix = "cass";
  c.poll_interval = 5ms;
  c.checkpoint_interval = 10ms;
  testing::MemorySink sink;
  auto registry = std::make_shared<prometheus::Registry>();
  CassandraCapture capture(c, schema, nullptr, sink, *registry);
  std::atomic<bool> stop{false};
  common::Status status;
  std::thread t([&] { status = capture.Run(stop); });

  ASSERT_TRUE(testing::WaitFor([&] { return fs::is_empty(cdc_raw); }, 60s))
      << "a damaged segment was never dealt with";
  stop = true;
  t.join();
  ASSERT_TRUE(status.ok()) << status.error().message;

  EXPECT_GT(capture.probe().errors_total(), 0u);
  size_t foreign = 0;
  for (const auto& r : sink.records()) foreign += reference.count(normalized(*r.value)) ? 0 : 1;
  EXPECT_EQ(foreign, 0u) << "events that are not in the intact segment";
  EXPECT_GT(sink.size(), 0u);
  EXPECT_LT(sink.size(), reference.size() * kCopies);
  RecordProperty("events", static_cast<int>(sink.size()));
}

}  // namespace
}  // namespace rm::cdc::cassandra
