#pragma once
// Builds outgoing RFC 5322 messages (CRLF line endings, MIME 1.0, UTF-8 text) from plain values,
// and their PGP/MIME forms (RFC 3156): multipart/signed and multipart/encrypted. Header injection
// is impossible by construction: every value is checked and encoded here, never pasted.
//
// Thread-safety: free functions with no shared state; the KeyRing passed in must itself be
// thread-safe (the port requires it).

#include <optional>
#include <string>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"

namespace hikeshi::core {
class KeyRing;
}

namespace hikeshi::notify {

struct MailAddress {
  std::string name;     // display name, UTF-8, may be empty
  std::string address;  // addr-spec, ASCII ("abuse@example.jp"; IDN domains in A-label form)
};

struct MailHeader {
  std::string name;   // field name, e.g. "Auto-Submitted" or "X-Hikeshi-Ticket"
  std::string value;  // unstructured text, UTF-8 (encoded as RFC 2047 words when not ASCII)
};

struct MailDraft {
  MailAddress from;
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;
  std::string subject;                      // UTF-8; leading and trailing blanks are dropped
  std::string message_id;                   // "<id@domain>"; generated as <random@from-domain> when empty
  std::string in_reply_to;                  // "<id@domain>" or empty
  std::vector<std::string> references;      // "<id@domain>" each, oldest first
  std::vector<MailHeader> extra_headers;    // added after the standard ones, in order
  std::string text;                         // the body, UTF-8; LF, CR or CRLF line ends
  std::optional<common::Timestamp> date{};  // the Date header; now when empty
};

struct ComposedMail {
  std::string message_id;               // the Message-ID written, with angle brackets
  std::vector<std::string> recipients;  // To and Cc addr-specs, in order, for the SMTP envelope
  std::string message;                  // the complete message, CRLF line endings
};

// Composes a text/plain message (charset=utf-8; 7bit, quoted-printable or base64, whichever
// suits the text). Lines of the header are folded to at most 78 columns wherever the syntax allows.
// Errors: kInvalidArgument, naming the field, when any value holds CR, LF or another control
// character, when an address or message id is malformed, when text is not valid UTF-8, when an
// extra header is malformed or would replace one this function writes, or when `to` and `cc` are
// both empty.
[[nodiscard]] Result<ComposedMail> Compose(const MailDraft& draft);

// Composes an RFC 3156 multipart/signed message (protocol="application/pgp-signature";
// micalg=pgp-sha256). The detached signature covers the exact CRLF bytes of the first part, its
// MIME headers included. `keys` signs with the team key, which must use SHA-256.
// Errors: those of Compose(), and those of KeyRing::SignDetached (kFailedPrecondition without a
// secret key).
[[nodiscard]] Result<ComposedMail> ComposeSigned(const MailDraft& draft, core::KeyRing& keys);

// Composes an RFC 3156 multipart/encrypted message (protocol="application/pgp-encrypted"): the
// text part, as a MIME entity, is signed and encrypted in one OpenPGP message to
// `recipient_fingerprints` (and the team key). The outer headers, Subject included, stay readable.
// Errors: those of Compose(), kInvalidArgument when `recipient_fingerprints` is empty, and those of
// KeyRing::SignAndEncrypt (kNotFound for a missing key, kFailedPrecondition for an unusable one).
[[nodiscard]] Result<ComposedMail> ComposeEncrypted(const MailDraft& draft,
                                                    const std::vector<std::string>& recipient_fingerprints,
                                                    core::KeyRing& keys);

}  // namespace hikeshi::notify
