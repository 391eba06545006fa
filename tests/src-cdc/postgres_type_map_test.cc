// Text-format values -> JSON, as Debezium's defaults represent them.
#include <gtest/gtest.h>

#include <limits>

#include "src-cdc/base64.h"
#include "src-cdc/postgres/type_map.h"

namespace rm::cdc::postgres {
namespace {

class TypeMapTest : public ::testing::Test {
 protected:
  Json Convert(uint32_t oid, std::string_view text, int32_t typmod = -1) {
    auto r = ConvertTextValue(types_, oid, typmod, text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : Json();
  }
  bool Fails(uint32_t oid, std::string_view text) {
    return !ConvertTextValue(types_, oid, -1, text).ok();
  }
  TypeRegistry types_;
};

TEST_F(TypeMapTest, IntegersBoolsAndFloats) {
  EXPECT_EQ(Convert(23, "-42"), Json(-42));
  EXPECT_EQ(Convert(20, "9223372036854775807"), Json(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Convert(21, "7"), Json(7));
  EXPECT_EQ(Convert(16, "t"), Json(true));
  EXPECT_EQ(Convert(16, "f"), Json(false));
  EXPECT_EQ(Convert(701, "1.5"), Json(1.5));
  EXPECT_EQ(Convert(700, "NaN"), Json("NaN"));
  EXPECT_EQ(Convert(701, "-Infinity"), Json("-Infinity"));
  EXPECT_TRUE(Fails(23, "12a"));
  EXPECT_TRUE(Fails(16, "yes"));
}

TEST_F(TypeMapTest, NumericAndTextStayStrings) {
  EXPECT_EQ(Convert(1700, "12345678901234567890.000000001"),
            Json("12345678901234567890.000000001"));
  EXPECT_EQ(Convert(1700, "NaN"), Json("NaN"));
  EXPECT_EQ(Convert(25, "héllo"), Json("héllo"));
  EXPECT_EQ(Convert(1042, "ab   "), Json("ab   "));
  EXPECT_EQ(Convert(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            Json("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  EXPECT_EQ(Convert(3802, R"({"a": 1})"), Json(R"({"a": 1})"));
  EXPECT_EQ(Convert(99999, "whatever"), Json("whatever"));  // unknown OID
}

TEST_F(TypeMapTest, DatesAreDaysSinceEpoch) {
  EXPECT_EQ(Convert(1082, "1970-01-01"), Json(0));
  EXPECT_EQ(Convert(1082, "2024-02-29"), Json(19782));
  EXPECT_EQ(Convert(1082, "1969-12-31"), Json(-1));
  EXPECT_EQ(Convert(1082, "0001-01-01 BC"), Json(DaysFromCivil(0, 1, 1)));
  EXPECT_EQ(Convert(1082, "infinity"), Json(std::numeric_limits<int32_t>::max()));
  EXPECT_TRUE(Fails(1082, "2024-13-01"));
}

TEST_F(TypeMapTest, TimestampsFollowAdaptivePrecision) {
  // Default precision: microseconds since the epoch.
  EXPECT_EQ(Convert(1114, "1970-01-01 00:00:01.5"), Json(1500000));
  EXPECT_EQ(Convert(1114, "2024-03-01 12:30:00.123456"), Json(1709296200123456LL));
  EXPECT_EQ(Convert(1114, "1969-12-31 23:59:59.999999"), Json(-1));
  // timestamp(3): milliseconds.
  EXPECT_EQ(Convert(1114, "1970-01-01 00:00:01.5", 3), Json(1500));
  EXPECT_EQ(Convert(1114, "infinity"), Json(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Convert(1114, "-infinity"), Json(std::numeric_limits<int64_t>::min()));
  // timestamptz: ISO string in UTC, fraction only as long as needed.
  EXPECT_EQ(Convert(1184, "2024-03-01 12:30:00.25+00"), Json("2024-03-01T12:30:00.25Z"));
  EXPECT_EQ(Convert(1184, "2024-03-01 14:30:00+02"), Json("2024-03-01T12:30:00Z"));
  EXPECT_EQ(Convert(1184, "2024-03-01 00:15:00+05:30"), Json("2024-02-29T18:45:00Z"));
  EXPECT_EQ(Convert(1184, "infinity"), Json("infinity"));
  EXPECT_TRUE(Fails(1184, "2024-03-01 12:30:00"));
  EXPECT_TRUE(Fails(1114, "yesterday"));
}

// Dates scan with up to nine-digit years, and Postgres itself goes to 294276 AD: a timestamp
// whose microseconds since 1970 pass int64 is refused, not wrapped (the pgoutput fuzz smoke's
// UBSan finding: year 20 million overflowed the multiplication). The last one that fits is exact.
TEST_F(TypeMapTest, TimestampsBeyondInt64MicrosecondsAreRefused) {
  EXPECT_EQ(Convert(1114, "294247-01-10 04:00:54.775807"),
            Json(std::numeric_limits<int64_t>::max()));
  EXPECT_TRUE(Fails(1114, "294247-01-10 04:00:54.775808"));
  EXPECT_TRUE(Fails(1114, "20240000-01-01 00:00:00"));
  EXPECT_TRUE(Fails(1114, "999999999-12-31 24:00:00"));
  EXPECT_TRUE(Fails(1184, "294276-12-31 23:59:59+00"));
  EXPECT_EQ(Convert(1184, "294247-01-10 04:00:54.775807+00"),
            Json("+294247-01-10T04:00:54.775807Z"));
}

TEST_F(TypeMapTest, TimesAndIntervals) {
  EXPECT_EQ(Convert(1083, "01:02:03.5"), Json(3723500000LL));
  EXPECT_EQ(Convert(1083, "01:02:03.5", 3), Json(3723500));
  EXPECT_EQ(Convert(1266, "01:02:03+02"), Json("23:02:03Z"));
  EXPECT_EQ(Convert(1186, "PT1H30M"), Json(5400000000LL));
  EXPECT_EQ(Convert(1186, "P1D"), Json(86400000000LL));
  EXPECT_EQ(Convert(1186, "P1M"), Json(2629800000000LL));
  EXPECT_EQ(Convert(1186, "PT-1.5S"), Json(-1500000));
  EXPECT_TRUE(Fails(1186, "1 day"));
}

// Postgres's interval holds months, days and microseconds apart, so '178956970 years' is a
// value it accepts and prints, but it is ~5.6e21 microseconds. The total saturates at the int64
// limits as Debezium's MicroDuration does, and a sum of parts never wraps (the fuzzer's finding:
// "P...Y...Y" with two huge negative parts overflowed the running total, undefined behaviour).
TEST_F(TypeMapTest, IntervalsBeyondInt64MicrosecondsSaturate) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(Convert(1186, "P178956970Y7M"), Json(kMax));
  EXPECT_EQ(Convert(1186, "P-178956970Y-8M"), Json(kMin));
  EXPECT_EQ(Convert(1186, "P-200000Y-200000Y"), Json(kMin));
  EXPECT_EQ(Convert(1186, "P200000YT2562047788H"), Json(kMax));
  EXPECT_EQ(Convert(1186, "PT2562047788H-2562047788H"), Json(0));
  EXPECT_EQ(Convert(1186, "P1Y466000000000000000000061Y"), Json(kMax));
  // The largest in-range values are still exact.
  EXPECT_EQ(Convert(1186, "PT2562047H"), Json(2562047LL * 3600 * 1000000));
  EXPECT_EQ(Convert(1186, "PT-2562047H"), Json(-2562047LL * 3600 * 1000000));
}

TEST_F(TypeMapTest, ByteaIsBase64) {
  EXPECT_EQ(Convert(17, "\\x"), Json(""));
  EXPECT_EQ(Convert(17, "\\x666f6f"), Json("Zm9v"));
  EXPECT_EQ(Convert(17, "\\x666f6f62"), Json("Zm9vYg=="));
  EXPECT_TRUE(Fails(17, "\\x6"));
  EXPECT_TRUE(Fails(17, "foo"));
}

TEST_F(TypeMapTest, ArraysConvertTheirElements) {
  EXPECT_EQ(Convert(1007, "{1,2,NULL}"), Json::parse("[1,2,null]"));
  EXPECT_EQ(Convert(1007, "{}"), Json::array());
  EXPECT_EQ(Convert(1009, R"({a,"b c","NULL","q\"x",null})"),
            Json::parse(R"(["a","b c","NULL","q\"x",null])"));
  EXPECT_EQ(Convert(1007, "{{1,2},{3,4}}"), Json::parse("[[1,2],[3,4]]"));
  EXPECT_EQ(Convert(1007, "[0:1]={5,6}"), Json::parse("[5,6]"));
  EXPECT_EQ(Convert(1182, "{1970-01-02}"), Json::parse("[1]"));
  EXPECT_TRUE(Fails(1007, "{1,2"));
  EXPECT_TRUE(Fails(1007, "{1,x}"));
  EXPECT_TRUE(Fails(1009, R"({"abc)"));
}

TEST_F(TypeMapTest, RegisteredEnumsAndEnumArraysAreStrings) {
  types_.Add(TypeInfo{70000, "public.mood", ValueKind::kString, 0, true});
  types_.Add(TypeInfo{70001, "public._mood", ValueKind::kArray, 70000, false});
  EXPECT_EQ(Convert(70000, "happy"), Json("happy"));
  EXPECT_EQ(Convert(70001, "{happy,sad}"), Json::parse(R"(["happy","sad"])"));
}

TEST_F(TypeMapTest, UnavailableValueIsShapedForTheColumn) {
  EXPECT_EQ(UnavailableValue(types_, 25), Json("__debezium_unavailable_value"));
  EXPECT_EQ(UnavailableValue(types_, 17), Json(Base64Encode("__debezium_unavailable_value")));
  EXPECT_EQ(UnavailableValue(types_, 1009), Json::parse(R"(["__debezium_unavailable_value"])"));
}

TEST(CivilDates, RoundTripAroundTheEpochAndLeapYears) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);  // not a leap year
  EXPECT_EQ(DaysFromCivil(2000, 3, 1) - DaysFromCivil(2000, 2, 28), 2);  // leap year
}

}  // namespace
}  // namespace rm::cdc::postgres
