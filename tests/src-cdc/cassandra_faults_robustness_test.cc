// A randomized fault schedule over `regionmirror cdc cassandra run` while segments keep arriving
// in cdc_raw: kill -9 of the capture (segments go on arriving while it is down), one Kafka
// broker or all of them down and up, partition leader moves, and injected produce errors
// (retriable ones, and INVALID_RECORD, which fails an event for good: the capture stops with
// exit 1 and is started again, as a supervisor would). Segments are copies of fixture segments
// with their own ids: Cassandra 3 segments placed whole, Cassandra 4 segments tailed through
// their _cdc.idx (partial offsets section by section, then COMPLETED, sometimes only after the
// next segment began, as Cassandra writes it when it discards a segment).
//
// After the schedule the capture runs until cdc_raw is empty, then stops on SIGTERM. Checked:
//   - 0 lost: every mutation of every segment has its event in Kafka (at least once: the
//     capture promises no more, so re-sent events are counted, not failed);
//   - no segment deleted before its events were acknowledged: when a segment vanishes from
//     cdc_raw, the topics' high watermarks are taken; a copy of each of its events must lie
//     below them;
//   - the checkpoint consistent: after each kill -9 the saved state is read; every event before
//     its position and every event of a segment it records as delivered lies below the
//     watermarks taken after the kill, and the position never moves back; at the end the
//     position is the last segment's last mutation and no delivered segment is left over.
//
// Rounds: RM_FAULT_ROUNDS (default 1; a script run takes more). Seed: RM_FAULT_SEED (default:
// random), printed; round r uses seed + r, so `RM_FAULT_SEED=<round seed> RM_FAULT_ROUNDS=1`
// replays one round's schedule and feed (the same faults and segments at the same times from the
// round's start; what the capture is doing at those times still varies from run to run):
//
//   scripts/fault-schedule.sh --cassandra --rounds 20 [--seed S]
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/kafka_client.h"
#include "testbed/control_client.h"
#include "tests/src-cdc/cassandra_capture_process_support.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/fault_rounds.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using rm::testing::ChildProcess;
using rm::testing::ReadFile;
using testing::WaitFor;

constexpr int kPartitions = 8;
constexpr int kBrokers = 3;
constexpr int kFaultsPerRound = 8;  // over kScheduleMs
constexpr int64_t kScheduleMs = 10'000;
constexpr int kSegmentsPerRound = 14;  // fed over about kScheduleMs
constexpr int64_t kFirstSegmentId = 1'900'000'000'000;

// The fixture segments new segments are copied from; each fixture is its own table (the
// commit log names tables by id, and the fixtures' ids differ).
struct SegmentTemplate {
  testing::FixtureTable table;
  bool live = false;  // Cassandra 4: tailed through its _cdc.idx
};

std::vector<SegmentTemplate> Templates() {
  return {
      {{"3.0.13-encrypted", "Standard1_3013", {"CommitLog-6-1699284515156.log"}}, false},
      {{"3.0.29-encrypted", "Standard1_3029", {"CommitLog-6-1699279786262.log"}}, false},
      {{"4.0.11-encrypted", "Standard1", {"CommitLog-7-1699285478684.log"}}, true},
  };
}

std::string TopicOf(const testing::FixtureTable& t) { return "cass.Keyspace1." + t.table; }

// One segment of the round's feed.
struct FedSegment {
  int kind = 0;  // index into Templates()
  int64_t id = 0;
  std::string name;
  std::string bytes;
  std::vector<uint32_t> positions;       // where each mutation starts
  uint32_t end_offset = 0;               // where the last one ends
  int64_t gap_ms = 0;                    // after the previous segment
  std::vector<int64_t> section_gaps_ms;  // live: before each idx update
  bool completed_late = false;           // live: COMPLETED only once the next live segment began
};

// The round's segments, from its seed alone.
std::vector<FedSegment> MakeFeed(uint64_t seed, int round) {
  std::mt19937_64 rng(seed ^ 0x5eed5eedULL);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const auto templates = Templates();
  std::vector<std::string> sources;
  for (const auto& t : templates) {
    sources.push_back(ReadFile(testing::FixtureRoot() / t.table.dir / t.table.files.front()));
  }
  std::vector<FedSegment> out;
  for (int i = 0; i < kSegmentsPerRound; ++i) {
    FedSegment s;
    // The big 3.0.13 segment (most events) one time in five.
    const int64_t pick = uniform(0, 4);
    s.kind = pick == 0 ? 0 : pick <= 2 ? 1 : 2;
    const SegmentTemplate& t = templates[s.kind];
    s.id = kFirstSegmentId + round * 1000 + i;
    s.name = fmt::format("CommitLog-{}-{}.log", t.live ? 7 : 6, s.id);
    s.bytes = testing::WithSegmentId(sources[s.kind], s.id);
    const Schema schema = testing::Standard1Schema(t.table.dir);
    ReaderOptions options;
    options.schema = &schema;
    for (const Mutation& m : testing::ReadAllMutations(s.bytes, options, nullptr, s.name)) {
      EXPECT_EQ(m.position.segment_id, s.id);
      s.positions.push_back(m.position.offset);
      s.end_offset = m.end_offset;
    }
    s.gap_ms = uniform(200, 1000);
    if (t.live) {
      for (size_t k = 0; k < testing::SectionEnds(s.bytes).size(); ++k) {
        s.section_gaps_ms.push_back(uniform(50, 400));
      }
      s.completed_late = uniform(0, 1) == 1;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void WriteIdx(const fs::path& cdc_raw, const std::string& log_name, uint32_t offset,
              bool completed) {
  const std::string idx = log_name.substr(0, log_name.size() - 4) + "_cdc.idx";
  rm::testing::WriteFile(cdc_raw / (idx + ".tmp"),
                         std::to_string(offset) + (completed ? "\nCOMPLETED" : ""));
  fs::rename(cdc_raw / (idx + ".tmp"), cdc_raw / idx);
}

// Feeds the segments into cdc_raw on its own thread, as Cassandra writes them: a 3.x segment
// appears whole (renamed in); a 4.x segment is created preallocated (header, zeros), its
// sections are written in place and each is followed by the idx with the synced offset; its
// COMPLETED comes at once or once the next 4.x segment began.
class Feeder {
 public:
  Feeder(fs::path cdc_raw, const std::vector<FedSegment>& feed)
      : cdc_raw_(std::move(cdc_raw)), feed_(feed), thread_([this] { Run(); }) {}
  ~Feeder() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }

 private:
  void Run() {
    std::vector<const FedSegment*> completed_pending;
    for (const FedSegment& s : feed_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(s.gap_ms));
      if (s.section_gaps_ms.empty()) {
        rm::testing::WriteFile(cdc_raw_ / (s.name + ".part"), s.bytes);
        fs::rename(cdc_raw_ / (s.name + ".part"), cdc_raw_ / s.name);
        continue;
      }
      const size_t header = testing::FirstSyncMarker(s.bytes);
      std::string preallocated = s.bytes.substr(0, header);
      preallocated.resize(s.bytes.size(), '\0');
      rm::testing::WriteFile(cdc_raw_ / s.name, preallocated);
      std::fstream file(cdc_raw_ / s.name, std::ios::in | std::ios::out | std::ios::binary);
      size_t written = header;
      const auto ends = testing::SectionEnds(s.bytes);
      for (size_t k = 0; k < ends.size(); ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(s.section_gaps_ms[k]));
        file.seekp(static_cast<std::streamoff>(written));
        file.write(s.bytes.data() + written, static_cast<std::streamsize>(ends[k] - written));
        file.flush();
        written = ends[k];
        WriteIdx(cdc_raw_, s.name, ends[k], false);
        // This segment's idx exists: the older ones' COMPLETED may come now.
        for (const FedSegment* old : completed_pending) {
          WriteIdx(cdc_raw_, old->name, SectionEndsBack(*old), true);
        }
        completed_pending.clear();
      }
      if (s.completed_late) {
        completed_pending.push_back(&s);
      } else {
        WriteIdx(cdc_raw_, s.name, ends.back(), true);
      }
    }
    for (const FedSegment* old : completed_pending) {
      WriteIdx(cdc_raw_, old->name, SectionEndsBack(*old), true);
    }
    done_ = true;
  }
  static uint32_t SectionEndsBack(const FedSegment& s) {
    return testing::SectionEnds(s.bytes).back();
  }

  const fs::path cdc_raw_;
  const std::vector<FedSegment>& feed_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// High watermarks of every captured topic's partitions, by topic.
using Watermarks = std::map<std::string, std::vector<int64_t>>;

// Takes watermark snapshots: one after each segment vanishes from cdc_raw, and one after each
// kill (Snapshot()). One thread watches cdc_raw every 10 ms (a segment stays there at least the
// producer's 500 ms linger), another takes the snapshots asked for before it started, retried
// until every partition answers (brokers may be down): a snapshot may thus be taken later than
// asked, which only makes the checks weaker, never wrong.
class WatermarkWatch {
 public:
  WatermarkWatch(const std::string& bootstrap, std::vector<std::string> topics, fs::path cdc_raw)
      : client_({{"bootstrap.servers", bootstrap}}, nullptr, "watermark watch"),
        topics_(std::move(topics)),
        cdc_raw_(std::move(cdc_raw)),
        watcher_([this] { Watch(); }),
        taker_([this] { TakeSnapshots(); }) {}
  ~WatermarkWatch() { Stop(); }
  void Stop() {
    stop_ = true;
    if (watcher_.joinable()) watcher_.join();
    if (taker_.joinable()) taker_.join();
  }
  // Asks for a snapshot tagged `tag`; returns at once.
  void Snapshot(const std::string& tag) {
    std::lock_guard lock(mu_);
    pending_.insert(tag);
  }
  // Waits until every snapshot asked for was taken (false on timeout).
  bool Settle(std::chrono::milliseconds timeout) {
    return WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          return pending_.empty();
        },
        timeout);
  }
  // By tag: "kill <n>" or the name of a vanished segment.
  std::map<std::string, Watermarks> snapshots() const {
    std::lock_guard lock(mu_);
    return snapshots_;
  }

 private:
  void Watch() {
    std::set<std::string> present;
    while (!stop_) {
      std::set<std::string> now;
      std::error_code ec;
      for (fs::directory_iterator it(cdc_raw_, ec); !ec && it != fs::directory_iterator();
           it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) now.insert(name);
      }
      if (!ec) {
        std::lock_guard lock(mu_);
        for (const auto& name : present) {
          if (!now.count(name)) pending_.insert(name);
        }
        present = std::move(now);
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  void TakeSnapshots() {
    while (!stop_) {
      std::set<std::string> asked;
      {
        std::lock_guard lock(mu_);
        asked = pending_;
      }
      if (!asked.empty()) {
        if (auto w = Take()) {
          std::lock_guard lock(mu_);
          for (const auto& tag : asked) {
            snapshots_[tag] = *w;
            pending_.erase(tag);
          }
          continue;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  std::optional<Watermarks> Take() {
    std::vector<common::TopicPartition> tps;
    for (const auto& t : topics_) {
      for (int p = 0; p < kPartitions; ++p) tps.push_back({t, p});
    }
    auto wms = client_.QueryWatermarks(tps, 2s);
    if (!wms.ok()) return std::nullopt;
    Watermarks out;
    for (size_t i = 0; i < tps.size(); ++i) {
      if (!(*wms)[i].ok()) return std::nullopt;
      out[tps[i].topic].push_back((*wms)[i]->high);
    }
    return out;
  }

  common::Producer client_;
  const std::vector<std::string> topics_;
  const fs::path cdc_raw_;
  mutable std::mutex mu_;
  std::set<std::string> pending_;
  std::map<std::string, Watermarks> snapshots_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
  std::thread taker_;
};

struct Fault {
  enum class Kind { kKill, kBrokerDown, kKafkaDown, kLeaderMove, kProduceErrors };
  Kind kind;
  int64_t at_ms = 0;
  int64_t hold_ms = 0;              // kKill: until the restart; broker faults: until up
  int broker = 0;                   // kBrokerDown, kLeaderMove
  std::string topic;                // kLeaderMove
  int partition = 0;                // kLeaderMove
  std::vector<std::string> errors;  // kProduceErrors

  // Faults on one resource do not overlap (the first undo would end both).
  std::string resource() const {
    switch (kind) {
      case Kind::kKill:
        return "capture";
      case Kind::kBrokerDown:
      case Kind::kKafkaDown:
        return "brokers";
      default:
        return "";
    }
  }
  std::string Describe() const {
    switch (kind) {
      case Kind::kKill:
        return fmt::format("kill -9 the capture, restart after {} ms", hold_ms);
      case Kind::kBrokerDown:
        return fmt::format("broker {} down for {} ms", broker, hold_ms);
      case Kind::kKafkaDown:
        return fmt::format("Kafka (all {} brokers) down for {} ms", kBrokers, hold_ms);
      case Kind::kLeaderMove:
        return fmt::format("{}[{}] leader -> broker {}", topic, partition, broker);
      case Kind::kProduceErrors:
        return fmt::format("next {} Produce request(s) fail: {}", errors.size(),
                           fmt::join(errors, ","));
    }
    return "";
  }
};

std::vector<Fault> MakeSchedule(uint64_t seed, const std::vector<std::string>& topics) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<int64_t> times;
  for (int i = 0; i < kFaultsPerRound; ++i) times.push_back(uniform(0, kScheduleMs));
  std::sort(times.begin(), times.end());
  std::map<std::string, int64_t> busy_until;
  std::vector<Fault> out;
  for (int64_t at : times) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      Fault f;
      // Kills twice as often as each other kind.
      const int64_t k = uniform(0, 5);
      f.kind = k <= 1 ? Fault::Kind::kKill : static_cast<Fault::Kind>(k - 1);
      f.at_ms = at;
      f.broker = static_cast<int>(uniform(1, kBrokers));
      switch (f.kind) {
        case Fault::Kind::kKill:
          f.hold_ms = uniform(100, 2500);
          break;
        case Fault::Kind::kBrokerDown:
          f.hold_ms = uniform(500, 3000);
          break;
        case Fault::Kind::kKafkaDown:
          f.hold_ms = uniform(1000, 4000);
          break;
        case Fault::Kind::kLeaderMove:
          f.topic = topics[uniform(0, topics.size() - 1)];
          f.partition = static_cast<int>(uniform(0, kPartitions - 1));
          break;
        case Fault::Kind::kProduceErrors: {
          // Retriable ones, which librdkafka retries, and INVALID_RECORD, which fails the
          // events of that request for good: the capture must stop before them, not skip them.
          const std::vector<std::string> kinds = {"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT",
                                                  "NOT_ENOUGH_REPLICAS", "INVALID_RECORD"};
          const int n = static_cast<int>(uniform(1, 4));
          for (int i = 0; i < n; ++i) f.errors.push_back(kinds[uniform(0, kinds.size() - 1)]);
          break;
        }
      }
      const std::string res = f.resource();
      if (!res.empty() && busy_until[res] > at) continue;
      if (!res.empty()) busy_until[res] = at + f.hold_ms;
      out.push_back(std::move(f));
      break;
    }
  }
  return out;
}

using Position = std::pair<int64_t, int64_t>;  // (segment id, offset)

struct KillState {
  int kill = 0;
  std::optional<Position> resume;
  std::vector<std::string> delivered;  // file names
};

// One event as stored: where its first copy is.
struct Stored {
  int32_t partition = 0;
  int64_t first_offset = 0;
  int copies = 0;
};

// (topic, segment id, position, key) -> where it is in Kafka.
using StoredEvents = std::map<std::tuple<std::string, int64_t, int64_t, std::string>, Stored>;

class CassandraFaults : public ::testing::Test {
 protected:
  void RunRound(int round, uint64_t seed) {
    const auto templates = Templates();
    std::vector<std::string> topics;
    std::vector<testing::FixtureTable> tables;
    for (const auto& t : templates) {
      topics.push_back(TopicOf(t.table));
      tables.push_back(t.table);
    }
    const std::vector<Fault> schedule = MakeSchedule(seed, topics);
    const std::vector<FedSegment> feed = MakeFeed(seed, round);
    fmt::print("round {} seed {} (replay: RM_FAULT_SEED={} RM_FAULT_ROUNDS=1):\n", round, seed,
               seed);
    for (const auto& f : schedule) fmt::print("  at {:>5} ms: {}\n", f.at_ms, f.Describe());
    size_t expected_events = 0;
    for (const auto& s : feed) expected_events += s.positions.size();
    fmt::print("  feed: {} segments, {} mutations\n", feed.size(), expected_events);

    rm::testing::TempDir tmp;
    const fs::path cdc_raw = tmp / "cdc_raw";
    const fs::path state_dir = tmp / "state";
    fs::create_directories(cdc_raw);
    rm::testing::ScopedTestbed tb({"us-east"}, kBrokers);
    const std::string bootstrap = tb.Bootstrap("us-east");
    for (const auto& topic : topics) tb.CreateTopic("us-east", topic, kPartitions);
    testbed::ControlClient control(tb.ControlAddress());
    const std::string config = (tmp / "cdc.yaml").string();
    rm::testing::WriteFile(config, testing::CaptureConfigYaml(tmp.path(), bootstrap, tables, -1));
    const std::string log = (tmp / "capture.log").string();
    const std::vector<std::string> argv = {
        rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", config};
    const auto logs = [&] { return ReadFile(log); };

    WatermarkWatch watch(bootstrap, topics, cdc_raw);
    auto capture = std::make_unique<ChildProcess>(argv, log, testing::CaptureEnv());
    Feeder feeder(cdc_raw, feed);

    // The schedule, with a supervisor: a capture that exited by itself (an event failed for
    // good) is started again after 200 ms; a killed one after the fault's hold.
    constexpr Clock::time_point kNever = Clock::time_point::max();
    Clock::time_point restart_at = kNever, kafka_up_at = kNever;
    std::vector<int> down_brokers;
    int kills = 0, self_exits = 0, outages = 0, leader_moves = 0, error_bursts = 0;
    std::vector<KillState> kill_states;
    const auto t0 = Clock::now();
    size_t next = 0;
    while (next < schedule.size() || restart_at != kNever || kafka_up_at != kNever) {
      const auto now = Clock::now();
      if (next < schedule.size() && now >= t0 + std::chrono::milliseconds(schedule[next].at_ms)) {
        const Fault& f = schedule[next++];
        fmt::print("  {:>5} ms: {}\n",
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - t0).count(),
                   f.Describe());
        switch (f.kind) {
          case Fault::Kind::kKill: {
            if (capture) {
              capture->Kill();
              capture.reset();
              ++kills;
              // The state as the killed capture left it, and the watermarks after it.
              auto state = testing::LoadState(state_dir);
              ASSERT_TRUE(state.ok()) << state.error().message;
              KillState ks{kills, {}, {}};
              if (state->resume) {
                ks.resume =
                    Position{state->resume->position.segment_id, state->resume->position.offset};
              }
              for (const auto& d : state->delivered) ks.delivered.push_back(d.segment.file);
              kill_states.push_back(std::move(ks));
              watch.Snapshot(fmt::format("kill {}", kills));
            }
            restart_at = Clock::now() + std::chrono::milliseconds(f.hold_ms);
            break;
          }
          case Fault::Kind::kBrokerDown:
          case Fault::Kind::kKafkaDown:
            down_brokers.clear();
            for (int b = 1; b <= kBrokers; ++b) {
              if (f.kind == Fault::Kind::kKafkaDown || b == f.broker) down_brokers.push_back(b);
            }
            for (int b : down_brokers) ASSERT_TRUE(control.SetBrokerDown("us-east", b).ok());
            kafka_up_at = now + std::chrono::milliseconds(f.hold_ms);
            ++outages;
            break;
          case Fault::Kind::kLeaderMove:
            ASSERT_TRUE(control.SetPartitionLeader("us-east", f.topic, f.partition, f.broker).ok());
            ++leader_moves;
            break;
          case Fault::Kind::kProduceErrors:
            ASSERT_TRUE(control.PushRequestErrors("us-east", "Produce", f.errors).ok());
            ++error_bursts;
            break;
        }
      }
      if (now >= kafka_up_at) {
        for (int b : down_brokers) ASSERT_TRUE(control.SetBrokerUp("us-east", b).ok());
        down_brokers.clear();
        kafka_up_at = kNever;
      }
      if (capture && !capture->running()) {
        capture.reset();
        ++self_exits;
        ASSERT_LT(self_exits, 40) << "the capture keeps exiting:\n" << logs();
        if (restart_at == kNever) restart_at = now + 200ms;
      }
      if (!capture && now >= restart_at) {
        capture = std::make_unique<ChildProcess>(argv, log, testing::CaptureEnv());
        restart_at = kNever;
      }
      std::this_thread::sleep_for(10ms);
    }
    feeder.Join();
    ASSERT_TRUE(feeder.done());

    // Catch up, still supervised, until every segment (and idx) is gone from cdc_raw.
    const bool caught_up = WaitFor(
        [&] {
          if (!capture->running()) {
            ++self_exits;
            capture = std::make_unique<ChildProcess>(argv, log, testing::CaptureEnv());
          }
          return fs::is_empty(cdc_raw);
        },
        60s);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(cdc_raw)) {
      left.push_back(e.path().filename().string());
    }
    ASSERT_TRUE(caught_up) << "seed " << seed << ": left in cdc_raw: " << fmt::format("{}", left)
                           << "\n"
                           << logs();
    capture->Signal(SIGTERM);  // waits until the capture handles it
    auto rc = capture->Wait(30s);
    ASSERT_TRUE(rc.has_value()) << "no exit within 30 s of SIGTERM";
    EXPECT_EQ(*rc, 0) << logs();
    capture.reset();
    EXPECT_FALSE(fs::exists(state_dir / "bad-segments")) << "seed " << seed;
    ASSERT_TRUE(watch.Settle(30s)) << "watermarks could not be read";
    watch.Stop();

    // The final state: the last segment's last mutation, nothing left to clean up.
    auto final_state = testing::LoadState(state_dir);
    ASSERT_TRUE(final_state.ok()) << final_state.error().message;
    ASSERT_TRUE(final_state->resume.has_value());
    EXPECT_EQ(final_state->resume->position.segment_id, feed.back().id) << "seed " << seed;
    EXPECT_EQ(final_state->resume->position.offset, feed.back().end_offset) << "seed " << seed;
    EXPECT_EQ(final_state->resume->segment.file, feed.back().name) << "seed " << seed;
    EXPECT_TRUE(final_state->delivered.empty()) << "seed " << seed;

    // What Kafka holds: the first copy of each event.
    // (Read in parallel: each read waits 3 s for more records.)
    std::vector<std::future<std::vector<rm::testing::Record>>> reads;
    for (const auto& topic : topics) {
      reads.push_back(std::async(std::launch::async, [&bootstrap, topic] {
        return rm::testing::ConsumeWholeTopic(bootstrap, topic, kPartitions);
      }));
    }
    StoredEvents stored;
    size_t records = 0;
    for (size_t t = 0; t < topics.size(); ++t) {
      const std::string& topic = topics[t];
      for (auto& r : reads[t].get()) {
        if (!r.value) continue;  // tombstones follow their delete event
        ++records;
        const auto v = nlohmann::json::parse(*r.value);
        Stored& s = stored[{topic, v["source"]["segment_id"].get<int64_t>(),
                            v["source"]["pos"].get<int64_t>(), r.key.value_or("")}];
        if (s.copies++ == 0 || r.offset < s.first_offset) {
          s.first_offset = r.offset;
          s.partition = r.partition;
        }
      }
    }
    // Expected: one event per mutation, at least (a mutation of several rows has several).
    std::map<std::string, const FedSegment*> by_name;
    std::set<std::tuple<std::string, int64_t, int64_t>> expected;
    for (const auto& s : feed) {
      by_name[s.name] = &s;
      for (uint32_t pos : s.positions) expected.insert({topics[s.kind], s.id, pos});
    }
    std::set<std::tuple<std::string, int64_t, int64_t>> present;
    for (const auto& [k, s] : stored) {
      present.insert({std::get<0>(k), std::get<1>(k), std::get<2>(k)});
    }
    size_t lost = 0, unexpected = 0;
    for (const auto& e : expected) {
      if (present.count(e) == 0 && lost++ < 5) {
        ADD_FAILURE() << "seed " << seed << ": no event for " << std::get<0>(e) << " "
                      << std::get<1>(e) << ":" << std::get<2>(e);
      }
    }
    for (const auto& e : present) unexpected += expected.count(e) == 0;
    EXPECT_EQ(lost, 0u) << "seed " << seed << "\n" << logs();
    EXPECT_EQ(unexpected, 0u) << "seed " << seed;

    // Every copy of `events` (a segment's, or those before a checkpoint) stored below the
    // watermarks of `snapshot`: counts those that are not.
    const auto snapshots = watch.snapshots();
    auto unacked = [&](const Watermarks& w, auto&& selected) {
      size_t n = 0;
      for (const auto& [k, s] : stored) {
        if (!selected(std::get<0>(k), std::get<1>(k), std::get<2>(k))) continue;
        if (s.first_offset >= w.at(std::get<0>(k)).at(s.partition)) ++n;
      }
      return n;
    };
    // No segment deleted before its events were acknowledged.
    size_t deleted_early = 0;
    for (const auto& s : feed) {
      auto it = snapshots.find(s.name);
      if (it == snapshots.end()) {
        ADD_FAILURE() << s.name << ": never seen vanishing";
        continue;
      }
      const size_t n = unacked(it->second, [&](const std::string& topic, int64_t id, int64_t) {
        return topic == topics[s.kind] && id == s.id;
      });
      if (n > 0) {
        ADD_FAILURE() << "seed " << seed << ": " << s.name << " deleted while " << n
                      << " of its events were not in Kafka";
      }
      deleted_early += n;
    }
    // The checkpoint after each kill: behind the acknowledged events, never moving back.
    size_t ahead = 0;
    std::optional<Position> previous;
    for (const KillState& ks : kill_states) {
      const Watermarks& w = snapshots.at(fmt::format("kill {}", ks.kill));
      if (ks.resume) {
        const size_t n = unacked(w, [&](const std::string&, int64_t id, int64_t pos) {
          return Position{id, pos} < *ks.resume;
        });
        if (n > 0) {
          ADD_FAILURE() << "seed " << seed << ": after kill " << ks.kill << " the checkpoint "
                        << ks.resume->first << ":" << ks.resume->second << " is ahead of " << n
                        << " unacknowledged events";
        }
        ahead += n;
        if (previous) {
          EXPECT_LE(*previous, *ks.resume) << "seed " << seed << ": the checkpoint moved back";
        }
        previous = ks.resume;
      }
      for (const auto& name : ks.delivered) {
        auto seg = by_name.find(name);
        ASSERT_NE(seg, by_name.end()) << name;
        const FedSegment& s = *seg->second;
        const size_t n = unacked(w, [&](const std::string& topic, int64_t id, int64_t) {
          return topic == topics[s.kind] && id == s.id;
        });
        if (n > 0) {
          ADD_FAILURE() << "seed " << seed << ": after kill " << ks.kill << " " << name
                        << " is recorded delivered with " << n << " events not in Kafka";
        }
        ahead += n;
      }
    }
    EXPECT_EQ(deleted_early, 0u);
    EXPECT_EQ(ahead, 0u);

    fmt::print(
        "round {} seed {}: {} segments, {} events expected, {} records in Kafka ({} re-sent); "
        "{} kills, {} self exits, {} Kafka outages, {} leader moves, {} produce error bursts; "
        "lost={} deleted early={} checkpoint ahead={}\n",
        round, seed, feed.size(), expected.size(), records, records - stored.size(), kills,
        self_exits, outages, leader_moves, error_bursts, lost, deleted_early, ahead);
    totals_.rounds += 1;
    totals_.kills += kills;
    totals_.self_exits += self_exits;
    totals_.outages += outages;
    totals_.events += expected.size();
    totals_.lost += lost;
  }

  struct Totals {
    int rounds = 0, kills = 0, self_exits = 0, outages = 0;
    size_t events = 0, lost = 0;
  } totals_;
};

TEST_F(CassandraFaults, EveryEventIsInKafkaUnderRandomKillsKafkaOutagesAndArrivingSegments) {
  const uint64_t seed = rm::testing::FaultSeed();
  const int rounds = rm::testing::FaultRounds(1);
  fmt::print("cassandra fault schedule: {} round(s), seed {} (RM_FAULT_SEED to replay)\n", rounds,
             seed);
  RecordProperty("seed", std::to_string(seed));
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    RunRound(round, seed + static_cast<uint64_t>(round));
  }
  fmt::print(
      "cassandra fault schedule: {} round(s), {} kills, {} self exits, {} Kafka outages, {} "
      "events, lost={}\n",
      totals_.rounds, totals_.kills, totals_.self_exits, totals_.outages, totals_.events,
      totals_.lost);
}

}  // namespace
}  // namespace rm::cdc::cassandra
