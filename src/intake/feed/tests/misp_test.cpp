#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

TEST(Misp, ADocumentWithoutAnEventIsRefused) {
  for (const char* document : {"{}", "[]", "{\"response\":[]}", "{\"Event\":\"x\"}", "42", "", "{\"Event\":{"}) {
    const auto run = RunParser(FeedFormat::kMisp, document);
    ASSERT_FALSE(run.status.has_value()) << document;
    EXPECT_EQ(run.status.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(Misp, DeepNestingIsRefusedBeforeItCanOverflowTheStack) {
  std::string deep = "{\"Event\":{\"Attribute\":[{\"type\":\"comment\",\"value\":";
  for (int i = 0; i < 100000; ++i) deep += "[";
  for (int i = 0; i < 100000; ++i) deep += "]";
  deep += "}]}}";
  const auto run = RunParser(FeedFormat::kMisp, deep);
  ASSERT_FALSE(run.status.has_value());
  EXPECT_NE(run.status.error().message().find("nested deeper"), std::string::npos);
}

TEST(Misp, TagsWithoutATypeOrOfAnotherTaxonomyAreIgnored) {
  const auto run = RunParser(FeedFormat::kMisp, R"({"Event":{"info":"x","Tag":[{"name":"rsit:malicious-code"},
      {"name":"misp:tool=\"x\""},{"name":"rsit:fraud=\"unauthorized-use-of-resources\""}],
      "Attribute":[{"type":"ip-src","value":"192.0.2.1","uuid":"u1"},
                   {"type":"ip-src","value":"192.0.2.2","uuid":"u2","Tag":[{"name":"rsit:nonsense=\"x\""}]}]}})");
  ASSERT_EQ(run.events.size(), 2u) << testing::Summarize(run);
  // IntelMQ's "unauthorized" spelling is read as RSIT's.
  EXPECT_EQ(run.events[0].category.ToString(), "fraud/unauthorised-use-of-resources");
  EXPECT_EQ(run.events[1].category.ToString(), "fraud/unauthorised-use-of-resources");
}

TEST(Misp, ABareEventArrayAndCidrValues) {
  const auto run = RunParser(FeedFormat::kMisp, R"([{"Event":{"info":"a","Attribute":[
      {"type":"ip-dst","value":"198.51.100.0/24","uuid":"c1"},{"type":"AS","value":"64500","uuid":"c2"}]}}])");
  ASSERT_EQ(run.events.size(), 2u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].subject->type, core::ObservableType::kCidr);
  EXPECT_EQ(run.events[1].observables[0].value, "AS64500");
}

TEST(Misp, TlpTagsOfTheEventAndTheAttributeLabelItTheMoreRestrictivelyOfTheTwo) {
  const auto run = RunParser(FeedFormat::kMisp, R"({"Event":{"info":"x","Tag":[{"name":"tlp:green"},
      {"name":"TLP:EX:CHR"}],"Attribute":[
      {"type":"ip-src","value":"192.0.2.1","uuid":"u1"},
      {"type":"ip-src","value":"192.0.2.2","uuid":"u2","Tag":[{"name":"tlp:red"}]},
      {"type":"ip-src","value":"192.0.2.3","uuid":"u3","Tag":[{"name":"tlp:clear"}]},
      {"type":"ip-src","value":"192.0.2.4","uuid":"u4","Tag":[{"name":"tlp:amber+strict"},{"name":"tlp:amber"}]}]},
      "Object":[]})");
  ASSERT_EQ(run.events.size(), 4u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].tlp, core::Tlp::kGreen);
  EXPECT_EQ(run.events[1].tlp, core::Tlp::kRed);
  // An attribute cannot loosen its event's label.
  EXPECT_EQ(run.events[2].tlp, core::Tlp::kGreen);
  EXPECT_EQ(run.events[3].tlp, core::Tlp::kAmberStrict);

  const auto untagged =
      RunParser(FeedFormat::kMisp, R"({"Event":{"info":"x","Attribute":[{"type":"ip-src","value":"192.0.2.1"}]}})");
  ASSERT_EQ(untagged.events.size(), 1u);
  EXPECT_FALSE(untagged.events[0].tlp.has_value());
}

// A partner's MISP event with defanged values: addresses, names, URLs and e-mail addresses are
// read as what they name; file names, and brackets that are no defanged form, stay as given.
TEST(Misp, DefangedValuesAreReadAsTheAddressesTheyNameAndTheRawKeepsThem) {
  const auto run = RunParser(FeedFormat::kMisp, R"j({"Event":{"info":"x","Attribute":[
      {"type":"url","value":"hxxps://login-bank[.]example.com/secure","uuid":"d1"},
      {"type":"ip-dst","value":"198.51.100[.]7","uuid":"d2"},
      {"type":"email-src","value":"phish[@]example(dot)net","uuid":"d3"},
      {"type":"domain|ip","value":"evil{.}example|2001:db8[:][:]1","uuid":"d4"},
      {"type":"url","value":"https://[2001:db8::1]:8443/a(b)","uuid":"d5"},
      {"type":"filename","value":"report[.]pdf","uuid":"d6"},
      {"type":"ip-dst","value":"198.51.100[,]7","uuid":"d7"}]}})j");
  ASSERT_EQ(run.events.size(), 6u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].subject->value, "https://login-bank.example.com/secure");
  EXPECT_NE(run.events[0].raw.find("hxxps://login-bank[.]example.com"), std::string::npos);
  EXPECT_EQ(run.events[1].subject->value, "198.51.100.7");
  EXPECT_EQ(run.events[2].subject->value, "phish@example.net");
  EXPECT_EQ(run.events[3].subject->value, "evil.example");
  ASSERT_EQ(run.events[3].observables.size(), 1u);
  EXPECT_EQ(run.events[3].observables[0].value, "2001:db8::1");
  // Brackets that are not a defanged form are left alone.
  EXPECT_EQ(run.events[4].subject->value, "https://[2001:db8::1]:8443/a(b)");
  // A file name is a name, not an address: kept as given.
  ASSERT_EQ(run.events[5].observables.size(), 1u);
  EXPECT_EQ(run.events[5].observables[0].value, "report[.]pdf");
  // Something that only looks defanged is still a reject, with its reason.
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_NE(run.rejects[0].reason.find("198.51.100[,]7"), std::string::npos) << run.rejects[0].reason;
}

// Every value of MISP's own tlp taxonomy (the public machinetag.json in ../shared/corpora) is
// either read as its TLP 2.0 label or, for the two that name none, left out; a value the
// taxonomy gains later fails here until it is decided.
TEST(Misp, EveryValueOfMispsTlpTaxonomyIsReadOrDeliberatelyLeftOut) {
  const std::map<std::string, std::optional<core::Tlp>> decided = {
      {"clear", core::Tlp::kClear},
      {"white", core::Tlp::kClear},
      {"green", core::Tlp::kGreen},
      {"amber", core::Tlp::kAmber},
      {"amber+strict", core::Tlp::kAmberStrict},
      {"red", core::Tlp::kRed},
      {"ex:chr", std::nullopt},   // an extension, not a TLP label
      {"unclear", std::nullopt},  // "the label is not clear": the ingest's own label applies
  };
  const auto taxonomy = nlohmann::json::parse(
      testing::ReadFile(testing::SharedDir() / "corpora" / "misp-taxonomies" / "tlp" / "machinetag.json"));
  ASSERT_EQ(taxonomy.at("namespace"), "tlp");
  std::size_t values = 0;
  for (const auto& predicate : taxonomy.at("predicates")) {
    const std::string value = predicate.at("value");
    SCOPED_TRACE(value);
    ++values;
    const auto want = decided.find(value);
    ASSERT_NE(want, decided.end()) << "a tlp value with no decision";
    const auto run = RunParser(FeedFormat::kMisp, R"({"Event":{"info":"x","Tag":[{"name":"tlp:)" + value +
                                                      R"("}],"Attribute":[{"type":"ip-src","value":"192.0.2.1"}]}})");
    ASSERT_EQ(run.events.size(), 1u) << testing::Summarize(run);
    EXPECT_EQ(run.events[0].tlp, want->second);
  }
  EXPECT_EQ(values, decided.size());
}

}  // namespace
}  // namespace hikeshi::intake::feed
