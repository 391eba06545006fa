#include "replication/java_keystores.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <strings.h>

#include <fstream>
#include <memory>
#include <optional>

namespace rm::replication {
namespace {

enum class StoreType { kPkcs12, kPem, kJks, kUnknown };

std::optional<std::string> Take(std::map<std::string, std::string>* props, const std::string& key) {
  auto it = props->find(key);
  if (it == props->end()) return std::nullopt;
  std::string v = std::move(it->second);
  props->erase(it);
  return v;
}

// From ssl.*.type, else from the file's first bytes (JKS FEEDFEED, JCEKS CECECECE, PKCS12 a DER
// SEQUENCE, PEM text).
StoreType TypeOf(const std::optional<std::string>& type, const std::string& path) {
  if (type && strcasecmp(type->c_str(), "PKCS12") == 0) return StoreType::kPkcs12;
  if (type && strcasecmp(type->c_str(), "PEM") == 0) return StoreType::kPem;
  if (type && strcasecmp(type->c_str(), "JKS") != 0 && strcasecmp(type->c_str(), "JCEKS") != 0) {
    return StoreType::kUnknown;
  }
  std::ifstream in(path, std::ios::binary);
  char head[11] = {};
  in.read(head, sizeof(head));
  const std::string h(head, static_cast<size_t>(in.gcount()));
  if (h.rfind("\xfe\xed\xfe\xed", 0) == 0 || h.rfind("\xce\xce\xce\xce", 0) == 0) {
    return StoreType::kJks;
  }
  if (!h.empty() && h[0] == 0x30) return StoreType::kPkcs12;
  if (h.rfind("-----BEGIN", 0) == 0) return StoreType::kPem;
  return type ? StoreType::kJks : StoreType::kUnknown;
}

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// The certificates of a PKCS12 trust store as concatenated PEM.
std::optional<std::string> Pkcs12CertificatesAsPem(const std::string& path,
                                                   const std::string& password,
                                                   std::string* error) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_file(path.c_str(), "rb"), BIO_free);
  if (!in) {
    *error = fmt::format("cannot read {}", path);
    return std::nullopt;
  }
  std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(d2i_PKCS12_bio(in.get(), nullptr),
                                                      PKCS12_free);
  if (!p12) {
    *error = fmt::format("{} is not a PKCS12 file ({})", path, OpenSslError());
    return std::nullopt;
  }
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), password.empty() ? nullptr : password.c_str(), &pkey, &cert, &ca) !=
      1) {
    *error = fmt::format(
        "cannot open {} (wrong password, or a cipher OpenSSL 3 only has in its "
        "legacy provider): {}",
        path, OpenSslError());
    return std::nullopt;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  int count = 0;
  if (cert) {
    PEM_write_bio_X509(out.get(), cert);
    ++count;
  }
  for (int i = 0; ca && i < sk_X509_num(ca); ++i) {
    PEM_write_bio_X509(out.get(), sk_X509_value(ca, i));
    ++count;
  }
  EVP_PKEY_free(pkey);
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  if (count == 0) {
    *error = fmt::format("{} holds no certificate", path);
    return std::nullopt;
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeytoolHint(const std::string& key, const std::string& path) {
  return fmt::format(
      "{}: {} is a JKS store, which librdkafka cannot read; convert it once with `keytool "
      "-importkeystore -srckeystore {} -srcstoretype JKS -destkeystore {}.p12 -deststoretype "
      "PKCS12` and point {} at {}.p12",
      key, path, path, path, key, path);
}

// Why the store at `path` cannot be used as it is (unreadable, JKS, unknown type), or nullopt.
std::optional<std::string> UnusableStore(StoreType type, const std::string& key,
                                         const std::string& path, const std::string& type_key) {
  if (!std::ifstream(path, std::ios::binary)) return fmt::format("{}: cannot read {}", key, path);
  if (type == StoreType::kJks) return KeytoolHint(key, path);
  if (type == StoreType::kUnknown) {
    return fmt::format("{}: cannot tell the type of {} (set {} to PKCS12 or PEM)", key, path,
                       type_key);
  }
  return std::nullopt;
}

}  // namespace

void TranslateJavaKeyStores(std::map<std::string, std::string>* props,
                            const std::vector<std::string>& aliases,
                            std::vector<std::string>* problems) {
  for (const auto& alias : aliases) {
    const std::string p = alias + ".ssl.";
    auto& out = *props;

    // Java turns host name checking off with an empty value; librdkafka with "none".
    if (auto it = out.find(p + "endpoint.identification.algorithm");
        it != out.end() && it->second.empty()) {
      it->second = "none";
    }
    if (auto pem = Take(props, p + "truststore.certificates")) out[p + "ca.pem"] = *pem;
    if (auto pem = Take(props, p + "keystore.certificate.chain")) out[p + "certificate.pem"] = *pem;
    if (auto pem = Take(props, p + "keystore.key")) out[p + "key.pem"] = *pem;

    const auto ts_type = Take(props, p + "truststore.type");
    const auto ts_password = Take(props, p + "truststore.password");
    if (auto path = Take(props, p + "truststore.location")) {
      const std::string key = p + "truststore.location";
      const StoreType type = TypeOf(ts_type, *path);
      if (auto problem = UnusableStore(type, key, *path, p + "truststore.type")) {
        problems->push_back(*problem);
      } else if (type == StoreType::kPem) {
        out[p + "ca.location"] = *path;
      } else {
        std::string error;
        if (auto pem = Pkcs12CertificatesAsPem(*path, ts_password.value_or(""), &error)) {
          out[p + "ca.pem"] = *pem;
        } else {
          problems->push_back(fmt::format("{}: {}", key, error));
        }
      }
    }

    const auto ks_type = Take(props, p + "keystore.type");
    const auto ks_password = Take(props, p + "keystore.password");
    const auto key_password = Take(props, p + "key.password");
    if (auto path = Take(props, p + "keystore.location")) {
      const std::string key = p + "keystore.location";
      const StoreType type = TypeOf(ks_type, *path);
      if (auto problem = UnusableStore(type, key, *path, p + "keystore.type")) {
        problems->push_back(*problem);
      } else if (type == StoreType::kPem) {
        out[p + "certificate.location"] = *path;
        out[p + "key.location"] = *path;
        if (key_password) out[p + "key.password"] = *key_password;
      } else if (key_password && ks_password && *key_password != *ks_password) {
        problems->push_back(
            fmt::format("{}key.password: librdkafka opens a PKCS12 key store with one password "
                        "({}keystore.password); re-export the key with the store's password",
                        p, p));
      } else {
        out[p + "keystore.location"] = *path;
        if (ks_password) out[p + "keystore.password"] = *ks_password;
      }
    } else if (key_password) {
      out[p + "key.password"] = *key_password;  // for an inline ssl.keystore.key
    }
  }
}

}  // namespace rm::replication
