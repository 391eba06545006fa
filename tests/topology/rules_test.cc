// Precedence between overlapping topic rules (config.h TopicRule) and literal prefixes.
#include "topology/rules.h"

#include <gtest/gtest.h>

#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

TopicRule Literal(const std::string& name) {
  TopicRule r;
  r.topic = name;
  return r;
}

TopicRule Pattern(const std::string& re, int priority = 0) {
  TopicRule r;
  r.pattern = re;
  r.priority = priority;
  return r;
}

TEST(LiteralPrefix, StopsAtTheFirstCharacterNotInEveryMatch) {
  EXPECT_EQ(LiteralPrefix("pii\\.users\\..*"), "pii.users.");
  EXPECT_EQ(LiteralPrefix("logs-[0-9]+"), "logs-");
  EXPECT_EQ(LiteralPrefix(".*"), "");
  EXPECT_EQ(LiteralPrefix("ab?c"), "a");
  EXPECT_EQ(LiteralPrefix("ab*"), "a");
  EXPECT_EQ(LiteralPrefix("ab{0,2}"), "a");
  EXPECT_EQ(LiteralPrefix("ab+c"), "ab");
  EXPECT_EQ(LiteralPrefix("a|b"), "");
  EXPECT_EQ(LiteralPrefix("orders(-eu|-us)"), "orders");
  EXPECT_EQ(LiteralPrefix("^orders\\d"), "orders");
  EXPECT_EQ(LiteralPrefix("orders.v1"), "orders");
}

TEST(EscapeRegex, MatchesExactlyTheName) {
  std::regex re(EscapeRegex("orders.v1+(x)"));
  EXPECT_TRUE(std::regex_match("orders.v1+(x)", re));
  EXPECT_FALSE(std::regex_match("ordersXv1+(x)", re));
}

TEST(TopicRuleSet, LiteralRuleBeatsAnyPattern) {
  TopicRuleSet rules({Pattern("orders.*", 100), Literal("orders")});
  EXPECT_EQ(rules.Match("orders"), 1u);
  EXPECT_EQ(rules.Match("orders-eu"), 0u);
}

TEST(TopicRuleSet, HigherPriorityBeatsLongerPrefix) {
  TopicRuleSet rules({Pattern("logs-eu-.*"), Pattern("logs-.*", 1)});
  EXPECT_EQ(rules.Match("logs-eu-1"), 1u);
}

TEST(TopicRuleSet, LongerLiteralPrefixWinsAtEqualPriority) {
  TopicRuleSet rules({Pattern(".*"), Pattern("pii\\..*"), Pattern("pii\\.users\\..*")});
  EXPECT_EQ(rules.Match("pii.users.emails"), 2u);
  EXPECT_EQ(rules.Match("pii.cards"), 1u);
  EXPECT_EQ(rules.Match("clicks"), 0u);
}

TEST(TopicRuleSet, FileOrderNeverDecides) {
  TopicRuleSet forward({Pattern("a.*"), Pattern("ab.*")});
  TopicRuleSet backward({Pattern("ab.*"), Pattern("a.*")});
  EXPECT_EQ(forward.Match("abc"), 1u);
  EXPECT_EQ(backward.Match("abc"), 0u);
}

TEST(TopicRuleSet, MatchesNothingWithoutARule) {
  TopicRuleSet rules({Literal("orders"), Pattern("pii\\..*")});
  EXPECT_FALSE(rules.Match("clicks").has_value());
  EXPECT_FALSE(rules.Match("pii").has_value());
}

TEST(TopicRuleSet, FindsEqualRankedRulesThatBothMatchAName) {
  TopicRuleSet rules({Pattern("logs-.*"), Pattern("logs-[a-z]+"), Pattern("metrics-.*")});
  auto amb = rules.FindAmbiguities({});
  ASSERT_EQ(amb.size(), 1u);
  EXPECT_EQ(amb[0].first, 0u);
  EXPECT_EQ(amb[0].second, 1u);
  EXPECT_EQ(amb[0].example, "logs-x");
}

TEST(TopicRuleSet, UsesNamesFromTheFileAsExamples) {
  TopicRuleSet rules({Pattern("a[0-9]{3}"), Pattern("a.*9")});
  auto amb = rules.FindAmbiguities({"a129"});
  ASSERT_EQ(amb.size(), 1u);
  EXPECT_EQ(amb[0].example, "a129");
}

TEST(TopicRuleSet, CallsPatternsWithTheSamePrefixAmbiguousEvenWithoutAnExample) {
  // Disjoint in fact, but not provably so from their prefixes: the file must order them.
  TopicRuleSet rules({Pattern("x-[0-9]{5}"), Pattern("x-[a-z]{5}")});
  auto amb = rules.FindAmbiguities({});
  ASSERT_EQ(amb.size(), 1u);
  EXPECT_EQ(amb[0].example, "");
}

TEST(TopicRuleSet, SeesNoAmbiguityBetweenDifferentPrefixesOfEqualLength) {
  TopicRuleSet rules({Pattern("aa.*"), Pattern("ab.*"), Literal("x"), Literal("y")});
  EXPECT_TRUE(rules.FindAmbiguities({}).empty());
}

TEST(TopicRuleSet, DecidesOverlapExactlyForLiterals) {
  TopicRuleSet rules({Literal("orders"), Pattern("ord.*"), Pattern("pay.*"), Pattern("o.*")});
  EXPECT_TRUE(rules.CouldOverlap(0, 1));
  EXPECT_FALSE(rules.CouldOverlap(0, 2));
  EXPECT_FALSE(rules.CouldOverlap(1, 2));
  EXPECT_TRUE(rules.CouldOverlap(1, 3));
}

}  // namespace
}  // namespace rm::topology
