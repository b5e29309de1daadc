// PGP through the KeyRing port: which bytes the parser hands the keyring (the signed part exactly
// as sent, in canonical CRLF form; the armoured ciphertext), and what it does with the answers.
// RecordingKeyRing stands in for gpg here; the end-to-end tests use real keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

using ::testing::ElementsAre;
using testing::FindAttachment;
using testing::HasFlag;
using ::testing::HasSubstr;
using testing::ParseSample;
using testing::ReadFile;
using testing::RecordingKeyRing;

core::SignatureCheck Good() {
  return core::SignatureCheck{core::SignatureValidity::kGood, "0123456789ABCDEF0123456789ABCDEF01234567",
                              "Alice <alice@example.org>", std::nullopt};
}

constexpr std::string_view kSignedPart =
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Signed body line 1\r\nSigned body =E2=9C=93 line 2";
constexpr std::string_view kSignature =
    "-----BEGIN PGP SIGNATURE-----\n\niQFAKESIGNATURE\n=wxyz\n-----END PGP SIGNATURE-----\n";

std::string WithCrlf(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

TEST(PgpMime, SignedPartReachesTheKeyringAsCanonicalCrlf) {
  // The sample is stored with LF line endings, as an MTA delivers it on Unix.
  RecordingKeyRing keyring;
  keyring.verify_result = {Good()};
  const core::InboundMail mail = ParseSample("pgp_mime_signed.eml", &keyring);
  ASSERT_EQ(keyring.verify_detached_calls.size(), 1u);
  EXPECT_EQ(keyring.verify_detached_calls[0].first, kSignedPart);
  EXPECT_EQ(keyring.verify_detached_calls[0].second, kSignature);
  ASSERT_EQ(mail.signatures.size(), 1u);
  EXPECT_EQ(mail.signatures[0].validity, core::SignatureValidity::kGood);
  EXPECT_EQ(mail.signatures[0].signer, "Alice <alice@example.org>");
  EXPECT_EQ(mail.text, "Signed body line 1\nSigned body ✓ line 2");
  EXPECT_FALSE(mail.encrypted);
  EXPECT_TRUE(mail.attachments.empty());  // the signature is not an attachment
  EXPECT_TRUE(mail.flags.empty());
}

TEST(PgpMime, SignedPartIsTheSameWhenTheMessageHasCrlf) {
  RecordingKeyRing keyring;
  keyring.verify_result = {Good()};
  ParseMail(WithCrlf(ReadFile(testing::CorpusDir() / "pgp_mime_signed.eml")), MailParseOptions{}, &keyring);
  ASSERT_EQ(keyring.verify_detached_calls.size(), 1u);
  EXPECT_EQ(keyring.verify_detached_calls[0].first, kSignedPart);
}

TEST(PgpMime, BadSignatureIsRecordedAsTheKeyringSaysIt) {
  RecordingKeyRing keyring;
  keyring.verify_result = {core::SignatureCheck{core::SignatureValidity::kBad, "0123", "", std::nullopt}};
  const core::InboundMail mail = ParseSample("pgp_mime_signed.eml", &keyring);
  ASSERT_EQ(mail.signatures.size(), 1u);
  EXPECT_EQ(mail.signatures[0].validity, core::SignatureValidity::kBad);
}

TEST(PgpMime, UncheckableSignatureIsFlagged) {
  RecordingKeyRing keyring;
  keyring.verify_error = Error::InvalidArgument("not an OpenPGP signature");
  const core::InboundMail mail = ParseSample("pgp_mime_signed.eml", &keyring);
  ASSERT_EQ(mail.signatures.size(), 1u);
  EXPECT_EQ(mail.signatures[0].validity, core::SignatureValidity::kError);
  EXPECT_TRUE(HasFlag(mail, "signature_error"));
  EXPECT_EQ(mail.text, "Signed body line 1\nSigned body ✓ line 2");
}

TEST(PgpMime, SignedWithoutKeyringIsReadAndFlagged) {
  const core::InboundMail mail = ParseSample("pgp_mime_signed.eml", nullptr);
  EXPECT_TRUE(HasFlag(mail, "signature_unchecked"));
  EXPECT_TRUE(mail.signatures.empty());
  EXPECT_EQ(mail.text, "Signed body line 1\nSigned body ✓ line 2");
}

TEST(PgpMime, EncryptedIsDecryptedAndItsMimeEntityRead) {
  RecordingKeyRing keyring;
  keyring.decrypt_result = core::Decrypted{
      "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "秘密の報告 192.0.2.5\r\n--in\r\nContent-Type: text/csv; name=\"hosts.csv\"\r\n\r\nip\r\n192.0.2.5\r\n--in--\r\n",
      {Good()}};
  const core::InboundMail mail = ParseSample("pgp_mime_encrypted.eml", &keyring);
  ASSERT_EQ(keyring.decrypt_calls.size(), 1u);
  EXPECT_EQ(keyring.decrypt_calls[0],
            "-----BEGIN PGP MESSAGE-----\n\nhQEMA0FAKECIPHERTEXT\n=abcd\n-----END PGP MESSAGE-----\n");
  EXPECT_TRUE(mail.encrypted);
  EXPECT_TRUE(mail.decrypted);
  EXPECT_EQ(mail.text, "秘密の報告 192.0.2.5");
  ASSERT_EQ(mail.signatures.size(), 1u);
  const core::MailAttachment* csv = FindAttachment(mail, "hosts.csv");
  ASSERT_NE(csv, nullptr);
  EXPECT_EQ(csv->content, "ip\r\n192.0.2.5");
  EXPECT_TRUE(mail.flags.empty());
}

TEST(PgpMime, SignedInsideEncryptedIsVerifiedOverTheDecryptedBytes) {
  RecordingKeyRing keyring;
  keyring.decrypt_result = core::Decrypted{
      "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=\"s\"\n\n"
      "--s\nContent-Type: text/plain\n\ninner signed text\n--s\nContent-Type: "
      "application/pgp-signature\n\nSIG\n--s--\n",
      {}};
  keyring.verify_result = {Good()};
  const core::InboundMail mail = ParseSample("pgp_mime_encrypted.eml", &keyring);
  ASSERT_EQ(keyring.verify_detached_calls.size(), 1u);
  EXPECT_EQ(keyring.verify_detached_calls[0].first, "Content-Type: text/plain\r\n\r\ninner signed text");
  EXPECT_EQ(keyring.verify_detached_calls[0].second, "SIG");
  EXPECT_EQ(mail.text, "inner signed text");
  EXPECT_EQ(mail.signatures.size(), 1u);
}

TEST(PgpMime, DecryptFailureKeepsTheOriginalText) {
  RecordingKeyRing keyring;
  keyring.decrypt_error = Error::PermissionDenied("no secret key for 0x1234ABCD");
  const core::InboundMail mail = ParseSample("pgp_mime_encrypted.eml", &keyring);
  EXPECT_TRUE(mail.encrypted);
  EXPECT_FALSE(mail.decrypted);
  EXPECT_THAT(mail.flags, ElementsAre("decrypt_failed"));
  EXPECT_THAT(mail.problems[0], HasSubstr("no secret key for 0x1234ABCD"));
  EXPECT_THAT(mail.text, HasSubstr("hQEMA0FAKECIPHERTEXT"));
}

TEST(PgpMime, NoKeyring) {
  const core::InboundMail mail = ParseSample("pgp_mime_encrypted.eml", nullptr);
  EXPECT_TRUE(mail.encrypted);
  EXPECT_FALSE(mail.decrypted);
  EXPECT_THAT(mail.flags, ElementsAre("decrypt_failed"));
  EXPECT_EQ(mail.problems[0], "decrypt_failed: no keyring");
  EXPECT_THAT(mail.text, HasSubstr("-----BEGIN PGP MESSAGE-----"));
}

TEST(InlinePgp, EncryptedBlockIsReplacedByItsPlaintext) {
  RecordingKeyRing keyring;
  keyring.decrypt_result = core::Decrypted{"inline secret: 198.51.100.23\n", {Good()}};
  const core::InboundMail mail = ParseSample("pgp_inline_encrypted.eml", &keyring);
  ASSERT_EQ(keyring.decrypt_calls.size(), 1u);
  EXPECT_EQ(keyring.decrypt_calls[0],
            "-----BEGIN PGP MESSAGE-----\n\nhQEMA0INLINECIPHER\n=abcd\n-----END PGP MESSAGE-----\n");
  EXPECT_EQ(mail.text, "Before the block.\ninline secret: 198.51.100.23\nAfter the block.\n");
  EXPECT_TRUE(mail.encrypted);
  EXPECT_TRUE(mail.decrypted);
  EXPECT_EQ(mail.signatures.size(), 1u);
}

TEST(InlinePgp, EncryptedBlockThatCannotBeDecrypted) {
  const core::InboundMail mail = ParseSample("pgp_inline_encrypted.eml", nullptr);
  EXPECT_TRUE(mail.encrypted);
  EXPECT_FALSE(mail.decrypted);
  EXPECT_TRUE(HasFlag(mail, "decrypt_failed"));
  EXPECT_THAT(mail.text, HasSubstr("hQEMA0INLINECIPHER"));
  EXPECT_THAT(mail.text, HasSubstr("After the block."));
}

TEST(InlinePgp, ClearSignedTextIsVerified) {
  RecordingKeyRing keyring;
  keyring.verify_result = {Good()};
  keyring.inline_plaintext = "Clear signed text.\n";
  const core::InboundMail mail = ParseSample("pgp_inline_signed.eml", &keyring);
  ASSERT_EQ(keyring.verify_inline_calls.size(), 1u);
  EXPECT_EQ(keyring.verify_inline_calls[0],
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nClear signed text.\n-----BEGIN PGP SIGNATURE-----\n\n"
            "iQINLINESIG\n=wxyz\n-----END PGP SIGNATURE-----\n");
  EXPECT_EQ(mail.text, "Clear signed text.\n");
  ASSERT_EQ(mail.signatures.size(), 1u);
  EXPECT_EQ(mail.signatures[0].validity, core::SignatureValidity::kGood);
  EXPECT_FALSE(mail.encrypted);
}

}  // namespace
}  // namespace hikeshi::intake::mail
