#include "detail/text.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "hikeshi/common/utf8.hpp"
#include "hikeshi/intake/feed/event.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

constexpr std::size_t kMaxQuotedBytes = 100;

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence at text[pos], or 0.
std::size_t Utf8Length(std::string_view text, std::size_t pos) { return common::DecodeUtf8(text, pos).length; }

bool IsControl(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

std::string HexEscape(unsigned char byte) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  return std::string("\\x") + kDigits[byte >> 4] + kDigits[byte & 0xf];
}

}  // namespace

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithIgnoreCase(a, b);
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (LowerChar(text[i]) != LowerChar(prefix[i])) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (StartsWithIgnoreCase(text.substr(i), needle)) return true;
  }
  return false;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  std::size_t pos = 0;
  while (pos < text.size() && pos < kMaxQuotedBytes) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    const std::size_t length = Utf8Length(text, pos);
    if (length == 0 || IsControl(byte)) {
      out += HexEscape(byte);
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  if (pos < text.size()) out += "...";
  out += "'";
  return out;
}

namespace {
// True when CleanText would return `trimmed` unchanged: printable ASCII, no run of spaces, short
// enough. Most feed text is; checking is much cheaper than rebuilding it piece by piece. Eight
// bytes at a time: this runs over several fields of every event. A false "no" costs only the
// slow path; a false "yes" cannot happen (each test below misses no byte it looks for).
bool IsClean(std::string_view trimmed, std::size_t max_bytes) {
  if (trimmed.size() > max_bytes) return false;
  static_assert(std::endian::native == std::endian::little, "the word tests below read bytes in little-endian order");
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* data = trimmed.data();
  const std::size_t size = trimmed.size();
  std::uint64_t space_before = 0;  // the previous word's last byte was a space
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t x = 0;
    std::memcpy(&x, data + i, 8);
    const std::uint64_t below_space = (x - 0x20 * kOnes) & ~x & kHigh;  // a byte < 0x20
    const std::uint64_t not_ascii = ((x + kOnes) | x) & kHigh;          // a byte >= 0x7f
    if ((below_space | not_ascii) != 0) return false;
    const std::uint64_t y = x ^ (0x20 * kOnes);
    const std::uint64_t spaces = (y - kOnes) & ~y & kHigh;  // every space (and maybe a '!' after one)
    if ((spaces & (spaces << 8)) != 0 || (space_before != 0 && (spaces & 0x80) != 0)) return false;
    space_before = spaces >> 63;
  }
  char previous = space_before != 0 ? ' ' : 'x';
  for (; i < size; ++i) {
    const char c = data[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || (c == ' ' && previous == ' ')) return false;
    previous = c;
  }
  return true;
}
}  // namespace

void CleanTextInto(std::string_view text, std::string& out, std::size_t max_bytes) {
  const std::string_view trimmed = Trim(text);
  if (IsClean(trimmed, max_bytes)) {
    out.assign(trimmed);
  } else {
    out = CleanText(trimmed, max_bytes);
  }
}

std::string CleanText(std::string_view text, std::size_t max_bytes) {
  text = Trim(text);
  if (IsClean(text, max_bytes)) return std::string(text);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  bool pending_space = false;
  // Appends `piece` after any pending space; false once it would not fit.
  const auto append = [&](std::string_view piece) {
    const bool space = pending_space && !out.empty();
    if (out.size() + piece.size() + (space ? 1 : 0) > max_bytes) return false;
    if (space) out += ' ';
    pending_space = false;
    out.append(piece);
    return true;
  };
  for (std::size_t pos = 0; pos < text.size();) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte > 0x20 && byte < 0x7f) {
      // A run of printable ASCII, the usual case, goes in one piece.
      std::size_t end = pos + 1;
      while (end < text.size() && static_cast<unsigned char>(text[end]) > 0x20 &&
             static_cast<unsigned char>(text[end]) < 0x7f) {
        ++end;
      }
      std::string_view run = text.substr(pos, end - pos);
      if (!append(run)) {
        const std::size_t room = max_bytes - out.size() - (pending_space && !out.empty() ? 1 : 0);
        if (room > 0 && room < run.size()) append(run.substr(0, room));
        break;
      }
      pos = end;
    } else if (byte <= 0x20 || byte == 0x7f) {
      pending_space = true;
      ++pos;
    } else {
      const std::size_t length = Utf8Length(text, pos);
      if (!append(length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(pos, length))) break;
      pos += length == 0 ? 1 : length;
    }
  }
  return out;
}

std::string RejectRaw(std::string_view raw) { return std::string(raw.substr(0, kMaxRejectRawBytes)); }

std::optional<common::Timestamp> ParseFeedTime(std::string_view text) {
  text = Trim(text);
  // Suricata's "+0000" would fail RFC 3339 only after a full parse; go straight to the rewrite.
  const bool compact_offset = text.size() > 5 && (text[text.size() - 5] == '+' || text[text.size() - 5] == '-') &&
                              std::all_of(text.end() - 4, text.end(), IsDigit);
  if (!compact_offset) {
    if (auto parsed = common::ParseRfc3339(text)) return parsed;
  }
  // A bare date: "2026-11-27".
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    return common::ParseRfc3339(std::string(text) + "T00:00:00Z");
  }
  if (text.size() < 19 || text.size() > 64) return std::nullopt;
  // Past "YYYY-MM-DDThh:mm:ss" and any fraction: what is left is the zone, if any.
  std::size_t zone = 19;
  if (zone < text.size() && text[zone] == '.') {
    ++zone;
    while (zone < text.size() && IsDigit(text[zone])) ++zone;
  }
  const std::string_view head = text.substr(0, zone);
  const std::string_view tail = Trim(text.substr(zone));
  // The RFC 3339 spelling is built in a small local buffer: this runs for every Suricata alert.
  std::array<char, 80> buffer{};
  std::size_t size = 0;
  const auto put = [&](std::string_view piece) {
    piece.copy(buffer.data() + size, piece.size());
    size += piece.size();
  };
  put(head);
  if (tail.empty() || tail == "UTC" || tail == "GMT") {
    put("Z");
  } else if (tail.size() == 5 && (tail[0] == '+' || tail[0] == '-') &&
             std::all_of(tail.begin() + 1, tail.end(), IsDigit)) {
    // "+0000" / "-0530" (Suricata, many syslog tools).
    put(tail.substr(0, 3));
    put(":");
    put(tail.substr(3));
  } else {
    return std::nullopt;
  }
  return common::ParseRfc3339(std::string_view(buffer.data(), size));
}

std::optional<common::Timestamp> ParseEpoch(std::string_view text, bool millis) {
  text = Trim(text);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 16 || !std::all_of(whole.begin(), whole.end(), IsDigit)) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), IsDigit))) {
    return std::nullopt;
  }
  std::int64_t units = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), units);
  const std::int64_t micros_per_unit = millis ? 1'000 : 1'000'000;
  // Beyond year 9999 a number is not a time any feed means.
  constexpr std::int64_t kMaxSeconds = 253'402'300'799;
  if (units / (millis ? 1000 : 1) > kMaxSeconds) return std::nullopt;
  std::int64_t micros = units * micros_per_unit;
  std::int64_t scale = micros_per_unit / 10;
  for (char c : fraction) {
    if (scale == 0) break;
    micros += (c - '0') * scale;
    scale /= 10;
  }
  return common::FromMicros(micros);
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  text = Trim(text);
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), IsDigit)) return std::nullopt;
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace hikeshi::intake::feed::detail
