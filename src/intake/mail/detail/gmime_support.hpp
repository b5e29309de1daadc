#pragma once
// What the mail parser needs from GMime besides the parse itself: one-time initialisation, charset
// conversion to UTF-8 and RFC 5322 dates. No GMime type appears here (the tests include it).
// Private to intake/mail. Thread-safe once InitGMime() has returned.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

namespace hikeshi::intake::mail::detail {

// g_mime_init() (and common::InitCrypto()), exactly once per process, whichever thread comes first.
void InitGMime();

// Text converted to UTF-8 (always valid UTF-8; bytes that could not be converted are U+FFFD).
struct Utf8Text {
  std::string text;
  std::size_t errors = 0;        // bytes replaced by U+FFFD
  bool unknown_charset = false;  // the declared charset is not one iconv knows
  std::string charset_used;      // what the bytes were read as
};

// Converts `bytes` declared as `charset` (empty when undeclared). Undeclared or unknown charsets
// are guessed: UTF-8 when valid, ISO-2022-JP when it has JIS escapes, else whichever of EUC-JP,
// Shift_JIS (CP932) and windows-1252 reads the bytes with fewest errors. Declared charsets that
// mail software commonly stretches are read as their superset when the strict read fails
// (Shift_JIS as CP932, ISO-2022-JP with NEC/IBM extensions, ISO-8859-1 as windows-1252, GB2312
// and GBK as GB18030, EUC-JP as eucJP-ms).
Utf8Text ToUtf8(std::string_view bytes, std::string_view charset);

// An RFC 5322 date (obsolete zone names included), or nullopt.
std::optional<common::Timestamp> ParseMailDate(std::string_view text);

// The charsets GMime tries, in order, for raw 8-bit header text (see ToUtf8).
const char** HeaderFallbackCharsets();

}  // namespace hikeshi::intake::mail::detail
