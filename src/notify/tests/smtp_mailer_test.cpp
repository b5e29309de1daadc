// The SMTP mailer against a real SMTP server on loopback (tests/support's sink).

#include "hikeshi/notify/smtp_mailer.hpp"

#include <chrono>
#include <stdexcept>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hikeshi/notify/compose.hpp"

#include "support/http_client.hpp"
#include "support/smtp_sink.hpp"

namespace hikeshi::notify {
namespace {

using hikeshi::testing::SinkMessage;
using hikeshi::testing::SmtpSink;
using hikeshi::testing::SmtpStage;
using std::chrono::milliseconds;

constexpr milliseconds kWait{10'000};

std::unique_ptr<SmtpSink> StartSink(hikeshi::testing::SmtpSinkOptions options = {}) {
  auto sink = SmtpSink::Start(std::move(options));
  EXPECT_TRUE(sink.has_value()) << sink.error().message();
  return sink ? std::move(*sink) : nullptr;
}

std::unique_ptr<core::Mailer> MailerFor(const SmtpSink& sink) {
  return MakeSmtpMailer({.url = sink.url(), .username = "", .password = "", .require_tls = false, .timeout = kWait});
}

core::OutgoingMail SimpleMail() {
  return {.envelope_from = "csirt@example.jp",
          .recipients = {"reporter@example.org"},
          .message = "From: csirt@example.jp\r\nTo: reporter@example.org\r\nSubject: hi\r\n\r\nhello\r\n"};
}

TEST(SmtpMailerTest, MessageArrivesByteForByteIncludingLinesThatStartWithADot) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  core::OutgoingMail mail = SimpleMail();
  mail.message =
      "From: csirt@example.jp\r\nTo: reporter@example.org\r\nSubject: dots\r\n\r\n"
      ".\r\n..\r\n.hidden line\r\n... three\r\nmiddle . dot\r\n.\r\nend\r\n";
  ASSERT_TRUE(MailerFor(*sink)->Send(mail).has_value());
  auto messages = sink->WaitForMessages(1, kWait);
  ASSERT_TRUE(messages.has_value()) << messages.error().message();
  ASSERT_EQ(messages->size(), 1U);
  EXPECT_EQ((*messages)[0].data, mail.message);
  EXPECT_EQ((*messages)[0].mail_from, "csirt@example.jp");
  EXPECT_EQ((*messages)[0].recipients, std::vector<std::string>{"reporter@example.org"});
}

TEST(SmtpMailerTest, EmptyEnvelopeSenderIsTheNullReversePath) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  core::OutgoingMail mail = SimpleMail();
  mail.envelope_from = "";
  ASSERT_TRUE(MailerFor(*sink)->Send(mail).has_value());
  auto messages = sink->WaitForMessages(1, kWait);
  ASSERT_TRUE(messages.has_value());
  EXPECT_EQ((*messages)[0].mail_from, "");
  EXPECT_EQ((*messages)[0].data, mail.message);
}

TEST(SmtpMailerTest, EveryRecipientIsInTheEnvelopeInOrder) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  core::OutgoingMail mail = SimpleMail();
  mail.recipients = {"a@example.org", "b@example.net", "c@example.jp"};
  ASSERT_TRUE(MailerFor(*sink)->Send(mail).has_value());
  auto messages = sink->WaitForMessages(1, kWait);
  ASSERT_TRUE(messages.has_value());
  EXPECT_EQ((*messages)[0].recipients, mail.recipients);
}

TEST(SmtpMailerTest, AComposedJapaneseMessageArrivesUnchanged) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  MailDraft draft;
  draft.from = {.name = "CSIRT 受付", .address = "csirt@example.jp"};
  draft.to = {{.name = "報告者", .address = "reporter@example.org"}};
  draft.cc = {{.name = "", .address = "team@example.jp"}};
  draft.subject = "[Hikeshi R-2026-000042] ご報告ありがとうございます";
  draft.text = "受け付けました。\n.\n..\n";
  auto composed = Compose(draft);
  ASSERT_TRUE(composed.has_value()) << composed.error().message();
  core::OutgoingMail mail{.envelope_from = "", .recipients = composed->recipients, .message = composed->message};
  ASSERT_TRUE(MailerFor(*sink)->Send(mail).has_value());
  auto messages = sink->WaitForMessages(1, kWait);
  ASSERT_TRUE(messages.has_value());
  EXPECT_EQ((*messages)[0].data, composed->message);
  EXPECT_EQ((*messages)[0].recipients, (std::vector<std::string>{"reporter@example.org", "team@example.jp"}));
}

struct RefusalCase {
  SmtpStage stage;
  const char* reply;
  ErrorCode expected;
};

TEST(SmtpMailerTest, TransientRepliesAreUnavailableAndPermanentOnesInvalidNamingTheReply) {
  const RefusalCase cases[] = {
      {SmtpStage::kGreeting, "421 4.3.2 service not available", ErrorCode::kUnavailable},
      {SmtpStage::kMail, "451 4.3.0 try again later", ErrorCode::kUnavailable},
      {SmtpStage::kRcpt, "450 4.2.1 mailbox busy", ErrorCode::kUnavailable},
      {SmtpStage::kData, "452 4.3.1 insufficient storage", ErrorCode::kUnavailable},
      {SmtpStage::kMessage, "451 4.7.1 greylisted", ErrorCode::kUnavailable},
      {SmtpStage::kGreeting, "554 5.7.1 no service for you", ErrorCode::kInvalidArgument},
      {SmtpStage::kMail, "553 5.1.8 sender domain does not exist", ErrorCode::kInvalidArgument},
      {SmtpStage::kRcpt, "550 5.1.1 no such user here", ErrorCode::kInvalidArgument},
      {SmtpStage::kData, "554 5.5.0 no valid recipients", ErrorCode::kInvalidArgument},
      {SmtpStage::kMessage, "552 5.3.4 message too big", ErrorCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto sink = StartSink();
    ASSERT_NE(sink, nullptr);
    sink->RefuseAt(c.stage, c.reply);
    auto sent = MailerFor(*sink)->Send(SimpleMail());
    ASSERT_FALSE(sent.has_value()) << c.reply;
    EXPECT_EQ(sent.error().code(), c.expected) << c.reply << ": " << sent.error().message();
    EXPECT_NE(sent.error().message().find(c.reply), std::string::npos) << sent.error().message();
    EXPECT_TRUE(sink->Messages().empty());
  }
}

TEST(SmtpMailerTest, NothingListeningIsUnavailable) {
  auto port = hikeshi::testing::PickFreePort();
  ASSERT_TRUE(port.has_value());
  auto mailer = MakeSmtpMailer({.url = "smtp://127.0.0.1:" + std::to_string(*port),
                                .username = "",
                                .password = "",
                                .require_tls = false,
                                .timeout = kWait});
  auto sent = mailer->Send(SimpleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kUnavailable) << sent.error().message();
}

TEST(SmtpMailerTest, ARelayThatNeverAnswersTimesOutAsUnavailable) {
  // A listening socket nobody accepts from: the TCP handshake completes, no greeting ever comes.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto mailer = MakeSmtpMailer({.url = "smtp://127.0.0.1:" + std::to_string(ntohs(address.sin_port)),
                                .username = "",
                                .password = "",
                                .require_tls = false,
                                .timeout = milliseconds(1000)});
  auto started = std::chrono::steady_clock::now();
  auto sent = mailer->Send(SimpleMail());
  auto elapsed = std::chrono::steady_clock::now() - started;
  ::close(fd);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kUnavailable) << sent.error().message();
  EXPECT_LT(elapsed, std::chrono::seconds(6));
}

TEST(SmtpMailerTest, AuthSendsTheCredentialsAndErrorsNeverShowThePassword) {
  auto sink = StartSink({.on_message = {}, .offer_auth = true});
  ASSERT_NE(sink, nullptr);
  const std::string password = "s3cret-Passw0rd";
  auto mailer = MakeSmtpMailer(
      {.url = sink->url(), .username = "hikeshi", .password = password, .require_tls = false, .timeout = kWait});
  ASSERT_TRUE(mailer->Send(SimpleMail()).has_value());
  auto messages = sink->WaitForMessages(1, kWait);
  ASSERT_TRUE(messages.has_value());
  EXPECT_EQ((*messages)[0].auth_user, "hikeshi");
  EXPECT_EQ((*messages)[0].auth_password, password);

  sink->RefuseAt(SmtpStage::kMessage, "554 5.7.1 rejected");
  auto refused = mailer->Send(SimpleMail());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message().find(password), std::string::npos) << refused.error().message();
}

TEST(SmtpMailerTest, MalformedEnvelopeAddressesAreRefusedBeforeConnecting) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  auto mailer = MailerFor(*sink);
  core::OutgoingMail injected = SimpleMail();
  injected.recipients = {"a@example.org>\r\nRCPT TO:<victim@example.com"};
  auto sent = mailer->Send(injected);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kInvalidArgument);
  core::OutgoingMail bad_sender = SimpleMail();
  bad_sender.envelope_from = "x y@example.org";
  EXPECT_EQ(mailer->Send(bad_sender).error().code(), ErrorCode::kInvalidArgument);
  core::OutgoingMail nobody = SimpleMail();
  nobody.recipients.clear();
  EXPECT_EQ(mailer->Send(nobody).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(SmtpMailerTest, BadOptionsAreConfigurationErrors) {
  auto check = [](SmtpOptions options) { return CheckSmtpOptions(options); };
  EXPECT_TRUE(check({.url = "smtp://relay.example:25"}).has_value());
  EXPECT_TRUE(check({.url = "smtps://relay.example:465", .username = "u", .password = "p"}).has_value());
  EXPECT_TRUE(check({.url = "smtp://127.0.0.1:25", .username = "u", .password = "p"}).has_value());
  EXPECT_TRUE(
      check({.url = "smtp://relay.example", .username = "u", .password = "p", .require_tls = true}).has_value());
  EXPECT_FALSE(check({.url = "http://relay.example"}).has_value());
  EXPECT_FALSE(check({.url = "relay.example:25"}).has_value());
  EXPECT_FALSE(check({.url = "smtp://user:pw@relay.example"}).has_value());
  auto clear = check({.url = "smtp://relay.example:25", .username = "u", .password = "p"});
  ASSERT_FALSE(clear.has_value());
  EXPECT_EQ(clear.error().message().find("\"p\""), std::string::npos);
  EXPECT_THROW(MakeSmtpMailer({.url = "http://relay.example"}), std::invalid_argument);
}

}  // namespace
}  // namespace hikeshi::notify
