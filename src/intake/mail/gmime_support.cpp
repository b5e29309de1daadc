#include "detail/gmime_support.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <utility>

#include <iconv.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/utf8.hpp"

#include "detail/gobject.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

struct Strict {
  std::string text;
  std::size_t errors = 0;
  bool opened = false;
};

// iconv from `charset` to UTF-8, each unreadable byte replaced by U+FFFD. Stops early (with
// `errors` over the limit) once more than `max_errors` bytes were unreadable.
Strict Convert(std::string_view bytes, const char* charset, std::size_t max_errors = SIZE_MAX) {
  Strict result;
  iconv_t cd = g_mime_iconv_open("UTF-8", charset);
  if (cd == reinterpret_cast<iconv_t>(-1)) return result;
  result.opened = true;
  result.text.reserve(bytes.size() + bytes.size() / 2);
  std::array<char, 4096> buffer;
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write the input
  std::size_t in_left = bytes.size();
  while (in_left > 0) {
    char* out = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t done = iconv(cd, &in, &in_left, &out, &out_left);
    const int error = errno;
    result.text.append(buffer.data(), buffer.size() - out_left);
    if (done != static_cast<std::size_t>(-1)) break;
    if (error == E2BIG) continue;
    AppendReplacement(result.text);
    ++result.errors;
    if (error != EILSEQ || result.errors > max_errors) break;  // EINVAL: a truncated sequence at the end
    ++in;
    --in_left;
  }
  char* out = buffer.data();
  std::size_t out_left = buffer.size();
  iconv(cd, nullptr, nullptr, &out, &out_left);
  result.text.append(buffer.data(), buffer.size() - out_left);
  g_mime_iconv_close(cd);
  if (!common::IsValidUtf8(result.text)) result.text = ValidUtf8(result.text);
  return result;
}

// ISO-2022-JP re-spelt as EUC-JP bytes (JIS X 0208 rows with the high bit set, half-width katakana
// after SS2), so that eucJP-ms can read the NEC and IBM extension rows that strict ISO-2022-JP
// decoders refuse (circled digits, "(株)"), which Japanese mail software writes all the time.
std::string Iso2022JpAsEucJp(std::string_view bytes) {
  enum class Set { kAscii, kJis0208, kKatakana };
  Set set = Set::kAscii;
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\x1b' && i + 2 < bytes.size()) {
      const std::string_view escape = bytes.substr(i + 1, 2);
      if (escape == "$B" || escape == "$@") {
        set = Set::kJis0208;
        i += 2;
        continue;
      }
      if (escape == "(B" || escape == "(J") {
        set = Set::kAscii;
        i += 2;
        continue;
      }
      if (escape == "(I") {
        set = Set::kKatakana;
        i += 2;
        continue;
      }
    }
    if (c == '\n' || c == '\r') set = Set::kAscii;
    const auto byte = static_cast<unsigned char>(c);
    if (set == Set::kJis0208 && byte >= 0x21 && byte <= 0x7E) {
      out += static_cast<char>(byte | 0x80);
    } else if (set == Set::kKatakana && byte >= 0x21 && byte <= 0x5F) {
      out += '\x8e';
      out += static_cast<char>(byte | 0x80);
    } else {
      out += c;
    }
  }
  return out;
}

// The superset a declared charset is read as when the strict read fails.
std::optional<std::string> Superset(std::string_view charset) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kSupersets{{
      {"shift_jis", "CP932"},
      {"shift-jis", "CP932"},
      {"sjis", "CP932"},
      {"x-sjis", "CP932"},
      {"euc-jp", "EUC-JP-MS"},
      {"x-euc-jp", "EUC-JP-MS"},
      {"iso-8859-1", "WINDOWS-1252"},
      {"latin1", "WINDOWS-1252"},
      {"us-ascii", "WINDOWS-1252"},
      {"gb2312", "GB18030"},
      {"gbk", "GB18030"},
      {"ks_c_5601-1987", "CP949"},
  }};
  const std::string lower = AsciiLower(charset);
  for (const auto& [name, superset] : kSupersets) {
    if (lower == name) return std::string(superset);
  }
  return std::nullopt;
}

bool IsAscii(std::string_view bytes) {
  for (const char c : bytes) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

Utf8Text Guess(std::string_view bytes) {
  Utf8Text result;
  if (common::IsValidUtf8(bytes)) {
    result.text.assign(bytes);
    result.charset_used = IsAscii(bytes) ? "us-ascii" : "utf-8";
    if (result.charset_used == "us-ascii" && bytes.find("\x1b$") != std::string_view::npos) {
      return ToUtf8(bytes, "iso-2022-jp");
    }
    return result;
  }
  // The candidates are judged on a sample, each stopping once it is worse than the best so far, so
  // that random bytes cost one conversion, not three.
  constexpr std::size_t kSampleBytes = 64 * 1024;
  const std::string_view sample = bytes.substr(0, kSampleBytes);
  const char* best = nullptr;
  std::size_t best_errors = SIZE_MAX;
  for (const char* candidate : {"EUC-JP-MS", "CP932", "WINDOWS-1252"}) {
    const Strict attempt = Convert(sample, candidate, best_errors == SIZE_MAX ? SIZE_MAX : best_errors);
    if (!attempt.opened || attempt.errors >= best_errors) continue;
    best = candidate;
    best_errors = attempt.errors;
    if (best_errors == 0) break;
  }
  if (best == nullptr) best = "WINDOWS-1252";
  Strict converted = Convert(bytes, best);
  result.text = std::move(converted.text);
  result.errors = converted.errors;
  result.charset_used = AsciiLower(best);
  return result;
}

}  // namespace

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    common::InitCrypto();  // attachments are hashed with common::Sha256Hex
  });
}

Utf8Text ToUtf8(std::string_view bytes, std::string_view charset) {
  const std::string name(Trim(charset));
  if (name.empty()) return Guess(bytes);
  const std::string lower = AsciiLower(name);
  if ((lower == "us-ascii" || lower == "ascii") && IsAscii(bytes)) {
    return Utf8Text{std::string(bytes), 0, false, "us-ascii"};
  }
  if (lower == "utf-8" || lower == "utf8") {
    if (common::IsValidUtf8(bytes)) return Utf8Text{std::string(bytes), 0, false, "utf-8"};
  }
  Strict strict = Convert(bytes, name.c_str());
  if (!strict.opened) {
    Utf8Text guessed = Guess(bytes);
    guessed.unknown_charset = true;
    return guessed;
  }
  Utf8Text result{std::move(strict.text), strict.errors, false, lower};
  if (result.errors == 0) return result;
  Strict wider;
  std::string wider_name;
  if (lower == "iso-2022-jp" || lower == "csiso2022jp") {
    wider = Convert(Iso2022JpAsEucJp(bytes), "EUC-JP-MS");
    wider_name = "iso-2022-jp (with extensions)";
  } else if (lower == "utf-8" || lower == "utf8" || lower == "us-ascii" || lower == "ascii") {
    Utf8Text guessed = Guess(bytes);  // 8-bit text mislabelled as ASCII or UTF-8
    if (guessed.errors < result.errors && lower != "utf-8" && lower != "utf8") return guessed;
    return result;
  } else if (const std::optional<std::string> superset = Superset(lower)) {
    wider = Convert(bytes, superset->c_str());
    wider_name = AsciiLower(*superset);
  }
  if (wider.opened && wider.errors < result.errors) {
    return Utf8Text{std::move(wider.text), wider.errors, false, wider_name};
  }
  return result;
}

std::optional<common::Timestamp> ParseMailDate(std::string_view text) {
  const std::string value(Trim(text));
  if (value.empty()) return std::nullopt;
  GDateTime* date = g_mime_utils_header_decode_date(value.c_str());
  if (date == nullptr) return std::nullopt;
  auto result = FromGDateTime(date);
  g_date_time_unref(date);
  return result;
}

const char** HeaderFallbackCharsets() {
  static const char* charsets[] = {"UTF-8", "EUC-JP-MS", "CP932", "WINDOWS-1252", nullptr};
  return charsets;
}

}  // namespace hikeshi::intake::mail::detail
