#include "hikeshi/common/totp.hpp"

#include <gtest/gtest.h>

namespace hikeshi::common {
namespace {

Timestamp AtUnix(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

// The SHA-1 rows of RFC 6238 appendix B: secret "12345678901234567890", 30 s steps, 8 digits.
TEST(TotpTest, MatchesRfc6238AppendixB) {
  const std::string secret = "12345678901234567890";
  const struct {
    std::int64_t unix_seconds;
    std::int64_t step;
    const char* code;
  } vectors[] = {
      {59, 0x1, "94287082"},
      {1111111109, 0x23523EC, "07081804"},
      {1111111111, 0x23523ED, "14050471"},
      {1234567890, 0x273EF07, "89005924"},
      {2000000000, 0x3F940AA, "69279037"},
      {20000000000, 0x27BC86AA, "65353130"},
  };
  for (const auto& v : vectors) {
    const auto step = TotpStep(AtUnix(v.unix_seconds));
    EXPECT_EQ(step, v.step) << v.unix_seconds;
    EXPECT_EQ(HotpCode(secret, static_cast<std::uint64_t>(step), 8), v.code) << v.unix_seconds;
  }
}

// RFC 4226 appendix D: the six-digit HOTP values of counters 0..9.
TEST(TotpTest, MatchesRfc4226AppendixD) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpCode("12345678901234567890", counter), expected[counter]) << counter;
  }
}

TEST(TotpTest, StepChangesEveryThirtySeconds) {
  EXPECT_EQ(TotpStep(AtUnix(0)), 0);
  EXPECT_EQ(TotpStep(AtUnix(29)), 0);
  EXPECT_EQ(TotpStep(AtUnix(30)), 1);
  EXPECT_EQ(TotpStep(AtUnix(-100)), 0);
  EXPECT_EQ(TotpStep(AtUnix(30) + std::chrono::microseconds(999'999)), 1);
}

// RFC 4648 section 10 (without the padding, which authenticator apps do not want).
TEST(TotpTest, Base32MatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base32Encode(plain), encoded);
    EXPECT_EQ(Base32Decode(encoded), plain);
  }
  EXPECT_EQ(Base32Decode("mzxw6ytboi======"), "foobar");
  EXPECT_EQ(Base32Decode("MZXW 6YTB OI"), "foobar");
  EXPECT_EQ(Base32Decode("MZXW1"), std::nullopt);  // '1' is not in the alphabet
  EXPECT_EQ(Base32Decode("MZ"), std::nullopt);     // "M" "Z" leaves non-zero bits dangling
}

TEST(TotpTest, UriNamesIssuerAccountAndParameters) {
  EXPECT_EQ(TotpUri("Example CSIRT", "alice@x", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Example%20CSIRT:alice%40x?secret=JBSWY3DPEHPK3PXP&issuer=Example%20CSIRT"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace hikeshi::common
