// Corrupted and truncated segments: every problem is reported with the file, the sync section
// and the offset, and reading goes on where Cassandra's CommitLogReader goes on; nothing crashes
// and nothing outside the data is read (run under ASan by the fuzz target as well).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "tests/src-cdc/cassandra_test_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

using testing::AnyErrorContains;
using testing::FixtureRoot;
using testing::Positions;
using testing::ReadAllMutations;

constexpr char kDir[] = "3.0.29-encrypted";  // 15 sync sections
constexpr char kFile[] = "CommitLog-6-1699279786262.log";

struct Section {
  uint32_t marker;  // file offset of the sync marker
  uint32_t end;     // offset of the next marker
};

class CassandraCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = testing::Standard1Schema(kDir);
    options_.schema = &schema_;
    bytes_ = rm::testing::ReadFile(FixtureRoot() / kDir / kFile);
    whole_ = ReadAllMutations(bytes_, options_, nullptr, kFile);
    ASSERT_GT(whole_.size(), 10u);
    uint32_t at = 20;
    for (const auto& s : testing::PlainSections(bytes_)) {
      sections_.push_back({at, at + 8 + static_cast<uint32_t>(s.size())});
      at = sections_.back().end;
    }
  }

  std::vector<Mutation> Read(const std::string& bytes, ReadProgress* progress) {
    return ReadAllMutations(bytes, options_, progress, kFile);
  }

  const Section& SectionOf(uint32_t offset) const {
    for (const auto& s : sections_) {
      if (offset >= s.marker && offset < s.end) return s;
    }
    return sections_.back();
  }

  std::vector<CommitLogPosition> WholeWhere(const std::function<bool(const Mutation&)>& keep) {
    std::vector<CommitLogPosition> out;
    for (const auto& m : whole_) {
      if (keep(m)) out.push_back(m.position);
    }
    return out;
  }

  static void PutInt(std::string& bytes, size_t at, uint32_t v) {
    for (size_t k = 0; k < 4; ++k) bytes[at + k] = static_cast<char>(v >> (24 - 8 * k));
  }

  Schema schema_;
  ReaderOptions options_;
  std::string bytes_;
  std::vector<Mutation> whole_;
  std::vector<Section> sections_;
};

TEST_F(CassandraCorruption, TruncationInsideAnEntryNamesFileSectionAndOffsetAndKeepsWhatPrecedes) {
  const Mutation& victim = whole_[whole_.size() / 2];
  const uint32_t cut = victim.position.offset + 30;
  ReadProgress progress;

  const auto got = Read(bytes_.substr(0, cut), &progress);

  const Section& s = SectionOf(victim.position.offset);
  const std::string where = std::string(kFile) + ": sync section at file offset " +
                            std::to_string(s.marker) + ": entry at offset " +
                            std::to_string(victim.position.offset);
  EXPECT_TRUE(AnyErrorContains(progress, where)) << progress.errors.front().message;
  EXPECT_TRUE(AnyErrorContains(progress, "runs past the end of the section"));
  EXPECT_TRUE(AnyErrorContains(progress, "truncated: its sync marker says the next section"));
  EXPECT_EQ(Positions(got), WholeWhere([&](const Mutation& m) { return m.end_offset <= cut; }));
}

TEST_F(CassandraCorruption, EveryTruncationYieldsAPrefixOfTheMutationsAndNeverCrashes) {
  const auto all = Positions(whole_);
  for (size_t cut = 0; cut < 67000; cut += 331) {
    ReadProgress progress;
    auto reader =
        SegmentReader::OpenBytes(kFile, std::string_view(bytes_).substr(0, cut), options_);
    if (cut < 20) {
      ASSERT_FALSE(reader.ok());
      EXPECT_NE(reader.error().message.find(kFile), std::string::npos);
      EXPECT_NE(reader.error().message.find("truncated"), std::string::npos);
      continue;
    }
    const auto got = Positions(Read(bytes_.substr(0, cut), &progress));
    ASSERT_LE(got.size(), all.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), all.begin())) << "cut at " << cut;
    for (const auto& e : progress.errors) EXPECT_EQ(e.message.rfind(kFile, 0), 0u) << e.message;
  }
}

TEST_F(CassandraCorruption, FlippedMutationByteSkipsOnlyThatEntry) {
  const Mutation& victim = whole_[whole_.size() / 3];
  std::string bytes = bytes_;
  bytes[victim.position.offset + 8 + 20] ^= 0x40;
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  ASSERT_EQ(progress.errors.size(), 1u);
  EXPECT_EQ(progress.errors[0].code, "cassandra.entry");
  EXPECT_EQ(progress.errors[0].message,
            std::string(kFile) + ": sync section at file offset " +
                std::to_string(SectionOf(victim.position.offset).marker) + ": entry at offset " +
                std::to_string(victim.position.offset) +
                ": mutation checksum mismatch; entry skipped");
  EXPECT_EQ(progress.stats.corrupt_entries, 1u);
  EXPECT_EQ(Positions(got),
            WholeWhere([&](const Mutation& m) { return m.position != victim.position; }));
}

TEST_F(CassandraCorruption, FlippedSizeSkipsTheRestOfItsSectionAndReadsTheNext) {
  const Mutation& victim = whole_[whole_.size() / 2];
  const Section s = SectionOf(victim.position.offset);
  ASSERT_NE(s.end, sections_.back().end);  // a later section exists
  std::string bytes = bytes_;
  bytes[victim.position.offset + 3] ^= 0x01;
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  EXPECT_TRUE(AnyErrorContains(
      progress,
      "entry at offset " + std::to_string(victim.position.offset) + ": size checksum mismatch"));
  EXPECT_EQ(Positions(got), WholeWhere([&](const Mutation& m) {
              return m.position.offset < victim.position.offset || m.position.offset >= s.end;
            }));
}

TEST_F(CassandraCorruption, ImplausibleSizeWithValidChecksumIsRejectedLikeCassandra) {
  const Mutation& victim = whole_[2];
  std::string bytes = bytes_;
  PutInt(bytes, victim.position.offset, 5);
  PutInt(bytes, victim.position.offset + 4, testing::Crc32Ints({5}));
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  EXPECT_TRUE(AnyErrorContains(progress, "invalid entry size 5"));
  EXPECT_LT(got.size(), whole_.size());
  EXPECT_GT(got.size(), 0u);
}

TEST_F(CassandraCorruption, CorruptSyncMarkerStopsTheSegmentAfterWhatPrecedesIt) {
  const Section& s = sections_[6];
  std::string bytes = bytes_;
  bytes[s.marker + 5] ^= 0x10;  // the marker's CRC
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  EXPECT_EQ(progress.stop, StopReason::kCorruptSyncMarker);
  ASSERT_EQ(progress.errors.size(), 1u);
  EXPECT_EQ(progress.errors[0].code, "cassandra.sync_marker");
  EXPECT_NE(
      progress.errors[0].message.find(std::string(kFile) + ": sync section at file offset " +
                                      std::to_string(s.marker) + ": sync marker CRC mismatch"),
      std::string::npos)
      << progress.errors[0].message;
  EXPECT_EQ(Positions(got),
            WholeWhere([&](const Mutation& m) { return m.position.offset < s.marker; }));
}

TEST_F(CassandraCorruption, MarkerPointingBackwardsIsCorruptEvenWithAValidChecksum) {
  // The marker CRC covers the segment id and the marker's own offset, not the next offset.
  const Section& s = sections_[3];
  std::string bytes = bytes_;
  PutInt(bytes, s.marker, s.marker - 100);
  ReadProgress progress;

  Read(bytes, &progress);

  EXPECT_EQ(progress.stop, StopReason::kCorruptSyncMarker);
  EXPECT_TRUE(AnyErrorContains(progress, "points to offset " + std::to_string(s.marker - 100)));
}

TEST_F(CassandraCorruption, MarkerPointingPastTheFileReadsWhatIsThereAndReportsTruncation) {
  const Section& s = sections_[sections_.size() - 2];  // last section holding entries
  std::string bytes = bytes_;
  PutInt(bytes, s.marker, 0x7fffff00);
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  EXPECT_TRUE(AnyErrorContains(progress, "sync section at file offset " + std::to_string(s.marker) +
                                             ": truncated: its sync marker says the next "
                                             "section starts at offset 2147483392"));
  // Entries of that section are still read; the zero padding after them ends it.
  EXPECT_EQ(Positions(got), Positions(whole_));
}

TEST_F(CassandraCorruption, MissingColumnInTheSchemaIsReportedPerEntryAndReadingGoesOn) {
  auto narrow = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, PRIMARY KEY "
      "(key, col)) WITH ID = 241bcee0-7cae-11ee-8a02-094014504250");
  ASSERT_TRUE(narrow.ok());
  ReaderOptions options;
  options.schema = &narrow.value();
  options.max_errors = 5;
  ReadProgress progress;

  const auto got = ReadAllMutations(bytes_, options, &progress, kFile);

  EXPECT_TRUE(got.empty());
  EXPECT_EQ(progress.errors.size(), 5u);
  EXPECT_EQ(progress.errors.size() + progress.errors_dropped, whole_.size());
  EXPECT_EQ(progress.errors[0].code, "cassandra.decode");
  EXPECT_NE(progress.errors[0].message.find("unknown column 'val0'"), std::string::npos);
  EXPECT_EQ(progress.stop, StopReason::kEndOfSegment);
}

TEST_F(CassandraCorruption, BadHeadersFailToOpenNamingFileAndProblem) {
  std::string crc = bytes_;
  crc[17] ^= 0x01;
  auto r1 = SegmentReader::OpenBytes(kFile, crc, options_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, "cassandra.header");
  EXPECT_EQ(r1.error().message.rfind(
                std::string(kFile) + ": segment header: CRC mismatch at offset 16", 0),
            0u)
      << r1.error().message;

  std::string version = bytes_;
  version[3] = 5;
  auto r2 = SegmentReader::OpenBytes(kFile, version, options_);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("unsupported commit log version 5"), std::string::npos);

  const std::string snappy = testing::BuildSegment(
      6, 1, {}, false, 64, R"({"compressionClass":"SnappyCompressor","compressionParameters":{}})");
  auto r3 = SegmentReader::OpenBytes("CommitLog-6-1.log", snappy, options_);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("compressed with SnappyCompressor"), std::string::npos);
  EXPECT_NE(r3.error().message.find("only LZ4Compressor"), std::string::npos);

  const std::string not_json = testing::BuildSegment(6, 1, {}, false, 64, "{oops");
  auto r4 = SegmentReader::OpenBytes("CommitLog-6-1.log", not_json, options_);
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.error().message.find("not a JSON object"), std::string::npos);
}

TEST_F(CassandraCorruption, IdMismatchBetweenNameAndHeaderIsReportedAndReadingGoesOn) {
  ReadProgress progress;

  const auto got = ReadAllMutations(bytes_, options_, &progress, "CommitLog-6-42.log");

  EXPECT_TRUE(AnyErrorContains(progress, "segment id 42 in the file name differs"));
  EXPECT_EQ(got.size(), whole_.size());
}

TEST_F(CassandraCorruption, CorruptCompressedSectionIsSkippedAndTheOthersRead) {
  const std::string compressed =
      testing::BuildSegment(6, 1699279786262, testing::PlainSections(bytes_), true);
  ReadProgress clean;
  const auto all = Read(compressed, &clean);
  ASSERT_TRUE(clean.errors.empty());
  // Break section 2 (system tables only; Standard1's entries come in later sections). Sections
  // correspond one to one with the plain file's; walk the compressed file's markers to it.
  uint32_t marker = 81;
  for (int i = 0; i < 2; ++i) {
    marker = (uint32_t{static_cast<uint8_t>(compressed[marker])} << 24) |
             (uint32_t{static_cast<uint8_t>(compressed[marker + 1])} << 16) |
             (uint32_t{static_cast<uint8_t>(compressed[marker + 2])} << 8) |
             static_cast<uint8_t>(compressed[marker + 3]);
  }
  std::string bytes = compressed;
  // The LZ4 chunk's own length (little-endian, after the section length) no longer matches
  // what its block decompresses to.
  bytes[marker + 12] = static_cast<char>(static_cast<uint8_t>(bytes[marker + 12]) ^ 0x01);
  ReadProgress progress;

  const auto got = Read(bytes, &progress);

  ASSERT_EQ(progress.errors.size(), 1u);
  EXPECT_EQ(progress.errors[0].message.rfind(std::string(kFile) + ": sync section at file offset " +
                                                 std::to_string(marker) + ": LZ4 ",
                                             0),
            0u)
      << progress.errors[0].message;
  EXPECT_NE(progress.errors[0].message.find("section skipped"), std::string::npos);
  EXPECT_EQ(progress.stats.skipped_sections, 1u);
  EXPECT_LT(progress.stats.entries, clean.stats.entries);
  EXPECT_EQ(progress.stats.sections, clean.stats.sections);
  EXPECT_EQ(Positions(got), Positions(all));  // the sections after it are read
}

TEST(CassandraEncryptedCorruption, BadCiphertextOrWrongKeySkipsTheSectionWithAClearError) {
  const auto path = FixtureRoot() / "3.4-encrypted" / "CommitLog-6-1480001790338.log";
  const std::string original = rm::testing::ReadFile(path);
  const Schema schema = testing::Standard1Schema("3.4-encrypted");
  StaticKeyProvider keys;
  ASSERT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;
  std::string bytes = original;
  bytes[1452345 - 40] ^= 0x55;  // inside the last encrypted block of the section
  ReadProgress progress;

  ReadAllMutations(bytes, options, &progress, "CommitLog-6-1480001790338.log");

  ASSERT_FALSE(progress.errors.empty());
  EXPECT_NE(progress.errors[0].message.find("CommitLog-6-1480001790338.log: sync section at file "
                                            "offset 125: "),
            std::string::npos)
      << progress.errors[0].message;
  EXPECT_NE(progress.errors[0].message.find("section skipped"), std::string::npos);

  StaticKeyProvider wrong;
  ASSERT_TRUE(wrong.AddHexKey("testing:1", "5b580ef7c05053e49aa4244736ae5744").ok());
  options.keys = &wrong;
  ReadProgress wrong_key;
  const auto none =
      ReadAllMutations(original, options, &wrong_key, "CommitLog-6-1480001790338.log");
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(AnyErrorContains(wrong_key, "decryption failed"));
}

TEST_F(CassandraCorruption, RandomByteFlipsNeverCrashAndOnlyDropMutations) {
  const std::set<CommitLogPosition> all = [&] {
    std::set<CommitLogPosition> s;
    for (const auto& m : whole_) s.insert(m.position);
    return s;
  }();
  std::mt19937_64 rng(20240601);
  const size_t data_end = sections_.back().end;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = bytes_.substr(0, data_end + 64);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % data_end] ^= static_cast<char>(1u << (rng() % 8));
    ReadProgress progress;

    const auto got = Read(bytes, &progress);

    for (const auto& m : got) {
      // A header flip can change the segment id; otherwise every mutation is a real one.
      if (m.position.segment_id == 1699279786262) {
        EXPECT_TRUE(all.count(m.position))
            << "iteration " << i << " invented " << m.position.ToString();
      }
    }
    for (const auto& e : progress.errors) EXPECT_EQ(e.message.rfind(kFile, 0), 0u) << e.message;
  }
}

}  // namespace
}  // namespace rm::cdc::cassandra
