// PGP/MIME structure with a key ring that records what it was asked to sign or encrypt. Real gpg
// round trips are in the PGP adapter's tests.

#include <string>

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include "hikeshi/core/keyring.hpp"
#include "hikeshi/notify/compose.hpp"

#include "tests/gmime_reader.hpp"

namespace hikeshi::notify {
namespace {

using testing::ParseMessage;
using testing::RawHeader;

// Armour with LF line ends, as gpg writes it.
constexpr std::string_view kSignature =
    "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEEexample\n=abcd\n-----END PGP SIGNATURE-----\n";
constexpr std::string_view kCiphertext =
    "-----BEGIN PGP MESSAGE-----\n\nhQEMA1234example\n=wxyz\n-----END PGP MESSAGE-----\n";

class RecordingKeyRing final : public core::KeyRing {
 public:
  std::string signed_data;
  std::string encrypted_data;
  std::vector<std::string> encrypted_to;
  bool has_secret_key = true;

  Result<core::Decrypted> Decrypt(std::string_view) override { return Fail(Error::Internal("unused")); }
  Result<std::vector<core::SignatureCheck>> VerifyDetached(std::string_view, std::string_view) override {
    return Fail(Error::Internal("unused"));
  }
  Result<core::Decrypted> VerifyInline(std::string_view) override { return Fail(Error::Internal("unused")); }
  Result<std::string> SignDetached(std::string_view data) override {
    if (!has_secret_key) return Fail(Error::FailedPrecondition("no secret key"));
    signed_data = std::string(data);
    return std::string(kSignature);
  }
  Result<std::string> SignAndEncrypt(std::string_view data, const std::vector<std::string>& recipients) override {
    if (recipients.size() == 1 && recipients[0] == "MISSING") return Fail(Error::NotFound("key MISSING"));
    encrypted_data = std::string(data);
    encrypted_to = recipients;
    return std::string(kCiphertext);
  }
  Result<std::vector<std::string>> ImportKeys(std::string_view) override { return Fail(Error::Internal("unused")); }
  Result<std::string> TeamFingerprint() override { return Fail(Error::Internal("unused")); }
  Result<std::string> ExportPublicKey(std::string_view) override { return Fail(Error::Internal("unused")); }
  Result<core::PublicKeyInfo> DescribeKey(std::string_view) override { return Fail(Error::Internal("unused")); }
};

MailDraft Draft() {
  MailDraft draft;
  draft.from = {.name = "CSIRT", .address = "csirt@example.jp"};
  draft.to = {{.name = "", .address = "reporter@example.org"}};
  draft.subject = "[Hikeshi I-2026-000001] 受付しました";
  draft.text = "受付番号 R-2026-000001 で受け付けました。\nFrom now on, reply to this mail.\n";
  return draft;
}

std::string Param(GMimeObject* object, const char* name) {
  const char* value = g_mime_object_get_content_type_parameter(object, name);
  return value != nullptr ? value : "";
}

std::string MimeType(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  return std::string(g_mime_content_type_get_media_type(type)) + "/" + g_mime_content_type_get_media_subtype(type);
}

TEST(PgpMimeTest, SignedMessageSignsTheExactBytesOfItsFirstPart) {
  RecordingKeyRing keys;
  auto mail = ComposeSigned(Draft(), keys);
  ASSERT_TRUE(mail.has_value()) << mail.error().message();
  auto message = ParseMessage(mail->message);
  ASSERT_NE(message, nullptr);
  GMimeObject* top = g_mime_message_get_mime_part(message.get());
  ASSERT_EQ(MimeType(top), "multipart/signed");
  EXPECT_EQ(Param(top, "protocol"), "application/pgp-signature");
  EXPECT_EQ(Param(top, "micalg"), "pgp-sha256");
  std::string boundary = Param(top, "boundary");
  ASSERT_FALSE(boundary.empty());

  // RFC 3156: what was signed is everything between the first delimiter line and the CRLF that
  // precedes the second one.
  const std::string& raw = mail->message;
  std::string open = "\r\n--" + boundary + "\r\n";
  std::size_t first = raw.find(open);
  ASSERT_NE(first, std::string::npos);
  std::size_t part_start = first + open.size();
  std::size_t part_end = raw.find(open, part_start);
  ASSERT_NE(part_end, std::string::npos);
  EXPECT_EQ(keys.signed_data, raw.substr(part_start, part_end - part_start));
  EXPECT_TRUE(keys.signed_data.starts_with("Content-Type: text/plain; charset=utf-8\r\n")) << keys.signed_data;
  EXPECT_EQ(keys.signed_data.find('\n'), keys.signed_data.find("\r\n") + 1) << "signed data must use CRLF";

  ASSERT_TRUE(GMIME_IS_MULTIPART(top));
  auto* multipart = GMIME_MULTIPART(top);
  ASSERT_EQ(g_mime_multipart_get_count(multipart), 2);
  GMimeObject* text = g_mime_multipart_get_part(multipart, 0);
  EXPECT_EQ(testing::TextOf(text), "受付番号 R-2026-000001 で受け付けました。\r\nFrom now on, reply to this mail.\r\n");
  GMimeObject* signature = g_mime_multipart_get_part(multipart, 1);
  EXPECT_EQ(MimeType(signature), "application/pgp-signature");
  // The armour goes out with CRLF line ends.
  EXPECT_NE(raw.find("-----BEGIN PGP SIGNATURE-----\r\n\r\niQEzBAEBCAAdFiEEexample\r\n=abcd\r\n"
                     "-----END PGP SIGNATURE-----\r\n\r\n--" +
                     boundary + "--\r\n"),
            std::string::npos);
  EXPECT_TRUE(raw.ends_with("--" + boundary + "--\r\n"));
  // The outer headers are the usual ones.
  EXPECT_STREQ(g_mime_message_get_subject(message.get()), "[Hikeshi I-2026-000001] 受付しました");
  EXPECT_EQ(RawHeader(raw, "Message-ID"), "Message-ID: " + mail->message_id);
}

TEST(PgpMimeTest, SigningFailureIsReturned) {
  RecordingKeyRing keys;
  keys.has_secret_key = false;
  auto mail = ComposeSigned(Draft(), keys);
  ASSERT_FALSE(mail.has_value());
  EXPECT_EQ(mail.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(PgpMimeTest, HeaderInjectionIsRefusedBeforeAnythingIsSigned) {
  RecordingKeyRing keys;
  MailDraft draft = Draft();
  draft.subject = "x\r\nBcc: victim@example.com";
  auto mail = ComposeSigned(draft, keys);
  ASSERT_FALSE(mail.has_value());
  EXPECT_EQ(mail.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(keys.signed_data.empty());
}

TEST(PgpMimeTest, EncryptedMessageCarriesVersionPartAndArmouredSignedEntity) {
  RecordingKeyRing keys;
  std::vector<std::string> recipients = {"0123456789ABCDEF0123456789ABCDEF01234567"};
  auto mail = ComposeEncrypted(Draft(), recipients, keys);
  ASSERT_TRUE(mail.has_value()) << mail.error().message();
  EXPECT_EQ(keys.encrypted_to, recipients);
  // The plaintext is a MIME entity the recipient's client can display once decrypted.
  EXPECT_TRUE(keys.encrypted_data.starts_with("Content-Type: text/plain; charset=utf-8\r\n")) << keys.encrypted_data;
  auto inner = ParseMessage("MIME-Version: 1.0\r\n" + keys.encrypted_data);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(testing::TextOf(g_mime_message_get_mime_part(inner.get())),
            "受付番号 R-2026-000001 で受け付けました。\r\nFrom now on, reply to this mail.\r\n");
  EXPECT_EQ(mail->message.find("受付番号"), std::string::npos) << "plaintext leaked into the outer message";

  auto message = ParseMessage(mail->message);
  ASSERT_NE(message, nullptr);
  GMimeObject* top = g_mime_message_get_mime_part(message.get());
  ASSERT_EQ(MimeType(top), "multipart/encrypted");
  EXPECT_EQ(Param(top, "protocol"), "application/pgp-encrypted");
  ASSERT_TRUE(GMIME_IS_MULTIPART(top));
  auto* multipart = GMIME_MULTIPART(top);
  ASSERT_EQ(g_mime_multipart_get_count(multipart), 2);
  GMimeObject* version = g_mime_multipart_get_part(multipart, 0);
  EXPECT_EQ(MimeType(version), "application/pgp-encrypted");
  GMimeObject* payload = g_mime_multipart_get_part(multipart, 1);
  EXPECT_EQ(MimeType(payload), "application/octet-stream");
  std::string boundary = Param(top, "boundary");
  EXPECT_NE(mail->message.find("--" + boundary + "\r\nContent-Type: application/pgp-encrypted\r\n"), std::string::npos);
  EXPECT_NE(mail->message.find("\r\n\r\nVersion: 1\r\n"), std::string::npos);
  EXPECT_NE(mail->message.find("-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1234example\r\n=wxyz\r\n"
                               "-----END PGP MESSAGE-----\r\n\r\n--" +
                               boundary + "--\r\n"),
            std::string::npos);
}

TEST(PgpMimeTest, EncryptionNeedsARecipientKeyAndReportsAMissingOne) {
  RecordingKeyRing keys;
  auto none = ComposeEncrypted(Draft(), {}, keys);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
  auto missing = ComposeEncrypted(Draft(), {"MISSING"}, keys);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace hikeshi::notify
