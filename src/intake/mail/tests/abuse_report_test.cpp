// The report readers on their own: ARF fields, the flat YAML of X-ARF v0.2, and the category tables
// (docs/mail.md).
#include "detail/abuse_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "detail/gmime_support.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(FlatYaml, ScalarsQuotesCommentsAndBlocks) {
  const Fields fields = ParseFlatYaml(
      "---\n# comment\nA: plain value # trailing comment\nB: \"quoted \\\"x\\\" # not a comment\"\nC: 'it''s'\n"
      "D: |\n  line one\n  line two\nE: >\n  folded\n  text\nnested:\n  inner: skipped\n- item\nF:\n...\n");
  EXPECT_THAT(fields, ElementsAre(Pair("A", "plain value"), Pair("B", "quoted \"x\" # not a comment"),
                                  Pair("C", "it's"), Pair("D", "line one\nline two"), Pair("E", "folded text"),
                                  Pair("nested", ""), Pair("F", "")));
}

TEST(FieldBlock, FoldedFields) {
  EXPECT_THAT(ParseFieldBlock("A: 1\r\nB: two\r\n  more\r\nbroken line\r\nC:3"),
              ElementsAre(Pair("A", "1"), Pair("B", "two more"), Pair("C", "3")));
}

TEST(Arf, FieldsAndNormalisation) {
  InitGMime();
  const core::AbuseReport report = ReadArf(
      "Feedback-Type: Fraud\nSource-IP: [2001:DB8::1]\nSource-Port: 2525\nReported-URI: http://a.example/\n"
      "Reported-URI: http://a.example/\nReported-Domain: A.Example\nArrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\n");
  EXPECT_EQ(report.report_type, "fraud");
  EXPECT_EQ(report.source_ip, "2001:db8::1");
  EXPECT_EQ(report.source_port, 2525);
  EXPECT_EQ(report.reported_uri, "http://a.example/");  // duplicates once
  EXPECT_EQ(report.reported_domain, "a.example");
  ASSERT_TRUE(report.category.has_value());
  EXPECT_EQ(report.category->ToString(), "fraud/phishing");
  EXPECT_TRUE(report.arrival_date.has_value());
  EXPECT_EQ(ReadArf("Source-IP: not-an-ip\n").source_ip, "");
}

TEST(Categories, ArfTable) {
  EXPECT_EQ(ArfCategory("abuse")->ToString(), "abusive-content/spam");
  EXPECT_EQ(ArfCategory("fraud")->ToString(), "fraud/phishing");
  EXPECT_EQ(ArfCategory("virus")->ToString(), "malicious-code/malware-distribution");
  EXPECT_EQ(ArfCategory("auth-failure")->ToString(), "fraud/masquerade");
  EXPECT_EQ(ArfCategory("other")->ToString(), "other/other");
  EXPECT_EQ(ArfCategory("something-new")->ToString(), "other/undetermined");
  EXPECT_FALSE(ArfCategory("not-spam").has_value());
}

TEST(Categories, Xarf02Table) {
  EXPECT_EQ(Xarf02Category("abuse", "login-attack")->ToString(), "intrusion-attempts/brute-force");
  EXPECT_EQ(Xarf02Category("abuse", "PortScan")->ToString(), "information-gathering/scanner");
  EXPECT_EQ(Xarf02Category("fraud", "phishing")->ToString(), "fraud/phishing");
  EXPECT_EQ(Xarf02Category("abuse", "malware")->ToString(), "malicious-code/malware-distribution");
  EXPECT_EQ(Xarf02Category("fraud", "something")->ToString(), "fraud/masquerade");
  EXPECT_EQ(Xarf02Category("info", "whatever")->ToString(), "other/undetermined");
}

TEST(Xarf02, SourceTypes) {
  InitGMime();
  const auto uri = ReadXarf02("Report-Type: phishing\nSource-Type: uri\nSource: http://phish.example/x\n");
  ASSERT_TRUE(uri.has_value());
  EXPECT_EQ(uri->reported_uri, "http://phish.example/x");
  EXPECT_EQ(uri->source_ip, "");
  EXPECT_FALSE(ReadXarf02("Category: abuse\nSource: 192.0.2.1\n").has_value());  // no Report-Type
}

TEST(Xarf4, NotAReport) {
  std::string why;
  EXPECT_FALSE(ReadXarf4("{\"xarf_version\": \"4.0.0\"}", &why).has_value());
  EXPECT_THAT(why, ::testing::HasSubstr("report_id"));
  EXPECT_FALSE(ReadXarf4("not json", &why).has_value());
}

}  // namespace
}  // namespace hikeshi::intake::mail::detail
