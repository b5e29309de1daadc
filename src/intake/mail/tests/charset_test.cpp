// Header and body charsets: RFC 2047 encoded-words (B and Q), RFC 2231 parameters with
// continuations and charsets, raw 8-bit headers, and bodies in the Japanese, Chinese and Latin
// charsets, all converted to UTF-8. The samples' bytes were produced by iconv
// (tests/make_corpus.py); the expected strings here are UTF-8 literals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

using testing::FindAttachment;
using testing::HasFlag;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ParseSample;

TEST(Charset, Iso2022JpSubjectFromAndBody) {
  const core::InboundMail mail = ParseSample("iso2022jp.eml");
  EXPECT_EQ(mail.subject, "不正アクセスの報告");  // two encoded-words on folded lines, joined
  EXPECT_EQ(mail.from_name, "山田太郎");
  EXPECT_EQ(mail.from_address, "yamada@example.jp");
  EXPECT_EQ(mail.text, "サーバ 192.0.2.10 から攻撃を受けています。\n確認をお願いします。\n");
  EXPECT_TRUE(mail.flags.empty()) << mail.problems.front();
}

TEST(Charset, ShiftJisWithTrailBytesThatLookLikeBackslash) {
  const core::InboundMail mail = ParseSample("shift_jis.eml");
  EXPECT_EQ(mail.subject, "フィッシングサイトの表示について");
  EXPECT_EQ(mail.text, "偽サイト hxxp://evil[.]example/login の表示を確認しました。ソフト名: 表計算\n");
  EXPECT_FALSE(HasFlag(mail, "bad_charset"));
}

TEST(Charset, EucJpQEncodedSubjectAndBase64Body) {
  const core::InboundMail mail = ParseSample("euc_jp.eml");
  EXPECT_EQ(mail.subject, "マルウェア感染の疑い");
  EXPECT_EQ(mail.text, "端末が感染した可能性があります。\n");
}

TEST(Charset, Gb18030IncludingFourByteSequences) {
  const core::InboundMail mail = ParseSample("gb18030.eml");
  EXPECT_EQ(mail.subject, "网络钓鱼报告");
  EXPECT_EQ(mail.text, "钓鱼网站：http://phish.example/ 字符𠀀测试\n");
}

TEST(Charset, Latin1AndWindows1252) {
  EXPECT_EQ(ParseSample("latin1.eml").subject, "Café Überfall");
  EXPECT_EQ(ParseSample("latin1.eml").text, "Grüße aus München\n");
  const core::InboundMail cp1252 = ParseSample("windows1252.eml");
  EXPECT_EQ(cp1252.subject, "Preis: 5 €");
  EXPECT_EQ(cp1252.text, "Er sagte: “Zahlen Sie 100 €”\n");
}

TEST(Charset, RawEightBitHeaders) {
  const core::InboundMail utf8 = ParseSample("raw8bit_utf8.eml");
  EXPECT_EQ(utf8.subject, "生のUTF-8件名");
  EXPECT_EQ(utf8.text, "本文です。\n");
  // Neither header nor body declares a charset: Shift_JIS is recognised.
  const core::InboundMail sjis = ParseSample("raw8bit_sjis.eml");
  EXPECT_EQ(sjis.subject, "生のシフトJIS件名");
  EXPECT_EQ(sjis.text, "本文はシフトJISです。\n");
}

TEST(Charset, UnknownCharsetIsFlaggedAndStillRead) {
  const core::InboundMail mail = ParseSample("unknown_charset.eml");
  EXPECT_EQ(mail.text, "plain ascii text\n");
  EXPECT_TRUE(HasFlag(mail, "bad_charset"));
  EXPECT_THAT(mail.problems.front(), HasSubstr("x-no-such-charset"));
}

TEST(Charset, Iso2022JpWithNecExtensionCharacters) {
  // "①ご確認ください" as Japanese mail software writes it: row 13 (NEC) under ESC $ B, which strict
  // ISO-2022-JP decoders refuse.
  const std::string raw =
      "From: a@example.jp\nSubject: =?ISO-2022-JP?B?GyRCLSEbKEI=?=\nContent-Type: text/plain; charset=iso-2022-jp\n\n"
      "\x1b$B-!$43NG'$/$@$5$$\x1b(B\n";
  const core::InboundMail mail = ParseMail(raw, MailParseOptions{}, nullptr);
  EXPECT_EQ(mail.text, "①ご確認ください\n");
  EXPECT_FALSE(HasFlag(mail, "bad_charset"));
}

TEST(Charset, InvalidBytesInDeclaredCharsetBecomeReplacementCharacters) {
  const std::string raw = "From: a@example.jp\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\nok \xff\xfe ok\n";
  const core::InboundMail mail = ParseMail(raw, MailParseOptions{}, nullptr);
  EXPECT_EQ(mail.text, "ok \xEF\xBF\xBD\xEF\xBF\xBD ok\n");
  EXPECT_TRUE(HasFlag(mail, "bad_charset"));
}

TEST(Rfc2231, ContinuationsCharsetsAndLanguages) {
  const core::InboundMail mail = ParseSample("rfc2231.eml");
  EXPECT_EQ(mail.text, "See the attachments.");
  ASSERT_EQ(mail.attachments.size(), 3u);
  // filename*0*= / filename*1*= in ISO-2022-JP, split in the middle of an escape sequence.
  EXPECT_EQ(mail.attachments[0].filename, "報告書_添付資料.txt");
  EXPECT_EQ(mail.attachments[0].content, "first attachment\n");
  EXPECT_EQ(mail.attachments[0].sha256, "59835cb977942f5e2c3f1b0c7c5e08ddcea2344659f7ffb09ef04e92466647b3");
  EXPECT_EQ(mail.attachments[1].filename, "報告.pdf");
  EXPECT_EQ(mail.attachments[1].content_type, "application/pdf");
  EXPECT_EQ(mail.attachments[1].magic_type, "application/pdf");
  EXPECT_EQ(mail.attachments[2].filename, "Übersicht.txt");  // iso-8859-1'de'
  EXPECT_EQ(mail.attachments[2].content_type, "text/plain");
  EXPECT_EQ(mail.attachments[2].content, "latin-1 named file");
}

}  // namespace
}  // namespace hikeshi::intake::mail
