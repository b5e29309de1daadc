#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

TEST(Csv, SemicolonDelimiterAndSkipInvalid) {
  ParserOptions options;
  options.mapping_toml = R"(
    delimiter = ";"
    category = "kind"
    category_default = "other/undetermined"
    subject_ip = "addr"
    [[observable]]
    field = "domain"
    type = "domain"
    skip_invalid = true
  )";
  const auto run =
      RunParser(FeedFormat::kCsv, "addr;kind;domain\n192.0.2.1;Phishing;bad_name!\n192.0.2.2;?;ok.example\n", options);
  ASSERT_TRUE(run.status.has_value());
  ASSERT_EQ(run.events.size(), 2u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].category.ToString(), "fraud/phishing");
  EXPECT_TRUE(run.events[0].observables.empty());
  EXPECT_EQ(run.events[1].category.ToString(), "other/undetermined");
  ASSERT_EQ(run.events[1].observables.size(), 1u);
  EXPECT_EQ(run.events[1].observables[0].value, "ok.example");
}

TEST(Csv, InvalidUtf8InTextBecomesReplacementCharacters) {
  ParserOptions options;
  options.mapping_toml = "category_fixed = \"Spam\"\nsubject_ip = \"ip\"\ndescription = \"note\"";
  const auto run = RunParser(FeedFormat::kCsv, "ip,note\n192.0.2.1,caf\xe9 \xff\xfe\tok\n", options);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].description, "caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD ok");
  EXPECT_EQ(run.events[0].raw, "192.0.2.1,caf\xe9 \xff\xfe\tok");  // raw stays as received
}

TEST(Csv, EmptyInputAndHeaderOnlyGiveNothing) {
  ParserOptions options;
  options.mapping_toml = "category_fixed = \"Spam\"\nsubject_ip = \"ip\"";
  for (const char* input : {"", "ip\n", "ip\r\n\r\n"}) {
    const auto run = RunParser(FeedFormat::kCsv, input, options);
    EXPECT_TRUE(run.status.has_value()) << input;
    EXPECT_TRUE(run.events.empty());
    EXPECT_TRUE(run.rejects.empty());
  }
}

}  // namespace
}  // namespace hikeshi::intake::feed
