// The rule set's TOML: the documented example parses to what it says, every rule set round-trips
// through FormatRuleSet, each kind of mistake is reported with its line and key, and hostile input
// fails cleanly within the documented bounds.

#include "hikeshi/triage/rules_toml.hpp"

#include <chrono>
#include <fstream>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hikeshi::triage {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The example rule set in docs/triage.md, so that the documentation cannot drift from the parser.
std::string DocumentedExample() {
  std::ifstream in(HIKESHI_TRIAGE_DOC);
  const std::string doc{std::istreambuf_iterator<char>(in), {}};
  const auto marker = doc.find("<!-- example rule set");
  const auto start = doc.find("```toml\n", marker);
  const auto end = doc.find("```\n", start + 8);
  EXPECT_NE(marker, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  if (end == std::string::npos) return "";
  return doc.substr(start + 8, end - start - 8);
}

TEST(RulesTomlTest, TheDocumentedExampleParses) {
  const auto rules = ParseRuleSet(DocumentedExample(), 4);
  ASSERT_TRUE(rules) << rules.error().message();
  EXPECT_EQ(rules->version, 4);
  ASSERT_EQ(rules->rules.size(), 8u);
  const auto& xarf = rules->rules[0];
  EXPECT_EQ(xarf.id, "xarf-spam");
  EXPECT_THAT(xarf.match.format, ::testing::ElementsAre("xarf-0.2", "xarf-4"));
  EXPECT_EQ(xarf.set.disposition, "out-of-scope");
  EXPECT_TRUE(xarf.stop);
  EXPECT_TRUE(xarf.enabled);
  const auto& peer = rules->rules[1];
  EXPECT_EQ(peer.id, "peer-unsigned");
  EXPECT_FALSE(peer.stop);
  EXPECT_THAT(peer.set.flag, ::testing::ElementsAre("peer-unverified"));
  const auto& assets = rules->rules[2];
  EXPECT_THAT(assets.match.ip, ::testing::ElementsAre("192.0.2.0/27", "198.51.100.10", "2001:db8:10::/48"));
  EXPECT_EQ(assets.set.impact, 1);
  EXPECT_EQ(assets.set.urgency, 1);
  EXPECT_THAT(rules->rules[4].match.keyword, ::testing::Contains("情報漏えい"));
  const auto& phishing = rules->rules[5];
  EXPECT_EQ(phishing.id, "phishing");
  EXPECT_THAT(phishing.match.category, ::testing::ElementsAre("Phishing"));
  EXPECT_EQ(phishing.set.playbook, "phishing");

  // And it decides as the documentation says: a phishing report is P2 with the phishing playbook;
  // the same report pointing at the VPN server of the constituency is P1.
  core::TriageInput report;
  report.category = core::Category{"fraud", "phishing"};
  report.constituency = "example-univ";
  report.channel = core::Channel::kMail;
  report.source = "Reporter <someone@example.net>";
  report.signatures = {};
  const auto p2 = core::Decide(*rules, report);
  EXPECT_EQ(p2.rule_id, "phishing");
  EXPECT_EQ(p2.priority, 2);
  EXPECT_EQ(p2.playbook, "phishing");
  report.observables = {{core::ObservableType::kUrl, "https://vpn.example-univ.ac.jp/+CSCOE+/logon.html"}};
  const auto p1 = core::Decide(*rules, report);
  EXPECT_EQ(p1.rule_id, "critical-assets");
  EXPECT_EQ(p1.priority, 1);
  // Unsigned mail from a JPCERT/CC address speaking of ransomware: flagged, then the ransomware rule.
  core::TriageInput peer_mail;
  peer_mail.channel = core::Channel::kMail;
  peer_mail.source = "JPCERT/CC <info@jpcert.or.jp>";
  peer_mail.body = "貴組織のサーバがﾗﾝｻﾑｳｪｱの被害を受けている可能性があります。";
  const auto flagged = core::Decide(*rules, peer_mail);
  EXPECT_THAT(flagged.matched_rules, ::testing::ElementsAre("peer-unsigned", "ransomware"));
  EXPECT_THAT(flagged.flags, ::testing::ElementsAre("peer-unverified"));
  EXPECT_EQ(flagged.priority, 1);
}

TEST(RulesTomlTest, TheExampleRoundTrips) {
  const auto rules = ParseRuleSet(DocumentedExample(), 9);
  ASSERT_TRUE(rules) << rules.error().message();
  const std::string canonical = FormatRuleSet(*rules);
  const auto again = ParseRuleSet(canonical, 9);
  ASSERT_TRUE(again) << again.error().message() << "\n" << canonical;
  EXPECT_EQ(*again, *rules);
  EXPECT_EQ(FormatRuleSet(*again), canonical) << "canonical text is a fixed point";
}

TEST(RulesTomlTest, EveryFieldRoundTrips) {
  core::TriageRule rule;
  rule.id = "all.fields_1";
  rule.description = "Quotes \" and \\ backslashes,\ttabs,\nnew lines and 日本語 survive";
  rule.enabled = false;
  rule.stop = false;
  rule.match = {.category = {"fraud/phishing", "fraud", "APT"},
                .constituency = {"example-univ"},
                .channel = {"mail", "web"},
                .source = {"@example.org", "*.example.org", "Alice@Example.org"},
                .format = {"xarf-4"},
                .ip = {"192.0.2.0/24", "2001:db8::/32"},
                .domain = {"example.ac.jp"},
                .keyword = {"情報漏えい", "ＶＰＮ", "say \"hi\""},
                .pgp = {"unsigned", "bad"}};
  rule.set = {.category = "APT",
              .apt = true,
              .impact = 1,
              .urgency = 4,
              .owner = "tanaka",
              .team = "soc",
              .playbook = "apt",
              .tlp = "TLP:AMBER+STRICT",
              .sla_class = "critical",
              .disposition = "none",
              .flag = {"a", "b"}};
  core::TriageRule minimal;
  minimal.id = "minimal";
  minimal.set.tlp = "red";
  const core::RuleSet rules{12, {rule, minimal}};
  ASSERT_TRUE(core::Validate(rules)) << core::Validate(rules).error().message();
  const std::string text = FormatRuleSet(rules);
  const auto parsed = ParseRuleSet(text, 12);
  ASSERT_TRUE(parsed) << parsed.error().message() << "\n" << text;
  EXPECT_EQ(*parsed, rules) << text;
}

TEST(RulesTomlTest, TheCanonicalFormIsFixed) {
  core::TriageRule rule;
  rule.id = "phishing";
  rule.description = "P2";
  rule.match.category = {"Phishing"};
  rule.match.keyword = {"フィッシング"};
  rule.set.impact = 2;
  rule.set.urgency = 2;
  rule.set.playbook = "phishing";
  EXPECT_EQ(FormatRuleSet({3, {rule}}),
            "# Hikeshi triage rules, version 3. Rules are tried in order; see docs/triage.md.\n"
            "\n"
            "[[rule]]\n"
            "id = \"phishing\"\n"
            "description = \"P2\"\n"
            "enabled = true\n"
            "stop = true\n"
            "\n"
            "[rule.match]\n"
            "category = [\"Phishing\"]\n"
            "keyword = [\"フィッシング\"]\n"
            "\n"
            "[rule.set]\n"
            "impact = 2\n"
            "urgency = 2\n"
            "playbook = \"phishing\"\n");
}

struct Mistake {
  std::string name;
  std::string toml;
  std::string starts_with;  // "line N:"
  std::string mentions;     // the key, and what is wrong
};

TEST(RulesTomlTest, EachMistakeNamesItsLineAndKey) {
  const std::string head = "[[rule]]\nid = \"r1\"\n";  // lines 1-2
  const std::vector<Mistake> mistakes = {
      {"unknown top-level key", "rules = 1\n", "line 1:", "unknown key 'rules' at the top level"},
      {"[rule] instead of [[rule]]", "[rule]\nid = \"x\"\n", "line 1:", "write each rule as [[rule]]"},
      {"unknown rule key", head + "set.tlp = \"red\"\npriority = 1\n",
       "line 4:", "rule no. 1 ('r1'): priority: unknown key 'priority'"},
      {"typo in a condition", head + "set.tlp = \"red\"\n[rule.match]\ncatgory = [\"phishing\"]\n",
       "line 5:", "match.catgory: unknown condition"},
      {"typo in an action", head + "[rule.set]\nprority = 1\n", "line 4:", "set.prority: unknown action"},
      {"number as a string", head + "[rule.set]\nimpact = \"2\"\nurgency = 2\n",
       "line 4:", "set.impact: must be a whole number"},
      {"a string for a list", head + "set.tlp = \"red\"\nmatch.channel = \"mail\"\n",
       "line 4:", "match.channel: must be a list of strings"},
      {"an empty list", head + "set.tlp = \"red\"\nmatch.keyword = []\n", "line 4:", "match.keyword: is an empty list"},
      {"a number in a list", head + "set.tlp = \"red\"\n[rule.match]\nchannel = [\"mail\",\n  3]\n",
       "line 6:", "match.channel[2]: must be a string"},
      {"enabled as a word", head + "enabled = \"yes\"\nset.tlp = \"red\"\n",
       "line 3:", "enabled: must be true or false"},
      {"no id", "[[rule]]\nset.tlp = \"red\"\n", "line 1:", "id: is missing"},
      {"not TOML", head + "set.tlp = \"red\n", "line 3, column", "not valid TOML"},
      // Checked by core, located by the parser:
      {"bad CIDR", head + "set.tlp = \"red\"\n[rule.match]\nip = [\n  \"192.0.2.0/24\",\n  \"10.0.0.0/33\",\n]\n",
       "line 7:", "match.ip[2]: '10.0.0.0/33' is not an IP address or CIDR prefix"},
      {"impact out of range", head + "[rule.set]\nimpact = 7\nurgency = 1\n",
       "line 4:", "set.impact: is 7; it must be 1 (highest) to 4 (lowest)"},
      {"unknown TLP", head + "\n[rule.set]\ntlp = \"orange\"\n", "line 5:", "set.tlp: 'orange' is not a TLP"},
      {"unknown validity", head + "set.tlp = \"red\"\nmatch.pgp = [\"trusted\"]\n",
       "line 4:", "match.pgp[1]: 'trusted' is not a signature validity"},
      {"duplicate id", head + "set.tlp = \"red\"\n\n[[rule]]\nid = \"r1\"\nset.tlp = \"red\"\n",
       "line 6:", "rule 'r1' (no. 2): id: 'r1' is already the id of rule no. 1"},
      {"rule that sets nothing", head + "match.channel = [\"mail\"]\n\n[[rule]]\nid = \"r2\"\nset.tlp = \"red\"\n",
       "line 1:", "rule 'r1' (no. 1): set: sets nothing"},
  };
  for (const Mistake& m : mistakes) {
    const auto result = ParseRuleSet(m.toml, 1);
    ASSERT_FALSE(result) << m.name;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << m.name;
    EXPECT_THAT(result.error().message(), StartsWith(m.starts_with)) << m.name;
    EXPECT_THAT(result.error().message(), HasSubstr(m.mentions)) << m.name;
  }
}

// ---- Hostile input ---------------------------------------------------------------------------

TEST(RulesTomlHostileTest, AMegabyteOfGarbageFailsCleanly) {
  std::mt19937 random(20260501);
  std::string bytes(1 << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  const auto binary = ParseRuleSet(bytes, 1);
  ASSERT_FALSE(binary);
  EXPECT_EQ(binary.error().code(), ErrorCode::kInvalidArgument);

  std::string text;
  const std::string alphabet = "[]{}=\"'.,#\n abc123=[[rule]]";
  while (text.size() < (1u << 20)) text += alphabet[random() % alphabet.size()];
  const auto printable = ParseRuleSet(text, 1);
  ASSERT_FALSE(printable);
  EXPECT_THAT(printable.error().message(), StartsWith("line "));
}

TEST(RulesTomlHostileTest, DeeplyNestedTablesAreRefusedBeforeParsing) {
  std::string header = "[a";
  for (int i = 0; i < 100'000; ++i) header += ".a";
  header += "]\nx = 1\n";
  const auto dotted = ParseRuleSet(header, 1);
  ASSERT_FALSE(dotted);
  EXPECT_THAT(dotted.error().message(), HasSubstr("line 1: keys are nested more than 16 levels"));

  std::string key = "[[rule]]\nid = \"r\"\nset.tlp = \"red\"\n";
  for (int i = 0; i < 50'000; ++i) key += "b.";
  key += "c = 1\n";
  const auto dotted_key = ParseRuleSet(key, 1);
  ASSERT_FALSE(dotted_key);
  EXPECT_THAT(dotted_key.error().message(), HasSubstr("line 4: keys are nested"));

  std::string arrays = "x = ";
  for (int i = 0; i < 100'000; ++i) arrays += "[";
  const auto nested_arrays = ParseRuleSet(arrays, 1);
  ASSERT_FALSE(nested_arrays) << "toml++ bounds nested values itself";

  std::string inline_tables = "x = ";
  for (int i = 0; i < 100'000; ++i) inline_tables += "{a=";
  ASSERT_FALSE(ParseRuleSet(inline_tables, 1));
}

TEST(RulesTomlHostileTest, DotsInsideStringsAndCommentsAreNotNesting) {
  std::string domains;
  for (int i = 0; i < 200; ++i)
    domains += std::string(i ? ", " : "") + "\"h" + std::to_string(i) + ".a.b.c.example.org\"";
  const std::string toml =
      "# a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z\n[[rule]]\nid = \"r\"\n"
      "description = \"\"\"\nv1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18\n\"\"\"\n"
      "set.tlp = 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z'\n"
      "match.domain = [" +
      domains + "]\n";
  const auto result = ParseRuleSet(toml, 1);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("set.tlp: 'a.b.c.d")) << "parsed; only the TLP itself is wrong";
}

TEST(RulesTomlHostileTest, AHundredThousandRulesAreRefused) {
  std::string many;
  for (int i = 0; i < 100'000; ++i) many += "[[rule]]\n";
  const auto start = std::chrono::steady_clock::now();
  const auto result = ParseRuleSet(many, 1);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kTooLarge);
  EXPECT_THAT(result.error().message(), HasSubstr("100000 rules; at most 10000"));

  std::string large;
  for (int i = 0; i < 100'000; ++i) large += "[[rule]]\nid = \"r" + std::to_string(i) + "\"\nset.tlp = \"red\"\n";
  const auto too_large = ParseRuleSet(large, 1);
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code(), ErrorCode::kTooLarge);
  EXPECT_THAT(too_large.error().message(), HasSubstr("at most 2097152"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(RulesTomlHostileTest, TenThousandRulesWorkWithinTheBound) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) {
    text += "[[rule]]\nid = \"r" + std::to_string(i) + "\"\nmatch.keyword = [\"w" + std::to_string(i) +
            "\"]\nmatch.ip = [\"10." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
            ".0/24\"]\nset.tlp = \"red\"\n";
  }
  ASSERT_LT(text.size(), kMaxRuleSetBytes);
  const auto start = std::chrono::steady_clock::now();
  const auto rules = ParseRuleSet(text, 1);
  ASSERT_TRUE(rules) << rules.error().message();
  auto compiled = core::CompiledRuleSet::Compile(*rules);
  ASSERT_TRUE(compiled);
  core::TriageInput input;
  input.body = "nothing here but w9999";
  input.observables = {{core::ObservableType::kIpv4, "10.39.15.1"}};
  const auto decision = compiled->Decide(input);
  EXPECT_EQ(decision.rule_id, "r9999") << "10.39.15.0/24 is rule 9999's prefix, w9999 its keyword";
  // Generous for ASan on a shared machine; a release build takes a fraction of a second.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace hikeshi::triage
