#include "src-cdc/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace rm::cdc {
namespace {

// RFC 4648 section 10's test vectors: every padding case.
TEST(Base64, EncodesTheRfcVectorsWithPadding) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, EncodesBinaryBytesAndLongInputsWithoutLineBreaks) {
  EXPECT_EQ(Base64Encode(std::string("\0\xff\xfe", 3)), "AP/+");
  const std::string long_input(300, 'x');
  const std::string out = Base64Encode(long_input);
  EXPECT_EQ(out.size(), 400u);
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace rm::cdc
