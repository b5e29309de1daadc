#include "detail/chars.hpp"

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::extract::detail {

CodePoint DecodeAt(std::string_view text, std::size_t pos) { return common::DecodeUtf8(text, pos); }

CodePoint DecodeBefore(std::string_view text, std::size_t end) { return common::DecodeUtf8Before(text, end); }

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
