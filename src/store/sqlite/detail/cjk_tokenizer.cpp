#include "detail/cjk_tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <sqlite3.h>

// FTS5 leaves the tokenizer instance type to the application. Ours has no state: one shared
// instance serves every table on every connection.
struct Fts5Tokenizer {
  int unused = 0;
};

namespace hikeshi::store::sqlite::detail {
namespace {

static_assert(kTokenColocated == FTS5_TOKEN_COLOCATED);

Fts5Tokenizer g_tokenizer_instance;

int CreateTokenizer(void* /*context*/, const char** /*args*/, int /*arg_count*/, Fts5Tokenizer** out) {
  *out = &g_tokenizer_instance;
  return SQLITE_OK;
}

void DeleteTokenizer(Fts5Tokenizer* /*tokenizer*/) {}

int Tokenize(Fts5Tokenizer* /*tokenizer*/, void* ctx, int flags, const char* text, int bytes, TokenSink sink) {
  if (text == nullptr || bytes <= 0) return SQLITE_OK;
  // FTS5_TOKENIZE_AUX (highlight, snippet) must see the document's tokens.
  const TokenizeMode mode = (flags & FTS5_TOKENIZE_QUERY) != 0 ? TokenizeMode::kQuery : TokenizeMode::kDocument;
  return TokenizeCjk(std::string_view(text, static_cast<std::size_t>(bytes)), mode, ctx, sink);
}

fts5_api* GetFts5Api(sqlite3* db, int& rc) {
  fts5_api* api = nullptr;
  sqlite3_stmt* raw = nullptr;
  rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &raw, nullptr);
  if (rc != SQLITE_OK) return nullptr;
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  rc = sqlite3_bind_pointer(stmt.get(), 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  if (rc != SQLITE_OK) return nullptr;
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return nullptr;
  rc = SQLITE_OK;
  return api;
}

}  // namespace

int RegisterCjkTokenizer(sqlite3* db) {
  int rc = SQLITE_OK;
  fts5_api* api = GetFts5Api(db, rc);
  if (api == nullptr) return rc == SQLITE_OK ? SQLITE_ERROR : rc;
  if (api->iVersion < 2) return SQLITE_ERROR;
  fts5_tokenizer tokenizer{&CreateTokenizer, &DeleteTokenizer, &Tokenize};
  return api->xCreateTokenizer(api, kCjkTokenizerName, nullptr, &tokenizer, nullptr);
}

std::optional<std::string> BuildMatchExpression(std::string_view user_text) {
  std::string expression;
  for (const std::string_view term : common::SearchTerms(user_text)) {
    if (!expression.empty()) expression += " AND ";
    expression.push_back('"');
    for (const char ch : term) {
      if (ch == '"') expression.push_back('"');
      expression.push_back(ch);
    }
    expression.push_back('"');
  }
  if (expression.empty()) return std::nullopt;
  return expression;
}

}  // namespace hikeshi::store::sqlite::detail
