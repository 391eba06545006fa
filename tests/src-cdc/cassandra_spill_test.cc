// TableSpill, the stopped table's durable entry copy: frames read back as written, bytes past
// the checkpointed length (a torn append among them) are dropped, a frame within it that does
// not check is an error naming the file and the frame's offset.
#include "src-cdc/cassandra/spill.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using common::Status;

TableShape Shape(const std::string& type) {
  TableShape s;
  ColumnShape key;
  key.name = "key";
  key.type = "ascii (partition key 1)";
  key.key = true;
  ColumnShape val;
  val.name = "val";
  val.type = type;
  s.columns = {key, val};
  return s;
}

SpillHeader Header() {
  return SpillHeader{"ks.t", "5a1c395e-b41f-11e5-9f22-ba0be0483c18", {1700, 4096}, Shape("text")};
}

struct Read {
  std::vector<std::string> kinds;  // "S" or "E:<segment>:<offset>:<end>:<mv>:<file>:<bytes>"
};

common::Result<Read> ReadBack(const fs::path& path, uint64_t limit) {
  Read out;
  Status s = TableSpill::Replay(
      path, limit,
      {.schema =
           [&](const std::vector<SpillTable>& tables) {
             out.kinds.push_back("S:" + tables.at(0).id + ":" + tables.at(0).keyspace + "." +
                                 tables.at(0).name + ":" + tables.at(0).shape.columns[1].type);
             return Status::Ok();
           },
       .entry =
           [&](const SpillEntry& e) {
             out.kinds.push_back("E:" + e.position.ToString() + ":" + std::to_string(e.end_offset) +
                                 ":" + std::to_string(e.messaging_version) + ":" + e.file + ":" +
                                 std::string(e.bytes));
             return Status::Ok();
           }});
  if (!s.ok()) return s.error();
  return out;
}

SpillEntry Entry(uint32_t offset, const std::string& bytes) {
  return SpillEntry{{1701, offset},
                    offset + static_cast<uint32_t>(bytes.size()) + 12,
                    12,
                    "CommitLog-7-1701.log",
                    bytes};
}

class CassandraSpillTest : public ::testing::Test {
 protected:
  fs::path Path() const { return TableSpill::PathFor(tmp_ / "spill", "ks.t"); }
  rm::testing::TempDir tmp_;
};

TEST_F(CassandraSpillTest, FramesReadBackInOrderWithTheirPositionsAndBytes) {
  auto spill = TableSpill::Create(Path(), Header());
  ASSERT_TRUE(spill.ok()) << spill.error().message;
  ASSERT_TRUE(
      (*spill)
          ->AppendSchema({{"5a1c395e-b41f-11e5-9f22-ba0be0483c18", "ks", "t", Shape("text")}})
          .ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(100, std::string("a\0b", 3))).ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(200, "second")).ok());
  ASSERT_TRUE((*spill)->Sync().ok());
  const uint64_t size = (*spill)->size();
  EXPECT_EQ(fs::file_size(Path()), size);
  spill->reset();

  auto opened = TableSpill::Open(Path(), size);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->header().table, "ks.t");
  EXPECT_EQ((*opened)->header().stop, (CommitLogPosition{1700, 4096}));
  EXPECT_EQ((*opened)->header().shape, Shape("text"));
  auto read = ReadBack(Path(), size);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->kinds, (std::vector<std::string>{
                             "S:5a1c395e-b41f-11e5-9f22-ba0be0483c18:ks.t:text",
                             "E:1701:100:115:12:CommitLog-7-1701.log:" + std::string("a\0b", 3),
                             "E:1701:200:218:12:CommitLog-7-1701.log:second"}));
}

TEST_F(CassandraSpillTest, BytesPastTheCoveredLengthAndATornAppendAreDroppedAtOpen) {
  auto spill = TableSpill::Create(Path(), Header());
  ASSERT_TRUE(spill.ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(100, "covered")).ok());
  const uint64_t covered = (*spill)->size();
  ASSERT_TRUE((*spill)->AppendEntry(Entry(200, "read after the checkpoint")).ok());
  ASSERT_TRUE((*spill)->Sync().ok());
  spill->reset();
  // A crash in the middle of the next append: half a frame at the end.
  std::string bytes = rm::testing::ReadFile(Path());
  rm::testing::WriteFile(Path(), bytes + bytes.substr(covered, 11));

  auto opened = TableSpill::Open(Path(), covered);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->size(), covered);
  EXPECT_EQ(fs::file_size(Path()), covered);
  // Appending goes on right after the covered frames.
  ASSERT_TRUE((*opened)->AppendEntry(Entry(200, "again")).ok());
  ASSERT_TRUE((*opened)->Sync().ok());
  auto read = ReadBack(Path(), (*opened)->size());
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->kinds,
            (std::vector<std::string>{"E:1701:100:119:12:CommitLog-7-1701.log:covered",
                                      "E:1701:200:217:12:CommitLog-7-1701.log:again"}));
}

TEST_F(CassandraSpillTest, ACorruptFrameWithinTheCoveredLengthIsAnErrorNamingFileAndOffset) {
  auto spill = TableSpill::Create(Path(), Header());
  ASSERT_TRUE(spill.ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(100, "first")).ok());
  const uint64_t second = (*spill)->size();
  ASSERT_TRUE((*spill)->AppendEntry(Entry(200, "second")).ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(300, "third")).ok());
  const uint64_t covered = (*spill)->size();
  spill->reset();
  std::string bytes = rm::testing::ReadFile(Path());
  bytes[second + 30] ^= 0x20;  // inside the second entry's payload
  rm::testing::WriteFile(Path(), bytes);

  const std::string expected = "spill " + Path().string() + ": corrupt frame at offset " +
                               std::to_string(second) + ": frame CRC mismatch";
  auto opened = TableSpill::Open(Path(), covered);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, "cassandra.spill");
  EXPECT_EQ(opened.error().message, expected);
  auto read = ReadBack(Path(), covered);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message, expected);
  // Nothing was truncated or repaired: the file is left for an operator.
  EXPECT_EQ(rm::testing::ReadFile(Path()), bytes);

  // A corrupt length field is caught the same way.
  bytes[second + 30] ^= 0x20;
  bytes[second] = '\x7f';
  rm::testing::WriteFile(Path(), bytes);
  opened = TableSpill::Open(Path(), covered);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("corrupt frame at offset " + std::to_string(second)),
            std::string::npos)
      << opened.error().message;
}

TEST_F(CassandraSpillTest, AFileShorterThanTheCoveredLengthIsAnError) {
  auto spill = TableSpill::Create(Path(), Header());
  ASSERT_TRUE(spill.ok());
  ASSERT_TRUE((*spill)->AppendEntry(Entry(100, "first")).ok());
  const uint64_t covered = (*spill)->size();
  spill->reset();
  fs::resize_file(Path(), covered - 3);
  auto opened = TableSpill::Open(Path(), covered);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(Path().string()), std::string::npos);
  EXPECT_NE(opened.error().message.find("the checkpoint covers " + std::to_string(covered)),
            std::string::npos)
      << opened.error().message;
}

TEST_F(CassandraSpillTest, RemoveDeletesTheFileAndAMissingOneIsFine) {
  ASSERT_TRUE(TableSpill::Create(Path(), Header()).ok());
  ASSERT_TRUE(TableSpill::Remove(Path()).ok());
  EXPECT_FALSE(fs::exists(Path()));
  EXPECT_TRUE(TableSpill::Remove(Path()).ok());
}

}  // namespace
}  // namespace rm::cdc::cassandra
