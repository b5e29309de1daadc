// The mapping TOML: mistakes are reported against their key when the parser is made, before any
// record is read; and what each key does to a record.
#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

std::string MakeError(FeedFormat format, const std::string& toml) {
  ParserOptions options;
  options.mapping_toml = toml;
  auto parser = MakeParser(format, options);
  if (parser) return "";
  EXPECT_EQ(parser.error().code(), ErrorCode::kInvalidArgument);
  return parser.error().message();
}

TEST(Mapping, MistakesNameTheirKey) {
  EXPECT_NE(MakeError(FeedFormat::kNdjson, "subjct_ip = \"/ip\"\ncategory_default = \"Scan\"").find("'subjct_ip'"),
            std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kNdjson, "subject_ip = \"ip\"\ncategory_default = \"Scan\"").find("'subject_ip'"),
            std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kNdjson, "category_fixed = \"scan/ning\"").find("'category_fixed'"),
            std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kNdjson, "category_default = \"Scan\"\ntime_format = \"iso\"").find("'time_format'"),
            std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kNdjson, "category_default = \"Scan\"\ndelimiter = \";\"").find("'delimiter'"),
            std::string::npos);
  EXPECT_NE(
      MakeError(FeedFormat::kCsv, "category_default = \"Scan\"\n[[observable]]\nfield = \"x\"").find("observable 1"),
      std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kCsv, "category_default = \"Scan\"\n[[observable]]\nfield = \"x\"\ntype = \"mac\"")
                .find("type 'mac' is unknown"),
            std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kCsv, "format = \"ndjson\"\ncategory_default = \"Scan\"").find("format"),
            std::string::npos);
}

TEST(Mapping, ACategoryIsRequiredAndFixedExcludesTheRest) {
  EXPECT_NE(MakeError(FeedFormat::kCsv, "subject_ip = \"ip\"").find("no category"), std::string::npos);
  EXPECT_NE(
      MakeError(FeedFormat::kCsv, "category = \"c\"\ncategory_fixed = \"Scan\"").find("'category_fixed' excludes"),
      std::string::npos);
  EXPECT_NE(MakeError(FeedFormat::kCsv, "category_class = \"c\"\ncategory_default = \"Scan\"").find("go together"),
            std::string::npos);
}

TEST(Mapping, TomlSyntaxErrorsGiveTheLine) {
  EXPECT_NE(MakeError(FeedFormat::kCsv, "category_default = \"Scan\"\nsubject_ip = \n").find("line 2"),
            std::string::npos);
}

TEST(Mapping, OnlyNdjsonAndCsvTakeOne) {
  ParserOptions options;
  options.mapping_toml = "category_default = \"Scan\"";
  for (FeedFormat format : {FeedFormat::kSuricataEve, FeedFormat::kXarf, FeedFormat::kMisp, FeedFormat::kIodef,
                            FeedFormat::kShadowserver}) {
    EXPECT_FALSE(MakeParser(format, options).has_value()) << FeedFormatName(format);
  }
  EXPECT_FALSE(MakeParser(FeedFormat::kCsv, ParserOptions{}).has_value());
  ParserOptions report;
  report.report_type = "scan_ssh";
  EXPECT_FALSE(MakeParser(FeedFormat::kSuricataEve, report).has_value());
  EXPECT_TRUE(MakeParser(FeedFormat::kShadowserver, report).has_value());
}

TEST(Mapping, CsvHeaderWithoutAMappedColumnFailsTheFeed) {
  ParserOptions options;
  options.mapping_toml = "category_fixed = \"Scan\"\nsubject_ip = \"source_ip\"";
  const auto run = RunParser(FeedFormat::kCsv, "ip,port\n192.0.2.1,22\n", options);
  ASSERT_FALSE(run.status.has_value());
  EXPECT_EQ(run.status.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(run.status.error().message().find("no column 'source_ip'"), std::string::npos);
  EXPECT_TRUE(run.events.empty());
}

TEST(Mapping, FixedCategoryEpochMillisAndSubjectPreference) {
  ParserOptions options;
  options.mapping_toml = R"(
    category_fixed = "vulnerable/vulnerable-system"
    time = "/t"
    time_format = "epoch_ms"
    subject_ip = "/ip"
    subject_domain = "/host"
  )";
  const auto run = RunParser(FeedFormat::kNdjson,
                             "{\"t\":1764147600123,\"ip\":\"192.0.2.9\",\"host\":\"www.example.com\"}\n"
                             "{\"t\":\"1764147600000\",\"host\":\"www.example.com\"}\n",
                             options);
  ASSERT_TRUE(run.status.has_value());
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].category.ToString(), "vulnerable/vulnerable-system");
  EXPECT_EQ(common::FormatRfc3339(*run.events[0].time), "2025-11-26T09:00:00.123000Z");
  EXPECT_EQ(run.events[0].subject->value, "192.0.2.9");
  ASSERT_EQ(run.events[0].observables.size(), 1u);
  EXPECT_EQ(run.events[0].observables[0].value, "www.example.com");
  EXPECT_EQ(run.events[1].subject->value, "www.example.com");
}

TEST(Mapping, ATlpFieldLabelsTheEventAndANonLabelIsAReject) {
  ParserOptions options;
  options.mapping_toml = "category_fixed = \"fraud/phishing\"\nsubject_ip = \"/ip\"\ntlp = \"/tlp\"";
  const auto run = RunParser(FeedFormat::kNdjson,
                             "{\"ip\":\"192.0.2.1\",\"tlp\":\"RED\"}\n{\"ip\":\"192.0.2.2\",\"tlp\":\"WHITE\"}\n"
                             "{\"ip\":\"192.0.2.3\"}\n{\"ip\":\"192.0.2.4\",\"tlp\":\"purple\"}\n",
                             options);
  ASSERT_EQ(run.events.size(), 3u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].tlp, core::Tlp::kRed);
  EXPECT_EQ(run.events[1].tlp, core::Tlp::kClear);  // TLP 1.0's WHITE
  EXPECT_FALSE(run.events[2].tlp.has_value());
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_EQ(run.rejects[0].reason,
            "line 4: field '/tlp': 'purple' is not a TLP label (CLEAR, WHITE, GREEN, AMBER, AMBER+STRICT or RED, "
            "with or without TLP:)");
}

TEST(Mapping, DefangedAddressesInMappedFieldsAreWrittenBack) {
  ParserOptions options;
  options.mapping_toml = R"(
    category_fixed = "fraud/phishing"
    subject_url = "/url"
    [[observable]]
    field = "/ip"
    type = "ip"
    [[observable]]
    field = "/contact"
    type = "email"
  )";
  const auto run = RunParser(
      FeedFormat::kNdjson,
      R"({"url":"hXXp://pay-portal[.]example[.]org/login","ip":"203.0.113[.]9","contact":"abuse[at]example.org"})"
      "\n",
      options);
  ASSERT_EQ(run.events.size(), 1u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].subject->value, "http://pay-portal.example.org/login");
  ASSERT_EQ(run.events[0].observables.size(), 2u);
  EXPECT_EQ(run.events[0].observables[0].value, "203.0.113.9");
  EXPECT_EQ(run.events[0].observables[1].value, "abuse@example.org");
}

TEST(Mapping, UnknownCategoryWithoutDefaultIsAReject) {
  ParserOptions options;
  options.mapping_toml = "category = \"/c\"\nsubject_ip = \"/ip\"";
  const auto run =
      RunParser(FeedFormat::kNdjson,
                "{\"c\":\"fraud/phishing\",\"ip\":\"192.0.2.1\"}\n{\"c\":\"nonsense\",\"ip\":\"192.0.2.2\"}\n"
                "{\"ip\":\"192.0.2.3\"}\n",
                options);
  ASSERT_EQ(run.events.size(), 1u);
  ASSERT_EQ(run.rejects.size(), 2u);
  EXPECT_EQ(run.rejects[0].reason,
            "line 2: field '/c': 'nonsense' is not an RSIT class/type, one of the guide's categories or a key of "
            "[category_map], and the mapping has no category_default");
  EXPECT_EQ(run.rejects[1].reason, "line 3: field '/c' is missing and the mapping has no category_default");
}

}  // namespace
}  // namespace hikeshi::intake::feed
