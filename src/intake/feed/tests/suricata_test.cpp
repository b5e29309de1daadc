#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/core/byte_source.hpp"
#include "hikeshi/intake/feed/parser.hpp"

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

std::string Alert(std::string_view signature, std::string_view category, std::string_view extra = "") {
  return R"({"timestamp":"2026-11-27T00:00:00.000000+0000","event_type":"alert","src_ip":"192.0.2.1","dest_ip":"192.0.2.2","alert":{"signature_id":1,"signature":")" +
         std::string(signature) + R"(","category":")" + std::string(category) + "\"}" + std::string(extra) + "}\n";
}

std::string CategoryOf(std::string_view signature, std::string_view category) {
  const auto run = testing::RunParser(FeedFormat::kSuricataEve, Alert(signature, category));
  EXPECT_EQ(run.events.size(), 1u) << testing::Summarize(run);
  return run.events.empty() ? "" : run.events[0].category.ToString();
}

TEST(SuricataEve, SignaturePrefixesComeBeforeCategories) {
  EXPECT_EQ(CategoryOf("ET SCAN Nmap Scripting Engine User-Agent", "Web Application Attack"),
            "information-gathering/scanner");
  EXPECT_EQ(CategoryOf("ET TROJAN Possible Zeus GameOver Connectivity Check", "Misc activity"),
            "malicious-code/infected-system");
  EXPECT_EQ(CategoryOf("ET EXPLOIT Apache log4j RCE Attempt", "Attempted Administrator Privilege Gain"),
            "intrusion-attempts/exploit");
  EXPECT_EQ(CategoryOf("ET PHISHING Successful Generic Phish", "Possible Social Engineering Attempted"),
            "fraud/phishing");
  EXPECT_EQ(CategoryOf("GPL DOS IGMP dos attack", "Attempted Denial of Service"), "availability/dos");
  // "ET SCANNER..." is not "ET SCAN": the prefix must end at a word.
  EXPECT_EQ(CategoryOf("ET SCANNERX thing", "Not Suspicious Traffic"), "intrusion-attempts/ids-alert");
}

TEST(SuricataEve, CategoriesDecideOtherSignatures) {
  EXPECT_EQ(CategoryOf("Custom rule 1", "Detection of a Network Scan"), "information-gathering/scanner");
  EXPECT_EQ(CategoryOf("Custom rule 2", "Malware Command and Control Activity Detected"),
            "malicious-code/infected-system");
  EXPECT_EQ(CategoryOf("Custom rule 3", "Successful Administrator Privilege Gain"),
            "intrusions/privileged-account-compromise");
  EXPECT_EQ(CategoryOf("Custom rule 4", "Crypto Currency Mining Activity Detected"),
            "fraud/unauthorised-use-of-resources");
  EXPECT_EQ(CategoryOf("Custom rule 5", "attempted login using a suspicious username"), "intrusion-attempts/ids-alert");
  EXPECT_EQ(CategoryOf("Custom rule 6", "An attempted login using a suspicious username was detected"),
            "intrusion-attempts/brute-force");
  EXPECT_EQ(CategoryOf("Custom rule 7", ""), "intrusion-attempts/ids-alert");
}

TEST(SuricataEve, AnAlertWithoutFlowIdHasNoEventId) {
  const auto run = testing::RunParser(FeedFormat::kSuricataEve, Alert("X", "Y"));
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].event_id, "");
}

TEST(SuricataEve, HostNamesFromTheTrafficAreKeptOnlyWhenValid) {
  const auto run = testing::RunParser(
      FeedFormat::kSuricataEve,
      Alert(
          "X", "Y",
          R"(,"http":{"hostname":"evil host<script>","url":"/x"},"tls":{"sni":"[2001:db8::5]"},"dns":{"rrname":"Q.Example.ORG."},"fileinfo":{"md5":"not-a-hash","sha1":"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"})"));
  ASSERT_EQ(run.events.size(), 1u) << testing::Summarize(run);
  std::vector<std::string> observables;
  for (const auto& observable : run.events[0].observables) observables.push_back(observable.value);
  EXPECT_EQ(observables, (std::vector<std::string>{"192.0.2.2", "2001:db8::5", "q.example.org",
                                                   "da39a3ee5e6b4b0d3255bfef95601890afd80709"}));
}

TEST(SuricataEve, AMissingSignatureOrTimeIsAReject) {
  const auto run = testing::RunParser(
      FeedFormat::kSuricataEve,
      "{\"timestamp\":\"2026-11-27T00:00:00+0000\",\"event_type\":\"alert\",\"src_ip\":\"192.0.2.1\"}\n"
      "{\"event_type\":\"alert\",\"src_ip\":\"192.0.2.1\",\"alert\":{\"signature\":\"x\"}}\n"
      "{\"timestamp\":\"27/11/"
      "2026\",\"event_type\":\"alert\",\"src_ip\":\"192.0.2.1\",\"alert\":{\"signature\":\"x\"}}\n");
  ASSERT_EQ(run.rejects.size(), 3u);
  EXPECT_EQ(run.rejects[0].reason, "line 1: field 'alert.signature' is missing");
  EXPECT_EQ(run.rejects[1].reason, "line 2: field 'timestamp' is missing");
  EXPECT_EQ(run.rejects[2].reason, "line 3: field 'timestamp': '27/11/2026' is not a time");
}

// Keeps copies of what the parser hands over by reference, and leaves the parser's event as it
// was, as the feed pipeline does: whatever one alert set must not show in the next.
class CopyingSink final : public testing::CollectingSink {
 public:
  Result<void> OnReusedEvent(FeedEvent& event) override {
    ++reused;
    events.push_back(event);
    return {};
  }
  int reused = 0;
};

TEST(SuricataEve, EachAlertStartsFromNothingWhenTheSinkLeavesTheEventInPlace) {
  const std::string full = Alert(
      "ET SCAN Full", "Detection of a Network Scan",
      R"(,"flow_id":77,"src_port":4444,"http":{"hostname":"www.example.com","url":"/a"},"fileinfo":{"md5":"d41d8cd98f00b204e9800998ecf8427e"})");
  const std::string bare =
      R"({"timestamp":"2026-11-28T01:02:03+0000","event_type":"alert","src_ip":"198.51.100.9","alert":{"signature":"Custom bare"}})"
      "\n";
  const std::string input = full + "{\"event_type\":\"alert\"}\n" + bare + full;
  auto parser = MakeParser(FeedFormat::kSuricataEve, {});
  ASSERT_TRUE(parser.has_value());
  core::MemorySource source(input);
  CopyingSink sink;
  ASSERT_TRUE((*parser)->Parse(source, sink).has_value());
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.reused, 3);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].record, 2);

  const FeedEvent& second = sink.events[1];
  EXPECT_EQ(second.record, 3);
  EXPECT_EQ(second.raw, bare.substr(0, bare.size() - 1));
  EXPECT_EQ(second.event_id, "");
  EXPECT_FALSE(second.subject_port.has_value());
  EXPECT_TRUE(second.observables.empty());
  EXPECT_EQ(second.category.ToString(), "intrusion-attempts/ids-alert");
  ASSERT_TRUE(second.subject.has_value());
  EXPECT_EQ(second.subject->value, "198.51.100.9");
  EXPECT_EQ(second.free_text, "Custom bare");

  // The same as each line parsed on its own.
  const auto alone_full = testing::RunParser(FeedFormat::kSuricataEve, full);
  const auto alone_bare = testing::RunParser(FeedFormat::kSuricataEve, bare);
  ASSERT_EQ(alone_full.events.size(), 1u);
  ASSERT_EQ(alone_bare.events.size(), 1u);
  EXPECT_EQ(alone_full.events[0].event_id, "77:2026-11-27T00:00:00.000000+0000:1:1");
  EXPECT_EQ(alone_full.events[0].observables.size(), 4u);
  FeedEvent renumbered = alone_bare.events[0];
  renumbered.record = 3;
  EXPECT_EQ(testing::Summarize(second), testing::Summarize(renumbered));
  renumbered = alone_full.events[0];
  renumbered.record = 4;
  EXPECT_EQ(testing::Summarize(sink.events[2]), testing::Summarize(renumbered));
  EXPECT_EQ(testing::Summarize(sink.events[0]), testing::Summarize(alone_full.events[0]));
}

}  // namespace
}  // namespace hikeshi::intake::feed
