#include "src-cdc/base64.h"

#include <openssl/evp.h>

namespace rm::cdc {

std::string Base64Encode(std::string_view bytes) {
  // EVP_EncodeBlock writes 4 characters per 3 bytes (rounded up) plus a NUL, and no newlines
  // (unlike the EVP_Encode* streaming calls, which wrap lines at 64 characters).
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace rm::cdc
