// Flow planning on the three-region example: golden output, scopes, exact topic sets.
#include "topology/planner.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>

#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

class PlannerTest : public ::testing::Test {
 protected:
  PlannerTest() : topo_(Topology::Load(testing::ThreeRegionsFile().string())) {}

  Plan PlanFor(const PlanScope& scope) {
    auto plan = MakePlan(*topo_, scope);
    EXPECT_TRUE(plan.ok()) << plan.error().message;
    return plan.ok() ? *plan : Plan{};
  }

  // Whether the flow `name` copies `topic`, as the mirror would decide from its allow and deny
  // lists (full match).
  static bool Copies(const Plan& plan, const std::string& name, const std::string& topic) {
    for (const auto& f : plan.flows) {
      if (f.name() != name) continue;
      auto any = [&topic](const std::vector<std::string>& res) {
        for (const auto& re : res) {
          if (std::regex_match(topic, std::regex(re))) return true;
        }
        return false;
      };
      return any(f.topics) && !any(f.topics_exclude);
    }
    return false;
  }

  std::shared_ptr<const Topology> topo_;
};

std::vector<std::string> Names(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& f : plan.flows) out.push_back(f.name());
  return out;
}

TEST_F(PlannerTest, MatchesTheGoldenPlan) {
  // To update after an intended change: regionmirror topology plan <yaml> > <golden>, and review
  // the diff.
  std::string golden = rm::testing::ReadFile(rm::testing::SourceDir() /
                                             "tests/topology/testdata/three_regions.plan.txt");
  EXPECT_EQ(PlanText(PlanFor({})), golden);
}

TEST_F(PlannerTest, IsDeterministic) {
  EXPECT_EQ(ToJson(PlanFor({})).dump(), ToJson(PlanFor({})).dump());
  auto again = Topology::Load(testing::ThreeRegionsFile().string());
  EXPECT_EQ(ToJson(*MakePlan(*again, {})).dump(), ToJson(PlanFor({})).dump());
}

TEST_F(PlannerTest, PlansEveryFlowIntoARegion) {
  EXPECT_EQ(Names(PlanFor({"eu-central", {}})),
            (std::vector<std::string>{"eu-west->eu-central", "us-east->eu-central"}));
}

TEST_F(PlannerTest, PlansBothDirectionsOfAPair) {
  EXPECT_EQ(Names(PlanFor({"", {"us-east", "eu-central"}})),
            (std::vector<std::string>{"eu-central->us-east", "us-east->eu-central"}));
}

TEST_F(PlannerTest, RefusesUnknownRegionsAndBadPairs) {
  auto unknown = MakePlan(*topo_, {"mars", {}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "topology.unknown_region");
  auto same = MakePlan(*topo_, {"", {"us-east", "us-east"}});
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code, "topology.bad_scope");
}

TEST_F(PlannerTest, SendsEachTopicOnlyWhereItsWinningRuleSends) {
  Plan plan = PlanFor({});
  // orders (literal rule) goes everywhere from us-east.
  EXPECT_TRUE(Copies(plan, "us-east->eu-west", "orders"));
  EXPECT_TRUE(Copies(plan, "us-east->eu-central", "orders"));
  // clicks falls to '.*': eu-west only.
  EXPECT_TRUE(Copies(plan, "us-east->eu-west", "clicks"));
  EXPECT_FALSE(Copies(plan, "us-east->eu-central", "clicks"));
  // pii.* and audit.* outrank '.*': the us-east flow never takes them, even if written there.
  EXPECT_FALSE(Copies(plan, "us-east->eu-west", "pii.users"));
  EXPECT_FALSE(Copies(plan, "us-east->eu-west", "audit.logins"));
  EXPECT_TRUE(Copies(plan, "eu-west->eu-central", "pii.users"));
  EXPECT_TRUE(Copies(plan, "eu-central->us-east", "audit.logins"));
  // Copies held in a source are never copied onward.
  EXPECT_FALSE(Copies(plan, "eu-west->eu-central", "us-east.orders"));
}

TEST_F(PlannerTest, GivesRemoteNamesAndTheGroupsThatMayRunInTheTarget) {
  Plan plan = PlanFor({"", {"us-east", "eu-west"}});
  ASSERT_EQ(plan.flows.size(), 1u);
  const PlannedFlow& f = plan.flows[0];
  EXPECT_EQ(f.source, "us-east");
  EXPECT_EQ(f.target, "eu-west");
  ASSERT_EQ(f.carried.size(), 2u);
  EXPECT_EQ(f.carried[0].remote_name, "us-east.{topic}");
  // pii-readers may run in eu-west but read pii.users, which this flow never carries.
  EXPECT_EQ(f.groups, (std::vector<std::string>{"oncall-tools"}));
  Plan into_central = PlanFor({"eu-central", {}});
  ASSERT_EQ(into_central.flows.size(), 2u);
  EXPECT_EQ(into_central.flows[0].groups, (std::vector<std::string>{"pii-readers-.*"}));
  EXPECT_EQ(into_central.flows[1].groups, std::vector<std::string>{});
}

TEST_F(PlannerTest, KeepsNamesUnderTheIdentityPolicy) {
  auto topo = testing::BuildFrom(testing::TwoRegions() + R"(
replication_policy: identity
topics:
  - pattern: '.*'
    home: us-east
    replicate_to: [eu-west]
)");
  auto plan = MakePlan(*topo, {});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->flows.size(), 1u);
  EXPECT_EQ(plan->flows[0].carried[0].remote_name, "{topic}");
  EXPECT_TRUE(plan->flows[0].topics_exclude.empty());
  EXPECT_FALSE(plan->flows[0].groups.has_value());
}

TEST_F(PlannerTest, TablesResidencyForEveryRuleAndRegion) {
  Plan plan = PlanFor({"eu-west", {}});
  ASSERT_EQ(plan.residency.size(), 4u);
  // Highest ranked first: orders, audit\..*, pii\..*, .*
  const ResidencyRow& pii = plan.residency[2];
  EXPECT_EQ(pii.description, "topics[1] (pattern 'pii\\..*', line 33)");
  ASSERT_EQ(pii.cells.size(), 3u);
  EXPECT_EQ(pii.cells[0].region, "us-east");
  EXPECT_EQ(pii.cells[0].state, "forbidden");
  EXPECT_EQ(pii.cells[0].because, "allowed_regions [eu-*]");
  EXPECT_EQ(pii.cells[1].state, "home");
  EXPECT_EQ(pii.cells[2].state, "copy");
  EXPECT_EQ(pii.cells[2].because, "replicate_to [eu-*]");
  const ResidencyRow& audit = plan.residency[1];
  EXPECT_EQ(audit.cells[1].state, "allowed");
}

// For random rule sets over a small alphabet, every name is carried by exactly the flows its
// winning rule implies: from each home to each region given a copy, nowhere else.
TEST(PlannerProperty, CarriesEveryNameExactlyWhereItsWinningRuleSendsIt) {
  const std::vector<std::string> regions = {"r0", "r1", "r2"};
  const std::vector<std::string> patterns = {"a.*", "ab.*", "a[bc].*", "b.*", ".*",
                                             "abc", "ba",   "a",       "c+",  "(a|b)c.*"};
  const std::vector<std::string> names = {"a", "ab", "abc", "ac", "b", "ba", "bc", "c", "cc", "x"};
  std::mt19937 rng(13);
  int checked = 0;
  for (int round = 0; round < 200; ++round) {
    std::string yaml = "regions:\n";
    for (const auto& r : regions) {
      yaml += "  - name: " + r + "\n    clusters:\n      - alias: " + r +
              "\n        bootstrap_servers: " + r + ":9092\n";
    }
    yaml += "topics:\n";
    std::set<std::string> used;
    for (int i = 0; i < 4; ++i) {
      std::string p = patterns[rng() % patterns.size()];
      if (!used.insert(p).second) continue;
      bool literal = p.find_first_of(".[(+*") == std::string::npos;
      yaml += std::string("  - ") + (literal ? "topic: " : "pattern: ") + "'" + p + "'\n";
      yaml += "    priority: " + std::to_string(rng() % 3) + "\n";
      yaml += "    home: " + regions[rng() % 3] + "\n";
      yaml += "    replicate_to: [" + regions[rng() % 3] + ", " + regions[rng() % 3] + "]\n";
    }
    LoadedTopology loaded = ParseTopologyYaml(yaml, "p.yaml");
    if (!loaded.problems.empty() || !Validate(loaded.config).empty()) continue;  // ambiguous
    auto topo = Topology::Build(std::move(loaded));
    auto plan = MakePlan(*topo, {});
    ASSERT_TRUE(plan.ok());
    for (const auto& name : names) {
      std::set<std::string> expected;
      if (auto rule = topo->rules().Match(name)) {
        const auto& p = topo->placement(*rule);
        for (size_t x = 0; x < 3; ++x) {
          for (size_t y = 0; y < 3; ++y) {
            if (x != y && p.home[x] && p.copy[y]) expected.insert(regions[x] + "->" + regions[y]);
          }
        }
      }
      std::set<std::string> actual;
      for (const auto& f : plan->flows) {
        bool in = false;
        for (const auto& re : f.topics) in = in || std::regex_match(name, std::regex(re));
        if (in) actual.insert(f.name());
      }
      EXPECT_EQ(actual, expected) << "name " << name << " in\n" << yaml;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace rm::topology
