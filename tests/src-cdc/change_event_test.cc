// The envelope's exact bytes: EncodeValue writes it piece by piece for speed, and must give what
// dumping the whole envelope as one JSON object gives (field order included: consumers and our
// own tests compare bytes).
#include "src-cdc/change_event.h"

#include <gtest/gtest.h>

namespace rm::cdc {
namespace {

// The envelope built as one object, the obvious way.
std::string EnvelopeAsOneObject(const ChangeEvent& e) {
  Json source = Json::object();
  source["version"] = kConnectorVersion;
  source["connector"] = e.source.connector;
  source["name"] = e.source.name;
  source["ts_ms"] = e.source.ts_ms;
  source["snapshot"] = SnapshotFlagName(e.source.snapshot);
  if (!e.source.db.empty()) source["db"] = e.source.db;
  for (const auto& [k, v] : e.source.fields.items()) source[k] = v;
  Json j = Json::object();
  j["before"] = e.before ? *e.before : Json(nullptr);
  j["after"] = e.after ? *e.after : Json(nullptr);
  j["source"] = source;
  j["op"] = e.op_code.empty() ? std::string(OperationCode(e.op)) : e.op_code;
  j["ts_ms"] = e.ts_ms;
  j["transaction"] = nullptr;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ChangeEvent Update() {
  ChangeEvent e;
  e.topic = "pg1.public.accounts";
  e.op = Operation::kUpdate;
  e.before = Json::parse(R"({"id":7,"note":"old \"quoted\"","tags":["a","b"]})");
  e.after = Json::parse(R"({"id":7,"note":"new","tags":[],"price":"12.50","ok":true})");
  e.source.connector = "postgresql";
  e.source.name = "pg1";
  e.source.ts_ms = 1700000000123;
  e.source.db = "app";
  e.source.fields["schema"] = "public";
  e.source.fields["table"] = "accounts";
  e.source.fields["txId"] = 42;
  e.source.fields["lsn"] = 0x777;
  e.ts_ms = 1700000000456;
  e.key = Json::parse(R"({"id":7})");
  return e;
}

TEST(ChangeEvent, EncodedValueIsByteForByteTheWholeEnvelopeDumped) {
  ChangeEvent e = Update();
  EXPECT_EQ(EncodeValue(e), EnvelopeAsOneObject(e));
}

TEST(ChangeEvent, MissingImagesAreNullAndConnectorOpCodesAreKept) {
  ChangeEvent insert = Update();
  insert.op = Operation::kCreate;
  insert.before.reset();
  EXPECT_EQ(EncodeValue(insert), EnvelopeAsOneObject(insert));
  EXPECT_NE(EncodeValue(insert).find(R"("before":null,"after":{)"), std::string::npos);

  ChangeEvent cassandra = Update();
  cassandra.source.db.clear();
  cassandra.source.connector = "cassandra";
  cassandra.op_code = "i";
  cassandra.after.reset();
  EXPECT_EQ(EncodeValue(cassandra), EnvelopeAsOneObject(cassandra));
  EXPECT_NE(EncodeValue(cassandra).find(R"("op":"i")"), std::string::npos);
}

TEST(ChangeEvent, InvalidUtf8InAColumnIsReplacedNotThrown) {
  ChangeEvent e = Update();
  (*e.after)["note"] = std::string("bad \xff byte");
  std::string value;
  ASSERT_NO_THROW(value = EncodeValue(e));
  EXPECT_EQ(value, EnvelopeAsOneObject(e));
  EXPECT_NE(value.find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

TEST(ChangeEvent, EveryCharacterClassInKeysAndValuesIsWrittenAsTheSerializerWritesIt) {
  // The encoder appends plain ASCII keys and strings itself and hands the rest to nlohmann:
  // each byte value, alone and inside text, in keys and values, nested, must give dump()'s bytes.
  ChangeEvent e = Update();
  Json row = Json::object();
  Json bytes = Json::array();
  for (int c = 1; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    bytes.push_back(one);
    bytes.push_back("a" + one + "z");
    row["k" + one] = one;
  }
  row["utf8"] = "näme 日本 \xF0\x9F\x98\x80";
  row["bad"] = std::string("cut \xE6\x97 end");
  row["quote\"and\\backslash"] = "tab\tnew\nline\x7f";
  row["nested"] = Json::object({{"empty", Json::object()},
                                {"list", Json::array({Json::array(), 1, -2, 2.5, true, nullptr})},
                                {"inner", Json::object({{"x\"", "y\\"}})}});
  row["bytes"] = bytes;
  row[""] = "";
  e.after = row;
  e.before = bytes;
  e.key = Json::object({{"id\x01", "k\xc3\xa9y"}});
  EXPECT_EQ(EncodeValue(e), EnvelopeAsOneObject(e));
  EXPECT_EQ(EncodeKey(e), e.key->dump(-1, ' ', false, Json::error_handler_t::replace));
  e.flattened = true;  // the row alone, as after ExtractNewRecordState
  std::vector<EncodedRecord> records = EncodeRecords(e, false);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, row.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace
}  // namespace rm::cdc
