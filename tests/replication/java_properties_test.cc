// java.util.Properties#load rules, case by case from the Java documentation.
#include "replication/java_properties.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace rm::replication {
namespace {

using Props = std::map<std::string, std::string>;

TEST(JavaProperties, EqualsColonAndWhitespaceAllSeparateKeyFromValue) {
  EXPECT_EQ(ParseJavaProperties("a=1\nb:2\nc 3\nd\t4\ne\f5\nf = 6\ng : 7\nh   =   8\n"),
            (Props{{"a", "1"},
                   {"b", "2"},
                   {"c", "3"},
                   {"d", "4"},
                   {"e", "5"},
                   {"f", "6"},
                   {"g", "7"},
                   {"h", "8"}}));
}

TEST(JavaProperties, OnlyTheFirstSeparatorIsConsumedAndTheRestBelongsToTheValue) {
  Props p = ParseJavaProperties("a==b\nc = = d\ne:f:g\nurl=http://h:1/x?y=z\nk v w\n");
  EXPECT_EQ(p.at("a"), "=b");
  EXPECT_EQ(p.at("c"), "= d");
  EXPECT_EQ(p.at("e"), "f:g");
  EXPECT_EQ(p.at("url"), "http://h:1/x?y=z");
  EXPECT_EQ(p.at("k"), "v w");
}

TEST(JavaProperties, KeyAloneOrWithEmptyValueMapsToTheEmptyString) {
  EXPECT_EQ(ParseJavaProperties("alone\nempty=\ncolon:\nspaced =   \n"),
            (Props{{"alone", ""}, {"empty", ""}, {"colon", ""}, {"spaced", ""}}));
}

TEST(JavaProperties, LeadingWhitespaceIsSkippedAndTrailingWhitespaceOfValuesIsKept) {
  Props p = ParseJavaProperties("   \t\fa = x y  \n");
  EXPECT_EQ(p.at("a"), "x y  ");
}

TEST(JavaProperties, HashAndBangStartCommentsOnlyAsFirstNonWhitespaceCharacter) {
  Props p = ParseJavaProperties("# c1\n! c2\n   # c3\n\t! c4\na = x # not a comment\nb=!y\n");
  EXPECT_EQ(p, (Props{{"a", "x # not a comment"}, {"b", "!y"}}));
}

TEST(JavaProperties, BlankLinesAreSkipped) {
  EXPECT_EQ(ParseJavaProperties("\n  \n\t\f\na=1\n\n"), (Props{{"a", "1"}}));
}

TEST(JavaProperties, OddTrailingBackslashesContinueTheLineAndDropTheNextLinesIndent) {
  Props p = ParseJavaProperties(
      "fruits apple, banana, \\\n      pear, \\\n\t   cantaloupe\n"
      "even = x\\\\\nodd = y\\\\\\\n   z\n");
  EXPECT_EQ(p.at("fruits"), "apple, banana, pear, cantaloupe");
  EXPECT_EQ(p.at("even"), "x\\");
  EXPECT_EQ(p.at("odd"), "y\\z");
  EXPECT_EQ(p.size(), 3u);
}

TEST(JavaProperties, ContinuationLinesAreNeverCommentsAndCommentsNeverContinue) {
  Props p = ParseJavaProperties("a = 1 \\\n  # still a\n# comment \\\nb = 2\n");
  EXPECT_EQ(p.at("a"), "1 # still a");
  EXPECT_EQ(p.at("b"), "2");
  EXPECT_EQ(p.size(), 2u);
}

TEST(JavaProperties, AnEmptyContinuationLineEndsTheLogicalLine) {
  Props p = ParseJavaProperties("a = 1\\\n\nb = 2\n");
  EXPECT_EQ(p, (Props{{"a", "1"}, {"b", "2"}}));
}

TEST(JavaProperties, ContinuationAtTheEndOfInputEndsTheLastLine) {
  EXPECT_EQ(ParseJavaProperties("a = 1\\"), (Props{{"a", "1"}}));
  EXPECT_EQ(ParseJavaProperties("a = 1\\\n   "), (Props{{"a", "1"}}));
}

TEST(JavaProperties, CrLfAndLoneCrAlsoEndLines) {
  EXPECT_EQ(ParseJavaProperties("a=1\r\nb=2\rc=3\r\nd=4 \\\r\n  5"),
            (Props{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4 5"}}));
}

TEST(JavaProperties, EscapedSeparatorsAndWhitespaceStayInTheKey) {
  Props p = ParseJavaProperties("a\\=b = 1\nc\\:d:2\nkey\\ with\\ spaces = 3\n\\#not-comment=4\n");
  EXPECT_EQ(p.at("a=b"), "1");
  EXPECT_EQ(p.at("c:d"), "2");
  EXPECT_EQ(p.at("key with spaces"), "3");
  EXPECT_EQ(p.at("#not-comment"), "4");
}

TEST(JavaProperties, CharacterEscapesAreDecodedAndOtherBackslashesDropped) {
  Props p = ParseJavaProperties(
      "tabs = a\\tb\\nc\\rd\\fe\nplain = \\q\\z\\\\\nsep = x\\=y\\:z\nlead = \\  v\n");
  EXPECT_EQ(p.at("tabs"), "a\tb\nc\rd\fe");
  EXPECT_EQ(p.at("plain"), "qz\\");
  EXPECT_EQ(p.at("sep"), "x=y:z");
  EXPECT_EQ(p.at("lead"), "  v");
}

TEST(JavaProperties, UnicodeEscapesBecomeUtf8IncludingSurrogatePairs) {
  Props p = ParseJavaProperties(
      "a = \\u0041\nb = \\u00e9\nc = \\u20AC\nd = \\uD83D\\uDE00\ne = \\uD800x\nk\\u0020ey = 1\n");
  EXPECT_EQ(p.at("a"), "A");
  EXPECT_EQ(p.at("b"), "\xc3\xa9");
  EXPECT_EQ(p.at("c"), "\xe2\x82\xac");
  EXPECT_EQ(p.at("d"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(p.at("e"), "\xef\xbf\xbdx");  // lone surrogate: replacement character
  EXPECT_EQ(p.at("k ey"), "1");
}

TEST(JavaProperties, MalformedUnicodeEscapeIsAnErrorNamingFileAndLine) {
  for (const char* text : {"ok=1\n\nbad = \\u12G4\n", "ok=1\n\nbad = \\u12"}) {
    try {
      ParseJavaProperties(text, "mm2.properties");
      FAIL() << text;
    } catch (const common::ConfigError& e) {
      EXPECT_STREQ(e.what(), "mm2.properties: line 3: malformed \\uXXXX escape");
    }
  }
}

TEST(JavaProperties, NonAsciiBytesPassThroughUnchanged) {
  EXPECT_EQ(ParseJavaProperties("pw = p\xc3\xa4ss\n").at("pw"), "p\xc3\xa4ss");
}

TEST(JavaProperties, TheLastOfRepeatedKeysWins) {
  EXPECT_EQ(ParseJavaProperties("a=1\na=2\n").at("a"), "2");
}

}  // namespace
}  // namespace rm::replication
