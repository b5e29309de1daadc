#include "detail/chars.hpp"

namespace hikeshi::extract::detail {

CodePoint DecodeAt(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return {};
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    value = lead & 0x1f;
    minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    value = lead & 0x0f;
    minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    value = lead & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (text.size() - pos < length) return {};
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xc0) != 0x80) return {};
    value = (value << 6) | (next & 0x3f);
  }
  if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return {};
  return {value, length};
}

CodePoint DecodeBefore(std::string_view text, std::size_t end) {
  if (end == 0 || end > text.size()) return {};
  // A sequence is at most four bytes: find its lead byte, then decode forwards.
  for (std::size_t back = 1; back <= 4 && back <= end; ++back) {
    const auto byte = static_cast<unsigned char>(text[end - back]);
    if ((byte & 0xc0) == 0x80) continue;
    const CodePoint cp = DecodeAt(text, end - back);
    return cp.length == back ? cp : CodePoint{};
  }
  return {};
}

LabelClass ClassOf(char32_t cp) {
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    return (IsAlnum(c) || c == '-' || c == '_') ? LabelClass::kLatin : LabelClass::kNone;
  }
  // Latin-1 punctuation, the multiplication and division signs.
  if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7) return LabelClass::kNone;
  // Latin, Greek, Cyrillic, Hebrew, Arabic, the Indic scripts, Thai... (libidn2 decides later what
  // IDNA2008 allows; this only finds where a label ends).
  if (cp < 0x2000) return LabelClass::kLatin;
  // General punctuation, symbols, arrows, maths, box drawing: “quotes”, …, →.
  if (cp < 0x2c00) return LabelClass::kNone;
  if (cp < 0x2e00) return LabelClass::kLatin;
  // Supplemental punctuation, CJK radicals, and CJK punctuation 、。「」 — except 々, used inside words.
  if (cp < 0x3040) return cp == 0x3005 ? LabelClass::kCjk : LabelClass::kNone;
  if (cp == 0x30fb) return LabelClass::kNone;  // ・ separates words
  if (cp < 0x3200) return LabelClass::kCjk;    // hiragana, katakana (with ー), bopomofo, kanbun
  if (cp < 0x3400) return LabelClass::kNone;   // enclosed and compatibility forms: ㈱ ㎡
  if (cp < 0x4dc0) return LabelClass::kCjk;
  if (cp < 0x4e00) return LabelClass::kNone;
  if (cp < 0xa000) return LabelClass::kCjk;
  if (cp < 0xac00) return LabelClass::kLatin;  // Yi, Vai, ...
  if (cp < 0xd800) return LabelClass::kCjk;    // hangul
  if (cp < 0xf900) return LabelClass::kNone;   // private use
  if (cp < 0xfb00) return LabelClass::kCjk;    // compatibility ideographs
  if (cp < 0xfe00) return LabelClass::kLatin;
  if (cp < 0xfe70) return LabelClass::kNone;  // variation selectors, vertical and small forms
  if (cp < 0xfeff) return LabelClass::kLatin;
  // Full-width ASCII is folded before scanning (or deliberately left alone); half-width katakana is a word.
  if (cp >= 0xff66 && cp <= 0xff9f) return LabelClass::kCjk;
  if (cp < 0x10000) return LabelClass::kNone;
  if (cp >= 0x20000 && cp < 0x40000) return LabelClass::kCjk;  // rare kanji
  return LabelClass::kNone;                                    // emoji and the rest
}

}  // namespace hikeshi::extract::detail
