#include "detail/mime_text.hpp"

#include <gtest/gtest.h>

namespace hikeshi::notify::detail {
namespace {

TEST(MimeTextTest, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("foobar", 4), "Zm9v\r\nYmFy\r\n");
  EXPECT_EQ(Base64Encode("fooba", 4), "Zm9v\r\nYmE=\r\n");
}

TEST(MimeTextTest, QuotedPrintableEscapesWhatWouldNotSurviveTransit) {
  EXPECT_EQ(QuotedPrintableEncode("a=b\r\n"), "a=3Db\r\n");
  EXPECT_EQ(QuotedPrintableEncode("trailing \r\n"), "trailing=20\r\n");
  EXPECT_EQ(QuotedPrintableEncode("tab\t\r\n"), "tab=09\r\n");
  EXPECT_EQ(QuotedPrintableEncode("From me\r\n"), "=46rom me\r\n");
  EXPECT_EQ(QuotedPrintableEncode(".\r\n"), "=2E\r\n");
  EXPECT_EQ(QuotedPrintableEncode("M\xc3\xbcnchen\r\n"), "M=C3=BCnchen\r\n");
  EXPECT_EQ(QuotedPrintableEncode("in the middle: From . x \r\n"), "in the middle: From . x=20\r\n");
}

TEST(MimeTextTest, QuotedPrintableSoftBreaksKeepLinesWithin76AndNeverSplitAnEscape) {
  std::string line(74, 'a');
  line += "\xc3\xa9\xc3\xa9";  // two escapes that cannot fit on the first line
  std::string encoded = QuotedPrintableEncode(line + "\r\n");
  EXPECT_EQ(encoded, std::string(74, 'a') + "=\r\n=C3=A9=C3=A9\r\n");
  std::string dots = std::string(75, 'b') + ".tail";
  EXPECT_EQ(QuotedPrintableEncode(dots + "\r\n"), std::string(75, 'b') + "=\r\n=2Etail\r\n");
}

TEST(MimeTextTest, SafeSevenBitIsOnlyShortCleanAscii) {
  EXPECT_TRUE(IsSafe7bit("hello\r\nworld\r\n"));
  EXPECT_FALSE(IsSafe7bit("trailing \r\n"));
  EXPECT_FALSE(IsSafe7bit("From x\r\n"));
  EXPECT_FALSE(IsSafe7bit(".\r\n"));
  EXPECT_FALSE(IsSafe7bit(std::string(77, 'x') + "\r\n"));
  EXPECT_FALSE(IsSafe7bit("caf\xc3\xa9\r\n"));
  EXPECT_FALSE(IsSafe7bit("bell\a\r\n"));
}

TEST(MimeTextTest, MailDateIsRfc5322InUtc) {
  EXPECT_EQ(FormatMailDate(common::FromMicros(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(FormatMailDate(common::FromMicros(1'709'210'096'999'999)), "Thu, 29 Feb 2024 12:34:56 +0000");
}

}  // namespace
}  // namespace hikeshi::notify::detail
