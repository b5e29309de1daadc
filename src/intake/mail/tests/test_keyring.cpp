#include "tests/test_keyring.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace hikeshi::intake::mail::testing {

Result<core::Decrypted> RecordingKeyRing::Decrypt(std::string_view ciphertext) {
  std::lock_guard lock(mutex_);
  decrypt_calls.emplace_back(ciphertext);
  if (decrypt_result) return *decrypt_result;
  return Fail(decrypt_error.value_or(Error::PermissionDenied("no secret key")));
}

Result<std::vector<core::SignatureCheck>> RecordingKeyRing::VerifyDetached(std::string_view signed_data,
                                                                           std::string_view signature) {
  std::lock_guard lock(mutex_);
  verify_detached_calls.emplace_back(signed_data, signature);
  if (verify_error) return Fail(*verify_error);
  return verify_result;
}

Result<core::Decrypted> RecordingKeyRing::VerifyInline(std::string_view message) {
  std::lock_guard lock(mutex_);
  verify_inline_calls.emplace_back(message);
  if (verify_error) return Fail(*verify_error);
  return core::Decrypted{inline_plaintext, verify_result};
}

Result<std::string> RecordingKeyRing::SignDetached(std::string_view) { return Fail(Error::Internal("not used")); }
Result<std::string> RecordingKeyRing::SignAndEncrypt(std::string_view, const std::vector<std::string>&) {
  return Fail(Error::Internal("not used"));
}
Result<std::vector<std::string>> RecordingKeyRing::ImportKeys(std::string_view) {
  return Fail(Error::Internal("not used"));
}
Result<std::string> RecordingKeyRing::TeamFingerprint() { return Fail(Error::Internal("not used")); }
Result<std::string> RecordingKeyRing::ExportPublicKey(std::string_view) { return Fail(Error::Internal("not used")); }
Result<core::PublicKeyInfo> RecordingKeyRing::DescribeKey(std::string_view) {
  return Fail(Error::Internal("not used"));
}

std::filesystem::path CorpusDir() { return HIKESHI_MAIL_CORPUS_DIR; }
std::filesystem::path SharedDir() { return HIKESHI_SHARED_DIR; }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path.string());
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

core::InboundMail ParseSample(std::string_view name, core::KeyRing* keyring) {
  return ParseMail(ReadFile(CorpusDir() / name), MailParseOptions{}, keyring);
}

bool HasFlag(const core::InboundMail& mail, std::string_view flag) {
  return std::ranges::find(mail.flags, flag) != mail.flags.end();
}

const core::MailAttachment* FindAttachment(const core::InboundMail& mail, std::string_view filename) {
  for (const core::MailAttachment& attachment : mail.attachments) {
    if (attachment.filename == filename) return &attachment;
  }
  return nullptr;
}

}  // namespace hikeshi::intake::mail::testing
