#include "replication/provenance.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rm::replication {
namespace {

// A version-1 value as older releases wrote it (small partition and offset).
std::string V1(const std::string& cluster, int partition, int offset) {
  return std::string("\x01") + static_cast<char>(cluster.size()) + cluster +
         static_cast<char>(partition) + static_cast<char>(offset);
}

// Owns a header list built from provenance values, oldest first.
class Headers {
 public:
  explicit Headers(const std::vector<std::string>& values) : h_(rd_kafka_headers_new(4)) {
    Add("app", "x");
    for (const auto& v : values) Add(kProvenanceHeader, v);
  }
  ~Headers() { rd_kafka_headers_destroy(h_); }
  Headers(const Headers&) = delete;
  Headers& operator=(const Headers&) = delete;
  const rd_kafka_headers_t* get() const { return h_; }

 private:
  void Add(const char* name, const std::string& v) {
    rd_kafka_header_add(h_, name, -1, v.data(), static_cast<ssize_t>(v.size()));
  }
  rd_kafka_headers_t* h_;
};

std::string Hop(const std::string& from, const std::string& to, const std::string& topic,
                int64_t offset = 1) {
  return EncodeProvenance({from, to, topic, 0, offset});
}

TEST(Provenance, RoundTripsAndIsCompact) {
  Provenance p{"us-east", "eu-west", "orders", 5, 123456789012};
  std::string bytes = EncodeProvenance(p);
  EXPECT_LE(bytes.size(), 1 + 8 + 8 + 7 + 1 + 6u);
  EXPECT_EQ(DecodeProvenance(bytes), p);
  EXPECT_EQ(DecodeProvenance(EncodeProvenance({"a", "", "", 0, 0})),
            (Provenance{"a", "", "", 0, 0}));
  Provenance big{std::string(255, 'x'), std::string(255, 'y'), std::string(255, 'z'), INT32_MAX,
                 INT64_MAX};
  std::string big_bytes = EncodeProvenance(big);
  EXPECT_LE(big_bytes.size(), kMaxProvenanceSize);
  EXPECT_EQ(DecodeProvenance(big_bytes), big);
}

TEST(Provenance, VersionOneHeadersOfOlderReleasesStillDecode) {
  EXPECT_EQ(DecodeProvenance(V1("us-east", 3, 42)),
            (Provenance{"us-east", "", "", 3, 42, /*version=*/1}));
}

TEST(Provenance, RejectsMalformedBytes) {
  EXPECT_FALSE(DecodeProvenance(""));
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x03\x01"
                                   "a\x00\x00",
                                   5)));  // unknown version
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x01\x09"
                                   "a",
                                   3)));  // alias too short
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x01\x01"
                                   "a\x80",
                                   4)));  // cut varint
  EXPECT_FALSE(
      DecodeProvenance(std::string("\x02\x01"
                                   "a\x00\x00",
                                   5)));  // version 2 without its topic
  std::string trailing = Hop("a", "b", "t") + "x";
  EXPECT_FALSE(DecodeProvenance(trailing));
  // Random garbage never crashes.
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    if (!s.empty()) s[0] = static_cast<char>(1 + rng() % 2);
    (void)DecodeProvenance(s);
  }
}

TEST(Provenance, TheLastHeaderIsTheOneTheCopyingFlowWrote) {
  Headers h({Hop("a", "b", "t", 10), Hop("b", "c", "a.t", 20)});
  EXPECT_EQ(LastProvenance(h.get())->offset, 20);
  Headers garbage_last({Hop("a", "b", "t"), "garbage"});
  EXPECT_FALSE(LastProvenance(garbage_last.get()));
  EXPECT_FALSE(LastProvenance(nullptr));
  Headers none({});
  EXPECT_FALSE(LastProvenance(none.get()));
}

TEST(Provenance, TopicsTheBuiltInPoliciesWouldCopyIntoFit) {
  Provenance hop{"us-east", "eu-west", "orders", 0, 0};
  EXPECT_TRUE(CouldHoldCopy("orders", hop));           // identity
  EXPECT_TRUE(CouldHoldCopy("us-east.orders", hop));   // default
  EXPECT_TRUE(CouldHoldCopy("us-east__orders", hop));  // default, another separator
  EXPECT_FALSE(CouldHoldCopy("orders-enriched", hop));
  EXPECT_FALSE(CouldHoldCopy("us-east.orders-enriched", hop));
  EXPECT_FALSE(CouldHoldCopy("ap-south.orders", hop));
  EXPECT_FALSE(CouldHoldCopy("us-eastorders", hop));  // the default policy needs a separator
}

TEST(Provenance, ACopyComingBackIsStoppedUnderTheIdentityPolicy) {
  // Copied a -> b into "t"; the b -> a flow reads it from b's "t".
  Headers h({Hop("a", "b", "t")});
  EXPECT_TRUE(PassedThrough(h.get(), {"b", "t"}, "a"));
  EXPECT_FALSE(PassedThrough(h.get(), {"b", "t"}, "c"));
  EXPECT_FALSE(PassedThrough(nullptr, {"b", "t"}, "a"));
}

TEST(Provenance, AThreeHopChainIsStoppedAtItsOrigin) {
  // a -> b -> c under the default policy; the c -> a flow reads it from c's "b.a.t".
  Headers h({Hop("a", "b", "t"), Hop("b", "c", "a.t")});
  EXPECT_TRUE(PassedThrough(h.get(), {"c", "b.a.t"}, "a"));
  EXPECT_TRUE(PassedThrough(h.get(), {"c", "b.a.t"}, "b"));
  EXPECT_FALSE(PassedThrough(h.get(), {"c", "b.a.t"}, "d"));
}

TEST(Provenance, HeadersCopiedIntoADerivedTopicAreNotACopy) {
  // An application in b read a copy of a's "t" and wrote "t-enriched" with its headers.
  Headers h({Hop("a", "b", "t")});
  EXPECT_FALSE(PassedThrough(h.get(), {"b", "t-enriched"}, "a"));
  EXPECT_FALSE(PassedThrough(h.get(), {"b", "a.t-enriched"}, "a"));
  // The same record read in another cluster than the header says it was copied to.
  EXPECT_FALSE(PassedThrough(h.get(), {"c", "t"}, "a"));
}

TEST(Provenance, ForeignHeadersBeforeARealHopAreIgnored) {
  // Headers an application copied (naming a), then a real copy b -> c of the derived topic.
  Headers h({Hop("a", "b", "t"), Hop("b", "c", "t-enriched")});
  EXPECT_TRUE(PassedThrough(h.get(), {"c", "b.t-enriched"}, "b"));
  EXPECT_FALSE(PassedThrough(h.get(), {"c", "b.t-enriched"}, "a"));
  // An unreadable header ends the chain too.
  Headers broken({Hop("a", "b", "t"), "garbage", Hop("b", "c", "a.t")});
  EXPECT_TRUE(PassedThrough(broken.get(), {"c", "b.a.t"}, "b"));
  EXPECT_FALSE(PassedThrough(broken.get(), {"c", "b.a.t"}, "a"));
}

TEST(Provenance, VersionOneHeadersKeepTheirOldMeaning) {
  // Written by an older release: any header naming the cluster counts, wherever it is read.
  Headers h({V1("a", 0, 1), "garbage", V1("b", 0, 2)});
  EXPECT_TRUE(PassedThrough(h.get(), {"x", "anything"}, "a"));
  EXPECT_TRUE(PassedThrough(h.get(), {"x", "anything"}, "b"));
  EXPECT_FALSE(PassedThrough(h.get(), {"x", "anything"}, "c"));
  // A version-2 hop after them (copied on by a new release) is checked, then the old ones
  // are trusted as before.
  Headers mixed({V1("a", 0, 1), Hop("b", "c", "a.t")});
  EXPECT_TRUE(PassedThrough(mixed.get(), {"c", "b.a.t"}, "a"));
  EXPECT_FALSE(PassedThrough(mixed.get(), {"c", "derived"}, "a"));
}

}  // namespace
}  // namespace rm::replication
