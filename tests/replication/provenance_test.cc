#include "replication/provenance.h"

#include <gtest/gtest.h>

#include <random>

namespace rm::replication {
namespace {

TEST(Provenance, RoundTripsAndIsCompact) {
  Provenance p{"us-east", 5, 123456789012};
  std::string bytes = EncodeProvenance(p);
  EXPECT_LE(bytes.size(), 2 + 7 + 1 + 6u);
  EXPECT_EQ(DecodeProvenance(bytes), p);
  EXPECT_EQ(DecodeProvenance(EncodeProvenance({"a", 0, 0})), (Provenance{"a", 0, 0}));
  Provenance big{"x", INT32_MAX, INT64_MAX};
  EXPECT_EQ(DecodeProvenance(EncodeProvenance(big)), big);
}

TEST(Provenance, RejectsMalformedBytes) {
  EXPECT_FALSE(DecodeProvenance(""));
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x02\x01"
                                   "a\x00\x00",
                                   5)));  // version 2
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x01\x09"
                                   "a",
                                   3)));  // alias too short
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x01\x01"
                                   "a\x80",
                                   4)));  // cut varint
  std::string trailing = EncodeProvenance({"a", 1, 2}) + "x";
  EXPECT_FALSE(DecodeProvenance(trailing));
  // Random garbage never crashes.
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    (void)DecodeProvenance(s);
  }
}

TEST(Provenance, FindsTheLastHeaderOfTheCluster) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(4);
  auto add = [h](const std::string& name, const std::string& v) {
    rd_kafka_header_add(h, name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
  };
  add("app", "x");
  add(kProvenanceHeader, EncodeProvenance({"a", 1, 10}));
  add(kProvenanceHeader, EncodeProvenance({"b", 1, 20}));
  add(kProvenanceHeader, EncodeProvenance({"a", 1, 30}));
  add(kProvenanceHeader, "garbage");
  EXPECT_EQ(FindProvenance(h, "a")->offset, 30);
  EXPECT_EQ(FindProvenance(h, "b")->offset, 20);
  EXPECT_FALSE(FindProvenance(h, "c"));
  EXPECT_TRUE(PassedThrough(h, "b"));
  EXPECT_FALSE(PassedThrough(h, "c"));
  EXPECT_FALSE(PassedThrough(nullptr, "a"));
  rd_kafka_headers_destroy(h);
}

}  // namespace
}  // namespace rm::replication
