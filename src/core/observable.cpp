#include "hikeshi/core/observable.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <arpa/inet.h>

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::core {

namespace {

// Internal parsers return why a value was refused; the public functions wrap that reason into one
// message of the form "'<input>' is not <a thing>: <reason>", so every error reads the same way.
template <typename T>
using Parsed = std::expected<T, std::string>;
using Refusal = std::unexpected<std::string>;

using Ipv4Bytes = std::array<std::uint8_t, 4>;
using Ipv6Bytes = std::array<std::uint8_t, 16>;

constexpr std::size_t kMaxDomainLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxUrlLength = 4096;
constexpr std::size_t kMaxEmailLocalLength = 64;
constexpr std::size_t kMaxFilenameLength = 255;
// The longest IPv6 text inet_pton can accept: six four-digit groups and a dotted quad.
constexpr std::size_t kMaxIpv6TextLength = 45;
// Error messages quote the input; a pasted megabyte must not be echoed back whole.
constexpr std::size_t kMaxQuotedLength = 100;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsAsciiWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
// C0 controls and DEL. Space is handled separately, as whitespace.
bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (!IsDigit(c)) return false;
  }
  return !text.empty();
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsAsciiWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

std::string HexByte(unsigned char byte) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  return std::string("0x") + kDigits[byte >> 4] + kDigits[byte & 0xf];
}

// "'_'" for a printable character, "a space", or "byte 0x09" for anything a terminal would not show.
std::string DescribeChar(char c) {
  if (c == ' ') return "a space";
  if (IsControl(c) || IsNonAscii(c)) return "byte " + HexByte(static_cast<unsigned char>(c));
  return std::string("'") + c + "'";
}

// Length in bytes of the well-formed UTF-8 sequence starting at text[pos], or 0 if it is not one.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t pos, char32_t* code_point = nullptr) {
  const common::CodePoint cp = common::DecodeUtf8(text, pos);
  if (code_point != nullptr && cp.length != 0) *code_point = cp.value;
  return cp.length;
}

// Stored values end up in JSON and in mail; both need valid UTF-8.
bool IsValidUtf8(std::string_view text) { return common::IsValidUtf8(text); }

// The input as it appears in an error message: in quotes, shortened, with control characters and
// broken UTF-8 shown as \xNN so that the message itself stays printable, valid UTF-8.
std::string Quote(std::string_view raw) {
  std::string out = "'";
  std::size_t pos = 0;
  while (pos < raw.size() && pos < kMaxQuotedLength) {
    const std::size_t length = Utf8SequenceLength(raw, pos);
    if (length == 0 || IsControl(raw[pos])) {
      out += "\\x" + HexByte(static_cast<unsigned char>(raw[pos])).substr(2);
      ++pos;
    } else {
      out.append(raw.substr(pos, length));
      pos += length;
    }
  }
  if (pos < raw.size()) out += "...";
  out += "'";
  return out;
}

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message), "/value"); }

// "'<raw>' is not <what>: <reason>".
Error NotA(std::string_view raw, std::string_view what, std::string_view reason) {
  return Invalid(Quote(raw) + " is not " + std::string(what) + ": " + std::string(reason));
}

// ---- IP addresses ----------------------------------------------------------------------------

// Strict dotted quad. Leading zeros are refused rather than read as decimal, because inet_aton and
// many tools read "010" as octal 8: the same text would name two different hosts.
Parsed<Ipv4Bytes> ParseIpv4(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return Refusal("it looks like an IPv6 address; use type ipv6");
  if (text.find('/') != std::string_view::npos) return Refusal("it has a prefix length; use type cidr");
  std::size_t dots = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (!IsDigit(c)) {
      return Refusal(DescribeChar(c) + " is not allowed (digits and dots only)");
    }
  }
  if (dots > 3) return Refusal("it has more than four numbers");
  if (dots < 3) return Refusal("it needs four decimal numbers separated by dots");

  Ipv4Bytes bytes{};
  std::size_t start = 0;
  for (std::uint8_t& byte : bytes) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    start = dot + 1;
    if (part.empty()) return Refusal("it needs four decimal numbers separated by dots, and one of them is empty");
    if (part.size() > 1 && part.front() == '0') {
      return Refusal("'" + std::string(part) + "' has a leading zero, which some tools read as octal");
    }
    unsigned value = 256;
    if (part.size() <= 3) std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 255) return Refusal(std::string(part) + " is over 255");
    byte = static_cast<std::uint8_t>(value);
  }
  return bytes;
}

std::string FormatIpv4(const Ipv4Bytes& bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += '.';
    out += std::to_string(bytes[i]);
  }
  return out;
}

// Plain IPv6 text, without brackets. inet_pton does the parsing; what it refuses is explained here
// in words where a likely cause can be named.
Parsed<Ipv6Bytes> ParseIpv6(std::string_view text) {
  if (const std::size_t percent = text.find('%'); percent != std::string_view::npos) {
    return Refusal("zone ids (" + Quote(text.substr(percent)) +
                   ") only mean something on one host; give the address without it");
  }
  if (text.find(':') == std::string_view::npos) {
    if (ParseIpv4(text)) return Refusal("it is an IPv4 address; use type ipv4");
    return Refusal("it has no ':'");
  }
  for (char c : text) {
    if (!IsHexDigit(c) && c != ':' && c != '.') {
      return Refusal(DescribeChar(c) + " is not allowed (hex digits, ':' and an optional trailing dotted quad only)");
    }
  }
  if (text.size() > kMaxIpv6TextLength) return Refusal("it is too long");
  // inet_pton would refuse a bad trailing dotted quad too, but without saying why.
  if (const std::size_t first_dot = text.find('.'); first_dot != std::string_view::npos) {
    const std::size_t last_colon = text.rfind(':');
    if (first_dot < last_colon) return Refusal("a dotted IPv4 part may only come last, as in ::ffff:192.0.2.1");
    const std::string_view quad = text.substr(last_colon + 1);
    if (auto parsed = ParseIpv4(quad); !parsed) {
      return Refusal("its embedded IPv4 part '" + std::string(quad) + "' is invalid: " + parsed.error());
    }
  }
  Ipv6Bytes bytes{};
  const std::string terminated(text);  // inet_pton wants a NUL-terminated string.
  if (inet_pton(AF_INET6, terminated.c_str(), bytes.data()) != 1) {
    if (const std::size_t first = text.find("::");
        first != std::string_view::npos && text.find("::", first + 1) != std::string_view::npos) {
      return Refusal("'::' may appear only once");
    }
    return Refusal("it is not written as eight groups of up to four hex digits separated by ':' (RFC 4291)");
  }
  return bytes;
}

// RFC 5952: lower-case hex, no leading zeros, the longest run of two or more zero groups (the first
// one on a tie) shortened to "::". Mixed notation is used only for IPv4-mapped addresses
// (::ffff:0:0/96), which dual-stack servers write into their logs. glibc's inet_ntop also uses it
// for the deprecated IPv4-compatible range and so prints ::1:0 as "::0.1.0.0"; handlers would not
// recognise that, hence this formatter.
std::string FormatIpv6(const Ipv6Bytes& bytes) {
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i] = (unsigned{bytes[2 * i]} << 8) | bytes[2 * i + 1];
  const bool mapped =
      groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0 && groups[5] == 0xffff;
  const std::size_t hex_groups = mapped ? 6 : 8;

  std::size_t best_start = hex_groups;
  std::size_t best_length = 1;  // a single zero group is never shortened
  for (std::size_t i = 0; i < hex_groups;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < hex_groups && groups[end] == 0) ++end;
    if (end - i > best_length) {
      best_start = i;
      best_length = end - i;
    }
    i = end;
  }

  std::string out;
  for (std::size_t i = 0; i < hex_groups;) {
    if (i == best_start) {
      out += "::";
      i += best_length;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::array<char, 4> hex{};
    const auto result = std::to_chars(hex.data(), hex.data() + hex.size(), groups[i], 16);
    out.append(hex.data(), result.ptr);
    ++i;
  }
  if (mapped) {
    if (out.back() != ':') out += ':';
    out += FormatIpv4({bytes[12], bytes[13], bytes[14], bytes[15]});
  }
  return out;
}

// ---- Domains -------------------------------------------------------------------------------

// `text` is already trimmed. Returns the lower-case name without its trailing dot.
Parsed<std::string> ParseDomain(std::string_view text) {
  if (text.empty()) return Refusal("it is empty");
  for (char c : text) {
    if (IsNonAscii(c)) {
      return Refusal("internationalised (U-label) names must be given in punycode (xn--...) for now");
    }
  }
  std::string name = ToLowerAscii(text);
  if (name.back() == '.') name.pop_back();  // the root label: "example.org." is "example.org"
  if (name.size() > kMaxDomainLength) {
    return Refusal("it is " + std::to_string(name.size()) + " characters long; the limit is 253");
  }
  for (char c : name) {
    if (!IsAsciiAlpha(c) && !IsDigit(c) && c != '-' && c != '.') {
      return Refusal(DescribeChar(c) + " is not allowed (letters, digits, '-' and '.' only)");
    }
  }
  std::size_t labels = 0;
  std::string_view last_label;
  for (std::size_t start = 0;;) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label = std::string_view(name).substr(start, dot == std::string::npos ? dot : dot - start);
    if (label.empty()) return Refusal("it has an empty label (two dots in a row, or a leading dot)");
    if (label.size() > kMaxLabelLength) {
      return Refusal("the label '" + std::string(label.substr(0, 20)) + "...' is " + std::to_string(label.size()) +
                     " characters long; the limit is 63");
    }
    if (label.front() == '-' || label.back() == '-') {
      return Refusal("the label '" + std::string(label) + "' starts or ends with '-'");
    }
    ++labels;
    last_label = label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (labels < 2) return Refusal("it needs at least two labels, such as example.org");
  if (AllDigits(last_label)) return Refusal("its last label is all digits, so it is an IP address, not a name");
  return name;
}

// ---- Observable types --------------------------------------------------------------------------

Result<std::string> NormalizeIpv4(std::string_view text) {
  auto bytes = ParseIpv4(text);
  if (!bytes) return Fail(NotA(text, "an IPv4 address", bytes.error()));
  return FormatIpv4(*bytes);
}

Result<std::string> NormalizeIpv6(std::string_view text) {
  std::string_view address = text;
  // URLs and many logs write IPv6 in brackets ("[2001:db8::1]").
  if (!address.empty() && address.front() == '[') {
    if (address.back() != ']') return Fail(NotA(text, "an IPv6 address", "its '[' has no closing ']'"));
    address = address.substr(1, address.size() - 2);
  } else if (!address.empty() && address.back() == ']') {
    return Fail(NotA(text, "an IPv6 address", "its ']' has no opening '['"));
  }
  auto bytes = ParseIpv6(address);
  if (!bytes) return Fail(NotA(text, "an IPv6 address", bytes.error()));
  return FormatIpv6(*bytes);
}

Result<std::string> NormalizeUrl(std::string_view text) {
  constexpr std::string_view kWhat = "a URL";
  if (text.size() > kMaxUrlLength) {
    return Fail(NotA(text, kWhat, "it is " + std::to_string(text.size()) + " bytes long; the limit is 4096"));
  }
  for (char c : text) {
    if (c == ' ' || IsControl(c)) {
      return Fail(NotA(text, kWhat,
                       IsAsciiWhitespace(c) ? "it contains whitespace; encode it as %20 or give the URL alone"
                                            : "it contains a control character (" + DescribeChar(c) + ")"));
    }
  }
  if (!IsValidUtf8(text)) return Fail(NotA(text, kWhat, "it is not valid UTF-8"));

  const std::size_t separator = text.find("://");
  if (separator == std::string_view::npos) {
    return Fail(NotA(text, kWhat, "it needs a scheme followed by '://', such as http:// or https://"));
  }
  const std::string_view scheme = text.substr(0, separator);
  bool scheme_ok = !scheme.empty() && IsAsciiAlpha(scheme.front());
  for (char c : scheme) {
    scheme_ok = scheme_ok && (IsAsciiAlpha(c) || IsDigit(c) || c == '+' || c == '.' || c == '-');
  }
  if (!scheme_ok) return Fail(NotA(text, kWhat, "its scheme '" + std::string(scheme) + "' is not a valid scheme"));

  const std::string_view after_scheme = text.substr(separator + 3);
  const std::size_t authority_end = after_scheme.find_first_of("/?#");
  const std::string_view authority = after_scheme.substr(0, authority_end);
  // Browsers end the host at a backslash as they do at '/', other parsers do not: in a browser,
  // "http://evil.example\@bank.example/" opens evil.example. Such a URL has no one host, so it is refused.
  if (authority.find('\\') != std::string_view::npos) {
    return Fail(NotA(text, kWhat, "a '\\' before the path is read as '/' by browsers but not by other tools"));
  }
  const std::string_view rest =
      authority_end == std::string_view::npos ? std::string_view() : after_scheme.substr(authority_end);

  // user:password@ is kept as given: phishing URLs hide the real host behind a fake one there.
  const std::size_t at = authority.rfind('@');
  const std::string_view userinfo = at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
  const std::string_view host_port = at == std::string_view::npos ? authority : authority.substr(at + 1);

  std::string_view host = host_port;
  std::string_view port;
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    const std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) return Fail(NotA(text, kWhat, "its host has a '[' without ']'"));
    host = host_port.substr(0, close + 1);
    const std::string_view after_host = host_port.substr(close + 1);
    if (!after_host.empty()) {
      if (after_host.front() != ':') {
        return Fail(NotA(text, kWhat, "only a ':port' may follow the ']' of its host"));
      }
      has_port = true;
      port = after_host.substr(1);
    }
  } else if (const std::size_t colon = host_port.rfind(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    has_port = true;
    port = host_port.substr(colon + 1);
  }
  if (host.empty()) return Fail(NotA(text, kWhat, "it has no host"));
  unsigned port_number = 65536;
  if (has_port) {
    if (AllDigits(port) && port.size() <= 5) std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (port_number > 65535) {
      return Fail(NotA(text, kWhat, "its port '" + std::string(port) + "' is not a number from 0 to 65535"));
    }
  }

  std::string normalised_host;
  if (host.front() == '[') {
    auto bytes = ParseIpv6(host.substr(1, host.size() - 2));
    if (!bytes) {
      return Fail(NotA(text, kWhat, "its host " + Quote(host) + " is not an IPv6 address: " + bytes.error()));
    }
    normalised_host = "[" + FormatIpv6(*bytes) + "]";
  } else if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    auto bytes = ParseIpv4(host);
    if (!bytes) {
      return Fail(NotA(text, kWhat, "its host " + Quote(host) + " is not an IPv4 address: " + bytes.error()));
    }
    normalised_host = FormatIpv4(*bytes);
  } else {
    auto name = ParseDomain(host);
    if (!name) return Fail(NotA(text, kWhat, "its host " + Quote(host) + " is not a domain name: " + name.error()));
    normalised_host = std::move(*name);
  }

  std::string out = ToLowerAscii(scheme);
  out += "://";
  out += userinfo;
  out += normalised_host;
  if (has_port) out += ":" + std::to_string(port_number);  // ":080" and ":80" are one port
  out += rest;
  return out;
}

// RFC 5322 atext: the characters an unquoted local part may hold besides '.'.
bool IsAtext(char c) {
  return IsAsciiAlpha(c) || IsDigit(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

Result<std::string> NormalizeEmail(std::string_view text) {
  constexpr std::string_view kWhat = "an e-mail address";
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos) return Fail(NotA(text, kWhat, "it has no '@'"));
  if (text.find('@', at + 1) != std::string_view::npos) return Fail(NotA(text, kWhat, "it has more than one '@'"));
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (local.empty()) return Fail(NotA(text, kWhat, "nothing comes before the '@'"));
  if (local.size() > kMaxEmailLocalLength) {
    return Fail(NotA(text, kWhat,
                     "the part before '@' is " + std::to_string(local.size()) + " characters long; the limit is 64"));
  }
  // Dots are not checked for position: Japanese mobile carriers issued addresses such as
  // "taro..yamada.@docomo.ne.jp", and abuse reports about them must still be recorded.
  // Characters that need quoting (':', '<', '"', ...) are refused, which also catches "mailto:"
  // and "<user@example.org>" pasted whole.
  for (char c : local) {
    if (!IsAtext(c) && c != '.') {
      return Fail(NotA(text, kWhat, DescribeChar(c) + " is not allowed before the '@'"));
    }
  }
  auto name = ParseDomain(domain);
  if (!name) return Fail(NotA(text, kWhat, "its domain " + Quote(domain) + " is not valid: " + name.error()));
  return std::string(local) + "@" + *name;
}

Result<std::string> NormalizeHash(std::string_view text, std::size_t digits, std::string_view what) {
  for (char c : text) {
    if (!IsHexDigit(c)) return Fail(NotA(text, what, DescribeChar(c) + " is not a hex digit"));
  }
  if (text.size() != digits) {
    return Fail(
        NotA(text, what, "it has " + std::to_string(text.size()) + " hex digits; expected " + std::to_string(digits)));
  }
  return ToLowerAscii(text);
}

Result<std::string> NormalizeAsn(std::string_view text) {
  constexpr std::string_view kWhat = "an AS number";
  std::string_view digits = text;
  if (digits.size() >= 2 && EqualsIgnoreCase(digits.substr(0, 2), "AS")) digits.remove_prefix(2);
  if (!AllDigits(digits)) return Fail(NotA(text, kWhat, "expected AS followed by a decimal number, as in AS64500"));
  if (digits.size() > 1 && digits.front() == '0') return Fail(NotA(text, kWhat, "the number has a leading zero"));
  std::uint64_t value = UINT64_MAX;
  if (digits.size() <= 10) std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (value == 0) return Fail(NotA(text, kWhat, "AS0 is reserved and never routed (RFC 7607)"));
  if (value > 4294967295u) return Fail(NotA(text, kWhat, "it is over 4294967295, the largest AS number"));
  return "AS" + std::to_string(value);
}

Result<std::string> NormalizeCve(std::string_view text) {
  constexpr std::string_view kWhat = "a CVE id";
  constexpr std::string_view kShape = "expected CVE-<year>-<number of 4 or more digits>, as in CVE-2024-12345";
  if (text.size() < 13 || !EqualsIgnoreCase(text.substr(0, 4), "CVE-") || text[8] != '-') {
    return Fail(NotA(text, kWhat, kShape));
  }
  const std::string_view year = text.substr(4, 4);
  const std::string_view number = text.substr(9);
  if (!AllDigits(year) || !AllDigits(number)) return Fail(NotA(text, kWhat, kShape));
  int year_value = 0;
  std::from_chars(year.data(), year.data() + year.size(), year_value);
  if (year_value < 1999 || year_value > 2100) {
    return Fail(NotA(text, kWhat, "its year " + std::string(year) + " is outside 1999-2100"));
  }
  // The CVE id syntax pads to four digits and no further, so CVE-2024-01234 names nothing.
  if (number.size() > 4 && number.front() == '0') {
    return Fail(NotA(text, kWhat, "numbers longer than four digits have no leading zero"));
  }
  return "CVE-" + std::string(year) + "-" + std::string(number);
}

Result<std::string> NormalizeFilename(std::string_view text) {
  constexpr std::string_view kWhat = "a file name";
  if (text.size() > kMaxFilenameLength) {
    return Fail(NotA(text, kWhat, "it is " + std::to_string(text.size()) + " bytes long; the limit is 255"));
  }
  for (char c : text) {
    if (c == '/' || c == '\\') {
      return Fail(NotA(text, kWhat, "it contains a path separator (" + DescribeChar(c) + "); give the name only"));
    }
    if (IsControl(c)) return Fail(NotA(text, kWhat, "it contains a control character (" + DescribeChar(c) + ")"));
  }
  // Other code points, such as the right-to-left override that disguises "invoice\u202Efdp.exe",
  // are kept: they are the evidence.
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t code_point = 0;
    const std::size_t length = Utf8SequenceLength(text, pos, &code_point);
    if (length == 0) return Fail(NotA(text, kWhat, "it is not valid UTF-8"));
    if (code_point >= 0x80 && code_point <= 0x9f) {
      return Fail(
          NotA(text, kWhat, "it contains a control character (U+00" + HexByte(code_point & 0xff).substr(2) + ")"));
    }
    pos += length;
  }
  return std::string(text);
}

struct TypeName {
  ObservableType type;
  std::string_view name;
};
constexpr std::array<TypeName, 12> kTypeNames{{
    {ObservableType::kIpv4, "ipv4"},
    {ObservableType::kIpv6, "ipv6"},
    {ObservableType::kCidr, "cidr"},
    {ObservableType::kDomain, "domain"},
    {ObservableType::kUrl, "url"},
    {ObservableType::kEmail, "email"},
    {ObservableType::kMd5, "md5"},
    {ObservableType::kSha1, "sha1"},
    {ObservableType::kSha256, "sha256"},
    {ObservableType::kAsn, "asn"},
    {ObservableType::kCve, "cve"},
    {ObservableType::kFilename, "filename"},
}};

}  // namespace

std::string_view ObservableTypeName(ObservableType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

// Case-insensitive, so that "IPv4" or "SHA256" typed by a person is understood.
std::optional<ObservableType> ParseObservableType(std::string_view text) {
  for (const TypeName& entry : kTypeNames) {
    if (EqualsIgnoreCase(text, entry.name)) return entry.type;
  }
  return std::nullopt;
}

// Surrounding whitespace is dropped for every type: values are pasted from mail and spreadsheets.
Result<Observable> NormalizeObservable(ObservableType type, std::string_view raw) {
  const std::string_view text = Trim(raw);
  if (text.empty()) return Fail(Invalid("the " + std::string(ObservableTypeName(type)) + " value is empty"));
  Result<std::string> value = [&]() -> Result<std::string> {
    switch (type) {
      case ObservableType::kIpv4:
        return NormalizeIpv4(text);
      case ObservableType::kIpv6:
        return NormalizeIpv6(text);
      case ObservableType::kCidr:
        return NormalizeCidr(text);
      case ObservableType::kDomain:
        return NormalizeDomain(text);
      case ObservableType::kUrl:
        return NormalizeUrl(text);
      case ObservableType::kEmail:
        return NormalizeEmail(text);
      case ObservableType::kMd5:
        return NormalizeHash(text, 32, "an MD5 hash");
      case ObservableType::kSha1:
        return NormalizeHash(text, 40, "a SHA-1 hash");
      case ObservableType::kSha256:
        return NormalizeHash(text, 64, "a SHA-256 hash");
      case ObservableType::kAsn:
        return NormalizeAsn(text);
      case ObservableType::kCve:
        return NormalizeCve(text);
      case ObservableType::kFilename:
        return NormalizeFilename(text);
    }
    return Fail(Invalid("unknown observable type"));
  }();
  if (!value) return Fail(std::move(value).error());
  return Observable{type, std::move(*value)};
}

Result<std::string> NormalizeCidr(std::string_view raw) {
  constexpr std::string_view kWhat = "a CIDR prefix";
  const std::string_view text = Trim(raw);
  if (text.empty()) return Fail(Invalid("the cidr value is empty"));
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Fail(NotA(text, kWhat, "it has no prefix length; write a single address as /32 (IPv4) or /128 (IPv6)"));
  }
  const std::string_view address = text.substr(0, slash);
  const std::string_view length_text = text.substr(slash + 1);
  const bool v6 = address.find(':') != std::string_view::npos;
  const unsigned max_length = v6 ? 128 : 32;

  unsigned length = max_length + 1;
  if (AllDigits(length_text) && length_text.size() <= 3 && (length_text.size() == 1 || length_text.front() != '0')) {
    std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  }
  if (length > max_length) {
    return Fail(NotA(text, kWhat,
                     "its prefix length '" + std::string(length_text) + "' is not a number from 0 to " +
                         std::to_string(max_length)));
  }

  // Clears every bit after the first `length` bits: the prefix names a network, not a host in it.
  auto clear_host_bits = [length](auto& bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const unsigned bits_before = static_cast<unsigned>(i) * 8;
      if (bits_before >= length) {
        bytes[i] = 0;
      } else if (length - bits_before < 8) {
        bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (length - bits_before)));
      }
    }
  };
  if (v6) {
    auto bytes = ParseIpv6(address);
    if (!bytes) return Fail(NotA(text, kWhat, "its address is not IPv6: " + bytes.error()));
    clear_host_bits(*bytes);
    return FormatIpv6(*bytes) + "/" + std::to_string(length);
  }
  auto bytes = ParseIpv4(address);
  if (!bytes) return Fail(NotA(text, kWhat, "its address is not IPv4: " + bytes.error()));
  clear_host_bits(*bytes);
  return FormatIpv4(*bytes) + "/" + std::to_string(length);
}

Result<std::string> NormalizeDomain(std::string_view raw) {
  const std::string_view text = Trim(raw);
  auto name = ParseDomain(text);
  if (!name) return Fail(NotA(text, "a domain name", name.error()));
  return std::move(*name);
}

}  // namespace hikeshi::core
