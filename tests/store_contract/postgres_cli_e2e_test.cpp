// The real `hikeshi` binary on PostgreSQL: `init --store URL`, `serve --store URL` creating an
// incident over HTTP, and `audit verify --store URL` (and with HIKESHI_STORE) passing; a row edited
// behind Hikeshi's back is caught; the URL's password appears in no output; a server that is down
// is exit 75 (try again) with a clear message.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../api/e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string PasswordOf(const std::string& url) {
  // postgresql://user:PASSWORD@host:port/db, as the pg_server fixture writes it.
  const std::size_t colon = url.find(':', std::string("postgresql://").size());
  const std::size_t at = url.find('@');
  return url.substr(colon + 1, at - colon - 1);
}

TEST(PostgresCliTest, InitServeAndAuditVerifyOnPostgres) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.has_value()) << database.error().message();
  const std::string url = database->Conninfo();
  const std::string password = PasswordOf(url);
  ASSERT_GE(password.size(), 16U);
  TempDir dir;
  const std::string data = (dir.path() / "data").string();

  const CliResult init = RunCli({"init", "--data", data, "--store", url}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.status.ToString() << "\n" << init.err;
  EXPECT_THAT(init.out, HasSubstr("Initialised Hikeshi store in postgresql://hikeshi_test:***@127.0.0.1"));
  EXPECT_THAT(init.out + init.err, Not(HasSubstr(password)));
  // The data directory holds configuration only: the store is the database.
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(data) / "hikeshi.db"));

  const CliResult token = RunCli({"token", "create", "--data", data, "--store", url, "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  std::string secret = token.out;
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  ASSERT_FALSE(secret.empty());

  auto server = Server::Start(dir.path() / "data", {"--store", url});
  ASSERT_NE(server, nullptr);
  const nlohmann::json incident = {
      {"title", "Webサーバへの侵入"},
      {"category", "intrusions/system-compromise"},
      {"impact", 2},
      {"urgency", 2},
      {"observables", nlohmann::json::array({{{"type", "ipv4"}, {"value", "192.0.2.66"}}})}};
  const auto created = server->Call("POST", "/api/v1/incidents", secret, incident.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string human_id = Body(created).value("id", "");
  EXPECT_THAT(human_id, ::testing::StartsWith("I-"));
  // Found again through PostgreSQL's text index and observable pivot.
  const auto found = server->Call("GET", "/api/v1/incidents?q=" + UrlEncode("侵入"), secret);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_THAT(found.body, HasSubstr(human_id));
  const auto pivot = server->Call("GET", "/api/v1/observables/192.0.2.66", secret);
  EXPECT_EQ(pivot.status, 200) << pivot.body;
  EXPECT_THAT(pivot.body, HasSubstr(human_id));
  EXPECT_TRUE(server->Stop().Succeeded());
  EXPECT_THAT(server->process().Stderr(), HasSubstr("Hikeshi serving postgresql://hikeshi_test:***@"));
  EXPECT_THAT(server->process().Stdout() + server->process().Stderr(), Not(HasSubstr(password)));

  const CliResult verify = RunCli({"audit", "verify", "--data", data, "--store", url});
  EXPECT_EQ(verify.status.code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("audit journal intact"));
  // The same store named by the environment instead of the option.
  const CliResult from_env = RunCli({"audit", "verify", "--data", data}, {{"HIKESHI_STORE", url}});
  EXPECT_EQ(from_env.status.code, 0) << from_env.out << from_env.err;

  // An incident edited in the database behind Hikeshi's back is found.
  ASSERT_TRUE(testing::RunSql(url, "UPDATE incidents SET title = 'nothing happened'").has_value());
  const CliResult tampered = RunCli({"audit", "verify", "--data", data, "--store", url});
  EXPECT_EQ(tampered.status.code, 1) << tampered.out << tampered.err;
  EXPECT_THAT(tampered.err, HasSubstr("AUDIT VERIFICATION FAILED"));
}

// Mail on PostgreSQL: `mailgate --store URL` keeps the message and its attachment in the database
// (sealed, not as files in DATA/blobs), and the API on the same database serves them back.
TEST(PostgresCliTest, MailgateKeepsMailAndBlobsInTheDatabase) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.has_value()) << database.error().message();
  const std::string url = database->Conninfo();
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  const CliResult init =
      RunCli({"init", "--data", data.string(), "--store", url}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.err;
  const CliResult token = RunCli({"token", "create", "--data", data.string(), "--store", url, "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  const std::string secret = token.out.substr(0, token.out.find('\n'));

  const std::string raw =
      "From: Reporter <g@a.example>\r\nTo: csirt@localhost\r\nSubject: Brute force from 192.0.2.99\r\n"
      "Message-ID: <pg-att@a.example>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsee the log\r\n"
      "--m\r\nContent-Type: text/plain; name=\"auth.log\"\r\nContent-Disposition: attachment; filename=\"auth.log\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nRmFpbGVkIHBhc3N3b3JkIGZyb20gMTkyLjAuMi45OQo=\r\n--m--\r\n";
  for (int delivery = 0; delivery < 2; ++delivery) {  // the second is an MTA's redelivery
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--data", data.string(), "--store", url};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    ASSERT_TRUE(child) << child.error().message();
    const auto status = child->Wait(std::chrono::seconds(60));
    ASSERT_TRUE(status && status->Succeeded()) << child->Stderr();
  }
  // Two blobs (the message, the attachment), once each, and sealed: the log line is not in them.
  auto blobs = testing::QueryValue(url, "SELECT count(*) FROM blobs");
  ASSERT_TRUE(blobs) << blobs.error().message();
  EXPECT_EQ(*blobs, "2");
  auto leaked =
      testing::QueryValue(url, "SELECT count(*) FROM blobs WHERE position('\\x4661696c6564'::bytea IN sealed) > 0");
  ASSERT_TRUE(leaked) << leaked.error().message();
  EXPECT_EQ(*leaked, "0") << "\"Failed\" appears in no sealed blob";
  std::size_t files = 0;
  if (std::filesystem::exists(data / "blobs")) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data / "blobs"))
      files += entry.is_regular_file();
  }
  EXPECT_EQ(files, 0U) << "no blob files beside a PostgreSQL store";

  auto server = Server::Start(data, {"--store", url});
  ASSERT_NE(server, nullptr);
  const auto reports = server->Call("GET", "/api/v1/reports", secret);
  ASSERT_EQ(reports.status, 200) << reports.body;
  const nlohmann::json items = Body(reports)["items"];
  ASSERT_EQ(items.size(), 1U) << "the redelivery made no second report";
  const std::string id = items[0]["id"];
  EXPECT_EQ(items[0]["subject"], "Brute force from 192.0.2.99");
  const auto mail = server->Call("GET", "/api/v1/reports/" + id + "/mail", secret);
  ASSERT_EQ(mail.status, 200) << mail.body;
  const nlohmann::json message = Body(mail)["items"][0];
  const std::string base = "/api/v1/reports/" + id + "/mail/" + std::to_string(message["id"].get<int>());
  const auto raw_back = server->Call("GET", base + "/raw", secret);
  EXPECT_EQ(raw_back.status, 200);
  EXPECT_EQ(raw_back.body, raw) << "the raw message comes back byte for byte";
  ASSERT_EQ(message["attachments"].size(), 1U);
  const auto file =
      server->Call("GET", base + "/attachments/" + message["attachments"][0]["sha256"].get<std::string>(), secret);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "Failed password from 192.0.2.99\n");
  EXPECT_TRUE(server->Stop().Succeeded());

  const CliResult verify = RunCli({"audit", "verify", "--data", data.string(), "--store", url});
  EXPECT_EQ(verify.status.code, 0) << verify.out << verify.err;
}

TEST(PostgresCliTest, AServerThatIsDownIsExit75WithoutThePassword) {
  TempDir dir;
  const CliResult down = RunCli({"audit", "verify", "--data", (dir.path() / "data").string(), "--store",
                                 "postgresql://hikeshi:Sup3r-S3cret@127.0.0.1:1/hikeshi"});
  EXPECT_EQ(down.status.code, 75) << down.status.ToString();
  EXPECT_THAT(down.err, HasSubstr("cannot connect to PostgreSQL (postgresql://hikeshi:***@127.0.0.1:1/hikeshi)"));
  EXPECT_THAT(down.out + down.err, Not(HasSubstr("Sup3r-S3cret")));
}

TEST(PostgresCliTest, AStoreThatIsNoPostgresUrlIsAUsageError) {
  TempDir dir;
  const CliResult wrong =
      RunCli({"init", "--data", (dir.path() / "data").string(), "--store", "mysql://root:Sup3r-S3cret@db/x"});
  EXPECT_FALSE(wrong.status.Succeeded());
  EXPECT_THAT(wrong.err, HasSubstr("--store must be a postgres:// or postgresql:// URL"));
  EXPECT_THAT(wrong.out + wrong.err, Not(HasSubstr("Sup3r-S3cret")));
}

}  // namespace
}  // namespace hikeshi::e2e
