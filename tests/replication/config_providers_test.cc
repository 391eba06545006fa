#include "replication/config_providers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "common/result.h"
#include "replication/config.h"
#include "tests/util/test_util.h"

namespace rm::replication {
namespace {

using Props = std::map<std::string, std::string>;

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ConfigProviders, ResolvesEnvAndFileReferencesAndDropsTheProviderKeys) {
  testing::TempDir dir;
  const auto secrets = dir / "secrets.properties";
  WriteFile(secrets, "# mounted secret\nsasl.password = s3cr\\u00e9t\nuser: alice\n");
  ScopedEnv env("RM_TEST_BOOTSTRAP", "kafka-a:9093");
  Props props = {
      {"config.providers", "file, env"},
      {"config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"},
      {"config.providers.env.class",
       "org.apache.kafka.common.config.provider.EnvVarConfigProvider"},
      {"A.bootstrap.servers", "${env:RM_TEST_BOOTSTRAP}"},
      {"A.sasl.password", "${file:" + secrets.string() + ":sasl.password}"},
      {"A.both", "u=${file:" + secrets.string() + ":user},b=${env:RM_TEST_BOOTSTRAP}!"},
      {"A.plain", "no $ {reference} here"},
  };
  std::vector<std::string> problems;
  ResolveConfigProviders(&props, &problems);
  EXPECT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(props, (Props{{"A.bootstrap.servers", "kafka-a:9093"},
                          {"A.sasl.password", "s3cr\xc3\xa9t"},
                          {"A.both", "u=alice,b=kafka-a:9093!"},
                          {"A.plain", "no $ {reference} here"}}));
}

TEST(ConfigProviders, EnvAndFileNeedNoDeclarationWhenConfigProvidersIsAbsent) {
  ScopedEnv env("RM_TEST_USER", "bob");
  Props props = {{"A.sasl.username", "${env:RM_TEST_USER}"}};
  std::vector<std::string> problems;
  ResolveConfigProviders(&props, &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(props.at("A.sasl.username"), "bob");
}

TEST(ConfigProviders, ResultsAreNotExpandedAgain) {
  ScopedEnv env("RM_TEST_NESTED", "${env:HOME}");
  Props props = {{"k", "${env:RM_TEST_NESTED}"}};
  std::vector<std::string> problems;
  ResolveConfigProviders(&props, &problems);
  EXPECT_EQ(props.at("k"), "${env:HOME}");
}

TEST(ConfigProviders, UnresolvableReferencesAreErrorsNamingKeyAndReference) {
  testing::TempDir dir;
  const auto secrets = dir / "s.properties";
  WriteFile(secrets, "present = 1\n");
  unsetenv("RM_TEST_UNSET");
  const std::string missing_file = (dir / "nope.properties").string();
  Props props = {
      {"config.providers", "env, file, vault"},
      {"config.providers.env.class", "EnvVarConfigProvider"},
      {"config.providers.file.class", "FileConfigProvider"},
      {"config.providers.vault.class", "com.example.VaultProvider"},
      {"a", "${env:RM_TEST_UNSET}"},
      {"b", "${file:" + secrets.string() + ":absent}"},
      {"c", "${file:" + missing_file + ":k}"},
      {"d", "${vault:secret/x:pw}"},
      {"e", "${file:k}"},
  };
  std::vector<std::string> problems;
  ResolveConfigProviders(&props, &problems);
  EXPECT_EQ(
      problems,
      (std::vector<std::string>{
          "config.providers.vault.class: 'com.example.VaultProvider' is not "
          "supported (FileConfigProvider or EnvVarConfigProvider)",
          "a: ${env:RM_TEST_UNSET}: environment variable RM_TEST_UNSET is not set",
          "b: ${file:" + secrets.string() + ":absent}: no key 'absent' in " + secrets.string(),
          "c: ${file:" + missing_file + ":k}: " + missing_file + ": cannot read file",
          "d: ${vault:secret/x:pw}: no config provider 'vault' "
          "(config.providers: env, file)",
          "e: ${file:k}: a file reference needs a path: ${file:<path>:<key>}",
      }));
}

TEST(ConfigProviders, Mm2PropertiesResolveSecretsBeforeUse) {
  testing::TempDir dir;
  const auto secrets = dir / "kafka.properties";
  WriteFile(secrets, "a.protocol = SASL_SSL\n");
  ScopedEnv env("RM_TEST_B_SERVERS", "b1:9092,b2:9092");
  MirrorConfig c = ParseMm2Properties(
      "config.providers = file,env\n"
      "config.providers.file.class = "
      "org.apache.kafka.common.config.provider.FileConfigProvider\n"
      "config.providers.env.class = "
      "org.apache.kafka.common.config.provider.EnvVarConfigProvider\n"
      "clusters = A, B\nA.bootstrap.servers = a:1\n"
      "B.bootstrap.servers = ${env:RM_TEST_B_SERVERS}\n"
      "A.security.protocol = ${file:" +
          secrets.string() + ":a.protocol}\nA->B.enabled = true\n",
      "mm2.properties");
  EXPECT_EQ(c.clusters[1].bootstrap_servers, "b1:9092,b2:9092");
  EXPECT_EQ(c.clusters[0].properties.at("security.protocol"), "SASL_SSL");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(ConfigProviders, Mm2PropertiesReportAnUnsetVariableWithFileAndKey) {
  unsetenv("RM_TEST_UNSET");
  try {
    ParseMm2Properties(
        "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
        "A->B.enabled = true\nA.sasl.password = ${env:RM_TEST_UNSET}\n",
        "mm2.properties");
    FAIL();
  } catch (const common::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "mm2.properties: A.sasl.password: ${env:RM_TEST_UNSET}: environment variable "
                 "RM_TEST_UNSET is not set");
  }
}

}  // namespace
}  // namespace rm::replication
