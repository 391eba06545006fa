#include "src-cdc/cassandra/jceks.h"

#include "src-cdc/cassandra/detail/byte_reader.h"
#include "src-cdc/cassandra/detail/crypto.h"
#include "src-cdc/cassandra/detail/java_serialization.h"

namespace rm::cdc::cassandra {
namespace {

using detail::ByteReader;
using detail::JavaValue;

constexpr uint32_t kJceksMagic = 0xCECECECE;
constexpr int32_t kTagPrivateKey = 1;
constexpr int32_t kTagTrustedCert = 2;
constexpr int32_t kTagSecretKey = 3;
constexpr size_t kDigestSize = 20;  // SHA-1

common::Error FormatError(size_t offset, const std::string& what) {
  return {"jceks.format", "JCEKS keystore: " + what + " at offset " + std::to_string(offset)};
}

// Java chars (UTF-16 code units) of a UTF-8 password; invalid bytes map to themselves.
std::u16string JavaChars(std::string_view utf8) {
  std::u16string out;
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<uint8_t>(utf8[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < utf8.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<uint8_t>(utf8[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<uint8_t>(utf8[i + 2]) & 0x3Fu) << 6) |
           (static_cast<uint8_t>(utf8[i + 3]) & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < utf8.size()) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<uint8_t>(utf8[i + 1]) & 0x3Fu) << 6) |
           (static_cast<uint8_t>(utf8[i + 2]) & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < utf8.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<uint8_t>(utf8[i + 1]) & 0x3Fu);
      len = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

// The keystore digest is SHA-1(password as UTF-16BE, "Mighty Aphrodite", keystore bytes).
std::string KeystoreDigest(std::string_view password, std::string_view data) {
  std::string pw;
  for (char16_t ch : JavaChars(password)) {
    pw.push_back(static_cast<char>(ch >> 8));
    pw.push_back(static_cast<char>(ch & 0xff));
  }
  return detail::Sha1(pw, "Mighty Aphrodite", data);
}

// DER SEQUENCE { OCTET STRING salt, INTEGER iterations } (PBEParameterSpec encoding).
bool ParsePbeParams(std::string_view der, std::string* salt, uint32_t* iterations) {
  ByteReader r(der);
  auto read_tlv = [&](uint8_t tag, std::string_view* value) {
    uint8_t t, len;
    if (!r.ReadU8(&t) || t != tag || !r.ReadU8(&len) || len >= 0x80) return false;
    return r.ReadBytes(len, value);
  };
  std::string_view seq, salt_v, iter_v;
  if (!read_tlv(0x30, &seq)) return false;
  r = ByteReader(seq);
  if (!read_tlv(0x04, &salt_v) || !read_tlv(0x02, &iter_v)) return false;
  if (iter_v.empty() || iter_v.size() > 4) return false;
  uint32_t it = 0;
  for (char c : iter_v) it = (it << 8) | static_cast<uint8_t>(c);
  *salt = std::string(salt_v);
  *iterations = it;
  return true;
}

// Sun's PBEWithMD5AndTripleDES key derivation (com.sun.crypto.provider.PBES1Core): each salt
// half is hashed with the password `iterations` times; the two digests give a 24-byte key and
// an 8-byte IV. Identical halves are first made different by reversing the first half.
void DeriveTripleDesKey(std::string salt, std::string_view password, uint32_t iterations,
                        std::string* key, std::string* iv) {
  std::string pw;
  for (char16_t ch : JavaChars(password)) pw.push_back(static_cast<char>(ch & 0x7f));
  if (salt.compare(0, 4, salt, 4, 4) == 0) {
    std::swap(salt[0], salt[3]);
    std::swap(salt[1], salt[2]);
  }
  std::string derived;
  for (int half = 0; half < 2; ++half) {
    std::string h =
        detail::Md5(std::string_view(salt).substr(static_cast<size_t>(half) * 4, 4), pw);
    for (uint32_t i = 1; i < iterations; ++i) h = detail::Md5(h, pw);
    derived += h;
  }
  *key = derived.substr(0, 24);
  *iv = derived.substr(24, 8);
}

common::Result<JceksSecretKey> Unseal(const JavaValue& sealed, std::string alias,
                                      std::string_view key_password) {
  if (sealed.kind != JavaValue::Kind::kObject || !sealed.object) {
    return common::Error{"jceks.format", "entry '" + alias + "' is not a sealed object"};
  }
  const auto& obj = *sealed.object;
  const JavaValue* params = obj.Field("encodedParams", JavaValue::Kind::kByteArray);
  const JavaValue* content = obj.Field("encryptedContent", JavaValue::Kind::kByteArray);
  const JavaValue* seal_alg = obj.Field("sealAlg", JavaValue::Kind::kString);
  if (params == nullptr || content == nullptr || seal_alg == nullptr) {
    return common::Error{"jceks.format", "entry '" + alias + "': sealed object " + obj.class_name +
                                             " lacks its fields"};
  }
  if (seal_alg->bytes != "PBEWithMD5AndTripleDES") {
    return common::Error{"jceks.unsupported", "entry '" + alias + "' is sealed with " +
                                                  seal_alg->bytes +
                                                  " (only PBEWithMD5AndTripleDES is supported)"};
  }
  std::string salt;
  uint32_t iterations = 0;
  if (!ParsePbeParams(params->bytes, &salt, &iterations) || salt.size() != 8 || iterations == 0 ||
      iterations > 10'000'000) {
    return common::Error{"jceks.format", "entry '" + alias + "': bad PBE parameters"};
  }
  std::string key, iv;
  DeriveTripleDesKey(salt, key_password, iterations, &key, &iv);
  auto decryptor = detail::CbcDecryptor::Create(detail::BlockCipher::kTripleDes, key, iv);
  if (!decryptor.ok()) return decryptor.error();
  std::string plain;
  if (auto s = decryptor.value()->Decrypt(content->bytes, &plain); !s.ok()) {
    return common::Error{
        "jceks.password",
        "cannot unseal key '" + alias + "': wrong key password? (" + s.error().message + ")"};
  }
  ByteReader pr(plain);
  auto key_obj = detail::ReadJavaSerializedObject(pr);
  if (!key_obj.ok() || key_obj.value()->kind != JavaValue::Kind::kObject) {
    return common::Error{"jceks.password", "cannot unseal key '" + alias +
                                               "': wrong key password? (decrypted data is not "
                                               "a serialized key)"};
  }
  const auto& kobj = *key_obj.value()->object;
  // javax.crypto.spec.SecretKeySpec{algorithm, key} or java.security.KeyRep{algorithm, encoded}.
  const JavaValue* raw = kobj.Field("key", JavaValue::Kind::kByteArray);
  if (raw == nullptr) raw = kobj.Field("encoded", JavaValue::Kind::kByteArray);
  const JavaValue* algorithm = kobj.Field("algorithm", JavaValue::Kind::kString);
  if (raw == nullptr) {
    return common::Error{"jceks.unsupported",
                         "key '" + alias + "' is a " + kobj.class_name + " without raw key bytes"};
  }
  JceksSecretKey out;
  out.alias = std::move(alias);
  out.algorithm = algorithm ? algorithm->bytes : "";
  out.key = raw->bytes;
  return out;
}

}  // namespace

common::Result<std::vector<JceksSecretKey>> ReadJceksSecretKeys(std::string_view keystore,
                                                                std::string_view store_password,
                                                                std::string_view key_password) {
  ByteReader r(keystore);
  uint32_t magic, version;
  int32_t count;
  if (!r.ReadU32(&magic) || magic != kJceksMagic) {
    return FormatError(0, "not a JCEKS keystore (bad magic)");
  }
  if (!r.ReadU32(&version) || (version != 1 && version != 2)) {
    return FormatError(4, "unsupported version");
  }
  if (!r.ReadI32(&count) || count < 0 || static_cast<size_t>(count) > r.remaining()) {
    return FormatError(8, "bad entry count");
  }
  std::vector<JceksSecretKey> keys;
  struct SealedEntry {
    std::string alias;
    int64_t date;
    std::shared_ptr<const JavaValue> object;
  };
  std::vector<SealedEntry> sealed;
  for (int32_t i = 0; i < count; ++i) {
    const size_t entry_offset = r.position();
    int32_t tag;
    std::string_view alias;
    int64_t date;
    if (!r.ReadI32(&tag) || !r.ReadShortLengthBytes(&alias) || !r.ReadI64(&date)) {
      return FormatError(entry_offset, "truncated entry " + std::to_string(i));
    }
    auto skip_blob = [&]() {
      int32_t len;
      return r.ReadI32(&len) && len >= 0 && r.Skip(static_cast<size_t>(len));
    };
    auto skip_cert = [&]() {
      std::string_view type;
      return (version != 2 || r.ReadShortLengthBytes(&type)) && skip_blob();
    };
    if (tag == kTagPrivateKey) {
      int32_t certs;
      if (!skip_blob() || !r.ReadI32(&certs) || certs < 0) {
        return FormatError(entry_offset, "truncated private key entry");
      }
      for (int32_t c = 0; c < certs; ++c) {
        if (!skip_cert()) return FormatError(entry_offset, "truncated certificate chain");
      }
    } else if (tag == kTagTrustedCert) {
      if (!skip_cert()) return FormatError(entry_offset, "truncated certificate entry");
    } else if (tag == kTagSecretKey) {
      auto obj = detail::ReadJavaSerializedObject(r);
      if (!obj.ok()) {
        return FormatError(entry_offset,
                           "secret key entry '" + std::string(alias) + "': " + obj.error().message);
      }
      sealed.push_back({std::string(alias), date, std::move(obj).value()});
      continue;
    } else {
      return FormatError(entry_offset, "unknown entry tag " + std::to_string(tag));
    }
  }
  const size_t data_end = r.position();
  std::string_view digest;
  if (!r.ReadBytes(kDigestSize, &digest)) return FormatError(data_end, "missing integrity digest");
  if (!store_password.empty() &&
      KeystoreDigest(store_password, keystore.substr(0, data_end)) != digest) {
    return common::Error{"jceks.password",
                         "JCEKS keystore: integrity check failed: wrong store password or the "
                         "file was altered"};
  }
  for (auto& entry : sealed) {
    auto key = Unseal(*entry.object, entry.alias, key_password);
    if (!key.ok()) return key.error();
    key.value().created_millis = entry.date;
    keys.push_back(std::move(key).value());
  }
  return keys;
}

}  // namespace rm::cdc::cassandra
