// sasl.jaas.config (Plain, SCRAM) in mm2.properties -> librdkafka's SASL settings.
#include "replication/jaas.h"

#include <gtest/gtest.h>

#include "common/result.h"
#include "replication/config.h"

namespace rm::replication {
namespace {

using Props = std::map<std::string, std::string>;

TEST(Jaas, PlainLoginModuleBecomesUsernamePasswordAndPlainMechanism) {
  Props props = {{"A.sasl.jaas.config",
                  "org.apache.kafka.common.security.plain.PlainLoginModule required "
                  "username=\"alice\" password=\"p w\\\"d\";"}};
  std::vector<std::string> problems;
  TranslateJaasConfig(&props, {"A"}, &problems);
  EXPECT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(props, (Props{{"A.sasl.username", "alice"},
                          {"A.sasl.password", "p w\"d"},
                          {"A.sasl.mechanism", "PLAIN"}}));
}

TEST(Jaas, ScramTakesTheMechanismFromTheFileAndTopLevelAppliesToEveryCluster) {
  Props props = {{"sasl.jaas.config",
                  "org.apache.kafka.common.security.scram.ScramLoginModule required\n"
                  "  username=bob\n  password=\"b0b\";"},
                 {"A.sasl.mechanism", "SCRAM-SHA-512"},
                 {"B.sasl.mechanism", "SCRAM-SHA-256"},
                 {"B.sasl.jaas.config",
                  "org.apache.kafka.common.security.scram.ScramLoginModule required "
                  "username=\"carol\" password=\"c\";"}};
  std::vector<std::string> problems;
  TranslateJaasConfig(&props, {"A", "B"}, &problems);
  EXPECT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(props, (Props{{"A.sasl.username", "bob"},
                          {"A.sasl.password", "b0b"},
                          {"A.sasl.mechanism", "SCRAM-SHA-512"},
                          {"B.sasl.username", "carol"},
                          {"B.sasl.password", "c"},
                          {"B.sasl.mechanism", "SCRAM-SHA-256"}}));
}

TEST(Jaas, UnsupportedModulesMissingMechanismAndBrokenEntriesAreNamedWithoutThePassword) {
  Props props = {
      {"A.sasl.jaas.config",
       "org.apache.kafka.common.security.scram.ScramLoginModule required username=u "
       "password=secret1;"},
      {"B.sasl.jaas.config",
       "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"},
      {"C.sasl.jaas.config", "PlainLoginModule required username=u password=\"secret2"},
  };
  std::vector<std::string> problems;
  TranslateJaasConfig(&props, {"A", "B", "C"}, &problems);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0],
            "A.sasl.jaas.config: ScramLoginModule needs A.sasl.mechanism = SCRAM-SHA-256 or "
            "SCRAM-SHA-512");
  EXPECT_EQ(problems[1],
            "B.sasl.jaas.config: login module "
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule is not supported "
            "(PlainLoginModule, ScramLoginModule)");
  EXPECT_NE(problems[2].find("C.sasl.jaas.config: not a JAAS entry"), std::string::npos);
  for (const auto& p : problems) EXPECT_EQ(p.find("secret"), std::string::npos) << p;
}

TEST(Jaas, Mm2PropertiesWithJaasConfigReachTheClusterProperties) {
  MirrorConfig c = ParseMm2Properties(
      "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
      "A->B.enabled = true\nA.security.protocol = SASL_SSL\n"
      "A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
      "    username=\"alice\" \\\n    password=\"pw\";\n",
      "mm2.properties");
  EXPECT_EQ(c.clusters[0].properties, (common::KafkaProperties{{"security.protocol", "SASL_SSL"},
                                                               {"sasl.mechanism", "PLAIN"},
                                                               {"sasl.password", "pw"},
                                                               {"sasl.username", "alice"}}));
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

}  // namespace
}  // namespace rm::replication
