// X-ARF reports by mail: v0.2 (report.txt, flat YAML) and v4 (a JSON part, read by intake/feed's
// xarf parser). Every v4 sample of ../shared/corpora/xarf-v4 is wrapped in a mail at test time.
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"

#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ParseSample;
using testing::ReadFile;

TEST(Xarf02, ReportTxtIsRead) {
  const core::InboundMail mail = ParseSample("xarf02.eml");
  ASSERT_TRUE(mail.abuse.has_value());
  const core::AbuseReport& report = *mail.abuse;
  EXPECT_EQ(report.format, "xarf-0.2");
  EXPECT_EQ(report.report_type, "login-attack");
  EXPECT_EQ(report.source_ip, "192.0.2.99");
  EXPECT_EQ(report.source_port, 22);
  EXPECT_EQ(report.user_agent, "fail2ban X-ARF 1.0");
  ASSERT_TRUE(report.arrival_date.has_value());
  EXPECT_EQ(common::FormatRfc3339(*report.arrival_date), "2026-03-02T07:58:00.000000Z");
  ASSERT_TRUE(report.category.has_value());
  EXPECT_EQ(report.category->ToString(), "intrusion-attempts/brute-force");
  EXPECT_THAT(report.original_message, HasSubstr("Failed password for root from 192.0.2.99 port 51234"));
  EXPECT_EQ(mail.text, "Dear abuse team, a host of yours attacked us.");  // not the YAML
}

TEST(Xarf4, JsonPartIsRead) {
  const core::InboundMail mail = ParseSample("xarf4.eml");
  ASSERT_TRUE(mail.abuse.has_value());
  const core::AbuseReport& report = *mail.abuse;
  EXPECT_EQ(report.format, "xarf-4");
  EXPECT_EQ(report.report_type, "connection/port_scan");
  EXPECT_EQ(report.source_ip, "203.0.113.45");
  EXPECT_EQ(report.source_port, 40022);
  ASSERT_TRUE(report.category.has_value());
  EXPECT_EQ(report.category->ToString(), "information-gathering/scanner");
  ASSERT_TRUE(report.arrival_date.has_value());
  EXPECT_EQ(common::FormatRfc3339(*report.arrival_date), "2026-03-02T07:00:00.000000Z");
  EXPECT_EQ(mail.text, "An X-ARF v4 report is attached.");
}

TEST(Xarf4, EverySampleOfTheSpecCorpus) {
  const fs::path dir = testing::SharedDir() / "corpora" / "xarf-v4" / "samples" / "v4";
  int samples = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++samples;
    const std::string json = ReadFile(entry.path());
    const nlohmann::json sample = nlohmann::json::parse(json);
    const std::string raw =
        "From: reports@example.net\nTo: abuse@example.jp\nSubject: report\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nReport attached.\n"
        "--b\nContent-Type: application/json\nContent-Transfer-Encoding: 8bit\n\n" +
        json + "\n--b--\n";
    const core::InboundMail mail = ParseMail(raw, MailParseOptions{}, nullptr);
    ASSERT_TRUE(mail.abuse.has_value()) << ::testing::PrintToString(mail.problems);
    EXPECT_EQ(mail.abuse->format, "xarf-4");
    EXPECT_EQ(mail.abuse->report_type, sample["category"].get<std::string>() + "/" + sample["type"].get<std::string>());
    EXPECT_TRUE(mail.abuse->category.has_value());
    const std::string source = sample["source_identifier"].get<std::string>();
    const std::string found =
        mail.abuse->source_ip + "\n" + mail.abuse->reported_domain + "\n" + mail.abuse->reported_uri;
    EXPECT_THAT(found, HasSubstr(source));
    EXPECT_EQ(mail.abuse->original_message, json);
  }
  EXPECT_GE(samples, 30);
}

}  // namespace
}  // namespace hikeshi::intake::mail
