#include "detail/mime_text.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::notify::detail {
namespace {

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kHexDigits = "0123456789ABCDEF";
constexpr std::string_view kEncodedWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kQWordPrefix = "=?UTF-8?Q?";  // same length as the B prefix
constexpr std::string_view kEncodedWordSuffix = "?=";
constexpr std::size_t kMaxEncodedWord = 75;  // RFC 2047 section 2
constexpr std::size_t kMaxQpLine = 76;       // RFC 2045 section 6.7, rule 5
constexpr std::size_t kMaxPlainWord = 70;    // longer words in a Subject are encoded so they can fold
constexpr std::size_t kMinEncodedChunk = 9;  // bytes worth starting an encoded-word for on a line

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::size_t Base64Length(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

// The byte length of the longest prefix of text[pos..] that ends on a character boundary and is
// at most `limit` bytes. Malformed UTF-8 (already refused upstream) advances a byte at a time.
std::size_t PrefixOnCharBoundary(std::string_view text, std::size_t pos, std::size_t limit) {
  std::size_t end = pos;
  while (end < text.size()) {
    std::size_t step = std::max<std::size_t>(common::DecodeUtf8(text, end).length, 1);
    if (end + step - pos > limit) break;
    end += step;
  }
  return end - pos;
}

// The longest prefix of text[pos..] of at most `limit` bytes that ends on a character boundary and
// is a whole number of 3-byte groups; 0 when there is none.
std::size_t WholeTriplePrefix(std::string_view text, std::size_t pos, std::size_t limit) {
  std::size_t best = 0;
  std::size_t end = pos;
  while (end < text.size()) {
    std::size_t step = std::max<std::size_t>(common::DecodeUtf8(text, end).length, 1);
    if (end + step - pos > limit) break;
    end += step;
    if ((end - pos) % 3 == 0) best = end - pos;
  }
  return best;
}

// RFC 2047 Q encoding restricted to what is safe in a phrase too: letters and digits as they are,
// space as '_', everything else =XX.
std::size_t QLength(unsigned char byte) {
  bool alnum = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9');
  return alnum || byte == ' ' ? 1 : 3;
}

std::string QEncode(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == ' ') {
      out.push_back('_');
    } else if (QLength(byte) == 1) {
      out.push_back(c);
    } else {
      out.push_back('=');
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0x0f]);
    }
  }
  return out;
}

// The longest prefix on a character boundary whose Q encoding is at most `limit` characters.
std::size_t QEncodedPrefix(std::string_view text, std::size_t pos, std::size_t limit) {
  std::size_t end = pos;
  std::size_t encoded = 0;
  while (end < text.size()) {
    std::size_t step = std::max<std::size_t>(common::DecodeUtf8(text, end).length, 1);
    std::size_t cost = 0;
    for (std::size_t i = end; i < end + step && i < text.size(); ++i)
      cost += QLength(static_cast<unsigned char>(text[i]));
    if (encoded + cost > limit) break;
    encoded += cost;
    end += step;
  }
  return end - pos;
}

void AppendQpEscape(std::string& out, unsigned char byte) {
  out.push_back('=');
  out.push_back(kHexDigits[byte >> 4]);
  out.push_back(kHexDigits[byte & 0x0f]);
}

// Quoted-printable of one line (no CRLF), with soft breaks keeping each output line <= 76.
void EncodeQpLine(std::string& out, std::string_view line) {
  std::size_t column = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    auto byte = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    std::string piece;
    bool at_line_start = column == 0;
    if (byte == '=' || (byte < 0x20 && byte != '\t') || byte >= 0x7f) {
      AppendQpEscape(piece, byte);
    } else if (IsBlank(line[i]) && last) {
      AppendQpEscape(piece, byte);  // trailing blanks would be stripped in transit
    } else if (at_line_start && (byte == '.' || (byte == 'F' && line.substr(i).starts_with("From ")))) {
      AppendQpEscape(piece, byte);
    } else {
      piece.push_back(static_cast<char>(byte));
    }
    // Leave room for the soft break '=' unless this is the line's last piece.
    std::size_t room = last ? kMaxQpLine : kMaxQpLine - 1;
    if (column + piece.size() > room) {
      out += "=\r\n";
      column = 0;
      if (piece.size() == 1 && (byte == '.' || (byte == 'F' && line.substr(i).starts_with("From ")))) {
        piece.clear();
        AppendQpEscape(piece, byte);
      }
    }
    out += piece;
    column += piece.size();
  }
}

}  // namespace

std::string Base64Encode(std::string_view data, std::size_t line_length) {
  std::string out;
  out.reserve(Base64Length(data.size()) * (line_length > 0 ? 2 : 1));
  std::size_t column = 0;
  auto put = [&](char c) {
    out.push_back(c);
    if (line_length > 0 && ++column == line_length) {
      out += "\r\n";
      column = 0;
    }
  };
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    auto a = static_cast<unsigned char>(data[i]);
    auto b = static_cast<unsigned char>(data[i + 1]);
    auto c = static_cast<unsigned char>(data[i + 2]);
    put(kBase64Alphabet[a >> 2]);
    put(kBase64Alphabet[((a & 0x03) << 4) | (b >> 4)]);
    put(kBase64Alphabet[((b & 0x0f) << 2) | (c >> 6)]);
    put(kBase64Alphabet[c & 0x3f]);
  }
  if (std::size_t rest = data.size() - i; rest > 0) {
    auto a = static_cast<unsigned char>(data[i]);
    auto b = rest == 2 ? static_cast<unsigned char>(data[i + 1]) : 0;
    put(kBase64Alphabet[a >> 2]);
    put(kBase64Alphabet[((a & 0x03) << 4) | (b >> 4)]);
    put(rest == 2 ? kBase64Alphabet[(b & 0x0f) << 2] : '=');
    put('=');
  }
  if (line_length > 0 && column > 0) out += "\r\n";
  return out;
}

std::string QuotedPrintableEncode(std::string_view crlf_text) {
  std::string out;
  out.reserve(crlf_text.size() + crlf_text.size() / 4);
  while (!crlf_text.empty()) {
    std::size_t eol = crlf_text.find("\r\n");
    EncodeQpLine(out, crlf_text.substr(0, eol));
    if (eol == std::string_view::npos) break;
    out += "\r\n";
    crlf_text.remove_prefix(eol + 2);
  }
  return out;
}

bool IsSafe7bit(std::string_view crlf_text) {
  while (!crlf_text.empty()) {
    std::size_t eol = crlf_text.find("\r\n");
    std::string_view line = crlf_text.substr(0, eol);
    if (line.size() > kMaxQpLine) return false;
    if (!line.empty() && (IsBlank(line.back()) || line.front() == '.')) return false;
    if (line.starts_with("From ")) return false;
    for (char c : line) {
      auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t') || byte >= 0x7f) return false;
    }
    if (eol == std::string_view::npos) break;
    crlf_text.remove_prefix(eol + 2);
  }
  return true;
}

std::string FormatMailDate(common::Timestamp t) {
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto days = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day date{days};
  std::chrono::hh_mm_ss time{seconds - days};
  std::chrono::weekday weekday{days};
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", kDays[weekday.c_encoding()],
                     static_cast<unsigned>(date.day()), kMonths[static_cast<unsigned>(date.month()) - 1],
                     static_cast<int>(date.year()), time.hours().count(), time.minutes().count(),
                     time.seconds().count());
}

HeaderFolder::HeaderFolder(std::string_view name) : line_(std::string(name) + ":"), name_length_(name.size()) {}

void HeaderFolder::Fold() {
  out_ += line_;
  out_ += "\r\n";
  line_.clear();
}

void HeaderFolder::Append(std::string_view space, std::string_view atom) {
  bool line_has_content = line_.size() > (out_.empty() ? name_length_ + 1 : 0);
  if (!space.empty() && line_has_content && line_.size() + space.size() + atom.size() > kMaxHeaderLine) Fold();
  line_ += space;
  line_ += atom;
}

void HeaderFolder::AppendEncoded(std::string_view space, std::string_view text) {
  const std::size_t overhead = kEncodedWordPrefix.size() + kEncodedWordSuffix.size();
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::string_view separator = first ? space : std::string_view(" ");
    std::size_t column = line_.size() + separator.size();
    std::size_t room = std::min(kMaxEncodedWord, column < kMaxHeaderLine ? kMaxHeaderLine - column : 0);
    std::size_t max_bytes = room > overhead ? (room - overhead) / 4 * 3 : 0;
    std::size_t take = PrefixOnCharBoundary(text, pos, max_bytes);
    bool line_has_content = line_.size() > (out_.empty() ? name_length_ + 1 : 0);
    bool too_small = take == 0 || (take < kMinEncodedChunk && pos + take < text.size());
    if (too_small && line_has_content && !separator.empty()) {
      Fold();
      continue;
    }
    if (take == 0) take = std::max<std::size_t>(PrefixOnCharBoundary(text, pos, 4), 1);
    // A B-word that is not the last must hold whole 3-byte groups: its padding would otherwise make
    // decoders that join adjacent words into one base64 stream (GMime does) stop there. When no
    // character boundary allows that, this one word goes as Q instead.
    if (pos + take < text.size() && take % 3 != 0) take = WholeTriplePrefix(text, pos, take);
    line_ += separator;
    if (take > 0) {
      line_ += kEncodedWordPrefix;
      line_ += Base64Encode(text.substr(pos, take));
    } else {
      take = std::max<std::size_t>(QEncodedPrefix(text, pos, room > overhead ? room - overhead : 0), 1);
      line_ += kQWordPrefix;
      line_ += QEncode(text.substr(pos, take));
    }
    line_ += kEncodedWordSuffix;
    pos += take;
    first = false;
  }
}

void HeaderFolder::AppendUnstructured(std::string_view text) {
  auto needs_encoding = [](std::string_view word) {
    if (word.size() > kMaxPlainWord || word.find("=?") != std::string_view::npos) return true;
    return std::any_of(word.begin(), word.end(), [](char c) {
      auto byte = static_cast<unsigned char>(c);
      return byte < 0x20 || byte >= 0x7f;
    });
  };
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t word_start = pos;
    while (word_start < text.size() && IsBlank(text[word_start])) ++word_start;
    std::string_view space = first ? std::string_view(" ") : text.substr(pos, word_start - pos);
    std::size_t word_end = word_start;
    while (word_end < text.size() && !IsBlank(text[word_end])) ++word_end;
    std::string_view word = text.substr(word_start, word_end - word_start);
    if (word.empty()) break;  // trailing blanks; callers trim them
    if (needs_encoding(word)) {
      AppendEncoded(space, text.substr(word_start));
      return;
    }
    Append(space, word);
    pos = word_end;
    first = false;
  }
}

std::string HeaderFolder::Finish() && {
  out_ += line_;
  out_ += "\r\n";
  return std::move(out_);
}

}  // namespace hikeshi::notify::detail
