// The key check of the Cassandra commit log reader: on the real segments Cassandra wrote
// (shared/fixtures/cassandra), every directory yields exactly the `cells` and `hash` of its
// hash.txt, computed as Cassandra's CommitLogUpgradeTest does.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/table_schema.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

std::filesystem::path FixtureRoot() { return rm::testing::FixturesDir() / "cassandra"; }

std::map<std::string, std::string> ReadHashFile(const std::filesystem::path& dir) {
  std::map<std::string, std::string> props;
  std::istringstream in(rm::testing::ReadFile(dir / "hash.txt"));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    props[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return props;
}

Schema Standard1Schema(const std::string& cfid) {
  auto schema = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, val0 blob, "
      "PRIMARY KEY (key, col)) WITH ID = " +
      cfid + " AND cdc = true;");
  EXPECT_TRUE(schema.ok()) << schema.error().message;
  return std::move(schema).value();
}

// CommitLogUpgradeTest.Hasher: over rows whose first clustering value starts with "name", one
// per cell, folding the value bytes into a wrapping 32-bit sum.
struct Hasher {
  int64_t cells = 0;
  uint32_t hash = 0;

  void Add(const Mutation& m) {
    for (const auto& update : m.updates) {
      for (const auto& row : update.rows) {
        if (row.clustering.empty() || !row.clustering[0] ||
            row.clustering[0]->rfind("name", 0) != 0) {
          continue;
        }
        for (const auto& cell : row.cells) {
          unsigned shift = 0;
          for (char c : cell.value) {
            hash += static_cast<uint32_t>(static_cast<uint8_t>(c)) << shift;
            shift = (shift + 8) & 31;
          }
          ++cells;
        }
      }
    }
  }
};

struct DirResult {
  Hasher hasher;
  std::vector<ReadProgress> progress;
};

DirResult ReadDirectory(const std::filesystem::path& dir, const ReaderOptions& options) {
  DirResult result;
  std::vector<std::filesystem::path> logs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") logs.push_back(e.path());
  }
  std::sort(logs.begin(), logs.end());
  for (const auto& log : logs) {
    auto p = ReadSegmentFile(log, options, [&](Mutation&& m) {
      result.hasher.Add(m);
      return ReadControl::kContinue;
    });
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    if (p.ok()) result.progress.push_back(std::move(p).value());
  }
  return result;
}

class CassandraFixtureDirectory : public ::testing::TestWithParam<std::string> {};

TEST_P(CassandraFixtureDirectory, YieldsTheCellsAndHashOfHashTxt) {
  const auto dir = FixtureRoot() / GetParam();
  ASSERT_TRUE(std::filesystem::exists(dir / "hash.txt")) << dir;
  const auto props = ReadHashFile(dir);
  const Schema schema = Standard1Schema(props.at("cfid"));
  auto keys =
      JceksKeyProvider::Load(FixtureRoot() / "cassandra.keystore", "cassandra", "cassandra");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys.value();

  const DirResult result = ReadDirectory(dir, options);

  EXPECT_EQ(result.hasher.cells, std::stoll(props.at("cells")));
  EXPECT_EQ(static_cast<int32_t>(result.hasher.hash), std::stoi(props.at("hash")));
  for (const auto& p : result.progress) {
    EXPECT_TRUE(p.errors.empty()) << p.errors.front().message;
    EXPECT_EQ(p.stop, StopReason::kEndOfSegment);
    EXPECT_EQ(p.stats.corrupt_entries, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllDirectories, CassandraFixtureDirectory,
                         ::testing::Values("3.0.13-encrypted", "3.0.29-encrypted", "3.4-encrypted",
                                           "4.0.11-encrypted"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
                               '_');
                           return name;
                         });

TEST(CassandraFixtures, EncryptedSegmentsAlsoReadWithAConfiguredRawKey) {
  const auto dir = FixtureRoot() / "3.4-encrypted";
  const auto props = ReadHashFile(dir);
  const Schema schema = Standard1Schema(props.at("cfid"));
  StaticKeyProvider keys;
  ASSERT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;

  const DirResult result = ReadDirectory(dir, options);

  EXPECT_EQ(result.hasher.cells, std::stoll(props.at("cells")));
  EXPECT_EQ(static_cast<int32_t>(result.hasher.hash), std::stoi(props.at("hash")));
}

TEST(CassandraFixtures, EncryptedSegmentWithoutKeysFailsToOpenNamingTheAlias) {
  const auto props = ReadHashFile(FixtureRoot() / "3.4-encrypted");
  const Schema schema = Standard1Schema(props.at("cfid"));
  ReaderOptions options;
  options.schema = &schema;

  auto reader = SegmentReader::Open(
      FixtureRoot() / "3.4-encrypted" / "CommitLog-6-1480001790338.log", options);

  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, "cassandra.key");
  EXPECT_NE(reader.error().message.find("testing:1"), std::string::npos);
  EXPECT_NE(reader.error().message.find("CommitLog-6-1480001790338.log"), std::string::npos);
}

TEST(CassandraFixtures, HeaderOnlySegmentYieldsNothingAndNoErrors) {
  const auto props = ReadHashFile(FixtureRoot() / "3.4-encrypted");
  const Schema schema = Standard1Schema(props.at("cfid"));
  StaticKeyProvider keys;
  keys.SetDefaultKey(std::string(16, 'k'));
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;

  auto p = ReadSegmentFile(FixtureRoot() / "3.4-encrypted" / "CommitLog-6-1480001790339.log",
                           options, [](Mutation&&) { return ReadControl::kContinue; });

  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_LE(p.value().stats.sections, 1u);  // one empty section, then zeros
  EXPECT_EQ(p.value().stats.entries, 0u);
  EXPECT_TRUE(p.value().errors.empty());
  EXPECT_EQ(p.value().stop, StopReason::kEndOfSegment);
}

TEST(CassandraFixtures, DescriptorsNameVersionIdAndEncoding) {
  const auto props = ReadHashFile(FixtureRoot() / "4.0.11-encrypted");
  const Schema schema = Standard1Schema(props.at("cfid"));
  ReaderOptions options;
  options.schema = &schema;

  auto reader = SegmentReader::Open(
      FixtureRoot() / "4.0.11-encrypted" / "CommitLog-7-1699285478684.log", options);

  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const SegmentDescriptor& d = reader.value()->descriptor();
  EXPECT_EQ(d.version, 7);
  EXPECT_EQ(d.id, 1699285478684);
  EXPECT_EQ(d.header_size, 20u);
  EXPECT_EQ(d.encoding, SegmentEncoding::kPlain);
  EXPECT_EQ(d.messaging_version(), 12);
}

TEST(CassandraFixtures, EncryptedDescriptorNamesCipherKeyAliasAndIv) {
  const auto path = FixtureRoot() / "3.4-encrypted" / "CommitLog-6-1480001790338.log";
  const std::string bytes = rm::testing::ReadFile(path);

  auto d = ParseSegmentDescriptor(bytes, "CommitLog-6-1480001790338.log");

  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().version, 6);
  EXPECT_EQ(d.value().id, 1480001790338);
  EXPECT_EQ(d.value().encoding, SegmentEncoding::kEncrypted);
  EXPECT_EQ(d.value().cipher, "AES/CBC/PKCS5Padding");
  EXPECT_EQ(d.value().key_alias, "testing:1");
  EXPECT_EQ(d.value().iv.size(), 16u);
  EXPECT_EQ(d.value().header_size, 125u);
  EXPECT_EQ(d.value().messaging_version(), 10);
}

TEST(CassandraFixtures, MutationsCarryIncreasingPositionsOfTheirSegment) {
  const auto dir = FixtureRoot() / "3.0.29-encrypted";
  const auto props = ReadHashFile(dir);
  const Schema schema = Standard1Schema(props.at("cfid"));
  ReaderOptions options;
  options.schema = &schema;
  std::vector<Mutation> mutations;

  auto p = ReadSegmentFile(dir / "CommitLog-6-1699279786262.log", options, [&](Mutation&& m) {
    mutations.push_back(std::move(m));
    return ReadControl::kContinue;
  });

  ASSERT_TRUE(p.ok());
  ASSERT_FALSE(mutations.empty());
  for (size_t i = 0; i < mutations.size(); ++i) {
    EXPECT_EQ(mutations[i].position.segment_id, 1699279786262);
    EXPECT_LT(mutations[i].position.offset, mutations[i].end_offset);
    if (i > 0) {
      EXPECT_LE(mutations[i - 1].end_offset, mutations[i].position.offset);
    }
    ASSERT_EQ(mutations[i].updates.size(), 1u);
    EXPECT_EQ(mutations[i].updates[0].table->name, "Standard1");
  }
  EXPECT_EQ(p.value().stats.mutations, mutations.size());
  EXPECT_GT(p.value().stats.skipped_unknown_table, 0u);  // system tables are skipped whole
}

}  // namespace
}  // namespace rm::cdc::cassandra
