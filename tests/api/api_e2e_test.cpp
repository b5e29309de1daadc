// The REST API end to end: the real `hikeshi` binary, real HTTP on loopback. Covers every
// endpoint, the constituency scoping rule, sessions with CSRF, and every bad-input case, each of
// which must answer problem+json naming the field and leave the store unchanged.

#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string data = dir_->path().string();
    const auto init = RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    for (const auto& [name, cidr] : {std::pair{"alpha", "192.0.2.0/24"}, std::pair{"beta", "198.51.100.0/24"}}) {
      const auto r = RunCli({"constituency", "add", "--data", data, name, "--cidr", cidr});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    const std::vector<std::vector<std::string>> users = {{"alice", "handler", "alpha"},
                                                         {"bob", "handler", "beta"},
                                                         {"vic", "viewer", "alpha"},
                                                         {"carl", "constituent", "alpha"},
                                                         {"tess", "handler", "alpha"}};
    for (const auto& u : users) {
      const auto r = RunCli({"user", "add", "--data", data, u[0], "--role", u[1], "--constituency", u[2]},
                            {{"HIKESHI_PASSWORD", kUserPassword}});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    for (const std::string user : {"admin", "alice", "bob", "vic", "carl"}) {
      const auto r = RunCli({"token", "create", "--data", data, "--user", user});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
      std::string token = r.out;
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      ASSERT_TRUE(token.starts_with("hks_")) << token;
      (*tokens_)[user] = token;
    }
    server_ = Server::Start(dir_->path(), {"--max-body-bytes", "65536", "--request-timeout-ms", "1500"}).release();
    ASSERT_NE(server_, nullptr);
  }

  static void TearDownTestSuite() {
    if (server_) {
      const auto status = server_->Stop();
      EXPECT_TRUE(status.Succeeded()) << "SIGTERM should stop the server cleanly: " << status.ToString();
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Token(const std::string& user) { return tokens_->at(user); }
  static Server& S() { return *server_; }

  static json CreateIncident(const std::string& user, json body, int expect = 201) {
    const auto r = S().Call("POST", "/api/v1/incidents", Token(user), body.dump());
    EXPECT_EQ(r.status, expect) << r.body;
    return Body(r);
  }
  static json CreateReport(const std::string& user, json body) {
    const auto r = S().Call("POST", "/api/v1/reports", Token(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }
  static std::set<std::string> Ids(const json& list) {
    std::set<std::string> out;
    for (const auto& item : list["items"]) out.insert(item["id"].get<std::string>());
    return out;
  }
  // Everything the admin can see: used to prove that a refused request changed nothing.
  static std::string StoreState() {
    const auto incidents = S().Call("GET", "/api/v1/incidents?limit=500", Token("admin"));
    const auto reports = S().Call("GET", "/api/v1/reports?limit=500", Token("admin"));
    return incidents.body + reports.body;
  }
  static void ExpectProblem(const testing::HttpClientResponse& r, int status, const std::string& field) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json") << r.body;
    const auto problem = Body(r);
    ASSERT_TRUE(problem.is_object()) << r.body;
    EXPECT_EQ(problem["status"], status);
    EXPECT_TRUE(problem["detail"].is_string() && !problem["detail"].get<std::string>().empty());
    if (!field.empty()) {
      EXPECT_EQ(problem.value("field", ""), field) << r.body;
    }
  }

  static TempDir* dir_;
  static Server* server_;
  static std::map<std::string, std::string>* tokens_;
};

TempDir* ApiTest::dir_ = nullptr;
Server* ApiTest::server_ = nullptr;
std::map<std::string, std::string>* ApiTest::tokens_ = new std::map<std::string, std::string>();

const json kPhishing = {{"title", "Phishing site imitating the university portal"},
                        {"category", "fraud/phishing"},
                        {"constituency", "alpha"},
                        {"impact", 2},
                        {"urgency", 2},
                        {"observables", json::array({{{"type", "url"}, {"value", "HXXP://Portal.Example.COM/login"}},
                                                     {{"type", "ipv4"}, {"value", "192.0.2.66"}}})}};

TEST_F(ApiTest, IncidentIsCreatedReadAndListedWithItsFields) {
  json body = kPhishing;
  body["owner"] = "alice";
  body["tlp"] = "amber+strict";
  const json created = CreateIncident("alice", body);
  const std::string id = created["id"];
  EXPECT_TRUE(id.starts_with("I-20")) << id;
  EXPECT_EQ(id.size(), 13u);
  EXPECT_EQ(created["priority"], "P2");  // impact 2 x urgency 2
  EXPECT_EQ(created["status"], "open");
  EXPECT_EQ(created["phase"], "triage");
  EXPECT_EQ(created["guide_category"], "Phishing");
  EXPECT_EQ(created["tlp"], "TLP:AMBER+STRICT");
  EXPECT_EQ(created["owner"], "alice");
  EXPECT_EQ(created["constituency"], "alpha");
  // The defanged scheme is kept as given, but scheme and host are normalised to lower case.
  EXPECT_EQ(created["observables"][1], json({{"type", "ipv4"}, {"value", "192.0.2.66"}}));

  const auto got = S().Call("GET", "/api/v1/incidents/" + id, Token("alice"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Body(got)["title"], kPhishing["title"]);

  const auto listed =
      S().Call("GET", "/api/v1/incidents?status=open&category=fraud&priority=P2&owner=alice", Token("alice"));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(Ids(Body(listed)).contains(id));
  const auto other = S().Call("GET", "/api/v1/incidents?category=availability/ddos", Token("alice"));
  EXPECT_FALSE(Ids(Body(other)).contains(id));
}

TEST_F(ApiTest, GuideCategoryAptIsRecordedAsIntrusionWithTheAptFlag) {
  json body = kPhishing;
  body["category"] = "APT";
  const json created = CreateIncident("alice", body);
  EXPECT_EQ(created["category"], "intrusions/system-compromise");
  EXPECT_EQ(created["apt"], true);
  EXPECT_EQ(created["guide_category"], "APT");
}

TEST_F(ApiTest, StatusAndPhaseFollowTheStateMachine) {
  const std::string id = CreateIncident("alice", kPhishing)["id"];
  const auto path = "/api/v1/incidents/" + id;
  auto r = S().Call("PATCH", path, Token("alice"), R"({"phase":"analysis"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["phase"], "analysis");
  r = S().Call("PATCH", path, Token("alice"), R"({"status":"resolved"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Body(r)["resolved_at"].is_string());
  r = S().Call("PATCH", path, Token("alice"), R"({"status":"closed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = S().Call("PATCH", path, Token("alice"), R"({"status":"open"})");  // a closed incident can be reopened
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Body(r)["resolved_at"].is_null());
  r = S().Call("PATCH", path, Token("alice"), R"({"impact":1,"urgency":1,"title":"Phishing, now urgent"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["priority"], "P1");

  const auto timeline = S().Call("GET", path + "/timeline", Token("alice"));
  ASSERT_EQ(timeline.status, 200);
  // The incident's own entries; the tasks its category's playbook gave it are on the timeline too.
  const json all = Body(timeline);
  json items = json::array();
  for (const auto& e : all["items"]) {
    if (e["object_type"] == "incident") items.push_back(e);
  }
  std::vector<std::string> actions;
  for (const auto& e : items) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"incident.create", "incident.update", "incident.resolve",
                                               "incident.close", "incident.reopen", "incident.update"}));
  EXPECT_EQ(items[1]["changes"]["phase"], json({{"from", "triage"}, {"to", "analysis"}}));
  EXPECT_EQ(items[0]["actor"], "alice");
}

TEST_F(ApiTest, IllegalTransitionsAreRefusedAndChangeNothing) {
  const std::string id = CreateIncident("alice", kPhishing)["id"];
  const auto path = "/api/v1/incidents/" + id;
  const std::string before = StoreState();
  const auto entries = Body(S().Call("GET", path + "/timeline", Token("alice")))["items"].size();
  ExpectProblem(S().Call("PATCH", path, Token("alice"), R"({"status":"closed"})"), 409, "/status");
  ExpectProblem(S().Call("PATCH", path, Token("alice"), R"({"phase":"containment"})"), 409, "/phase");
  // Both parts of a patch or neither: the legal title change is not applied with the illegal status.
  ExpectProblem(S().Call("PATCH", path, Token("alice"), R"({"title":"changed","status":"closed"})"), 409, "/status");
  EXPECT_EQ(StoreState(), before);
  EXPECT_EQ(Body(S().Call("GET", path + "/timeline", Token("alice")))["items"].size(), entries);
}

TEST_F(ApiTest, ReportsAreFiledLinkedAndRejected) {
  const std::string incident = CreateIncident("alice", kPhishing)["id"];
  const json report = CreateReport("alice", {{"channel", "phone"},
                                             {"reporter", "helpdesk@example.ac.jp"},
                                             {"subject", "偽ログインページの報告"},
                                             {"body", "学生からの連絡: hxxp://portal.example.com"},
                                             {"constituency", "alpha"}});
  const std::string rid = report["id"];
  EXPECT_TRUE(rid.starts_with("R-20")) << rid;
  EXPECT_EQ(report["status"], "new");
  EXPECT_EQ(report["channel"], "phone");

  auto r = S().Call("POST", "/api/v1/reports/" + rid + "/link", Token("alice"), json({{"incident", incident}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["status"], "linked");
  EXPECT_EQ(Body(r)["incident"], incident);
  // Linking shows on the incident's timeline, and the report lists under the incident.
  const auto timeline = Body(S().Call("GET", "/api/v1/incidents/" + incident + "/timeline", Token("alice")));
  EXPECT_EQ(timeline["items"].back()["action"], "report.link");
  const auto under = Body(S().Call("GET", "/api/v1/reports?incident=" + incident, Token("alice")));
  EXPECT_EQ(Ids(under), std::set<std::string>{rid});
  // A linked report cannot be linked or rejected again.
  ExpectProblem(S().Call("POST", "/api/v1/reports/" + rid + "/reject", Token("alice"), R"({"reason":"spam"})"), 409,
                "/status");

  const std::string spam = CreateReport("alice", {{"subject", "Cheap watches"}, {"constituency", "alpha"}})["id"];
  ExpectProblem(S().Call("POST", "/api/v1/reports/" + spam + "/reject", Token("alice"), R"({"reason":"boring"})"), 400,
                "/reason");
  r = S().Call("POST", "/api/v1/reports/" + spam + "/reject", Token("alice"), R"({"reason":"spam","comment":"UCE"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["status"], "rejected");
  EXPECT_EQ(Body(r)["reject_reason"], "spam");
  const auto rejected = Body(S().Call("GET", "/api/v1/reports?status=rejected", Token("alice")));
  EXPECT_TRUE(Ids(rejected).contains(spam));
  EXPECT_FALSE(Ids(rejected).contains(rid));
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/reports/" + spam, Token("alice")))["reject_comment"], "UCE");
}

TEST_F(ApiTest, PaginationReturnsEveryIncidentOnceNewestFirst) {
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    json body = kPhishing;
    body["title"] = "paging-marker incident " + std::to_string(i);
    created.push_back(CreateIncident("alice", body)["id"]);
  }
  std::vector<std::string> seen;
  std::string target = "/api/v1/incidents?q=paging-marker&limit=3";
  int pages = 0;
  for (;;) {
    const auto r = S().Call("GET", target, Token("alice"));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = Body(r);
    for (const auto& item : page["items"]) seen.push_back(item["id"]);
    ++pages;
    if (page["next_cursor"].is_null()) break;
    target = "/api/v1/incidents?q=paging-marker&limit=3&cursor=" + page["next_cursor"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::string>(created.rbegin(), created.rend()));
}

TEST_F(ApiTest, FullTextSearchFindsJapaneseWordsOfTwoAndThreeCharactersAndEnglish) {
  json body = kPhishing;
  body["title"] = "不正アクセスによる情報漏えいの報告";
  body["description"] = "Suspicious login from abroad detected by the SOC";
  const std::string id = CreateIncident("alice", body)["id"];
  for (const std::string q : {"漏えい", "報告", "不正アクセス", "abroad", "SOC", "suspicious login"}) {
    const auto r = S().Call("GET", "/api/v1/incidents?q=" + UrlEncode(q), Token("alice"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(Ids(Body(r)).contains(id)) << "query " << q;
  }
  for (const std::string q : {"侵入", "改ざん", "abroadly"}) {
    const auto r = S().Call("GET", "/api/v1/incidents?q=" + UrlEncode(q), Token("alice"));
    EXPECT_FALSE(Ids(Body(r)).contains(id)) << "query " << q;
  }
}

TEST_F(ApiTest, ScopedHandlerCannotSeeAnotherConstituencysIncidentAnyWay) {
  json secret = kPhishing;
  secret["constituency"] = "beta";
  secret["title"] = "betaonlyword 侵害";
  const std::string beta_id = CreateIncident("bob", secret)["id"];
  const std::string beta_report = CreateReport("bob", {{"subject", "betaonlyword report"}})["id"];
  const std::string alpha_id = CreateIncident("alice", kPhishing)["id"];

  // get, timeline, change, link: 404 exactly as for an id that does not exist
  ExpectProblem(S().Call("GET", "/api/v1/incidents/" + beta_id, Token("alice")), 404, "");
  ExpectProblem(S().Call("GET", "/api/v1/incidents/" + beta_id + "/timeline", Token("alice")), 404, "");
  ExpectProblem(S().Call("PATCH", "/api/v1/incidents/" + beta_id, Token("alice"), R"({"title":"x"})"), 404, "");
  ExpectProblem(S().Call("GET", "/api/v1/reports/" + beta_report, Token("alice")), 404, "");
  ExpectProblem(S().Call("POST", "/api/v1/reports/" + beta_report + "/link", Token("alice"),
                         json({{"incident", alpha_id}}).dump()),
                404, "");
  const auto missing = S().Call("GET", "/api/v1/incidents/I-2026-999999", Token("alice"));
  EXPECT_EQ(missing.status, 404);
  // list and search
  const auto listed = Body(S().Call("GET", "/api/v1/incidents?limit=500", Token("alice")));
  EXPECT_FALSE(Ids(listed).contains(beta_id));
  EXPECT_TRUE(Ids(listed).contains(alpha_id));
  EXPECT_TRUE(Body(S().Call("GET", "/api/v1/incidents?q=betaonlyword", Token("alice")))["items"].empty());
  EXPECT_TRUE(Body(S().Call("GET", "/api/v1/reports?q=betaonlyword", Token("alice")))["items"].empty());
  ExpectProblem(S().Call("GET", "/api/v1/incidents?constituency=beta", Token("alice")), 404, "/constituency");
  // Opening an incident in a constituency outside the scope is refused the same way.
  json elsewhere = kPhishing;
  elsewhere["constituency"] = "beta";
  ExpectProblem(S().Call("POST", "/api/v1/incidents", Token("alice"), elsewhere.dump()), 404, "/constituency");
  // The constituency list shows only alpha; bob sees his own incident; the admin sees both.
  const auto constituencies = Body(S().Call("GET", "/api/v1/constituencies", Token("alice")));
  ASSERT_EQ(constituencies["items"].size(), 1u);
  EXPECT_EQ(constituencies["items"][0]["name"], "alpha");
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + beta_id, Token("bob")).status, 200);
  const auto all = Body(S().Call("GET", "/api/v1/incidents?limit=500", Token("admin")));
  EXPECT_TRUE(Ids(all).contains(beta_id));
  EXPECT_TRUE(Ids(all).contains(alpha_id));
  // The admin may filter by either constituency and gets exactly that one's incidents.
  const auto only_beta = Body(S().Call("GET", "/api/v1/incidents?constituency=beta&limit=500", Token("admin")));
  EXPECT_TRUE(Ids(only_beta).contains(beta_id));
  EXPECT_FALSE(Ids(only_beta).contains(alpha_id));
  for (const auto& item : only_beta["items"]) EXPECT_EQ(item["constituency"], "beta");
}

// TLP:RED is for its named recipients only: a constituent (an outside party) does not see the RED
// incidents and reports of their own constituency by any route, exactly as if they did not exist,
// while the team of that constituency does.
TEST_F(ApiTest, ConstituentCannotSeeRedIncidentsAndReportsOfTheirOwnConstituency) {
  json red = kPhishing;
  red["title"] = "redtlpword from a partner team";
  red["tlp"] = "red";
  red["observables"] = json::array({{{"type", "ipv4"}, {"value", "192.0.2.99"}}});
  const std::string red_id = CreateIncident("alice", red)["id"];
  json amber = red;
  amber["tlp"] = "amber";
  const std::string amber_id = CreateIncident("alice", amber)["id"];
  json strict = red;
  strict["tlp"] = "amber+strict";
  const std::string strict_id = CreateIncident("alice", strict)["id"];
  const std::string red_report =
      CreateReport("alice", {{"subject", "redtlpword report"}, {"constituency", "alpha"}, {"tlp", "red"}})["id"];
  const std::string amber_report =
      CreateReport("alice", {{"subject", "redtlpword report"}, {"constituency", "alpha"}, {"tlp", "amber"}})["id"];

  // The RED objects answer 404 with every sub-resource, like an id that does not exist.
  for (const std::string& path : {"/api/v1/incidents/" + red_id, "/api/v1/incidents/" + red_id + "/timeline",
                                  "/api/v1/incidents/" + red_id + "/mail", "/api/v1/reports/" + red_report,
                                  "/api/v1/reports/" + red_report + "/mail"}) {
    ExpectProblem(S().Call("GET", path, Token("carl")), 404, "");
  }
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + amber_id, Token("carl")).status, 200);
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + strict_id, Token("carl")).status, 200);
  EXPECT_EQ(S().Call("GET", "/api/v1/reports/" + amber_report, Token("carl")).status, 200);
  // Lists, search and the observable pivot leave them out.
  const auto listed = Ids(Body(S().Call("GET", "/api/v1/incidents?limit=500", Token("carl"))));
  EXPECT_FALSE(listed.contains(red_id));
  EXPECT_TRUE(listed.contains(amber_id));
  EXPECT_TRUE(listed.contains(strict_id));
  EXPECT_EQ(Ids(Body(S().Call("GET", "/api/v1/incidents?q=redtlpword", Token("carl")))),
            (std::set<std::string>{amber_id, strict_id}));
  EXPECT_EQ(Ids(Body(S().Call("GET", "/api/v1/reports?q=redtlpword", Token("carl")))),
            std::set<std::string>{amber_report});
  const auto pivot = Body(S().Call("GET", "/api/v1/observables/192.0.2.99", Token("carl")));
  std::set<std::string> pivoted;
  for (const auto& i : pivot["incidents"]) pivoted.insert(i["id"].get<std::string>());
  EXPECT_EQ(pivoted, (std::set<std::string>{amber_id, strict_id}));

  // The team of alpha sees all of them: a handler and a viewer.
  for (const std::string user : {"alice", "vic"}) {
    EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + red_id, Token(user)).status, 200) << user;
    EXPECT_EQ(S().Call("GET", "/api/v1/reports/" + red_report, Token(user)).status, 200) << user;
    EXPECT_TRUE(Ids(Body(S().Call("GET", "/api/v1/incidents?limit=500", Token(user)))).contains(red_id)) << user;
  }

  // A RED report linked to an AMBER incident stays off the constituent's view of its timeline.
  const auto linked = S().Call("POST", "/api/v1/reports/" + red_report + "/link", Token("alice"),
                               json({{"incident", amber_id}}).dump());
  ASSERT_EQ(linked.status, 200) << linked.body;
  const auto mentions_red_report = [&](const std::string& user) {
    const auto timeline = Body(S().Call("GET", "/api/v1/incidents/" + amber_id + "/timeline", Token(user)));
    EXPECT_FALSE(timeline["items"].empty()) << user;
    for (const auto& e : timeline["items"]) {
      if (e["object_id"] == red_report) return true;
    }
    return false;
  };
  EXPECT_TRUE(mentions_red_report("alice"));
  EXPECT_FALSE(mentions_red_report("carl"));

  // A link from the AMBER incident to the RED one: the constituent sees neither the link nor, on
  // the timeline, the RED incident's id; the handler sees both.
  const auto link = S().Call("POST", "/api/v1/incidents/" + amber_id + "/links", Token("alice"),
                             json({{"incident", red_id}, {"relation", "related"}}).dump());
  ASSERT_EQ(link.status, 201) << link.body;
  const auto timeline_names_red = [&](const std::string& user) {
    const auto timeline = S().Call("GET", "/api/v1/incidents/" + amber_id + "/timeline", Token(user));
    EXPECT_EQ(timeline.status, 200) << user;
    return timeline.body.find(red_id) != std::string::npos;
  };
  EXPECT_TRUE(timeline_names_red("alice"));
  EXPECT_FALSE(timeline_names_red("carl"));
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/incidents/" + amber_id + "/links", Token("alice")))["items"].size(), 1u);
  EXPECT_TRUE(Body(S().Call("GET", "/api/v1/incidents/" + amber_id + "/links", Token("carl")))["items"].empty());

  // Raising an incident to RED takes it away from the constituent at once.
  const auto raised = S().Call("PATCH", "/api/v1/incidents/" + amber_id, Token("alice"), R"({"tlp":"TLP:RED"})");
  ASSERT_EQ(raised.status, 200) << raised.body;
  ExpectProblem(S().Call("GET", "/api/v1/incidents/" + amber_id, Token("carl")), 404, "");
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + amber_id, Token("alice")).status, 200);
}

// A constituent cannot file a report they would not be allowed to read back: TLP:RED is refused
// with the reason and the highest label they may give, and nothing is stored; AMBER+STRICT is
// filed and stays theirs to open.
TEST_F(ApiTest, ConstituentIsToldInsteadOfFilingARedReportTheyCouldNotOpen) {
  const std::string before = StoreState();
  const json body = {{"subject", "redfiledword a partner's secret"}, {"constituency", "alpha"}, {"tlp", "TLP:RED"}};
  const auto refused = S().Call("POST", "/api/v1/reports", Token("carl"), body.dump());
  ExpectProblem(refused, 400, "/tlp");
  EXPECT_NE(Body(refused)["detail"].get<std::string>().find("TLP:AMBER+STRICT"), std::string::npos) << refused.body;
  EXPECT_EQ(StoreState(), before);

  json strict = body;
  strict["tlp"] = "TLP:AMBER+STRICT";
  const std::string id = CreateReport("carl", strict)["id"];
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/reports/" + id, Token("carl")))["tlp"], "TLP:AMBER+STRICT");
  // A handler may still file a RED report.
  EXPECT_EQ(CreateReport("alice", body)["tlp"], "TLP:RED");
}

TEST_F(ApiTest, RolesLimitWhatUsersMayDo) {
  const std::string id = CreateIncident("alice", kPhishing)["id"];
  // A viewer reads but does not change.
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + id, Token("vic")).status, 200);
  ExpectProblem(S().Call("PATCH", "/api/v1/incidents/" + id, Token("vic"), R"({"title":"x"})"), 403, "");
  ExpectProblem(S().Call("POST", "/api/v1/incidents", Token("vic"), kPhishing.dump()), 403, "");
  // A constituent files reports into their own constituency, but does not triage.
  const json report = CreateReport("carl", {{"subject", "Our mail server sends spam"}});
  EXPECT_EQ(report["constituency"], "alpha");
  ExpectProblem(S().Call("POST", "/api/v1/reports/" + report["id"].get<std::string>() + "/reject", Token("carl"),
                         R"({"reason":"spam"})"),
                403, "");
  // Only admins add constituencies and users.
  ExpectProblem(S().Call("POST", "/api/v1/constituencies", Token("alice"), R"({"name":"gamma"})"), 403, "");
  const auto added =
      S().Call("POST", "/api/v1/constituencies", Token("admin"),
               R"({"name":"gamma","cidrs":["203.0.113.77/24"],"asns":["AS64500"],"domains":["Gamma.Example."]})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(Body(added)["cidrs"], json::array({"203.0.113.0/24"}));
  EXPECT_EQ(Body(added)["domains"], json::array({"gamma.example"}));
  ExpectProblem(S().Call("POST", "/api/v1/constituencies", Token("admin"), R"({"name":"gamma"})"), 409, "");
  ExpectProblem(
      S().Call("POST", "/api/v1/constituencies", Token("admin"), R"({"name":"delta","cidrs":["10.0.0.0/33"]})"), 400,
      "/cidrs/0");
}

// The trust circle: who introduced whom and how far a contact is trusted, changed by handlers of
// the contact's constituency only, journaled as contact.update.
TEST_F(ApiTest, ContactTrustAndIntroducerArePatchedByHandlersInScopeOnly) {
  const auto add = [](const std::string& user, json body) {
    const auto r = S().Call("POST", "/api/v1/contacts", Token(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  };
  const json peer = add("admin", {{"name", "Peer CSIRT"}, {"email", "csirt@peer.example"}, {"trust", "vetted"}});
  EXPECT_EQ(peer["trust"], "vetted");
  EXPECT_EQ(peer["introduced_by"], nullptr);
  const json noc = add("alice", {{"name", "Alpha NOC"}, {"email", "noc@alpha.example"}});
  EXPECT_EQ(noc["trust"], "unvetted");
  EXPECT_EQ(noc["constituency"], "alpha");
  const json beta = add("bob", {{"name", "Beta NOC"}, {"email", "noc@beta.example"}});
  const std::string noc_url = "/api/v1/contacts/" + std::to_string(noc["id"].get<std::int64_t>());

  const json change = {{"trust", "introduced"},
                       {"introduced_by", peer["id"]},
                       {"tlp_clearance", "TLP:AMBER"},
                       {"organisation", "Alpha University"},
                       {"name", "Alpha NOC desk"}};
  // A viewer and a constituent may not; a handler of another constituency does not even see it.
  ExpectProblem(S().Call("PATCH", noc_url, Token("vic"), change.dump()), 403, "");
  ExpectProblem(S().Call("PATCH", noc_url, Token("carl"), change.dump()), 403, "");
  ExpectProblem(S().Call("PATCH", noc_url, Token("bob"), change.dump()), 404, "");
  // Bad values name the field; an introducer out of sight or the contact itself is refused.
  ExpectProblem(S().Call("PATCH", noc_url, Token("alice"), json{{"trust", "best-friend"}}.dump()), 400, "/trust");
  ExpectProblem(S().Call("PATCH", noc_url, Token("alice"), json{{"introduced_by", noc["id"]}}.dump()), 400,
                "/introduced_by");
  ExpectProblem(S().Call("PATCH", noc_url, Token("alice"), json{{"introduced_by", beta["id"]}}.dump()), 400,
                "/introduced_by");
  ExpectProblem(S().Call("PATCH", noc_url, Token("alice"), json{{"email", "x@example.net"}}.dump()), 400, "/email");
  const json unchanged = Body(S().Call("GET", noc_url, Token("alice")));
  EXPECT_EQ(unchanged["trust"], "unvetted");
  EXPECT_EQ(unchanged["name"], "Alpha NOC");

  const auto patched = S().Call("PATCH", noc_url, Token("alice"), change.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  const json after = Body(S().Call("GET", noc_url, Token("alice")));
  EXPECT_EQ(after["trust"], "introduced");
  EXPECT_EQ(after["introduced_by"], peer["id"]);
  EXPECT_EQ(after["tlp_clearance"], "TLP:AMBER");
  EXPECT_EQ(after["organisation"], "Alpha University");
  EXPECT_EQ(after["name"], "Alpha NOC desk");
  EXPECT_EQ(after["email"], "noc@alpha.example");

  // Clearing the introducer with null.
  const auto cleared = S().Call("PATCH", noc_url, Token("alice"), json{{"introduced_by", nullptr}}.dump());
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(Body(cleared)["introduced_by"], nullptr);
  EXPECT_EQ(Body(cleared)["trust"], "introduced");

  // Journaled: audit verify finds every contact as its last journal entry says.
  const auto verify = RunCli({"audit", "verify", "--data", dir_->path().string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.out << verify.err;
}

TEST_F(ApiTest, UsersAndTokensCanBeManagedThroughTheApi) {
  const auto created = S().Call(
      "POST", "/api/v1/users", Token("admin"),
      json({{"username", "dana"}, {"password", kUserPassword}, {"role", "handler"}, {"constituencies", {"beta"}}})
          .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["constituencies"], json::array({"beta"}));
  EXPECT_FALSE(created.body.find("argon2") != std::string::npos);
  ExpectProblem(
      S().Call("POST", "/api/v1/users", Token("admin"),
               json({{"username", "erin"}, {"password", "short"}, {"role", "handler"}, {"constituencies", {"beta"}}})
                   .dump()),
      400, "/password");
  const auto token = S().Call("POST", "/api/v1/tokens", Token("admin"), R"({"username":"dana","name":"script"})");
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string secret = Body(token)["token"];
  const auto me = S().Call("GET", "/api/v1/session", secret);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Body(me)["user"]["username"], "dana");
  // Non-admins issue tokens only for themselves.
  ExpectProblem(S().Call("POST", "/api/v1/tokens", Token("alice"), R"({"username":"bob"})"), 403, "");
  const auto users = Body(S().Call("GET", "/api/v1/users", Token("admin")));
  EXPECT_GE(users["items"].size(), 6u);
}

TEST_F(ApiTest, SessionLoginSetsAHardenedCookieAndRequiresCsrfForChanges) {
  const auto login =
      S().Call("POST", "/api/v1/session", "", json({{"username", "alice"}, {"password", kUserPassword}}).dump());
  ASSERT_EQ(login.status, 200) << login.body;
  std::string session_cookie;
  for (const auto& c : login.Headers("Set-Cookie")) {
    if (c.starts_with("hikeshi_session=")) session_cookie = c;
  }
  ASSERT_FALSE(session_cookie.empty());
  EXPECT_NE(session_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(session_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string cookie = session_cookie.substr(0, session_cookie.find(';'));
  const std::string csrf = Body(login)["csrf_token"];
  ASSERT_FALSE(csrf.empty());

  const auto me = S().Call("GET", "/api/v1/session", "", "", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Body(me)["user"]["username"], "alice");
  EXPECT_EQ(Body(me)["csrf_token"], csrf);
  // Reads need no CSRF token; changes do.
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents", "", "", {{"Cookie", cookie}}).status, 200);
  ExpectProblem(S().Call("POST", "/api/v1/incidents", "", kPhishing.dump(), {{"Cookie", cookie}}), 403, "");
  ExpectProblem(
      S().Call("POST", "/api/v1/incidents", "", kPhishing.dump(), {{"Cookie", cookie}, {"X-CSRF-Token", "forged"}}),
      403, "");
  EXPECT_EQ(
      S().Call("POST", "/api/v1/incidents", "", kPhishing.dump(), {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status,
      201);
  // Logout ends the session.
  EXPECT_EQ(S().Call("DELETE", "/api/v1/session", "", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 204);
  ExpectProblem(S().Call("GET", "/api/v1/session", "", "", {{"Cookie", cookie}}), 401, "");
}

TEST_F(ApiTest, WrongCredentialsAreRefusedAndRepeatedFailuresThrottled) {
  ExpectProblem(S().Call("GET", "/api/v1/incidents", ""), 401, "");
  ExpectProblem(S().Call("GET", "/api/v1/incidents", "hks_not-a-real-token"), 401, "");
  const auto wrong = json({{"username", "tess"}, {"password", "wrong password!!"}}).dump();
  for (int i = 0; i < 5; ++i) ExpectProblem(S().Call("POST", "/api/v1/session", "", wrong), 401, "");
  // Locked now, even with the right password.
  const auto right = json({{"username", "tess"}, {"password", kUserPassword}}).dump();
  ExpectProblem(S().Call("POST", "/api/v1/session", "", right), 429, "");
  // An unknown user gets the same answer as a wrong password.
  const auto unknown =
      S().Call("POST", "/api/v1/session", "", json({{"username", "nobody"}, {"password", "whatever-password"}}).dump());
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Body(unknown)["detail"], "wrong username or password");
}

TEST_F(ApiTest, BadInputIsRefusedWithProblemJsonNamingTheFieldAndWritesNothing) {
  const std::string before = StoreState();
  const auto post = [](const std::string& body) { return S().Call("POST", "/api/v1/incidents", Token("alice"), body); };
  // malformed JSON
  auto r = post(R"({"title": "x", "category": )");
  ExpectProblem(r, 400, "");
  EXPECT_NE(Body(r)["detail"].get<std::string>().find("malformed JSON"), std::string::npos);
  ExpectProblem(post("[1,2,3]"), 400, "");
  ExpectProblem(post(std::string(100, '[') + std::string(100, ']')), 400, "");
  // wrong types
  json wrong = kPhishing;
  wrong["impact"] = "high";
  ExpectProblem(post(wrong.dump()), 400, "/impact");
  wrong = kPhishing;
  wrong["title"] = 42;
  ExpectProblem(post(wrong.dump()), 400, "/title");
  wrong = kPhishing;
  wrong["observables"] = json::array({{{"type", "ipv4"}, {"value", "999.1.1.1"}}});
  ExpectProblem(post(wrong.dump()), 400, "/observables/0/value");
  // out of range and unknown vocabulary
  wrong = kPhishing;
  wrong["urgency"] = 5;
  ExpectProblem(post(wrong.dump()), 400, "/urgency");
  wrong = kPhishing;
  wrong["category"] = "fraud/cats";
  ExpectProblem(post(wrong.dump()), 400, "/category");
  wrong = kPhishing;
  wrong["tlp"] = "TLP:PURPLE";
  ExpectProblem(post(wrong.dump()), 400, "/tlp");
  // unknown fields
  wrong = kPhishing;
  wrong["colour"] = "red";
  ExpectProblem(post(wrong.dump()), 400, "/colour");
  ExpectProblem(S().Call("GET", "/api/v1/incidents?stauts=open", Token("alice")), 400, "/stauts");
  ExpectProblem(S().Call("GET", "/api/v1/incidents?cursor=garbage", Token("alice")), 400, "/cursor");
  ExpectProblem(S().Call("GET", "/api/v1/incidents?limit=100000", Token("alice")), 400, "/limit");
  // missing required field
  wrong = kPhishing;
  wrong.erase("title");
  ExpectProblem(post(wrong.dump()), 400, "/title");
  // unknown ids and routes
  ExpectProblem(S().Call("PATCH", "/api/v1/incidents/I-2026-424242", Token("alice"), R"({"title":"x"})"), 404, "");
  ExpectProblem(
      S().Call("POST", "/api/v1/reports/R-2026-424242/link", Token("alice"), R"({"incident":"I-2026-000001"})"), 404,
      "");
  ExpectProblem(S().Call("GET", "/api/v1/nothing-here", Token("alice")), 404, "");
  ExpectProblem(S().Call("DELETE", "/api/v1/incidents", Token("alice")), 405, "");
  // oversize body (the server runs with --max-body-bytes 65536)
  json huge = kPhishing;
  huge["description"] = std::string(70'000, 'a');
  ExpectProblem(post(huge.dump()), 413, "/body");
  EXPECT_EQ(StoreState(), before);
}

TEST_F(ApiTest, OversizeHeadersAreRefusedWith431) {
  testing::HttpClientRequest request;
  request.method = "GET";
  request.target = "/api/v1/incidents";
  request.headers = {{"Authorization", "Bearer " + Token("alice")}, {"X-Padding", std::string(40'000, 'x')}};
  const auto r = testing::Fetch(S().port(), request);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ExpectProblem(*r, 431, "/headers");
}

TEST_F(ApiTest, MalformedHttpIsRefusedWith400) {
  auto conn = testing::HttpConnection::Connect(S().port());
  ASSERT_TRUE(conn.has_value());
  ASSERT_TRUE(conn->SendRaw("GARBAGE\x01 / HTTP/9.9\r\n\r\n").has_value());
  const auto r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 400);
}

TEST_F(ApiTest, SlowClientIsTimedOut) {
  auto conn = testing::HttpConnection::Connect(S().port());
  ASSERT_TRUE(conn.has_value());
  // Half a request, then silence: the server (request timeout 1.5 s) must give up on us.
  ASSERT_TRUE(
      conn->SendRaw("POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ti").has_value());
  const auto start = std::chrono::steady_clock::now();
  conn->set_timeout(milliseconds(10'000));
  const auto r = conn->ReadResponse();
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 408);
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(ApiTest, OpenApiDocumentDescribesEveryEndpoint) {
  const auto r = S().Call("GET", "/api/v1/openapi.json", "");
  ASSERT_EQ(r.status, 200);
  const auto doc = Body(r);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  // The endpoints the API must offer, written out by hand from the specification.
  const std::vector<std::pair<std::string, std::string>> required = {{"post", "/api/v1/session"},
                                                                     {"get", "/api/v1/session"},
                                                                     {"delete", "/api/v1/session"},
                                                                     {"post", "/api/v1/incidents"},
                                                                     {"get", "/api/v1/incidents"},
                                                                     {"get", "/api/v1/incidents/{id}"},
                                                                     {"patch", "/api/v1/incidents/{id}"},
                                                                     {"get", "/api/v1/incidents/{id}/timeline"},
                                                                     {"post", "/api/v1/reports"},
                                                                     {"get", "/api/v1/reports"},
                                                                     {"get", "/api/v1/reports/{id}"},
                                                                     {"post", "/api/v1/reports/{id}/link"},
                                                                     {"post", "/api/v1/reports/{id}/reject"},
                                                                     {"get", "/api/v1/openapi.json"}};
  for (const auto& [method, path] : required) {
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method)) << method << " " << path;
  }
  // And every documented operation exists on the server (no 404 "no such API resource").
  for (const auto& [path, operations] : doc["paths"].items()) {
    for (const auto& [method, op] : operations.items()) {
      std::string concrete = path;
      if (const auto p = concrete.find("{id}"); p != std::string::npos) concrete.replace(p, 4, "X-0000-000000");
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(c));
      // A stream (text/event-stream) never ends by itself: HEAD gets its head without the stream.
      const json& ok = op["responses"].contains("200") ? op["responses"]["200"] : json::object();
      if (ok.contains("content") && ok["content"].contains("text/event-stream")) upper = "HEAD";
      const auto answer = S().Call(upper, concrete, Token("admin"), method == "get" || method == "delete" ? "" : "{}");
      EXPECT_NE(answer.status, 405) << upper << " " << path;
      if (answer.status == 404) {
        EXPECT_EQ(Body(answer)["detail"].get<std::string>().find("no such API resource"), std::string::npos)
            << upper << " " << path;
      }
    }
  }
}

TEST_F(ApiTest, ConcurrentClientsAllGetServed) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        json body = kPhishing;
        body["title"] = "concurrent " + std::to_string(t) + "-" + std::to_string(i);
        testing::HttpClientRequest request{
            "POST", "/api/v1/incidents", {{"Authorization", "Bearer " + Token("alice")}}, body.dump()};
        const auto r = testing::Fetch(S().port(), request, milliseconds(30'000));
        if (r && r->status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 20);
  const auto found = Body(S().Call("GET", "/api/v1/incidents?q=concurrent&limit=100", Token("alice")));
  EXPECT_EQ(found["items"].size(), 20u);
}

}  // namespace
}  // namespace hikeshi::e2e
