#pragma once
// The CJK-aware word splitter behind full-text search, shared by every store backend so that each
// one finds exactly the same rows for the same words (SQLite feeds the tokens to FTS5 as the
// `hikeshi_cjk` tokenizer; PostgreSQL stores them as a tsvector).
//
// Japanese and other CJK text has no spaces and many two-character words, so CJK runs are split
// into overlapping bigrams (a trigram index cannot match 2-char words):
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

#include <string_view>
#include <vector>

namespace hikeshi::common {

enum class TokenizeMode { kDocument, kQuery };

// A token that shares the position of the token before it (FTS5_TOKEN_COLOCATED's value, so that
// the SQLite tokenizer can pass flags through unchanged).
inline constexpr int kTokenColocated = 0x0001;

// Receives each token: (ctx, tflags, token, token_bytes, start_offset, end_offset), the shape of
// FTS5's xToken callback. The token text is valid only during the call. A non-zero return stops
// tokenizing and is passed on.
using TokenSink = int (*)(void* ctx, int tflags, const char* token, int token_bytes, int start, int end);

// Splits `text` into tokens as described above. Returns 0, or the first non-zero value of `sink`.
// Words longer than kMaxWordBytes are cut (at a character boundary) to bound the index.
inline constexpr int kMaxWordBytes = 256;
int TokenizeCjk(std::string_view text, TokenizeMode mode, void* ctx, TokenSink sink);

// The search terms in what a user typed: split on whitespace (ASCII, control characters and
// U+3000), keeping only terms with something TokenizeCjk would index (a term of punctuation alone
// is dropped). Each term is one phrase; a row matches when it holds every term. The views point
// into `user_text`.
std::vector<std::string_view> SearchTerms(std::string_view user_text);

// Whether `user_text` holds only term separators: such a query means "no text filter", whereas a
// query of punctuation alone (SearchTerms gives none) matches nothing.
bool IsBlankQuery(std::string_view user_text);

}  // namespace hikeshi::common
