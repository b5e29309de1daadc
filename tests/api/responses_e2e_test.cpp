// The response loop end to end, over real HTTP against the real `hikeshi` binary: the default
// playbooks `init` writes, a playbook revision, an incident that gets its playbook's tasks, ticking
// a task, the plan and the APT decision, a countermeasure's lifecycle, the post-incident review,
// merge and split, bulk actions, and the scoping rule (another constituency's incident, and
// everything on it, is 404; viewers and constituents cannot write).

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;

class ResponsesApiTest : public ::testing::Test {
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
                                                         {"tess", "handler", "alpha"},
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
      std::string token = r.out;
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      (*tokens_)[user] = token;
    }
    server_ = Server::Start(dir_->path()).release();
    ASSERT_NE(server_, nullptr);
  }

  static void TearDownTestSuite() {
    if (server_) {
      const auto status = server_->Stop();
      EXPECT_TRUE(status.Succeeded()) << status.ToString();
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Token(const std::string& user) { return tokens_->at(user); }

  // One call whose status must be `expect`; returns the JSON body.
  static json Call(const std::string& method, const std::string& path, const std::string& user, const json& body,
                   int expect) {
    const auto r = server_->Call(method, path, Token(user), body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
    return Body(r);
  }
  static json Get(const std::string& path, const std::string& user = "alice", int expect = 200) {
    return Call("GET", path, user, nullptr, expect);
  }
  static void ExpectProblem(const std::string& method, const std::string& path, const std::string& user,
                            const json& body, int status, const std::string& field) {
    const auto problem = Call(method, path, user, body, status);
    if (!field.empty()) {
      EXPECT_EQ(problem.value("field", ""), field) << method << " " << path;
    }
  }

  static std::string NewIncident(const std::string& title, const std::string& category,
                                 const std::string& constituency = "alpha", const std::string& user = "alice") {
    const json created = Call("POST", "/api/v1/incidents", user,
                              {{"title", title}, {"category", category}, {"constituency", constituency}}, 201);
    return created.value("id", "");
  }
  static std::string NewReport(const std::string& subject, const std::string& ip) {
    const json created = Call(
        "POST", "/api/v1/reports", "alice",
        {{"subject", subject}, {"constituency", "alpha"}, {"observables", {{{"type", "ipv4"}, {"value", ip}}}}}, 201);
    return created.value("id", "");
  }
  static std::string LinkedReport(const std::string& subject, const std::string& ip, const std::string& incident) {
    const std::string id = NewReport(subject, ip);
    Call("POST", "/api/v1/reports/" + id + "/link", "alice", {{"incident", incident}}, 200);
    return id;
  }
  static std::vector<std::string> Actions(const std::string& incident) {
    std::vector<std::string> out;
    const json timeline = Get("/api/v1/incidents/" + incident + "/timeline");
    for (const auto& e : timeline["items"]) out.push_back(e["action"]);
    return out;
  }

  static TempDir* dir_;
  static Server* server_;
  static std::map<std::string, std::string>* tokens_;
};

TempDir* ResponsesApiTest::dir_ = nullptr;
Server* ResponsesApiTest::server_ = nullptr;
std::map<std::string, std::string>* ResponsesApiTest::tokens_ = new std::map<std::string, std::string>();

const json kPhishingPlaybook = {
    {"category", "fraud/phishing"},
    {"title", {{"ja", "フィッシング対応 (改訂)"}, {"en", "Phishing (revised)"}}},
    {"tasks",
     {{{"title", {{"ja", "サイトの稼働を確認する"}, {"en", "Check whether the site is live"}}},
       {"role", "handler"},
       {"due_hours", 4}},
      {{"title", {{"ja", "テイクダウンを依頼する"}, {"en", "Request the takedown"}}}, {"due_hours", 24}}}},
    {"notify", {"JPCERT/CC", "ブランド所有者"}},
    {"templates",
     {{{"name", "takedown-request"},
       {"language", "ja"},
       {"subject", "[{{incident}}] 停止のお願い"},
       {"body", "{{title}} の停止をお願いします。"}},
      {{"name", "takedown-request"},
       {"language", "en"},
       {"subject", "[{{incident}}] takedown request"},
       {"body", "Please take down {{title}}."}}}},
    {"change_note", "after the March campaign"}};

TEST_F(ResponsesApiTest, InitWritesTheDefaultPlaybooksInJapaneseAndEnglish) {
  const json list = Get("/api/v1/playbooks");
  std::set<std::string> names;
  for (const auto& p : list["items"]) names.insert(p["name"]);
  for (const std::string expected : {"phishing", "scanning", "malware", "ddos"}) {
    EXPECT_TRUE(names.contains(expected)) << expected << " in " << list.dump();
  }
  const json phishing = Get("/api/v1/playbooks/phishing?version=1");
  EXPECT_EQ(phishing["category"], "fraud/phishing");
  EXPECT_EQ(phishing["title"]["ja"], "フィッシングサイト対応");
  EXPECT_EQ(phishing["title"]["en"], "Phishing site response");
  EXPECT_EQ(phishing["changed_by"], "cli");
  ASSERT_FALSE(phishing["tasks"].empty());
  std::set<std::string> languages;
  for (const auto& t : phishing["templates"]) languages.insert(t["language"]);
  EXPECT_EQ(languages, (std::set<std::string>{"ja", "en"}));
  // A constituent does not read the team's manuals.
  ExpectProblem("GET", "/api/v1/playbooks", "carl", nullptr, 403, "");
}

TEST_F(ResponsesApiTest, TheResponseLoopFromPlaybookToReviewMergeSplitAndBulk) {
  // 1. A playbook revision: version 2, the first kept.
  const json revised = Call("PUT", "/api/v1/playbooks/phishing", "alice", kPhishingPlaybook, 200);
  EXPECT_EQ(revised["version"], 2);
  EXPECT_EQ(revised["revision"], "phishing@2");
  EXPECT_EQ(revised["changed_by"], "alice");
  const json versions = Get("/api/v1/playbooks/phishing/versions");
  ASSERT_EQ(versions["items"].size(), 2u);
  EXPECT_EQ(versions["items"][0]["current"], false);
  EXPECT_EQ(versions["items"][1]["change_note"], "after the March campaign");
  ExpectProblem("PUT", "/api/v1/playbooks/phishing", "vic", kPhishingPlaybook, 403, "");
  json bad_template = kPhishingPlaybook;
  bad_template["templates"][1]["body"] = "Dear {{name}}";
  ExpectProblem("PUT", "/api/v1/playbooks/phishing", "alice", bad_template, 400, "/templates/1/body");
  json bad_task = kPhishingPlaybook;
  bad_task["tasks"][0]["colour"] = "red";
  ExpectProblem("PUT", "/api/v1/playbooks/phishing", "alice", bad_task, 400, "/tasks/0/colour");

  // 2. An incident of the category gets the current revision's tasks.
  const std::string a = NewIncident("偽の学内ポータル", "fraud/phishing");
  const std::string tasks_path = "/api/v1/incidents/" + a + "/tasks";
  const json tasks = Get(tasks_path);
  ASSERT_EQ(tasks["items"].size(), 2u) << tasks.dump();
  EXPECT_EQ(tasks["items"][0]["title"], "サイトの稼働を確認する");
  EXPECT_EQ(tasks["items"][0]["title_en"], "Check whether the site is live");
  EXPECT_EQ(tasks["items"][0]["playbook"], "phishing@2");
  EXPECT_EQ(tasks["items"][0]["done"], false);
  EXPECT_TRUE(tasks["items"][0]["due"].is_string());

  // 3. Tick a task, give it to someone, move its due date.
  const std::string task = tasks["items"][0]["id"];
  const json ticked = Call("PATCH", tasks_path + "/" + task, "alice",
                           {{"done", true}, {"assignee", "tess"}, {"due", "2026-06-01T09:00:00+09:00"}}, 200);
  EXPECT_EQ(ticked["done"], true);
  EXPECT_EQ(ticked["done_by"], "alice");
  EXPECT_EQ(ticked["assignee"], "tess");
  EXPECT_EQ(ticked["due"], "2026-06-01T00:00:00.000000Z");
  ExpectProblem("PATCH", tasks_path + "/" + task, "alice", {{"assignee", "bob"}}, 404, "/assignee");
  ExpectProblem("PATCH", tasks_path + "/" + task, "alice", {{"due", "tomorrow"}}, 400, "/due");
  const json added = Call("POST", tasks_path, "alice", {{"title", "ログを保全する"}}, 201);
  EXPECT_TRUE(added["playbook"].is_null());
  EXPECT_EQ(Get(tasks_path)["items"].size(), 3u);
  const auto actions = Actions(a);
  EXPECT_NE(std::find(actions.begin(), actions.end(), "task.done"), actions.end());

  // 4. The plan, with its history; the APT decision only for an APT.
  const std::string plan_path = "/api/v1/incidents/" + a + "/plan";
  Call("PUT", plan_path, "alice", {{"text", "遮断してからテイクダウン"}}, 200);
  const json plan = Call("PUT", plan_path, "alice", {{"text", "テイクダウンを優先"}}, 200);
  EXPECT_EQ(plan["text"], "テイクダウンを優先");
  ASSERT_EQ(plan["revisions"].size(), 2u);
  EXPECT_EQ(plan["revisions"][0]["text"], "遮断してからテイクダウン");
  EXPECT_EQ(plan["revisions"][1]["author"], "alice");
  EXPECT_EQ(Get(plan_path), plan);
  ExpectProblem("POST", plan_path + "/apt-decision", "alice",
                {{"decision", "scope-first"}, {"rationale", "not an APT"}}, 409, "/decision");
  const std::string apt = NewIncident("標的型攻撃の疑い", "APT");
  const std::string apt_plan = "/api/v1/incidents/" + apt + "/plan";
  ExpectProblem("POST", apt_plan + "/apt-decision", "alice", {{"decision", "scope-first"}}, 400, "/rationale");
  ExpectProblem("POST", apt_plan + "/apt-decision", "alice", {{"decision", "wait"}, {"rationale", "x"}}, 400,
                "/decision");
  Call("POST", apt_plan + "/apt-decision", "alice",
       {{"decision", "scope-first"}, {"rationale", "攻撃者に気付かれずに侵害範囲を特定する"}}, 201);
  const json decided = Call("POST", apt_plan + "/apt-decision", "alice",
                            {{"decision", "eradicate-now"}, {"rationale", "exfiltration seen"}}, 201);
  EXPECT_EQ(decided["apt_decision"]["decision"], "eradicate-now");
  EXPECT_EQ(decided["apt_decision"]["decider"], "alice");
  EXPECT_TRUE(decided["apt_decision"]["at"].is_string());
  ASSERT_EQ(decided["decisions"].size(), 2u);
  EXPECT_EQ(decided["decisions"][0]["decision"], "scope-first");

  // 5. A countermeasure through its lifecycle.
  const std::string cm_path = "/api/v1/incidents/" + a + "/countermeasures";
  ExpectProblem("POST", cm_path, "alice", {{"kind", "block-ip"}, {"target", "portal.example.com"}}, 400, "/target");
  ExpectProblem("POST", cm_path, "alice", {{"kind", "firewall"}, {"target", "x"}}, 400, "/kind");
  const json cm = Call("POST", cm_path, "alice", {{"kind", "block-ip"}, {"target", "192.0.2.66"}}, 201);
  EXPECT_EQ(cm["state"], "pending");
  const std::string cm_one = cm_path + "/" + cm["id"].get<std::string>();
  ExpectProblem("PATCH", cm_one, "alice", {{"state", "active"}}, 400, "/where");
  Call("PATCH", cm_one, "alice", {{"state", "active"}, {"where", "境界ファイアウォール fw1"}}, 200);
  const json illegal = Call("PATCH", cm_one, "alice", {{"state", "removed"}}, 409);
  EXPECT_NE(illegal["detail"].get<std::string>().find("'active' to 'removed'"), std::string::npos) << illegal.dump();
  Call("PATCH", cm_one, "alice", {{"state", "pending-removal"}}, 200);
  const json removed = Call("PATCH", cm_one, "alice", {{"state", "removed"}, {"note", "takedown confirmed"}}, 200);
  EXPECT_EQ(removed["state"], "removed");
  std::vector<std::string> states;
  for (const auto& h : removed["history"]) states.push_back(h["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"pending", "active", "pending-removal", "removed"}));
  EXPECT_EQ(removed["where"], "境界ファイアウォール fw1");
  EXPECT_EQ(Get(cm_path)["items"][0], removed);

  // 6. The post-incident review names the playbook revision it prompted.
  const std::string review_path = "/api/v1/incidents/" + a + "/review";
  EXPECT_TRUE(Get(review_path)["author"].is_null());
  ExpectProblem("PUT", review_path, "alice", {{"root_cause", "x"}, {"playbook_revision", "phishing@9"}}, 400,
                "/playbook_revision");
  const json review = Call("PUT", review_path, "alice",
                           {{"root_cause", "利用者が偽メールのリンクを開いた"},
                            {"actions_taken", "遮断とテイクダウン"},
                            {"lessons_learned", "ブランド所有者への連絡を早める"},
                            {"playbook_revision", "phishing@2"}},
                           200);
  EXPECT_EQ(review["playbook_revision"], "phishing@2");
  EXPECT_EQ(Get(review_path), review);

  // 7. Merge a into b: its reports, tasks and countermeasures go to b, and b's timeline shows a's.
  const std::string report_a = LinkedReport("偽ポータルの報告", "192.0.2.66", a);
  const std::string b = NewIncident("ポータル偽装キャンペーン", "fraud/phishing");
  ExpectProblem("POST", "/api/v1/incidents/" + a + "/merge", "vic", {{"into", b}}, 403, "");
  const json merged = Call("POST", "/api/v1/incidents/" + a + "/merge", "alice", {{"into", b}}, 200);
  EXPECT_EQ(merged["status"], "merged");
  EXPECT_EQ(merged["merged_into"], b);
  EXPECT_EQ(Get("/api/v1/reports/" + report_a)["incident"], b);
  EXPECT_EQ(Get("/api/v1/incidents/" + b + "/tasks")["items"].size(), 5u);
  EXPECT_EQ(Get("/api/v1/incidents/" + b + "/countermeasures")["items"].size(), 1u);
  std::set<std::string> created;
  const json b_timeline = Get("/api/v1/incidents/" + b + "/timeline");
  for (const auto& e : b_timeline["items"]) {
    if (e["action"] == "incident.create") created.insert(e["object_id"]);
  }
  EXPECT_EQ(created, (std::set<std::string>{a, b}));
  const json b_links = Get("/api/v1/incidents/" + b + "/links");
  ASSERT_EQ(b_links["items"].size(), 1u);
  EXPECT_EQ(b_links["items"][0]["other"], a);
  EXPECT_EQ(b_links["items"][0]["relation"], "merged-from");
  ExpectProblem("POST", "/api/v1/incidents/" + a + "/merge", "alice", {{"into", b}}, 409, "");
  ExpectProblem("POST", "/api/v1/incidents/" + a + "/tasks", "alice", {{"title", "late"}}, 409, "");

  // 8. Split one report of b out into a new incident.
  const std::string report_b = LinkedReport("別キャンペーン", "192.0.2.77", b);
  const auto split = server_->Call("POST", "/api/v1/incidents/" + b + "/split", Token("alice"),
                                   json{{"reports", {report_b}}, {"title", "別のキャンペーン"}}.dump());
  ASSERT_EQ(split.status, 201) << split.body;
  const json c = Body(split);
  EXPECT_EQ(split.Header("Location"), "/api/v1/incidents/" + c["id"].get<std::string>());
  EXPECT_EQ(c["category"], "fraud/phishing");
  EXPECT_EQ(c["constituency"], "alpha");
  EXPECT_EQ(Get("/api/v1/reports/" + report_b)["incident"], c["id"]);
  EXPECT_EQ(Get("/api/v1/reports/" + report_a)["incident"], b);
  const json c_links = Get("/api/v1/incidents/" + c["id"].get<std::string>() + "/links");
  ASSERT_EQ(c_links["items"].size(), 1u);
  EXPECT_EQ(c_links["items"][0]["relation"], "split-from");
  EXPECT_EQ(c_links["items"][0]["other"], b);
  ExpectProblem("POST", "/api/v1/incidents/" + b + "/split", "alice", {{"reports", {report_b}}, {"title", "again"}},
                400, "/reports/0");
  // A plain link between two incidents, seen from both sides.
  const json linked =
      Call("POST", "/api/v1/incidents/" + b + "/links", "alice", {{"incident", apt}, {"relation", "parent"}}, 201);
  EXPECT_EQ(linked["relation"], "parent");
  const json apt_links = Get("/api/v1/incidents/" + apt + "/links");
  ASSERT_EQ(apt_links["items"].size(), 1u);
  EXPECT_EQ(apt_links["items"][0]["relation"], "child");
  ExpectProblem("POST", "/api/v1/incidents/" + apt + "/links", "alice", {{"incident", b}, {"relation", "related"}}, 409,
                "");

  // 9. Bulk: per-item results.
  const std::string spam1 = NewReport("spam one", "192.0.2.101");
  const std::string spam2 = NewReport("spam two", "192.0.2.102");
  const json rejected = Call("POST", "/api/v1/reports/bulk", "alice",
                             {{"action", "reject"}, {"reports", {spam1, spam2, report_a}}, {"reason", "spam"}}, 200);
  ASSERT_EQ(rejected["results"].size(), 3u);
  EXPECT_EQ(rejected["results"][0], json({{"id", spam1}, {"ok", true}}));
  EXPECT_EQ(rejected["results"][1]["ok"], true);
  EXPECT_EQ(rejected["results"][2]["ok"], false);
  EXPECT_EQ(rejected["results"][2]["status"], 409);  // already linked
  EXPECT_EQ(rejected["succeeded"], 2);
  EXPECT_EQ(rejected["failed"], 1);
  EXPECT_EQ(Get("/api/v1/reports/" + spam1)["status"], "rejected");
  const std::string new1 = NewReport("new one", "192.0.2.103");
  const json linked_bulk = Call("POST", "/api/v1/reports/bulk", "alice",
                                {{"action", "link"}, {"reports", {new1, "R-2026-999999"}}, {"incident", b}}, 200);
  EXPECT_EQ(linked_bulk["results"][0]["ok"], true);
  EXPECT_EQ(linked_bulk["results"][1]["status"], 404);
  EXPECT_EQ(Get("/api/v1/reports/" + new1)["incident"], b);
  const std::string beta_incident = NewIncident("beta の件", "Scan", "beta", "bob");
  const json assigned = Call("POST", "/api/v1/incidents/bulk", "alice",
                             {{"action", "assign"}, {"incidents", {b, apt, beta_incident}}, {"owner", "tess"}}, 200);
  EXPECT_EQ(assigned["results"][0]["ok"], true);
  EXPECT_EQ(assigned["results"][1]["ok"], true);
  EXPECT_EQ(assigned["results"][2]["status"], 404);
  EXPECT_EQ(Get("/api/v1/incidents/" + b)["owner"], "tess");
  EXPECT_TRUE(Get("/api/v1/incidents/" + beta_incident, "bob")["owner"].is_null());
  json too_many = json::array();
  for (int i = 0; i < 501; ++i) too_many.push_back("R-2026-" + std::to_string(100000 + i));
  ExpectProblem("POST", "/api/v1/reports/bulk", "alice",
                {{"action", "reject"}, {"reports", too_many}, {"reason", "spam"}}, 413, "/reports");
  ExpectProblem("POST", "/api/v1/incidents/bulk", "vic", {{"action", "assign"}, {"incidents", {b}}, {"owner", "tess"}},
                403, "");
  ExpectProblem("POST", "/api/v1/reports/bulk", "alice", {{"action", "delete"}, {"reports", {spam1}}}, 400, "/action");
}

TEST_F(ResponsesApiTest, EverythingOnAnotherConstituencysIncidentIsNotFound) {
  const std::string id = NewIncident("alpha の件", "fraud/phishing");
  const std::string base = "/api/v1/incidents/" + id;
  const json tasks = Get(base + "/tasks");
  ASSERT_FALSE(tasks["items"].empty());
  const std::string task = tasks["items"][0]["id"];
  const json cm = Call("POST", base + "/countermeasures", "alice", {{"kind", "takedown"}, {"target", "portal"}}, 201);
  const std::string other = NewIncident("beta の件", "Scan", "beta", "bob");

  // Bob (handler of beta): 404 for every read and write, as if it did not exist.
  for (const std::string path : {"/tasks", "/plan", "/countermeasures", "/review", "/links"}) {
    ExpectProblem("GET", base + path, "bob", nullptr, 404, "");
  }
  ExpectProblem("POST", base + "/tasks", "bob", {{"title", "x"}}, 404, "");
  ExpectProblem("PATCH", base + "/tasks/" + task, "bob", {{"done", true}}, 404, "");
  ExpectProblem("PUT", base + "/plan", "bob", {{"text", "x"}}, 404, "");
  ExpectProblem("PATCH", base + "/countermeasures/" + cm["id"].get<std::string>(), "bob", {{"state", "removed"}}, 404,
                "");
  ExpectProblem("PUT", base + "/review", "bob", {{"root_cause", "x"}}, 404, "");
  ExpectProblem("POST", base + "/merge", "bob", {{"into", other}}, 404, "");
  ExpectProblem("POST", base + "/links", "bob", {{"incident", other}, {"relation", "related"}}, 404, "");
  // Alice cannot reach into beta either: the other incident is not found.
  ExpectProblem("POST", base + "/merge", "alice", {{"into", other}}, 404, "/into");
  ExpectProblem("POST", base + "/links", "alice", {{"incident", other}, {"relation", "related"}}, 404, "/incident");
  // A task of another incident, addressed through this one, is not found.
  ExpectProblem("PATCH", "/api/v1/incidents/" + other + "/tasks/" + task, "bob", {{"done", true}}, 404, "");

  // The viewer and the constituent of alpha read, but do not write.
  for (const std::string user : {"vic", "carl"}) {
    EXPECT_EQ(Get(base + "/tasks", user)["items"].size(), tasks["items"].size());
    ExpectProblem("POST", base + "/tasks", user, {{"title", "x"}}, 403, "");
    ExpectProblem("PATCH", base + "/tasks/" + task, user, {{"done", true}}, 403, "");
    ExpectProblem("PUT", base + "/plan", user, {{"text", "x"}}, 403, "");
    ExpectProblem("POST", base + "/countermeasures", user, {{"kind", "other"}, {"target", "x"}}, 403, "");
    ExpectProblem("PUT", base + "/review", user, {{"root_cause", "x"}}, 403, "");
  }
  // Nothing the refused requests asked for happened.
  EXPECT_EQ(Get(base + "/tasks")["items"], tasks["items"]);
  EXPECT_EQ(Get(base + "/countermeasures")["items"][0]["state"], "pending");
  EXPECT_EQ(Get(base)["status"], "open");
}

TEST_F(ResponsesApiTest, EveryResponseRouteIsInTheOpenApiDocument) {
  const json doc = Body(server_->Call("GET", "/api/v1/openapi.json", ""));
  // Written out by hand from the routes responses.cpp adds.
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"get", "/api/v1/playbooks"},
      {"get", "/api/v1/playbooks/{name}"},
      {"put", "/api/v1/playbooks/{name}"},
      {"get", "/api/v1/playbooks/{name}/versions"},
      {"get", "/api/v1/incidents/{id}/tasks"},
      {"post", "/api/v1/incidents/{id}/tasks"},
      {"patch", "/api/v1/incidents/{id}/tasks/{task}"},
      {"get", "/api/v1/incidents/{id}/plan"},
      {"put", "/api/v1/incidents/{id}/plan"},
      {"post", "/api/v1/incidents/{id}/plan/apt-decision"},
      {"get", "/api/v1/incidents/{id}/countermeasures"},
      {"post", "/api/v1/incidents/{id}/countermeasures"},
      {"patch", "/api/v1/incidents/{id}/countermeasures/{cm}"},
      {"get", "/api/v1/incidents/{id}/review"},
      {"put", "/api/v1/incidents/{id}/review"},
      {"get", "/api/v1/incidents/{id}/links"},
      {"post", "/api/v1/incidents/{id}/links"},
      {"post", "/api/v1/incidents/{id}/merge"},
      {"post", "/api/v1/incidents/{id}/split"},
      {"post", "/api/v1/reports/bulk"},
      {"post", "/api/v1/incidents/bulk"},
  };
  for (const auto& [method, path] : routes) {
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method)) << method << " " << path;
  }
}

}  // namespace
}  // namespace hikeshi::e2e
