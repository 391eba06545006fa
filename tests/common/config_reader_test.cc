#include "common/config_reader.h"

#include <gtest/gtest.h>

#include "common/admin_api_config.h"
#include "common/result.h"

namespace rm::common {
namespace {

std::string ErrorOf(const std::vector<std::string>& problems) {
  try {
    ThrowIfProblems(problems);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(YamlFieldReader, UnknownKeyNamesTheKeysKnownThereInTheOrderGiven) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  r.CheckKeys(YAML::Load("{port: 1, prot: 2}"), "admin", {"port", "bind"});
  r.CheckKeys(YAML::Load("{admn: {}}"), "", {"admin"});
  EXPECT_EQ(problems,
            (std::vector<std::string>{"admin.prot: unknown field (known here: port, bind)",
                                      "admn: unknown field (known here: admin)"}));
}

TEST(YamlFieldReader, WrongTypesAndShapesAreNamedWithTheirPath) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  const YAML::Node node = YAML::Load("{on: maybe, n: lots, m: [1], l: x}");
  bool on = false;
  int64_t n = 7;
  r.Get(node, "s", "on", on);
  r.Get(node, "s", "n", n);
  EXPECT_FALSE(r.IsMap(node["m"], "s.m"));
  EXPECT_FALSE(r.IsList(node["l"], "s.l"));
  EXPECT_FALSE(r.IsMap(node["absent"], "s.absent"));
  EXPECT_EQ(n, 7) << "a field that does not parse keeps its default";
  EXPECT_EQ(problems,
            (std::vector<std::string>{"s.on: expected true or false", "s.n: expected an integer",
                                      "s.m: expected a map", "s.l: expected a list"}));
}

TEST(YamlFieldReader, StringListTakesOneStringAndNamesEachBadItem) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  const YAML::Node node = YAML::Load("{one: a, many: [a, [b], c], map: {a: 1}}");
  std::vector<std::string> one, many, map = {"kept"};
  r.GetStringList(node, "f", "one", one);
  r.GetStringList(node, "f", "many", many);
  r.GetStringList(node, "f", "map", map);
  EXPECT_EQ(one, std::vector<std::string>{"a"});
  EXPECT_EQ(many, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(map, std::vector<std::string>{"kept"});
  EXPECT_EQ(problems, (std::vector<std::string>{"f.many[1]: expected a string",
                                                "f.map: expected a list of strings"}));
}

TEST(YamlFieldReader, PropertiesKeepScalarsAndNameTheRest) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  const YAML::Node node = YAML::Load("{p: {linger.ms: 5, acks: [all]}, q: [x]}");
  std::map<std::string, std::string> p, q;
  r.GetProperties(node, "k", "p", p);
  r.GetProperties(node, "k", "q", q);
  EXPECT_EQ(p, (std::map<std::string, std::string>{{"linger.ms", "5"}}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(problems, (std::vector<std::string>{"k.p.acks: expected a scalar value",
                                                "k.q: expected a map of librdkafka properties"}));
}

// Found by the topology loader's fuzz smoke: yaml-cpp threw out of the loader on such a key.
TEST(YamlFieldReader, AListOrMapUsedAsAKeyIsAProblemNotAnException) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  const YAML::Node node = YAML::Load("a: 1\n? [x, y]\n: 2\np:\n  {k: v}: 3\n  ok: 4\n");
  std::map<std::string, std::string> p;
  r.CheckKeys(node, "m", {"a", "p"});
  r.GetProperties(node, "m", "p", p);
  EXPECT_EQ(p, (std::map<std::string, std::string>{{"ok", "4"}}));
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "m: a key at line 2, column 3 is a list, expected a field name",
                          "m.p: a key at line 5, column 3 is a map, expected a field name"}));
}

TEST(ThrowIfProblems, NothingToReportThrowsNothing) { EXPECT_EQ(ErrorOf({}), ""); }

TEST(ThrowIfProblems, OneProblemIsTheWholeMessage) {
  EXPECT_EQ(ErrorOf({"c.yaml: a: bad"}), "c.yaml: a: bad");
}

TEST(ThrowIfProblems, SeveralAreCountedThenListedOneALine) {
  EXPECT_EQ(ErrorOf({"c.yaml: a: bad", "c.yaml: b: worse"}),
            "2 problems in configuration:\n  c.yaml: a: bad\n  c.yaml: b: worse");
}

TEST(ThrowIfProblems, FieldProblemsGetTheSourceAndComeBeforeValidation) {
  try {
    ThrowIfProblems("c.yaml", {"a: bad"}, {{"b", "worse"}});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "2 problems in configuration:\n  c.yaml: a: bad\n  c.yaml: b: worse");
  }
}

TEST(ThrowIfProblems, EachProblemGetsTheLineOfItsFieldOnce) {
  const YAML::Node root = YAML::Load("a: 1\nb:\n  c: 2\n");
  try {
    ThrowIfProblems("c.yaml", {"a: bad"}, {{"b.c", "worse"}, {"b.d", "absent"}, {"", "whole"}},
                    YamlLines(root), {"t.yaml:9: x: located"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    // A field not written gets the line of its nearest enclosing one; no field, no line.
    EXPECT_EQ(std::string(e.what()),
              "5 problems in configuration:\n  c.yaml:1: a: bad\n  t.yaml:9: x: located\n"
              "  c.yaml:3: b.c: worse\n  c.yaml:2: b.d: absent\n  c.yaml: whole");
  }
}

TEST(ConfigProblem, AFieldMessageSplitsAtTheFirstColonSpace) {
  EXPECT_EQ(ConfigProblem::FromFieldMessage("a.b[1]: bad: really"),
            (ConfigProblem{"a.b[1]", "bad: really"}));
  EXPECT_EQ(ConfigProblem::FromFieldMessage("no field"), (ConfigProblem{"", "no field"}));
}

enum class Mode { kOn, kOff };

TEST(YamlFieldReader, GetEnumTakesAWordOrAnAliasAndListsTheWordsOtherwise) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  const YAML::Node node = YAML::Load("a: off\nb: OffMode\nc: maybe\nd: [on]\ne: {x: 1}\nf:\n");
  const std::vector<EnumWord<Mode>> words = {
      {"on", Mode::kOn}, {"off", Mode::kOff}, {"OffMode", Mode::kOff, /*alias=*/true}};
  Mode a = Mode::kOn, b = Mode::kOn, c = Mode::kOn, d = Mode::kOn, e = Mode::kOn, f = Mode::kOn,
       absent = Mode::kOff;
  r.GetEnum(node, "m", "a", words, a);
  r.GetEnum(node, "m", "b", words, b);
  r.GetEnum(node, "m", "c", words, c);
  r.GetEnum(node, "m", "d", words, d);
  r.GetEnum(node, "m", "e", words, e);
  r.GetEnum(node, "m", "f", words, f);
  r.GetEnum(node, "m", "g", words, absent);
  EXPECT_EQ(a, Mode::kOff);
  EXPECT_EQ(b, Mode::kOff);
  EXPECT_EQ(c, Mode::kOn) << "a wrong word keeps the default";
  EXPECT_EQ(absent, Mode::kOff);
  EXPECT_EQ(problems, (std::vector<std::string>{"m.c: must be one of on, off (got \"maybe\")",
                                                "m.d: must be one of on, off (got a list)",
                                                "m.e: must be one of on, off (got a map)",
                                                "m.f: must be one of on, off (got nothing)"}));
  EXPECT_EQ(MustBeOneOf({"earliest", "latest"}, "newest"),
            "must be one of earliest, latest (got \"newest\")");
}

TEST(AdminApiConfig, KeepsTheServicesDefaultPortUnlessTheSectionSetsOne) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  AdminApiConfig absent{.port = 9701};
  absent.Read(r, YAML::Load("other: 1")["admin"], "admin");
  EXPECT_EQ(absent.bind, "127.0.0.1");
  EXPECT_EQ(absent.port, 9701);
  AdminApiConfig given{.port = 9701};
  given.Read(r, YAML::Load("admin: {bind: 0.0.0.0, port: 0}")["admin"], "admin");
  EXPECT_EQ(given.bind, "0.0.0.0");
  EXPECT_EQ(given.port, 0);
  EXPECT_TRUE(problems.empty());
  EXPECT_TRUE(given.Validate("admin").empty());
}

TEST(AdminApiConfig, NamesUnknownKeysWrongTypesAndValuesOutOfRange) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  AdminApiConfig a{.port = 9700};
  a.Read(r, YAML::Load("admin: {bind: '', port: x, prot: 1}")["admin"], "admin");
  EXPECT_EQ(problems,
            (std::vector<std::string>{"admin.prot: unknown field (known here: bind, port)",
                                      "admin.port: expected an integer"}));
  a.port = 70000;
  EXPECT_EQ(a.Validate("admin"),
            (std::vector<ConfigProblem>{
                {"admin.bind", "must not be empty"},
                {"admin.port", "70000 is not -1 (off), 0 (any free port) or a port up to 65535"}}));
}

}  // namespace
}  // namespace rm::common
