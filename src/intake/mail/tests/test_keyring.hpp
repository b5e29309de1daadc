#pragma once
// Test doubles and helpers for the mail parser's unit tests: a KeyRing that records what the parser
// hands it and answers as the test says (real gpg is exercised by the end-to-end tests), and
// readers for the sample messages in tests/corpus.

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/core/keyring.hpp"
#include "hikeshi/intake/mail/mail_parser.hpp"

namespace hikeshi::intake::mail::testing {

class RecordingKeyRing final : public core::KeyRing {
 public:
  // What Decrypt returns: the plaintext, or an error when unset.
  std::optional<core::Decrypted> decrypt_result;
  std::optional<Error> decrypt_error;
  std::vector<core::SignatureCheck> verify_result;
  std::optional<Error> verify_error;
  // What VerifyInline returns as the signed text.
  std::string inline_plaintext;

  std::vector<std::string> decrypt_calls;
  std::vector<std::pair<std::string, std::string>> verify_detached_calls;  // (signed data, signature)
  std::vector<std::string> verify_inline_calls;

  Result<core::Decrypted> Decrypt(std::string_view ciphertext) override;
  Result<std::vector<core::SignatureCheck>> VerifyDetached(std::string_view signed_data,
                                                           std::string_view signature) override;
  Result<core::Decrypted> VerifyInline(std::string_view message) override;
  Result<std::string> SignDetached(std::string_view data) override;
  Result<std::string> SignAndEncrypt(std::string_view data, const std::vector<std::string>& recipients) override;
  Result<std::vector<std::string>> ImportKeys(std::string_view armoured) override;
  Result<std::string> TeamFingerprint() override;
  Result<std::string> ExportPublicKey(std::string_view fingerprint) override;
  Result<core::PublicKeyInfo> DescribeKey(std::string_view fingerprint) override;

 private:
  std::mutex mutex_;
};

std::filesystem::path CorpusDir();
std::filesystem::path SharedDir();
std::string ReadFile(const std::filesystem::path& path);
// Parses tests/corpus/<name> with default options.
core::InboundMail ParseSample(std::string_view name, core::KeyRing* keyring = nullptr);
bool HasFlag(const core::InboundMail& mail, std::string_view flag);
// The attachment named `filename`, or null.
const core::MailAttachment* FindAttachment(const core::InboundMail& mail, std::string_view filename);

}  // namespace hikeshi::intake::mail::testing
