#include "hikeshi/common/crypto.hpp"

#include <gtest/gtest.h>

namespace hikeshi::common {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { InitCrypto(); }
};

TEST_F(CryptoTest, Sha256MatchesPublishedVectors) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(CryptoTest, Sha256OfPartsIsSha256OfTheirConcatenation) {
  EXPECT_EQ(Sha256Hex({"a", "", "bc"}), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::initializer_list<std::string_view>{}),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(CryptoTest, RandomTokensAreUrlSafeAndDistinct) {
  const auto a = RandomToken(32);
  const auto b = RandomToken(32);
  EXPECT_EQ(a.size(), 43u);  // 32 bytes in unpadded base64
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
}

TEST_F(CryptoTest, PasswordsHashWithArgon2idAndVerify) {
  const PasswordCost cheap{1, 8 * 1024 * 1024};
  const auto hash = HashPassword("correct horse battery", cheap);
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword("", "anything"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "anything"));
  // Salted: the same password never hashes the same way twice.
  EXPECT_NE(*hash, *HashPassword("correct horse battery", cheap));
}

TEST_F(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Blob, NamedByItsSha256AndOpenedOnlyUnderThatName) {
  InitCrypto();
  const std::string key = NewSecretKey();
  const std::string content = "Subject: phish\r\n\r\nhxxp://example[.]com\r\n";
  const std::string name = Sha256Hex(content);
  EXPECT_TRUE(IsSha256Hex(name));
  EXPECT_FALSE(IsSha256Hex(name.substr(1)));
  EXPECT_FALSE(IsSha256Hex("../" + name.substr(3)));
  std::string upper = name;
  upper[0] = upper[0] >= 'a' ? static_cast<char>(upper[0] - 'a' + 'A') : 'G';
  EXPECT_FALSE(IsSha256Hex(upper));

  const auto sealed = Seal(key, content, name);
  ASSERT_TRUE(sealed);
  const auto opened = OpenBlob(key, *sealed, name);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, content);
  // Sealed under a name that is not its content's hash: authentic, but not that blob.
  const std::string other = Sha256Hex("something else");
  const auto misnamed = Seal(key, content, other);
  ASSERT_TRUE(misnamed);
  auto wrong = OpenBlob(key, *misnamed, other);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(wrong.error().message().find("does not match its name"), std::string::npos);
  EXPECT_EQ(OpenBlob(NewSecretKey(), *sealed, name).error().code(), ErrorCode::kDataLoss);
}

TEST(Seal, RoundTripsAndRejectsTamperingWrongKeyAndWrongName) {
  InitCrypto();
  const std::string key = NewSecretKey();
  ASSERT_EQ(key.size(), kSecretKeyBytes);
  const std::string plaintext = "報告: 192.0.2.1 scanned us\n";
  auto sealed = Seal(key, plaintext, "blob-a");
  ASSERT_TRUE(sealed) << sealed.error().message();
  EXPECT_EQ(sealed->find("192.0.2.1"), std::string::npos) << "the plaintext must not appear in the sealed bytes";
  auto opened = Open(key, *sealed, "blob-a");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, plaintext);

  // Same plaintext sealed twice: different bytes (random nonce).
  EXPECT_NE(*Seal(key, plaintext, "blob-a"), *sealed);

  std::string altered = *sealed;
  altered[altered.size() / 2] ^= 0x01;
  EXPECT_EQ(Open(key, altered, "blob-a").error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Open(NewSecretKey(), *sealed, "blob-a").error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Open(key, *sealed, "blob-b").error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Open(key, sealed->substr(0, 10), "blob-a").error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Seal("short", plaintext, "").error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace hikeshi::common
