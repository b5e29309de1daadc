#include "hikeshi/common/cjk_tokens.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace hikeshi::common {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

struct Decoded {
  char32_t cp;  // kInvalid for a byte that does not start a well-formed sequence
  int len;      // bytes consumed, at least 1
};

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. A bad sequence
// consumes one byte only, so decoding always advances and resynchronises on the next lead byte.
Decoded Decode(const unsigned char* p, std::size_t n) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return {b0, 1};
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (n >= 2 && IsContinuation(p[1])) return {static_cast<char32_t>(((b0 & 0x1F) << 6) | (p[1] & 0x3F)), 2};
    return {kInvalid, 1};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (n < 3 || !IsContinuation(p[1]) || !IsContinuation(p[2])) return {kInvalid, 1};
    if (b0 == 0xE0 && p[1] < 0xA0) return {kInvalid, 1};  // overlong
    if (b0 == 0xED && p[1] > 0x9F) return {kInvalid, 1};  // surrogate
    return {static_cast<char32_t>(((b0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)), 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (n < 4 || !IsContinuation(p[1]) || !IsContinuation(p[2]) || !IsContinuation(p[3])) return {kInvalid, 1};
    if (b0 == 0xF0 && p[1] < 0x90) return {kInvalid, 1};  // overlong
    if (b0 == 0xF4 && p[1] > 0x8F) return {kInvalid, 1};  // above U+10FFFF
    return {static_cast<char32_t>(((b0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F)),
            4};
  }
  return {kInvalid, 1};
}

enum class CharClass { kSeparator, kWord, kCjk };

bool In(char32_t cp, char32_t lo, char32_t hi) { return cp >= lo && cp <= hi; }

// Full-width ASCII (！..～) is typed by Japanese input methods; fold it so "ＡＢＣ" finds "abc".
char32_t FoldFullWidth(char32_t cp) { return In(cp, 0xFF01, 0xFF5E) ? cp - 0xFEE0 : cp; }

bool IsCjk(char32_t cp) {
  return In(cp, 0x3005, 0x3007) ||                    // 々 〆 〇: used inside words
         cp == 0x303B ||                              // 〻
         In(cp, 0x3041, 0x309F) ||                    // Hiragana
         (In(cp, 0x30A0, 0x30FF) && cp != 0x30FB) ||  // Katakana incl. ー (U+30FC), minus ・
         In(cp, 0x31F0, 0x31FF) ||                    // Katakana phonetic extensions
         In(cp, 0x3400, 0x4DBF) ||                    // Han extension A
         In(cp, 0x4E00, 0x9FFF) ||                    // Han
         In(cp, 0xF900, 0xFAFF) ||                    // Han compatibility
         In(cp, 0x20000, 0x3FFFF) ||                  // Han extensions B and later
         In(cp, 0x1100, 0x11FF) ||                    // Hangul Jamo
         In(cp, 0x3130, 0x318F) ||                    // Hangul compatibility Jamo
         In(cp, 0xA960, 0xA97F) ||                    // Hangul Jamo extended A
         In(cp, 0xAC00, 0xD7AF) ||                    // Hangul syllables
         In(cp, 0xD7B0, 0xD7FF) ||                    // Hangul Jamo extended B
         In(cp, 0xFF66, 0xFF9F) ||                    // half-width Katakana
         In(cp, 0xFFA0, 0xFFDC);                      // half-width Hangul
}

// Punctuation, symbols, spaces and controls outside ASCII. Without ICU this is a list of blocks;
// whatever is not listed counts as a letter, which errs towards indexing too much, never too little.
bool IsNonAsciiSeparator(char32_t cp) {
  return In(cp, 0x0080, 0x00BF) || cp == 0x00D7 || cp == 0x00F7 ||  // Latin-1 controls, punctuation, × ÷
         In(cp, 0x2000, 0x206F) ||  // general punctuation, spaces, zero-width characters
         In(cp, 0x20A0, 0x20CF) ||  // currency
         In(cp, 0x2190, 0x2BFF) ||  // arrows, maths, technical, box drawing, shapes, dingbats
         In(cp, 0x2E00, 0x2E7F) ||  // supplemental punctuation
         In(cp, 0x3000, 0x303F) ||  // CJK spaces and punctuation (、。「」); 々〆〇〻 are caught first
         cp == 0x30FB ||            // ・
         In(cp, 0xFE10, 0xFE1F) || In(cp, 0xFE30, 0xFE6F) ||  // vertical, compatibility and small forms
         cp == 0xFEFF ||                                      // BOM / zero-width no-break space
         In(cp, 0xFF00, 0xFF65) ||  // full-width punctuation left after folding, half-width 。「」、・
         In(cp, 0xFFE0, 0xFFFF) ||  // full-width signs, specials
         In(cp, 0x1F000, 0x1FAFF);  // emoji and pictographs
}

CharClass Classify(char32_t cp) {
  if (cp == kInvalid) return CharClass::kSeparator;
  if (cp < 0x80) {
    const bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    return alnum ? CharClass::kWord : CharClass::kSeparator;
  }
  if (IsCjk(cp)) return CharClass::kCjk;
  if (IsNonAsciiSeparator(cp)) return CharClass::kSeparator;
  return CharClass::kWord;
}

struct Char {
  char32_t cp;  // after full-width folding
  int start;
  int end;
  CharClass cls;
};

// Walks `text` one character at a time.
class CharReader {
 public:
  explicit CharReader(std::string_view text) : text_(text) {}
  bool Done() const { return pos_ >= text_.size(); }
  Char Next() {
    const auto* p = reinterpret_cast<const unsigned char*>(text_.data()) + pos_;
    const Decoded d = Decode(p, text_.size() - pos_);
    const char32_t cp = d.cp == kInvalid ? kInvalid : FoldFullWidth(d.cp);
    Char c{cp, static_cast<int>(pos_), static_cast<int>(pos_ + d.len), Classify(cp)};
    pos_ += d.len;
    return c;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Emits tokens and remembers the query-mode trailing unigram that is only needed when something
// follows it in the same phrase.
class Emitter {
 public:
  Emitter(std::string_view text, void* ctx, TokenSink sink) : text_(text), ctx_(ctx), sink_(sink) {}

  int Emit(int tflags, const char* token, int bytes, int start, int end) {
    if (pending_ && (tflags & kTokenColocated) == 0) {
      pending_ = false;
      const int rc =
          sink_(ctx_, 0, text_.data() + pending_start_, pending_end_ - pending_start_, pending_start_, pending_end_);
      if (rc != 0) return rc;
    }
    return sink_(ctx_, tflags, token, bytes, start, end);
  }
  int EmitSpan(int tflags, int start, int end) { return Emit(tflags, text_.data() + start, end - start, start, end); }
  void DeferTrailing(int start, int end) {
    pending_ = true;
    pending_start_ = start;
    pending_end_ = end;
  }

 private:
  std::string_view text_;
  void* ctx_;
  TokenSink sink_;
  bool pending_ = false;
  int pending_start_ = 0;
  int pending_end_ = 0;
};

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::size_t Utf8Length(char32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

}  // namespace

int TokenizeCjk(std::string_view text, TokenizeMode mode, void* ctx, TokenSink sink) {
  Emitter out(text, ctx, sink);
  CharReader reader(text);
  std::string word;
  int word_start = 0;
  int word_end = 0;
  bool in_word = false;
  bool word_full = false;  // reached kMaxWordBytes: the token is a prefix of the word
  // The CJK run in progress: its previous character and its length so far.
  Char prev{};
  int run_length = 0;

  const auto flush_word = [&]() -> int {
    if (!in_word) return 0;
    in_word = false;
    return out.Emit(0, word.data(), static_cast<int>(word.size()), word_start, word_end);
  };
  const auto flush_run = [&]() -> int {
    if (run_length == 0) return 0;
    const int length = run_length;
    run_length = 0;
    if (length == 1 || mode == TokenizeMode::kDocument) return out.EmitSpan(0, prev.start, prev.end);
    out.DeferTrailing(prev.start, prev.end);
    return 0;
  };

  while (!reader.Done()) {
    const Char c = reader.Next();
    int rc = 0;
    switch (c.cls) {
      case CharClass::kSeparator:
        rc = flush_word();
        if (rc == 0) rc = flush_run();
        break;
      case CharClass::kWord:
        rc = flush_run();
        if (rc != 0) break;
        if (!in_word) {
          in_word = true;
          word_full = false;
          word.clear();
          word_start = c.start;
        }
        word_end = c.end;
        if (word.size() + Utf8Length(c.cp) > static_cast<std::size_t>(kMaxWordBytes)) word_full = true;
        if (!word_full) {
          if (c.cp < 0x80) {
            const char lower =
                (c.cp >= 'A' && c.cp <= 'Z') ? static_cast<char>(c.cp - 'A' + 'a') : static_cast<char>(c.cp);
            word.push_back(lower);
          } else {
            AppendUtf8(word, c.cp);
          }
        }
        break;
      case CharClass::kCjk:
        rc = flush_word();
        if (rc != 0) break;
        if (run_length > 0) {
          rc = out.EmitSpan(0, prev.start, c.end);  // bigram prev+c: the two are adjacent in `text`
          if (rc == 0 && mode == TokenizeMode::kDocument) rc = out.EmitSpan(kTokenColocated, prev.start, prev.end);
        }
        prev = c;
        ++run_length;
        break;
    }
    if (rc != 0) return rc;
  }
  int rc = flush_word();
  if (rc == 0) rc = flush_run();
  return rc;  // a deferred trailing unigram with nothing after it is dropped on purpose
}

namespace {

// Whether `term` holds anything the tokenizer would turn into a token.
bool HasSearchableText(std::string_view term) {
  CharReader reader(term);
  while (!reader.Done()) {
    if (reader.Next().cls != CharClass::kSeparator) return true;
  }
  return false;
}

bool IsTermSeparator(const Char& c) { return (c.cp != kInvalid && c.cp <= 0x20) || c.cp == 0x7F || c.cp == 0x3000; }

}  // namespace

bool IsBlankQuery(std::string_view user_text) {
  CharReader reader(user_text);
  while (!reader.Done()) {
    if (!IsTermSeparator(reader.Next())) return false;
  }
  return true;
}

std::vector<std::string_view> SearchTerms(std::string_view user_text) {
  std::vector<std::string_view> terms;
  const auto add_term = [&](std::string_view term) {
    if (!term.empty() && HasSearchableText(term)) terms.push_back(term);
  };
  CharReader reader(user_text);
  std::size_t term_start = 0;
  while (!reader.Done()) {
    const Char c = reader.Next();
    if (IsTermSeparator(c)) {
      add_term(user_text.substr(term_start, static_cast<std::size_t>(c.start) - term_start));
      term_start = static_cast<std::size_t>(c.end);
    }
  }
  add_term(user_text.substr(term_start));
  return terms;
}

}  // namespace hikeshi::common
