#include "detail/text_index.hpp"

#include <cstddef>
#include <map>
#include <unordered_map>

#include "hikeshi/common/cjk_tokens.hpp"

namespace hikeshi::store::postgres::detail {
namespace {

// PostgreSQL's limits (MAXNUMPOS, and a margin under the 1 MB a tsvector may hold).
constexpr int kMaxPositionsPerLexeme = 256;
constexpr std::size_t kMaxChunkLexemeBytes = 512 * 1024;

struct Token {
  std::string text;
  int position;  // 0-based; colocated tokens share their predecessor's
};

struct Collector {
  std::vector<Token> tokens;
  int next = 0;
};

int Collect(void* ctx, int tflags, const char* token, int bytes, int /*start*/, int /*end*/) {
  auto& out = *static_cast<Collector*>(ctx);
  const bool colocated = (tflags & common::kTokenColocated) != 0 && !out.tokens.empty();
  const int position = colocated ? out.tokens.back().position : out.next++;
  out.tokens.push_back(Token{std::string(token, static_cast<std::size_t>(bytes)), position});
  return 0;
}

std::vector<Token> Tokens(std::string_view text, common::TokenizeMode mode) {
  Collector collector;
  common::TokenizeCjk(text, mode, &collector, &Collect);  // Collect never stops it
  return std::move(collector.tokens);
}

// A lexeme as tsvector and tsquery input read it: single-quoted, with ' and \ escaped.
void AppendQuoted(std::string& out, std::string_view lexeme) {
  out.push_back('\'');
  for (const char c : lexeme) {
    if (c == '\'' || c == '\\') out.push_back(c == '\'' ? '\'' : '\\');
    out.push_back(c);
  }
  out.push_back('\'');
}

// The tsvector literal for tokens[first, last), positions counted from `base`.
std::string VectorLiteral(const std::vector<Token>& tokens, std::size_t first, std::size_t last, int base) {
  std::map<std::string_view, std::vector<int>> positions;
  for (std::size_t i = first; i < last; ++i) {
    auto& list = positions[tokens[i].text];
    const int position = tokens[i].position - base + 1;
    if (list.empty() || list.back() != position) list.push_back(position);
  }
  std::string literal;
  for (const auto& [lexeme, list] : positions) {
    if (!literal.empty()) literal.push_back(' ');
    AppendQuoted(literal, lexeme);
    char separator = ':';
    for (const int position : list) {
      literal.push_back(separator);
      literal += std::to_string(position);
      separator = ',';
    }
  }
  return literal;
}

void AppendChunks(std::vector<std::string>& chunks, const std::vector<Token>& tokens) {
  std::size_t first = 0;  // the chunk's first token
  while (first < tokens.size()) {
    const int base = tokens[first].position;
    std::unordered_map<std::string_view, int> counts;
    std::size_t bytes = 0;
    std::size_t last = first;
    while (last < tokens.size()) {
      const Token& token = tokens[last];
      if (token.position - base >= kChunkPositions) break;
      int& count = counts[token.text];
      if (count == 0) bytes += token.text.size() + 8;
      if (count == kMaxPositionsPerLexeme || bytes > kMaxChunkLexemeBytes) break;
      ++count;
      ++last;
    }
    chunks.push_back(VectorLiteral(tokens, first, last, base));
    if (last == tokens.size()) break;
    // The next chunk starts kChunkOverlap positions before this one ended. A chunk is cut only
    // after more than kChunkOverlap positions (256 repeats, 4096 positions or 512 KB of distinct
    // words all take more), so each chunk starts later than the one before.
    const int next_base = tokens[last].position - kChunkOverlap;
    std::size_t next = first + 1;
    while (next < last && tokens[next].position < next_base) ++next;
    first = next;
  }
}

}  // namespace

std::vector<std::string> TextChunks(std::initializer_list<std::string_view> fields) {
  std::vector<std::string> chunks;
  for (const std::string_view field : fields) {
    AppendChunks(chunks, Tokens(field, common::TokenizeMode::kDocument));
  }
  return chunks;
}

TextQuery MakeTextQuery(std::string_view user_text) {
  TextQuery query;
  if (common::IsBlankQuery(user_text)) return query;
  query.filter = true;
  for (const std::string_view term : common::SearchTerms(user_text)) {
    std::string phrase;
    for (const Token& token : Tokens(term, common::TokenizeMode::kQuery)) {
      if (!phrase.empty()) phrase += " <-> ";
      AppendQuoted(phrase, token.text);
    }
    if (!phrase.empty()) query.phrases.push_back(std::move(phrase));
  }
  return query;
}

}  // namespace hikeshi::store::postgres::detail
