// The OpenPGP adapter against real gpg. Every message Hikeshi reads here was written by the gpg
// command line of a separate party (TestGpgHome), and everything Hikeshi writes is read back by that
// party's gpg, so a test passes only if Hikeshi interoperates with GnuPG itself.

#include "hikeshi/pgp/gpg_keyring.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hikeshi/common/error.hpp"

#include "support/gpg_home.hpp"

namespace hikeshi::pgp {
namespace {

using core::SignatureValidity;
using hikeshi::testing::GpgAgentPidsFor;
using hikeshi::testing::GpgRun;
using hikeshi::testing::TestGpgHome;

std::string Describe(const Error& error) { return std::string(ErrorCodeName(error.code())) + ": " + error.message(); }

#define PGP_CONCAT_INNER(a, b) a##b
#define PGP_CONCAT(a, b) PGP_CONCAT_INNER(a, b)
// Asserts that `expr` (a Result<T>) holds a value and moves it into `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, PGP_CONCAT(result_, __LINE__))
#define ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, tmp)        \
  auto tmp = (expr);                                     \
  ASSERT_TRUE(tmp.has_value()) << Describe(tmp.error()); \
  lhs = std::move(tmp).value()
#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const auto pgp_result = (expr);                                      \
    ASSERT_TRUE(pgp_result.has_value()) << Describe(pgp_result.error()); \
  } while (0)
#define EXPECT_ERROR(expr, expected_code)                                                \
  do {                                                                                   \
    const auto pgp_result = (expr);                                                      \
    ASSERT_FALSE(pgp_result.has_value()) << "expected " << ErrorCodeName(expected_code); \
    EXPECT_EQ(pgp_result.error().code(), expected_code) << Describe(pgp_result.error()); \
  } while (0)

constexpr std::string_view kTeamUid = "Example CSIRT <csirt@example.org>";
constexpr std::string_view kPeerUid = "Peer CERT <cert@peer.example>";
// A date when keys made "in the past" were valid; they expire a year later, long before today.
constexpr std::string_view kLongAgo = "20200101T000000";

bool IsUpperHex(std::string_view text) { return text.find_first_not_of("0123456789ABCDEF") == std::string_view::npos; }

// The team (Hikeshi's keyring over its own gpg home) and one outside party using plain gpg, each
// holding the other's public key. Every test ends with no gpg-agent left running.
class GpgKeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto team_home, TestGpgHome::Create());
    team_home_ = std::make_unique<TestGpgHome>(std::move(team_home));
    ASSERT_OK_AND_ASSIGN(team_fpr_, CreateTeamKey(team_home_->path(), kTeamUid));
    ASSERT_OK_AND_ASSIGN(keyring_, OpenGpgKeyRing(team_home_->path()));

    ASSERT_OK_AND_ASSIGN(auto peer, TestGpgHome::Create());
    peer_ = std::make_unique<TestGpgHome>(std::move(peer));
    ASSERT_OK_AND_ASSIGN(peer_fpr_, peer_->GenerateKey(kPeerUid));
    ASSERT_OK_AND_ASSIGN(std::string team_public, keyring_->ExportPublicKey(team_fpr_));
    ASSERT_OK(peer_->ImportKeys(team_public));
  }

  void TearDown() override {
    for (TestGpgHome* home : {team_home_.get(), peer_.get()}) {
      if (home == nullptr) continue;
      ASSERT_OK(StopAgent(home->path()));
      ASSERT_OK(home->StopAgent());
      EXPECT_TRUE(home->AgentPids().empty()) << "gpg-agent still running for " << home->path();
    }
  }

  // The peer's public key, imported into the team's keyring.
  void TrustPeer() {
    ASSERT_OK_AND_ASSIGN(std::string armour, peer_->ExportPublicKey(peer_fpr_));
    ASSERT_OK_AND_ASSIGN(auto imported, keyring_->ImportKeys(armour));
    ASSERT_EQ(imported, std::vector<std::string>{peer_fpr_});
  }

  std::unique_ptr<TestGpgHome> team_home_;
  std::unique_ptr<TestGpgHome> peer_;
  std::string team_fpr_;
  std::string peer_fpr_;
  std::unique_ptr<core::KeyRing> keyring_;
};

// --- The team key ---------------------------------------------------------------------------------

TEST_F(GpgKeyRingTest, TeamKeyIsEd25519WithCv25519EncryptionSubkeyAndNoPassphrase) {
  EXPECT_EQ(team_fpr_.size(), 40u);
  EXPECT_TRUE(IsUpperHex(team_fpr_)) << team_fpr_;
  ASSERT_OK_AND_ASSIGN(std::string listed, keyring_->TeamFingerprint());
  EXPECT_EQ(listed, team_fpr_);

  // As gpg itself sees it: "sec" EdDSA (22) for sign+certify, "ssb" ECDH (18) for encryption, no expiry.
  ASSERT_OK_AND_ASSIGN(GpgRun run, team_home_->Run({"--with-colons", "--list-secret-keys", team_fpr_}));
  ASSERT_TRUE(run.succeeded) << run.err;
  EXPECT_NE(run.out.find("sec:u:255:22:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ssb:u:255:18:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Example CSIRT <csirt@example.org>"), std::string::npos) << run.out;
  // Signing with the empty passphrase works from the command line too (gpg's loopback + --passphrase '').
  ASSERT_OK_AND_ASSIGN(GpgRun signing, team_home_->Run({"--local-user", team_fpr_, "--sign"}, "x"));
  EXPECT_TRUE(signing.succeeded) << signing.err;
  // The revocation certificate the docs tell the operator to keep offline.
  EXPECT_TRUE(std::filesystem::exists(team_home_->path() / "openpgp-revocs.d" / (team_fpr_ + ".rev")));
}

TEST_F(GpgKeyRingTest, SecondTeamKeyIsAConflict) {
  auto again = CreateTeamKey(team_home_->path(), "Another <other@example.org>");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_NE(again.error().message().find(team_fpr_), std::string::npos) << again.error().message();
  ASSERT_OK_AND_ASSIGN(std::string listed, keyring_->TeamFingerprint());
  EXPECT_EQ(listed, team_fpr_);
}

TEST(GpgTeamKeyTest, RefusesBadUserIds) {
  ASSERT_OK_AND_ASSIGN(TestGpgHome home, TestGpgHome::Create());
  EXPECT_ERROR(CreateTeamKey(home.path(), ""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(CreateTeamKey(home.path(), "Team\n<team@example.org>"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(CreateTeamKey(home.path(), "Team \xff<team@example.org>"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(CreateTeamKey(home.path(), std::string(300, 'a')), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto keyring, OpenGpgKeyRing(home.path()));
  EXPECT_ERROR(keyring->TeamFingerprint(), ErrorCode::kNotFound);
  ASSERT_OK(StopAgent(home.path()));
}

TEST(GpgTeamKeyTest, NewHomeIsCreatedPrivate) {
  ASSERT_OK_AND_ASSIGN(TestGpgHome parent, TestGpgHome::Create());
  std::filesystem::path home = parent.path() / "gnupg";
  ASSERT_OK_AND_ASSIGN(auto keyring, OpenGpgKeyRing(home));
  struct stat info {};
  ASSERT_EQ(::stat(home.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  // Without a team key nothing can be signed, and the error says what to do.
  auto signature = keyring->SignDetached("text");
  ASSERT_FALSE(signature.has_value());
  EXPECT_EQ(signature.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_ERROR(keyring->SignAndEncrypt("text", {}), ErrorCode::kFailedPrecondition);
  ASSERT_OK(StopAgent(home));
}

TEST(GpgTeamKeyTest, RefusesUnusableHomes) {
  ASSERT_OK_AND_ASSIGN(TestGpgHome parent, TestGpgHome::Create());
  // gpg-agent could not bind its socket under a path this long.
  std::filesystem::path deep = parent.path() / std::string(100, 'd');
  EXPECT_ERROR(OpenGpgKeyRing(deep), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(CreateTeamKey(deep, kTeamUid), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(deep));
  // A file is no home.
  std::filesystem::path file = parent.path() / "file";
  { std::ofstream(file) << "x"; }
  EXPECT_ERROR(OpenGpgKeyRing(file), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(OpenGpgKeyRing(""), ErrorCode::kInvalidArgument);
}

// --- Reading mail from outside --------------------------------------------------------------------

TEST_F(GpgKeyRingTest, DecryptsAndVerifiesMailFromAKnownParty) {
  TrustPeer();
  const std::string body = "Scanning from 192.0.2.1 since 03:00 UTC.\nPlease investigate.\n";
  ASSERT_OK_AND_ASSIGN(std::string message, peer_->EncryptAndSign(body, {team_fpr_}, peer_fpr_));
  auto before = std::chrono::system_clock::now() - std::chrono::minutes(5);

  ASSERT_OK_AND_ASSIGN(core::Decrypted decrypted, keyring_->Decrypt(message));
  EXPECT_EQ(decrypted.plaintext, body);
  ASSERT_EQ(decrypted.signatures.size(), 1u);
  const core::SignatureCheck& sig = decrypted.signatures[0];
  EXPECT_EQ(sig.validity, SignatureValidity::kGood);
  EXPECT_EQ(sig.fingerprint, peer_fpr_);
  EXPECT_EQ(sig.signer, kPeerUid);
  ASSERT_TRUE(sig.signed_at.has_value());
  EXPECT_GT(*sig.signed_at, before);
  EXPECT_LT(*sig.signed_at, std::chrono::system_clock::now() + std::chrono::minutes(5));
}

TEST_F(GpgKeyRingTest, DecryptsBinaryAndUnsignedMessages) {
  ASSERT_OK_AND_ASSIGN(std::string armoured, peer_->Encrypt(std::string("bin\0ary\r\n", 9), {team_fpr_}));
  ASSERT_OK_AND_ASSIGN(GpgRun dearmor, peer_->Run({"--dearmor"}, armoured));
  ASSERT_TRUE(dearmor.succeeded) << dearmor.err;
  ASSERT_OK_AND_ASSIGN(core::Decrypted decrypted, keyring_->Decrypt(dearmor.out));
  EXPECT_EQ(decrypted.plaintext, std::string("bin\0ary\r\n", 9));
  EXPECT_TRUE(decrypted.signatures.empty());
}

TEST_F(GpgKeyRingTest, SignatureByAKeyWeDoNotHoldIsUnknownKey) {
  // The peer's key was never imported into the team's keyring.
  ASSERT_OK_AND_ASSIGN(std::string message, peer_->EncryptAndSign("hello\n", {team_fpr_}, peer_fpr_));
  ASSERT_OK_AND_ASSIGN(core::Decrypted decrypted, keyring_->Decrypt(message));
  EXPECT_EQ(decrypted.plaintext, "hello\n");
  ASSERT_EQ(decrypted.signatures.size(), 1u);
  EXPECT_EQ(decrypted.signatures[0].validity, SignatureValidity::kUnknownKey);
  EXPECT_TRUE(decrypted.signatures[0].signer.empty());
  // gpg names the issuer by its fingerprint (or at least its key id, the fingerprint's tail).
  ASSERT_FALSE(decrypted.signatures[0].fingerprint.empty());
  EXPECT_TRUE(peer_fpr_.ends_with(decrypted.signatures[0].fingerprint)) << decrypted.signatures[0].fingerprint;
}

TEST_F(GpgKeyRingTest, ClearSignedTextVerifiesAndTamperingIsBad) {
  TrustPeer();
  ASSERT_OK_AND_ASSIGN(std::string signed_text, peer_->ClearSign("Please block 198.51.100.7 now.\n", peer_fpr_));
  ASSERT_OK_AND_ASSIGN(core::Decrypted good, keyring_->VerifyInline(signed_text));
  EXPECT_EQ(good.plaintext, "Please block 198.51.100.7 now.\n");
  ASSERT_EQ(good.signatures.size(), 1u);
  EXPECT_EQ(good.signatures[0].validity, SignatureValidity::kGood);
  EXPECT_EQ(good.signatures[0].fingerprint, peer_fpr_);

  std::string tampered = signed_text;
  std::size_t at = tampered.find("198.51.100.7");
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at, 12, "198.51.100.8");
  ASSERT_OK_AND_ASSIGN(core::Decrypted bad, keyring_->VerifyInline(tampered));
  ASSERT_EQ(bad.signatures.size(), 1u);
  EXPECT_EQ(bad.signatures[0].validity, SignatureValidity::kBad);
}

TEST_F(GpgKeyRingTest, SignatureByAnExpiredKeyIsExpiredKey) {
  ASSERT_OK_AND_ASSIGN(TestGpgHome old_party, TestGpgHome::Create());
  old_party.SetFakedSystemTime(std::string(kLongAgo));
  ASSERT_OK_AND_ASSIGN(std::string old_fpr, old_party.GenerateKey("Old Party <old@example.net>", {.expire = "1y"}));
  ASSERT_OK_AND_ASSIGN(std::string signed_text, old_party.ClearSign("signed while the key was valid\n", old_fpr));
  old_party.SetFakedSystemTime("");
  ASSERT_OK_AND_ASSIGN(std::string armour, old_party.ExportPublicKey(old_fpr));
  ASSERT_OK(keyring_->ImportKeys(armour));

  ASSERT_OK_AND_ASSIGN(core::Decrypted verified, keyring_->VerifyInline(signed_text));
  ASSERT_EQ(verified.signatures.size(), 1u);
  EXPECT_EQ(verified.signatures[0].validity, SignatureValidity::kExpiredKey);
  EXPECT_EQ(verified.signatures[0].fingerprint, old_fpr);
  ASSERT_OK(old_party.StopAgent());
}

TEST_F(GpgKeyRingTest, SignatureByARevokedKeyIsRevokedKey) {
  ASSERT_OK_AND_ASSIGN(std::string signed_text, peer_->ClearSign("signed before the key was revoked\n", peer_fpr_));
  ASSERT_OK(peer_->Revoke(peer_fpr_));
  ASSERT_OK_AND_ASSIGN(std::string armour, peer_->ExportPublicKey(peer_fpr_));
  ASSERT_OK_AND_ASSIGN(auto imported, keyring_->ImportKeys(armour));
  EXPECT_EQ(imported, std::vector<std::string>{peer_fpr_});

  ASSERT_OK_AND_ASSIGN(core::Decrypted verified, keyring_->VerifyInline(signed_text));
  ASSERT_EQ(verified.signatures.size(), 1u);
  EXPECT_EQ(verified.signatures[0].validity, SignatureValidity::kRevokedKey);
  EXPECT_EQ(verified.signatures[0].fingerprint, peer_fpr_);
  // And a revoked contact cannot be written to.
  EXPECT_ERROR(keyring_->SignAndEncrypt("x", {peer_fpr_}), ErrorCode::kFailedPrecondition);
}

TEST_F(GpgKeyRingTest, MailForSomeoneElseIsPermissionDenied) {
  ASSERT_OK_AND_ASSIGN(std::string message, peer_->Encrypt("not for the team\n", {peer_fpr_}));
  auto decrypted = keyring_->Decrypt(message);
  ASSERT_FALSE(decrypted.has_value());
  EXPECT_EQ(decrypted.error().code(), ErrorCode::kPermissionDenied) << Describe(decrypted.error());
  EXPECT_EQ(decrypted.error().message().find("not for the team"), std::string::npos);
}

TEST_F(GpgKeyRingTest, PasswordEncryptedMailIsPermissionDeniedWithoutWaiting) {
  ASSERT_OK_AND_ASSIGN(GpgRun sym, peer_->Run({"--armor", "--symmetric", "--passphrase", "secret"}, "hidden\n"));
  ASSERT_TRUE(sym.succeeded) << sym.err;
  EXPECT_ERROR(keyring_->Decrypt(sym.out), ErrorCode::kPermissionDenied);
}

TEST_F(GpgKeyRingTest, NonOpenPgpInputIsInvalidArgument) {
  EXPECT_ERROR(keyring_->Decrypt("Hello, this is a plain mail body.\n"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->Decrypt(""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->Decrypt(std::string(100'000, '\xa3')), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->VerifyInline("no signature here\n"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->VerifyDetached("data", "not a signature"), ErrorCode::kInvalidArgument);
}

TEST_F(GpgKeyRingTest, SignedButUnencryptedDataIsNotDecrypted) {
  TrustPeer();
  ASSERT_OK_AND_ASSIGN(std::string signed_text, peer_->ClearSign("only signed\n", peer_fpr_));
  auto decrypted = keyring_->Decrypt(signed_text);
  ASSERT_FALSE(decrypted.has_value());
  EXPECT_EQ(decrypted.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(decrypted.error().message().find("not encrypted"), std::string::npos) << decrypted.error().message();
}

TEST_F(GpgKeyRingTest, CorruptMessagesAreDataLoss) {
  TrustPeer();
  ASSERT_OK_AND_ASSIGN(std::string armoured, peer_->EncryptAndSign(std::string(4000, 'z'), {team_fpr_}, peer_fpr_));
  ASSERT_OK_AND_ASSIGN(GpgRun dearmor, peer_->Run({"--dearmor"}, armoured));
  ASSERT_TRUE(dearmor.succeeded) << dearmor.err;
  const std::string binary = dearmor.out;
  ASSERT_GT(binary.size(), 100u);

  std::string flipped_tail = binary;
  flipped_tail[flipped_tail.size() - 10] ^= static_cast<char>(0xff);
  EXPECT_ERROR(keyring_->Decrypt(flipped_tail), ErrorCode::kDataLoss);

  std::string flipped_middle = binary;
  flipped_middle[flipped_middle.size() / 2] ^= 0x01;
  EXPECT_ERROR(keyring_->Decrypt(flipped_middle), ErrorCode::kDataLoss);

  EXPECT_ERROR(keyring_->Decrypt(binary.substr(0, binary.size() / 2)), ErrorCode::kDataLoss);

  // A changed character in the armour (its checksum no longer matches).
  std::string bad_armour = armoured;
  std::size_t body = bad_armour.find("\n\n");
  ASSERT_NE(body, std::string::npos);
  char& c = bad_armour[body + 30];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_ERROR(keyring_->Decrypt(bad_armour), ErrorCode::kDataLoss);
}

TEST_F(GpgKeyRingTest, RandomPacketsAreRefusedCleanly) {
  // Random bytes behind each OpenPGP packet header a message can start with (old and new format
  // public-key-encrypted session key, symmetric session key, compressed, literal, one-pass signature,
  // encrypted data), plus armoured random text: every one must be refused with a clear error.
  std::mt19937 random(20260101);
  const std::vector<unsigned char> leads = {0x84, 0x85, 0x8c, 0xa3, 0xac, 0x90, 0xc1, 0xc3, 0xc8, 0xcb, 0xd2, 0xd4};
  constexpr int kRounds = 3;
  int tried = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (unsigned char lead : leads) {
      std::string bytes(1 + random() % 2000, '\0');
      bytes[0] = static_cast<char>(lead);
      for (std::size_t i = 1; i < bytes.size(); ++i) bytes[i] = static_cast<char>(random());
      auto decrypted = keyring_->Decrypt(bytes);
      ASSERT_FALSE(decrypted.has_value()) << "lead byte " << int{lead};
      ErrorCode code = decrypted.error().code();
      EXPECT_TRUE(code == ErrorCode::kInvalidArgument || code == ErrorCode::kDataLoss ||
                  code == ErrorCode::kPermissionDenied)
          << "lead byte " << int{lead} << ": " << Describe(decrypted.error());
      auto verified = keyring_->VerifyInline(bytes);
      ASSERT_FALSE(verified.has_value()) << "lead byte " << int{lead};
      EXPECT_EQ(verified.error().code(), ErrorCode::kInvalidArgument) << Describe(verified.error());
      ++tried;
    }
  }
  std::string armoured = "-----BEGIN PGP MESSAGE-----\n\n";
  for (int line = 0; line < 20; ++line) {
    for (int i = 0; i < 64; ++i)
      armoured.push_back("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[random() % 64]);
    armoured.push_back('\n');
  }
  armoured += "-----END PGP MESSAGE-----\n";
  auto decrypted = keyring_->Decrypt(armoured);
  ASSERT_FALSE(decrypted.has_value());
  EXPECT_TRUE(decrypted.error().code() == ErrorCode::kInvalidArgument ||
              decrypted.error().code() == ErrorCode::kDataLoss)
      << Describe(decrypted.error());
  EXPECT_EQ(tried, kRounds * 12);
}

TEST_F(GpgKeyRingTest, DecompressionBeyondTheLimitIsTooLarge) {
  ASSERT_OK_AND_ASSIGN(auto small_limit, OpenGpgKeyRing(team_home_->path(), {.max_plaintext_bytes = 1000}));
  ASSERT_OK_AND_ASSIGN(std::string message, peer_->Encrypt(std::string(200'000, 'a'), {team_fpr_}));
  EXPECT_LT(message.size(), 5000u);  // compressed: the limit is on what comes out
  EXPECT_ERROR(small_limit->Decrypt(message), ErrorCode::kTooLarge);
  ASSERT_OK_AND_ASSIGN(core::Decrypted whole, keyring_->Decrypt(message));
  EXPECT_EQ(whole.plaintext.size(), 200'000u);
}

TEST_F(GpgKeyRingTest, DetachedSignatureOverAMultipartSignedBody) {
  TrustPeer();
  // The first part of a PGP/MIME multipart/signed message, canonical CRLF line ends, byte for byte.
  const std::string part =
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Phishing site at https://login.example.test/ reported by our users.\r\n";
  ASSERT_OK_AND_ASSIGN(std::string signature, peer_->DetachSign(part, peer_fpr_));

  ASSERT_OK_AND_ASSIGN(auto checks, keyring_->VerifyDetached(part, signature));
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].validity, SignatureValidity::kGood);
  EXPECT_EQ(checks[0].fingerprint, peer_fpr_);
  EXPECT_EQ(checks[0].signer, kPeerUid);

  // Line ends rewritten by a relay are a different text: the signature no longer matches.
  std::string lf_only = part;
  for (std::size_t at; (at = lf_only.find("\r\n")) != std::string::npos;) lf_only.erase(at, 1);
  ASSERT_OK_AND_ASSIGN(auto relaid, keyring_->VerifyDetached(lf_only, signature));
  ASSERT_EQ(relaid.size(), 1u);
  EXPECT_EQ(relaid[0].validity, SignatureValidity::kBad);

  ASSERT_OK_AND_ASSIGN(std::string public_key, peer_->ExportPublicKey(peer_fpr_));
  EXPECT_ERROR(keyring_->VerifyDetached(part, public_key), ErrorCode::kInvalidArgument);
}

// --- Writing mail out -----------------------------------------------------------------------------

TEST_F(GpgKeyRingTest, SignedAndEncryptedMailIsReadableByTheContactsGpg) {
  TrustPeer();
  const std::string text = "Dear peer,\nwe see 203.0.113.9 in your network.\n";
  ASSERT_OK_AND_ASSIGN(std::string message, keyring_->SignAndEncrypt(text, {peer_fpr_}));
  EXPECT_TRUE(message.starts_with("-----BEGIN PGP MESSAGE-----")) << message.substr(0, 40);

  ASSERT_OK_AND_ASSIGN(GpgRun read, peer_->Decrypt(message));
  ASSERT_TRUE(read.succeeded) << read.err;
  EXPECT_EQ(read.out, text);
  EXPECT_TRUE(read.HasStatus("VALIDSIG")) << read.err;
  EXPECT_NE(read.err.find(team_fpr_), std::string::npos) << read.err;  // VALIDSIG ... <primary fpr>
  EXPECT_TRUE(read.HasStatus("DECRYPTION_OKAY")) << read.err;

  // Encrypted to the team key as well: the team can read its own sent mail.
  ASSERT_OK_AND_ASSIGN(core::Decrypted own, keyring_->Decrypt(message));
  EXPECT_EQ(own.plaintext, text);
  ASSERT_EQ(own.signatures.size(), 1u);
  EXPECT_EQ(own.signatures[0].validity, SignatureValidity::kGood);
  EXPECT_EQ(own.signatures[0].fingerprint, team_fpr_);
}

TEST_F(GpgKeyRingTest, RecipientsGivenInLowerCaseOrGroupedAreAccepted) {
  TrustPeer();
  std::string grouped;
  for (std::size_t i = 0; i < peer_fpr_.size(); i += 4) {
    grouped += (i == 0 ? "" : " ") + peer_fpr_.substr(i, 4);
  }
  for (char& c : grouped) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ASSERT_OK_AND_ASSIGN(std::string message, keyring_->SignAndEncrypt("x\n", {grouped}));
  ASSERT_OK_AND_ASSIGN(GpgRun read, peer_->Decrypt(message));
  EXPECT_TRUE(read.succeeded) << read.err;
}

TEST_F(GpgKeyRingTest, RecipientProblemsAreReported) {
  TrustPeer();
  // A key we do not hold.
  ASSERT_OK_AND_ASSIGN(TestGpgHome stranger, TestGpgHome::Create());
  ASSERT_OK_AND_ASSIGN(std::string stranger_fpr, stranger.GenerateKey("Stranger <s@example.com>"));
  EXPECT_ERROR(keyring_->SignAndEncrypt("x", {peer_fpr_, stranger_fpr}), ErrorCode::kNotFound);
  // Not a fingerprint at all, or a short key id that could match someone else's key.
  EXPECT_ERROR(keyring_->SignAndEncrypt("x", {"cert@peer.example"}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->SignAndEncrypt("x", {peer_fpr_.substr(24)}), ErrorCode::kInvalidArgument);

  // A key that has expired.
  ASSERT_OK_AND_ASSIGN(TestGpgHome old_party, TestGpgHome::Create());
  old_party.SetFakedSystemTime(std::string(kLongAgo));
  ASSERT_OK_AND_ASSIGN(std::string old_fpr, old_party.GenerateKey("Old <old@example.net>", {.expire = "1y"}));
  old_party.SetFakedSystemTime("");
  ASSERT_OK_AND_ASSIGN(std::string armour, old_party.ExportPublicKey(old_fpr));
  ASSERT_OK(keyring_->ImportKeys(armour));
  auto expired = keyring_->SignAndEncrypt("x", {old_fpr});
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code(), ErrorCode::kFailedPrecondition) << Describe(expired.error());
  EXPECT_NE(expired.error().message().find(old_fpr), std::string::npos) << expired.error().message();

  // A key that can sign but has no encryption subkey.
  ASSERT_OK_AND_ASSIGN(std::string sign_only,
                       stranger.GenerateKey("Sign Only <so@example.com>", {.encryption_subkey = false}));
  ASSERT_OK_AND_ASSIGN(std::string sign_only_armour, stranger.ExportPublicKey(sign_only));
  ASSERT_OK(keyring_->ImportKeys(sign_only_armour));
  EXPECT_ERROR(keyring_->SignAndEncrypt("x", {sign_only}), ErrorCode::kFailedPrecondition);
  ASSERT_OK(old_party.StopAgent());
  ASSERT_OK(stranger.StopAgent());
}

TEST_F(GpgKeyRingTest, DetachedSignatureVerifiesWithTheContactsGpg) {
  const std::string part = "Content-Type: text/plain\r\n\r\nAdvisory 2026-01\r\n";
  ASSERT_OK_AND_ASSIGN(std::string signature, keyring_->SignDetached(part));
  EXPECT_TRUE(signature.starts_with("-----BEGIN PGP SIGNATURE-----")) << signature;
  ASSERT_OK_AND_ASSIGN(GpgRun good, peer_->VerifyDetached(part, signature));
  EXPECT_TRUE(good.succeeded) << good.err;
  EXPECT_TRUE(good.HasStatus("GOODSIG")) << good.err;
  EXPECT_NE(good.err.find(team_fpr_), std::string::npos) << good.err;

  ASSERT_OK_AND_ASSIGN(GpgRun bad,
                       peer_->VerifyDetached("Content-Type: text/plain\r\n\r\nAdvisory 2026-02\r\n", signature));
  EXPECT_FALSE(bad.succeeded);
  EXPECT_TRUE(bad.HasStatus("BADSIG")) << bad.err;
}

// --- Keys -----------------------------------------------------------------------------------------

TEST_F(GpgKeyRingTest, ImportedKeysAreListedAndExportable) {
  ASSERT_OK_AND_ASSIGN(std::string second_fpr, peer_->GenerateKey("Peer Second <second@peer.example>"));
  ASSERT_OK_AND_ASSIGN(GpgRun both, peer_->Run({"--armor", "--export", peer_fpr_, second_fpr}));
  ASSERT_TRUE(both.succeeded) << both.err;
  ASSERT_OK_AND_ASSIGN(auto imported, keyring_->ImportKeys(both.out));
  std::sort(imported.begin(), imported.end());
  std::vector<std::string> expected{peer_fpr_, second_fpr};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(imported, expected);

  // Importing again reports the keys as present.
  ASSERT_OK_AND_ASSIGN(auto again, keyring_->ImportKeys(both.out));
  EXPECT_EQ(again.size(), 2u);

  // What we export, the peer's gpg reads as the same key.
  ASSERT_OK_AND_ASSIGN(std::string exported, keyring_->ExportPublicKey(second_fpr));
  EXPECT_TRUE(exported.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
  ASSERT_OK_AND_ASSIGN(GpgRun shown,
                       peer_->Run({"--with-colons", "--import-options", "show-only", "--import"}, exported));
  ASSERT_TRUE(shown.succeeded) << shown.err;
  EXPECT_NE(shown.out.find("fpr:::::::::" + second_fpr + ":"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find(peer_fpr_), std::string::npos) << "exported more than the one key";
}

TEST_F(GpgKeyRingTest, ImportRefusesGarbageAndSecretKeys) {
  EXPECT_ERROR(keyring_->ImportKeys("not a key"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->ImportKeys(""), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(
      keyring_->ImportKeys("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"),
      ErrorCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(GpgRun secret, peer_->Run({"--armor", "--export-secret-keys", peer_fpr_}));
  ASSERT_TRUE(secret.succeeded) << secret.err;
  EXPECT_ERROR(keyring_->ImportKeys(secret.out), ErrorCode::kInvalidArgument);
  // The same secret packets under a public key header are refused too.
  std::string disguised = secret.out;
  for (std::size_t at; (at = disguised.find("PRIVATE KEY")) != std::string::npos;) {
    disguised.replace(at, 11, "PUBLIC KEY");
  }
  EXPECT_ERROR(keyring_->ImportKeys(disguised), ErrorCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(GpgRun listed, team_home_->Run({"--with-colons", "--list-keys"}));
  EXPECT_EQ(listed.out.find(peer_fpr_), std::string::npos) << "a refused key was imported";
  ASSERT_OK_AND_ASSIGN(std::string team, keyring_->TeamFingerprint());
  EXPECT_EQ(team, team_fpr_);
}

TEST_F(GpgKeyRingTest, ExportOfAnUnknownKeyIsNotFound) {
  EXPECT_ERROR(keyring_->ExportPublicKey(peer_fpr_), ErrorCode::kNotFound);
  EXPECT_ERROR(keyring_->ExportPublicKey("example.org"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->ExportPublicKey(""), ErrorCode::kInvalidArgument);
}

TEST_F(GpgKeyRingTest, DescribeKeyTellsWhetherMailCanBeEncryptedToIt) {
  TrustPeer();
  // Named by gpg's own listing, in lower case with spaces, as a person might paste it.
  std::string spaced;
  for (std::size_t i = 0; i < peer_fpr_.size(); ++i) {
    if (i > 0 && i % 4 == 0) spaced += ' ';
    spaced += static_cast<char>(std::tolower(static_cast<unsigned char>(peer_fpr_[i])));
  }
  ASSERT_OK_AND_ASSIGN(core::PublicKeyInfo peer, keyring_->DescribeKey(spaced));
  EXPECT_EQ(peer.fingerprint, peer_fpr_);
  EXPECT_EQ(peer.user_ids, std::vector<std::string>{std::string(kPeerUid)});
  EXPECT_TRUE(peer.can_encrypt) << peer.problem;
  EXPECT_EQ(peer.problem, "");
  EXPECT_FALSE(peer.expires_at.has_value());

  // Expired a year after 2020: described, but not usable, and the reason says so.
  ASSERT_OK_AND_ASSIGN(TestGpgHome old_party, TestGpgHome::Create());
  old_party.SetFakedSystemTime(std::string(kLongAgo));
  ASSERT_OK_AND_ASSIGN(std::string old_fpr, old_party.GenerateKey("Old <old@example.net>", {.expire = "1y"}));
  old_party.SetFakedSystemTime("");
  ASSERT_OK_AND_ASSIGN(std::string old_armour, old_party.ExportPublicKey(old_fpr));
  ASSERT_OK(keyring_->ImportKeys(old_armour));
  ASSERT_OK_AND_ASSIGN(core::PublicKeyInfo old, keyring_->DescribeKey(old_fpr));
  EXPECT_FALSE(old.can_encrypt);
  EXPECT_NE(old.problem.find("expired"), std::string::npos) << old.problem;
  ASSERT_TRUE(old.expires_at.has_value());
  EXPECT_LT(*old.expires_at, common::Timestamp(std::chrono::seconds(1'700'000'000)));  // before Nov 2023

  // Revoked by its owner.
  ASSERT_OK_AND_ASSIGN(std::string gone_fpr, old_party.GenerateKey("Gone <gone@example.net>"));
  ASSERT_OK(old_party.Revoke(gone_fpr));
  ASSERT_OK_AND_ASSIGN(std::string gone_armour, old_party.ExportPublicKey(gone_fpr));
  ASSERT_OK(keyring_->ImportKeys(gone_armour));
  ASSERT_OK_AND_ASSIGN(core::PublicKeyInfo gone, keyring_->DescribeKey(gone_fpr));
  EXPECT_FALSE(gone.can_encrypt);
  EXPECT_NE(gone.problem.find("revoked"), std::string::npos) << gone.problem;

  // Signing only: no encryption subkey.
  ASSERT_OK_AND_ASSIGN(std::string sign_only,
                       old_party.GenerateKey("Sign Only <so@example.com>", {.encryption_subkey = false}));
  ASSERT_OK_AND_ASSIGN(std::string sign_only_armour, old_party.ExportPublicKey(sign_only));
  ASSERT_OK(keyring_->ImportKeys(sign_only_armour));
  ASSERT_OK_AND_ASSIGN(core::PublicKeyInfo signer, keyring_->DescribeKey(sign_only));
  EXPECT_FALSE(signer.can_encrypt);
  EXPECT_NE(signer.problem.find("encryption subkey"), std::string::npos) << signer.problem;

  // Unknown keys and things that are not fingerprints.
  ASSERT_OK_AND_ASSIGN(std::string stranger, old_party.GenerateKey("Stranger <s@example.com>"));
  EXPECT_ERROR(keyring_->DescribeKey(stranger), ErrorCode::kNotFound);
  EXPECT_ERROR(keyring_->DescribeKey("cert@peer.example"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(keyring_->DescribeKey(peer_fpr_.substr(24)), ErrorCode::kInvalidArgument);
  ASSERT_OK(old_party.StopAgent());
}

// --- Threads, agents, and where secrets live --------------------------------------------------------

TEST_F(GpgKeyRingTest, FourThreadsDecryptAtOnce) {
  TrustPeer();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::string> messages;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string m,
                         peer_->EncryptAndSign("message " + std::to_string(i) + "\n", {team_fpr_}, peer_fpr_));
    messages.push_back(std::move(m));
  }
  std::atomic<int> good{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < kPerThread; ++round) {
        auto decrypted = keyring_->Decrypt(messages[static_cast<std::size_t>(i)]);
        if (!decrypted) {
          failures[static_cast<std::size_t>(i)] = Describe(decrypted.error());
          return;
        }
        if (decrypted->plaintext == "message " + std::to_string(i) + "\n" && decrypted->signatures.size() == 1 &&
            decrypted->signatures[0].validity == SignatureValidity::kGood) {
          ++good;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_EQ(good.load(), kThreads * kPerThread);
}

TEST_F(GpgKeyRingTest, StopAgentEndsTheAgentTheKeyringStarted) {
  ASSERT_OK_AND_ASSIGN(std::string signature, keyring_->SignDetached("start the agent"));
  EXPECT_FALSE(team_home_->AgentPids().empty()) << "signing should have started gpg-agent";
  ASSERT_OK(StopAgent(team_home_->path()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!team_home_->AgentPids().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(team_home_->AgentPids().empty());
  // The keyring keeps working: the next operation starts a new agent.
  ASSERT_OK_AND_ASSIGN(std::string again, keyring_->SignDetached("again"));
  EXPECT_FALSE(again.empty());
  // Nothing to stop in a home that does not exist.
  ASSERT_OK(StopAgent(team_home_->path() / "missing"));
}

// GNUPGHOME and HOME point at decoys while the keyring works: nothing may land there.
TEST(GpgSecretPlacementTest, SecretMaterialStaysInTheGivenHome) {
  ASSERT_OK_AND_ASSIGN(TestGpgHome decoy, TestGpgHome::Create());
  ASSERT_OK_AND_ASSIGN(TestGpgHome team, TestGpgHome::Create());
  ASSERT_OK_AND_ASSIGN(TestGpgHome peer, TestGpgHome::Create());
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home != nullptr ? old_home : "";
  ASSERT_EQ(::setenv("GNUPGHOME", (decoy.path() / "gnupg").c_str(), 1), 0);
  ASSERT_EQ(::setenv("HOME", decoy.path().c_str(), 1), 0);

  ASSERT_OK_AND_ASSIGN(std::string team_fpr, CreateTeamKey(team.path(), kTeamUid));
  ASSERT_OK_AND_ASSIGN(auto keyring, OpenGpgKeyRing(team.path()));
  ASSERT_OK_AND_ASSIGN(std::string peer_fpr, peer.GenerateKey(kPeerUid));
  ASSERT_OK_AND_ASSIGN(std::string team_public, keyring->ExportPublicKey(team_fpr));
  ASSERT_OK(peer.ImportKeys(team_public));
  ASSERT_OK_AND_ASSIGN(std::string peer_public, peer.ExportPublicKey(peer_fpr));
  ASSERT_OK(keyring->ImportKeys(peer_public));
  ASSERT_OK_AND_ASSIGN(std::string in, peer.EncryptAndSign("in\n", {team_fpr}, peer_fpr));
  ASSERT_OK_AND_ASSIGN(auto decrypted, keyring->Decrypt(in));
  ASSERT_OK_AND_ASSIGN(auto out, keyring->SignAndEncrypt("out\n", {peer_fpr}));
  ASSERT_OK(StopAgent(team.path()));

  ::unsetenv("GNUPGHOME");
  ::setenv("HOME", saved_home.c_str(), 1);

  EXPECT_TRUE(std::filesystem::is_empty(decoy.path())) << "something was written to the decoy home";
  // The team's secret keys are in its own home (gpg-agent's store: one file per key grip).
  std::size_t key_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(team.path() / "private-keys-v1.d")) {
    if (entry.path().extension() == ".key") ++key_files;
  }
  EXPECT_EQ(key_files, 2u);  // the ed25519 primary key and the cv25519 subkey
  EXPECT_TRUE(GpgAgentPidsFor(decoy.path() / "gnupg").empty());
  ASSERT_OK(team.StopAgent());
  ASSERT_OK(peer.StopAgent());
}

}  // namespace
}  // namespace hikeshi::pgp
