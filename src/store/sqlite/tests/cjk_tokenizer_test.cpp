// The hikeshi_cjk tokenizer, on its own and inside a real FTS5 table: what it emits for each
// script, that hostile input neither crashes nor loops, and that MATCH finds exactly what a
// Japanese or English reader expects.

#include "detail/cjk_tokenizer.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

namespace hikeshi::store::sqlite::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

struct Token {
  std::string text;
  bool colocated;
  int start;
  int end;
};

int Collect(void* ctx, int tflags, const char* token, int bytes, int start, int end) {
  static_cast<std::vector<Token>*>(ctx)->push_back(
      Token{std::string(token, static_cast<std::size_t>(bytes)), (tflags & kTokenColocated) != 0, start, end});
  return 0;
}

std::vector<Token> TokensOf(std::string_view text, TokenizeMode mode) {
  std::vector<Token> tokens;
  EXPECT_EQ(TokenizeCjk(text, mode, &tokens, &Collect), 0);
  return tokens;
}

// Token texts, a colocated token written with a leading '+'.
std::vector<std::string> Texts(std::string_view text, TokenizeMode mode) {
  std::vector<std::string> texts;
  for (const Token& token : TokensOf(text, mode)) texts.push_back((token.colocated ? "+" : "") + token.text);
  return texts;
}

std::vector<std::string> Doc(std::string_view text) { return Texts(text, TokenizeMode::kDocument); }
std::vector<std::string> Query(std::string_view text) { return Texts(text, TokenizeMode::kQuery); }

TEST(CjkTokenizerTest, LatinWordsAreLowerCasedAndSplitOnPunctuation) {
  EXPECT_THAT(Doc("Hello, World! ABC123 foo_bar x-y.z"),
              ElementsAre("hello", "world", "abc123", "foo", "bar", "x", "y", "z"));
  EXPECT_THAT(Query("PHISHING Campaign"), ElementsAre("phishing", "campaign"));
}

TEST(CjkTokenizerTest, FullWidthAsciiIsFoldedToAscii) {
  // ＡＢＣ１２３ is six 3-byte characters; the token covers all 18 bytes.
  const auto tokens = TokensOf("ＡＢＣ１２３　ｘｙｚ", TokenizeMode::kDocument);
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_EQ(tokens[0].text, "abc123");
  EXPECT_EQ(tokens[0].start, 0);
  EXPECT_EQ(tokens[0].end, 18);
  EXPECT_EQ(tokens[1].text, "xyz");
  // Full-width punctuation folds to ASCII punctuation, which separates.
  EXPECT_THAT(Doc("ｆｏｏ（ｂａｒ）"), ElementsAre("foo", "bar"));
}

TEST(CjkTokenizerTest, OtherAlphabetsAreWordsKeptAsTyped) {
  // Only ASCII is lower-cased; accented letters stay inside their word.
  EXPECT_THAT(Doc("Café naïve Ünïcode"), ElementsAre("café", "naïve", "Ünïcode"));
  EXPECT_THAT(Doc("Привет мир"), ElementsAre("Привет", "мир"));
}

TEST(CjkTokenizerTest, DocumentModeEmitsBigramsWithColocatedUnigrams) {
  EXPECT_THAT(Doc("報告書"), ElementsAre("報告", "+報", "告書", "+告", "書"));
  EXPECT_THAT(Doc("報告"), ElementsAre("報告", "+報", "告"));
  EXPECT_THAT(Doc("報"), ElementsAre("報"));
}

TEST(CjkTokenizerTest, QueryModeEmitsOnlyBigrams) {
  EXPECT_THAT(Query("報告書"), ElementsAre("報告", "告書"));
  EXPECT_THAT(Query("報告"), ElementsAre("報告"));
  EXPECT_THAT(Query("漏えい"), ElementsAre("漏え", "えい"));
  EXPECT_THAT(Query("報"), ElementsAre("報"));
}

TEST(CjkTokenizerTest, QueryModeKeepsTheTrailingUnigramWhenMoreFollowsInThePhrase) {
  // The document gives い its own position before 2024, so the query must too.
  EXPECT_THAT(Query("漏えい2024"), ElementsAre("漏え", "えい", "い", "2024"));
  EXPECT_THAT(Query("A報告"), ElementsAre("a", "報告"));
}

TEST(CjkTokenizerTest, KanjiKanaAndProlongedSoundMarkFormOneRun) {
  EXPECT_THAT(Query("不正アクセス"), ElementsAre("不正", "正ア", "アク", "クセ", "セス"));
  EXPECT_THAT(Query("サーバー"), ElementsAre("サー", "ーバ", "バー"));
  // 々 belongs to the word (人々); the katakana middle dot ・ separates.
  EXPECT_THAT(Query("人々"), ElementsAre("人々"));
  // ル keeps its own position because more of the phrase follows it.
  EXPECT_THAT(Query("メール・サーバ"), ElementsAre("メー", "ール", "ル", "サー", "ーバ"));
}

TEST(CjkTokenizerTest, HalfWidthKatakanaAndHangulAreCjk) {
  EXPECT_THAT(Query("ｻｰﾊﾞ"), ElementsAre("ｻｰ", "ｰﾊ", "ﾊﾞ"));
  EXPECT_THAT(Query("보고서"), ElementsAre("보고", "고서"));
}

TEST(CjkTokenizerTest, ScriptChangesAndPunctuationEndRuns) {
  EXPECT_THAT(Doc("Emotet感染"), ElementsAre("emotet", "感染", "+感", "染"));
  EXPECT_THAT(Doc("報。告"), ElementsAre("報", "告"));
  EXPECT_THAT(Doc("「侵入」、検知"), ElementsAre("侵入", "+侵", "入", "検知", "+検", "知"));
  EXPECT_THAT(Doc("第3四半期"), ElementsAre("第", "3", "四半", "+四", "半期", "+半", "期"));
}

TEST(CjkTokenizerTest, OffsetsPointIntoTheOriginalText) {
  const auto tokens = TokensOf("ab 報告", TokenizeMode::kDocument);
  ASSERT_EQ(tokens.size(), 4U);
  EXPECT_EQ(tokens[0].start, 0);
  EXPECT_EQ(tokens[0].end, 2);
  EXPECT_EQ(tokens[1].text, "報告");
  EXPECT_EQ(tokens[1].start, 3);
  EXPECT_EQ(tokens[1].end, 9);
  EXPECT_EQ(tokens[2].text, "報");
  EXPECT_EQ(tokens[2].start, 3);
  EXPECT_EQ(tokens[2].end, 6);
  EXPECT_EQ(tokens[3].text, "告");
  EXPECT_EQ(tokens[3].start, 6);
  EXPECT_EQ(tokens[3].end, 9);
}

TEST(CjkTokenizerTest, EmptyAndSeparatorOnlyInputYieldNothing) {
  EXPECT_THAT(Doc(""), IsEmpty());
  EXPECT_THAT(Doc("  ,.!?　、。「」"), IsEmpty());
  EXPECT_THAT(Query(""), IsEmpty());
}

TEST(CjkTokenizerTest, InvalidUtf8BytesAreSeparators) {
  EXPECT_THAT(Doc("a\xff"
                  "b"),
              ElementsAre("a", "b"));
  EXPECT_THAT(Doc("\xc0\xaf"
                  "x"),
              ElementsAre("x"));                                  // overlong '/'
  EXPECT_THAT(Doc("x\xed\xa0\x80y"), ElementsAre("x", "y"));      // UTF-16 surrogate
  EXPECT_THAT(Doc("x\xf4\x90\x80\x80y"), ElementsAre("x", "y"));  // above U+10FFFF
  EXPECT_THAT(Doc("報\xe5\xa0"), ElementsAre("報"));              // truncated at the end
  EXPECT_THAT(Doc("報\x80告"), ElementsAre("報", "告"));          // stray continuation byte
  EXPECT_THAT(Doc(std::string_view("a\0b", 3)), ElementsAre("a", "b"));
}

TEST(CjkTokenizerTest, LongWordsAreCutAtACharacterBoundary) {
  const auto ascii = TokensOf(std::string(300, 'A'), TokenizeMode::kDocument);
  ASSERT_EQ(ascii.size(), 1U);
  EXPECT_EQ(ascii[0].text, std::string(kMaxWordBytes, 'a'));
  EXPECT_EQ(ascii[0].end, 300);  // the offsets still cover the whole word

  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "é";  // 2 bytes each
  const auto cut = TokensOf(accented, TokenizeMode::kDocument);
  ASSERT_EQ(cut.size(), 1U);
  EXPECT_EQ(cut[0].text.size(), 256U);
  EXPECT_EQ(cut[0].text.substr(254), "é");

  // 255 ASCII bytes, then a 2-byte letter that does not fit: nothing after it sneaks in.
  const auto prefix = TokensOf(std::string(255, 'a') + "éb", TokenizeMode::kDocument);
  ASSERT_EQ(prefix.size(), 1U);
  EXPECT_EQ(prefix[0].text, std::string(255, 'a'));
}

TEST(CjkTokenizerTest, OneMegabyteOfOneCharacter) {
  constexpr std::size_t kBytes = 1 << 20;
  std::string kana;
  while (kana.size() + 3 <= kBytes) kana += "あ";
  const std::size_t chars = kana.size() / 3;
  std::size_t count = 0;
  const auto counter = [](void* ctx, int, const char*, int, int, int) {
    ++*static_cast<std::size_t*>(ctx);
    return 0;
  };
  ASSERT_EQ(TokenizeCjk(kana, TokenizeMode::kDocument, &count, counter), 0);
  EXPECT_EQ(count, 2 * chars - 1);  // a bigram and a unigram per character but the last
  count = 0;
  ASSERT_EQ(TokenizeCjk(kana, TokenizeMode::kQuery, &count, counter), 0);
  EXPECT_EQ(count, chars - 1);

  count = 0;
  ASSERT_EQ(TokenizeCjk(std::string(kBytes, 'z'), TokenizeMode::kDocument, &count, counter), 0);
  EXPECT_EQ(count, 1U);
  count = 0;
  ASSERT_EQ(TokenizeCjk(std::string(kBytes, '\xff'), TokenizeMode::kDocument, &count, counter), 0);
  EXPECT_EQ(count, 0U);
}

TEST(CjkTokenizerTest, ASinkErrorStopsTokenizingAndIsReturned) {
  int calls = 0;
  const auto fail_second = [](void* ctx, int, const char*, int, int, int) {
    return ++*static_cast<int*>(ctx) == 2 ? 7 : 0;
  };
  EXPECT_EQ(TokenizeCjk("one two three 報告書", TokenizeMode::kDocument, &calls, fail_second), 7);
  EXPECT_EQ(calls, 2);
}

TEST(MatchExpressionTest, EachTermIsQuotedAndTermsAreAnded) {
  EXPECT_EQ(BuildMatchExpression("報告"), "\"報告\"");
  EXPECT_EQ(BuildMatchExpression("phishing  報告"), "\"phishing\" AND \"報告\"");
  EXPECT_EQ(BuildMatchExpression("侵入　報告"), "\"侵入\" AND \"報告\"");  // U+3000 between
  EXPECT_EQ(BuildMatchExpression("\ta\nb\r"), "\"a\" AND \"b\"");
}

TEST(MatchExpressionTest, QuerySyntaxInUserTextStaysLiteral) {
  EXPECT_EQ(BuildMatchExpression("say \"hi\""), "\"say\" AND \"\"\"hi\"\"\"");
  EXPECT_EQ(BuildMatchExpression("a OR NEAR(b) c*"), "\"a\" AND \"OR\" AND \"NEAR(b)\" AND \"c*\"");
}

TEST(MatchExpressionTest, BlankAndPunctuationOnlyInputGiveNoExpression) {
  EXPECT_EQ(BuildMatchExpression(""), std::nullopt);
  EXPECT_EQ(BuildMatchExpression(" \t　"), std::nullopt);
  EXPECT_EQ(BuildMatchExpression("!!! ???"), std::nullopt);
  EXPECT_EQ(BuildMatchExpression("!!! abc"), "\"abc\"");
  EXPECT_TRUE(IsBlankQuery(""));
  EXPECT_TRUE(IsBlankQuery(" \t　"));
  EXPECT_FALSE(IsBlankQuery("!!!"));
  EXPECT_FALSE(IsBlankQuery("a"));
}

// --- Through SQLite: the tokenizer registered on a connection, an FTS5 table, real MATCH queries.

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

class FtsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
    db_.reset(raw);
    ASSERT_EQ(RegisterCjkTokenizer(db_.get()), SQLITE_OK);
    Exec("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize = 'hikeshi_cjk')");
  }

  void Exec(const char* sql) {
    ASSERT_EQ(sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_.get());
  }

  void Add(std::int64_t rowid, std::string_view body) {
    sqlite3_stmt* raw = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "INSERT INTO docs (rowid, body) VALUES (?1, ?2)", -1, &raw, nullptr),
              SQLITE_OK);
    std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt(raw);
    sqlite3_bind_int64(stmt.get(), 1, rowid);
    sqlite3_bind_text(stmt.get(), 2, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(stmt.get()), SQLITE_DONE) << sqlite3_errmsg(db_.get());
  }

  // The rowids whose body matches what a user typed.
  std::vector<std::int64_t> Search(std::string_view user_text) {
    std::vector<std::int64_t> rowids;
    const auto match = BuildMatchExpression(user_text);
    if (!match) return rowids;
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(db_.get(), "SELECT rowid FROM docs WHERE docs MATCH ?1 ORDER BY rowid", -1, &raw, nullptr),
        SQLITE_OK);
    std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt(raw);
    sqlite3_bind_text(stmt.get(), 1, match->data(), static_cast<int>(match->size()), SQLITE_TRANSIENT);
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) rowids.push_back(sqlite3_column_int64(stmt.get(), 0));
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_.get()) << " for " << *match;
    return rowids;
  }

  std::unique_ptr<sqlite3, CloseDb> db_;
};

TEST_F(FtsTest, FindsJapaneseWordsOfTwoAndThreeCharactersAndNothingElse) {
  Add(1, "不正アクセスによる情報漏えいの報告");
  Add(2, "サーバーへの侵入を検知しました");
  Add(3, "報と告は別々の文字です");  // 報 and 告, never side by side
  Add(4, "Phishing campaign against EXAMPLE bank");
  Add(5, "情報漏えい2024年版");

  EXPECT_THAT(Search("報告"), ElementsAre(1));
  EXPECT_THAT(Search("侵入"), ElementsAre(2));
  EXPECT_THAT(Search("漏えい"), ElementsAre(1, 5));
  EXPECT_THAT(Search("不正アクセス"), ElementsAre(1));
  EXPECT_THAT(Search("アクセス"), ElementsAre(1));
  EXPECT_THAT(Search("報"), ElementsAre(1, 3, 5));  // 5: 情報
  EXPECT_THAT(Search("告"), ElementsAre(1, 3));
  EXPECT_THAT(Search("検知"), ElementsAre(2));
  EXPECT_THAT(Search("情報漏えい 報告"), ElementsAre(1));
  EXPECT_THAT(Search("漏えい 侵入"), IsEmpty());
  EXPECT_THAT(Search("漏えい2024"), ElementsAre(5));
  EXPECT_THAT(Search("報告書"), IsEmpty());
}

TEST_F(FtsTest, FindsEnglishCaseInsensitively) {
  Add(1, "Phishing campaign against EXAMPLE bank");
  Add(2, "Report: malware infection on host");

  EXPECT_THAT(Search("phishing"), ElementsAre(1));
  EXPECT_THAT(Search("PHISHING"), ElementsAre(1));
  EXPECT_THAT(Search("ＰＨＩＳＨＩＮＧ"), ElementsAre(1));
  EXPECT_THAT(Search("example Bank"), ElementsAre(1));
  EXPECT_THAT(Search("report"), ElementsAre(2));
  EXPECT_THAT(Search("phish"), IsEmpty());  // whole words, not prefixes
}

TEST_F(FtsTest, HostileQueriesAndDocumentsAreHarmless) {
  Add(1, std::string("\xff\xfe報告\xc3(\x80") + std::string(10000, 'x'));
  Add(2, "plain text");
  EXPECT_THAT(Search("報告"), ElementsAre(1));
  EXPECT_THAT(Search("\"; DROP TABLE docs; --"), IsEmpty());
  EXPECT_THAT(Search("NEAR(plain text) OR *"), IsEmpty());
  EXPECT_THAT(Search("\xff\xfe"), IsEmpty());
  EXPECT_THAT(Search("plain text"), ElementsAre(2));
}

TEST_F(FtsTest, HighlightUsesDocumentOffsets) {
  Add(1, "ログに侵入の痕跡");
  const auto match = BuildMatchExpression("侵入");
  ASSERT_TRUE(match);
  sqlite3_stmt* raw = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT highlight(docs, 0, '[', ']') FROM docs WHERE docs MATCH ?1", -1, &raw,
                               nullptr),
            SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt(raw);
  sqlite3_bind_text(stmt.get(), 1, match->c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(stmt.get()), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0))), "ログに[侵入]の痕跡");
}

}  // namespace
}  // namespace hikeshi::store::sqlite::detail
