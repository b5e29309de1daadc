// `hikeshi migrate --from DIR --to postgresql://...` with the real binary: a SQLite store holding
// incidents, reports, a feed run with its events and rejects, mail with an attachment (kept as a
// row of the store, under the inline limit, while the raw message is a blob file), a response
// record of an incident, users and tokens is copied; every table holds as many rows as the source
// (counted with the sqlite3 shell and SQL, not by Hikeshi), the copy's audit journal verifies, its
// text index, blobs and id sequences work; a target holding other data is refused; a copy killed
// with SIGKILL midway and run again completes with nothing missing and nothing twice.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "../api/e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::e2e {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// Every table of a store (the copy order in src/store/postgres/store_copy.cpp).
const std::vector<std::string> kTables = {
    "constituencies", "users",       "contacts",  "api_tokens",           "sessions",     "counters",
    "audit",          "observables", "incidents", "incident_observables", "reports",      "report_observables",
    "report_flags",   "feed_runs",   "events",    "event_counts",         "feed_rejects", "correlations",
    "mail_messages",  "records"};

constexpr std::string_view kProbeBody = R"({"title":"遮断: 192.0.2.10","assignee":"bob","steps":[1,2]})";

// Writes a response record of a kind of its own (so that no use case that owns a kind reads it)
// through the store port: `key` on incident `human_id`. Errors: those of the store, kNotFound
// without the incident.
Result<core::Record> CreateProbe(core::Store& store, const std::string& key, const std::string& human_id) {
  core::Record created;
  HIKESHI_CHECK(store.Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, tx.FindIncident(core::Scope::All(), human_id));
    if (!incident) return Fail(Error::NotFound(human_id));
    core::Record probe;
    probe.kind = "migrate-probe";
    probe.key = key;
    probe.incident_id = incident->id;
    probe.state = "open";
    probe.body = std::string(kProbeBody);
    probe.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    probe.updated_at = probe.created_at;
    HIKESHI_TRY(created, tx.CreateRecord({"bob", probe.created_at}, probe, human_id));
    return {};
  }));
  return created;
}

// `alerts` Suricata alerts from `sources` scanners in 192.0.2.0/24, plus one line that is no JSON.
std::string EveFeed(int alerts, int sources) {
  std::string out;
  for (int i = 0; i < alerts; ++i) {
    out += nlohmann::json({{"timestamp", "2026-11-27T01:" + std::to_string(10 + i % 50) + ":03.000000+0000"},
                           {"flow_id", 1000000 + i},
                           {"event_type", "alert"},
                           {"src_ip", "192.0.2." + std::to_string(10 + i % sources)},
                           {"src_port", 40000 + i % 1000},
                           {"dest_ip", "198.51.100.1"},
                           {"dest_port", 22},
                           {"proto", "TCP"},
                           {"alert", {{"signature_id", 2001219}, {"signature", "ET SCAN Potential SSH Scan"}}}})
               .dump() +
           "\n";
  }
  return out + "{not json\n";
}

// One number, read with the sqlite3 shell, independently of Hikeshi.
std::string SqliteValue(const std::filesystem::path& data, const std::string& sql) {
  const std::string command = "sqlite3 '" + (data / "hikeshi.db").string() + "' \"" + sql + "\"";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "(popen failed)";
  std::string value;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) value.append(buffer, n);
  ::pclose(pipe);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

std::string PgValue(const std::string& url, const std::string& sql) {
  auto value = testing::QueryValue(url, sql);
  return value ? *value : "(error: " + value.error().message() + ")";
}

void ExpectSameCounts(const std::filesystem::path& data, const std::string& url) {
  for (const std::string& table : kTables) {
    EXPECT_EQ(PgValue(url, "SELECT count(*) FROM " + table), SqliteValue(data, "SELECT count(*) FROM " + table))
        << table;
  }
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = testing::TestDatabase::Create();
    ASSERT_TRUE(database.has_value()) << database.error().message();
    database_.emplace(std::move(*database));
    url_ = database_->Conninfo();
    data_ = dir_.path() / "data";
    ASSERT_TRUE(
        RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
    ASSERT_TRUE(RunCli({"constituency", "add", "--data", data_.string(), "alpha", "--cidr", "192.0.2.0/24"})
                    .status.Succeeded());
  }
  CliResult Ingest(int alerts, int sources) {
    const auto file = dir_.path() / "eve.json";
    std::ofstream(file, std::ios::binary) << EveFeed(alerts, sources);
    return RunCli({"ingest", "feed", "--data", data_.string(), "--format", "suricata-eve", "--quiet", file.string()});
  }
  CliResult Migrate(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"migrate", "--from", data_.string(), "--to", url_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args);
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::optional<testing::TestDatabase> database_;
  std::string url_;
};

TEST_F(MigrateTest, TheCopyIsTheSameStoreAndVerifies) {
  ASSERT_TRUE(RunCli({"user", "add", "--data", data_.string(), "bob", "--role", "handler", "--constituency", "alpha"},
                     {{"HIKESHI_PASSWORD", kUserPassword}})
                  .status.Succeeded());
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  const std::string secret = token.out.substr(0, token.out.find('\n'));
  {
    auto server = Server::Start(data_);
    ASSERT_NE(server, nullptr);
    const nlohmann::json incident = {
        {"title", "Webサーバへの侵入"},
        {"category", "intrusions/system-compromise"},
        {"impact", 2},
        {"urgency", 2},
        {"observables", nlohmann::json::array({{{"type", "ipv4"}, {"value", "192.0.2.10"}}})}};
    const auto created = server->Call("POST", "/api/v1/incidents", secret, incident.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(Body(created)["id"], "I-2026-000001");
    // The trust circle refers within its own table, here to a newer row: contact 1 was introduced
    // by contact 2, which the copy must still carry over.
    for (const std::string name : {"Alpha NOC", "Peer CSIRT"}) {
      const auto contact = server->Call("POST", "/api/v1/contacts", secret,
                                        nlohmann::json{{"name", name}, {"email", "x@example.org"}}.dump());
      ASSERT_EQ(contact.status, 201) << contact.body;
    }
    const auto introduced = server->Call("PATCH", "/api/v1/contacts/1", secret,
                                         nlohmann::json{{"trust", "introduced"}, {"introduced_by", 2}}.dump());
    ASSERT_EQ(introduced.status, 200) << introduced.body;
  }
  const auto ingested = Ingest(300, 7);
  ASSERT_TRUE(ingested.status.Succeeded()) << ingested.err;
  const std::string raw =
      "From: g@a.example\r\nTo: csirt@localhost\r\nSubject: Log attached\r\nMessage-ID: <att@a.example>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: "
      "text/plain\r\n\r\n"
      "see the log\r\n--m\r\nContent-Type: text/plain; name=\"auth.log\"\r\n"
      "Content-Disposition: attachment; filename=\"auth.log\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "RmFpbGVkIHBhc3N3b3JkIGZyb20gMTkyLjAuMi45OQo=\r\n--m--\r\n";
  const std::string attachment = "Failed password from 192.0.2.99\n";
  // Blobs up to 100 bytes are rows of the store: the attachment is one, the raw message a file.
  std::ofstream(data_ / "hikeshi.toml", std::ios::trunc) << "[mail]\ninline_blob_max_bytes = 100\n";
  {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--data", data_.string()};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    ASSERT_TRUE(child);
    const auto status = child->Wait(seconds(60));
    ASSERT_TRUE(status && status->Succeeded()) << child->Stderr();
  }
  {
    auto store = store::sqlite::OpenSqliteStore(data_ / "hikeshi.db");
    ASSERT_TRUE(store) << store.error().message();
    const auto probe = CreateProbe(**store, "P-1", "I-2026-000001");
    ASSERT_TRUE(probe) << probe.error().message();
  }
  // The source holds what the test made (so that the comparison below compares something).
  EXPECT_EQ(SqliteValue(data_, "SELECT count(*) FROM records WHERE kind = 'migrate-probe'"), "1");
  EXPECT_EQ(SqliteValue(data_, "SELECT count(*) FROM events"), "300");
  EXPECT_EQ(SqliteValue(data_, "SELECT count(*) FROM feed_rejects"), "1");
  EXPECT_EQ(SqliteValue(data_, "SELECT count(*) FROM mail_messages WHERE direction = 'in'"), "1");
  EXPECT_EQ(SqliteValue(data_, "SELECT size FROM blobs"), std::to_string(attachment.size()))
      << "the attachment, and only it, is a row";
  int blob_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_ / "blobs")) {
    blob_files += entry.is_regular_file();
  }
  EXPECT_EQ(blob_files, 1) << "the raw message is a file";

  const CliResult migrated = Migrate({"--batch-rows", "37"});
  ASSERT_EQ(migrated.status.code, 0) << migrated.out << migrated.err;
  EXPECT_THAT(migrated.err, HasSubstr("migrate: events 300/300"));
  EXPECT_THAT(migrated.out, HasSubstr("The copy's audit journal verifies"));
  ExpectSameCounts(data_, url_);
  EXPECT_EQ(PgValue(url_, "SELECT string_agg(hash, ',' ORDER BY seq) FROM audit"),
            SqliteValue(data_, "SELECT group_concat(hash, ',') FROM (SELECT hash FROM audit ORDER BY seq)"))
      << "the journal is copied entry by entry";
  EXPECT_EQ(PgValue(url_, "SELECT count(*) FROM blobs"), "2") << "the raw message and the attachment";
  EXPECT_EQ(PgValue(url_, "SELECT trust || ' by ' || introduced_by FROM contacts WHERE id = 1"), "introduced by 2");
  EXPECT_EQ(PgValue(url_, "SELECT body FROM records WHERE kind = 'migrate-probe' AND key = 'P-1'"), kProbeBody);
  EXPECT_EQ(PgValue(url_,
                    "SELECT i.human_id FROM records r JOIN incidents i ON i.id = r.incident_id "
                    "WHERE r.kind = 'migrate-probe'"),
            "I-2026-000001");

  const CliResult verify = RunCli({"audit", "verify", "--data", data_.string(), "--store", url_});
  EXPECT_EQ(verify.status.code, 0) << verify.out << verify.err;

  // The copy serves: full-text search (rebuilt), blobs (moved), and new ids after the copied ones.
  {
    auto server = Server::Start(data_, {"--store", url_});
    ASSERT_NE(server, nullptr);
    const auto found = server->Call("GET", "/api/v1/incidents?q=" + UrlEncode("侵入"), secret);
    EXPECT_EQ(found.status, 200);
    EXPECT_THAT(found.body, HasSubstr("I-2026-000001"));
    const auto reports = server->Call("GET", "/api/v1/reports", secret);
    ASSERT_EQ(reports.status, 200);
    std::string mail_report;
    const nlohmann::json items = Body(reports)["items"];
    for (const auto& r : items) {
      if (r["channel"] == "mail") mail_report = r["id"];
    }
    ASSERT_FALSE(mail_report.empty()) << reports.body;
    const auto mail = server->Call("GET", "/api/v1/reports/" + mail_report + "/mail", secret);
    const nlohmann::json message = Body(mail)["items"][0];
    const std::string base = "/api/v1/reports/" + mail_report + "/mail/" + std::to_string(message["id"].get<int>());
    const auto raw_back = server->Call("GET", base + "/raw", secret);
    EXPECT_EQ(raw_back.status, 200);
    EXPECT_EQ(raw_back.body, raw) << "the blob reads back byte for byte";
    const std::string sha = message["attachments"][0]["sha256"];
    const auto attachment_back = server->Call("GET", base + "/attachments/" + sha, secret);
    EXPECT_EQ(attachment_back.status, 200);
    EXPECT_EQ(attachment_back.body, attachment) << "the row moved too";
    const auto created = server->Call(
        "POST", "/api/v1/incidents", secret,
        nlohmann::json({{"title", "after the move"}, {"category", "fraud/phishing"}, {"impact", 3}, {"urgency", 3}})
            .dump());
    ASSERT_EQ(created.status, 201) << created.body << "\n" << server->process().Stderr();
    EXPECT_EQ(Body(created)["id"], "I-2026-000002");
  }
  {
    // New records take ids after the copied ones (the id sequence was moved on).
    auto store = store::postgres::OpenPostgresStore(url_);
    ASSERT_TRUE(store) << store.error().message();
    const auto probe = CreateProbe(**store, "P-2", "I-2026-000002");
    ASSERT_TRUE(probe) << probe.error().message();
    EXPECT_GT(probe->id, std::stoll(SqliteValue(data_, "SELECT max(id) FROM records")));
  }
  const CliResult verify_after = RunCli({"audit", "verify", "--data", data_.string(), "--store", url_});
  EXPECT_EQ(verify_after.status.code, 0) << verify_after.out << verify_after.err;

  // The target now holds data that is not the source's: another run refuses to mix them.
  const CliResult again = Migrate();
  EXPECT_NE(again.status.code, 0);
  EXPECT_THAT(again.err, HasSubstr("already holds data"));
}

TEST_F(MigrateTest, ADatabaseThatHoldsAnotherStoreIsRefused) {
  ASSERT_TRUE(RunCli({"init", "--data", (dir_.path() / "other").string(), "--store", url_},
                     {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}})
                  .status.Succeeded());
  const CliResult refused = Migrate();
  EXPECT_NE(refused.status.code, 0);
  EXPECT_THAT(refused.err, HasSubstr("already holds data"));
  EXPECT_EQ(PgValue(url_, "SELECT count(*) FROM constituencies"), "0") << "nothing was copied";
}

TEST_F(MigrateTest, KilledMidwayAndRunAgainItCopiesEverythingOnce) {
  const auto ingested = Ingest(4000, 13);
  ASSERT_TRUE(ingested.status.Succeeded()) << ingested.err;
  ASSERT_EQ(SqliteValue(data_, "SELECT count(*) FROM events"), "4000");
  {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"migrate", "--from", data_.string(), "--to", url_, "--batch-rows", "10"};
    auto child = testing::ChildProcess::Spawn(options);
    ASSERT_TRUE(child) << child.error().message();
    auto line = child->WaitForOutput("migrate: events 500/", seconds(120));
    ASSERT_TRUE(line) << line.error().message();
    EXPECT_TRUE(child->Kill().KilledBy(SIGKILL));
  }
  const std::string partial = PgValue(url_, "SELECT count(*) FROM events");
  EXPECT_GE(std::stoi(partial), 500);
  EXPECT_LT(std::stoi(partial), 4000) << "killed midway";

  const CliResult resumed = Migrate({"--batch-rows", "500"});
  ASSERT_EQ(resumed.status.code, 0) << resumed.out << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("(resumed)"));
  ExpectSameCounts(data_, url_);
  EXPECT_EQ(PgValue(url_, "SELECT count(DISTINCT key) FROM events"), "4000") << "each event once";
  const CliResult verify = RunCli({"audit", "verify", "--data", data_.string(), "--store", url_});
  EXPECT_EQ(verify.status.code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace hikeshi::e2e
