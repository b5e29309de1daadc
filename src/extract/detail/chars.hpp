#pragma once
// Byte and code point classes the validators use to find where a candidate begins and ends.
// Input may be any bytes: broken UTF-8 decodes as "no code point" and delimits like punctuation.

#include <cstddef>
#include <string_view>

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::extract::detail {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
inline bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// What Hyperscan's \b treats as a word character: a candidate glued to one is part of a longer word.
inline bool IsWordByte(char c) { return IsAlnum(c) || c == '_'; }
inline bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

inline bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && EqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
}

using CodePoint = common::CodePoint;

// The well-formed UTF-8 sequence starting at text[pos].
CodePoint DecodeAt(std::string_view text, std::size_t pos);
// The well-formed UTF-8 sequence ending just before text[end].
CodePoint DecodeBefore(std::string_view text, std::size_t end);

// Which kind of domain label a character can belong to. A label holds characters of one kind, so
// that "サーバexample.com" yields example.com and "bücher.de" stays whole: Japanese text has no
// spaces, and the switch between scripts is the only word boundary there is.
enum class LabelClass {
  kNone,   // cannot be in a label: punctuation, spaces, symbols, broken UTF-8
  kLatin,  // ASCII letters, digits, '-', '_' and the alphabetic scripts written with them
  kCjk,    // kana, kanji, hangul: labels such as 例え.jp
};

LabelClass ClassOf(char32_t code_point);
inline bool IsHiragana(char32_t code_point) { return code_point >= 0x3041 && code_point <= 0x309f; }

}  // namespace hikeshi::extract::detail
