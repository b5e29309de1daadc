#pragma once
// Small text helpers for the mail parser: ASCII case and whitespace, valid UTF-8 out of any bytes,
// line-ending normalisation. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace hikeshi::intake::mail::detail {

std::string_view Trim(std::string_view text);
std::string AsciiLower(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);

// `bytes` as valid UTF-8: each byte that starts no well-formed sequence becomes U+FFFD.
std::string ValidUtf8(std::string_view bytes);
// Appends U+FFFD.
void AppendReplacement(std::string& out);
// `text` with CRLF and lone CR turned into LF.
std::string UnixLineEndings(std::string_view text);
// `text` with every line ending (CRLF, LF or lone CR) turned into CRLF: the canonical form that
// MIME signatures are computed over (RFC 3156 section 5).
std::string CanonicalCrlf(std::string_view text);
// One line, valid UTF-8, no control characters: for names and header values.
std::string OneLine(std::string_view text);

}  // namespace hikeshi::intake::mail::detail
