// Thin RAII wrappers over OpenSSL libcrypto for what the reader needs: CBC decryption with
// PKCS#5 padding (AES for segments, triple DES for JCEKS key protection) and MD5/SHA-1.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rm::cdc::cassandra::detail {

enum class BlockCipher { kAes, kTripleDes };

// Decrypts whole messages that were each encrypted independently with the same key and IV (as
// Cassandra's EncryptedSegment does per block). Owns an EVP_CIPHER_CTX; not thread-safe; reuse
// one per reader to avoid allocating a context per block.
class CbcDecryptor {
 public:
  // AES key: 16, 24 or 32 bytes; triple DES: 24 bytes. IV: the cipher's block size.
  static common::Result<std::unique_ptr<CbcDecryptor>> Create(BlockCipher cipher,
                                                              std::string_view key,
                                                              std::string_view iv);
  ~CbcDecryptor();
  CbcDecryptor(const CbcDecryptor&) = delete;
  CbcDecryptor& operator=(const CbcDecryptor&) = delete;

  // Replaces *out with the plaintext. Fails on a length that is not a whole number of blocks
  // or on bad padding (a wrong key usually shows up here).
  common::Status Decrypt(std::string_view ciphertext, std::string* out);

 private:
  CbcDecryptor() = default;
  struct State;
  std::unique_ptr<State> state_;
};

std::string Md5(std::string_view a, std::string_view b = {});
std::string Sha1(std::string_view a, std::string_view b = {}, std::string_view c = {});

}  // namespace rm::cdc::cassandra::detail
