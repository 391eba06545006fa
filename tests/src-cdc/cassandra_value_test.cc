// Typed decoding of CQL values from their storage bytes, and their JSON form.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "src-cdc/cassandra/cql_value.h"

namespace rm::cdc::cassandra {
namespace {

CqlType T(const std::string& spelling) { return ParseCqlType(spelling).value(); }

std::string Hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

CqlValue Decode(const std::string& type, const std::string& hex) {
  auto v = DecodeValue(T(type), Hex(hex));
  EXPECT_TRUE(v.ok()) << type << " " << hex << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? v.value() : CqlValue();
}

TEST(CassandraValues, DecodesIntegersOfEveryWidthSigned) {
  EXPECT_EQ(Decode("tinyint", "ff").as<int64_t>(), -1);
  EXPECT_EQ(Decode("smallint", "8000").as<int64_t>(), -32768);
  EXPECT_EQ(Decode("int", "7fffffff").as<int64_t>(), 2147483647);
  EXPECT_EQ(Decode("bigint", "fffffffffffffffe").as<int64_t>(), -2);
  EXPECT_EQ(Decode("boolean", "01").as<bool>(), true);
}

TEST(CassandraValues, DecodesFloatingPointAndArbitraryPrecision) {
  EXPECT_DOUBLE_EQ(Decode("float", "3fc00000").as<double>(), 1.5);
  EXPECT_DOUBLE_EQ(Decode("double", "c000000000000000").as<double>(), -2.0);
  EXPECT_EQ(Decode("varint", "00").as<CqlValue::Varint>().digits, "0");
  EXPECT_EQ(Decode("varint", "ff").as<CqlValue::Varint>().digits, "-1");
  EXPECT_EQ(Decode("varint", "0100000000000000000000").as<CqlValue::Varint>().digits,
            "1208925819614629174706176");  // 2^80
  EXPECT_EQ(Decode("varint", "ff00").as<CqlValue::Varint>().digits, "-256");
  // decimal: scale 2, unscaled -1250 -> -12.50
  EXPECT_EQ(Decode("decimal", "00000002fb1e").as<CqlValue::Decimal>().ToString(), "-12.50");
  EXPECT_EQ(Decode("decimal", "0000000305").as<CqlValue::Decimal>().ToString(), "0.005");
  EXPECT_EQ(Decode("decimal", "fffffffe07").as<CqlValue::Decimal>().ToString(), "700");
}

TEST(CassandraValues, DecodesTimeTypes) {
  EXPECT_EQ(Decode("timestamp", "0000018ba53ff954").as<CqlValue::Timestamp>().millis,
            1699284515156);
  EXPECT_EQ(Decode("date", "80000000").as<CqlValue::Date>().days, 0);  // 1970-01-01
  EXPECT_EQ(Decode("date", "7fffffff").as<CqlValue::Date>().days, -1);
  EXPECT_EQ(Decode("time", "0000000000000001").as<CqlValue::Time>().nanos, 1);
  EXPECT_FALSE(DecodeValue(T("time"), Hex("ffffffffffffffff")).ok());
  const auto d = Decode("duration", "020406").as<CqlValue::Duration>();  // zig-zag 1, 2, 3
  EXPECT_EQ(d.months, 1);
  EXPECT_EQ(d.days, 2);
  EXPECT_EQ(d.nanos, 3);
}

TEST(CassandraValues, DecodesUuidsAddressesTextAndBlobs) {
  EXPECT_EQ(Decode("timeuuid", "26be17107cb911ee9fce59fe9713701b").as<Uuid>().ToString(),
            "26be1710-7cb9-11ee-9fce-59fe9713701b");
  EXPECT_EQ(Decode("inet", "7f000001").as<CqlValue::Inet>().ToString(), "127.0.0.1");
  EXPECT_EQ(Decode("inet", "00000000000000000000000000000001").as<CqlValue::Inet>().ToString(),
            "::1");
  EXPECT_EQ(Decode("text", "c3a9").as<std::string>(), "\xc3\xa9");
  EXPECT_EQ(Decode("blob", "00ff").as<CqlValue::Blob>().bytes, std::string("\0\xff", 2));
}

TEST(CassandraValues, EmptyBytesAreNullExceptForTextAndBlob) {
  EXPECT_TRUE(Decode("int", "").is_null());
  EXPECT_TRUE(Decode("uuid", "").is_null());
  EXPECT_EQ(Decode("text", "").as<std::string>(), "");
  EXPECT_EQ(Decode("blob", "").as<CqlValue::Blob>().bytes, "");
}

TEST(CassandraValues, WrongSizesAreErrorsNamingTheType) {
  auto v = DecodeValue(T("int"), Hex("0001"));

  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "cassandra.value");
  EXPECT_NE(v.error().message.find("int value: expected 4 bytes, got 2"), std::string::npos);
  EXPECT_FALSE(DecodeValue(T("inet"), Hex("0102")).ok());
  EXPECT_FALSE(DecodeValue(T("uuid"), Hex("01")).ok());
}

TEST(CassandraValues, DecodesFrozenCollectionsAndTuples) {
  // list<int> [1, 2]
  const auto list = Decode("frozen<list<int>>",
                           "00000002"
                           "0000000400000001"
                           "0000000400000002");
  ASSERT_TRUE(list.is<CqlValue::List>());
  EXPECT_EQ(list.as<CqlValue::List>().items,
            (std::vector<CqlValue>{CqlValue(int64_t{1}), CqlValue(int64_t{2})}));
  // map<text, int> {"a": 7}
  const auto map = Decode("frozen<map<text, int>>",
                          "00000001"
                          "0000000161"
                          "0000000400000007");
  ASSERT_TRUE(map.is<CqlValue::Map>());
  EXPECT_EQ(map.ToJson(), nlohmann::json::parse(R"({"a": 7})"));
  // map<int, text> {1: "x"} has no string keys: a list of pairs in JSON
  const auto imap = Decode("frozen<map<int, text>>",
                           "00000001"
                           "0000000400000001"
                           "0000000178");
  EXPECT_EQ(imap.ToJson(), nlohmann::json::parse(R"([[1, "x"]])"));
  // tuple<int, text> (5, null)
  const auto tuple = Decode("tuple<int, text>",
                            "0000000400000005"
                            "ffffffff");
  EXPECT_EQ(tuple.ToJson(), nlohmann::json::parse("[5, null]"));
  // A count larger than the bytes can hold is refused before allocating.
  EXPECT_FALSE(DecodeValue(T("frozen<list<int>>"), Hex("7fffffff")).ok());
  EXPECT_FALSE(DecodeValue(T("frozen<list<int>>"), Hex("00000001"
                                                       "00000009"
                                                       "00"))
                   .ok());
}

TEST(CassandraValues, SumsCounterShards) {
  // header with 1 element (local shard index 0), then two shards of (id, clock, count).
  const std::string shard_a =
      std::string(16, '\1') + Hex("0000000000000001") + Hex("0000000000000005");
  const std::string shard_b =
      std::string(16, '\2') + Hex("0000000000000001") + Hex("fffffffffffffffe");
  const std::string context = Hex("00010000") + shard_a + shard_b;

  auto total = DecodeCounterContext(context);

  ASSERT_TRUE(total.ok()) << total.error().message;
  EXPECT_EQ(total.value(), 3);
  EXPECT_EQ(DecodeValue(T("counter"), context).value().as<int64_t>(), 3);
  EXPECT_FALSE(DecodeCounterContext(Hex("0001")).ok());
}

TEST(CassandraValues, JsonFormsSuitTheChangeEnvelope) {
  EXPECT_EQ(Decode("blob", "68656c6c6f").ToJson(), "aGVsbG8=");
  EXPECT_EQ(Decode("varint", "0100000000000000000000").ToJson(), "1208925819614629174706176");
  EXPECT_EQ(Decode("varint", "7f").ToJson(), 127);
  EXPECT_EQ(Decode("decimal", "00000002fb1e").ToJson(), "-12.50");
  EXPECT_EQ(Decode("timestamp", "00000000000003e8").ToJson(), 1000);
  EXPECT_EQ(Decode("int", "").ToJson(), nullptr);
}

TEST(CassandraValues, InvalidUtf8TextStillGivesDumpableJson) {
  const CqlValue text = Decode("text", "61ff62c3");  // 'a', invalid byte, 'b', cut sequence
  const CqlValue map = Decode("frozen<map<text, int>>",
                              "00000001"
                              "00000001fe"
                              "0000000400000001");

  EXPECT_EQ(text.as<std::string>(),
            "a\xff"
            "b\xc3");  // the value itself is kept as stored
  EXPECT_EQ(text.ToJson().dump(),
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  EXPECT_NO_THROW(map.ToJson().dump());
  EXPECT_EQ(Decode("text", "e282ac").ToJson(), "\xE2\x82\xAC");  // valid UTF-8 is unchanged
}

TEST(CassandraValues, SplitsCompositePartitionKeys) {
  // (int 1, text "ab"): per component unsigned short length, bytes, end-of-component 0.
  const std::string key =
      Hex("0004"
          "00000001"
          "00"
          "0002"
          "6162"
          "00");

  auto values = DecodePartitionKey({T("int"), T("text")}, key);

  ASSERT_TRUE(values.ok()) << values.error().message;
  ASSERT_EQ(values.value().size(), 2u);
  EXPECT_EQ(values.value()[0].as<int64_t>(), 1);
  EXPECT_EQ(values.value()[1].as<std::string>(), "ab");
  EXPECT_FALSE(DecodePartitionKey({T("int"), T("text")}, Hex("0004000000")).ok());
}

}  // namespace
}  // namespace rm::cdc::cassandra
