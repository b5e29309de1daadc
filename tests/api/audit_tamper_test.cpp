// `hikeshi audit verify`: passes on an intact store, and after a row of the journal or of the data
// is edited with the plain sqlite3 shell it fails and names the first bad entry.

#include <cstdlib>

#include <gtest/gtest.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;

// Builds a store with a bit of everything: constituency, users, token, incident, report, link.
void Populate(const TempDir& dir) {
  const std::string data = dir.path().string();
  ASSERT_TRUE(RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
  ASSERT_TRUE(RunCli({"constituency", "add", "--data", data, "alpha", "--cidr", "192.0.2.0/24"}).status.Succeeded());
  ASSERT_TRUE(RunCli({"user", "add", "--data", data, "alice", "--role", "handler", "--constituency", "alpha"},
                     {{"HIKESHI_PASSWORD", kUserPassword}})
                  .status.Succeeded());
  const auto token = RunCli({"token", "create", "--data", data, "--user", "alice"});
  ASSERT_TRUE(token.status.Succeeded());
  const std::string secret = token.out.substr(0, token.out.find('\n'));
  auto server = Server::Start(dir.path());
  ASSERT_NE(server, nullptr);
  const auto incident = server->Call("POST", "/api/v1/incidents", secret,
                                     R"({"title":"サーバ侵入","category":"Intrusion","constituency":"alpha"})");
  ASSERT_EQ(incident.status, 201) << incident.body;
  const auto report = server->Call("POST", "/api/v1/reports", secret, R"({"subject":"侵入の報告"})");
  ASSERT_EQ(report.status, 201) << report.body;
  const std::string rid = Body(report)["id"];
  const std::string iid = Body(incident)["id"];
  ASSERT_EQ(server->Call("POST", "/api/v1/reports/" + rid + "/link", secret, json({{"incident", iid}}).dump()).status,
            200);
  ASSERT_EQ(server->Call("PATCH", "/api/v1/incidents/" + iid, secret, R"({"phase":"analysis"})").status, 200);
  ASSERT_TRUE(server->Stop().Succeeded());
}

int Sqlite(const TempDir& dir, const std::string& sql) {
  const std::string command = "sqlite3 '" + (dir.path() / "hikeshi.db").string() + "' \"" + sql + "\"";
  return std::system(command.c_str());
}

CliResult Verify(const TempDir& dir) { return RunCli({"audit", "verify", "--data", dir.path().string()}); }

TEST(AuditTamperTest, IntactStoreVerifies) {
  TempDir dir;
  Populate(dir);
  const auto result = Verify(dir);
  EXPECT_TRUE(result.status.Succeeded()) << result.err;
  EXPECT_NE(result.out.find("intact"), std::string::npos) << result.out;
}

TEST(AuditTamperTest, EditedJournalEntryIsNamed) {
  TempDir dir;
  Populate(dir);
  // Entry 3 is the user 'alice' being added (1 admin, 2 constituency, 3 alice).
  ASSERT_EQ(Sqlite(dir, "UPDATE audit SET actor = 'mallory' WHERE seq = 3"), 0);
  const auto result = Verify(dir);
  EXPECT_EQ(result.status.code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("entry #3"), std::string::npos) << result.err;
}

TEST(AuditTamperTest, DeletedJournalEntryIsNamed) {
  TempDir dir;
  Populate(dir);
  ASSERT_EQ(Sqlite(dir, "DELETE FROM audit WHERE seq = 2"), 0);
  const auto result = Verify(dir);
  EXPECT_EQ(result.status.code, 1);
  EXPECT_NE(result.err.find("entry #3"), std::string::npos) << result.err;  // #3 no longer follows #1
}

TEST(AuditTamperTest, EditedIncidentRowIsNamed) {
  TempDir dir;
  Populate(dir);
  ASSERT_EQ(Sqlite(dir, "UPDATE incidents SET title = 'nothing happened'"), 0);
  const auto result = Verify(dir);
  EXPECT_EQ(result.status.code, 1);
  EXPECT_NE(result.err.find("incident I-"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("changed behind"), std::string::npos) << result.err;
}

TEST(AuditTamperTest, PasswordSwappedBehindTheJournalIsDetected) {
  TempDir dir;
  Populate(dir);
  ASSERT_EQ(Sqlite(dir,
                   "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'alice') "
                   "WHERE username = 'admin'"),
            0);
  const auto result = Verify(dir);
  EXPECT_EQ(result.status.code, 1);
  EXPECT_NE(result.err.find("user admin"), std::string::npos) << result.err;
}

TEST(AuditTamperTest, RowInsertedBehindTheJournalIsDetected) {
  TempDir dir;
  Populate(dir);
  ASSERT_EQ(Sqlite(dir,
                   "INSERT INTO constituencies (name, description, cidrs, asns, domains, created_at) "
                   "SELECT 'rogue', description, cidrs, asns, domains, created_at FROM constituencies LIMIT 1"),
            0);
  const auto result = Verify(dir);
  EXPECT_EQ(result.status.code, 1);
  EXPECT_NE(result.err.find("constituency rogue"), std::string::npos) << result.err;
}

TEST(AuditTamperTest, VerifyOnAMissingStoreSaysSo) {
  TempDir dir;
  const auto result = RunCli({"audit", "verify", "--data", (dir.path() / "nowhere").string()});
  EXPECT_EQ(result.status.code, 66);
  EXPECT_NE(result.err.find("hikeshi init"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace hikeshi::e2e
