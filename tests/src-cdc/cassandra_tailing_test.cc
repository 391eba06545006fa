// Tailing: reading a segment in pieces (growing readable limits, a file that grows, resuming
// from a saved position, a handler that stops) yields exactly what one whole read yields.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "tests/src-cdc/cassandra_test_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

using testing::CellValues;
using testing::FixtureRoot;
using testing::Positions;
using testing::ReadAllMutations;

constexpr char kDir[] = "3.0.29-encrypted";  // 15 sync sections
constexpr char kFile[] = "CommitLog-6-1699279786262.log";

class CassandraTailing : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = testing::Standard1Schema(kDir);
    options_.schema = &schema_;
    bytes_ = rm::testing::ReadFile(FixtureRoot() / kDir / kFile);
    whole_ = ReadAllMutations(bytes_, options_, nullptr, kFile);
    ASSERT_GT(whole_.size(), 10u);
  }

  // Reads with one reader, calling ReadUpTo with each limit in turn, then everything.
  std::vector<Mutation> ReadInPieces(SegmentReader& reader, const std::vector<uint64_t>& limits) {
    std::vector<Mutation> out;
    auto collect = [&](Mutation&& m) {
      out.push_back(std::move(m));
      return ReadControl::kContinue;
    };
    for (uint64_t limit : limits) {
      auto p = reader.ReadUpTo(limit, collect);
      EXPECT_TRUE(p.ok());
      if (!p.ok()) break;
      EXPECT_TRUE(p.value().errors.empty()) << p.value().errors.front().message;
      EXPECT_LE(p.value().position.offset,
                std::max<uint64_t>(limit, reader.descriptor().header_size));
    }
    auto rest = reader.ReadAll(collect);
    EXPECT_TRUE(rest.ok());
    return out;
  }

  Schema schema_;
  ReaderOptions options_;
  std::string bytes_;
  std::vector<Mutation> whole_;
};

TEST_F(CassandraTailing, GrowingReadableLimitsYieldTheSameMutationsAsAWholeRead) {
  auto reader = SegmentReader::OpenBytes(kFile, bytes_, options_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  std::vector<uint64_t> limits;
  for (uint64_t limit = 0; limit < 70000; limit += 997) limits.push_back(limit);

  const auto pieces = ReadInPieces(*reader.value(), limits);

  EXPECT_EQ(Positions(pieces), Positions(whole_));
  EXPECT_EQ(CellValues(pieces), CellValues(whole_));
}

TEST_F(CassandraTailing, ReadUpToNeverReadsASectionThatEndsPastTheLimit) {
  auto reader = SegmentReader::OpenBytes(kFile, bytes_, options_);
  ASSERT_TRUE(reader.ok());
  std::vector<Mutation> got;

  auto p = reader.value()->ReadUpTo(14000, [&](Mutation&& m) {
    got.push_back(std::move(m));
    return ReadControl::kContinue;
  });

  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().stop, StopReason::kReadableLimit);
  EXPECT_EQ(p.value().position.offset, 13985u);  // end of the first section
  for (const auto& m : got) EXPECT_LE(m.end_offset, 13985u);
  EXPECT_GT(p.value().stats.entries, 0u);  // system tables only in this section
}

TEST_F(CassandraTailing, AFileBeingWrittenIsReadAsItGrows) {
  // Cassandra preallocates the segment with zeros and writes sections into it; `_cdc.idx`
  // then says how far the file is durable. Simulate that section by section.
  rm::testing::TempDir dir;
  const auto path = dir / kFile;
  std::string live(bytes_.size(), '\0');
  const auto sections = testing::PlainSections(bytes_);
  rm::testing::WriteFile(path, live);
  // The header is written when the segment is created.
  std::memcpy(live.data(), bytes_.data(), 20);
  rm::testing::WriteFile(path, live);
  auto reader = SegmentReader::Open(path, options_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  std::vector<Mutation> got;
  auto collect = [&](Mutation&& m) {
    got.push_back(std::move(m));
    return ReadControl::kContinue;
  };

  size_t synced = 20;
  for (const auto& section : sections) {
    // Before the sync: the marker still reads as zeros.
    auto before = reader.value()->ReadUpTo(synced, collect);
    ASSERT_TRUE(before.ok());
    EXPECT_NE(before.value().stop, StopReason::kCorruptSyncMarker);
    const size_t end = synced + 8 + section.size();
    std::memcpy(live.data() + synced, bytes_.data() + synced, end - synced);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(synced));
      f.write(live.data() + synced, static_cast<std::streamsize>(end - synced));
    }
    synced = end;
    auto after = reader.value()->ReadUpTo(synced, collect);
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after.value().errors.empty()) << after.value().errors.front().message;
    EXPECT_EQ(after.value().position.offset, synced);
  }

  EXPECT_EQ(Positions(got), Positions(whole_));
  EXPECT_EQ(CellValues(got), CellValues(whole_));
}

TEST_F(CassandraTailing, AFileGrowingByArbitraryPrefixesIsReadCompletely) {
  rm::testing::TempDir dir;
  const auto path = dir / kFile;
  rm::testing::WriteFile(path, bytes_.substr(0, 100));
  auto reader = SegmentReader::Open(path, options_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  std::vector<Mutation> got;
  auto collect = [&](Mutation&& m) {
    got.push_back(std::move(m));
    return ReadControl::kContinue;
  };

  for (size_t size = 100; size < 70000; size += 4099) {
    rm::testing::WriteFile(path, bytes_.substr(0, size));
    auto p = reader.value()->ReadUpTo(size, collect);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_TRUE(p.value().errors.empty()) << p.value().errors.front().message;
  }
  rm::testing::WriteFile(path, bytes_);
  ASSERT_TRUE(reader.value()->ReadAll(collect).ok());

  EXPECT_EQ(Positions(got), Positions(whole_));
}

TEST_F(CassandraTailing, ResumingFromAMutationsEndDeliversExactlyTheRest) {
  for (size_t i : {size_t{0}, size_t{1}, whole_.size() / 2, whole_.size() - 2}) {
    auto reader = SegmentReader::OpenBytes(kFile, bytes_, options_, whole_[i].end_offset);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(reader.value()->position().offset, whole_[i].end_offset);
    std::vector<Mutation> rest;

    auto p = reader.value()->ReadAll([&](Mutation&& m) {
      rest.push_back(std::move(m));
      return ReadControl::kContinue;
    });

    ASSERT_TRUE(p.ok());
    const std::vector<Mutation> expected(whole_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                         whole_.end());
    EXPECT_EQ(Positions(rest), Positions(expected)) << "resumed after mutation " << i;
  }
}

TEST_F(CassandraTailing, AHandlerThatStopsAfterEachMutationStillSeesThemAllOnce) {
  auto reader = SegmentReader::OpenBytes(kFile, bytes_, options_);
  ASSERT_TRUE(reader.ok());
  std::vector<Mutation> got;

  for (int calls = 0; calls < 10000; ++calls) {
    const size_t before = got.size();
    auto p = reader.value()->ReadAll([&](Mutation&& m) {
      got.push_back(std::move(m));
      return ReadControl::kStop;
    });
    ASSERT_TRUE(p.ok());
    if (got.size() == before) {
      EXPECT_EQ(p.value().stop, StopReason::kEndOfSegment);
      break;
    }
    EXPECT_EQ(p.value().stop, StopReason::kStoppedByHandler);
    EXPECT_EQ(reader.value()->position().offset, got.back().end_offset);
  }

  EXPECT_EQ(Positions(got), Positions(whole_));
}

TEST_F(CassandraTailing, CompressedSegmentsDecodeLikeThePlainOneAndTailTheSameWay) {
  const std::string compressed =
      testing::BuildSegment(6, 1699279786262, testing::PlainSections(bytes_), true);
  ReadProgress progress;

  const auto all = ReadAllMutations(compressed, options_, &progress, kFile);

  for (const auto& e : progress.errors) ADD_FAILURE() << e.message;
  EXPECT_EQ(CellValues(all), CellValues(whole_));
  auto reader = SegmentReader::OpenBytes(kFile, compressed, options_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader.value()->descriptor().encoding, SegmentEncoding::kCompressed);
  std::vector<uint64_t> limits;  // logical offsets, as `_cdc.idx` gives them
  for (uint64_t limit = 0; limit < 70000; limit += 1499) limits.push_back(limit);
  const auto pieces = ReadInPieces(*reader.value(), limits);
  EXPECT_EQ(Positions(pieces), Positions(all));
  // Logical positions follow the uncompressed layout: entries keep their relative spacing.
  ASSERT_EQ(all.size(), whole_.size());
  const int64_t shift = int64_t{all[0].position.offset} - whole_[0].position.offset;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(int64_t{all[i].position.offset} - whole_[i].position.offset, shift);
  }
  // Resuming in a compressed segment walks the markers using the stored lengths.
  auto resumed = SegmentReader::OpenBytes(kFile, compressed, options_, all[5].end_offset);
  ASSERT_TRUE(resumed.ok());
  std::vector<Mutation> rest;
  ASSERT_TRUE(resumed.value()
                  ->ReadAll([&](Mutation&& m) {
                    rest.push_back(std::move(m));
                    return ReadControl::kContinue;
                  })
                  .ok());
  EXPECT_EQ(Positions(rest), Positions(std::vector<Mutation>(all.begin() + 6, all.end())));
}

TEST_F(CassandraTailing, EncryptedSegmentIsReadOnlyOnceItsSectionIsComplete) {
  const auto dir = FixtureRoot() / "3.4-encrypted";
  const Schema schema = testing::Standard1Schema("3.4-encrypted");
  StaticKeyProvider keys;
  ASSERT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;
  auto reader = SegmentReader::Open(dir / "CommitLog-6-1480001790338.log", options);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  size_t count = 0;
  auto counter = [&](Mutation&&) {
    ++count;
    return ReadControl::kContinue;
  };

  auto early = reader.value()->ReadUpTo(1000000, counter);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early.value().stop, StopReason::kReadableLimit);
  EXPECT_EQ(count, 0u);
  auto rest = reader.value()->ReadAll(counter);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest.value().errors.empty());
  EXPECT_GT(count, 1000u);
}

TEST_F(CassandraTailing, PositionAfterAWholeReadIsTheEndOfTheData) {
  auto reader = SegmentReader::OpenBytes(kFile, bytes_, options_);
  ASSERT_TRUE(reader.ok());

  auto p = reader.value()->ReadAll([](Mutation&&) { return ReadControl::kContinue; });

  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().stop, StopReason::kEndOfSegment);
  EXPECT_EQ(p.value().position.segment_id, 1699279786262);
  EXPECT_EQ(p.value().position.offset, 66716u);  // the marker after the last section
  EXPECT_GE(p.value().position.offset, whole_.back().end_offset);
}

TEST(CassandraCdcIndex, ParsesOffsetAndCompletion) {
  auto live = ParseCdcIndex("4096");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live.value().offset, 4096u);
  EXPECT_FALSE(live.value().completed);
  auto done = ParseCdcIndex("33554432\nCOMPLETED");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done.value().offset, 33554432u);
  EXPECT_TRUE(done.value().completed);
  EXPECT_FALSE(ParseCdcIndex("").ok());
  EXPECT_FALSE(ParseCdcIndex("COMPLETED").ok());

  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "CommitLog-7-1_cdc.idx", "77\n");
  auto from_file = ReadCdcIndexFile(dir / "CommitLog-7-1_cdc.idx");
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file.value().offset, 77u);
  EXPECT_FALSE(ReadCdcIndexFile(dir / "missing_cdc.idx").ok());
}

TEST(CassandraSegmentNames, YieldTheSegmentId) {
  EXPECT_EQ(SegmentIdFromFileName("CommitLog-7-1699285478684.log"), 1699285478684);
  EXPECT_EQ(SegmentIdFromFileName("/x/cdc_raw/CommitLog-6-12_cdc.idx"), 12);
  EXPECT_FALSE(SegmentIdFromFileName("CommitLog-7-abc.log").has_value());
  EXPECT_FALSE(SegmentIdFromFileName("other.log").has_value());
}

}  // namespace
}  // namespace rm::cdc::cassandra
