#pragma once
// The `hikeshi_cjk` FTS5 tokenizer and the builder of safe MATCH expressions that go with it. The
// tokens themselves come from common::TokenizeCjk (hikeshi/common/cjk_tokens.hpp, which says how
// CJK text is split), shared with the other store backends; this file only adapts it to FTS5.
//
// Thread-safety: everything here is stateless and may be called from any thread.

#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/cjk_tokens.hpp"

struct sqlite3;

namespace hikeshi::store::sqlite::detail {

inline constexpr const char* kCjkTokenizerName = "hikeshi_cjk";

using common::IsBlankQuery;
using common::kMaxWordBytes;
using common::kTokenColocated;
using common::TokenizeCjk;
using common::TokenizeMode;
using common::TokenSink;

// Registers the tokenizer under kCjkTokenizerName on `db`; must run on every connection before an
// FTS table using it is touched. Returns an SQLite result code (0 = SQLITE_OK).
int RegisterCjkTokenizer(sqlite3* db);

// Turns what a user typed into an FTS5 MATCH expression: the terms of common::SearchTerms, each
// double-quoted with inner quotes doubled, joined by AND. nullopt when no term remains (a query of
// punctuation alone, which matches nothing; see common::IsBlankQuery).
// The result is always bound as a parameter, never pasted into SQL.
std::optional<std::string> BuildMatchExpression(std::string_view user_text);

}  // namespace hikeshi::store::sqlite::detail
