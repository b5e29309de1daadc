// The byte-level scans: a multipart's parts exactly as in the source, inline PGP and uuencode blocks.
#include "detail/raw_mime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "detail/gmime_support.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

using ::testing::ElementsAre;

TEST(RawBodyParts, PartsWithoutTheLineBreakBeforeTheDelimiter) {
  const std::string source =
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\nX: 1\r\n\r\none\r\n\r\n--b \r\n"
      "\r\ntwo\r\n--b--\r\nepilogue\r\n--b\r\nnot a part\r\n";
  EXPECT_THAT(RawBodyParts(source, 0, "b"), ElementsAre("X: 1\r\n\r\none\r\n", "\r\ntwo"));
}

TEST(RawBodyParts, LfAndLookalikeBoundaries) {
  const std::string source = "X: y\nContent-Type: multipart/mixed; boundary=ab\n\n--abc\n--ab\nA\n--abx\n--ab--\n";
  EXPECT_THAT(RawBodyParts(source, 5, "ab"), ElementsAre("A\n--abx"));
  EXPECT_TRUE(RawBodyParts(source, 5, "zz").empty());
  EXPECT_TRUE(RawBodyParts(source, 1000, "ab").empty());
}

TEST(TextBlocks, PgpAndUuencodeBlocks) {
  const std::string text =
      "hi\n-----BEGIN PGP MESSAGE-----\nX\n-----END PGP MESSAGE-----\nmid\nbegin 644 a b.txt\n#86)C\n`\nend\n"
      "-----BEGIN PGP SIGNED MESSAGE-----\nunclosed\n";
  const std::vector<TextBlock> blocks = FindTextBlocks(text);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].kind, BlockKind::kPgpMessage);
  EXPECT_EQ(text.substr(blocks[0].begin, blocks[0].end - blocks[0].begin),
            "-----BEGIN PGP MESSAGE-----\nX\n-----END PGP MESSAGE-----\n");
  EXPECT_EQ(blocks[1].kind, BlockKind::kUuencode);
  EXPECT_EQ(blocks[1].name, "a b.txt");
  InitGMime();
  EXPECT_EQ(UudecodeBlock(text.substr(blocks[1].begin, blocks[1].end - blocks[1].begin)), "abc");
}

TEST(TextBlocks, BeginWithoutOctalModeIsText) {
  EXPECT_TRUE(FindTextBlocks("begin the report\nend\n").empty());
  EXPECT_TRUE(FindTextBlocks("begin 999 x\nend\n").empty());
}

}  // namespace
}  // namespace hikeshi::intake::mail::detail
