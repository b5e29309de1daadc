#include "detail/text.hpp"

#include <cstddef>

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::intake::mail::detail {

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

void AppendReplacement(std::string& out) { out += "\xEF\xBF\xBD"; }

std::string ValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t copied = 0;  // bytes[copied, pos) is well-formed and not yet in `out`
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const common::CodePoint code_point = common::DecodeUtf8(bytes, pos);
    if (code_point.length == 0) {
      out.append(bytes.substr(copied, pos - copied));
      AppendReplacement(out);
      copied = ++pos;
    } else {
      pos += code_point.length;
    }
  }
  out.append(bytes.substr(copied));
  return out;
}

std::string UnixLineEndings(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t cr = text.find('\r', pos);
    if (cr == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, cr - pos));
    out += '\n';
    pos = cr + 1;
    if (pos < text.size() && text[pos] == '\n') ++pos;
  }
  return out;
}

std::string CanonicalCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string OneLine(std::string_view text) {
  std::string out = ValidUtf8(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return std::string(Trim(out));
}

}  // namespace hikeshi::intake::mail::detail
