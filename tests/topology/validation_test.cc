// Loading and validating topology files: every problem at once, each with file, line, field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/result.h"
#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

using ::testing::HasSubstr;
using testing::Joined;
using testing::ProblemsOf;
using testing::TwoRegions;

// The problems whose field is `field`.
std::vector<Problem> At(const std::vector<Problem>& all, const std::string& field) {
  std::vector<Problem> out;
  for (const auto& p : all) {
    if (p.field == field) out.push_back(p);
  }
  return out;
}

TEST(TopologyValidation, AcceptsTheThreeRegionExample) {
  LoadedTopology loaded = LoadTopologyFile(testing::ThreeRegionsFile().string());
  EXPECT_TRUE(loaded.problems.empty()) << Joined(loaded.problems);
  auto problems = Validate(loaded.config);
  EXPECT_TRUE(problems.empty()) << Joined(problems);
  EXPECT_EQ(loaded.config.regions.size(), 3u);
  EXPECT_EQ(loaded.config.regions[0].clusters[0].properties.at("security.protocol"), "plaintext");
  EXPECT_EQ(loaded.config.regions[0].clusters[0].racks,
            (std::vector<std::string>{"use1-az1", "use1-az2"}));
  EXPECT_TRUE(loaded.config.mirror_section.IsMap());
  EXPECT_EQ(loaded.config.offsets_section["dir"].as<std::string>(),
            "/var/lib/regionmirror/offsets");
}

TEST(TopologyValidation, ReportsUnknownRegionsWithFileLineAndField) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: orders
    home: us-west
    replicate_to: [ap-*]
)");
  auto home = At(problems, "topics[0].home");
  ASSERT_EQ(home.size(), 1u) << Joined(problems);
  EXPECT_EQ(home[0].file, "t.yaml");
  EXPECT_EQ(home[0].line, 18);
  EXPECT_EQ(home[0].message, "unknown region 'us-west'");
  auto glob = At(problems, "topics[0].replicate_to[0]");
  ASSERT_EQ(glob.size(), 1u) << Joined(problems);
  EXPECT_EQ(glob[0].line, 19);
  EXPECT_EQ(glob[0].message, "'ap-*' matches no region");
  EXPECT_EQ(glob[0].ToString(), "t.yaml:19: topics[0].replicate_to[0]: 'ap-*' matches no region");
}

TEST(TopologyValidation, ReportsUnknownClustersAndRegionsInLinks) {
  auto problems = ProblemsOf(R"(
regions:
  - name: us-east
    primary: us-east-2
    clusters:
      - alias: us-east-1
        bootstrap_servers: us:9092
links:
  - regions: [us-east, mars]
    rtt_ms: 80
)");
  auto primary = At(problems, "regions[0].primary");
  ASSERT_EQ(primary.size(), 1u) << Joined(problems);
  EXPECT_EQ(primary[0].line, 4);
  EXPECT_THAT(primary[0].message, HasSubstr("unknown cluster 'us-east-2'"));
  auto link = At(problems, "links[0].regions[1]");
  ASSERT_EQ(link.size(), 1u) << Joined(problems);
  EXPECT_EQ(link[0].message, "unknown region 'mars'");
  EXPECT_EQ(link[0].line, 9);
}

TEST(TopologyValidation, ReportsReplicateToOutsideAllowedRegions) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - pattern: 'pii\..*'
    home: eu-west
    replicate_to: ["*"]
    allowed_regions: [eu-*]
)");
  auto p = At(problems, "topics[0].replicate_to[0]");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_EQ(p[0].line, 19);
  EXPECT_THAT(p[0].message, HasSubstr("reaches us-east, outside allowed_regions [eu-*]"));
  EXPECT_EQ(problems.size(), 1u) << Joined(problems);
}

TEST(TopologyValidation, ReportsAHomeOutsideItsAllowedRegions) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: pii.users
    home: us-east
    allowed_regions: [eu-*]
)");
  auto p = At(problems, "topics[0].home");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_THAT(p[0].message, HasSubstr("outside allowed_regions"));
}

TEST(TopologyValidation, ReportsTwoLiteralRulesForOneTopic) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: orders
    home: us-east
  - topic: orders
    home: eu-west
)");
  auto p = At(problems, "topics[1]");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_EQ(p[0].line, 19);
  EXPECT_THAT(p[0].message, HasSubstr("ambiguous precedence: topic 'orders' has two rules"));
}

TEST(TopologyValidation, ReportsEqualRankedPatternsThatMatchOneName) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - pattern: 'logs-.*'
    home: us-east
  - pattern: 'logs-[a-z]+'
    home: eu-west
)");
  auto p = At(problems, "topics[1]");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_THAT(p[0].message, HasSubstr("rank equally (priority 0, literal prefix 'logs-')"));
  EXPECT_THAT(p[0].message, HasSubstr("both match 'logs-x'"));
}

TEST(TopologyValidation, AcceptsOverlappingPatternsThatPriorityOrPrefixOrders) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - pattern: 'logs-.*'
    home: us-east
  - pattern: 'logs-[a-z]+'
    priority: 1
    home: eu-west
  - pattern: 'logs-eu-.*'
    home: eu-west
  - pattern: 'metrics\.a.*'
    home: eu-west
  - pattern: 'metrics\.b.*'
    home: us-east
)");
  EXPECT_TRUE(problems.empty()) << Joined(problems);
}

TEST(TopologyValidation, ReportsAnIdentityLoopBetweenActiveActiveHomes) {
  auto problems = ProblemsOf(TwoRegions() + R"(
replication_policy: identity
topics:
  - topic: sessions
    home: [us-east, eu-west]
    replicate_to: ["*"]
)");
  auto p = At(problems, "topics[0].replicate_to");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_EQ(p[0].line, 20);
  EXPECT_THAT(p[0].message,
              HasSubstr("replication loop eu-west -> us-east -> eu-west under the identity"));
}

TEST(TopologyValidation, AcceptsActiveActiveUnderTheDefaultPolicy) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: sessions
    home: [us-east, eu-west]
    replicate_to: ["*"]
)");
  EXPECT_TRUE(problems.empty()) << Joined(problems);
}

TEST(TopologyValidation, ReportsAGroupAllowedWhereItsTopicsNeverArrive) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: orders
    home: us-east
groups:
  - name: oncall
    regions: ["*"]
    topics: [orders, missing]
)");
  auto p = At(problems, "groups[0].regions");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_EQ(p[0].line, 21);
  EXPECT_THAT(p[0].message,
              HasSubstr("group oncall may run in eu-west, but topic 'orders' never reaches it"));
  auto missing = At(problems, "groups[0].topics[1]");
  ASSERT_EQ(missing.size(), 1u) << Joined(problems);
  EXPECT_EQ(missing[0].message, "no topic rule matches 'missing'");
}

TEST(TopologyValidation, ReportsFieldProblemsWithTheirLines) {
  auto problems = ProblemsOf(TwoRegions() + R"(
topics:
  - topic: orders
    pattern: 'o.*'
    home: us-east
    read: nearest
    replicat_to: [eu-west]
  - pattern: '('
    home: us-east
)");
  EXPECT_EQ(At(problems, "topics[0]").size(), 1u) << Joined(problems);
  auto read = At(problems, "topics[0].read");
  ASSERT_EQ(read.size(), 1u) << Joined(problems);
  EXPECT_EQ(read[0].line, 20);
  EXPECT_EQ(read[0].message, "must be one of local_first, home_only (got \"nearest\")");
  auto typo = At(problems, "topics[0].replicat_to");
  ASSERT_EQ(typo.size(), 1u) << Joined(problems);
  EXPECT_EQ(typo[0].line, 21);
  EXPECT_THAT(typo[0].message, HasSubstr("unknown field"));
  auto regex = At(problems, "topics[1].pattern");
  ASSERT_EQ(regex.size(), 1u) << Joined(problems);
  EXPECT_THAT(regex[0].message, HasSubstr("bad regex '('"));
}

TEST(TopologyValidation, RefusesSecretsWrittenInTheFile) {
  auto problems = ProblemsOf(R"(
regions:
  - name: us-east
    clusters:
      - alias: us-east
        bootstrap_servers: us:9092
        properties:
          sasl.password: hunter2
)");
  auto p = At(problems, "regions[0].clusters[0].properties.sasl.password");
  ASSERT_EQ(p.size(), 1u) << Joined(problems);
  EXPECT_EQ(p[0].line, 8);
  EXPECT_THAT(p[0].message, HasSubstr("use properties_env or properties_file"));
}

TEST(TopologyValidation, ReadsSecretsFromEnvironmentAndFiles) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "key", "s3cret\n");
  ::setenv("RM_TOPOLOGY_TEST_PASSWORD", "pw", 1);
  auto topo = testing::BuildFrom(R"(
regions:
  - name: us-east
    clusters:
      - alias: us-east
        bootstrap_servers: us:9092
        properties_env: {sasl.password: RM_TOPOLOGY_TEST_PASSWORD}
        properties_file: {ssl.key.password: )" +
                                 (dir / "key").string() + "}\n");
  auto props = topo->PrimaryCluster(0).WithSecrets("t.yaml").ClientProperties();
  EXPECT_EQ(props.at("sasl.password"), "pw");
  EXPECT_EQ(props.at("ssl.key.password"), "s3cret");
  EXPECT_EQ(props.at("bootstrap.servers"), "us:9092");
  // The topology itself never holds the secrets.
  EXPECT_EQ(topo->PrimaryCluster(0).properties.count("sasl.password"), 0u);
  ::unsetenv("RM_TOPOLOGY_TEST_PASSWORD");
  EXPECT_THROW(topo->PrimaryCluster(0).WithSecrets("t.yaml"), common::ConfigError);
}

TEST(TopologyValidation, ListsEveryProblemInOneErrorWhenBuilding) {
  try {
    testing::BuildFrom(TwoRegions() + R"(
topics:
  - topic: orders
    home: mars
  - topic: x
    home: us-east
    replicate_to: [venus]
)");
    FAIL() << "expected ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 problems in configuration"));
    EXPECT_THAT(e.what(), HasSubstr("t.yaml:18: topics[0].home: unknown region 'mars'"));
    EXPECT_THAT(e.what(),
                HasSubstr("t.yaml:21: topics[1].replicate_to[0]: unknown region 'venus'"));
  }
}

TEST(TopologyValidation, RejectsTextThatIsNotYaml) {
  EXPECT_THROW(ParseTopologyYaml("regions: [\n", "t.yaml"), common::ConfigError);
  EXPECT_THROW(ParseTopologyYaml("- a\n- b\n", "t.yaml"), common::ConfigError);
}

TEST(TopologyValidation, RejectsAListUsedAsAKeyWithItsLine) {
  // Found by the fuzz smoke run: yaml-cpp threw its own exception out of the loader. Now the
  // field reader reports such a key like any other problem.
  const std::string yaml = R"(
regions:
  - name: us-east
    clusters:
      - alias: us-east
        bootstrap_servers: us:9092
        properties:
          ? [a, b]
          : c
)";
  std::string all;
  for (const auto& p : ProblemsOf(yaml)) all += p.ToString() + "\n";
  EXPECT_THAT(all, HasSubstr("regions[0].clusters[0].properties: a key at line 8, column 13 is a "
                             "list, expected a field name"));
}

}  // namespace
}  // namespace rm::topology
