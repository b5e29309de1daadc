#pragma once
// Full-text search on PostgreSQL with exactly the words SQLite's hikeshi_cjk tokenizer indexes:
// the tokens come from common::TokenizeCjk, and PostgreSQL only stores and matches them. A document
// becomes tsvector literals whose lexemes are the tokens as they are (no stemming, no stop words:
// the 'simple' configuration's behaviour, without PostgreSQL's own parser) with their positions; a
// search term becomes a phrase query (token <-> token ...), as FTS5 matches a quoted phrase.
//
// PostgreSQL keeps positions only up to 16383 and at most 256 per lexeme in one tsvector, so a
// long text is cut into chunks (one row each) of at most kChunkPositions positions, fewer when a
// token would repeat more than 256 times, each overlapping the next by kChunkOverlap positions so
// that a phrase of up to that many tokens is whole in some chunk.
//
// Thread-safety: pure functions.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace hikeshi::store::postgres::detail {

inline constexpr int kChunkPositions = 4096;
inline constexpr int kChunkOverlap = 128;

// The tsvector literals (to bind as $n::tsvector) indexing `fields`; each field is chunked on its
// own, so no phrase spans two fields. Empty when the fields hold no token.
std::vector<std::string> TextChunks(std::initializer_list<std::string_view> fields);

// What a user's search text asks for.
struct TextQuery {
  bool filter = false;               // false: blank text, no text filter
  std::vector<std::string> phrases;  // tsquery literals, one per term, all must match; empty with
                                     // filter set: only punctuation, which matches nothing
};
TextQuery MakeTextQuery(std::string_view user_text);

}  // namespace hikeshi::store::postgres::detail
