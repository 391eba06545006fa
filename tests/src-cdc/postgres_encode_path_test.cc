// The Postgres capture's fast path (ChangeDecoder's rows and source blocks, EventEncoder's one-pass
// records) writes exactly the bytes of the path it replaced: the previous code is kept here as
// the reference (dumping whole nlohmann objects, operator[] per member) and both run over varied
// rows: NULLs, unicode, control characters and invalid UTF-8, numerics, arrays, json columns,
// unchanged TOASTed values, deletes with old keys or whole old rows, key changes, truncates;
// with and without schemas, tombstones and flattening, with one encoder reused across all of
// them (so nothing it keeps from one event leaks into the next).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src-cdc/change_event.h"
#include "src-cdc/postgres/decoder.h"
#include "tests/src-cdc/postgres_fake_catalog.h"

namespace rm::cdc::postgres {
namespace {

// ---- the previous path, as it was

Json OldSourceJson(const SourceInfo& s) {
  Json j = Json::object();
  j["version"] = kConnectorVersion;
  j["connector"] = s.connector;
  j["name"] = s.name;
  j["ts_ms"] = s.ts_ms;
  j["snapshot"] = SnapshotFlagName(s.snapshot);
  if (!s.db.empty()) j["db"] = s.db;
  for (const auto& [k, v] : s.fields.items()) j[k] = v;
  return j;
}

std::string OldEncodeValue(const ChangeEvent& event) {
  const auto dump = [](const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  const auto image = [&dump](const std::optional<Json>& j) {
    return j ? dump(*j) : std::string("null");
  };
  const std::string_view op =
      event.op_code.empty() ? OperationCode(event.op) : std::string_view(event.op_code);
  std::string plain = fmt::format(
      "{{\"before\":{},\"after\":{},\"source\":{},\"op\":{},\"ts_ms\":{},\"transaction\":null}}",
      image(event.before), image(event.after), dump(OldSourceJson(event.source)), dump(Json(op)),
      event.ts_ms);
  if (!event.schemas) return plain;
  return fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->value, plain);
}

std::optional<std::string> OldEncodeKey(const ChangeEvent& event) {
  if (!event.key) return std::nullopt;
  std::string plain = event.key->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (!event.schemas || event.schemas->key.empty()) return plain;
  return fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->key, plain);
}

std::vector<EncodedRecord> OldEncodeRecords(const ChangeEvent& event, bool tombstones_on_delete) {
  std::vector<EncodedRecord> out;
  if (event.flattened) {
    std::optional<std::string> value;
    if (event.after) value = event.after->dump(-1, ' ', false, Json::error_handler_t::replace);
    if (value && event.schemas) {
      value = fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->value, *value);
    }
    out.push_back({event.topic, OldEncodeKey(event), std::move(value)});
  } else {
    out.push_back({event.topic, OldEncodeKey(event), OldEncodeValue(event)});
  }
  if (event.op == Operation::kDelete && tombstones_on_delete && !event.drop_tombstone &&
      out.front().key) {
    out.push_back({event.topic, out.front().key, std::nullopt});
  }
  return out;
}

// `txid`: the transaction id, or null.
Json OldSourceFields(const TableName& table, const Json& txid, Lsn lsn, Lsn last_commit_lsn) {
  Json fields = Json::object();
  Json seq = Json::array();
  seq.push_back(last_commit_lsn.valid() ? Json(std::to_string(last_commit_lsn.value()))
                                        : Json(nullptr));
  seq.push_back(std::to_string(lsn.value()));
  fields["sequence"] = seq.dump();
  fields["schema"] = table.schema;
  fields["table"] = table.table;
  fields["txId"] = txid;
  fields["lsn"] = lsn.value();
  fields["xmin"] = nullptr;
  return fields;
}

// ---- varied rows through the decoder

// As the encoders dump (invalid UTF-8 replaced).
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

using test::FakeCatalog;
using test::Null;
using test::T;
using test::Toast;

constexpr uint32_t kWide = 100;  // key (id, region), many types
constexpr uint32_t kBare = 200;  // no key
const RelationMessage& Wide(char identity) {
  static RelationMessage r;
  r.oid = kWide;
  r.schema = "public";
  r.table = "wide";
  r.replica_identity = identity;
  r.columns = {{true, "id", 20, -1},       {true, "region", 25, -1},
               {false, "note", 25, -1},    {false, "price", 1700, 655366},
               {false, "tags", 1009, -1},  {false, "doc", 3802, -1},
               {false, "mood", 70000, -1}, {false, "data", 17, -1},
               {false, "at", 1184, -1},    {false, "flag", 16, -1},
               {false, "ratio", 701, -1},  {false, "nums", 1016, -1},
               {false, "day", 1082, -1},   {false, "Ünïcode name \"q\"", 25, -1}};
  return r;
}

// A row of `Wide`, varied by `i`.
TupleData WideRow(int i) {
  static const std::vector<std::string> notes = {
      "plain",
      "héllo ✓ 日本語 🎉",
      std::string("ctl \x01\x02\x1f tab\t nl\n cr\r quote\" backslash\\ slash/ del\x7f", 46),
      "invalid utf-8 \xff\xfe\xc3 end",
      "",
      std::string(300, 'x') + "\u2028\u2029",
  };
  TupleData row;
  row.push_back(T(std::to_string(i * 7919)));
  row.push_back(i % 5 == 0 ? T("eu-\"west\"") : T("us"));
  row.push_back(i % 7 == 3 ? Null() : T(notes[i % notes.size()]));
  static const std::vector<std::string> prices = {"12.50", "NaN", "-0.000001",
                                                  "123456789012345678901234567890.123"};
  row.push_back(T(prices[i % prices.size()]));
  static const std::vector<std::string> tags = {"{}", "{a,\"b c\",NULL,\"q\\\"uote\"}",
                                                "{\"日本\",\"\\\\\"}"};
  row.push_back(T(tags[i % tags.size()]));
  static const std::vector<std::string> docs = {
      R"({"k": [1, 2.5, null, "x\u0000y"], "n": {"deep": true}})", R"("just a string")", R"([])"};
  row.push_back(i % 4 == 1 ? Toast() : T(docs[i % docs.size()]));
  row.push_back(T(i % 2 ? "happy" : "sad \"really\""));
  row.push_back(i % 3 == 2 ? Toast() : T("\\x00ff10"));
  row.push_back(T(i % 2 ? "2024-03-01 12:30:00.25+00" : "infinity"));
  row.push_back(T(i % 2 ? "t" : "f"));
  static const std::vector<std::string> ratios = {"1.5", "NaN", "-Infinity", "1e+300", "-0"};
  row.push_back(T(ratios[i % ratios.size()]));
  row.push_back(i % 6 == 0 ? Null() : T("{{1,2},{-3,4}}"));
  row.push_back(T(i % 2 ? "2024-02-29" : "-infinity"));
  row.push_back(i % 2 ? T("ü") : Null());
  return row;
}

class EncodePathTest : public ::testing::Test {
 protected:
  EncodePathTest() {
    catalog_.pks[kWide] = {"id", "region"};
    catalog_.types[70000] = TypeInfo{70000, "public.mood", ValueKind::kString, 0, true};
  }

  void Feed(const PgOutputMessage& m, uint64_t lsn) {
    auto st = decoder_.Feed(m, Lsn(lsn), events_);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // Every change of a few transactions: inserts, updates (default and full identity, key
  // changes, unchanged TOASTed values), deletes with old keys and whole old rows, truncates,
  // and a table without a key.
  std::vector<ChangeEvent> Changes() {
    RelationMessage bare;
    bare.oid = kBare;
    bare.schema = "other schema";
    bare.table = "bäre";
    bare.columns = {{false, "a", 25, -1}, {false, "b", 23, -1}};
    uint64_t lsn = 0x1000;
    for (int txn = 0; txn < 4; ++txn) {
      Feed(BeginMessage{Lsn(lsn + 0x900), 1700000000000000 + txn * 1000, 42u + txn}, lsn);
      const char identity = txn % 2 ? 'f' : 'd';
      Feed(Wide(identity), lsn);
      Feed(bare, lsn);
      for (int i = 0; i < 24; ++i) {
        lsn += 0x28;
        const int v = txn * 24 + i;
        switch (i % 6) {
          case 0:
          case 1:
            Feed(InsertMessage{kWide, WideRow(v)}, lsn);
            break;
          case 2:
            Feed(UpdateMessage{kWide, identity == 'f' ? 'O' : '\0',
                               identity == 'f' ? std::optional<TupleData>(WideRow(v - 1))
                                               : std::nullopt,
                               WideRow(v)},
                 lsn);
            break;
          case 3: {  // key change: delete of the old key, create of the new
            TupleData old_key(14, Null());
            old_key[0] = T("1");
            old_key[1] = T("old \"region\"");
            Feed(UpdateMessage{kWide, 'K', old_key, WideRow(v)}, lsn);
            break;
          }
          case 4:
            if (identity == 'f') {
              Feed(DeleteMessage{kWide, 'O', WideRow(v)}, lsn);
            } else {
              TupleData old_key(14, Null());
              old_key[0] = WideRow(v)[0];
              old_key[1] = WideRow(v)[1];
              Feed(DeleteMessage{kWide, 'K', old_key}, lsn);
            }
            break;
          case 5:
            Feed(InsertMessage{kBare, {T(i % 2 ? "x\ty" : "日本"), i % 4 ? T("-5") : Null()}}, lsn);
            break;
        }
      }
      if (txn == 2) Feed(TruncateMessage{0, {kWide, kBare}}, lsn);
      Feed(CommitMessage{0, Lsn(lsn + 0x900), Lsn(lsn + 0x930), 0}, lsn);
      lsn += 0x1000;
    }
    return events_;
  }

  FakeCatalog catalog_;
  TypeRegistry types_;
  ChangeDecoder decoder_{
      DecoderOptions{
          "pg1", "app", {TableName{"public", "wide"}, TableName{"other schema", "bäre"}}},
      catalog_, types_};
  std::vector<ChangeEvent> events_;
};

void ExpectSameRecords(const std::vector<EncodedRecord>& got,
                       const std::vector<EncodedRecord>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].topic, want[i].topic) << what;
    EXPECT_EQ(got[i].key, want[i].key) << what;
    EXPECT_EQ(got[i].value, want[i].value) << what;
  }
}

TEST_F(EncodePathTest, DecodedRowsAndSourceBlocksAreThoseOfThePreviousPath) {
  std::vector<ChangeEvent> events = Changes();
  ASSERT_GT(events.size(), 90u);
  int toasted = 0, deletes = 0, truncates = 0;
  for (const ChangeEvent& e : events) {
    // The source block's connector fields, member by member as before.
    const auto& f = e.source.fields;
    const TableName table{f["schema"].get<std::string>(), f["table"].get<std::string>()};
    const Json seq = Json::parse(f["sequence"].get<std::string>());
    const Lsn last_commit = seq[0].is_null() ? Lsn() : Lsn(std::stoull(seq[0].get<std::string>()));
    EXPECT_EQ(Dump(f),
              Dump(OldSourceFields(table, f["txId"], Lsn(f["lsn"].get<uint64_t>()), last_commit)));
    EXPECT_EQ(e.topic, "pg1." + table.schema + "." + table.table);
    // Row images: the same members, in the same order, as assigning each with operator[].
    for (const auto* image : {&e.before, &e.after}) {
      if (!*image) continue;
      Json old_way = Json::object();
      for (const auto& [k, v] : (*image)->items()) old_way[k] = v;
      EXPECT_EQ(Dump(**image), Dump(old_way));
      if (Dump(**image).find("__debezium_unavailable_value") != std::string::npos) ++toasted;
    }
    deletes += e.op == Operation::kDelete;
    truncates += e.op == Operation::kTruncate;
  }
  EXPECT_GT(toasted, 0);
  EXPECT_GT(deletes, 4);
  EXPECT_EQ(truncates, 2);
}

TEST_F(EncodePathTest, RecordsAreByteForByteThoseOfThePreviousEncoder) {
  std::vector<ChangeEvent> events = Changes();
  auto with_key = std::make_shared<ConnectSchemas>(
      ConnectSchemas{R"({"type":"struct","name":"k"})", R"({"type":"struct","name":"v"})"});
  auto without_key =
      std::make_shared<ConnectSchemas>(ConnectSchemas{"", R"({"type":"struct","name":"v2"})"});
  EventEncoder encoder;  // one for everything: what it keeps must not leak between events
  size_t compared = 0;
  for (int variant = 0; variant < 6; ++variant) {
    for (ChangeEvent e : events) {
      if (variant == 1) e.schemas = with_key;
      if (variant == 2) e.schemas = without_key;
      if (variant == 3) {  // as ExtractNewRecordState leaves it
        e.flattened = true;
        e.drop_tombstone = e.after.has_value();
        e.schemas = (compared % 2) ? with_key : nullptr;
      }
      if (variant == 4) {  // another connector's strings and op codes through the same encoder
        e.source.connector = compared % 3 ? "cassandra" : "postgresql";
        e.source.name = compared % 2 ? "näme \"x\"" : "pg1";
        e.source.db = compared % 4 ? "" : "db\x01";
        e.op_code = compared % 2 ? "i" : "";
        e.source.snapshot = static_cast<SnapshotFlag>(compared % 4);
        e.source.ts_ms = -static_cast<int64_t>(compared);
      }
      if (variant == 5) {  // fields that collide with common members, or are not an object
        if (compared % 2) {
          e.source.fields["name"] = "override";
        } else {
          e.source.fields = Json::array({1, "two"});
        }
      }
      for (bool tombstones : {true, false}) {
        std::vector<EncodedRecord> got;
        encoder.Encode(e, tombstones, got);
        const std::string what = fmt::format("variant {} event {} op {} tombstones {}", variant,
                                             compared, OperationCode(e.op), tombstones);
        ExpectSameRecords(got, OldEncodeRecords(e, tombstones), what);
        ExpectSameRecords(EncodeRecords(e, tombstones), OldEncodeRecords(e, tombstones), what);
        if (!e.flattened) {
          EXPECT_EQ(encoder.Value(e), OldEncodeValue(e)) << what;
          EXPECT_EQ(EncodeValue(e), OldEncodeValue(e)) << what;
        }
        EXPECT_EQ(encoder.Key(e), OldEncodeKey(e)) << what;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, events.size() * 6);
}

}  // namespace
}  // namespace rm::cdc::postgres
