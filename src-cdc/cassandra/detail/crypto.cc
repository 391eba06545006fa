#include "src-cdc/cassandra/detail/crypto.h"

#include <openssl/evp.h>

#include <climits>

namespace rm::cdc::cassandra::detail {

struct CbcDecryptor::State {
  EVP_CIPHER_CTX* ctx = nullptr;
  const EVP_CIPHER* cipher = nullptr;
  std::string iv;
};

common::Result<std::unique_ptr<CbcDecryptor>> CbcDecryptor::Create(BlockCipher cipher,
                                                                   std::string_view key,
                                                                   std::string_view iv) {
  const EVP_CIPHER* evp = nullptr;
  if (cipher == BlockCipher::kAes) {
    switch (key.size()) {
      case 16:
        evp = EVP_aes_128_cbc();
        break;
      case 24:
        evp = EVP_aes_192_cbc();
        break;
      case 32:
        evp = EVP_aes_256_cbc();
        break;
      default:
        return common::Error{"cassandra.crypto", "AES key of " + std::to_string(key.size()) +
                                                     " bytes (expected 16, 24 or 32)"};
    }
  } else {
    if (key.size() != 24) {
      return common::Error{"cassandra.crypto",
                           "triple DES key of " + std::to_string(key.size()) + " bytes"};
    }
    evp = EVP_des_ede3_cbc();
  }
  if (evp == nullptr) return common::Error{"cassandra.crypto", "cipher not available in OpenSSL"};
  if (iv.size() != static_cast<size_t>(EVP_CIPHER_iv_length(evp))) {
    return common::Error{"cassandra.crypto", "IV of " + std::to_string(iv.size()) +
                                                 " bytes, the cipher needs " +
                                                 std::to_string(EVP_CIPHER_iv_length(evp))};
  }
  std::unique_ptr<CbcDecryptor> d(new CbcDecryptor());
  d->state_ = std::make_unique<State>();
  d->state_->ctx = EVP_CIPHER_CTX_new();
  if (d->state_->ctx == nullptr) return common::Error{"cassandra.crypto", "out of memory"};
  d->state_->cipher = evp;
  d->state_->iv = std::string(iv);
  // The key schedule is computed once here; Decrypt() only resets the IV and the CBC state.
  if (EVP_DecryptInit_ex(d->state_->ctx, evp, nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1) {
    return common::Error{"cassandra.crypto", "cipher initialisation failed"};
  }
  return d;
}

CbcDecryptor::~CbcDecryptor() {
  if (state_ && state_->ctx) EVP_CIPHER_CTX_free(state_->ctx);
}

common::Status CbcDecryptor::Decrypt(std::string_view ciphertext, std::string* out) {
  const int block = EVP_CIPHER_block_size(state_->cipher);
  if (ciphertext.empty() || ciphertext.size() % static_cast<size_t>(block) != 0 ||
      ciphertext.size() > static_cast<size_t>(INT_MAX) - static_cast<size_t>(block)) {
    return common::Error{"cassandra.crypto", "ciphertext of " + std::to_string(ciphertext.size()) +
                                                 " bytes is not a whole number of " +
                                                 std::to_string(block) + "-byte blocks"};
  }
  EVP_CIPHER_CTX* ctx = state_->ctx;
  // Null cipher and key: keep the key schedule set up by Create().
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr,
                         reinterpret_cast<const unsigned char*>(state_->iv.data())) != 1) {
    return common::Error{"cassandra.crypto", "cipher initialisation failed"};
  }
  out->resize(ciphertext.size() + static_cast<size_t>(block));
  int n1 = 0, n2 = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out->data());
  if (EVP_DecryptUpdate(ctx, dst, &n1, reinterpret_cast<const unsigned char*>(ciphertext.data()),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx, dst + n1, &n2) != 1) {
    out->clear();
    return common::Error{"cassandra.crypto",
                         "decryption failed (bad padding: wrong key or "
                         "corrupt data)"};
  }
  out->resize(static_cast<size_t>(n1) + static_cast<size_t>(n2));
  return common::Status::Ok();
}

namespace {

std::string Digest(const EVP_MD* md, std::string_view a, std::string_view b, std::string_view c) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return {};
  const bool ok =
      EVP_DigestInit_ex(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
      EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
      EVP_DigestUpdate(ctx, c.data(), c.size()) == 1 && EVP_DigestFinal_ex(ctx, out, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string Md5(std::string_view a, std::string_view b) { return Digest(EVP_md5(), a, b, {}); }

std::string Sha1(std::string_view a, std::string_view b, std::string_view c) {
  return Digest(EVP_sha1(), a, b, c);
}

}  // namespace rm::cdc::cassandra::detail
