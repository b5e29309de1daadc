// The PostgreSQL text index: the tsvector and tsquery literals built from common's CJK tokens. The
// contract suite checks the search results on a real server; these pin the literals themselves,
// the quoting of hostile text, and the chunking of long documents.

#include "detail/text_index.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hikeshi::store::postgres::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(TextIndexTest, JapaneseBecomesBigramsWithColocatedUnigrams) {
  // 月次報告: positions 1..4 hold 月次+月, 次報+次, 報告+報, and 告 alone.
  EXPECT_THAT(TextChunks({"月次報告"}), ElementsAre("'告':4 '報':3 '報告':3 '月':1 '月次':1 '次':2 '次報':2"));
}

TEST(TextIndexTest, EnglishWordsAreLowerCasedAndEachFieldIsItsOwnChunk) {
  EXPECT_THAT(TextChunks({"Phishing SITE", "phishing"}), ElementsAre("'phishing':1 'site':2", "'phishing':1"));
  EXPECT_THAT(TextChunks({"", "!!!"}), IsEmpty());
}

TEST(TextIndexTest, QuotesAndBackslashesNeverReachALiteralUnquoted) {
  // ASCII punctuation separates words, so query syntax typed by a user becomes plain words.
  const TextQuery query = MakeTextQuery("don't a\\b 'x':* !y");
  EXPECT_TRUE(query.filter);
  EXPECT_THAT(query.phrases, ElementsAre("'don' <-> 't'", "'a' <-> 'b'", "'x'", "'y'"));
}

TEST(TextIndexTest, EachTermIsOnePhrase) {
  const TextQuery query = MakeTextQuery("不正アクセス　192.0.2.44 報");
  EXPECT_TRUE(query.filter);
  EXPECT_THAT(query.phrases, ElementsAre("'不正' <-> '正ア' <-> 'アク' <-> 'クセ' <-> 'セス'",
                                         "'192' <-> '0' <-> '2' <-> '44'", "'報'"));
}

TEST(TextIndexTest, BlankTextIsNoFilterAndPunctuationMatchesNothing) {
  EXPECT_FALSE(MakeTextQuery(" \t　").filter);
  const TextQuery punctuation = MakeTextQuery("!!! ...");
  EXPECT_TRUE(punctuation.filter);
  EXPECT_THAT(punctuation.phrases, IsEmpty());
}

TEST(TextIndexTest, LongTextIsCutIntoOverlappingChunksWithinPostgresLimits) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "w" + std::to_string(i) + " ";  // 10,000 positions
  const auto chunks = TextChunks({text});
  // 4096 positions each, the next starting 128 before the end of the last: 0, 3968, 7936.
  ASSERT_THAT(chunks, SizeIs(3));
  EXPECT_THAT(chunks[0], HasSubstr("'w0':1 "));
  EXPECT_THAT(chunks[0], HasSubstr("'w4095':4096"));
  EXPECT_THAT(chunks[0], ::testing::Not(HasSubstr("'w4096'")));
  EXPECT_THAT(chunks[1], HasSubstr("'w3968':1 "));
  EXPECT_THAT(chunks[2], HasSubstr("'w9999':2064"));

  // One word repeated: PostgreSQL keeps 256 positions per lexeme, so a chunk ends at the 256th.
  std::string same;
  for (int i = 0; i < 600; ++i) same += "again ";
  const auto repeated = TextChunks({same});
  // Positions 0-255, 128-383, 256-511 and 384-599.
  ASSERT_THAT(repeated, SizeIs(4));
  EXPECT_THAT(repeated[3], HasSubstr("'again':1,2,3,"));
  EXPECT_THAT(repeated[3], HasSubstr(",216"));
}

}  // namespace
}  // namespace hikeshi::store::postgres::detail
