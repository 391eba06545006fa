// `regionmirror topology validate | plan | resolve` run as a process: output and exit codes
// (0 ok, 1 problems found, 2 usage). Needs no Kafka.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

using rm::testing::CommandResult;
using ::testing::HasSubstr;

CommandResult Regionmirror(std::vector<std::string> args) {
  args.insert(args.begin(), rm::testing::RegionmirrorPath());
  return rm::testing::RunCommand(args, std::chrono::seconds(60));
}

const std::string kFile = testing::ThreeRegionsFile().string();

TEST(TopologyCli, ValidateSaysOkForAValidFile) {
  auto r = Regionmirror({"topology", "validate", kFile});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ok (3 regions, 3 links, 4 topic rules, 2 groups)"));
}

TEST(TopologyCli, ValidateListsEveryProblemAndExitsOne) {
  rm::testing::TempDir dir;
  auto file = (dir / "bad.yaml").string();
  rm::testing::WriteFile(file, testing::TwoRegions() + R"(
topics:
  - topic: orders
    home: mars
  - pattern: 'pii\..*'
    home: eu-west
    replicate_to: ["*"]
    allowed_regions: [eu-*]
)");
  auto r = Regionmirror({"topology", "validate", file});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file + ":18: topics[0].home: unknown region 'mars'"));
  EXPECT_THAT(r.output, HasSubstr(file + ":21: topics[1].replicate_to[0]: '*' reaches us-east"));
  EXPECT_THAT(r.output, HasSubstr("2 problems"));
  auto j = Regionmirror({"topology", "validate", file, "--json"});
  EXPECT_EQ(j.exit_code, 1);
  auto parsed = nlohmann::json::parse(j.output);
  EXPECT_FALSE(parsed["ok"].get<bool>());
  EXPECT_EQ(parsed["problems"].size(), 2u);
  EXPECT_EQ(parsed["problems"][0]["line"], 18);
}

TEST(TopologyCli, PlanPrintsTheGoldenPlan) {
  auto r = Regionmirror({"topology", "plan", kFile});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, rm::testing::ReadFile(rm::testing::SourceDir() /
                                            "tests/topology/testdata/three_regions.plan.txt"));
}

TEST(TopologyCli, PlanForAPairInJson) {
  auto r = Regionmirror({"topology", "plan", kFile, "--pair", "us-east:eu-central", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["scope"], "pair us-east:eu-central");
  ASSERT_EQ(j["flows"].size(), 2u);
  EXPECT_EQ(j["flows"][0]["name"], "eu-central->us-east");
  EXPECT_EQ(j["flows"][1]["name"], "us-east->eu-central");
  EXPECT_EQ(j["flows"][1]["topics"], nlohmann::json::array({"orders"}));
}

TEST(TopologyCli, PlanRefusesBadScopesAsUsageErrors) {
  EXPECT_EQ(Regionmirror({"topology", "plan", kFile, "--pair", "us-east"}).exit_code, 2);
  EXPECT_EQ(Regionmirror({"topology", "plan", kFile, "--region", "mars"}).exit_code, 2);
  EXPECT_EQ(
      Regionmirror({"topology", "plan", kFile, "--region", "eu-west", "--pair", "a:b"}).exit_code,
      2);
  EXPECT_EQ(Regionmirror({"topology", "plan"}).exit_code, 2);
  EXPECT_EQ(Regionmirror({"topology", "plan", kFile, "--bogus"}).exit_code, 2);
}

TEST(TopologyCli, ResolveListsCandidatesBestFirst) {
  auto r = Regionmirror({"topology", "resolve", kFile, "--topic", "orders", "--region",
                         "eu-central", "--zone", "euc1-az1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["candidates"].size(), 3u);
  EXPECT_EQ(j["candidates"][0]["region"], "eu-central");
  EXPECT_EQ(j["candidates"][0]["topic"], "us-east.orders");
  EXPECT_EQ(j["candidates"][0]["bootstrap_servers"], "kafka.eu-central:9092");
  EXPECT_EQ(j["candidates"][0]["client_rack"], "euc1-az1");
  EXPECT_EQ(j["candidates"][1]["region"], "eu-west");
  EXPECT_EQ(j["candidates"][2]["region"], "us-east");
  auto text =
      Regionmirror({"topology", "resolve", kFile, "--topic", "audit.x", "--region", "us-east"});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("1. eu-central cluster eu-central [kafka.eu-central:9092] "
                                     "topic audit.x - home region, rtt 95 ms (read: home_only)"));
}

TEST(TopologyCli, ResolveExitCodes) {
  EXPECT_EQ(Regionmirror({"topology", "resolve", kFile, "--region", "us-east"}).exit_code, 2);
  EXPECT_EQ(
      Regionmirror({"topology", "resolve", kFile, "--topic", "x", "--region", "mars"}).exit_code,
      2);
  rm::testing::TempDir dir;
  auto file = (dir / "t.yaml").string();
  rm::testing::WriteFile(file,
                         testing::TwoRegions() + "topics:\n  - topic: a\n    home: us-east\n");
  auto r = Regionmirror({"topology", "resolve", file, "--topic", "b", "--region", "us-east"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("no topic rule matches 'b'"));
  // An invalid file is a problem found, not a usage error.
  rm::testing::WriteFile(file, testing::TwoRegions() + "topics:\n  - topic: a\n    home: mars\n");
  auto bad = Regionmirror({"topology", "resolve", file, "--topic", "a", "--region", "us-east"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("unknown region 'mars'"));
}

}  // namespace
}  // namespace rm::topology
