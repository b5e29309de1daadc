// libFuzzer target for the mail parser: any bytes in, and ParseMail must neither crash nor hang nor
// break its contract. Invariants checked on every input (a violation aborts, which libFuzzer reports
// with the input that caused it):
//   - every text field of the result is valid UTF-8 (the raw bytes are kept elsewhere);
//   - no attachment keeps more content than max_attachment_bytes, and each has a SHA-256;
//   - flags are not repeated, and each one listed has its reason in `problems`;
//   - parse_failed comes alone, and then the text holds the message.
// Inputs of odd length are parsed with a keyring that "decrypts" by stripping the armour lines and
// accepts every signature, so that the PGP paths (nested decrypted entities) are fuzzed too.
//
// Build and run (clang only; see fuzz/CMakeLists.txt):
//   CC=clang-16 CXX=clang++-16 cmake -S . -B build/fuzz -G Ninja -DHIKESHI_FUZZ=ON -DHIKESHI_SANITIZE=ON
//       -DHIKESHI_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   ninja -C build/fuzz mail_parser_fuzz
//   build/fuzz/fuzz/mail_parser_fuzz -max_len=262144 src/intake/mail/tests/corpus
// The same checks run with the normal test suite: mail_parser_replay (src/intake/mail) replays the
// seed corpus and generated hostile messages through this function.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/utf8.hpp"
#include "hikeshi/intake/mail/mail_parser.hpp"

namespace {

using hikeshi::Result;

class FuzzKeyRing final : public hikeshi::core::KeyRing {
 public:
  Result<hikeshi::core::Decrypted> Decrypt(std::string_view ciphertext) override {
    hikeshi::core::Decrypted out;
    for (std::size_t pos = 0; pos < ciphertext.size();) {
      std::size_t end = ciphertext.find('\n', pos);
      if (end == std::string_view::npos) end = ciphertext.size();
      const std::string_view line = ciphertext.substr(pos, end - pos);
      if (!line.starts_with("-----")) {
        out.plaintext.append(line);
        out.plaintext += '\n';
      }
      pos = end + 1;
    }
    return out;
  }
  Result<std::vector<hikeshi::core::SignatureCheck>> VerifyDetached(std::string_view, std::string_view) override {
    return std::vector<hikeshi::core::SignatureCheck>{{hikeshi::core::SignatureValidity::kGood, "00", "", {}}};
  }
  Result<hikeshi::core::Decrypted> VerifyInline(std::string_view message) override {
    return hikeshi::core::Decrypted{std::string(message), {}};
  }
  Result<std::string> SignDetached(std::string_view) override { return std::string(); }
  Result<std::string> SignAndEncrypt(std::string_view, const std::vector<std::string>&) override {
    return std::string();
  }
  Result<std::vector<std::string>> ImportKeys(std::string_view) override { return std::vector<std::string>{}; }
  Result<std::string> TeamFingerprint() override { return std::string(); }
  Result<std::string> ExportPublicKey(std::string_view) override { return std::string(); }
  Result<hikeshi::core::PublicKeyInfo> DescribeKey(std::string_view) override { return hikeshi::core::PublicKeyInfo{}; }
};

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void CheckUtf8(std::string_view text, const char* what) { Check(hikeshi::common::IsValidUtf8(text), what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  hikeshi::intake::mail::MailParseOptions options;
  // Small content limits, so that ordinary inputs reach the dropping paths.
  options.max_attachment_bytes = 1 << 20;
  options.max_decoded_bytes = 4 << 20;
  FuzzKeyRing keyring;
  const hikeshi::core::InboundMail mail =
      hikeshi::intake::mail::ParseMail(raw, options, size % 2 == 1 ? &keyring : nullptr);

  CheckUtf8(mail.subject, "subject is not UTF-8");
  CheckUtf8(mail.from_name, "from_name is not UTF-8");
  CheckUtf8(mail.from_address, "from_address is not UTF-8");
  CheckUtf8(mail.message_id, "message_id is not UTF-8");
  CheckUtf8(mail.in_reply_to, "in_reply_to is not UTF-8");
  CheckUtf8(mail.return_path, "return_path is not UTF-8");
  CheckUtf8(mail.text, "text is not UTF-8");
  CheckUtf8(mail.auto_reason, "auto_reason is not UTF-8");
  for (const std::string& id : mail.references) CheckUtf8(id, "a reference is not UTF-8");
  for (const std::string& to : mail.to) CheckUtf8(to, "a recipient is not UTF-8");
  for (const auto& attachment : mail.attachments) {
    CheckUtf8(attachment.filename, "an attachment name is not UTF-8");
    CheckUtf8(attachment.content_type, "an attachment type is not UTF-8");
    Check(attachment.content.size() <= options.max_attachment_bytes, "attachment over max_attachment_bytes");
    Check(attachment.sha256.size() == 64, "attachment without SHA-256");
  }
  if (mail.abuse) {
    CheckUtf8(mail.abuse->report_type, "report_type is not UTF-8");
    CheckUtf8(mail.abuse->reported_uri, "reported_uri is not UTF-8");
    CheckUtf8(mail.abuse->reported_domain, "reported_domain is not UTF-8");
    CheckUtf8(mail.abuse->user_agent, "user_agent is not UTF-8");
    CheckUtf8(mail.abuse->original_message, "original_message is not UTF-8");
  }
  for (std::size_t i = 0; i < mail.flags.size(); ++i) {
    Check(std::count(mail.flags.begin(), mail.flags.end(), mail.flags[i]) == 1, "flag repeated");
    const std::string prefix = mail.flags[i] + ": ";
    Check(std::any_of(mail.problems.begin(), mail.problems.end(),
                      [&](const std::string& problem) { return problem.starts_with(prefix); }),
          "flag without its reason");
  }
  for (const std::string& problem : mail.problems) CheckUtf8(problem, "a problem is not UTF-8");
  if (std::find(mail.flags.begin(), mail.flags.end(), "parse_failed") != mail.flags.end()) {
    Check(mail.flags.size() == 1, "parse_failed with other flags");
    Check(size == 0 || !mail.text.empty(), "parse_failed without the raw text");
  }
  return 0;
}
