// SLA clocks, breaches and statistics end to end: the real `hikeshi serve` over HTTP. Statistics
// are checked against counts made independently, by querying the SQLite file with the sqlite3
// shell; exercises must stay out of them. A breach (a short target from [sla] in hikeshi.toml)
// must appear on the timeline and at /sla/breaches exactly once, with two servers checking the
// same store. `hikeshi report --quarter` is checked against the same database counts.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Rows of `sql` run by the sqlite3 shell on the store file of `data` (-json: an array of objects).
json Sql(const std::filesystem::path& data, const std::string& sql) {
  testing::ChildProcessOptions options;
  options.program = "sqlite3";
  options.args = {"-json", "-cmd", ".timeout 10000", (data / "hikeshi.db").string(), sql};
  auto child = testing::ChildProcess::Spawn(options);
  if (!child) {
    ADD_FAILURE() << "cannot run sqlite3: " << child.error().message();
    return json::array();
  }
  const auto status = child->Wait(milliseconds(30'000));
  EXPECT_TRUE(status && status->Succeeded()) << sql << "\n" << child->Stderr();
  const std::string out = child->Stdout();
  if (out.find_first_not_of(" \r\n") == std::string::npos) return json::array();  // no rows
  auto rows = json::parse(out, nullptr, false);
  EXPECT_TRUE(rows.is_array()) << out;
  return rows.is_array() ? rows : json::array();
}

// Rows {k, n} as a map.
std::map<std::string, std::int64_t> Counts(const json& rows) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row : rows) out[row["k"].get<std::string>()] = row["n"].get<std::int64_t>();
  return out;
}

// The non-zero entries of a JSON object of counts.
std::map<std::string, std::int64_t> NonZero(const json& object) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [key, value] : object.items()) {
    if (value.get<std::int64_t>() != 0) out[key] = value.get<std::int64_t>();
  }
  return out;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Prepares a data directory: constituencies alpha and beta, handlers alice (alpha) and bob (beta),
// tokens for admin, alice and bob, and `sla` appended to hikeshi.toml.
void Prepare(const std::filesystem::path& data, const std::string& sla, std::map<std::string, std::string>& tokens) {
  const std::string dir = data.string();
  const auto init = RunCli({"init", "--data", dir}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.err;
  for (const auto& [name, cidr] : {std::pair{"alpha", "192.0.2.0/24"}, std::pair{"beta", "198.51.100.0/24"}}) {
    const auto r = RunCli({"constituency", "add", "--data", dir, name, "--cidr", cidr});
    ASSERT_TRUE(r.status.Succeeded()) << r.err;
  }
  for (const auto& [user, constituency] : {std::pair{"alice", "alpha"}, std::pair{"bob", "beta"}}) {
    const auto r = RunCli({"user", "add", "--data", dir, user, "--role", "handler", "--constituency", constituency},
                          {{"HIKESHI_PASSWORD", kUserPassword}});
    ASSERT_TRUE(r.status.Succeeded()) << r.err;
  }
  for (const std::string user : {"admin", "alice", "bob"}) {
    const auto r = RunCli({"token", "create", "--data", dir, "--user", user});
    ASSERT_TRUE(r.status.Succeeded()) << r.err;
    tokens[user] = Trimmed(r.out);
  }
  std::ofstream(data / "hikeshi.toml", std::ios::app) << "\n" << sla;
}

class StatsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    Prepare(dir_->path(), "[sla]\ncheck_interval_seconds = 0\n", *tokens_);
    server_ = Server::Start(dir_->path()).release();
    ASSERT_NE(server_, nullptr);
    Populate();
  }
  static void TearDownTestSuite() {
    if (server_) {
      EXPECT_TRUE(server_->Stop().Succeeded());
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static Server& S() { return *server_; }
  static const std::string& Token(const std::string& user) { return tokens_->at(user); }
  static const std::filesystem::path& Data() { return dir_->path(); }

  static std::string Create(const std::string& user, json body) {
    const auto r = S().Call("POST", "/api/v1/incidents", Token(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  }
  static void Patch(const std::string& user, const std::string& id, json body) {
    const auto r = S().Call("PATCH", "/api/v1/incidents/" + id, Token(user), body.dump());
    EXPECT_EQ(r.status, 200) << id << " " << body.dump() << ": " << r.body;
  }

  // A mix: categories, constituencies, priorities and statuses, two exercises, one merged
  // incident, and reports on several channels.
  static void Populate() {
    const auto incident = [](std::string title, std::string category, std::string constituency, int impact, int urgency,
                             bool exercise = false) {
      json body = {{"title", title}, {"category", category}, {"impact", impact}, {"urgency", urgency}};
      if (!constituency.empty()) body["constituency"] = constituency;
      if (exercise) body["exercise"] = true;
      return body;
    };
    const std::string i1 = Create("alice", incident("portal phishing", "Phishing", "alpha", 2, 2));
    Patch("alice", i1, {{"phase", "analysis"}});
    Patch("alice", i1, {{"status", "resolved"}});
    const std::string i2 = Create("alice", incident("port scan", "Scan", "alpha", 3, 3));
    const std::string i3 = Create("alice", incident("flood", "DDoS", "alpha", 1, 1));
    Create("alice", incident("drill: phishing", "Phishing", "alpha", 1, 1, true));
    const std::string e2 = Create("alice", incident("drill: scan", "Scan", "alpha", 3, 3, true));
    Patch("alice", e2, {{"status", "resolved"}});
    const std::string i6 = Create("alice", incident("not an incident", "fraud/phishing", "alpha", 4, 4));
    Patch("alice", i6, {{"status", "rejected"}});
    const std::string i7 = Create("alice", incident("same flood", "Scan", "alpha", 3, 3));
    Patch("alice", i7, {{"status", "merged"}, {"merged_into", i3}});
    const std::string j1 = Create("bob", incident("infected pc", "Virus", "beta", 2, 3));
    const std::string j2 = Create("bob", incident("ddos on dns", "DDoS", "beta", 2, 1));
    Patch("bob", j2, {{"status", "resolved"}});
    Create("admin", incident("coordination request", "other/undetermined", "", 3, 4));
    // A phone call about the scan, linked to it; a web report about the infected PC.
    for (const auto& [user, channel, subject, constituency, target] :
         {std::tuple{"alice", "phone", "call about the scan", "alpha", i2},
          std::tuple{"bob", "web", "form about the infected pc", "beta", j1}}) {
      const auto r = S().Call("POST", "/api/v1/reports", Token(user),
                              json{{"channel", channel}, {"subject", subject}, {"constituency", constituency}}.dump());
      ASSERT_EQ(r.status, 201) << r.body;
      const std::string report = Body(r)["id"];
      const auto link =
          S().Call("POST", "/api/v1/reports/" + report + "/link", Token(user), json{{"incident", target}}.dump());
      ASSERT_EQ(link.status, 200) << link.body;
    }
    Patch("alice", i2, {{"status", "resolved"}});
  }

  static TempDir* dir_;
  static Server* server_;
  static std::map<std::string, std::string>* tokens_;
};

TempDir* StatsTest::dir_ = nullptr;
Server* StatsTest::server_ = nullptr;
std::map<std::string, std::string>* StatsTest::tokens_ = new std::map<std::string, std::string>();

constexpr const char* kCounted = "exercise = 0 AND status <> 'merged'";
constexpr const char* kRange = "from=2020-01-01&to=2100-01-01&period=quarter";

// Nearest-rank percentile, written out here from the definition in docs/sla-and-statistics.md.
double NearestRank(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()) - 1e-9));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

TEST_F(StatsTest, StatsAgreeWithACountMadeFromTheDatabase) {
  const auto r = S().Call("GET", std::string("/api/v1/stats?group=rsit&") + kRange, Token("admin"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json stats = Body(r);

  const auto total = Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted);
  const auto exercises = Sql(Data(), "SELECT count(*) AS n FROM incidents WHERE exercise = 1");
  ASSERT_EQ(exercises[0]["n"], 2) << "the scenario has two exercises";
  EXPECT_EQ(stats["incidents"], total[0]["n"]);
  EXPECT_EQ(stats["incidents"], 7);  // ten opened, less two exercises and one merged

  EXPECT_EQ(NonZero(stats["categories"]),
            Counts(Sql(Data(), std::string("SELECT rsit_class || '/' || rsit_type AS k, count(*) AS n FROM incidents "
                                           "WHERE ") +
                                   kCounted + " GROUP BY k")));
  EXPECT_EQ(NonZero(stats["constituencies"]),
            Counts(Sql(Data(), std::string("SELECT COALESCE(c.name, '(none)') AS k, count(*) AS n FROM incidents i "
                                           "LEFT JOIN constituencies c ON c.id = i.constituency_id WHERE i.") +
                                   "exercise = 0 AND i.status <> 'merged' GROUP BY k")));
  EXPECT_EQ(NonZero(stats["status"]),
            Counts(Sql(Data(), std::string("SELECT status AS k, count(*) AS n FROM incidents WHERE ") + kCounted +
                                   " GROUP BY status")));
  EXPECT_EQ(NonZero(stats["open_by_priority"]),
            Counts(Sql(Data(), std::string("SELECT 'P' || priority AS k, count(*) AS n FROM incidents WHERE ") +
                                   kCounted + " AND status = 'open' GROUP BY priority")));
  const auto channels = Counts(Sql(Data(), std::string("SELECT COALESCE((SELECT r.channel FROM reports r WHERE "
                                                       "r.incident_id = i.id ORDER BY r.received_at, r.id LIMIT 1), "
                                                       "'none') AS k, count(*) AS n FROM incidents i WHERE i.") +
                                               "exercise = 0 AND i.status <> 'merged' GROUP BY k"));
  EXPECT_EQ(NonZero(stats["channels"]), channels);
  EXPECT_EQ(channels.at("phone"), 1);
  EXPECT_EQ(stats["open"], Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted +
                                           " AND status = 'open'")[0]["n"]);
  EXPECT_EQ(stats["closed"], Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted +
                                             " AND status IN ('resolved', 'closed', 'rejected')")[0]["n"]);

  // Time to resolve: from the opening (or an earlier linked report) to the journal's resolve entry.
  const auto resolved = Sql(Data(), std::string("SELECT a.at - min(i.created_at, coalesce((SELECT min(r.received_at) "
                                                "FROM reports r WHERE r.incident_id = i.id), i.created_at)) AS us "
                                                "FROM incidents i JOIN audit a ON a.object_type = 'incident' AND "
                                                "a.object_id = i.human_id AND a.action = 'incident.resolve' WHERE i.") +
                                        "exercise = 0 AND i.status IN ('resolved', 'closed')");
  std::vector<double> seconds;
  for (const auto& row : resolved) seconds.push_back(row["us"].get<double>() / 1e6);
  ASSERT_EQ(seconds.size(), 3u);
  const json& resolution = stats["times"]["resolution"];
  EXPECT_EQ(resolution["count"], 3);
  EXPECT_NEAR(resolution["median_seconds"].get<double>(), NearestRank(seconds, 0.5), 1e-6);
  EXPECT_NEAR(resolution["p90_seconds"].get<double>(), NearestRank(seconds, 0.9), 1e-6);
  // Everything counted was opened by a person: triaged at the opening.
  EXPECT_EQ(stats["times"]["triage"]["count"], total[0]["n"]);
  const json& all = stats["sla"]["all"];
  EXPECT_EQ(all["met"].get<int>() + all["breached"].get<int>() + all["running"].get<int>(), 4 * 7);
}

TEST_F(StatsTest, TheGuidesCategoriesCountTheSameIncidents) {
  const auto r = S().Call("GET", std::string("/api/v1/stats?") + kRange, Token("admin"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json stats = Body(r);
  EXPECT_EQ(stats["group"], "guide");
  const auto rsit = Counts(Sql(Data(), std::string("SELECT rsit_class || '/' || rsit_type AS k, count(*) AS n FROM "
                                                   "incidents WHERE ") +
                                           kCounted + " GROUP BY k"));
  EXPECT_EQ(stats["categories"]["Phishing"], rsit.at("fraud/phishing"));
  EXPECT_EQ(stats["categories"]["Scan"], rsit.at("information-gathering/scanner"));
  EXPECT_EQ(stats["categories"]["DDoS"], rsit.at("availability/ddos"));
  EXPECT_EQ(stats["categories"]["Virus"], rsit.at("malicious-code/infected-system"));
  EXPECT_EQ(stats["categories"]["Intrusion"], 0);
  // Every period's counts add up to the totals.
  std::int64_t sum = 0;
  for (const auto& period : stats["periods"]) sum += period["incidents"].get<std::int64_t>();
  EXPECT_EQ(sum, stats["incidents"]);
}

TEST_F(StatsTest, StatsAreScopedToTheCallersConstituencies) {
  const auto r = S().Call("GET", std::string("/api/v1/stats?group=rsit&") + kRange, Token("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json stats = Body(r);
  const std::string alpha = std::string(" AND constituency_id = (SELECT id FROM constituencies WHERE name = 'alpha')");
  EXPECT_EQ(stats["incidents"],
            Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted + alpha)[0]["n"]);
  EXPECT_EQ(NonZero(stats["categories"]),
            Counts(Sql(Data(), std::string("SELECT rsit_class || '/' || rsit_type AS k, count(*) AS n FROM incidents "
                                           "WHERE ") +
                                   kCounted + alpha + " GROUP BY k")));
  EXPECT_EQ(NonZero(stats["constituencies"]), (std::map<std::string, std::int64_t>{{"alpha", 4}}));
}

TEST_F(StatsTest, CsvGivesOneTablePerChart) {
  auto r =
      S().Call("GET", std::string("/api/v1/stats?group=rsit&format=csv&table=categories&") + kRange, Token("admin"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/csv; charset=utf-8");
  // The header names the categories; the last row holds the totals.
  std::vector<std::vector<std::string>> rows;
  std::size_t start = 0;
  while (start < r.body.size()) {
    const auto end = r.body.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    std::vector<std::string> cells;
    std::string line = r.body.substr(start, end - start);
    for (std::size_t p = 0;;) {
      const auto comma = line.find(',', p);
      cells.push_back(line.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
    rows.push_back(std::move(cells));
    start = end + 2;
  }
  ASSERT_GE(rows.size(), 2u);
  ASSERT_EQ(rows.front()[0], "period");
  ASSERT_EQ(rows.back()[0], "total");
  std::map<std::string, std::int64_t> totals;
  for (std::size_t c = 3; c + 1 < rows.front().size(); ++c) {
    if (rows.back()[c] != "0") totals[rows.front()[c]] = std::stoll(rows.back()[c]);
  }
  EXPECT_EQ(totals, Counts(Sql(Data(), std::string("SELECT rsit_class || '/' || rsit_type AS k, count(*) AS n FROM "
                                                   "incidents WHERE ") +
                                           kCounted + " GROUP BY k")));
  EXPECT_EQ(rows.back().back(), "7");

  // Accept: text/csv gives every table.
  r = S().Call("GET", std::string("/api/v1/stats?") + kRange, Token("admin"), "", {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  for (const std::string table : {"categories", "constituencies", "channels", "status", "priority", "times", "sla"}) {
    EXPECT_NE(r.body.find("# " + table + "\r\n"), std::string::npos) << table;
  }
  EXPECT_NE(r.body.find("\r\nstatus,incidents\r\n"), std::string::npos);
}

TEST_F(StatsTest, BadParametersAreNamed) {
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"period=year", "/period"},
                                                        {"quarter=2026Q3&from=2026-07-01", "/quarter"},
                                                        {"quarter=2026Q9", "/quarter"},
                                                        {"tz=JST", "/tz"},
                                                        {"from=2026-08-01&to=2026-07-01", "/from"},
                                                        {"from=yesterday", "/from"},
                                                        {"group=jpcert", "/group"},
                                                        {"format=xml", "/format"},
                                                        {"table=categories", "/table"},
                                                        {"format=csv&table=nope", "/table"},
                                                        {"period=day&from=2020-01-01&to=2030-01-01", "/period"},
                                                        {"colour=red", "/colour"}}) {
    const auto r = S().Call("GET", "/api/v1/stats?" + query, Token("admin"));
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(Body(r).value("field", ""), field) << query;
  }
  EXPECT_EQ(S().Call("GET", "/api/v1/stats", "").status, 401);
}

TEST_F(StatsTest, QuarterlyReportMatchesTheDatabase) {
  const auto quarter = Sql(Data(),
                           "SELECT strftime('%Y', 'now') || 'Q' || ((CAST(strftime('%m', 'now') AS INTEGER) "
                           "+ 2) / 3) AS q")[0]["q"]
                           .get<std::string>();
  const std::string dir = Data().string();
  const auto run = RunCli({"report", "--quarter", quarter, "--data", dir, "--format", "json"});
  ASSERT_TRUE(run.status.Succeeded()) << run.err;
  const json report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["incidents"],
            Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted)[0]["n"]);
  EXPECT_EQ(report["period"], "month");
  EXPECT_EQ(report["group"], "guide");
  const auto phishing = Sql(Data(), std::string("SELECT count(*) AS n FROM incidents WHERE ") + kCounted +
                                        " AND rsit_class = 'fraud' AND rsit_type = 'phishing'")[0]["n"];
  EXPECT_EQ(report["categories"]["Phishing"], phishing);

  const auto text = RunCli({"report", "--quarter", quarter, "--data", dir});
  ASSERT_TRUE(text.status.Succeeded()) << text.err;
  EXPECT_NE(text.out.find("Incident report for " + quarter), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Incidents: 7 (open "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Time to resolve"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("SLA compliance"), std::string::npos) << text.out;

  const auto csv = RunCli({"report", "--quarter", quarter, "--data", dir, "--format", "csv"});
  ASSERT_TRUE(csv.status.Succeeded()) << csv.err;
  EXPECT_NE(csv.out.find("# categories\r\nperiod,from,to,Scan,Forged,Intrusion,Phishing,"), std::string::npos)
      << csv.out;

  const auto bad = RunCli({"report", "--quarter", "2026Q5", "--data", dir});
  EXPECT_FALSE(bad.status.Succeeded());
  EXPECT_NE(bad.err.find("--quarter"), std::string::npos) << bad.err;
}

// Breaches: P4's first response target is three seconds, and two servers check the same store
// every second.
class BreachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Prepare(dir_.path(), "[sla]\ncheck_interval_seconds = 1\n\n[sla.P4]\nfirst-response = \"3s\"\n", tokens_);
    for (int i = 0; i < 2; ++i) {
      servers_.push_back(Server::Start(dir_.path()));
      ASSERT_NE(servers_.back(), nullptr);
    }
  }
  void TearDown() override {
    for (auto& s : servers_) {
      if (s) {
        EXPECT_TRUE(s->Stop().Succeeded());
      }
    }
  }
  Server& S(int i = 0) { return *servers_[static_cast<std::size_t>(i)]; }

  std::string Create(json body) {
    const auto r = S().Call("POST", "/api/v1/incidents", tokens_.at("alice"), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
  std::vector<std::unique_ptr<Server>> servers_;
};

TEST_F(BreachTest, ABreachIsRecordedOnceOnTheTimelineAndListed) {
  const json p4 = {{"title", "slow"}, {"category", "Scan"}, {"constituency", "alpha"}, {"impact", 4}, {"urgency", 4}};
  const std::string late = Create(p4);
  const std::string quick = Create(p4);
  const auto patched =
      S(1).Call("PATCH", "/api/v1/incidents/" + quick, tokens_.at("alice"), json{{"phase", "analysis"}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  json drill = p4;
  drill["exercise"] = true;
  const std::string exercise = Create(drill);

  // Wait for the check to find it, then let both servers check a few more times.
  json breaches;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    breaches = Body(S().Call("GET", "/api/v1/sla/breaches?incident=" + late, tokens_.at("alice")));
    if (breaches.is_object() && !breaches["items"].empty()) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(breaches.is_object() && !breaches["items"].empty()) << "no breach recorded for " << late;
  std::this_thread::sleep_for(milliseconds(3500));

  const json all = Body(S(1).Call("GET", "/api/v1/sla/breaches", tokens_.at("alice")));
  ASSERT_EQ(all["items"].size(), 1u) << all.dump();
  const json& breach = all["items"][0];
  EXPECT_EQ(breach["id"], late + "/first-response");
  EXPECT_EQ(breach["incident"], late);
  EXPECT_EQ(breach["clock"], "first-response");
  EXPECT_EQ(breach["priority"], 4);
  EXPECT_EQ(breach["target_seconds"], 3);
  EXPECT_TRUE(breach["stopped_at"].is_null());
  EXPECT_EQ(all["next_cursor"], nullptr);
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/sla/breaches?clock=triage", tokens_.at("alice")))["items"].size(), 0u);
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/sla/breaches?clock=first-response", tokens_.at("alice")))["items"].size(),
            1u);

  // On the timeline, once.
  const json timeline = Body(S().Call("GET", "/api/v1/incidents/" + late + "/timeline", tokens_.at("alice")));
  int seen = 0;
  for (const auto& entry : timeline["items"]) {
    if (entry["action"] == "sla-breach.create") {
      ++seen;
      EXPECT_EQ(entry["object_id"], late + "/first-response");
      EXPECT_EQ(entry["actor"], "system");
    }
  }
  EXPECT_EQ(seen, 1) << timeline.dump();
  // And in the database, once.
  EXPECT_EQ(Sql(dir_.path(), "SELECT count(*) AS n FROM records WHERE kind = 'sla-breach'")[0]["n"], 1);
  EXPECT_EQ(Sql(dir_.path(), "SELECT count(*) AS n FROM audit WHERE action = 'sla-breach.create'")[0]["n"], 1);

  // The clocks say why.
  const json sla = Body(S().Call("GET", "/api/v1/incidents/" + late + "/sla", tokens_.at("alice")));
  ASSERT_EQ(sla["clocks"].size(), 4u) << sla.dump();
  for (const auto& clock : sla["clocks"]) {
    if (clock["clock"] == "first-response") {
      EXPECT_EQ(clock["state"], "breached");
      EXPECT_TRUE(clock["stopped_at"].is_null());
      EXPECT_GT(clock["elapsed_seconds"].get<double>(), 3.0);
    } else if (clock["clock"] == "acknowledge" || clock["clock"] == "triage") {
      EXPECT_EQ(clock["state"], "met") << clock.dump();  // alice opened it
      EXPECT_EQ(clock["stopped_by"]["action"], "incident.create");
    } else {
      EXPECT_EQ(clock["state"], "running") << clock.dump();
    }
  }
  const json quick_sla = Body(S().Call("GET", "/api/v1/incidents/" + quick + "/sla", tokens_.at("alice")));
  EXPECT_EQ(quick_sla["clocks"][2]["state"], "met") << quick_sla.dump();
  EXPECT_EQ(quick_sla["clocks"][2]["stopped_by"]["action"], "incident.update");
  const json exercise_sla = Body(S().Call("GET", "/api/v1/incidents/" + exercise + "/sla", tokens_.at("alice")));
  EXPECT_EQ(exercise_sla["exercise"], true);
  EXPECT_EQ(exercise_sla["clocks"][2]["state"], "breached") << "an exercise has clocks, but no breach is recorded";

  // Outside bob's scope.
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/sla/breaches", tokens_.at("bob")))["items"].size(), 0u);
  EXPECT_EQ(S().Call("GET", "/api/v1/sla/breaches?incident=" + late, tokens_.at("bob")).status, 404);
  EXPECT_EQ(S().Call("GET", "/api/v1/incidents/" + late + "/sla", tokens_.at("bob")).status, 404);
  EXPECT_EQ(S().Call("GET", "/api/v1/sla/breaches?clock=late", tokens_.at("alice")).status, 400);
}

// The queue's SLA state: ?sla=breached keeps the incidents with a recorded breach, across pages,
// and every listed incident names the clocks it has breached.
TEST_F(BreachTest, TheQueueFiltersOnBreachesAndNamesTheBreachedClocks) {
  const json p4 = {{"title", "slow"}, {"category", "Scan"}, {"constituency", "alpha"}, {"impact", 4}, {"urgency", 4}};
  const std::string late = Create(p4);
  const std::string quick = Create(p4);
  ASSERT_EQ(
      S().Call("PATCH", "/api/v1/incidents/" + quick, tokens_.at("alice"), json{{"phase", "analysis"}}.dump()).status,
      200);
  const std::string newer = Create({{"title", "fresh"}, {"category", "Scan"}, {"constituency", "alpha"}});

  json breached;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    breached = Body(S().Call("GET", "/api/v1/incidents?sla=breached", tokens_.at("alice")));
    if (breached.is_object() && !breached["items"].empty()) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(breached.is_object()) << breached.dump();
  ASSERT_EQ(breached["items"].size(), 1u) << breached.dump();
  EXPECT_EQ(breached["items"][0]["id"], late);
  EXPECT_EQ(breached["items"][0]["sla_breaches"], json::array({"first-response"}));

  // One per page: the newer incidents without a breach are skipped, the cursor still ends.
  const json paged = Body(S().Call("GET", "/api/v1/incidents?sla=breached&limit=1", tokens_.at("alice")));
  ASSERT_EQ(paged["items"].size(), 1u) << paged.dump();
  EXPECT_EQ(paged["items"][0]["id"], late);
  if (!paged["next_cursor"].is_null()) {
    const json rest = Body(S().Call(
        "GET", "/api/v1/incidents?sla=breached&limit=1&cursor=" + UrlEncode(paged["next_cursor"].get<std::string>()),
        tokens_.at("alice")));
    EXPECT_EQ(rest["items"].size(), 0u) << rest.dump();
  }

  // The plain queue shows every incident, each with its breached clocks (none for most).
  const json all = Body(S().Call("GET", "/api/v1/incidents", tokens_.at("alice")));
  std::map<std::string, json> by_id;
  for (const auto& item : all["items"]) by_id[item["id"].get<std::string>()] = item["sla_breaches"];
  EXPECT_EQ(by_id[late], json::array({"first-response"}));
  EXPECT_EQ(by_id[quick], json::array());
  EXPECT_EQ(by_id[newer], json::array());

  // Bob's queue has none of alpha's breaches; a bad value is named.
  EXPECT_EQ(Body(S().Call("GET", "/api/v1/incidents?sla=breached", tokens_.at("bob")))["items"].size(), 0u);
  const auto bad = S().Call("GET", "/api/v1/incidents?sla=late", tokens_.at("alice"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Body(bad).value("field", ""), "/sla");
}

TEST(SlaConfigTest, ABadSlaSectionIsRefusedNamingTheKey) {
  TempDir dir;
  const std::string data = dir.path().string();
  const auto init = RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.err;
  for (const auto& [section, key] : std::vector<std::pair<std::string, std::string>>{
           {"[sla.P1]\ntriage = \"soon\"\n", "sla.P1.triage"},
           {"[sla.P2]\nfirst_response = \"4h\"\n", "sla.P2.first_response"},
           {"[sla]\ncheck_interval_seconds = -1\n", "sla.check_interval_seconds"},
           {"[sla]\nwho_cares = 1\n", "sla.who_cares"}}) {
    std::filesystem::copy_file(dir.path() / "hikeshi.toml", dir.path() / "hikeshi.toml.orig",
                               std::filesystem::copy_options::skip_existing);
    std::filesystem::copy_file(dir.path() / "hikeshi.toml.orig", dir.path() / "hikeshi.toml",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(dir.path() / "hikeshi.toml", std::ios::app) << "\n" << section;
    const auto run = RunCli({"report", "--quarter", "2026Q3", "--data", data});
    EXPECT_EQ(run.status.code, 65) << section << run.err;
    EXPECT_NE(run.err.find(key), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace hikeshi::e2e
