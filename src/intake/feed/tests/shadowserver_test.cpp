#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

TEST(ShadowserverTypeFromFileName, ReadsTheTypeBetweenTheDateAndTheRest) {
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-scan_ssh-japan-geo.csv"), "scan_ssh");
  EXPECT_EQ(ShadowserverTypeFromFileName("/var/feeds/2026-11-27-event4_sinkhole_http-japan-geo_as.csv"),
            "event4_sinkhole_http");
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-scan6_dns-asn64500.CSV"), "scan6_dns");
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-blocklist.csv"), "blocklist");
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-botnet_drone-org.csv.gz"), "botnet_drone");
}

TEST(ShadowserverTypeFromFileName, RefusesNamesOfAnotherShape) {
  EXPECT_EQ(ShadowserverTypeFromFileName("scan_ssh.csv"), std::nullopt);
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-scan_ssh-japan.json"), std::nullopt);
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-.csv"), std::nullopt);
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-1-27-scan_ssh-x.csv"), std::nullopt);
  EXPECT_EQ(ShadowserverTypeFromFileName("2026-11-27-Scan SSH-x.csv"), std::nullopt);
  EXPECT_EQ(ShadowserverTypeFromFileName(""), std::nullopt);
}

std::string CategoryOf(const std::string& report_type) {
  ParserOptions options;
  options.report_type = report_type;
  const auto run = testing::RunParser(
      FeedFormat::kShadowserver, "\"timestamp\",\"ip\",\"port\"\n\"2026-11-27 00:00:00\",\"192.0.2.1\",1\n", options);
  EXPECT_EQ(run.events.size(), 1u) << testing::Summarize(run);
  return run.events.empty() ? "" : run.events[0].category.ToString();
}

TEST(Shadowserver, ReportTypesMapToRsit) {
  EXPECT_EQ(CategoryOf("scan_ssh"), "vulnerable/potentially-unwanted-accessible");
  EXPECT_EQ(CategoryOf("scan6_ssh"), "vulnerable/potentially-unwanted-accessible");
  EXPECT_EQ(CategoryOf("scan_ntp"), "vulnerable/ddos-amplifier");
  EXPECT_EQ(CategoryOf("scan6_dns"), "vulnerable/ddos-amplifier");
  EXPECT_EQ(CategoryOf("dns_open_resolvers"), "vulnerable/ddos-amplifier");
  EXPECT_EQ(CategoryOf("scan_ssl_poodle"), "vulnerable/weak-crypto");
  EXPECT_EQ(CategoryOf("scan_http_vulnerable"), "vulnerable/vulnerable-system");
  EXPECT_EQ(CategoryOf("scan_exchange"), "vulnerable/vulnerable-system");
  EXPECT_EQ(CategoryOf("event4_sinkhole"), "malicious-code/infected-system");
  EXPECT_EQ(CategoryOf("event6_sinkhole_http"), "malicious-code/infected-system");
  EXPECT_EQ(CategoryOf("Botnet_Drone"), "malicious-code/infected-system");
  EXPECT_EQ(CategoryOf("event4_honeypot_brute_force"), "intrusion-attempts/brute-force");
  EXPECT_EQ(CategoryOf("event4_honeypot_darknet"), "information-gathering/scanner");
  EXPECT_EQ(CategoryOf("event4_honeypot_ddos_amp"), "availability/ddos");
  EXPECT_EQ(CategoryOf("compromised_website"), "intrusions/application-compromise");
  EXPECT_EQ(CategoryOf("phish_url"), "fraud/phishing");
  EXPECT_EQ(CategoryOf("blocklist"), "other/other");
  EXPECT_EQ(CategoryOf("a_report_from_next_year"), "other/undetermined");
}

TEST(Shadowserver, ATypeColumnNamesTheReportWhenTheFileNameDoesNot) {
  const auto run =
      testing::RunParser(FeedFormat::kShadowserver, "timestamp,ip,type\n2026-11-27 00:00:00,192.0.2.1,scan_redis\n");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].report_type, "scan_redis");
  EXPECT_EQ(run.events[0].category.ToString(), "vulnerable/potentially-unwanted-accessible");
}

TEST(Shadowserver, ATransportInTheTypeColumnIsNoReportType) {
  const auto run = testing::RunParser(FeedFormat::kShadowserver,
                                      "timestamp,ip,type,infection\n2026-11-27 00:00:00,192.0.2.1,tcp,necurs\n");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].report_type, "");
  EXPECT_EQ(run.events[0].category.ToString(), "malicious-code/infected-system");
}

}  // namespace
}  // namespace hikeshi::intake::feed
