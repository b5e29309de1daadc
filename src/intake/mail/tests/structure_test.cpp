// MIME structures: nested multiparts with CRLF, LF and CR-only line endings, attached messages,
// uuencode, HTML-only bodies, broken MIME (missing boundary, missing subtype, empty multipart),
// headers, automatic mail and spam, and input GMime cannot read at all.
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/time.hpp"
#include "hikeshi/common/utf8.hpp"

#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

using ::testing::ElementsAre;
using testing::FindAttachment;
using testing::HasFlag;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ParseSample;
using ::testing::StartsWith;

class NestedStructure : public ::testing::TestWithParam<const char*> {};

TEST_P(NestedStructure, ReadsTheSameWhateverTheLineEndings) {
  const core::InboundMail mail = ParseSample(GetParam());
  EXPECT_EQ(mail.subject, "nested structure");
  EXPECT_EQ(mail.from_address, "reporter@example.org");
  EXPECT_EQ(mail.from_name, "Reporter");
  EXPECT_EQ(mail.message_id, "sample@example.org");
  EXPECT_EQ(mail.in_reply_to, "parent@example.jp");
  EXPECT_THAT(mail.references, ElementsAre("root@example.jp", "parent@example.jp"));
  EXPECT_THAT(mail.to, ElementsAre("csirt@example.jp", "team@example.jp", "other@example.net"));
  EXPECT_EQ(mail.return_path, "bounce@example.org");
  ASSERT_TRUE(mail.date.has_value());
  EXPECT_EQ(common::FormatRfc3339(*mail.date), "2026-03-03T01:15:00.000000Z");
  // multipart/alternative: the plain version, not the HTML one.
  EXPECT_EQ(mail.text, "Plain body: see 198.51.100.7.");
  EXPECT_TRUE(mail.flags.empty()) << ::testing::PrintToString(mail.problems);

  ASSERT_EQ(mail.attachments.size(), 3u);
  EXPECT_EQ(mail.attachments[0].content_type, "image/png");
  EXPECT_EQ(mail.attachments[0].magic_type, "image/png");
  const core::MailAttachment* zip = FindAttachment(mail, "evidence.zip");
  ASSERT_NE(zip, nullptr);
  EXPECT_EQ(zip->content_type, "application/zip");
  EXPECT_EQ(zip->magic_type, "application/zip");
  EXPECT_EQ(zip->content.size(), 160u);
  EXPECT_EQ(zip->sha256, "6da0eb42941de933a8d3720b557fa20cf9c2f288e116cc41a1061ebac71ca04e");
  const core::MailAttachment* forwarded = FindAttachment(mail, "phish.eml");
  ASSERT_NE(forwarded, nullptr);
  EXPECT_EQ(forwarded->content_type, "message/rfc822");
  EXPECT_THAT(forwarded->content, StartsWith("From: Original Sender <phisher@bad.example>"));
  EXPECT_THAT(forwarded->content, HasSubstr("Click http://bad.example/unlock now."));
}

INSTANTIATE_TEST_SUITE_P(LineEndings, NestedStructure,
                         ::testing::Values("nested.eml", "nested_crlf.eml", "nested_cr.eml"));

TEST(Structure, AttachedMessageGivesTheTextWhenTheTopHasNone) {
  const core::InboundMail mail = ParseSample("forwarded_only.eml");
  EXPECT_EQ(mail.text, "Click http://bad.example/unlock now.");
  ASSERT_EQ(mail.attachments.size(), 1u);
  EXPECT_EQ(mail.attachments[0].content_type, "message/rfc822");
  EXPECT_EQ(mail.attachments[0].filename, "Your account is locked.eml");
  EXPECT_THAT(mail.attachments[0].content, StartsWith("From: Original Sender"));
}

TEST(Structure, UuencodeTransferEncoding) {
  const core::InboundMail mail = ParseSample("uuencode_cte.eml");
  EXPECT_EQ(mail.text, "body text");
  const core::MailAttachment* log = FindAttachment(mail, "log.txt");
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->content, "uuencoded evidence line\n");
}

TEST(Structure, UuencodedFileInsideText) {
  const core::InboundMail mail = ParseSample("uuencode_inline.eml");
  const core::MailAttachment* log = FindAttachment(mail, "attack.log");
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->content, "uuencoded evidence line\n");
  EXPECT_EQ(log->sha256, "bafee70c7eafd6816064caec1a59c159fa264bca114cc68cf24d591d32e22fc0");
  EXPECT_EQ(mail.text, "The log is attached below.\n\n[uuencoded file: attack.log]\n\nRegards,\nReporter\n");
}

TEST(Structure, HtmlOnlyBodyIsRenderedToText) {
  const core::InboundMail mail = ParseSample("html_only.eml");
  EXPECT_THAT(mail.text, HasSubstr("Phishing report"));
  EXPECT_THAT(mail.text, HasSubstr("The site click here <http://phish.example/login?a=1&b=2> copies our bank."));
  EXPECT_THAT(mail.text, HasSubstr("first & second"));
  EXPECT_THAT(mail.text, HasSubstr("café 日本"));
  EXPECT_THAT(mail.text, Not(HasSubstr("color")));
  EXPECT_THAT(mail.text, Not(HasSubstr("not text")));
  EXPECT_THAT(mail.text, Not(HasSubstr("hidden comment")));
  EXPECT_THAT(mail.text, Not(HasSubstr("<p>")));
}

TEST(BrokenMime, MissingBoundaryIsGuessedFromTheBody) {
  const core::InboundMail mail = ParseSample("missing_boundary.eml");
  EXPECT_TRUE(HasFlag(mail, "broken_mime"));
  EXPECT_THAT(mail.text, HasSubstr("first part text"));
  EXPECT_THAT(mail.text, HasSubstr("second part text"));
  EXPECT_THAT(mail.text, Not(HasSubstr("Content-Type")));
}

TEST(BrokenMime, MissingSubtypes) {
  const core::InboundMail mail = ParseSample("missing_subtype.eml");
  EXPECT_TRUE(HasFlag(mail, "broken_mime"));
  EXPECT_EQ(mail.text, "text without subtype");
}

TEST(BrokenMime, EmptyMultipart) {
  const core::InboundMail mail = ParseSample("empty_multipart.eml");
  EXPECT_TRUE(HasFlag(mail, "broken_mime"));
  EXPECT_EQ(mail.subject, "empty multipart");
  EXPECT_TRUE(mail.attachments.empty());
}

TEST(BrokenMime, MessageWithoutBody) {
  const core::InboundMail mail = ParseSample("no_body.eml");
  EXPECT_EQ(mail.subject, "headers only");
  EXPECT_EQ(mail.text, "");
  EXPECT_FALSE(HasFlag(mail, "parse_failed"));
}

TEST(ParseFailed, BinaryInputIsKeptAsReadableText) {
  const std::string raw("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe binary", 26);
  const core::InboundMail mail = ParseMail(raw, MailParseOptions{}, nullptr);
  EXPECT_THAT(mail.flags, ElementsAre("parse_failed"));
  ASSERT_EQ(mail.problems.size(), 1u);
  EXPECT_THAT(mail.problems[0], StartsWith("parse_failed: "));
  EXPECT_THAT(mail.text, HasSubstr("IHDR"));
  EXPECT_THAT(mail.text, HasSubstr("binary"));
  EXPECT_TRUE(common::IsValidUtf8(mail.text));
}

TEST(ParseFailed, EmptyInput) {
  const core::InboundMail mail = ParseMail("", MailParseOptions{}, nullptr);
  EXPECT_THAT(mail.flags, ElementsAre("parse_failed"));
}

TEST(Automatic, HeadersThatMarkAutomaticMail) {
  struct Case {
    const char* file;
    const char* reason;
  };
  for (const Case& c :
       {Case{"auto_submitted.eml", "auto-submitted: auto-replied"}, Case{"precedence_bulk.eml", "precedence: bulk"},
        Case{"list_id.eml", "list-id"}, Case{"bounce.eml", "bounce: null sender"}}) {
    const core::InboundMail mail = ParseSample(c.file);
    EXPECT_TRUE(mail.auto_generated) << c.file;
    EXPECT_EQ(mail.auto_reason, c.reason) << c.file;
    EXPECT_FALSE(mail.spam) << c.file;
  }
  const core::InboundMail bounce = ParseSample("bounce.eml");
  EXPECT_EQ(bounce.return_path, "<>");
  EXPECT_EQ(bounce.text, "The message could not be delivered.");
  for (const char* human : {"auto_no.eml", "nested.eml", "iso2022jp.eml"}) {
    const core::InboundMail mail = ParseSample(human);
    EXPECT_FALSE(mail.auto_generated) << human << ": " << mail.auto_reason;
  }
}

TEST(Automatic, MailerDaemonWithoutNullSender) {
  const core::InboundMail mail =
      ParseMail("From: MAILER-DAEMON@mx.example.jp\nSubject: failure\n\ntext\n", MailParseOptions{}, nullptr);
  EXPECT_TRUE(mail.auto_generated);
  EXPECT_EQ(mail.auto_reason, "bounce: mailer-daemon");
}

TEST(Spam, UpstreamFilterVerdict) {
  EXPECT_TRUE(ParseSample("spam_flag.eml").spam);
  EXPECT_TRUE(ParseMail("From: a@example.net\nX-Spam-Status: Yes, score=9\n\nx\n", MailParseOptions{}, nullptr).spam);
  EXPECT_FALSE(ParseMail("From: a@example.net\nX-Spam-Status: No, score=0.1\nX-Spam-Flag: NO\n\nx\n",
                         MailParseOptions{}, nullptr)
                   .spam);
}

}  // namespace
}  // namespace hikeshi::intake::mail
