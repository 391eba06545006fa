// pgoutput messages -> Debezium envelopes, with a fake catalog; and the envelope encoding.
#include <gtest/gtest.h>

#include <map>

#include "src-cdc/change_event.h"
#include "src-cdc/postgres/decoder.h"
#include "tests/src-cdc/postgres_fake_catalog.h"

namespace rm::cdc::postgres {
namespace {

using test::FakeCatalog;
using test::Null;
using test::T;
using test::Toast;

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() {
    catalog_.pks[100] = {"id"};
    catalog_.types[70000] = TypeInfo{70000, "public.mood", ValueKind::kString, 0, true};
  }

  void Feed(const PgOutputMessage& m, uint64_t lsn = 0x500) {
    auto st = decoder_.Feed(m, Lsn(lsn), events_);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void SetUpAccounts(char identity = 'd') {
    Feed(BeginMessage{Lsn(0x900), 0, 42});
    RelationMessage r;
    r.oid = 100;
    r.schema = "public";
    r.table = "accounts";
    r.replica_identity = identity;
    r.columns = {{true, "id", 23, -1}, {false, "note", 25, -1}, {false, "mood", 70000, -1}};
    Feed(r);
  }

  FakeCatalog catalog_;
  TypeRegistry types_;
  ChangeDecoder decoder_{DecoderOptions{"pg1", "app", {TableName{"public", "accounts"}}}, catalog_,
                         types_};
  std::vector<ChangeEvent> events_;
};

TEST_F(DecoderTest, InsertBecomesCreateEventKeyedByPrimaryKey) {
  SetUpAccounts();
  Feed(InsertMessage{100, {T("7"), T("hello"), T("happy")}}, 0x777);
  ASSERT_EQ(events_.size(), 1u);
  const auto& e = events_[0];
  EXPECT_EQ(e.topic, "pg1.public.accounts");
  EXPECT_EQ(e.op, Operation::kCreate);
  EXPECT_EQ(*e.key, Json::parse(R"({"id":7})"));
  EXPECT_EQ(*e.after, Json::parse(R"({"id":7,"note":"hello","mood":"happy"})"));
  EXPECT_FALSE(e.before);

  auto value = Json::parse(EncodeValue(e));
  EXPECT_EQ(value["op"], "c");
  EXPECT_TRUE(value["before"].is_null());
  EXPECT_EQ(value["source"]["connector"], "postgresql");
  EXPECT_EQ(value["source"]["name"], "pg1");
  EXPECT_EQ(value["source"]["db"], "app");
  EXPECT_EQ(value["source"]["schema"], "public");
  EXPECT_EQ(value["source"]["table"], "accounts");
  EXPECT_EQ(value["source"]["txId"], 42);
  EXPECT_EQ(value["source"]["lsn"], 0x777);
  EXPECT_EQ(value["source"]["snapshot"], "false");
  EXPECT_TRUE(value.contains("ts_ms"));
  EXPECT_EQ(*EncodeKey(e), R"({"id":7})");
}

TEST_F(DecoderTest, UpdateUnderDefaultIdentityHasNoBeforeAndMarksUnchangedToast) {
  SetUpAccounts();
  Feed(UpdateMessage{100, 0, std::nullopt, {T("7"), Toast(), Null()}});
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].op, Operation::kUpdate);
  EXPECT_FALSE(events_[0].before);
  EXPECT_EQ((*events_[0].after)["note"], "__debezium_unavailable_value");
  EXPECT_TRUE((*events_[0].after)["mood"].is_null());
}

TEST_F(DecoderTest, UpdateUnderFullIdentityCarriesTheBeforeImage) {
  SetUpAccounts('f');
  Feed(
      UpdateMessage{100, 'O', TupleData{T("7"), T("old"), T("sad")}, {T("7"), T("new"), T("sad")}});
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ((*events_[0].before)["note"], "old");
  EXPECT_EQ((*events_[0].after)["note"], "new");
}

TEST_F(DecoderTest, PrimaryKeyChangeBecomesDeleteThenCreate) {
  SetUpAccounts();
  Feed(UpdateMessage{100, 'K', TupleData{T("7"), Null(), Null()}, {T("8"), T("x"), Null()}});
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].op, Operation::kDelete);
  EXPECT_EQ(*events_[0].key, Json::parse(R"({"id":7})"));
  EXPECT_EQ(events_[1].op, Operation::kCreate);
  EXPECT_EQ(*events_[1].key, Json::parse(R"({"id":8})"));
}

TEST_F(DecoderTest, DeleteCarriesKeyColumnsAndIsFollowedByTombstone) {
  SetUpAccounts();
  Feed(DeleteMessage{100, 'K', {T("7"), Null(), Null()}});
  ASSERT_EQ(events_.size(), 1u);
  const auto& e = events_[0];
  EXPECT_EQ(e.op, Operation::kDelete);
  EXPECT_EQ(*e.before, Json::parse(R"({"id":7,"note":null,"mood":null})"));
  EXPECT_FALSE(e.after);
  auto recs = EncodeRecords(e, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].key, recs[0].key);
  EXPECT_FALSE(recs[1].value);
  EXPECT_EQ(EncodeRecords(e, false).size(), 1u);
}

TEST_F(DecoderTest, TruncateEmitsOneEventPerCapturedTable) {
  SetUpAccounts();
  RelationMessage other;
  other.oid = 200;
  other.schema = "public";
  other.table = "not_captured";
  other.columns = {{true, "id", 23, -1}};
  Feed(other);
  Feed(TruncateMessage{0, {100, 200}});
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].op, Operation::kTruncate);
  EXPECT_FALSE(events_[0].key);
  EXPECT_EQ(Json::parse(EncodeValue(events_[0]))["op"], "t");
}

TEST_F(DecoderTest, IgnoresTablesOutsideTheCaptureAndPicksUpSchemaChanges) {
  SetUpAccounts();
  RelationMessage hb;
  hb.oid = 300;
  hb.schema = "public";
  hb.table = "regionmirror_heartbeat";
  hb.columns = {{true, "slot_name", 25, -1}};
  Feed(hb);
  Feed(UpdateMessage{300, 0, std::nullopt, {T("s")}});
  EXPECT_TRUE(events_.empty());

  RelationMessage wider;
  wider.oid = 100;
  wider.schema = "public";
  wider.table = "accounts";
  wider.columns = {{true, "id", 23, -1},
                   {false, "note", 25, -1},
                   {false, "mood", 70000, -1},
                   {false, "added", 20, -1}};
  Feed(wider);
  Feed(InsertMessage{100, {T("1"), Null(), Null(), T("5")}});
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ((*events_[0].after)["added"], 5);
}

TEST_F(DecoderTest, ErrorsNameTheTableAndColumn) {
  SetUpAccounts();
  std::vector<ChangeEvent> out;
  auto st = decoder_.Feed(InsertMessage{100, {T("x"), Null(), Null()}}, Lsn(1), out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("public.accounts.id"), std::string::npos);
  EXPECT_FALSE(decoder_.Feed(InsertMessage{100, {T("1")}}, Lsn(1), out).ok());
  EXPECT_FALSE(decoder_.Feed(InsertMessage{999, {T("1")}}, Lsn(1), out).ok());
}

TEST(ChangeEventEncoding, CassandraCanBringItsOwnSourceBlock) {
  ChangeEvent e;
  e.topic = "cass.ks.users";
  e.op = Operation::kRead;
  e.source.connector = "cassandra";
  e.source.name = "cass";
  e.source.snapshot = SnapshotFlag::kLast;
  e.source.fields["cluster"] = "c1";
  e.source.fields["file"] = "CommitLog-7-1.log";
  e.source.fields["pos"] = 1234;
  e.source.fields["keyspace"] = "ks";
  e.source.fields["table"] = "users";
  e.after = Json::parse(R"({"id":"a"})");
  e.key = Json::parse(R"({"id":"a"})");
  auto v = Json::parse(EncodeValue(e));
  EXPECT_EQ(v["op"], "r");
  EXPECT_EQ(v["source"]["connector"], "cassandra");
  EXPECT_EQ(v["source"]["snapshot"], "last");
  EXPECT_EQ(v["source"]["pos"], 1234);
  EXPECT_FALSE(v["source"].contains("db"));
  // Field order follows Debezium: version, connector, name, ts_ms, snapshot, then the rest.
  std::string text = EncodeValue(e);
  EXPECT_LT(text.find("\"version\""), text.find("\"connector\""));
  EXPECT_LT(text.find("\"snapshot\""), text.find("\"cluster\""));
}

}  // namespace
}  // namespace rm::cdc::postgres
