// The JCEKS keystore reader gives the keys Cassandra encrypted the fixture segments with.
#include <gtest/gtest.h>

#include <string>

#include "src-cdc/cassandra/jceks.h"
#include "src-cdc/cassandra/key_provider.h"
#include "tests/src-cdc/cassandra_test_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

using testing::FixtureRoot;

std::string ToHex(const std::string& raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

std::string Keystore() { return rm::testing::ReadFile(FixtureRoot() / "cassandra.keystore"); }

TEST(CassandraJceks, UnsealsTheFixtureKeysGivenInTheReadme) {
  auto keys = ReadJceksSecretKeys(Keystore(), "cassandra", "cassandra");

  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys.value().size(), 2u);
  std::map<std::string, std::string> by_alias;
  for (const auto& k : keys.value()) {
    EXPECT_EQ(k.algorithm, "AES");
    EXPECT_GT(k.created_millis, 0);
    by_alias[k.alias] = ToHex(k.key);
  }
  EXPECT_EQ(by_alias["testing:1"], "b7d96fb9b11d829179aeeb0b4e81f97a");
  EXPECT_EQ(by_alias["testing:2"], "5b580ef7c05053e49aa4244736ae5744");
}

TEST(CassandraJceks, KeyProviderLooksKeysUpByAlias) {
  auto provider =
      JceksKeyProvider::Load(FixtureRoot() / "cassandra.keystore", "cassandra", "cassandra");

  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_EQ(ToHex(provider.value().GetKey("testing:1").value()),
            "b7d96fb9b11d829179aeeb0b4e81f97a");
  EXPECT_EQ(ToHex(provider.value().GetKey("TESTING:2").value()),
            "5b580ef7c05053e49aa4244736ae5744");
  auto missing = provider.value().GetKey("testing:3");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("testing:3"), std::string::npos);
}

TEST(CassandraJceks, WrongStorePasswordFailsTheIntegrityCheck) {
  auto keys = ReadJceksSecretKeys(Keystore(), "wrong", "cassandra");

  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.error().code, "jceks.password");
  EXPECT_NE(keys.error().message.find("wrong store password"), std::string::npos);
}

TEST(CassandraJceks, WrongKeyPasswordIsReportedAsSuch) {
  auto keys = ReadJceksSecretKeys(Keystore(), "", "not-the-password");

  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.error().code, "jceks.password");
  EXPECT_NE(keys.error().message.find("wrong key password"), std::string::npos);
}

TEST(CassandraJceks, AlteredOrTruncatedKeystoresAreFormatErrors) {
  const std::string ks = Keystore();
  // An unread fixture (no fixtures directory) is empty: say so rather than index past it.
  ASSERT_GT(ks.size(), 300u) << "keystore fixture not read (RM_FIXTURES_DIR?)";
  std::string altered = ks;
  altered[300] ^= 0x01;
  EXPECT_FALSE(ReadJceksSecretKeys(altered, "cassandra", "cassandra").ok());
  for (size_t cut : {0ul, 3ul, 12ul, 40ul, 200ul, ks.size() - 1}) {
    auto r = ReadJceksSecretKeys(ks.substr(0, cut), "cassandra", "cassandra");
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().code, "jceks.format") << r.error().message;
  }
  auto missing = JceksKeyProvider::Load("/nonexistent/keystore", "a", "b");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/keystore"), std::string::npos);
}

TEST(CassandraKeys, StaticProviderTakesHexKeysAndADefault) {
  StaticKeyProvider keys;
  ASSERT_TRUE(keys.AddHexKey("a", "00FF").ok());
  EXPECT_FALSE(keys.AddHexKey("b", "0g").ok());
  EXPECT_EQ(keys.GetKey("a").value(), std::string("\0\xff", 2));
  EXPECT_FALSE(keys.GetKey("c").ok());
  keys.SetDefaultKey("k");
  EXPECT_EQ(keys.GetKey("c").value(), "k");
}

}  // namespace
}  // namespace rm::cdc::cassandra
