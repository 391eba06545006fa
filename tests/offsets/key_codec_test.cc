// The RocksDB key and value layouts: unambiguous names, big-endian order, strict decoding.
#include "offsets/detail/key_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace rm::offsets::detail {
namespace {

using common::SourceOffset;
using common::TargetOffset;

TEST(KeyCodec, RunKeyIsLengthPrefixedBigEndian) {
  const auto key = RunKey(PartitionPrefix({"fl", "t", 258}), SourceOffset(0x0102030405060708));
  EXPECT_EQ(key, std::string("\x00\x02"
                             "fl"
                             "\x00\x01"
                             "t"
                             "\x00\x00\x01\x02"
                             "\x01\x02\x03\x04\x05\x06\x07\x08",
                             2 + 2 + 2 + 1 + 4 + 8));
}

TEST(KeyCodec, RunKeyRoundTrips) {
  PartitionKey p;
  SourceOffset start;
  const PartitionKey in{std::string("a\0b", 3), "", 7};
  ASSERT_TRUE(DecodeRunKey(RunKey(PartitionPrefix(in), SourceOffset(99)), &p, &start));
  EXPECT_EQ(p, in);
  EXPECT_EQ(start, SourceOffset(99));
}

TEST(KeyCodec, PrefixesOfDifferentPartitionsAreNeverPrefixesOfEachOther) {
  const std::vector<PartitionKey> keys = {
      {"f", "a", 0},
      {"f", std::string("a\0b", 3), 0},
      {"f", std::string("a\0", 2), 0},
      {"f", "ab", 0},
      {std::string("f\0a", 3), "", 0},
      {"fa", "", 0},
      {"", "fa", 0},
      {"f", "a", 1},
      {"f", "a", 256},
  };
  for (const auto& a : keys) {
    for (const auto& b : keys) {
      if (a == b) continue;
      const auto pa = PartitionPrefix(a);
      const auto key_b = RunKey(PartitionPrefix(b), SourceOffset(0x7f00));
      EXPECT_FALSE(key_b.starts_with(pa)) << a.topic << " vs " << b.topic;
    }
  }
}

TEST(KeyCodec, ByteOrderOfRunKeysIsNumericOrderOfOffsets) {
  std::mt19937_64 rng(7);
  const auto prefix = PartitionPrefix({"flow", "topic", 3});
  std::set<std::string> encoded;
  std::set<int64_t> numbers;
  for (int i = 0; i < 10000; ++i) {
    const int64_t v = static_cast<int64_t>(rng() >> (1 + rng() % 63));
    numbers.insert(v);
    encoded.insert(RunKey(prefix, SourceOffset(v)));
  }
  auto n = numbers.begin();
  for (const auto& key : encoded) {
    PartitionKey p;
    SourceOffset s;
    ASSERT_TRUE(DecodeRunKey(key, &p, &s));
    ASSERT_EQ(s.value(), *n++);
  }
}

TEST(KeyCodec, RunValueRoundTripsAndRejectsGarbage) {
  TargetOffset t;
  int64_t count = 0;
  const auto value = RunValue(TargetOffset(123456789), 1000);
  EXPECT_EQ(value.size(), 8u + 2u);  // 1000 takes two varint bytes
  ASSERT_TRUE(DecodeRunValue(value, &t, &count));
  EXPECT_EQ(t, TargetOffset(123456789));
  EXPECT_EQ(count, 1000);

  EXPECT_FALSE(DecodeRunValue("", &t, &count));
  EXPECT_FALSE(DecodeRunValue(value.substr(0, 9), &t, &count));            // truncated varint
  EXPECT_FALSE(DecodeRunValue(value + "x", &t, &count));                   // trailing byte
  EXPECT_FALSE(DecodeRunValue(RunValue(TargetOffset(5), 0), &t, &count));  // empty run
  EXPECT_FALSE(DecodeRunValue(std::string(8, '\x00') + std::string(11, '\x80'), &t, &count));
}

TEST(KeyCodec, DecodeRunKeyRejectsMalformedKeys) {
  PartitionKey p;
  SourceOffset s;
  const auto good = RunKey(PartitionPrefix({"f", "t", 0}), SourceOffset(1));
  EXPECT_FALSE(DecodeRunKey("", &p, &s));
  EXPECT_FALSE(DecodeRunKey(good.substr(0, good.size() - 1), &p, &s));
  EXPECT_FALSE(DecodeRunKey(good + "x", &p, &s));
  EXPECT_FALSE(DecodeRunKey(std::string("\xff\xff", 2), &p, &s));
  // Negative partition or offset (top bit set) never comes from our writer.
  auto negative = PartitionPrefix({"f", "t", 0});
  negative[negative.size() - 4] = '\x80';
  EXPECT_FALSE(DecodeRunKey(RunKey(negative, SourceOffset(1)), &p, &s));
}

TEST(KeyCodec, PrefixSuccessorBoundsEveryKeyWithThePrefix) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
}

TEST(KeyCodec, ValidatePartitionKeyRejectsNegativePartitionAndLongNames) {
  EXPECT_TRUE(ValidatePartitionKey({"f", "t", 0}).ok());
  EXPECT_FALSE(ValidatePartitionKey({"f", "t", -1}).ok());
  EXPECT_FALSE(ValidatePartitionKey({"f", std::string(70000, 'x'), 0}).ok());
}

}  // namespace
}  // namespace rm::offsets::detail
