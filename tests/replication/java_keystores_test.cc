// Java key and trust stores in mm2.properties become librdkafka settings: PKCS12 trust stores
// are read (with OpenSSL) into ssl.ca.pem, PKCS12 key stores pass to librdkafka, PEM stores map
// to file locations, JKS is refused with the keytool command that converts it. The stores are
// made here with OpenSSL, as keytool would make them (certificate-only PKCS12 trust store).
#include "replication/java_keystores.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "replication/config.h"
#include "tests/util/test_util.h"

namespace rm::replication {
namespace {

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyAndCert() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

// A self-signed certificate for `cn`.
void MakeCert(const std::string& cn, KeyAndCert* out) {
  out->key = EVP_EC_gen("P-256");
  ASSERT_NE(out->key, nullptr);
  out->cert = X509_new();
  X509_set_version(out->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out->cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(out->cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(out->cert), 3600);
  X509_set_pubkey(out->cert, out->key);
  X509_NAME* name = X509_get_subject_name(out->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(out->cert, name);
  ASSERT_GT(X509_sign(out->cert, out->key, EVP_sha256()), 0);
}

std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// Writes a PKCS12 file: with `key` a key store, without it a trust store of `certs`.
void WritePkcs12(const std::filesystem::path& path, const std::string& password, EVP_PKEY* key,
                 X509* cert, const std::vector<X509*>& certs) {
  STACK_OF(X509)* ca = sk_X509_new_null();
  for (X509* c : certs) sk_X509_push(ca, c);
  PKCS12* p12 = PKCS12_create(password.c_str(), "entry", key, cert, ca, 0, 0, 0, 0, 0);
  sk_X509_free(ca);
  ASSERT_NE(p12, nullptr);
  BIO* bio = BIO_new_file(path.c_str(), "wb");
  i2d_PKCS12_bio(bio, p12);
  BIO_free(bio);
  PKCS12_free(p12);
}

std::map<std::string, std::string> Translate(std::map<std::string, std::string> props,
                                             std::vector<std::string>* problems) {
  TranslateJavaKeyStores(&props, {"A"}, problems);
  return props;
}

TEST(JavaKeyStores, APkcs12TrustStoreBecomesItsCertificatesAsPem) {
  rm::testing::TempDir dir;
  KeyAndCert ca1, ca2;
  MakeCert("ca-one", &ca1);
  MakeCert("ca-two", &ca2);
  WritePkcs12(dir / "truststore.p12", "changeit", nullptr, nullptr, {ca1.cert, ca2.cert});
  std::vector<std::string> problems;
  auto props = Translate({{"A.ssl.truststore.location", (dir / "truststore.p12").string()},
                          {"A.ssl.truststore.password", "changeit"},
                          {"A.ssl.truststore.type", "PKCS12"}},
                         &problems);
  ASSERT_TRUE(problems.empty()) << problems[0];
  ASSERT_EQ(props.count("A.ssl.ca.pem"), 1u);
  const std::string& pem = props.at("A.ssl.ca.pem");
  EXPECT_NE(pem.find(CertPem(ca1.cert)), std::string::npos);
  EXPECT_NE(pem.find(CertPem(ca2.cert)), std::string::npos);
  EXPECT_EQ(props.count("A.ssl.truststore.location"), 0u);
  EXPECT_EQ(props.count("A.ssl.truststore.password"), 0u);
}

TEST(JavaKeyStores, TheStoreTypeIsToldFromTheFileWhenNotGiven) {
  rm::testing::TempDir dir;
  KeyAndCert ca;
  MakeCert("ca", &ca);
  WritePkcs12(dir / "ts", "pw", nullptr, nullptr, {ca.cert});
  rm::testing::WriteFile(dir / "ca.pem", CertPem(ca.cert));
  std::vector<std::string> problems;
  auto p12 = Translate(
      {{"A.ssl.truststore.location", (dir / "ts").string()}, {"A.ssl.truststore.password", "pw"}},
      &problems);
  EXPECT_EQ(p12.count("A.ssl.ca.pem"), 1u);
  auto pem = Translate({{"A.ssl.truststore.location", (dir / "ca.pem").string()}}, &problems);
  EXPECT_EQ(pem.at("A.ssl.ca.location"), (dir / "ca.pem").string());
  EXPECT_TRUE(problems.empty()) << problems[0];
}

TEST(JavaKeyStores, AWrongTrustStorePasswordIsAProblemNamingTheKeyNotThePassword) {
  rm::testing::TempDir dir;
  KeyAndCert ca;
  MakeCert("ca", &ca);
  WritePkcs12(dir / "ts.p12", "right-secret", nullptr, nullptr, {ca.cert});
  std::vector<std::string> problems;
  Translate({{"A.ssl.truststore.location", (dir / "ts.p12").string()},
             {"A.ssl.truststore.password", "wrong-secret"}},
            &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("A.ssl.truststore.location: cannot open", 0), 0u) << problems[0];
  EXPECT_EQ(problems[0].find("secret"), std::string::npos) << problems[0];
}

TEST(JavaKeyStores, APkcs12KeyStorePassesToLibrdkafka) {
  rm::testing::TempDir dir;
  KeyAndCert client;
  MakeCert("client", &client);
  WritePkcs12(dir / "ks.p12", "pw", client.key, client.cert, {});
  std::vector<std::string> problems;
  auto props = Translate({{"A.ssl.keystore.location", (dir / "ks.p12").string()},
                          {"A.ssl.keystore.password", "pw"},
                          {"A.ssl.key.password", "pw"}},
                         &problems);
  ASSERT_TRUE(problems.empty()) << problems[0];
  EXPECT_EQ(props.at("A.ssl.keystore.location"), (dir / "ks.p12").string());
  EXPECT_EQ(props.at("A.ssl.keystore.password"), "pw");
  EXPECT_EQ(props.count("A.ssl.key.password"), 0u);

  Translate({{"A.ssl.keystore.location", (dir / "ks.p12").string()},
             {"A.ssl.keystore.password", "pw"},
             {"A.ssl.key.password", "other"}},
            &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("librdkafka opens a PKCS12 key store with one password"),
            std::string::npos);
}

TEST(JavaKeyStores, JksStoresAreRefusedWithTheKeytoolCommandThatConvertsThem) {
  rm::testing::TempDir dir;
  // A JKS file starts with the magic FEEDFEED and version 2.
  rm::testing::WriteFile(dir / "ts.jks", std::string("\xfe\xed\xfe\xed\x00\x00\x00\x02", 8));
  std::vector<std::string> problems;
  Translate({{"A.ssl.truststore.location", (dir / "ts.jks").string()},
             {"A.ssl.truststore.password", "changeit"}},
            &problems);
  ASSERT_EQ(problems.size(), 1u);
  const std::string jks = (dir / "ts.jks").string();
  EXPECT_EQ(problems[0], "A.ssl.truststore.location: " + jks +
                             " is a JKS store, which librdkafka cannot read; convert it once with "
                             "`keytool -importkeystore -srckeystore " +
                             jks + " -srcstoretype JKS -destkeystore " + jks +
                             ".p12 -deststoretype PKCS12` and point A.ssl.truststore.location at " +
                             jks + ".p12");
}

TEST(JavaKeyStores, InlinePemSettingsAndPemKeyStoresMapToLibrdkafkaNames) {
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "client.pem", "-----BEGIN CERTIFICATE-----\n");
  std::vector<std::string> problems;
  auto props = Translate({{"A.ssl.truststore.certificates", "CA-PEM"},
                          {"A.ssl.keystore.certificate.chain", "CHAIN-PEM"},
                          {"A.ssl.keystore.key", "KEY-PEM"},
                          {"A.ssl.key.password", "kp"},
                          {"A.ssl.endpoint.identification.algorithm", ""}},
                         &problems);
  EXPECT_EQ(props.at("A.ssl.ca.pem"), "CA-PEM");
  EXPECT_EQ(props.at("A.ssl.certificate.pem"), "CHAIN-PEM");
  EXPECT_EQ(props.at("A.ssl.key.pem"), "KEY-PEM");
  EXPECT_EQ(props.at("A.ssl.key.password"), "kp");
  EXPECT_EQ(props.at("A.ssl.endpoint.identification.algorithm"), "none");
  auto pem = Translate(
      {{"A.ssl.keystore.location", (dir / "client.pem").string()}, {"A.ssl.keystore.type", "PEM"}},
      &problems);
  EXPECT_EQ(pem.at("A.ssl.certificate.location"), (dir / "client.pem").string());
  EXPECT_EQ(pem.at("A.ssl.key.location"), (dir / "client.pem").string());
  EXPECT_TRUE(problems.empty()) << problems[0];
}

TEST(JavaKeyStores, AnMm2FileWithATrustStoreLoadsIntoValidLibrdkafkaSettings) {
  rm::testing::TempDir dir;
  KeyAndCert ca;
  MakeCert("ca", &ca);
  WritePkcs12(dir / "ts.p12", "changeit", nullptr, nullptr, {ca.cert});
  MirrorConfig c = ParseMm2Properties(
      "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
      "A->B.enabled = true\n"
      "security.protocol = SSL\n"
      "ssl.truststore.location = " +
          (dir / "ts.p12").string() + "\nssl.truststore.password = changeit\n",
      "mm2.properties");
  for (const auto& cluster : c.clusters) {
    EXPECT_EQ(cluster.properties.at("security.protocol"), "SSL");
    EXPECT_EQ(cluster.properties.at("ssl.ca.pem"), CertPem(ca.cert));
  }
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

}  // namespace
}  // namespace rm::replication
