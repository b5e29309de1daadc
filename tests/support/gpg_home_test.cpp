// TestGpgHome, which the OpenPGP suites use as the outside party: if it left agents running or
// directories behind, or made keys that are not what a test asks for, those suites would prove
// nothing.

#include "support/gpg_home.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace hikeshi::testing {
namespace {

TEST(TestGpgHomeTest, DestructorStopsTheAgentAndRemovesTheHome) {
  std::filesystem::path path;
  {
    auto home = TestGpgHome::Create();
    ASSERT_TRUE(home.has_value()) << home.error().message();
    path = home->path();
    EXPECT_TRUE(path.string().starts_with("/tmp/hk-gpg-")) << path;
    auto fpr = home->GenerateKey("Someone <someone@example.net>");
    ASSERT_TRUE(fpr.has_value()) << fpr.error().message();
    EXPECT_FALSE(home->AgentPids().empty()) << "key generation should have started gpg-agent";
    TestGpgHome moved = std::move(*home);  // the moved-from home must not remove anything
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(GpgAgentPidsFor(path).empty());
}

TEST(TestGpgHomeTest, KeysMadeInThePastHaveExpiredAndRevokedKeysAreRevoked) {
  auto home = TestGpgHome::Create();
  ASSERT_TRUE(home.has_value()) << home.error().message();
  home->SetFakedSystemTime("20200101T000000");
  auto old = home->GenerateKey("Old <old@example.net>", {.expire = "1y"});
  ASSERT_TRUE(old.has_value()) << old.error().message();
  home->SetFakedSystemTime("");
  auto fresh = home->GenerateKey("Fresh <fresh@example.net>");
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
  ASSERT_TRUE(home->Revoke(*fresh).has_value());

  auto listed = home->Run({"--with-colons", "--list-keys"});
  ASSERT_TRUE(listed.has_value() && listed->succeeded);
  // Field 2 of a "pub" line is the key's validity: e = expired, r = revoked.
  EXPECT_NE(listed->out.find("pub:e:255:22:" + old->substr(24) + ":"), std::string::npos) << listed->out;
  EXPECT_NE(listed->out.find("pub:r:255:22:" + fresh->substr(24)), std::string::npos) << listed->out;
  // Each has its cv25519 encryption subkey.
  EXPECT_NE(listed->out.find("sub:e:255:18:"), std::string::npos) << listed->out;
}

TEST(TestGpgHomeTest, StatusLinesAreFoundByKeywordAndFirstField) {
  GpgRun run;
  run.err = "gpg: Good signature\n[GNUPG:] GOODSIG 0123456789ABCDEF Some One\n[GNUPG:] VALIDSIG AAAA 2026 x\n";
  EXPECT_TRUE(run.HasStatus("GOODSIG"));
  EXPECT_TRUE(run.HasStatus("VALIDSIG", "AAAA"));
  EXPECT_FALSE(run.HasStatus("VALIDSIG", "AAA"));
  EXPECT_FALSE(run.HasStatus("BADSIG"));
  EXPECT_FALSE(run.HasStatus("Good"));
}

}  // namespace
}  // namespace hikeshi::testing
