// Triage through the API, end to end: the rule set that `hikeshi init` stored from its default
// triage.toml, a new version PUT as TOML (a bad one refused naming the rule and key), reports
// triaged as they are filed (a phishing report opens a P2 incident, spam is rejected, the rest stay
// in the untriaged queue), and a handler's override with a reason, audited on the incident's
// timeline. Expected values come from the rule text below and docs/triage.md.

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kRules = R"(# The team's rules after its first review.
[[rule]]
id = "watch-sales"
description = "Advertising mail about watches"
[rule.match]
keyword = ["cheap watches"]
[rule.set]
disposition = "spam"

[[rule]]
id = "phishing"
[rule.match]
keyword = ["フィッシング", "phishing"]
[rule.set]
category = "fraud/phishing"
impact = 2
urgency = 2
playbook = "phishing"
team = "soc"
)";

// The same file with a typo in a category name of the second rule (line 13).
constexpr const char* kBadRules = R"([[rule]]
id = "watch-sales"
[rule.match]
keyword = ["cheap watches"]
[rule.set]
disposition = "spam"

[[rule]]
id = "phishing"
[rule.match]
keyword = ["phishing"]
[rule.set]
category = "fraud/phsihing"
)";

class TriageApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string data = dir_->path().string();
    const auto init = RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    EXPECT_THAT(init.out, HasSubstr("as triage rule set version 1"));
    for (const auto& [name, cidr] : {std::pair{"alpha", "192.0.2.0/24"}, std::pair{"beta", "198.51.100.0/24"}}) {
      const auto r = RunCli({"constituency", "add", "--data", data, name, "--cidr", cidr});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    const std::vector<std::vector<std::string>> users = {{"alice", "handler", "alpha"},
                                                         {"bob", "handler", "beta"},
                                                         {"vic", "viewer", "alpha"},
                                                         {"carl", "constituent", "alpha"}};
    for (const auto& u : users) {
      const auto r = RunCli({"user", "add", "--data", data, u[0], "--role", u[1], "--constituency", u[2]},
                            {{"HIKESHI_PASSWORD", kUserPassword}});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    for (const std::string user : {"admin", "alice", "bob", "vic", "carl"}) {
      const auto r = RunCli({"token", "create", "--data", data, "--user", user});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
      (*tokens_)[user] = r.out.substr(0, r.out.find('\n'));
    }
    server_ = Server::Start(dir_->path()).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Token(const std::string& user) { return tokens_->at(user); }
  static Server& S() { return *server_; }
  static json Get(const std::string& target, const std::string& user = "admin") {
    const auto r = S().Call("GET", target, Token(user));
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Body(r);
  }
  static testing::HttpClientResponse PutToml(const std::string& toml, const std::string& user = "admin",
                                             const std::string& note = "") {
    return S().Call("PUT", "/api/v1/triage/rules" + (note.empty() ? "" : "?note=" + UrlEncode(note)), Token(user), toml,
                    {{"Content-Type", "application/toml"}});
  }
  static json File(const std::string& user, const json& body) {
    const auto r = S().Call("POST", "/api/v1/reports", Token(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }
  static void ExpectProblem(const testing::HttpClientResponse& r, int status, const std::string& field) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << r.body;
    if (!field.empty()) {
      EXPECT_EQ(Body(r).value("field", ""), field) << r.body;
    }
  }

  static TempDir* dir_;
  static Server* server_;
  static std::map<std::string, std::string>* tokens_;
};

TempDir* TriageApiTest::dir_ = nullptr;
Server* TriageApiTest::server_ = nullptr;
std::map<std::string, std::string>* TriageApiTest::tokens_ = new std::map<std::string, std::string>();

TEST_F(TriageApiTest, RulesAreVersionedAndAnInvalidSetIsRefusedNamingTheRuleAndKey) {
  // What init stored: the default triage.toml, as version 1.
  const json initial = Get("/api/v1/triage/rules/versions/1");
  EXPECT_EQ(initial["source"], "file");
  EXPECT_EQ(initial["note"], "loaded from triage.toml");
  EXPECT_THAT(initial["toml"].get<std::string>(), HasSubstr("id = \"phishing\""));

  const auto bad = PutToml(kBadRules);
  ExpectProblem(bad, 400, "/rules/1/set/category");
  const std::string detail = Body(bad).value("detail", "");
  EXPECT_THAT(detail, HasSubstr("line 13"));
  EXPECT_THAT(detail, HasSubstr("rule 'phishing'"));
  EXPECT_THAT(detail, HasSubstr("set.category"));
  ExpectProblem(S().Call("PUT", "/api/v1/triage/rules", Token("admin"), "x = 1", {{"Content-Type", "text/csv"}}), 400,
                "/content-type");

  const auto before = Get("/api/v1/triage/rules/versions")["items"];
  const auto put = PutToml(kRules, "alice", "first review");
  ASSERT_EQ(put.status, 201) << put.body;
  const json stored = Body(put);
  const int version = stored["version"];
  EXPECT_EQ(version, before.back()["version"].get<int>() + 1) << "each edit is the previous version + 1";
  EXPECT_EQ(put.Header("Location"), "/api/v1/triage/rules/versions/" + std::to_string(version));
  EXPECT_EQ(stored["by"], "alice");
  EXPECT_EQ(stored["note"], "first review");
  EXPECT_EQ(stored["toml"], kRules);
  ASSERT_EQ(stored["rules"].size(), 2u);
  EXPECT_EQ(stored["rules"][1]["id"], "phishing");
  EXPECT_EQ(stored["rules"][1]["set"]["impact"], 2);
  EXPECT_EQ(stored["rules"][0]["set"]["disposition"], "spam");

  // The same text again (as JSON this time) is no edit: no new version.
  const auto same =
      S().Call("PUT", "/api/v1/triage/rules", Token("admin"), json{{"toml", kRules}, {"note", "again"}}.dump());
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(Body(same)["version"], version);

  const json current = Get("/api/v1/triage/rules", "vic");
  EXPECT_EQ(current["version"], version);
  EXPECT_EQ(current["toml"], kRules);
  const json versions = Get("/api/v1/triage/rules/versions");
  EXPECT_EQ(versions["items"].size(), before.size() + 1);
  EXPECT_EQ(versions["items"].back()["version"], version);
  EXPECT_FALSE(versions["items"].back().contains("toml")) << "the list is a summary";
  EXPECT_EQ(Get("/api/v1/triage/rules/versions/" + std::to_string(version))["toml"], kRules);
  ExpectProblem(S().Call("GET", "/api/v1/triage/rules/versions/99", Token("admin")), 404, "");

  ExpectProblem(PutToml(kRules + std::string("\n# viewer\n"), "vic"), 403, "");
  ExpectProblem(S().Call("GET", "/api/v1/triage/rules", Token("carl")), 403, "");
}

TEST_F(TriageApiTest, ReportsAreTriagedAsTheyAreFiledAndOverridesNeedAReason) {
  const auto put = PutToml(kRules, "admin");
  ASSERT_TRUE(put.status == 200 || put.status == 201) << put.body;
  const int version = Body(put)["version"];

  // A phishing report: triaged at once to a P2 incident opened from it.
  const json phishing = File("alice", {{"subject", "フィッシングメールの報告"},
                                       {"body", "偽のログインページ hxxp://login.example-univ.example へ誘導"},
                                       {"constituency", "alpha"}});
  EXPECT_EQ(phishing["status"], "linked");
  EXPECT_EQ(phishing["category"], "fraud/phishing");
  ASSERT_TRUE(phishing["incident"].is_string()) << phishing.dump();
  const std::string incident_id = phishing["incident"];
  const json incident = Get("/api/v1/incidents/" + incident_id);
  EXPECT_EQ(incident["title"], "フィッシングメールの報告");
  EXPECT_EQ(incident["priority"], "P2");
  EXPECT_EQ(incident["category"], "fraud/phishing");
  EXPECT_EQ(incident["constituency"], "alpha");

  const std::string report_id = phishing["id"];
  const json decision = Get("/api/v1/reports/" + report_id + "/triage", "alice");
  EXPECT_EQ(decision["state"], "auto");
  EXPECT_EQ(decision["rule_id"], "phishing");
  EXPECT_EQ(decision["rule_set_version"], version);
  EXPECT_EQ(decision["decision"]["priority"], "P2");
  EXPECT_EQ(decision["decision"]["playbook"], "phishing");
  EXPECT_EQ(decision["decision"]["team"], "soc");
  EXPECT_EQ(decision["incident"], incident_id);
  EXPECT_THAT(decision["explanation"].get<std::string>(), HasSubstr("フィッシング"));
  // Outside bob's constituencies the report does not exist for him.
  ExpectProblem(S().Call("GET", "/api/v1/reports/" + report_id + "/triage", Token("bob")), 404, "");

  // Spam: rejected with that reason, no incident.
  const json spam = File("alice", {{"subject", "Cheap watches for you"}, {"constituency", "alpha"}});
  EXPECT_EQ(spam["status"], "rejected");
  EXPECT_EQ(spam["reject_reason"], "spam");
  EXPECT_TRUE(spam["incident"].is_null());

  // Nothing matched: untriaged, listed in the queue of new reports.
  const json other = File("alice", {{"subject", "Printer sends odd packets"}, {"constituency", "alpha"}});
  EXPECT_EQ(other["status"], "new");
  EXPECT_EQ(Get("/api/v1/reports/" + other["id"].get<std::string>() + "/triage")["state"], "untriaged");
  std::set<std::string> queue;
  const json listed = Get("/api/v1/reports?status=new&limit=500");
  for (const auto& r : listed["items"]) queue.insert(r["id"]);
  EXPECT_TRUE(queue.contains(other["id"]));
  EXPECT_FALSE(queue.contains(report_id));
  EXPECT_FALSE(queue.contains(spam["id"]));

  // An override must say why.
  const std::string path = "/api/v1/reports/" + report_id + "/triage";
  ExpectProblem(S().Call("POST", path, Token("alice"), R"({"impact":1,"urgency":1})"), 400, "/reason");
  ExpectProblem(S().Call("POST", path, Token("alice"), R"({"impact":1,"urgency":1,"reason":"  "})"), 400, "/reason");
  ExpectProblem(S().Call("POST", path, Token("alice"), R"({"impact":5,"reason":"x"})"), 400, "/impact");
  ExpectProblem(S().Call("POST", path, Token("vic"), R"({"impact":1,"reason":"x"})"), 403, "");
  EXPECT_EQ(Get("/api/v1/incidents/" + incident_id)["priority"], "P2") << "refused overrides change nothing";

  const auto overridden = S().Call("POST", path, Token("alice"),
                                   R"({"impact":1,"urgency":1,"reason":"職員のパスワードが入力された: 緊急"})");
  ASSERT_EQ(overridden.status, 200) << overridden.body;
  const json record = Body(overridden);
  EXPECT_EQ(record["state"], "overridden");
  EXPECT_EQ(record["rule_id"], "phishing") << "the automatic decision stays on record";
  ASSERT_EQ(record["overrides"].size(), 1u);
  EXPECT_EQ(record["overrides"][0]["by"], "alice");
  EXPECT_EQ(record["overrides"][0]["reason"], "職員のパスワードが入力された: 緊急");
  EXPECT_EQ(record["overrides"][0]["changes"][0], (json{{"field", "impact"}, {"from", "2"}, {"to", "1"}}));
  EXPECT_EQ(Get("/api/v1/incidents/" + incident_id)["priority"], "P1");
  EXPECT_EQ(Get(path)["overrides"].size(), 1u);

  // Audited, on the incident's timeline: the automatic decision and the override.
  std::vector<std::string> timeline;
  const json entries = Get("/api/v1/incidents/" + incident_id + "/timeline");
  for (const auto& e : entries["items"]) {
    timeline.push_back(e["action"].get<std::string>() + " by " + e["actor"].get<std::string>());
  }
  EXPECT_THAT(timeline, ::testing::IsSupersetOf({"incident.create by triage", "report.link by triage",
                                                 "triage.create by triage", "triage.override by alice"}));

  // Not spam after all: the override takes the rejection back, and the report is new again.
  const auto unspam = S().Call("POST", "/api/v1/reports/" + spam["id"].get<std::string>() + "/triage", Token("alice"),
                               R"({"disposition":"none","reason":"a customer's real complaint"})");
  ASSERT_EQ(unspam.status, 200) << unspam.body;
  EXPECT_EQ(Get("/api/v1/reports/" + spam["id"].get<std::string>())["status"], "new");

  const auto verify = RunCli({"audit", "verify", "--data", dir_->path().string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.err;
}

}  // namespace
}  // namespace hikeshi::e2e
