#pragma once
// The `hikeshi_cjk` FTS5 tokenizer and the builder of safe MATCH expressions that go with it.
//
// Japanese and other CJK text has no spaces and many two-character words, so the tokenizer splits
// CJK runs into overlapping bigrams (the built-in trigram tokenizer cannot match 2-char words):
//  - runs of letters/digits of other scripts become one token each, ASCII lower-cased, full-width
//    ASCII (U+FF01..U+FF5E) folded to ASCII first;
//  - a CJK run c0..cn-1 (Han, Hiragana, Katakana with U+30FC, half-width Katakana, Hangul) takes one
//    position per character: in document mode position i holds the bigram ci ci+1 and, colocated,
//    the unigram ci; the last position holds the unigram cn-1 alone. One-character queries thus
//    match anywhere;
//  - in query mode a run yields only its bigrams (a 1-char run: its unigram). When more tokens
//    follow the run in the same phrase, the trailing unigram is emitted too, so that every character
//    keeps its own position and a phrase such as "情報漏えい2024" lines up with the document;
//  - everything else separates tokens; invalid UTF-8 bytes are separators, never errors.
//
// Thread-safety: everything here is stateless and may be called from any thread.

#include <optional>
#include <string>
#include <string_view>

struct sqlite3;

namespace hikeshi::store::sqlite::detail {

inline constexpr const char* kCjkTokenizerName = "hikeshi_cjk";

enum class TokenizeMode { kDocument, kQuery };

// Same as FTS5_TOKEN_COLOCATED; repeated here so that tests need not include sqlite3.h.
inline constexpr int kTokenColocated = 0x0001;

// The xToken callback of FTS5: (ctx, tflags, token, token_bytes, start_offset, end_offset). The
// token text is valid only during the call. A non-zero return stops tokenizing and is passed on.
using TokenSink = int (*)(void* ctx, int tflags, const char* token, int token_bytes, int start, int end);

// Splits `text` into tokens as described above. Returns 0, or the first non-zero value of `sink`.
// Words longer than kMaxWordBytes are cut (at a character boundary) to bound the index.
inline constexpr int kMaxWordBytes = 256;
int TokenizeCjk(std::string_view text, TokenizeMode mode, void* ctx, TokenSink sink);

// Registers the tokenizer under kCjkTokenizerName on `db`; must run on every connection before an
// FTS table using it is touched. Returns an SQLite result code (0 = SQLITE_OK).
int RegisterCjkTokenizer(sqlite3* db);

// Turns what a user typed into an FTS5 MATCH expression: terms split on whitespace (ASCII, control
// characters and U+3000), each double-quoted with inner quotes doubled, joined by AND. Terms with
// nothing the tokenizer would index (only punctuation) are dropped. nullopt when no term remains.
// The result is always bound as a parameter, never pasted into SQL.
std::optional<std::string> BuildMatchExpression(std::string_view user_text);

// Whether `user_text` holds only term separators: such a query means "no text filter", whereas a
// query of punctuation alone (BuildMatchExpression gives nullopt) matches nothing.
bool IsBlankQuery(std::string_view user_text);

}  // namespace hikeshi::store::sqlite::detail
