// Test helpers for the Cassandra capture: an in-memory EventSink whose acks the test controls,
// a fake cdc_raw directory fed with fixture segments, and the fixture check (cells and hash of
// hash.txt) recomputed from change events.
#pragma once

#include <gtest/gtest.h>

#include <rocksdb/db.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src-cdc/cassandra/capture.h"
#include "src-cdc/cassandra/position_store.h"
#include "src-cdc/event_sink.h"
#include "tests/src-cdc/cassandra_test_support.h"
#include "tests/util/memory_sink.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra::testing {

// A capture configuration for in-process tests: segments read from `cdc_raw`, state in
// `state_dir`, topics "cass.<keyspace>.<table>", and intervals short enough that a test waits
// milliseconds, not seconds.
inline CaptureConfig FastCaptureConfig(const std::filesystem::path& cdc_raw,
                                       const std::filesystem::path& state_dir) {
  using namespace std::chrono_literals;
  CaptureConfig c;
  c.cdc_raw_dir = cdc_raw;
  c.state_dir = state_dir;
  c.topic_prefix = "cass";
  c.poll_interval = 10ms;
  c.checkpoint_interval = 20ms;
  c.shutdown_timeout = 200ms;
  return c;
}

using StoredRecord = rm::testing::SinkRecord;

// The shared memory sink (tests/util/memory_sink.h), acking inside Produce() unless told.
class MemorySink : public rm::testing::MemorySink {
 public:
  explicit MemorySink(Mode mode = Mode::kImmediate) : rm::testing::MemorySink(mode) {}
};

// Runs a capture on its own thread for as long as it lives (`history`: its schema history
// reader, when the config asks for one).
class RunningCapture {
 public:
  RunningCapture(CaptureConfig config, const Schema& schema, EventSink& sink,
                 const KeyProvider* keys = nullptr,
                 CassandraCapture::HistoryReader history = nullptr)
      : registry_(std::make_shared<prometheus::Registry>()),
        capture_(std::move(config), schema, keys, sink, *registry_) {
    if (history) capture_.SetSchemaHistoryReader(std::move(history));
    thread_ = std::thread([this] {
      status_ = capture_.Run(stop_);
      done_ = true;
    });
  }
  ~RunningCapture() { Stop().PermitUnchecked(); }

  common::Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return status_;
  }
  // Run() returned (by itself, or after Stop()).
  bool done() const { return done_; }
  CassandraCapture& capture() { return capture_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  CassandraCapture capture_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  common::Status status_;
  std::thread thread_;
};

using rm::testing::WaitFor;

inline std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const auto v = kAlphabet.find(c);
    if (v == std::string::npos) continue;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// CommitLogUpgradeTest's check over change events of Standard1: for rows whose clustering value
// starts with "name", every regular cell the event carries (val, val0: blobs in base64).
struct FixtureCheck {
  int64_t cells = 0;
  int32_t hash = 0;
  std::set<std::pair<int64_t, int64_t>> positions;  // (segment_id, pos) of events seen
};

inline FixtureCheck CheckEvents(const std::vector<StoredRecord>& records) {
  FixtureCheck out;
  for (const auto& r : records) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    out.positions.insert(
        {v["source"]["segment_id"].get<int64_t>(), v["source"]["pos"].get<int64_t>()});
    const auto& after = v["after"];
    if (!after.is_object() || !after["col"].is_object() || !after["col"]["value"].is_string()) {
      continue;
    }
    if (after["col"]["value"].get<std::string>().rfind("name", 0) != 0) continue;
    for (const char* column : {"val", "val0"}) {
      if (!after.contains(column) || after[column].is_null()) continue;
      ++out.cells;
      const std::string bytes = Base64Decode(after[column]["value"].get<std::string>());
      uint32_t hash = static_cast<uint32_t>(out.hash);
      int shift = 0;
      for (unsigned char b : bytes) {
        hash += static_cast<uint32_t>(b) << shift;
        shift = (shift + 8) & 31;
      }
      out.hash = static_cast<int32_t>(hash);
    }
  }
  return out;
}

// The file offsets where the sync sections of a plain segment end (what _cdc.idx reports as
// Cassandra syncs them).
inline std::vector<uint32_t> SectionEnds(const std::string& file) {
  std::vector<uint32_t> ends;
  const auto load = [&](size_t at) { return LoadU32(file, at); };
  size_t pos = FirstSyncMarker(file);
  while (pos + 8 <= file.size()) {
    const uint32_t next = load(pos);
    if (next == 0 || next <= pos || next > file.size()) break;
    ends.push_back(next);
    pos = next;
  }
  return ends;
}

// Writes a Cassandra 4 CDC segment as it looks after Cassandra synced up to `offset`: the bytes
// before it, zeros after (the file is preallocated), and the _cdc.idx with the offset.
inline void WriteLiveSegment(const std::filesystem::path& dir, const std::string& name,
                             const std::string& bytes, uint32_t offset, bool completed) {
  std::string content = bytes.substr(0, offset);
  content.resize(bytes.size(), '\0');
  rm::testing::WriteFile(dir / name, content);
  const std::string idx_name = name.substr(0, name.size() - 4) + "_cdc.idx";
  rm::testing::WriteFile(dir / (idx_name + ".tmp"),
                         std::to_string(offset) + (completed ? "\nCOMPLETED" : ""));
  std::filesystem::rename(dir / (idx_name + ".tmp"), dir / idx_name);
}

// Writes the capture state's raw value as older versions did ("<segment id>:<offset>"), in a
// state dir no capture holds.
inline void WriteRawState(const std::filesystem::path& state_dir, const std::string& value) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, state_dir.string(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "cassandra.position", value).ok());
}

// The state's raw value in `state_dir` (no capture may hold it).
inline std::string ReadRawState(const std::filesystem::path& state_dir) {
  rocksdb::Options options;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(options, state_dir.string(), &raw).ok());
  if (raw == nullptr) return "";
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "cassandra.position", &value).ok());
  return value;
}

// The state saved in `state_dir` (no capture may hold it).
inline common::Result<CaptureState> LoadState(const std::filesystem::path& state_dir) {
  auto store = PositionStore::Open(state_dir);
  if (!store.ok()) return store.error();
  return store.value()->Load();
}

}  // namespace rm::cdc::cassandra::testing
