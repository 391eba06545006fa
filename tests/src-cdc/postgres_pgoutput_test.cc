// pgoutput and streaming replication message parsing, on hand-built byte strings.
#include <gtest/gtest.h>

#include <string>

#include "src-cdc/postgres/lsn.h"
#include "src-cdc/postgres/pgoutput.h"
#include "tests/src-cdc/pgoutput_bytes.h"

namespace rm::cdc::postgres {
namespace {

using Bytes = ::rm::testing::PgOutputBytes;

TEST(PostgresLsn, ParsesAndPrintsLikePostgres) {
  auto lsn = Lsn::Parse("16/B374D848");
  ASSERT_TRUE(lsn);
  EXPECT_EQ(lsn->value(), (0x16ULL << 32) | 0xB374D848ULL);
  EXPECT_EQ(lsn->ToString(), "16/B374D848");
  EXPECT_FALSE(Lsn::Parse("16B374D848"));
  EXPECT_FALSE(Lsn::Parse("/1"));
  EXPECT_FALSE(Lsn::Parse("1/xyz"));
}

TEST(PgOutput, ParsesBeginAndCommit) {
  auto begin = ParsePgOutputMessage(Bytes().U8('B').U64(0x100).U64(12345).U32(777).str());
  ASSERT_TRUE(begin.ok()) << begin.error().message;
  auto& b = std::get<BeginMessage>(*begin);
  EXPECT_EQ(b.final_lsn.value(), 0x100u);
  EXPECT_EQ(b.commit_time_us, 12345);
  EXPECT_EQ(b.xid, 777u);

  auto commit = ParsePgOutputMessage(Bytes().U8('C').U8(0).U64(0x100).U64(0x128).U64(12345).str());
  ASSERT_TRUE(commit.ok());
  auto& c = std::get<CommitMessage>(*commit);
  EXPECT_EQ(c.commit_lsn.value(), 0x100u);
  EXPECT_EQ(c.end_lsn.value(), 0x128u);
}

TEST(PgOutput, ParsesRelationWithKeyFlagsAndEmptyNamespaceAsPgCatalog) {
  auto msg = Bytes()
                 .U8('R')
                 .U32(16384)
                 .Str("public")
                 .Str("accounts")
                 .U8('d')
                 .U16(2)
                 .U8(1)
                 .Str("id")
                 .U32(23)
                 .U32(0xffffffff)
                 .U8(0)
                 .Str("name")
                 .U32(1043)
                 .U32(68)
                 .str();
  auto r = ParsePgOutputMessage(msg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto& rel = std::get<RelationMessage>(*r);
  EXPECT_EQ(rel.oid, 16384u);
  EXPECT_EQ(rel.schema, "public");
  EXPECT_EQ(rel.table, "accounts");
  ASSERT_EQ(rel.columns.size(), 2u);
  EXPECT_TRUE(rel.columns[0].is_key);
  EXPECT_EQ(rel.columns[0].type_modifier, -1);
  EXPECT_FALSE(rel.columns[1].is_key);
  EXPECT_EQ(rel.columns[1].type_oid, 1043u);

  auto cat = ParsePgOutputMessage(Bytes().U8('R').U32(1).Str("").Str("t").U8('f').U16(0).str());
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(std::get<RelationMessage>(*cat).schema, "pg_catalog");
}

TEST(PgOutput, ParsesInsertUpdateDeleteTuples) {
  auto ins =
      ParsePgOutputMessage(Bytes().U8('I').U32(5).U8('N').U16(3).Text("42").U8('n').U8('u').str());
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  auto& i = std::get<InsertMessage>(*ins);
  ASSERT_EQ(i.new_tuple.size(), 3u);
  EXPECT_EQ(i.new_tuple[0].kind, TupleValueKind::kText);
  EXPECT_EQ(i.new_tuple[0].data, "42");
  EXPECT_EQ(i.new_tuple[1].kind, TupleValueKind::kNull);
  EXPECT_EQ(i.new_tuple[2].kind, TupleValueKind::kUnchangedToast);

  auto upd = ParsePgOutputMessage(
      Bytes().U8('U').U32(5).U8('O').U16(1).Text("1").U8('N').U16(1).Text("2").str());
  ASSERT_TRUE(upd.ok()) << upd.error().message;
  auto& u = std::get<UpdateMessage>(*upd);
  EXPECT_EQ(u.old_kind, 'O');
  ASSERT_TRUE(u.old_tuple);
  EXPECT_EQ((*u.old_tuple)[0].data, "1");
  EXPECT_EQ(u.new_tuple[0].data, "2");

  auto plain = ParsePgOutputMessage(Bytes().U8('U').U32(5).U8('N').U16(1).Text("3").str());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(std::get<UpdateMessage>(*plain).old_tuple);

  auto del = ParsePgOutputMessage(Bytes().U8('D').U32(5).U8('K').U16(1).Text("9").str());
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(std::get<DeleteMessage>(*del).old_kind, 'K');
}

TEST(PgOutput, ParsesTruncateTypeAndOrigin) {
  auto t = ParsePgOutputMessage(Bytes().U8('T').U32(2).U8(3).U32(10).U32(11).str());
  ASSERT_TRUE(t.ok());
  auto& tr = std::get<TruncateMessage>(*t);
  EXPECT_TRUE(tr.cascade());
  EXPECT_TRUE(tr.restart_identity());
  EXPECT_EQ(tr.relation_oids, (std::vector<uint32_t>{10, 11}));

  auto y = ParsePgOutputMessage(Bytes().U8('Y').U32(16500).Str("public").Str("mood").str());
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(std::get<TypeMessage>(*y).name, "mood");

  auto o = ParsePgOutputMessage(Bytes().U8('O').U64(1).Str("upstream").str());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(std::get<OriginMessage>(*o).name, "upstream");
}

TEST(PgOutput, MalformedInputNamesMessageAndOffsetWithoutCrashing) {
  // Truncated Begin: xid missing.
  auto r = ParsePgOutputMessage(Bytes().U8('B').U64(1).U64(2).str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pgoutput.malformed");
  EXPECT_NE(r.error().message.find("Begin"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("offset 17"), std::string::npos) << r.error().message;

  // A tuple value whose length runs past the end.
  auto big = ParsePgOutputMessage(Bytes().U8('I').U32(5).U8('N').U16(1).U8('t').U32(1000).str());
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("Insert"), std::string::npos);

  // Absurd column counts are rejected before allocating.
  auto cols = ParsePgOutputMessage(Bytes().U8('I').U32(5).U8('N').U16(65535).str());
  EXPECT_FALSE(cols.ok());
  auto trunc = ParsePgOutputMessage(Bytes().U8('T').U32(0xffffffff).U8(0).str());
  EXPECT_FALSE(trunc.ok());

  // Unknown kinds, bad tags, unterminated strings, trailing bytes, empty input.
  EXPECT_FALSE(ParsePgOutputMessage(Bytes().U8('I').U32(5).U8('N').U16(1).U8('x').str()).ok());
  EXPECT_FALSE(ParsePgOutputMessage(Bytes().U8('I').U32(5).U8('Q').U16(0).str()).ok());
  EXPECT_FALSE(ParsePgOutputMessage(Bytes().U8('Y').U32(1).Raw("abc").str()).ok());
  EXPECT_FALSE(ParsePgOutputMessage(Bytes().U8('B').U64(1).U64(2).U32(3).U8(0).str()).ok());
  EXPECT_FALSE(ParsePgOutputMessage("").ok());
  auto unknown = ParsePgOutputMessage("Z");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("0x5a"), std::string::npos);

  // Every prefix of a valid message fails cleanly.
  std::string full = Bytes()
                         .U8('U')
                         .U32(5)
                         .U8('O')
                         .U16(2)
                         .Text("1")
                         .U8('n')
                         .U8('N')
                         .U16(2)
                         .Text("2")
                         .Text("abc")
                         .str();
  ASSERT_TRUE(ParsePgOutputMessage(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(ParsePgOutputMessage(full.substr(0, n)).ok()) << n;
  }
}

TEST(ReplicationProtocol, ParsesXLogDataAndKeepalive) {
  auto w =
      ParseReplicationMessage(Bytes().U8('w').U64(0x10).U64(0x20).U64(99).Raw("B-payload").str());
  ASSERT_TRUE(w.ok());
  auto& x = std::get<XLogData>(*w);
  EXPECT_EQ(x.wal_start.value(), 0x10u);
  EXPECT_EQ(x.wal_end.value(), 0x20u);
  EXPECT_EQ(x.data, "B-payload");

  auto k = ParseReplicationMessage(Bytes().U8('k').U64(0x30).U64(5).U8(1).str());
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(std::get<PrimaryKeepalive>(*k).reply_requested);
  EXPECT_EQ(std::get<PrimaryKeepalive>(*k).wal_end.value(), 0x30u);

  EXPECT_FALSE(ParseReplicationMessage(Bytes().U8('k').U64(0x30).str()).ok());
  EXPECT_FALSE(ParseReplicationMessage(Bytes().U8('w').U64(1).str()).ok());
  EXPECT_FALSE(ParseReplicationMessage("q").ok());
}

TEST(ReplicationProtocol, EncodesStandbyStatusUpdate) {
  std::string m = EncodeStandbyStatusUpdate(Lsn(1), Lsn(0x0102030405060708ULL), Lsn(3), 4, true);
  ASSERT_EQ(m.size(), 34u);
  EXPECT_EQ(m[0], 'r');
  EXPECT_EQ(m.substr(9, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(m[33], 1);
}

}  // namespace
}  // namespace rm::cdc::postgres
