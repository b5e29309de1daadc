#pragma once
// A received e-mail message as the mail parser (src/intake/mail) hands it to core: decoded,
// converted to UTF-8, decrypted where it could be, with its structured abuse-report fields.
// Plain value types. The raw message itself is kept separately, byte for byte (BlobStore).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/taxonomy.hpp"

namespace hikeshi::core {

struct MailAttachment {
  std::string filename;      // decoded (RFC 2231 / 2047), UTF-8; may be empty
  std::string content_type;  // as declared, lower case, e.g. "application/pdf"
  std::string magic_type;    // as sniffed from the bytes (libmagic), e.g. "application/zip"
  std::string content;       // the decoded bytes (transfer encoding undone)
  std::string sha256;        // lower-case hex of `content`
};

// Structured abuse reports: ARF (RFC 5965), X-ARF v0.2 (YAML) and X-ARF v4 (JSON).
struct AbuseReport {
  std::string format;       // "arf", "xarf-0.2", "xarf-4"
  std::string report_type;  // ARF Feedback-Type ("abuse", "fraud", ...), X-ARF Report-Type / Type
  std::string source_ip;    // normalised, empty when absent
  std::optional<int> source_port;
  std::string reported_uri;     // several: one per line
  std::string reported_domain;  // several: one per line
  std::string user_agent;       // ARF User-Agent / X-ARF reporter software
  std::optional<common::Timestamp> arrival_date;
  std::string original_message;      // the reported message or evidence (headers, or all of it)
  std::optional<Category> category;  // RSIT, when the type maps to one
};

struct InboundMail {
  std::string message_id;               // without angle brackets; empty when the message has none
  std::string in_reply_to;              // without angle brackets
  std::vector<std::string> references;  // without angle brackets, oldest first
  std::string from_address;             // lower-cased addr-spec
  std::string from_name;                // decoded display name
  std::string return_path;              // "" when absent; "<>" (null sender) is kept as "<>"
  std::vector<std::string> to;          // addr-specs of To and Cc
  std::string subject;                  // decoded, UTF-8
  std::optional<common::Timestamp> date;
  std::string text;  // the body as UTF-8 text (HTML-only bodies rendered to text; inline PGP decrypted)
  std::vector<MailAttachment> attachments;

  // Automatic mail that must never be acknowledged: Auto-Submitted other than "no",
  // Precedence bulk/list/junk, List-Id, bounces (null sender, MAILER-DAEMON, delivery-status reports).
  bool auto_generated = false;
  std::string auto_reason;  // e.g. "auto-submitted: auto-replied", "bounce"
  bool spam = false;        // an upstream filter said so (X-Spam-Flag: YES, X-Spam-Status: Yes)

  bool encrypted = false;  // it arrived PGP-encrypted (whether or not decryption worked)
  bool decrypted = false;  // ... and we could decrypt it
  std::vector<SignatureCheck> signatures;

  std::optional<AbuseReport> abuse;

  // What went wrong while parsing, e.g. "parse_failed", "decrypt_failed", "truncated",
  // "too_deep", "bad_charset", "attachment_dropped". `problems` gives each flag's reason.
  std::vector<std::string> flags;
  std::vector<std::string> problems;
};

}  // namespace hikeshi::core
