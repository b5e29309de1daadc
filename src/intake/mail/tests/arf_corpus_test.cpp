// Every ARF report of ../shared/corpora/arf/resources/arf (RFC 5965 and RFC 6591 samples) against
// the fields its .json says a correct parser extracts. The expected values are read from the .json
// at test time.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_keyring.hpp"

namespace hikeshi::intake::mail {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using ::testing::StartsWith;

fs::path ArfDir() { return testing::SharedDir() / "corpora" / "arf" / "resources" / "arf"; }

// "AuthFailure" (the corpus's enum spelling) and "auth-failure" (ARF's) are the same type.
std::string TypeKey(std::string_view type) {
  std::string key;
  for (const char c : type) {
    if (c == '-') continue;
    key += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return key;
}

std::vector<std::string> Lines(const std::string& list) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (!list.empty() && pos <= list.size()) {
    const std::size_t end = std::min(list.find('\n', pos), list.size());
    lines.push_back(list.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::vector<fs::path> CorpusFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(ArfDir())) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ArfCorpus, EveryReportGivesTheExpectedFields) {
  const std::vector<fs::path> files = CorpusFiles();
  ASSERT_EQ(files.size(), 5u) << "the corpus should hold five reports";
  for (const fs::path& eml : files) {
    SCOPED_TRACE(eml.filename().string());
    fs::path json_path = eml;
    json_path.replace_extension(".json");
    const nlohmann::json expected = nlohmann::json::parse(ReadFile(json_path));
    const core::InboundMail mail = ParseMail(ReadFile(eml), MailParseOptions{}, nullptr);
    ASSERT_TRUE(mail.abuse.has_value());
    const core::AbuseReport& report = *mail.abuse;
    EXPECT_EQ(report.format, "arf");
    EXPECT_EQ(TypeKey(report.report_type), TypeKey(expected["feedback_type"].get<std::string>()));
    EXPECT_EQ(report.source_ip, expected["source_ip"].is_null() ? "" : expected["source_ip"].get<std::string>());
    EXPECT_EQ(report.user_agent, expected["user_agent"].is_null() ? "" : expected["user_agent"].get<std::string>());
    if (expected["arrival_date"].is_null()) {
      EXPECT_FALSE(report.arrival_date.has_value());
    } else {
      ASSERT_TRUE(report.arrival_date.has_value());
      EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(report.arrival_date->time_since_epoch()).count(),
                expected["arrival_date"].get<std::int64_t>());
    }
    EXPECT_EQ(Lines(report.reported_domain), expected["reported_domain"].get<std::vector<std::string>>());
    EXPECT_EQ(Lines(report.reported_uri), expected["reported_uri"].get<std::vector<std::string>>());
    EXPECT_EQ(report.source_port.value_or(0), expected["source_port"].get<int>());
    if (!expected["headers"].is_null()) {
      EXPECT_EQ(report.original_message, expected["headers"].get<std::string>());
    }
    if (!expected["message"].is_null()) {
      EXPECT_EQ(report.original_message, expected["message"].get<std::string>());
    }
    EXPECT_TRUE(report.category.has_value());
    EXPECT_FALSE(mail.text.empty());  // the human-readable first part
  }
}

TEST(Arf, CategoriesAndTheAttachedOriginal) {
  const core::InboundMail abuse = ParseMail(ReadFile(ArfDir() / "001.eml"), MailParseOptions{}, nullptr);
  ASSERT_TRUE(abuse.abuse && abuse.abuse->category);
  EXPECT_EQ(abuse.abuse->category->ToString(), "abusive-content/spam");
  EXPECT_THAT(abuse.abuse->original_message, StartsWith("Received: from mailserver.example.net\n"));
  EXPECT_THAT(abuse.text, StartsWith("This is an email abuse report for an email message received from IP\n"));
  const core::InboundMail auth = ParseMail(ReadFile(ArfDir() / "003.eml"), MailParseOptions{}, nullptr);
  ASSERT_TRUE(auth.abuse && auth.abuse->category);
  EXPECT_EQ(auth.abuse->category->ToString(), "fraud/masquerade");
}

}  // namespace
}  // namespace hikeshi::intake::mail
