// CassandraCapture on a fake cdc_raw directory with an in-memory sink: tailing a 4.x segment
// through its _cdc.idx, whole 3.x segments, cleanup only after acks, checkpoints only over an
// acknowledged prefix, back-pressure, restart from a checkpoint, and bad segments.
#include "src-cdc/cassandra/capture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "src-cdc/cassandra/key_provider.h"
#include "tests/src-cdc/cassandra_capture_support.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::CheckEvents;
using testing::FixtureRoot;
using testing::MemorySink;
using testing::ReadHashFile;
using testing::RunningCapture;
using testing::WaitFor;

constexpr char k40Dir[] = "4.0.11-encrypted";
constexpr char k40File[] = "CommitLog-7-1699285478684.log";

class CassandraCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cdc_raw_ = tmp_ / "cdc_raw";
    fs::create_directories(cdc_raw_);
  }

  CaptureConfig Config() {
    CaptureConfig c = testing::FastCaptureConfig(cdc_raw_, tmp_ / "state");
    c.cluster = "Test Cluster";
    return c;
  }

  void CopyFixture(const std::string& dir, const std::string& file) {
    fs::copy_file(FixtureRoot() / dir / file, cdc_raw_ / file);
    fs::permissions(cdc_raw_ / file, fs::perms::owner_write, fs::perm_options::add);
  }

  // Writes the 4.0.11 segment as Cassandra leaves it once every section is synced, with or
  // without COMPLETED in its idx.
  void WriteSynced40(bool completed) {
    const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
    testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(),
                              completed);
  }

  static int64_t Expected(const std::string& dir, const char* what) {
    return std::stoll(ReadHashFile(FixtureRoot() / dir).at(what));
  }

  rm::testing::TempDir tmp_;
  fs::path cdc_raw_;
};

// The (segment_id, pos) of every mutation in a fixture segment.
std::set<std::pair<int64_t, int64_t>> AllPositions(const std::string& dir, const std::string& file,
                                                   const Schema& schema) {
  ReaderOptions options;
  options.schema = &schema;
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / dir / file);
  std::set<std::pair<int64_t, int64_t>> out;
  for (const Mutation& m : testing::ReadAllMutations(bytes, options, nullptr, file)) {
    out.insert({m.position.segment_id, m.position.offset});
  }
  return out;
}

std::set<std::pair<int64_t, int64_t>> OfSegment(const std::set<std::pair<int64_t, int64_t>>& all,
                                                int64_t id) {
  std::set<std::pair<int64_t, int64_t>> out;
  for (const auto& p : all) {
    if (p.first == id) out.insert(p);
  }
  return out;
}

constexpr char k30Dir[] = "3.0.13-encrypted";
constexpr char k30Old[] = "CommitLog-6-1699284515156.log";
constexpr char k30New[] = "CommitLog-6-1699284515157.log";
constexpr int64_t k30OldId = 1699284515156;
constexpr int64_t k30NewId = 1699284515157;

// The 3.0.13 and the 4.0.11 fixture tables (both Keyspace1.Standard1 in their clusters).
Schema BothFixtureTables() {
  auto schema = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, val0 blob, "
      "PRIMARY KEY (key, col)) WITH ID = " +
      ReadHashFile(FixtureRoot() / k30Dir).at("cfid") +
      ";\nCREATE TABLE \"Keyspace1\".\"Standard1_40\" (key ascii, col ascii, val blob, "
      "val0 blob, PRIMARY KEY (key, col)) WITH ID = " +
      ReadHashFile(FixtureRoot() / k40Dir).at("cfid"));
  return std::move(schema).value();
}

TEST_F(CassandraCaptureTest, TailsALiveSegmentAsItsIdxGrowsAndDeletesItOnceCompletedAndAcked) {
  // Given the 4.0.11 segment appearing in cdc_raw a few sections at a time
  const Schema schema = testing::Standard1Schema(k40Dir);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  const auto ends = testing::SectionEnds(bytes);
  ASSERT_GE(ends.size(), 3u);
  MemorySink sink;
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, ends[0], false);
  RunningCapture run(Config(), schema, sink);

  ReaderOptions options;
  options.schema = &schema;
  const auto whole = testing::ReadAllMutations(bytes, options, nullptr, k40File);

  // When the idx offset grows section by section, then says COMPLETED
  for (size_t i = 0; i < ends.size(); ++i) {
    // Then exactly the mutations of the sections synced so far arrive
    const auto upto = static_cast<size_t>(std::count_if(
        whole.begin(), whole.end(), [&](const Mutation& m) { return m.end_offset <= ends[i]; }));
    ASSERT_TRUE(WaitFor([&] { return CheckEvents(sink.records()).positions.size() >= upto; }))
        << "section " << i;
    std::this_thread::sleep_for(20ms);
    ASSERT_EQ(CheckEvents(sink.records()).positions.size(), upto) << "read past the idx offset";
    if (i + 1 < ends.size()) {
      testing::WriteLiveSegment(cdc_raw_, k40File, bytes, ends[i + 1], false);
    }
  }
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File)) << "not COMPLETED yet: must stay";
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, ends.back(), true);

  // Then exactly the fixture's cells arrive and the segment and its idx are deleted
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); })) << "segment and idx deleted";
  ASSERT_TRUE(run.Stop().ok());
  const auto check = CheckEvents(sink.records());
  EXPECT_EQ(check.cells, Expected(k40Dir, "cells"));
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(k40Dir, "hash")));
  EXPECT_EQ(run.capture().probe().segments_done(), 1u);
  EXPECT_EQ(run.capture().probe().errors_total(), 0u);
  EXPECT_EQ(sink.records().front().topic, "cass.Keyspace1.Standard1");
}

TEST_F(CassandraCaptureTest, ReadsWhole3xSegmentsInIdOrderAndMovesThemWhenConfigured) {
  const std::string dir = "3.0.13-encrypted";
  const Schema schema = testing::Standard1Schema(dir);
  CopyFixture(dir, "CommitLog-6-1699284515157.log");
  CopyFixture(dir, "CommitLog-6-1699284515156.log");
  CaptureConfig config = Config();
  config.processed = ProcessedAction::kMove;
  config.move_to = tmp_ / "done";
  MemorySink sink;
  RunningCapture run(config, schema, sink);

  ASSERT_TRUE(WaitFor([&] { return fs::exists(tmp_ / "done" / "CommitLog-6-1699284515157.log"); }));
  ASSERT_TRUE(run.Stop().ok());

  EXPECT_TRUE(fs::exists(tmp_ / "done" / "CommitLog-6-1699284515156.log"));
  EXPECT_TRUE(fs::is_empty(cdc_raw_));
  const auto records = sink.records();
  const auto check = CheckEvents(records);
  EXPECT_EQ(check.cells, Expected(dir, "cells"));
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(dir, "hash")));
  int64_t last_segment = 0;
  for (const auto& r : records) {
    const auto seg = nlohmann::json::parse(*r.value)["source"]["segment_id"].get<int64_t>();
    EXPECT_GE(seg, last_segment) << "segments are processed in id order";
    last_segment = seg;
  }
}

TEST_F(CassandraCaptureTest, ReadsEncryptedSegmentsWithTheConfiguredKey) {
  const std::string dir = "3.4-encrypted";
  const Schema schema = testing::Standard1Schema(dir);
  CopyFixture(dir, "CommitLog-6-1480001790338.log");
  CopyFixture(dir, "CommitLog-6-1480001790339.log");
  StaticKeyProvider keys;
  ASSERT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  MemorySink sink;
  RunningCapture run(Config(), schema, sink, &keys);

  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }, 60s));
  ASSERT_TRUE(run.Stop().ok());

  const auto check = CheckEvents(sink.records());
  EXPECT_EQ(check.cells, Expected(dir, "cells"));
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(dir, "hash")));
}

TEST_F(CassandraCaptureTest, WithheldAcksKeepTheSegmentAndTheCheckpointWhereTheyAre) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  CopyFixture(k40Dir, k40File);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  MemorySink sink(MemorySink::Mode::kManual);
  RunningCapture run(Config(), schema, sink);

  // Given every event produced but none acknowledged
  ASSERT_TRUE(WaitFor([&] { return CheckEvents(sink.records()).cells == 355; }));
  std::this_thread::sleep_for(200ms);  // many poll and checkpoint intervals

  // Then nothing is deleted and no position is saved
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File));
  EXPECT_FALSE(run.capture().checkpointed().has_value());

  // When all but the last are acked: still kept
  const size_t n = sink.size();
  for (size_t i = 0; i + 1 < n; ++i) sink.Ack(i);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File));
  ASSERT_TRUE(run.capture().checkpointed().has_value());

  // When the last is acked: deleted, and the checkpoint is past the last mutation
  sink.Ack(n - 1);
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw_ / k40File); }));
  const auto last = nlohmann::json::parse(*sink.records().back().value)["source"]["pos"];
  EXPECT_GT(run.capture().checkpointed()->offset, last.get<uint32_t>());
}

TEST_F(CassandraCaptureTest, OutOfOrderAcksAdvanceTheCheckpointOnlyOverTheAckedPrefix) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), false);
  MemorySink sink(MemorySink::Mode::kManual);
  RunningCapture run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return CheckEvents(sink.records()).cells == 355; }));
  const size_t n = sink.size();

  // Acks from another thread, newest first, all but the very first event
  std::thread acker([&] {
    for (size_t i = n - 1; i >= 1; --i) sink.Ack(i);
  });
  acker.join();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(run.capture().checkpointed().has_value())
      << "event 0 is not acked: no position may be saved";

  sink.Ack(0);
  ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed().has_value(); }));
  const auto last = nlohmann::json::parse(*sink.records().back().value)["source"]["pos"];
  ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed()->offset > last.get<uint32_t>(); }));
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File)) << "not COMPLETED: kept";
}

TEST_F(CassandraCaptureTest, RestartResumesFromTheCheckpointWithNothingMissing) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  std::vector<testing::StoredRecord> delivered;
  CommitLogPosition saved;
  {
    // First run: only the first 100 events are acked before the process stops
    MemorySink sink(MemorySink::Mode::kManual);
    RunningCapture run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return sink.size() > 150; }));
    for (size_t i = 0; i < 100; ++i) sink.Ack(i);
    ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed().has_value(); }));
    ASSERT_TRUE(run.Stop().ok());
    saved = *run.capture().checkpointed();
    delivered = sink.acked_records();
    ASSERT_EQ(delivered.size(), 100u);
    EXPECT_TRUE(fs::exists(cdc_raw_ / k40File));
  }
  // Second run on the same state dir, everything acked
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw_ / k40File); }));
  ASSERT_TRUE(run.Stop().ok());

  const auto second = sink.records();
  ASSERT_FALSE(second.empty());
  const auto first_pos = nlohmann::json::parse(*second.front().value)["source"]["pos"];
  EXPECT_GE(first_pos.get<uint32_t>(), saved.offset) << "resumed at the checkpoint, not before";
  delivered.insert(delivered.end(), second.begin(), second.end());
  const auto check = CheckEvents(delivered);
  EXPECT_EQ(check.cells, 355);
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(k40Dir, "hash")));
}

TEST_F(CassandraCaptureTest, InFlightCapStopsReadingUntilAcksMakeRoom) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  CopyFixture(k40Dir, k40File);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  CaptureConfig config = Config();
  config.max_in_flight_events = 10;
  MemorySink sink(MemorySink::Mode::kManual);
  RunningCapture run(config, schema, sink);

  ASSERT_TRUE(WaitFor([&] { return sink.size() >= 10; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sink.size(), 10u) << "one event per mutation here: the cap is exact";

  sink.SetAutoAck(true);
  sink.AckAll();
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw_ / k40File); }));
  EXPECT_EQ(CheckEvents(sink.records()).cells, 355);
}

TEST_F(CassandraCaptureTest, CorruptSegmentsAreReportedAndTheCaptureGoesOn) {
  // Given a 3.0.13 segment with a corrupt entry, one with a garbage header, and a good 4.x
  // segment after them (both tables in the schema)
  const std::string dir = k30Dir;
  const Schema schema = BothFixtureTables();
  std::string corrupt =
      rm::testing::ReadFile(FixtureRoot() / dir / "CommitLog-6-1699284515156.log");
  const auto ends = testing::SectionEnds(corrupt);
  ASSERT_GE(ends.size(), 2u);
  // The size and size CRC of the second section's first entry
  for (size_t i = ends[0] + 8; i < ends[0] + 16; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  rm::testing::WriteFile(cdc_raw_ / "CommitLog-6-1699284515156.log", corrupt);
  rm::testing::WriteFile(cdc_raw_ / "CommitLog-6-1699284515157.log", std::string(64, 'x'));
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);

  // Then every segment is dealt with, errors are counted, and the good segment is delivered
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_GE(run.capture().probe().errors("segment"), 1u);
  EXPECT_EQ(run.capture().probe().errors("segment_open"), 1u);
  EXPECT_TRUE(fs::exists(tmp_ / "state" / "bad-segments" / "CommitLog-6-1699284515157.log"));
  size_t from_corrupt = 0, from_good = 0;
  for (const auto& r : sink.records()) {
    const auto seg = nlohmann::json::parse(*r.value)["source"]["segment_id"];
    from_corrupt += seg == 1699284515156 ? 1 : 0;
    from_good += seg == 1699285478684 ? 1 : 0;
  }
  EXPECT_GT(from_corrupt, 0u) << "entries around the corruption are still delivered";
  EXPECT_EQ(from_good, testing::CheckEvents(sink.records()).positions.size() - from_corrupt);
  EXPECT_EQ(from_good, 355u);
}

TEST_F(CassandraCaptureTest, MissingCdcRawDirectoryIsAClearError) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  CaptureConfig config = Config();
  config.cdc_raw_dir = tmp_ / "no-such-dir";
  MemorySink sink;
  auto registry = std::make_shared<prometheus::Registry>();
  CassandraCapture capture(config, schema, nullptr, sink, *registry);
  std::atomic<bool> stop{false};

  auto status = capture.Run(stop);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "cassandra.cdc_raw");
  EXPECT_NE(status.error().message.find("no-such-dir"), std::string::npos);
  EXPECT_NE(status.error().message.find("does not exist"), std::string::npos);
}

TEST_F(CassandraCaptureTest, CdcRawVanishingWhileRunningIsReportedInHealthAndRecovers) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);
  std::this_thread::sleep_for(50ms);
  fs::remove_all(cdc_raw_);
  ASSERT_TRUE(WaitFor([&] { return !run.capture().Health().empty(); }));
  EXPECT_NE(run.capture().Health().find("cdc_raw"), std::string::npos);
  EXPECT_EQ(run.capture().probe().errors("cdc_raw"), 1u);

  fs::create_directories(cdc_raw_);
  CopyFixture(k40Dir, k40File);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw_ / k40File); }));
  EXPECT_TRUE(run.capture().Health().empty());
}

TEST_F(CassandraCaptureTest, SegmentWithALowerIdThanDeliveredOnesIsReadInFullNotDeleted) {
  // Given the 4.x segment (id ...478684) delivered and deleted
  const Schema schema = BothFixtureTables();
  WriteSynced40(/*completed=*/true);
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed().has_value(); }));
  EXPECT_EQ(run.capture().checkpointed()->segment_id, 1699285478684);

  // When the node's clock went back and it writes segment ...515156, an id below the checkpoint
  CopyFixture(k30Dir, k30Old);

  // Then that segment is read in full and only then deleted
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(run.Stop().ok());
  const auto check = CheckEvents(sink.records());
  EXPECT_EQ(OfSegment(check.positions, k30OldId), AllPositions(k30Dir, k30Old, schema))
      << "every mutation of the lower-id segment";
  EXPECT_EQ(check.cells, Expected(k30Dir, "cells") + Expected(k40Dir, "cells"));
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(k30Dir, "hash") + Expected(k40Dir, "hash")));
  EXPECT_EQ(run.capture().probe().segments_done(), 2u);
}

TEST_F(CassandraCaptureTest, RestartInTheMiddleOfALowerIdSegmentResumesItWhereTheAcksEnded) {
  const Schema schema = BothFixtureTables();
  WriteSynced40(/*completed=*/true);
  std::vector<testing::StoredRecord> delivered;
  CommitLogPosition saved;
  {
    // First run: the 4.x segment delivered; then the lower-id 3.0 segment appears and only 50
    // of its events are acked before the process stops
    MemorySink sink;
    RunningCapture run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
    ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed().has_value(); }));
    sink.SetAutoAck(false);
    const size_t before = sink.size();
    CopyFixture(k30Dir, k30Old);
    ASSERT_TRUE(WaitFor([&] { return sink.size() > before + 100; }));
    for (size_t i = before; i < before + 50; ++i) sink.Ack(i);
    ASSERT_TRUE(WaitFor([&] { return run.capture().checkpointed()->segment_id == k30OldId; }));
    ASSERT_TRUE(run.Stop().ok());
    saved = *run.capture().checkpointed();
    delivered = sink.acked_records();
    EXPECT_TRUE(fs::exists(cdc_raw_ / k30Old)) << "not all acked: kept";
  }
  // Second run: the lower-id segment resumes at the checkpoint
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(run.Stop().ok());
  const auto second = sink.records();
  ASSERT_FALSE(second.empty());
  for (const auto& r : second) {
    const auto source = nlohmann::json::parse(*r.value)["source"];
    ASSERT_EQ(source["segment_id"], k30OldId);
    ASSERT_GE(source["pos"].get<uint32_t>(), saved.offset) << "resumed at the checkpoint";
  }
  delivered.insert(delivered.end(), second.begin(), second.end());
  const auto check = CheckEvents(delivered);
  EXPECT_EQ(OfSegment(check.positions, k30OldId), AllPositions(k30Dir, k30Old, schema));
  EXPECT_EQ(check.cells, Expected(k30Dir, "cells") + Expected(k40Dir, "cells"));
  EXPECT_EQ(check.hash, static_cast<int32_t>(Expected(k30Dir, "hash") + Expected(k40Dir, "hash")));
}

TEST_F(CassandraCaptureTest, DeliveredSegmentsLeftByACrashAreCleanedUpWithoutBeingReadAgain) {
  // Given a crash between saving "156 delivered, position (157, 100)" and deleting 156, and an
  // idx Cassandra rewrote with COMPLETED for a segment already delivered and deleted
  const Schema schema = testing::Standard1Schema(k30Dir);
  CopyFixture(k30Dir, k30Old);
  CopyFixture(k30Dir, k30New);
  rm::testing::WriteFile(cdc_raw_ / "CommitLog-7-1699284515100_cdc.idx", "4096\nCOMPLETED");
  {
    auto store = PositionStore::Open(tmp_ / "state");
    ASSERT_TRUE(store.ok());
    CaptureState state;
    state.resume =
        CaptureState::Resume{IdentifySegment(cdc_raw_ / k30New).value(), {k30NewId, 100}};
    state.delivered.push_back({IdentifySegment(cdc_raw_ / k30Old).value(), false});
    ASSERT_TRUE(store.value()->Save(state).ok());
  }
  {
    MemorySink sink;
    RunningCapture run(Config(), schema, sink);

    // Then 156 and the orphan idx go without a single event, and 157 is finished
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
    ASSERT_TRUE(run.Stop().ok());
    for (const auto& r : sink.records()) {
      EXPECT_EQ(nlohmann::json::parse(*r.value)["source"]["segment_id"], k30NewId);
    }
  }
  auto loaded = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->delivered.empty()) << "records of cleaned segments dropped";
}

TEST_F(CassandraCaptureTest, NewFileUnderTheNameOfADeliveredSegmentIsReadNotSkipped) {
  // Given a state naming 156 as delivered, but the file now in cdc_raw under that name is
  // another one (the clock went back to the same id after the old file was deleted)
  const Schema schema = testing::Standard1Schema(k30Dir);
  CopyFixture(k30Dir, k30Old);
  {
    auto store = PositionStore::Open(tmp_ / "state");
    ASSERT_TRUE(store.ok());
    SegmentIdentity old = IdentifySegment(cdc_raw_ / k30Old).value();
    old.inode += 1;
    CaptureState state;
    state.resume = CaptureState::Resume{old, {k30OldId, 5000}};
    state.delivered.push_back({old, false});
    ASSERT_TRUE(store.value()->Save(state).ok());
  }
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);

  // Then it is read from its start
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(CheckEvents(sink.records()).positions, AllPositions(k30Dir, k30Old, schema));
}

TEST_F(CassandraCaptureTest, FileRecreatedUnderTheCheckpointedSegmentsNameIsReadInFull) {
  // Given the checkpointed segment delivered and deleted
  const Schema schema = testing::Standard1Schema(k30Dir);
  CopyFixture(k30Dir, k30Old);
  {
    MemorySink sink;
    RunningCapture run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
    ASSERT_TRUE(run.Stop().ok());
  }

  // Then the state keeps the position in it but no inode: no later file is that segment
  auto loaded = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->resume.has_value());
  EXPECT_EQ(loaded->resume->position.segment_id, k30OldId);
  EXPECT_EQ(loaded->resume->segment.file, k30Old);
  EXPECT_EQ(loaded->resume->segment.inode, 0u);

  // When a file of that name appears again (ext4 gives it the freed inode at once)
  CopyFixture(k30Dir, k30Old);
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);

  // Then it is read from its start
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(CheckEvents(sink.records()).positions, AllPositions(k30Dir, k30Old, schema));
}

TEST_F(CassandraCaptureTest, OldFormatStateResumesItsSegmentAndReadsOlderOnesAgain) {
  // Given the state of an older version, "157:100", and 156 still in cdc_raw: delivered before
  // a crash, or written after a clock step back; the old format cannot tell
  const Schema schema = testing::Standard1Schema(k30Dir);
  CopyFixture(k30Dir, k30Old);
  CopyFixture(k30Dir, k30New);
  testing::WriteRawState(tmp_ / "state", "1699284515157:100");
  {
    MemorySink sink;
    RunningCapture run(Config(), schema, sink);

    // Then 156 is read in full rather than deleted unread, and 157 is finished
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw_); }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(CheckEvents(sink.records()).positions, AllPositions(k30Dir, k30Old, schema));
  }
  // And the state is written in the new format
  auto loaded = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->legacy);
  ASSERT_TRUE(loaded->resume.has_value());
  EXPECT_FALSE(loaded->resume->segment.file.empty());
}

TEST_F(CassandraCaptureTest, LiveSegmentIsFinishedOnceANewerSegmentWasSyncedWithoutCompleted) {
  // Given the 4.x segment fully synced but not COMPLETED (Cassandra writes that only when it
  // discards the segment, after a memtable flush)
  const Schema schema = testing::Standard1Schema(k40Dir);
  WriteSynced40(/*completed=*/false);
  MemorySink sink;
  RunningCapture run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return CheckEvents(sink.records()).cells == 355; }));
  // A COMPLETED idx with a higher id is a segment of an earlier Cassandra run (the clock went
  // back since): it says nothing about this one
  rm::testing::WriteFile(cdc_raw_ / "CommitLog-7-1699285478999_cdc.idx", "4096\nCOMPLETED");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File)) << "nothing says it will not grow yet";

  // When Cassandra moved on: a newer segment was synced (its idx exists)
  rm::testing::WriteFile(cdc_raw_ / "CommitLog-7-1699285478685_cdc.idx", "0");

  // Then the old one is finished and deleted without waiting for COMPLETED
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw_ / k40File); }));
  EXPECT_EQ(CheckEvents(sink.records()).cells, 355);
}

TEST_F(CassandraCaptureTest, HealthFailsWhileKafkaStopsAcknowledging) {
  const Schema schema = testing::Standard1Schema(k40Dir);
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
  testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  CaptureConfig config = Config();
  config.ack_stall_timeout = 100ms;
  MemorySink sink(MemorySink::Mode::kManual);
  RunningCapture run(config, schema, sink);
  EXPECT_TRUE(run.capture().Health().empty());

  ASSERT_TRUE(WaitFor([&] { return !run.capture().Health().empty(); }));
  EXPECT_NE(run.capture().Health().find("acknowledgement from Kafka"), std::string::npos)
      << run.capture().Health();

  sink.SetAutoAck(true);
  sink.AckAll();
  ASSERT_TRUE(WaitFor([&] { return run.capture().Health().empty(); }));
}

}  // namespace
}  // namespace rm::cdc::cassandra
