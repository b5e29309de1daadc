#pragma once
// The e-mail message parser: one raw RFC 5322 message in, a core::InboundMail out (headers decoded
// to UTF-8, the body as text, attachments decoded and typed, PGP decrypted and verified through the
// KeyRing port, ARF / X-ARF reports read into AbuseReport). docs/mail.md lists what is read and
// every flag.
//
// Thread-safety: ParseMail may be called from several threads at once (GMime is initialised once,
// on first use; libmagic handles are per thread). The KeyRing must be thread-safe, as its port says.

#include <cstddef>
#include <string_view>

#include "hikeshi/core/inbound_mail.hpp"
#include "hikeshi/core/keyring.hpp"

namespace hikeshi::intake::mail {

struct MailParseOptions {
  // A larger message is not parsed past its header block, and is flagged "truncated".
  std::size_t max_message_bytes = 64 << 20;
  // MIME nesting deeper than this is not descended into ("too_deep"); the top level is depth 1.
  int max_depth = 32;
  // MIME entities past this count are not read ("too_many_parts").
  std::size_t max_parts = 2000;
  // Per attachment, after the transfer encoding is undone. A larger attachment keeps its name,
  // types and SHA-256 but not its content ("attachment_dropped").
  std::size_t max_attachment_bytes = 32 << 20;
  // All decoded content together (attachments, text, decrypted data): past it, content is dropped
  // as above ("decoded_limit").
  std::size_t max_decoded_bytes = 256 << 20;
};

// Never fails: whatever the input, returns what could be understood, with `flags` and `problems`
// saying what could not. A message GMime cannot read at all is flagged "parse_failed" and its raw
// bytes become `text` (as valid UTF-8). `keyring` may be null (encrypted mail is then flagged
// "decrypt_failed", signatures "signature_unchecked"); it is only borrowed for the call.
core::InboundMail ParseMail(std::string_view raw, const MailParseOptions& options, core::KeyRing* keyring);

}  // namespace hikeshi::intake::mail
