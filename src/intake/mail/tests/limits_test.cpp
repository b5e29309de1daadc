// Limits and hostile input: each hostile message finishes within seconds with the flag a user would
// look for, the size limits keep metadata and drop content, and ParseMail is safe from four threads.
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/utf8.hpp"

#include "tests/hostile_messages.hpp"
#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

namespace fs = std::filesystem;
using testing::HasFlag;
using ::testing::HasSubstr;
using testing::ReadFile;

const testing::HostileMessage& Hostile(std::string_view name) {
  static const std::vector<testing::HostileMessage> messages = testing::HostileMessages();
  for (const auto& message : messages) {
    if (message.name == name) return message;
  }
  throw std::runtime_error("no hostile message " + std::string(name));
}

core::InboundMail TimedParse(const std::string& raw, const MailParseOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  core::InboundMail mail = ParseMail(raw, options, nullptr);
  // A guard against hangs and quadratic blow-ups; see replay_main.cpp for the margin.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  return mail;
}

TEST(Hostile, EveryCaseFinishesWithValidText) {
  for (const auto& message : testing::HostileMessages()) {
    SCOPED_TRACE(message.name);
    const core::InboundMail mail = TimedParse(message.bytes, MailParseOptions{});
    EXPECT_TRUE(common::IsValidUtf8(mail.text));
    EXPECT_TRUE(common::IsValidUtf8(mail.subject));
  }
}

TEST(Hostile, DeepNestingIsCut) {
  const core::InboundMail mail = TimedParse(Hostile("10,000-deep multipart nesting").bytes, MailParseOptions{});
  EXPECT_TRUE(HasFlag(mail, "too_deep"));
  EXPECT_EQ(mail.subject, "hostile");
  const core::InboundMail forwarded =
      TimedParse(Hostile("1,000-deep message/rfc822 nesting").bytes, MailParseOptions{});
  EXPECT_TRUE(HasFlag(forwarded, "too_deep"));
}

TEST(Hostile, ManyPartsAreCut) {
  const core::InboundMail mail = TimedParse(Hostile("100,000 parts").bytes, MailParseOptions{});
  EXPECT_TRUE(HasFlag(mail, "too_many_parts"));
  EXPECT_LE(mail.problems.size(), 70u);
}

TEST(Hostile, HugeHeaderFieldsAreCut) {
  const core::InboundMail mail = TimedParse(Hostile("10 MB header line").bytes, MailParseOptions{});
  EXPECT_TRUE(HasFlag(mail, "long_header"));
  EXPECT_GT(mail.subject.size(), 200000u);
  EXPECT_LE(mail.subject.size(), 256u * 1024);
  EXPECT_EQ(mail.from_address, "a@example.net");
  EXPECT_EQ(mail.text, "body\n");
  const core::InboundMail folded = TimedParse(Hostile("10 MB folded header").bytes, MailParseOptions{});
  EXPECT_TRUE(HasFlag(folded, "long_header"));
  EXPECT_EQ(folded.subject, "folded");  // the field after the long one is intact
  EXPECT_EQ(folded.text, "body\n");
}

TEST(Limits, AttachmentOverTheLimitKeepsItsMetadata) {
  MailParseOptions options;
  options.max_attachment_bytes = 1 << 20;
  const core::InboundMail mail = TimedParse(Hostile("base64 attachment decoding to 24 MB").bytes, options);
  EXPECT_TRUE(HasFlag(mail, "attachment_dropped"));
  ASSERT_EQ(mail.attachments.size(), 1u);
  EXPECT_EQ(mail.attachments[0].filename, "big.bin");
  EXPECT_TRUE(mail.attachments[0].content.empty());
  EXPECT_EQ(mail.attachments[0].sha256.size(), 64u);
  EXPECT_NE(mail.attachments[0].sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // not ""
  EXPECT_EQ(mail.text, "see attachment");
}

TEST(Limits, DecodedTotal) {
  std::string raw = "From: a@example.net\nSubject: many\nContent-Type: multipart/mixed; boundary=\"m\"\n\n";
  for (int i = 0; i < 5; ++i) {
    raw += "--m\nContent-Type: application/octet-stream; name=\"f" + std::to_string(i) + "\"\n\n" +
           std::string(1000, 'x') + "\n";
  }
  raw += "--m--\n";
  MailParseOptions options;
  options.max_decoded_bytes = 2500;
  const core::InboundMail mail = ParseMail(raw, options, nullptr);
  ASSERT_EQ(mail.attachments.size(), 5u);
  EXPECT_EQ(mail.attachments[0].content.size(), 1000u);
  EXPECT_EQ(mail.attachments[1].content.size(), 1000u);
  EXPECT_TRUE(mail.attachments[4].content.empty());
  EXPECT_TRUE(HasFlag(mail, "decoded_limit"));
}

TEST(Limits, OversizedMessageIsReadUpToItsHeaders) {
  const std::string raw = "From: Big <big@example.net>\nSubject: =?UTF-8?B?5aSn44GN44GE?=\nMessage-ID: <big@x>\n\n" +
                          std::string(10000, 'b');
  MailParseOptions options;
  options.max_message_bytes = 4096;
  const core::InboundMail mail = ParseMail(raw, options, nullptr);
  EXPECT_TRUE(HasFlag(mail, "truncated"));
  EXPECT_EQ(mail.subject, "大きい");
  EXPECT_EQ(mail.from_address, "big@example.net");
  EXPECT_EQ(mail.message_id, "big@x");
  EXPECT_EQ(mail.text, "");
}

TEST(Limits, ShallowDepthLimit) {
  MailParseOptions options;
  options.max_depth = 2;
  const core::InboundMail mail = ParseMail(ReadFile(testing::CorpusDir() / "nested.eml"), options, nullptr);
  EXPECT_TRUE(HasFlag(mail, "too_deep"));
  EXPECT_EQ(mail.subject, "nested structure");
}

TEST(Concurrency, FourThreadsGetTheSameResultsAsOne) {
  std::vector<std::string> samples;
  for (const auto& entry : fs::directory_iterator(testing::CorpusDir())) samples.push_back(ReadFile(entry.path()));
  std::vector<core::InboundMail> expected;
  for (const std::string& raw : samples) expected.push_back(ParseMail(raw, MailParseOptions{}, nullptr));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t i = 0; i < samples.size(); ++i) {
          const core::InboundMail mail = ParseMail(samples[i], MailParseOptions{}, nullptr);
          if (mail.text != expected[i].text || mail.subject != expected[i].subject ||
              mail.attachments.size() != expected[i].attachments.size() || mail.flags != expected[i].flags) {
            ++mismatches[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

}  // namespace
}  // namespace hikeshi::intake::mail
