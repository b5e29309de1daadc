#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "hikeshi/intake/feed/sources.hpp"

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

constexpr std::string_view kHead =
    "<?xml version=\"1.0\"?>\n<IODEF-Document version=\"2.00\" xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">\n";
constexpr std::string_view kTail = "</IODEF-Document>\n";

std::string Incident(std::string_view id, std::string_view address) {
  return "<Incident purpose=\"reporting\"><IncidentID name=\"csirt.example\">" + std::string(id) +
         "</IncidentID><ReportTime>2026-11-27T00:00:00Z</ReportTime><EventData><Flow><System category=\"source\">"
         "<Node><Address category=\"ipv4-addr\">" +
         std::string(address) + "</Address></Node></System></Flow></EventData></Incident>\n";
}

std::string Restricted(std::string_view id, std::string_view incident_attributes, std::string_view inner_attributes) {
  return "<Incident purpose=\"reporting\" " + std::string(incident_attributes) +
         "><IncidentID name=\"csirt.example\">" + std::string(id) +
         "</IncidentID><ReportTime>2026-11-27T00:00:00Z</ReportTime><EventData " + std::string(inner_attributes) +
         "><Flow><System category=\"source\"><Node><Address category=\"ipv4-addr\">192.0.2.1</Address></Node>"
         "</System></Flow></EventData></Incident>\n";
}

TEST(Iodef, RestrictionsLabelTheIncidentsEventsWithTheMostRestrictiveTlp) {
  const std::string document = std::string(kHead) + Restricted("1", "", "") +
                               Restricted("2", "restriction=\"need-to-know\"", "") +
                               Restricted("3", "restriction=\"partner\"", "restriction=\"private\"") +
                               Restricted("4", "restriction=\"ext-value\" ext-restriction=\"TLP:AMBER+STRICT\"", "") +
                               Restricted("5", "restriction=\"green\"", "restriction=\"default\"") +
                               Restricted("6", "restriction=\"something-new\"", "") + std::string(kTail);
  const auto run = RunParser(FeedFormat::kIodef, document);
  ASSERT_EQ(run.events.size(), 6u) << testing::Summarize(run);
  EXPECT_FALSE(run.events[0].tlp.has_value());
  EXPECT_EQ(run.events[1].tlp, core::Tlp::kAmber);
  EXPECT_EQ(run.events[2].tlp, core::Tlp::kRed);  // private inside a partner Incident
  EXPECT_EQ(run.events[3].tlp, core::Tlp::kAmberStrict);
  EXPECT_EQ(run.events[4].tlp, core::Tlp::kGreen);
  EXPECT_FALSE(run.events[5].tlp.has_value());

  // The document's own restriction holds for every Incident; one inside may only tighten it.
  std::string head(kHead);
  head.replace(head.find("version=\"2.00\""), 0, "restriction=\"public\" ");
  const auto labelled =
      RunParser(FeedFormat::kIodef,
                head + Restricted("7", "", "") + Restricted("8", "restriction=\"red\"", "") + std::string(kTail));
  ASSERT_EQ(labelled.events.size(), 2u) << testing::Summarize(labelled);
  EXPECT_EQ(labelled.events[0].tlp, core::Tlp::kClear);
  EXPECT_EQ(labelled.events[1].tlp, core::Tlp::kRed);
}

TEST(Iodef, ExternalEntitiesAreRefusedAndNothingIsRead) {
  const std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE IODEF-Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
      "<IODEF-Document version=\"2.00\" xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">"
      "<Incident><IncidentID name=\"x\">&xxe;</IncidentID></Incident></IODEF-Document>";
  const auto run = RunParser(FeedFormat::kIodef, xxe);
  ASSERT_FALSE(run.status.has_value());
  EXPECT_EQ(run.status.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(run.status.error().message().find("DTDs are refused"), std::string::npos);
  EXPECT_TRUE(run.events.empty());
  EXPECT_TRUE(run.rejects.empty());
}

TEST(Iodef, ABillionLaughsFailsFastWithoutExpanding) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  bomb += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) bomb += "&lol" + std::to_string(i - 1) + ";";
    bomb += "\">\n";
  }
  bomb +=
      "]>\n<IODEF-Document xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"><Incident><Description>&lol9;"
      "</Description></Incident></IODEF-Document>";
  const auto start = std::chrono::steady_clock::now();
  const auto run = RunParser(FeedFormat::kIodef, bomb);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(run.status.has_value());
  EXPECT_NE(run.status.error().message().find("DTD"), std::string::npos);
  EXPECT_TRUE(run.events.empty());
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(Iodef, AnIncidentOverTheRecordLimitIsRejectedAndTheNextStillLands) {
  std::string big = "<Incident><IncidentID name=\"csirt.example\">big</IncidentID><Description>" +
                    std::string(5000, 'x') + "</Description></Incident>\n";
  ParserOptions options;
  options.max_record_bytes = 2000;
  const auto run = RunParser(FeedFormat::kIodef,
                             std::string(kHead) + big + Incident("ok", "192.0.2.1") + std::string(kTail), options);
  ASSERT_TRUE(run.status.has_value()) << run.status.error().message();
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_EQ(run.rejects[0].record, 1);
  EXPECT_NE(run.rejects[0].reason.find("larger than max_record_bytes"), std::string::npos);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].record, 2);
  EXPECT_EQ(run.events[0].event_id, "csirt.example:ok#1");
}

TEST(Iodef, DeepNestingInsideAnIncidentIsARejectNotACrash) {
  std::string deep = "<Incident><IncidentID name=\"n\">deep</IncidentID>";
  for (int i = 0; i < 5000; ++i) deep += "<EventData>";
  for (int i = 0; i < 5000; ++i) deep += "</EventData>";
  deep += "</Incident>\n";
  const auto run =
      RunParser(FeedFormat::kIodef, std::string(kHead) + deep + Incident("after", "192.0.2.2") + std::string(kTail));
  ASSERT_TRUE(run.status.has_value()) << run.status.error().message();
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_NE(run.rejects[0].reason.find("nested deeper"), std::string::npos);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].subject->value, "192.0.2.2");
}

TEST(Iodef, MalformedXmlFailsWithItsPositionAfterTheIncidentsBeforeIt) {
  const auto run =
      RunParser(FeedFormat::kIodef, std::string(kHead) + Incident("1", "192.0.2.1") + "<Incident><IncidentID>2</Inc");
  ASSERT_FALSE(run.status.has_value());
  EXPECT_NE(run.status.error().message().find("not well-formed XML"), std::string::npos);
  EXPECT_NE(run.status.error().message().find("line 4"), std::string::npos) << run.status.error().message();
  EXPECT_EQ(run.events.size(), 1u);
}

TEST(Iodef, OtherDocumentsAreRefused) {
  for (const char* document : {"<html><body>hi</body></html>", "", "not xml at all", "\x89PNG\r\n\x1a\n\x00\x00",
                               "<IODEF-Document xmlns=\"urn:example:not-iodef\"><Incident/></IODEF-Document>"}) {
    const auto run = RunParser(FeedFormat::kIodef, document);
    EXPECT_FALSE(run.status.has_value()) << document;
    EXPECT_TRUE(run.events.empty());
  }
}

TEST(Iodef, AnIncidentWithoutIdIsAReject) {
  const auto run = RunParser(FeedFormat::kIodef, std::string(kHead) +
                                                     "<Incident><ReportTime>2026-11-27T00:00:00Z"
                                                     "</ReportTime></Incident>" +
                                                     std::string(kTail));
  ASSERT_TRUE(run.status.has_value());
  ASSERT_EQ(run.rejects.size(), 1u);
  EXPECT_EQ(run.rejects[0].reason, "Incident 1: it has no IncidentID (RFC 7970 requires one)");
}

TEST(Iodef, TheDocumentSizeLimitHolds) {
  ParserOptions options;
  options.max_document_bytes = 1000;
  std::string document(kHead);
  for (int i = 0; i < 20; ++i) document += Incident(std::to_string(i), "192.0.2.1");
  document += kTail;
  const auto run = RunParser(FeedFormat::kIodef, document, options);
  ASSERT_FALSE(run.status.has_value());
  EXPECT_EQ(run.status.error().code(), ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace hikeshi::intake::feed
