// Every X-ARF v4 sample of the xarf-spec corpus (../shared/corpora/xarf-v4/samples/v4) must give one
// event with the category docs/feeds.md's table gives its type, read as a document and as a line.
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

namespace fs = std::filesystem;

fs::path CorpusDir() { return testing::SharedDir() / "corpora" / "xarf-v4" / "samples" / "v4"; }

// Written by hand from the table, not computed.
const std::map<std::string, std::string>& ExpectedCategories() {
  static const std::map<std::string, std::string> categories = {
      {"connection-ddos", "availability/ddos"},
      {"connection-infected-host", "malicious-code/infected-system"},
      {"connection-login-attack", "intrusion-attempts/brute-force"},
      {"connection-port-scan", "information-gathering/scanner"},
      {"connection-reconnaissance", "information-gathering/scanner"},
      {"connection-scraping", "information-gathering/scanner"},
      {"connection-sql-injection", "intrusion-attempts/exploit"},
      {"connection-vulnerability-scan", "information-gathering/scanner"},
      {"content-brand-infringement", "fraud/masquerade"},
      {"content-csam", "abusive-content/violence"},
      {"content-csem", "abusive-content/violence"},
      {"content-exposed-data", "information-content-security/data-leak"},
      {"content-fraud", "fraud/masquerade"},
      {"content-malware", "malicious-code/malware-distribution"},
      {"content-phishing", "fraud/phishing"},
      {"content-remote-compromise", "intrusions/application-compromise"},
      {"content-suspicious-registration", "fraud/masquerade"},
      {"copyright-copyright", "fraud/copyright"},
      {"copyright-cyberlocker", "fraud/copyright"},
      {"copyright-link-site", "fraud/copyright"},
      {"copyright-p2p", "fraud/copyright"},
      {"copyright-ugc-platform", "fraud/copyright"},
      {"copyright-usenet", "fraud/copyright"},
      {"infrastructure-botnet", "malicious-code/infected-system"},
      {"infrastructure-compromised-server", "intrusions/system-compromise"},
      {"messaging-bulk-messaging", "abusive-content/spam"},
      {"messaging-spam", "abusive-content/spam"},
      {"reputation-blocklist", "malicious-code/c2-server"},
      {"reputation-threat-intelligence", "malicious-code/c2-server"},
      {"vulnerability-cve", "vulnerable/vulnerable-system"},
      {"vulnerability-misconfiguration", "vulnerable/vulnerable-system"},
      {"vulnerability-open-service", "vulnerable/potentially-unwanted-accessible"},
  };
  return categories;
}

// The event without its raw bytes, which differ between the document and the line.
std::string WithoutRaw(FeedEvent event) {
  event.raw.clear();
  event.record = 0;
  return testing::Summarize(event);
}

TEST(XarfCorpus, EverySampleGivesOneEventWithItsCategory) {
  ASSERT_TRUE(fs::exists(CorpusDir())) << CorpusDir();
  std::size_t samples = 0;
  std::string all_lines;
  std::vector<std::string> categories_in_order;
  for (const auto& [name, category] : ExpectedCategories()) {
    SCOPED_TRACE(name);
    const std::string text = testing::ReadFile(CorpusDir() / (name + ".json"));
    ASSERT_FALSE(text.empty());
    const nlohmann::json report = nlohmann::json::parse(text);

    const auto as_document = testing::RunParser(FeedFormat::kXarf, text);
    ASSERT_TRUE(as_document.status.has_value()) << as_document.status.error().message();
    ASSERT_EQ(as_document.events.size(), 1u) << testing::Summarize(as_document);
    EXPECT_TRUE(as_document.rejects.empty());
    const FeedEvent& event = as_document.events[0];
    EXPECT_EQ(event.category.ToString(), category);
    EXPECT_EQ(event.event_id, report["report_id"].get<std::string>());
    EXPECT_EQ(event.report_type, report["category"].get<std::string>() + "/" + report["type"].get<std::string>());
    ASSERT_TRUE(event.time.has_value());
    EXPECT_EQ(event.time, common::ParseRfc3339(report["timestamp"].get<std::string>()));
    ASSERT_TRUE(event.subject.has_value());
    EXPECT_EQ(event.raw, text);

    const std::string line = report.dump();
    const auto as_line = testing::RunParser(FeedFormat::kXarf, line + "\n");
    ASSERT_EQ(as_line.events.size(), 1u) << testing::Summarize(as_line);
    EXPECT_EQ(WithoutRaw(as_line.events[0]), WithoutRaw(event));
    EXPECT_EQ(as_line.events[0].raw, line);
    all_lines += line + "\n";
    categories_in_order.push_back(category);
    ++samples;
  }
  EXPECT_EQ(samples, 32u);

  const auto run = testing::RunParser(FeedFormat::kXarf, all_lines);
  ASSERT_EQ(run.events.size(), categories_in_order.size());
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    EXPECT_EQ(run.events[i].category.ToString(), categories_in_order[i]);
    EXPECT_EQ(run.events[i].record, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(testing::Summarize(testing::RunParser(FeedFormat::kXarf, all_lines, {}, 17)), testing::Summarize(run));
}

TEST(XarfCorpus, TheCorpusHasNoSampleTheTableMisses) {
  for (const auto& entry : fs::directory_iterator(CorpusDir())) {
    EXPECT_TRUE(ExpectedCategories().contains(entry.path().stem().string())) << entry.path();
  }
}

TEST(XarfCorpus, SubjectsAndObservablesOfSomeSamples) {
  const auto event_of = [](const std::string& name) {
    const auto run = testing::RunParser(FeedFormat::kXarf, testing::ReadFile(CorpusDir() / (name + ".json")));
    EXPECT_EQ(run.events.size(), 1u);
    return run.events.empty() ? FeedEvent{} : run.events[0];
  };
  const FeedEvent ddos = event_of("connection-ddos");
  EXPECT_EQ(ddos.subject->value, "192.0.2.155");
  EXPECT_EQ(*ddos.subject_port, 1);
  ASSERT_EQ(ddos.observables.size(), 1u);
  EXPECT_EQ(ddos.observables[0].value, "203.0.113.100");

  const FeedEvent phishing = event_of("content-phishing");
  ASSERT_EQ(phishing.observables.size(), 2u);
  EXPECT_EQ(phishing.observables[0].value, "http://secure-banking-login.example.com/auth");
  EXPECT_EQ(phishing.observables[1].type, core::ObservableType::kSha256);

  const FeedEvent cyberlocker = event_of("copyright-cyberlocker");
  EXPECT_EQ(cyberlocker.subject->type, core::ObservableType::kDomain);
  EXPECT_EQ(cyberlocker.subject->value, "file-sharing.example.com");

  const FeedEvent blocklist = event_of("reputation-blocklist");
  ASSERT_EQ(blocklist.observables.size(), 1u);
  EXPECT_EQ(blocklist.observables[0].value, "AS4134");

  const FeedEvent cve = event_of("vulnerability-cve");
  EXPECT_EQ(*cve.subject_port, 8080);
  ASSERT_EQ(cve.observables.size(), 1u);
  EXPECT_EQ(cve.observables[0].value, "CVE-2023-12345");
}

}  // namespace
}  // namespace hikeshi::intake::feed
