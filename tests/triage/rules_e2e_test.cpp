// `hikeshi rules test` end to end: reports arrive through the real `hikeshi mailgate` (plain mail, an
// X-ARF spam complaint, unsigned mail claiming a peer CSIRT), then a rule file is replayed over
// them and the printed changes are checked report by report. The expected lines are written by
// hand from the rule file below and docs/triage.md.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRules = R"(# The university CSIRT's rules, as in docs/triage.md (shortened).
[[rule]]
id = "xarf-spam"
[rule.match]
format = ["xarf-0.2", "xarf-4"]
category = ["abusive-content/spam"]
[rule.set]
disposition = "out-of-scope"

[[rule]]
id = "peer-unsigned"
stop = false
[rule.match]
channel = ["mail"]
source = ["@jpcert.or.jp"]
pgp = ["unsigned", "bad", "unknown-key"]
[rule.set]
flag = ["peer-unverified"]

[[rule]]
id = "critical-assets"
[rule.match]
constituency = ["example-univ"]
ip = ["192.0.2.0/27"]
domain = ["vpn.example-univ.ac.jp"]
[rule.set]
impact = 1
urgency = 1
team = "soc"
sla_class = "critical"

[[rule]]
id = "data-leak"
[rule.match]
keyword = ["情報漏えい", "data leak"]
[rule.set]
category = "information-content-security/data-leak"
impact = 2
urgency = 1
playbook = "data-leak"
tlp = "amber+strict"

[[rule]]
id = "phishing-words"
[rule.match]
keyword = ["フィッシング", "phishing"]
[rule.set]
category = "fraud/phishing"
impact = 2
urgency = 2
playbook = "phishing"
sla_class = "standard"
)";

std::string Mail(const std::string& id, const std::string& from, const std::string& subject, const std::string& body) {
  return "From: " + from + "\r\nTo: csirt@example-univ.ac.jp\r\nSubject: " + subject +
         "\r\nDate: Fri, 27 Nov 2026 09:00:00 +0900\r\nMessage-ID: <" + id +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
         "8bit\r\n\r\n" +
         body;
}

// An X-ARF v0.2 spam complaint, as an ISP's reporting tool sends it.
std::string XarfSpam() {
  return "From: abuse-reports@isp.example\r\nTo: csirt@example-univ.ac.jp\r\n"
         "Subject: abuse report about 203.0.113.50\r\nDate: Mon, 02 Mar 2026 08:00:00 +0000\r\n"
         "Message-ID: <xarf-spam@isp.example>\r\nX-ARF: YES\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"xarf\"\r\n\r\n"
         "--xarf\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSpam was sent from your network.\r\n"
         "--xarf\r\nContent-Type: text/plain; charset=utf-8; name=\"report.txt\"\r\n\r\n"
         "---\r\nReported-From: abuse-reports@isp.example\r\nCategory: abuse\r\nReport-Type: spam\r\n"
         "Service: smtp\r\nVersion: '0.2'\r\nUser-Agent: \"spamtrap 1.0\"\r\n"
         "Date: Mon, 02 Mar 2026 07:58:00 +0000\r\nSource-Type: ipv4\r\nSource: 203.0.113.50\r\nPort: 25\r\n"
         "Attachment: text/plain\r\n"
         "--xarf\r\nContent-Type: text/plain; charset=utf-8; name=\"message.eml\"\r\n\r\n"
         "Subject: cheap watches\r\n\r\nbuy now\r\n--xarf--\r\n";
}

// The printed table row of the report whose subject starts with `subject`, or "".
std::string RowOf(const std::string& out, const std::string& subject) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("R-") && line.find(" " + subject) != std::string::npos) return line;
  }
  return "";
}

class RulesTestCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    // No rules in force at first: the reports stay untriaged, as if they came before the rules.
    std::filesystem::create_directories(data_);
    std::ofstream(data_ / "triage.toml") << "# No rules yet.\n";
    const auto init = RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    const auto constituency = RunCli({"constituency", "add", "--data", data_.string(), "--name", "example-univ",
                                      "--domain", "example-univ.ac.jp", "--cidr", "192.0.2.0/24"});
    ASSERT_TRUE(constituency.status.Succeeded()) << constituency.err;
    rules_ = (dir_.path() / "rules.toml").string();
    std::ofstream(rules_) << kRules;
  }
  void TearDown() override {
    testing::ChildProcessOptions kill;
    kill.program = "gpgconf";
    kill.args = {"--homedir", (data_ / "gnupg").string(), "--kill", "all"};
    if (auto child = testing::ChildProcess::Spawn(kill)) (void)child->Wait(seconds(10));
  }

  void Mailgate(const std::string& raw) {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--data", data_.string()};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    ASSERT_TRUE(child) << child.error().message();
    const auto status = child->Wait(seconds(60));
    ASSERT_TRUE(status && status->Succeeded()) << child->Stderr();
  }

  void StoreReports() {
    Mailgate(Mail("phish@reporter.example", "Alice <alice@reporter.example>", "Suspicious login page",
                  "フィッシングメールが届きました: http://login-bank.example/verify\r\n"));
    Mailgate(XarfSpam());
    Mailgate(Mail("peer@jpcert.or.jp", "JPCERT/CC <info@jpcert.or.jp>", "Compromised VPN appliance",
                  "We observed exploitation of vpn.example-univ.ac.jp.\r\n"));
    Mailgate(Mail("leak@staff.example-univ.ac.jp", "Staff <staff@staff.example-univ.ac.jp>", "情報漏えいの疑い",
                  "名簿ファイルが外部に送信された可能性があります。\r\n"));
    Mailgate(Mail("hello@example.com", "Bob <bob@example.com>", "Hello", "Just saying hello.\r\n"));
  }

  std::string AuditSummary() {
    const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
    EXPECT_TRUE(verify.status.Succeeded()) << verify.err;
    return verify.out;
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::string rules_;
};

TEST_F(RulesTestCommand, PrintsWhatWouldChangePerReportAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(StoreReports());
  const std::string audit_before = AuditSummary();

  const auto run = RunCli({"rules", "test", "--data", data_.string(), "--rules", rules_});
  ASSERT_EQ(run.status.code, 0) << run.err;
  const std::string& out = run.out;

  const std::string phishing = RowOf(out, "Suspicious login page");
  EXPECT_THAT(phishing, HasSubstr(" phishing-words "));
  EXPECT_THAT(phishing,
              HasSubstr("category - -> fraud/phishing; P2 (impact 2, urgency 2); playbook phishing; SLA standard"));

  const std::string xarf = RowOf(out, "abuse report about 203.0.113.50");
  EXPECT_THAT(xarf, HasSubstr(" xarf-spam "));
  EXPECT_THAT(xarf, HasSubstr("status new -> rejected (out-of-scope)"));

  const std::string peer = RowOf(out, "Compromised VPN appliance");
  EXPECT_THAT(peer, HasSubstr(" critical-assets "));
  EXPECT_THAT(peer, HasSubstr("P1 (impact 1, urgency 1); team soc; SLA critical; flag +peer-unverified"));

  const std::string leak = RowOf(out, "情報漏えいの疑い");
  EXPECT_THAT(leak, HasSubstr(" data-leak "));
  EXPECT_THAT(leak, HasSubstr("category - -> information-content-security/data-leak; TLP:AMBER -> TLP:AMBER+STRICT; "
                              "P1 (impact 2, urgency 1); playbook data-leak"));

  const std::string hello = RowOf(out, "Hello");
  ASSERT_FALSE(hello.empty()) << out;
  EXPECT_TRUE(hello.ends_with(" -")) << "no rule, no change: " << hello;

  EXPECT_THAT(out, HasSubstr("5 reports replayed, 4 would change, 1 matched no rule."));
  EXPECT_THAT(out, HasSubstr("  xarf-spam        1\n"));
  EXPECT_THAT(out, HasSubstr("  peer-unsigned    1\n"));
  EXPECT_THAT(out, HasSubstr("  critical-assets  1\n"));
  EXPECT_THAT(out, HasSubstr("  data-leak        1\n"));
  EXPECT_THAT(out, HasSubstr("  phishing-words   1\n"));

  // Newest first: the hello (stored last) is listed before the phishing report (stored first).
  EXPECT_LT(out.find(hello), out.find(phishing));
  EXPECT_EQ(AuditSummary(), audit_before) << "a replay writes nothing";
}

TEST_F(RulesTestCommand, LimitReplaysOnlyTheNewestReportsAndExplainSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(StoreReports());
  const auto run = RunCli({"rules", "test", "--data", data_.string(), "--rules", rules_, "--limit", "3", "--explain"});
  ASSERT_EQ(run.status.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("3 reports replayed, 2 would change, 1 matched no rule."));
  EXPECT_THAT(RowOf(run.out, "Compromised VPN appliance"), HasSubstr("critical-assets"));
  EXPECT_EQ(RowOf(run.out, "Suspicious login page"), "") << "the oldest reports are beyond the limit";
  EXPECT_THAT(run.out, HasSubstr("rule 'peer-unsigned' (no. 2) matched: channel mail; source 'info@jpcert.or.jp' "
                                 "matches '@jpcert.or.jp'; unsigned. Sets flag peer-unverified; continues."));
  EXPECT_THAT(run.out, HasSubstr("observable vpn.example-univ.ac.jp is 'vpn.example-univ.ac.jp'"));
  EXPECT_THAT(run.out, HasSubstr("keyword '情報漏えい' in the subject"));
}

TEST_F(RulesTestCommand, AnInvalidRuleFileIsExit65WithTheLineAndKey) {
  const std::string bad = (dir_.path() / "bad.toml").string();
  std::ofstream(bad) << "[[rule]]\nid = \"phishing\"\n[rule.match]\ncatgory = [\"phishing\"]\n[rule.set]\nimpact = 2\n"
                        "urgency = 2\n";
  const auto run = RunCli({"rules", "test", "--data", data_.string(), "--rules", bad});
  EXPECT_EQ(run.status.code, 65);
  EXPECT_THAT(run.err, HasSubstr("rule file " + bad +
                                 ": line 4: rule no. 1 ('phishing'): match.catgory: unknown "
                                 "condition"));
  EXPECT_THAT(run.out, Not(HasSubstr("replayed")));

  std::ofstream(bad) << "[[rule]]\nid = \"p\"\n[rule.set]\nimpact = 5\nurgency = 1\n";
  const auto range = RunCli({"rules", "test", "--data", data_.string(), "--rules", bad});
  EXPECT_EQ(range.status.code, 65);
  EXPECT_THAT(range.err, HasSubstr("line 4: rule 'p' (no. 1): set.impact: is 5"));

  const auto missing = RunCli({"rules", "test", "--data", data_.string(), "--rules", bad + ".missing"});
  EXPECT_EQ(missing.status.code, 66);
  EXPECT_THAT(missing.err, HasSubstr("not found"));
}

TEST_F(RulesTestCommand, ReportsTriagedAtIntakeAreComparedWithTheirStoredDecision) {
  // The rules in force when the mail arrives: triage.toml, stored by init as a new version.
  std::ofstream(data_ / "triage.toml") << kRules;
  const auto reinit = RunCli({"init", "--data", data_.string()});
  ASSERT_TRUE(reinit.status.Succeeded()) << reinit.err;
  EXPECT_THAT(reinit.out, HasSubstr("as triage rule set version 2"));
  ASSERT_NO_FATAL_FAILURE(StoreReports());

  // The same rules, replayed: every stored decision stands.
  const auto same = RunCli({"rules", "test", "--data", data_.string(), "--rules", rules_});
  ASSERT_EQ(same.status.code, 0) << same.err;
  EXPECT_THAT(same.out, HasSubstr("5 reports replayed, 0 would change, 1 matched no rule."));
  EXPECT_THAT(same.out, HasSubstr("4 were compared with the decision stored when they were triaged."));
  EXPECT_TRUE(RowOf(same.out, "Suspicious login page").ends_with(" -")) << same.out;

  // A revision that makes phishing more urgent and drops the data-leak playbook.
  std::string revised = kRules;
  revised.replace(revised.find("impact = 2\nurgency = 2\nplaybook = \"phishing\""),
                  std::string("impact = 2\nurgency = 2").size(), "impact = 1\nurgency = 2");
  revised.erase(revised.find("playbook = \"data-leak\"\n"), std::string("playbook = \"data-leak\"\n").size());
  const std::string revised_file = (dir_.path() / "revised.toml").string();
  std::ofstream(revised_file) << revised;
  const auto run = RunCli({"rules", "test", "--data", data_.string(), "--rules", revised_file});
  ASSERT_EQ(run.status.code, 0) << run.err;
  EXPECT_THAT(RowOf(run.out, "Suspicious login page"),
              HasSubstr("P2 (impact 2, urgency 2) -> P1 (impact 1, urgency 2) (stored: rule phishing-words of v2)"));
  EXPECT_THAT(RowOf(run.out, "情報漏えいの疑い"), HasSubstr("playbook data-leak -> - (stored: rule data-leak of v2)"));
  EXPECT_TRUE(RowOf(run.out, "abuse report about 203.0.113.50").ends_with(" -"))
      << "rejected at intake as out of scope, and still would be: " << run.out;
  EXPECT_THAT(run.out, HasSubstr("5 reports replayed, 2 would change, 1 matched no rule."));
}

TEST_F(RulesTestCommand, AnEmptyStoreReplaysNothing) {
  const auto run = RunCli({"rules", "test", "--data", data_.string(), "--rules", rules_});
  ASSERT_EQ(run.status.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("0 reports replayed, 0 would change, 0 matched no rule."));
}

}  // namespace
}  // namespace hikeshi::e2e
