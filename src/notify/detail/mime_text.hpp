#pragma once
// The MIME encodings an outgoing message needs: base64, quoted-printable, RFC 2047 encoded-words
// and header folding. Pure functions and a value type; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

namespace hikeshi::notify::detail {

inline constexpr std::size_t kMaxHeaderLine = 78;  // RFC 5322 section 2.1.1: SHOULD be at most 78

// Base64 (RFC 4648, padded). With line_length > 0 the output is broken into CRLF-terminated lines
// of that many characters (the last line is terminated too).
std::string Base64Encode(std::string_view data, std::size_t line_length = 0);

// Quoted-printable (RFC 2045 section 6.7) of text whose line breaks are CRLF. Output lines are at
// most 76 characters; trailing blanks, '=', control bytes, bytes over 0x7f and a line-initial
// "From " or "." are encoded, so the result survives mbox munging and is safe to sign.
std::string QuotedPrintableEncode(std::string_view crlf_text);

// True when the CRLF text can go as Content-Transfer-Encoding 7bit and still be signed safely:
// ASCII without control bytes (other than TAB), lines of at most 76 characters, no trailing blanks,
// no line starting with "From " or ".".
bool IsSafe7bit(std::string_view crlf_text);

// "Tue, 03 Feb 2026 09:04:05 +0000" (RFC 5322 section 3.3), in UTC.
std::string FormatMailDate(common::Timestamp t);

// Builds one header field, folding it at whitespace so that lines stay within kMaxHeaderLine
// wherever the atoms allow (an atom longer than a line is never split).
class HeaderFolder {
 public:
  explicit HeaderFolder(std::string_view name);

  // Appends `atom`, preceded by `space` (blanks, possibly empty). The fold, when needed, goes
  // before `space`, which then starts the continuation line; so an empty `space` never folds.
  void Append(std::string_view space, std::string_view atom);
  // Appends UTF-8 `text` as RFC 2047 B-encoded words (charset UTF-8), each at most 75 characters
  // and never splitting a character. `space` precedes the first word; between words the fold
  // whitespace is ignored by decoders, so the text decodes back exactly.
  void AppendEncoded(std::string_view space, std::string_view text);
  // Appends unstructured text (a Subject): a leading part that is plain printable ASCII stays
  // readable, and everything from the first word that is not (non-ASCII, holds "=?", or too long
  // for a line) is encoded. Decodes back to `text` exactly.
  void AppendUnstructured(std::string_view text);

  // The finished field, "Name: value\r\n" with CRLF SP continuations.
  std::string Finish() &&;

 private:
  void Fold();

  std::string out_;   // completed lines, each ending in CRLF
  std::string line_;  // the line being built
  std::size_t name_length_;
};

}  // namespace hikeshi::notify::detail
