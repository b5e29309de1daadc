// The triage rule matcher: every condition kind, matched and not matched, the first-match and
// `stop` semantics, priority through the matrix, and the checks that name the rule and key at
// fault. Expected values are written by hand from docs/triage.md.

#include "hikeshi/core/triage.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Observable Obs(ObservableType type, std::string_view raw) {
  auto o = NormalizeObservable(type, raw);
  EXPECT_TRUE(o) << raw << ": " << o.error().message();
  return o ? *o : Observable{type, std::string(raw)};
}

Category Cat(std::string_view text) { return ParseCategory(text)->category; }

SignatureCheck Sig(SignatureValidity validity) {
  SignatureCheck s;
  s.validity = validity;
  s.fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567";
  return s;
}

// A rule set of one rule with `match` that sets TLP:RED.
RuleSet OneRule(TriageMatch match) {
  TriageRule rule;
  rule.id = "r";
  rule.match = std::move(match);
  rule.set.tlp = "red";
  return {1, {rule}};
}

struct Row {
  std::string name;
  TriageMatch match;
  TriageInput input;
  bool matches;
};

TriageInput WithCategory(std::string_view category, bool apt = false) {
  TriageInput in;
  in.category = Cat(category);
  in.apt = apt;
  return in;
}
TriageInput WithoutCategory() { return {}; }
TriageInput WithConstituency(std::string name) {
  TriageInput in;
  in.constituency = std::move(name);
  return in;
}
TriageInput WithChannel(Channel channel) {
  TriageInput in;
  in.channel = channel;
  return in;
}
TriageInput WithSource(std::string source, Channel channel = Channel::kMail) {
  TriageInput in;
  in.channel = channel;
  in.source = std::move(source);
  return in;
}
TriageInput WithFormat(std::string format) {
  TriageInput in;
  in.format = std::move(format);
  return in;
}
TriageInput WithObservable(ObservableType type, std::string_view raw) {
  TriageInput in;
  in.observables = {Obs(type, raw)};
  return in;
}
TriageInput WithText(std::string subject, std::string body) {
  TriageInput in;
  in.subject = std::move(subject);
  in.body = std::move(body);
  return in;
}
TriageInput WithSignatures(std::vector<SignatureCheck> signatures) {
  TriageInput in;
  in.channel = Channel::kMail;
  in.signatures = std::move(signatures);
  return in;
}

TriageMatch Category_(std::vector<std::string> v) { return {.category = std::move(v)}; }
TriageMatch Constituency_(std::vector<std::string> v) { return {.constituency = std::move(v)}; }
TriageMatch Channel_(std::vector<std::string> v) { return {.channel = std::move(v)}; }
TriageMatch Source_(std::vector<std::string> v) { return {.source = std::move(v)}; }
TriageMatch Format_(std::vector<std::string> v) { return {.format = std::move(v)}; }
TriageMatch Ip_(std::vector<std::string> v) { return {.ip = std::move(v)}; }
TriageMatch Domain_(std::vector<std::string> v) { return {.domain = std::move(v)}; }
TriageMatch Keyword_(std::vector<std::string> v) { return {.keyword = std::move(v)}; }
TriageMatch Pgp_(std::vector<std::string> v) { return {.pgp = std::move(v)}; }

std::vector<Row> Rows() {
  using T = ObservableType;
  using V = SignatureValidity;
  return {
      // category: class/type exactly, a class, the guide's names
      {"exact type", Category_({"fraud/phishing"}), WithCategory("fraud/phishing"), true},
      {"exact type, other type", Category_({"fraud/phishing"}), WithCategory("fraud/masquerade"), false},
      {"report without category", Category_({"fraud/phishing"}), WithoutCategory(), false},
      {"IntelMQ spelling", Category_({"information-content-security/unauthorized-information-access"}),
       WithCategory("information-content-security/unauthorised-information-access"), true},
      {"class", Category_({"fraud"}), WithCategory("fraud/copyright"), true},
      {"class, other class", Category_({"fraud"}), WithCategory("malicious-code/c2-server"), false},
      {"guide Phishing", Category_({"Phishing"}), WithCategory("fraud/phishing"), true},
      {"guide Scan counts brute force", Category_({"scan"}), WithCategory("intrusion-attempts/brute-force"), true},
      {"guide Virus, a phishing report", Category_({"Virus"}), WithCategory("fraud/phishing"), false},
      {"guide APT, flagged", Category_({"APT"}), WithCategory("intrusions/system-compromise", true), true},
      {"guide APT, not flagged", Category_({"APT"}), WithCategory("intrusions/system-compromise"), false},
      {"guide Intrusion", Category_({"Intrusion"}), WithCategory("intrusions/application-compromise"), true},
      {"any of several", Category_({"availability/ddos", "fraud/phishing"}), WithCategory("fraud/phishing"), true},
      // constituency
      {"constituency", Constituency_({"example-univ"}), WithConstituency("example-univ"), true},
      {"constituency, another", Constituency_({"example-univ"}), WithConstituency("other-univ"), false},
      {"constituency, none", Constituency_({"example-univ"}), WithConstituency(""), false},
      // channel
      {"channel", Channel_({"mail"}), WithChannel(Channel::kMail), true},
      {"channel, upper case in the rule", Channel_({"WEB"}), WithChannel(Channel::kWeb), true},
      {"channel, another", Channel_({"mail"}), WithChannel(Channel::kWeb), false},
      // source
      {"source @domain", Source_({"@example.org"}), WithSource("Alice <alice@example.org>"), true},
      {"source @domain, a subdomain", Source_({"@example.org"}), WithSource("alice@sub.example.org"), false},
      {"source *.domain", Source_({"*.example.org"}), WithSource("bob@mx.example.org"), true},
      {"source *.domain, the apex", Source_({"*.example.org"}), WithSource("bob@example.org"), false},
      {"source *.domain, a longer name", Source_({"*.example.org"}), WithSource("bob@badexample.org"), false},
      {"source address, any case", Source_({"alice@example.org"}), WithSource("ALICE@Example.ORG"), true},
      {"source address, another", Source_({"alice@example.org"}), WithSource("mallory@example.org"), false},
      {"source bare domain", Source_({"example.org"}), WithSource("Carol <carol@example.org>"), true},
      {"source feed name", Source_({"shadowserver"}), WithSource("shadowserver:scan_ssh.csv", Channel::kFeed), true},
      {"source feed name, not a feed", Source_({"shadowserver"}), WithSource("shadowserver:x", Channel::kMail), false},
      // format
      {"format", Format_({"xarf-4"}), WithFormat("xarf-4"), true},
      {"format, another", Format_({"xarf-4"}), WithFormat("arf"), false},
      {"format, none", Format_({"xarf-4"}), WithFormat(""), false},
      // ip: IPv4 and IPv6 containment
      {"IPv4 in CIDR", Ip_({"192.0.2.0/24"}), WithObservable(T::kIpv4, "192.0.2.77"), true},
      {"IPv4 outside CIDR", Ip_({"192.0.2.0/24"}), WithObservable(T::kIpv4, "192.0.3.1"), false},
      {"IPv6 in CIDR", Ip_({"2001:db8:1234::/48"}), WithObservable(T::kIpv6, "2001:db8:1234:5::1"), true},
      {"IPv6 outside CIDR", Ip_({"2001:db8:1234::/48"}), WithObservable(T::kIpv6, "2001:db8:1235::1"), false},
      {"IPv6 /127 boundary", Ip_({"2001:db8::/127"}), WithObservable(T::kIpv6, "2001:db8::1"), true},
      {"IPv6 /127 next", Ip_({"2001:db8::/127"}), WithObservable(T::kIpv6, "2001:db8::2"), false},
      {"single address", Ip_({"198.51.100.7"}), WithObservable(T::kIpv4, "198.51.100.7"), true},
      {"single address, neighbour", Ip_({"198.51.100.7"}), WithObservable(T::kIpv4, "198.51.100.8"), false},
      {"IPv6 address written long", Ip_({"2001:0db8:0000:0000:0000:0000:0000:0001"}),
       WithObservable(T::kIpv6, "2001:db8::1"), true},
      {"IPv4-mapped IPv6 in IPv4 CIDR", Ip_({"192.0.2.0/24"}), WithObservable(T::kIpv6, "::ffff:192.0.2.5"), true},
      {"::/0 does not catch IPv4", Ip_({"::/0"}), WithObservable(T::kIpv4, "192.0.2.5"), false},
      {"::/0 catches IPv6", Ip_({"::/0"}), WithObservable(T::kIpv6, "2001:db8::5"), true},
      {"URL host in CIDR", Ip_({"192.0.2.0/24"}), WithObservable(T::kUrl, "http://192.0.2.9:8080/x"), true},
      {"narrower CIDR inside", Ip_({"192.0.2.0/24"}), WithObservable(T::kCidr, "192.0.2.128/25"), true},
      {"wider CIDR not inside", Ip_({"192.0.2.0/24"}), WithObservable(T::kCidr, "192.0.2.0/23"), false},
      {"domain observable is no IP", Ip_({"192.0.2.0/24"}), WithObservable(T::kDomain, "example.org"), false},
      // domain, subdomains included
      {"domain itself", Domain_({"example.ac.jp"}), WithObservable(T::kDomain, "example.ac.jp"), true},
      {"subdomain", Domain_({"example.ac.jp"}), WithObservable(T::kDomain, "www.cs.example.ac.jp"), true},
      {"longer name is not a subdomain", Domain_({"example.ac.jp"}), WithObservable(T::kDomain, "badexample.ac.jp"),
       false},
      {"parent is not under", Domain_({"cs.example.ac.jp"}), WithObservable(T::kDomain, "example.ac.jp"), false},
      {"URL host", Domain_({"example.ac.jp"}), WithObservable(T::kUrl, "https://portal.example.ac.jp/login"), true},
      {"e-mail domain", Domain_({"Example.AC.JP."}), WithObservable(T::kEmail, "prof@example.ac.jp"), true},
      // keywords, Japanese and English
      {"Japanese keyword in body", Keyword_({"情報漏えい"}), WithText("ご報告", "学内で情報漏えいの疑いがあります"),
       true},
      {"Japanese keyword absent", Keyword_({"情報漏えい"}), WithText("ご報告", "情報の漏れはありません"), false},
      {"half-width katakana in text", Keyword_({"ランサムウェア"}), WithText("至急", "ﾗﾝｻﾑｳｪｱに感染しました"), true},
      {"voiced half-width katakana", Keyword_({"パスワード"}), WithText("ﾊﾟｽﾜｰﾄﾞ漏洩", ""), true},
      {"voiced mark does not join wrongly", Keyword_({"パスワード"}), WithText("ﾊｽﾜｰﾄﾞ", ""), false},
      {"full-width letters in subject", Keyword_({"VPN"}), WithText("ＶＰＮ装置の脆弱性", ""), true},
      {"full-width letters in the rule", Keyword_({"ＶＰＮ"}), WithText("vpn appliance", ""), true},
      {"ASCII case", Keyword_({"Phishing"}), WithText("PHISHING at login page", ""), true},
      {"words apart do not match", Keyword_({"ransomware"}), WithText("ransom ware", ""), false},
      {"keyword split across subject and body", Keyword_({"ab"}), WithText("a", "b"), false},
      // PGP validity of the sender
      {"unsigned", Pgp_({"unsigned"}), WithSignatures({}), true},
      {"unsigned, but signed", Pgp_({"unsigned"}), WithSignatures({Sig(V::kGood)}), false},
      {"good", Pgp_({"good"}), WithSignatures({Sig(V::kGood)}), true},
      {"bad wanted, good given", Pgp_({"bad"}), WithSignatures({Sig(V::kGood)}), false},
      {"bad", Pgp_({"bad"}), WithSignatures({Sig(V::kBad)}), true},
      {"unknown key", Pgp_({"unknown-key"}), WithSignatures({Sig(V::kUnknownKey)}), true},
      {"expired key", Pgp_({"expired-key"}), WithSignatures({Sig(V::kExpiredKey)}), true},
      {"revoked key", Pgp_({"revoked-key"}), WithSignatures({Sig(V::kRevokedKey)}), true},
      {"revoked wanted, expired given", Pgp_({"revoked-key"}), WithSignatures({Sig(V::kExpiredKey)}), false},
      {"any of several", Pgp_({"unsigned", "bad", "unknown-key"}), WithSignatures({Sig(V::kUnknownKey)}), true},
  };
}

TEST(TriageMatchTest, EachConditionKindMatchesAndDoesNotMatch) {
  for (const Row& row : Rows()) {
    const RuleSet rules = OneRule(row.match);
    ASSERT_TRUE(Validate(rules)) << row.name << ": " << Validate(rules).error().message();
    const TriageDecision d = Decide(rules, row.input);
    EXPECT_EQ(d.matched(), row.matches) << row.name << "\n" << d.explanation;
    if (row.matches) {
      EXPECT_EQ(d.tlp, Tlp::kRed) << row.name;
    } else {
      EXPECT_FALSE(d.tlp.has_value()) << row.name;
    }
  }
}

TEST(TriageMatchTest, EveryGivenConditionMustHold) {
  TriageMatch m{.category = {"fraud/phishing"}, .channel = {"mail"}, .keyword = {"bank"}};
  TriageInput in = WithCategory("fraud/phishing");
  in.channel = Channel::kMail;
  in.subject = "Fake bank login";
  EXPECT_TRUE(Decide(OneRule(m), in).matched());
  in.channel = Channel::kWeb;
  EXPECT_FALSE(Decide(OneRule(m), in).matched()) << "the channel no longer holds";
  in.channel = Channel::kMail;
  in.subject = "Fake login";
  EXPECT_FALSE(Decide(OneRule(m), in).matched()) << "the keyword no longer holds";
}

TEST(TriageMatchTest, IpAndDomainAreOneWatchList) {
  const TriageMatch watch{.ip = {"192.0.2.0/27"}, .domain = {"vpn.example-univ.ac.jp"}};
  EXPECT_TRUE(Decide(OneRule(watch), WithObservable(ObservableType::kIpv4, "192.0.2.30")).matched());
  EXPECT_TRUE(
      Decide(OneRule(watch), WithObservable(ObservableType::kUrl, "https://vpn.example-univ.ac.jp/")).matched());
  EXPECT_FALSE(Decide(OneRule(watch), WithObservable(ObservableType::kIpv4, "192.0.2.32")).matched());
  EXPECT_FALSE(Decide(OneRule(watch), WithObservable(ObservableType::kDomain, "www.example-univ.ac.jp")).matched());
  EXPECT_FALSE(Decide(OneRule(watch), TriageInput{}).matched()) << "no observables: not on the watch list";
}

TEST(TriageMatchTest, ARuleWithoutConditionsMatchesEveryReport) {
  EXPECT_TRUE(Decide(OneRule({}), TriageInput{}).matched());
}

TEST(TriageFoldTest, FoldsWidthsAndAsciiCase) {
  EXPECT_EQ(FoldForKeywords("ＡＢＣ１２３＠ｅｘ．ｊｐ"), "abc123@ex.jp");
  EXPECT_EQ(FoldForKeywords("ｶﾞｽ ﾊﾟﾝ ｳﾞｨ"), "ガス パン ヴィ");
  EXPECT_EQ(FoldForKeywords("ﾏﾞ"), "マ゛") << "a mark that cannot join stays a mark";
  EXPECT_EQ(FoldForKeywords("全角\u3000空白"), "全角 空白");
  EXPECT_EQ(FoldForKeywords("Ärger"), "Ärger") << "only ASCII letters are case-folded";
  EXPECT_EQ(FoldForKeywords(std::string("a\xff\xfe"
                                        "B")),
            std::string("a\xff\xfe"
                        "b"))
      << "bad bytes are kept";
}

TriageRule Rule(std::string id, TriageMatch match, TriageActions set, bool stop = true) {
  TriageRule r;
  r.id = std::move(id);
  r.match = std::move(match);
  r.set = std::move(set);
  r.stop = stop;
  return r;
}

TEST(TriageSemanticsTest, FirstMatchingRuleWinsAndStops) {
  RuleSet rules{7,
                {Rule("no-match", Channel_({"web"}), {.tlp = "clear"}),
                 Rule("first", Channel_({"mail"}), {.playbook = "phishing"}),
                 Rule("second", Channel_({"mail"}), {.playbook = "malware", .tlp = "red"})}};
  const TriageDecision d = Decide(rules, WithChannel(Channel::kMail));
  EXPECT_EQ(d.rule_set_version, 7);
  EXPECT_EQ(d.rule_id, "first");
  EXPECT_THAT(d.matched_rules, ElementsAre("first"));
  EXPECT_EQ(d.playbook, "phishing");
  EXPECT_FALSE(d.tlp.has_value()) << "the second rule was never reached";
  EXPECT_THAT(d.explanation, HasSubstr("'first'"));
  EXPECT_THAT(d.explanation, HasSubstr("channel mail"));
  EXPECT_THAT(d.explanation, ::testing::Not(HasSubstr("'second'")));
}

TEST(TriageSemanticsTest, ANonStoppingRuleContributesAndLaterRulesOverride) {
  RuleSet rules{3,
                {Rule("base", {}, {.impact = 3, .urgency = 3, .tlp = "green", .flag = {"seen"}}, false),
                 Rule("disabled", {}, {.tlp = "clear"}, false),
                 Rule("mail", Channel_({"mail"}), {.impact = 1, .urgency = 2, .owner = "tanaka", .flag = {"mail"}}),
                 Rule("after-stop", {}, {.tlp = "red"})}};
  rules.rules[1].enabled = false;
  const TriageDecision d = Decide(rules, WithChannel(Channel::kMail));
  EXPECT_EQ(d.rule_id, "mail") << "the decision names the rule that stopped";
  EXPECT_THAT(d.matched_rules, ElementsAre("base", "mail"));
  EXPECT_EQ(d.tlp, Tlp::kGreen) << "kept from 'base'; 'disabled' is skipped and 'after-stop' never reached";
  EXPECT_EQ(d.impact, 1);
  EXPECT_EQ(d.urgency, 2);
  EXPECT_EQ(d.priority, 1) << "impact 1, urgency 2 is P1 in the matrix";
  EXPECT_EQ(d.owner, "tanaka");
  EXPECT_THAT(d.flags, ElementsAre("seen", "mail"));

  // A web report: only 'base' and then 'after-stop' match.
  const TriageDecision web = Decide(rules, WithChannel(Channel::kWeb));
  EXPECT_EQ(web.rule_id, "after-stop");
  EXPECT_EQ(web.tlp, Tlp::kRed) << "a later rule overrides an earlier one's field";
  EXPECT_EQ(web.priority, 3);
}

TEST(TriageSemanticsTest, NoRuleMatched) {
  const TriageDecision d = Decide(OneRule(Channel_({"phone"})), WithChannel(Channel::kMail));
  EXPECT_FALSE(d.matched());
  EXPECT_EQ(d.rule_id, "");
  EXPECT_EQ(d.rule_set_version, 1);
  EXPECT_THAT(d.explanation, HasSubstr("no rule matched"));
}

TEST(TriageSemanticsTest, PriorityComesFromTheMatrix) {
  struct Case {
    int impact, urgency, priority;
  };
  // Written from the matrix in docs/triage.md: rows are impact 1..4, columns urgency 1..4.
  for (const Case c : {Case{1, 1, 1}, Case{2, 2, 2}, Case{1, 3, 2}, Case{4, 1, 3}, Case{3, 4, 4}, Case{2, 4, 3}}) {
    const RuleSet rules{1, {Rule("p", {}, {.impact = c.impact, .urgency = c.urgency})}};
    EXPECT_EQ(Decide(rules, {}).priority, c.priority) << "impact " << c.impact << ", urgency " << c.urgency;
  }
}

TEST(TriageSemanticsTest, ActionsSetEveryField) {
  const RuleSet rules{2,
                      {Rule("all", {},
                            {.category = "APT",
                             .impact = 2,
                             .urgency = 1,
                             .owner = "suzuki",
                             .team = "soc",
                             .playbook = "apt-response",
                             .tlp = "amber+strict",
                             .sla_class = "critical",
                             .disposition = "none",
                             .flag = {"apt-suspected"}})}};
  ASSERT_TRUE(Validate(rules));
  const TriageDecision d = Decide(rules, {});
  EXPECT_EQ(d.category, (Category{"intrusions", "system-compromise"}));
  EXPECT_EQ(d.apt, true) << "the guide's APT is a system compromise with the APT flag";
  EXPECT_EQ(d.priority, 1);
  EXPECT_EQ(d.owner, "suzuki");
  EXPECT_EQ(d.team, "soc");
  EXPECT_EQ(d.playbook, "apt-response");
  EXPECT_EQ(d.tlp, Tlp::kAmberStrict);
  EXPECT_EQ(d.sla_class, "critical");
  EXPECT_EQ(d.disposition, TriageDisposition::kNone);
  EXPECT_THAT(d.explanation, HasSubstr("priority P1 (impact 2, urgency 1)"));
}

TEST(TriageSemanticsTest, DispositionsMarkSpamAndOutOfScope) {
  const RuleSet rules{1,
                      {Rule("spam", Keyword_({"viagra"}), {.disposition = "spam"}),
                       Rule("oos", Format_({"xarf-4"}), {.disposition = "out-of-scope"})}};
  TriageInput spam = WithText("cheap viagra", "");
  EXPECT_EQ(Decide(rules, spam).disposition, TriageDisposition::kSpam);
  EXPECT_EQ(Decide(rules, WithFormat("xarf-4")).disposition, TriageDisposition::kOutOfScope);
}

TEST(TriageSemanticsTest, DecidingTwiceGivesTheSameDecision) {
  const RuleSet rules{1,
                      {Rule("a", Keyword_({"漏えい", "leak"}), {.tlp = "amber"}, false),
                       Rule("b", Ip_({"10.0.0.0/8", "2001:db8::/32"}), {.impact = 1, .urgency = 1})}};
  TriageInput in = WithText("leak", "情報漏えい");
  in.observables = {Obs(ObservableType::kIpv6, "2001:db8::1"), Obs(ObservableType::kIpv4, "10.1.2.3")};
  auto compiled = CompiledRuleSet::Compile(rules);
  ASSERT_TRUE(compiled);
  const TriageDecision first = compiled->Decide(in);
  const TriageDecision second = compiled->Decide(in);
  EXPECT_EQ(first.explanation, second.explanation);
  EXPECT_EQ(first.explanation, Decide(rules, in).explanation);
  EXPECT_THAT(first.explanation, HasSubstr("keyword '漏えい' in the body"))
      << "the first keyword of the list that occurs is named";
  EXPECT_THAT(first.explanation, HasSubstr("observable 2001:db8::1 is in '2001:db8::/32'"));
}

// ---- Validation -------------------------------------------------------------------------------

struct Invalid {
  std::string name;
  RuleSet rules;
  std::string field;
  std::string message_part;
};

std::vector<Invalid> InvalidSets() {
  const auto one = [](TriageMatch m, TriageActions a) {
    return RuleSet{1, {Rule("bad-rule", std::move(m), std::move(a))}};
  };
  return {
      {"duplicate id", RuleSet{1, {Rule("dup", {}, {.tlp = "red"}), Rule("dup", {}, {.tlp = "red"})}}, "/rules/1/id",
       "'dup' (no. 2): id: 'dup' is already the id of rule no. 1"},
      {"id with spaces", RuleSet{1, {Rule("Bad Id", {}, {.tlp = "red"})}}, "/rules/0/id", "id must be 1-64 characters"},
      {"impact out of range", one({}, {.impact = 5, .urgency = 1}), "/rules/0/set/impact",
       "'bad-rule' (no. 1): set.impact: is 5; it must be 1 (highest) to 4 (lowest)"},
      {"urgency zero", one({}, {.impact = 1, .urgency = 0}), "/rules/0/set/urgency", "is 0"},
      {"impact without urgency", one({}, {.impact = 2}), "/rules/0/set/impact", "together"},
      {"unknown category condition", one(Category_({"fraud", "phsihing"}), {.tlp = "red"}), "/rules/0/match/category/1",
       "match.category[2]: 'phsihing' is not a category"},
      {"unknown category action", one({}, {.category = "fraud"}), "/rules/0/set/category", "'fraud' is not a category"},
      {"unknown TLP", one({}, {.tlp = "purple"}), "/rules/0/set/tlp", "'purple' is not a TLP 2.0 label"},
      {"unknown channel", one(Channel_({"fax"}), {.tlp = "red"}), "/rules/0/match/channel/0", "'fax' is not a channel"},
      {"unknown validity", one(Pgp_({"trusted"}), {.tlp = "red"}), "/rules/0/match/pgp/0",
       "'trusted' is not a signature validity"},
      {"malformed CIDR", one(Ip_({"192.0.2.0/24", "10.0.0.0/33"}), {.tlp = "red"}), "/rules/0/match/ip/1",
       "'10.0.0.0/33' is not an IP address or CIDR prefix"},
      {"IPv6 CIDR malformed", one(Ip_({"2001:db8:::/32"}), {.tlp = "red"}), "/rules/0/match/ip/0", "match.ip[1]"},
      {"domain malformed", one(Domain_({"exa mple.org"}), {.tlp = "red"}), "/rules/0/match/domain/0",
       "is not a domain name"},
      {"source with a space", one(Source_({"a b@example.org"}), {.tlp = "red"}), "/rules/0/match/source/0", "spaces"},
      {"empty keyword", one(Keyword_({"  "}), {.tlp = "red"}), "/rules/0/match/keyword/0", "is empty"},
      {"keyword too long", one(Keyword_({std::string(300, 'a')}), {.tlp = "red"}), "/rules/0/match/keyword/0",
       "longer than 256 bytes"},
      {"unknown disposition", one({}, {.disposition = "ignore"}), "/rules/0/set/disposition",
       "is not a disposition (none, spam, out-of-scope)"},
      {"bad owner", one({}, {.owner = "Tanaka San"}), "/rules/0/set/owner", "a username"},
      {"empty rule", one(Channel_({"mail"}), {}), "/rules/0/set", "sets nothing"},
  };
}

TEST(TriageValidateTest, ErrorsNameTheRuleAndTheKey) {
  for (const Invalid& c : InvalidSets()) {
    const auto result = Validate(c.rules);
    ASSERT_FALSE(result) << c.name;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_EQ(result.error().field(), c.field) << c.name << ": " << result.error().message();
    EXPECT_THAT(result.error().message(), HasSubstr(c.message_part)) << c.name;
    EXPECT_FALSE(CompiledRuleSet::Compile(c.rules)) << c.name;
  }
}

TEST(TriageValidateTest, BoundsAreTooLarge) {
  RuleSet many{1, {}};
  for (std::size_t i = 0; i <= kMaxTriageRules; ++i)
    many.rules.push_back(Rule("r" + std::to_string(i), {}, {.tlp = "red"}));
  const auto result = Validate(many);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kTooLarge);
  EXPECT_THAT(result.error().message(), HasSubstr("10001 rules; at most 10000"));

  TriageMatch huge;
  for (std::size_t i = 0; i <= kMaxTriageListEntries; ++i) huge.keyword.push_back("k" + std::to_string(i));
  const auto list = Validate(OneRule(huge));
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(list.error().field(), "/rules/0/match/keyword");
}

TEST(TriageValidateTest, AnInvalidEntryNeverMatchesWhenDecidingUnchecked) {
  // Decide() on a set that failed Validate: the unreadable entry is left out, the rest still work.
  const RuleSet rules = OneRule(Ip_({"10.0.0.0/33", "192.0.2.0/24"}));
  ASSERT_FALSE(Validate(rules));
  EXPECT_TRUE(Decide(rules, WithObservable(ObservableType::kIpv4, "192.0.2.1")).matched());
  EXPECT_FALSE(Decide(rules, WithObservable(ObservableType::kIpv4, "10.0.0.1")).matched());
  EXPECT_FALSE(Decide(OneRule(Channel_({"fax"})), WithChannel(Channel::kMail)).matched())
      << "a condition with no readable entry matches nothing";
}

TEST(TriageScaleTest, ManyRulesAndALongBodyDecideQuickly) {
  RuleSet rules{1, {}};
  for (int i = 0; i < 2000; ++i) {
    rules.rules.push_back(Rule("k" + std::to_string(i), Keyword_({"word" + std::to_string(i) + "x"}), {.tlp = "red"}));
  }
  rules.rules.push_back(Rule("last", Keyword_({"needle"}), {.tlp = "green"}));
  auto compiled = CompiledRuleSet::Compile(rules);
  ASSERT_TRUE(compiled);
  std::string body;
  while (body.size() < (4u << 20)) body += "word1 word2 word3 aaaaaaaa ";
  body += "needle";
  const TriageDecision d = compiled->Decide(WithText("", body));
  EXPECT_EQ(d.rule_id, "last");
}

}  // namespace
}  // namespace hikeshi::core
