// The parser's text helpers: what invalid bytes and mixed line endings become in the text a handler
// reads.
#include "detail/text.hpp"

#include <gtest/gtest.h>

namespace hikeshi::intake::mail::detail {
namespace {

TEST(ValidUtf8, ReplacesEachByteThatStartsNoWellFormedSequence) {
  EXPECT_EQ(ValidUtf8(""), "");
  EXPECT_EQ(ValidUtf8("plain ascii\n"), "plain ascii\n");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5");
  // A stray byte, a Latin-1 byte, an overlong form, a surrogate, and a sequence cut at the end.
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ValidUtf8("caf\xe9!"), "caf\xef\xbf\xbd!");
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ValidUtf8("x\xed\xa0\x80y"), "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy");
  EXPECT_EQ(ValidUtf8("ok \xe2\x82"), "ok \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ValidUtf8("\xe2\x82\xac\xff\xe2\x82\xac"), "\xe2\x82\xac\xef\xbf\xbd\xe2\x82\xac");
}

TEST(UnixLineEndings, TurnsCrLfAndLoneCrIntoLf) {
  EXPECT_EQ(UnixLineEndings(""), "");
  EXPECT_EQ(UnixLineEndings("no line end"), "no line end");
  EXPECT_EQ(UnixLineEndings("a\r\nb\rc\nd"), "a\nb\nc\nd");
  EXPECT_EQ(UnixLineEndings("\r\r\n\n\r"), "\n\n\n\n");
  EXPECT_EQ(UnixLineEndings("end\r"), "end\n");
}

}  // namespace
}  // namespace hikeshi::intake::mail::detail
