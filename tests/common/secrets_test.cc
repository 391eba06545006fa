#include "common/secrets.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/util/test_util.h"

namespace rm::common {
namespace {

TEST(Secrets, PasswordsClientSecretsAndPrivateKeysAreSecretProperties) {
  for (const char* key : {"sasl.password", "ssl.key.password", "ssl.keystore.password",
                          "sasl.oauthbearer.client.secret", "ssl.key.pem"}) {
    EXPECT_TRUE(IsSecretProperty(key)) << key;
  }
  for (const char* key : {"sasl.username", "security.protocol", "ssl.ca.location"}) {
    EXPECT_FALSE(IsSecretProperty(key)) << key;
  }
}

TEST(Secrets, ARefReadsItsVariableOrItsFileAndNamesTheFieldWhenItCannot) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "pw", "from-file\r\n");
  setenv("RM_TEST_SECRET_REF", "from-env", 1);
  EXPECT_EQ((SecretRef{"RM_TEST_SECRET_REF", ""}.Read("x.password").value()), "from-env");
  EXPECT_EQ((SecretRef{"", (dir / "pw").string()}.Read("x.password").value()), "from-file");
  unsetenv("RM_TEST_SECRET_REF");
  EXPECT_EQ((SecretRef{"RM_TEST_SECRET_REF", ""}.Read("x.password").error().message),
            "x.password_env: environment variable RM_TEST_SECRET_REF is not set");
  EXPECT_EQ((SecretRef{"", "/nonexistent/pw"}.Read("x.password").error().message),
            "x.password_file: cannot read /nonexistent/pw");
  EXPECT_EQ(SecretRef{}.Read("x.password").error().message,
            "x.password_env: required (or x.password_file)");
}

TEST(Secrets, EnvAndFileTogetherAreAProblem) {
  std::vector<std::string> problems;
  YamlFieldReader r(problems);
  SecretRef ref;
  GetSecretRef(r, YAML::Load("{password_env: A, password_file: /b}"), "db", "password", ref);
  EXPECT_EQ(ref.env, "A");
  EXPECT_EQ(ref.file, "/b");
  EXPECT_EQ(problems, std::vector<std::string>{
                          "db.password_file: give password_env or password_file, not both"});
}

}  // namespace
}  // namespace rm::common
