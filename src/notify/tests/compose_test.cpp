#include "hikeshi/notify/compose.hpp"

#include <algorithm>
#include <string>

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include "tests/gmime_reader.hpp"

namespace hikeshi::notify {
namespace {

using testing::DecodeHeaderText;
using testing::Lines;
using testing::ParseMessage;
using testing::RawHeader;
using testing::TextOf;

MailDraft BasicDraft() {
  MailDraft draft;
  draft.from = {.name = "Example CSIRT", .address = "csirt@example.jp"};
  draft.to = {{.name = "", .address = "reporter@example.org"}};
  draft.subject = "Report received";
  draft.text = "Thank you for your report.\nWe will get back to you.\n";
  draft.date = common::FromMicros(1'770'000'000'000'000);  // 2026-02-02T02:40:00Z, a Monday
  return draft;
}

std::string MustCompose(const MailDraft& draft) {
  auto mail = Compose(draft);
  EXPECT_TRUE(mail.has_value()) << mail.error().message();
  return mail ? mail->message : std::string();
}

std::string Unfold(std::string_view header) {
  std::string out(header);
  for (std::size_t pos; (pos = out.find("\r\n")) != std::string::npos;) out.erase(pos, 2);
  return out;
}

TEST(ComposeTest, PlainAsciiMessageHasTheStandardHeadersAndCrlfOnly) {
  std::string raw = MustCompose(BasicDraft());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << "bare LF at byte " << i;
    }
    if (raw[i] == '\r') {
      ASSERT_TRUE(i + 1 < raw.size() && raw[i + 1] == '\n') << "bare CR at byte " << i;
    }
  }
  EXPECT_EQ(RawHeader(raw, "Date"), "Date: Mon, 02 Feb 2026 02:40:00 +0000");
  EXPECT_EQ(RawHeader(raw, "From"), "From: Example CSIRT <csirt@example.jp>");
  EXPECT_EQ(RawHeader(raw, "To"), "To: reporter@example.org");
  EXPECT_EQ(RawHeader(raw, "Subject"), "Subject: Report received");
  EXPECT_EQ(RawHeader(raw, "MIME-Version"), "MIME-Version: 1.0");
  EXPECT_EQ(RawHeader(raw, "Content-Type"), "Content-Type: text/plain; charset=utf-8");
  EXPECT_EQ(RawHeader(raw, "Content-Transfer-Encoding"), "Content-Transfer-Encoding: 7bit");
  std::size_t blank = raw.find("\r\n\r\n");
  ASSERT_NE(blank, std::string::npos);
  EXPECT_EQ(raw.substr(blank + 4), "Thank you for your report.\r\nWe will get back to you.\r\n");
}

TEST(ComposeTest, JapaneseSubjectIsAnEncodedWordThatDecodesBack) {
  MailDraft draft = BasicDraft();
  draft.subject = "インシデント報告";
  std::string raw = MustCompose(draft);
  // Computed independently: base64 of the UTF-8 bytes of インシデント報告.
  EXPECT_EQ(RawHeader(raw, "Subject"), "Subject: =?UTF-8?B?44Kk44Oz44K344OH44Oz44OI5aCx5ZGK?=");
  auto message = ParseMessage(raw);
  ASSERT_NE(message, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(message.get()), "インシデント報告");
}

TEST(ComposeTest, AnAsciiPrefixStaysReadableBeforeTheEncodedRest) {
  MailDraft draft = BasicDraft();
  draft.subject = "[Hikeshi I-2026-000123] テスト";
  std::string raw = MustCompose(draft);
  EXPECT_EQ(RawHeader(raw, "Subject"), "Subject: [Hikeshi I-2026-000123] =?UTF-8?B?44OG44K544OI?=");
  EXPECT_EQ(DecodeHeaderText(Unfold(RawHeader(raw, "Subject")).substr(9)), "[Hikeshi I-2026-000123] テスト");
}

TEST(ComposeTest, LongJapaneseSubjectIsFoldedWithinLimitsAndDecodesBack) {
  MailDraft draft = BasicDraft();
  draft.subject = "Re: [Hikeshi I-2026-000123] ";
  for (int i = 0; i < 12; ++i) draft.subject += "不正アクセスの報告（第" + std::to_string(i) + "報） ";
  draft.subject += "end";
  std::string raw = MustCompose(draft);
  std::string header = RawHeader(raw, "Subject");
  ASSERT_GT(Lines(header).size(), 5U);
  for (const auto& line : Lines(header)) {
    EXPECT_LE(line.size(), 78U) << line;
    // Each blank-separated token that is an encoded-word is at most 75 characters.
    std::size_t start = 0;
    while (start < line.size()) {
      std::size_t end = std::min(line.find(' ', start), line.size());
      std::string token = line.substr(start, end - start);
      if (token.starts_with("=?")) {
        EXPECT_TRUE(token.ends_with("?=")) << token;
        EXPECT_LE(token.size(), 75U) << "encoded-word longer than RFC 2047 allows: " << token;
      }
      start = end + 1;
    }
  }
  auto message = ParseMessage(raw);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(std::string(g_mime_message_get_subject(message.get())), draft.subject);
}

TEST(ComposeTest, MixedScriptSubjectsDecodeBackWhateverTheByteAlignment) {
  // One or two ASCII bytes before runs of 3-byte characters leave no character boundary at a whole
  // base64 group; some decoders (GMime among them) lose everything after a padded word.
  for (std::string lead : {"a", "ab", "abc", "é", "aé", "🔥"}) {
    MailDraft draft = BasicDraft();
    draft.subject = lead;
    for (int i = 0; i < 40; ++i) draft.subject += "報告";
    draft.subject += " x" + lead + "件名 y";
    std::string raw = MustCompose(draft);
    for (const auto& line : Lines(RawHeader(raw, "Subject"))) EXPECT_LE(line.size(), 78U) << line;
    auto message = ParseMessage(raw);
    ASSERT_NE(message, nullptr);
    EXPECT_EQ(std::string(g_mime_message_get_subject(message.get())), draft.subject) << RawHeader(raw, "Subject");
  }
}

TEST(ComposeTest, LongAsciiSubjectIsFoldedAtSpacesAndUnfoldsToTheOriginal) {
  MailDraft draft = BasicDraft();
  draft.subject = "Re: ";
  for (int i = 0; i < 30; ++i) draft.subject += "word" + std::to_string(i) + "  ";
  draft.subject += "last";
  std::string header = RawHeader(MustCompose(draft), "Subject");
  ASSERT_GT(Lines(header).size(), 2U);
  for (const auto& line : Lines(header)) EXPECT_LE(line.size(), 78U) << line;
  EXPECT_EQ(Unfold(header), "Subject: " + draft.subject);
  EXPECT_EQ(header.find("=?"), std::string::npos) << "plain ASCII should stay readable";
}

TEST(ComposeTest, SubjectThatLooksLikeAnEncodedWordIsEncodedSoItReadsLiterally) {
  MailDraft draft = BasicDraft();
  draft.subject = "literal =?UTF-8?B?44OG44K544OI?= text";
  auto message = ParseMessage(MustCompose(draft));
  ASSERT_NE(message, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(message.get()), "literal =?UTF-8?B?44OG44K544OI?= text");
}

TEST(ComposeTest, LineBreaksInAnyHeaderValueAreRefused) {
  struct Case {
    const char* what;
    void (*edit)(MailDraft&);
    const char* field;
  };
  const Case cases[] = {
      {"subject CRLF", [](MailDraft& d) { d.subject = "hello\r\nBcc: victim@example.com"; }, "/subject"},
      {"subject LF", [](MailDraft& d) { d.subject = "hello\nBcc: victim@example.com"; }, "/subject"},
      {"subject CR", [](MailDraft& d) { d.subject = "hello\rBcc: victim@example.com"; }, "/subject"},
      {"from name", [](MailDraft& d) { d.from.name = "CSIRT\r\nBcc: x@example.com"; }, "/from/name"},
      {"to address", [](MailDraft& d) { d.to[0].address = "a@example.org\r\nBcc: x@example.com"; }, "/to/0/address"},
      {"cc name", [](MailDraft& d) { d.cc = {{.name = "x\n", .address = "c@example.org"}}; }, "/cc/0/name"},
      {"extra value",
       [](MailDraft& d) { d.extra_headers = {{.name = "X-Hikeshi-Ticket", .value = "I-1\r\nBcc: x@example.com"}}; },
       "/extra_headers/0/value"},
      {"extra name", [](MailDraft& d) { d.extra_headers = {{.name = "X-A\r\nBcc", .value = "x"}}; },
       "/extra_headers/0/name"},
      {"in-reply-to", [](MailDraft& d) { d.in_reply_to = "<a@b>\r\nBcc: x@example.com"; }, "/in_reply_to"},
      {"references",
       [](MailDraft& d) {
         d.references = {"<a@b>", "<c@d>\n"};
       },
       "/references/1"},
      {"message id", [](MailDraft& d) { d.message_id = "<a@b>\r\n"; }, "/message_id"},
  };
  for (const auto& c : cases) {
    MailDraft draft = BasicDraft();
    c.edit(draft);
    auto mail = Compose(draft);
    ASSERT_FALSE(mail.has_value()) << c.what;
    EXPECT_EQ(mail.error().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_EQ(mail.error().field(), c.field) << c.what << ": " << mail.error().message();
  }
}

TEST(ComposeTest, ExtraHeadersCannotReplaceTheComposersOwn) {
  for (const char* name : {"Bcc", "to", "SUBJECT", "Content-Type", "Message-ID", "MIME-Version", "X-Bad Name"}) {
    MailDraft draft = BasicDraft();
    draft.extra_headers = {{.name = name, .value = "x"}};
    auto mail = Compose(draft);
    ASSERT_FALSE(mail.has_value()) << name;
    EXPECT_EQ(mail.error().code(), ErrorCode::kInvalidArgument) << name;
  }
}

TEST(ComposeTest, ExtraHeadersAndThreadingHeadersAreWritten) {
  MailDraft draft = BasicDraft();
  draft.message_id = "<ack-1@csirt.example.jp>";
  draft.in_reply_to = "<orig@reporter.example.org>";
  draft.references = {"<first@reporter.example.org>", "<orig@reporter.example.org>"};
  draft.extra_headers = {{.name = "Auto-Submitted", .value = "auto-replied"},
                         {.name = "X-Hikeshi-Ticket", .value = "R-2026-000042"}};
  auto mail = Compose(draft);
  ASSERT_TRUE(mail.has_value()) << mail.error().message();
  EXPECT_EQ(mail->message_id, "<ack-1@csirt.example.jp>");
  EXPECT_EQ(RawHeader(mail->message, "Message-ID"), "Message-ID: <ack-1@csirt.example.jp>");
  EXPECT_EQ(RawHeader(mail->message, "In-Reply-To"), "In-Reply-To: <orig@reporter.example.org>");
  EXPECT_EQ(RawHeader(mail->message, "References"),
            "References: <first@reporter.example.org> <orig@reporter.example.org>");
  EXPECT_EQ(RawHeader(mail->message, "Auto-Submitted"), "Auto-Submitted: auto-replied");
  EXPECT_EQ(RawHeader(mail->message, "X-Hikeshi-Ticket"), "X-Hikeshi-Ticket: R-2026-000042");
}

TEST(ComposeTest, GeneratedMessageIdsAreUniqueAndUseTheSendersDomain) {
  auto first = Compose(BasicDraft());
  auto second = Compose(BasicDraft());
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->message_id, second->message_id);
  EXPECT_TRUE(first->message_id.starts_with("<")) << first->message_id;
  EXPECT_TRUE(first->message_id.ends_with("@example.jp>")) << first->message_id;
  EXPECT_EQ(RawHeader(first->message, "Message-ID"), "Message-ID: " + first->message_id);
  auto message = ParseMessage(first->message);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ("<" + std::string(g_mime_message_get_message_id(message.get())) + ">", first->message_id);
}

TEST(ComposeTest, MalformedAddressesAndIdsAreRefused) {
  for (const char* address : {"", "no-at-sign", "@example.org", "user@", "a b@example.org", "a<b@example.org",
                              "user@exa_mple.org", "ユーザ@example.jp", "user@例え.jp", "a..b@example.org"}) {
    MailDraft draft = BasicDraft();
    draft.to[0].address = address;
    auto mail = Compose(draft);
    ASSERT_FALSE(mail.has_value()) << address;
    EXPECT_EQ(mail.error().field(), "/to/0/address") << address;
  }
  for (const char* id : {"no-brackets@x", "<no-at>", "<a b@c>", "<@c>", "<<a@b>>"}) {
    MailDraft draft = BasicDraft();
    draft.message_id = id;
    EXPECT_FALSE(Compose(draft).has_value()) << id;
  }
  MailDraft nobody = BasicDraft();
  nobody.to.clear();
  EXPECT_FALSE(Compose(nobody).has_value());
}

TEST(ComposeTest, DisplayNamesAreQuotedOrEncodedAndReadBack) {
  MailDraft draft = BasicDraft();
  draft.from = {.name = "日本 CSIRT 受付窓口", .address = "csirt@example.jp"};
  draft.to = {{.name = "Doe, John \"JD\"", .address = "jd@example.org"},
              {.name = "Plain Name", .address = "pn@example.org"},
              {.name = "", .address = "bare@example.org"}};
  draft.cc = {{.name = "Ünïcödé", .address = "u@example.de"}};
  auto mail = Compose(draft);
  ASSERT_TRUE(mail.has_value()) << mail.error().message();
  EXPECT_EQ(mail->recipients,
            (std::vector<std::string>{"jd@example.org", "pn@example.org", "bare@example.org", "u@example.de"}));
  auto message = ParseMessage(mail->message);
  ASSERT_NE(message, nullptr);
  InternetAddressList* from = g_mime_message_get_from(message.get());
  ASSERT_EQ(internet_address_list_length(from), 1);
  EXPECT_STREQ(internet_address_get_name(internet_address_list_get_address(from, 0)), "日本 CSIRT 受付窓口");
  InternetAddressList* to = g_mime_message_get_to(message.get());
  ASSERT_EQ(internet_address_list_length(to), 3);
  EXPECT_STREQ(internet_address_get_name(internet_address_list_get_address(to, 0)), "Doe, John \"JD\"");
  EXPECT_STREQ(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to, 0))),
               "jd@example.org");
  EXPECT_STREQ(internet_address_get_name(internet_address_list_get_address(to, 1)), "Plain Name");
  EXPECT_STREQ(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to, 2))),
               "bare@example.org");
  InternetAddressList* cc = g_mime_message_get_cc(message.get());
  ASSERT_EQ(internet_address_list_length(cc), 1);
  EXPECT_STREQ(internet_address_get_name(internet_address_list_get_address(cc, 0)), "Ünïcödé");
}

TEST(ComposeTest, ManyRecipientsFoldTheAddressList) {
  MailDraft draft = BasicDraft();
  draft.to.clear();
  for (int i = 0; i < 20; ++i)
    draft.to.push_back({.name = "Handler " + std::to_string(i), .address = "h" + std::to_string(i) + "@example.org"});
  auto mail = Compose(draft);
  ASSERT_TRUE(mail.has_value());
  for (const auto& line : Lines(RawHeader(mail->message, "To"))) EXPECT_LE(line.size(), 78U) << line;
  auto message = ParseMessage(mail->message);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(internet_address_list_length(g_mime_message_get_to(message.get())), 20);
}

struct BodyCase {
  const char* what;
  std::string text;
  const char* encoding;
};

TEST(ComposeTest, BodiesAreEncodedSafelyAndDecodeBackToTheText) {
  const BodyCase cases[] = {
      {"ascii", "plain text\nsecond line\n", "7bit"},
      {"trailing blanks and From", "trailing space \nFrom the start\n.leading dot\nkeep\t\n", "quoted-printable"},
      {"long line", std::string(300, 'x') + "\n", "quoted-printable"},
      {"mostly ascii", "Hello, this is a report about a server in München.\n", "quoted-printable"},
      {"japanese", "お世話になっております。\n不正アクセスの報告を受け付けました。\n受付番号: R-2026-000042\n",
       "base64"},
      {"no final newline", "no newline at the end", "7bit"},
      {"CR and CRLF line ends", "one\r\ntwo\rthree\n", "7bit"},
  };
  for (const auto& c : cases) {
    MailDraft draft = BasicDraft();
    draft.text = c.text;
    std::string raw = MustCompose(draft);
    EXPECT_EQ(RawHeader(raw, "Content-Transfer-Encoding"), std::string("Content-Transfer-Encoding: ") + c.encoding)
        << c.what;
    std::size_t body = raw.find("\r\n\r\n") + 4;
    for (const auto& line : Lines(raw.substr(body))) {
      EXPECT_LE(line.size(), 76U) << c.what;
      EXPECT_TRUE(std::all_of(line.begin(), line.end(), [](char ch) { return ch > 0 && ch < 0x7f; })) << c.what;
    }
    auto message = ParseMessage(raw);
    ASSERT_NE(message, nullptr) << c.what;
    // The expected text, line ends written out by hand as CRLF.
    std::string expected;
    for (std::size_t i = 0; i < c.text.size(); ++i) {
      if (c.text[i] == '\r' && i + 1 < c.text.size() && c.text[i + 1] == '\n') continue;
      expected += (c.text[i] == '\n' || c.text[i] == '\r') ? std::string("\r\n") : std::string(1, c.text[i]);
    }
    if (!expected.ends_with("\r\n")) expected += "\r\n";
    EXPECT_EQ(TextOf(g_mime_message_get_mime_part(message.get())), expected) << c.what;
  }
}

TEST(ComposeTest, InvalidUtf8IsRefused) {
  MailDraft draft = BasicDraft();
  draft.text = "bad \xff byte";
  auto mail = Compose(draft);
  ASSERT_FALSE(mail.has_value());
  EXPECT_EQ(mail.error().field(), "/text");
  draft = BasicDraft();
  draft.subject = "bad \xc3";
  EXPECT_FALSE(Compose(draft).has_value());
}

}  // namespace
}  // namespace hikeshi::notify
