// What the SQLite backend does beyond the store contract: the file it leaves (WAL, migrations, no
// FTS triggers), the connection settings that make acknowledged writes durable, its error mapping,
// and that a person with the plain sqlite3 shell can still edit the data.

#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/store.hpp"

#include "detail/connection.hpp"
#include "detail/queries.hpp"
#include "detail/schema.hpp"

namespace hikeshi::store::sqlite {
namespace {

using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Describe(const Error& error) { return std::string(ErrorCodeName(error.code())) + ": " + error.message(); }

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hikeshi-sqlite-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A plain connection of the test's own, standing in for another process or a person.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file) {
    sqlite3* raw = nullptr;
    rc_ = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    db_.reset(raw);
  }
  bool Ok() const { return rc_ == SQLITE_OK; }
  int Exec(const std::string& sql) { return sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr); }
  // Column `column` of every row of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql, int column = 0) {
    std::vector<std::string> values;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_.get());
      return values;
    }
    std::unique_ptr<sqlite3_stmt, detail::StatementFinalize> stmt(raw);
    while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), column));
      values.emplace_back(text != nullptr ? text : "NULL");
    }
    return values;
  }

 private:
  detail::SqliteHandle db_;
  int rc_ = SQLITE_ERROR;
};

core::Incident NewIncident(std::string title) {
  core::Incident incident;
  incident.title = std::move(title);
  incident.category = core::Category{"intrusions", "system-compromise"};
  const auto at = std::chrono::sys_days{std::chrono::year{2026} / 3 / 14};
  incident.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(at);
  incident.updated_at = incident.created_at;
  return incident;
}

core::AuditContext Ctx() {
  return {"tester", std::chrono::time_point_cast<std::chrono::microseconds>(
                        std::chrono::sys_days{std::chrono::year{2026} / 3 / 14})};
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path File() const { return dir_.Path() / "hikeshi.db"; }

  std::unique_ptr<core::Store> Open(const SqliteOptions& options = {}) {
    auto store = OpenSqliteStore(File(), options);
    EXPECT_TRUE(store.has_value()) << Describe(store.error());
    return store ? std::move(*store) : nullptr;
  }

  Result<void> AddIncident(core::Store& store, std::string title) {
    return store.Write([&](core::WriteTx& tx) -> Result<void> {
      HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident(std::move(title))));
      return {};
    });
  }

  Result<std::optional<core::Incident>> Find(core::Store& store, std::string human_id) {
    std::optional<core::Incident> found;
    HIKESHI_CHECK(store.Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(found, r.FindIncident(core::Scope::All(), human_id));
      return {};
    }));
    return found;
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, OpeningCreatesAWalFileAtTheLatestSchema) {
  ASSERT_FALSE(std::filesystem::exists(File()));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(File()));

  RawDb raw(File());
  ASSERT_TRUE(raw.Ok());
  EXPECT_THAT(raw.Column("PRAGMA journal_mode"), ElementsAre("wal"));
  EXPECT_THAT(raw.Column("SELECT version FROM schema_migrations ORDER BY version"),
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8"));
  EXPECT_EQ(LatestSchemaVersion(), 8);
  for (const char* table : {"incidents",
                            "reports",
                            "constituencies",
                            "contacts",
                            "users",
                            "api_tokens",
                            "sessions",
                            "counters",
                            "audit",
                            "observables",
                            "incident_observables",
                            "report_observables",
                            "report_flags",
                            "incidents_fts",
                            "reports_fts",
                            "feed_runs",
                            "events",
                            "feed_rejects",
                            "correlations",
                            "reports_fingerprint",
                            "event_counts",
                            "mail_messages",
                            "feed_rejects_run",
                            "records",
                            "records_incident",
                            "records_kind",
                            "blobs"}) {
    EXPECT_THAT(raw.Column(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table + "'"),
                ElementsAre("1"))
        << table;
  }
}

TEST_F(SqliteStoreTest, ThereAreNoTriggersAtAll) {
  // FTS rows are kept from C++; a trigger on a base table would need our tokenizer inside the
  // sqlite3 shell and break hand edits.
  auto store = Open();
  RawDb raw(File());
  EXPECT_THAT(raw.Column("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), ElementsAre("0"));
}

TEST_F(SqliteStoreTest, ReopeningRunsNoMigrationTwice) {
  { auto store = Open(); }
  { auto store = Open(); }
  RawDb raw(File());
  EXPECT_THAT(raw.Column("SELECT count(*) FROM schema_migrations"), ElementsAre("8"));
}

// A file at schema 4 (before the trust circle) keeps its contacts: they read back unvetted and
// introduced by nobody.
TEST_F(SqliteStoreTest, MigrationFiveKeepsContactsAsUnvetted) {
  {
    auto old = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kWriter);
    ASSERT_TRUE(old.has_value()) << Describe(old.error());
    detail::Connection& db = **old;
    const auto run = [&](const char* sql) {
      const auto done = db.Execute(sql);
      ASSERT_TRUE(done.has_value()) << Describe(done.error());
    };
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT");
    for (int i = 0; i < 4; ++i) run(detail::Migrations()[static_cast<std::size_t>(i)].sql);
    run("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
    run("INSERT INTO contacts (name, email, organisation, kind, pgp_fingerprint, tlp_clearance, constituency_id, "
        "created_at) VALUES ('Peer CSIRT', 'csirt@example.org', 'Peer', 'csirt', '', 'TLP:GREEN', NULL, "
        "1773480600000000)");
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<core::Contact> contacts;
  ASSERT_TRUE(store->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(contacts, r.ListContacts());
    return {};
  }));
  ASSERT_EQ(contacts.size(), 1U);
  EXPECT_EQ(contacts[0].name, "Peer CSIRT");
  EXPECT_EQ(contacts[0].tlp_clearance, core::Tlp::kGreen);
  EXPECT_EQ(contacts[0].trust, core::ContactTrust::kUnvetted);
  EXPECT_EQ(contacts[0].introduced_by, std::nullopt);
}

// A file at schema 7 keeps every report's observables, in order, when migration 8 rebuilds their
// links without foreign keys; the pivot from an observable to its reports still works.
TEST_F(SqliteStoreTest, MigrationEightKeepsEveryReportsObservablesAndThePivot) {
  {
    auto old = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kWriter);
    ASSERT_TRUE(old.has_value()) << Describe(old.error());
    detail::Connection& db = **old;
    const auto run = [&](const std::string& sql) {
      const auto done = db.Execute(sql.c_str());
      ASSERT_TRUE(done.has_value()) << Describe(done.error());
    };
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT");
    for (int i = 0; i < 7; ++i) run(detail::Migrations()[static_cast<std::size_t>(i)].sql);
    run("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), "
        "(7, 0)");
    for (int r = 1; r <= 2; ++r) {
      run(fmt::format(
          "INSERT INTO reports (human_id, channel, reporter, subject, body, rsit_class, rsit_type, constituency_id, "
          "tlp, status, incident_id, reject_reason, reject_comment, received_at, updated_at) VALUES ('R-2026-00000{}', "
          "'mail', 'abuse@example.net', 'report {}', 'body', NULL, NULL, NULL, 'TLP:AMBER', 'new', NULL, NULL, '', "
          "1773480600000000, 1773480600000000)",
          r, r));
    }
    run("INSERT INTO observables (type, value, first_seen, last_seen) VALUES ('ipv4', '192.0.2.1', 1, 1), "
        "('domain', 'example.net', 1, 1), ('ipv4', '198.51.100.7', 1, 1)");
    // Report 1: 198.51.100.7, 192.0.2.1, example.net; report 2: 192.0.2.1.
    run("INSERT INTO report_observables (report_id, position, observable_id) VALUES (1, 0, 3), (1, 1, 1), (1, 2, 2), "
        "(2, 0, 1)");
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto first, r.FindReport(core::Scope::All(), "R-2026-000001"));
    EXPECT_TRUE(first.has_value());
    if (first) {
      EXPECT_EQ(first->observables, (std::vector<core::Observable>{{core::ObservableType::kIpv4, "198.51.100.7"},
                                                                   {core::ObservableType::kIpv4, "192.0.2.1"},
                                                                   {core::ObservableType::kDomain, "example.net"}}));
    }
    HIKESHI_TRY(const auto sightings,
                r.FindSightings(core::Scope::All(), {core::ObservableType::kIpv4, "192.0.2.1"}, 10));
    std::vector<std::string> ids;
    for (const auto& report : sightings.reports) ids.push_back(report.human_id);
    std::sort(ids.begin(), ids.end());
    EXPECT_THAT(ids, ElementsAre("R-2026-000001", "R-2026-000002"));
    return {};
  }));
  RawDb raw(File());
  EXPECT_THAT(raw.Column("PRAGMA foreign_key_list(report_observables)"), ElementsAre());
  EXPECT_THAT(raw.Column("SELECT count(*) FROM sqlite_master WHERE name = 'report_observables_pivot'"),
              ElementsAre("1"));
  EXPECT_THAT(raw.Column("SELECT count(*) FROM report_observables"), ElementsAre("4"));
}

// A file made by the previous release (schema 1) gains the feed intake tables and keeps its
// reports, which read back as reports that are not aggregates.
// A new file gets 8 KiB pages (a feed batch's raw records then take half as many WAL frames); a
// file made with SQLite's default 4 KiB pages, as earlier releases made them, keeps its pages and
// works as before.
TEST_F(SqliteStoreTest, ANewFileGets8KiBPagesAndAnOlderFileKeepsItsOwn) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
  }
  EXPECT_THAT(RawDb(File()).Column("PRAGMA page_size"), ElementsAre("8192"));

  TempDir other;
  const auto older = other.Path() / "older.db";
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(older.c_str(), &raw), SQLITE_OK);
    detail::SqliteHandle db(raw);
    ASSERT_EQ(sqlite3_exec(db.get(), "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE earlier (x)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  {
    auto store = OpenSqliteStore(older);
    ASSERT_TRUE(store.has_value()) << Describe(store.error());
    ASSERT_TRUE(AddIncident(**store, "on 4 KiB pages").has_value());
    const auto found = Find(**store, "I-2026-000001");
    ASSERT_TRUE(found.has_value());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->title, "on 4 KiB pages");
  }
  EXPECT_THAT(RawDb(older).Column("PRAGMA page_size"), ElementsAre("4096"));
}

TEST_F(SqliteStoreTest, MigrationTwoUpgradesAVersionOneFileAndKeepsItsReports) {
  {
    auto old = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kWriter);
    ASSERT_TRUE(old.has_value()) << Describe(old.error());
    detail::Connection& db = **old;
    for (const char* sql : {
             "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
             detail::Migrations()[0].sql,
             "INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)",
             "INSERT INTO reports (human_id, channel, reporter, subject, body, rsit_class, rsit_type, "
             "constituency_id, tlp, status, incident_id, reject_reason, reject_comment, received_at, updated_at) "
             "VALUES ('R-2026-000001', 'mail', 'abuse@example.net', 'from release one', 'body', NULL, NULL, NULL, "
             "'amber', 'new', NULL, NULL, '', 1773480600000000, 1773480600000000)",
         }) {
      const auto done = db.Execute(sql);
      ASSERT_TRUE(done.has_value()) << Describe(done.error());
    }
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::optional<core::Report> found;
  ASSERT_TRUE(store->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(found, r.FindReport(core::Scope::All(), "R-2026-000001"));
    return {};
  }));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->subject, "from release one");
  EXPECT_EQ(found->fingerprint, "");
  EXPECT_EQ(found->event_count, 0);
  EXPECT_EQ(found->first_seen, std::nullopt);
  EXPECT_EQ(found->last_seen, std::nullopt);

  RawDb raw(File());
  EXPECT_THAT(raw.Column("SELECT version FROM schema_migrations ORDER BY version"),
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8"));
  EXPECT_THAT(raw.Column("SELECT count(*) FROM events"), ElementsAre("0"));
  EXPECT_THAT(raw.Column("SELECT count(*) FROM mail_messages"), ElementsAre("0"));
  EXPECT_THAT(raw.Column("SELECT count(*) FROM records"), ElementsAre("0"));
}

// FindSightings must stay fast at millions of rows: the pivot index drives, and neither incidents
// nor reports is ever scanned or sorted, whatever the scope (TLP ceiling included), and also once
// ANALYZE has run.
TEST_F(SqliteStoreTest, SightingsAreFoundThroughTheObservableIndexNeverAScan) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(AddIncident(*store, "incident " + std::to_string(i)).has_value());
  RawDb raw(File());
  for (const bool analyzed : {false, true}) {
    if (analyzed) {
      ASSERT_EQ(raw.Exec("ANALYZE"), SQLITE_OK);
    }
    // A constituent's TLP ceiling adds a filter on the owner row, and must not change the plan.
    for (const core::Scope& scope :
         {core::Scope::All(), core::Scope{false, {1, 2}, std::nullopt},
          core::Scope{false, {1, 2}, core::Tlp::kAmberStrict}, core::Scope{true, {}, core::Tlp::kAmberStrict}}) {
      const std::vector<std::pair<std::string, std::string>> queries = {
          {detail::SightingIncidentsSql(scope), "incident_observables_pivot"},
          {detail::SightingReportsSql(scope), "report_observables_pivot"},
      };
      for (const auto& [sql, pivot] : queries) {
        SCOPED_TRACE(sql + (analyzed ? " (analyzed)" : ""));
        // The detail column of EXPLAIN QUERY PLAN; the scope's json_each list is the only scan.
        std::vector<std::string> plan = raw.Column("EXPLAIN QUERY PLAN " + sql, 3);
        ASSERT_FALSE(plan.empty());
        EXPECT_THAT(plan, Contains(HasSubstr(pivot)));
        EXPECT_THAT(plan, Contains(HasSubstr("sqlite_autoindex_observables_1")));
        std::erase_if(plan, [](const std::string& line) { return line.find("json_each") != std::string::npos; });
        EXPECT_THAT(plan, Each(Not(HasSubstr("SCAN"))));
        EXPECT_THAT(plan, Each(Not(HasSubstr("TEMP B-TREE"))));
      }
    }
  }
}

TEST_F(SqliteStoreTest, IntakeKeysMustBe32LowerCaseHexDigits) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const auto insert = [&](std::string key) {
    return store->Write([&](core::WriteTx& tx) -> Result<void> {
      core::FeedRun run;
      run.format = "suricata-eve";
      HIKESHI_TRY(run, tx.CreateFeedRun(Ctx(), run));
      HIKESHI_CHECK(tx.InsertEvent(core::StoredEvent{key, run.id, 1, "fp", std::nullopt, "{}"}));
      HIKESHI_CHECK(tx.InsertFeedReject(core::FeedReject{key, run.id, 1, "bad", "x", Ctx().at}));
      return {};
    });
  };
  for (const char* bad : {"", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                          "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdeg"}) {
    const auto result = insert(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << Describe(result.error());
  }
  const auto good = insert("0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(good.has_value()) << Describe(good.error());
  RawDb raw(File());
  EXPECT_THAT(raw.Column("SELECT hex(key) FROM events"), ElementsAre("0123456789ABCDEF0123456789ABCDEF"));
  EXPECT_THAT(raw.Column("SELECT length(key) FROM feed_rejects"), ElementsAre("16"));
}

TEST_F(SqliteStoreTest, ASchemaNewerThanTheProgramIsRefused) {
  { auto store = Open(); }
  {
    RawDb raw(File());
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)"), SQLITE_OK);
  }
  auto store = OpenSqliteStore(File(), {});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(store.error().message(), HasSubstr("99"));
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsAnErrorNotACrash) {
  {
    std::FILE* file = std::fopen(File().c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not an SQLite database, just text that is long enough to be read as a header", file);
    std::fclose(file);
  }
  auto store = OpenSqliteStore(File(), {});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, AMissingDirectoryIsAnError) {
  auto store = OpenSqliteStore(dir_.Path() / "no" / "such" / "dir" / "hikeshi.db", {});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kInternal);
}

// The WAL is copied into the database file by the store's own thread while writers go on (the
// writer never checkpoints in its COMMIT); with the checkpointer off, nothing is copied before
// SQLite's threshold of 10,000 pages.
TEST_F(SqliteStoreTest, TheWalIsCheckpointedInTheBackgroundWhileTheStoreIsOpen) {
  const auto write_4_mib = [&](core::Store& store) {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(AddIncident(store, "incident " + std::to_string(i) + std::string(20'000, 'x')));
    }
  };
  const auto db_file_size = [&] { return std::filesystem::file_size(File()); };
  {
    SqliteOptions options;
    options.wal_checkpoint_pages = 50;
    auto store = Open(options);
    ASSERT_NE(store, nullptr);
    write_4_mib(*store);
    // The thread runs at its own pace: wait for it (a few milliseconds normally).
    for (int i = 0; i < 200 && db_file_size() < 4'000'000; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_GE(db_file_size(), 4'000'000u) << "nothing was checkpointed while the store was open";
    // Everything is still there, read back through the WAL or the file.
    const auto last = Find(*store, "I-2026-000200");
    ASSERT_TRUE(last) << Describe(last.error());
    ASSERT_TRUE(last->has_value());
    EXPECT_EQ((*last)->title.substr(0, 12), "incident 199");
  }
  std::filesystem::remove(File());
  {
    SqliteOptions options;
    options.wal_checkpoint_pages = 0;
    auto store = Open(options);
    ASSERT_NE(store, nullptr);
    write_4_mib(*store);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_LT(db_file_size(), 1'000'000u);
  }
}

TEST_F(SqliteStoreTest, BadOptionsAreInvalidArguments) {
  SqliteOptions no_readers;
  no_readers.max_readers = 0;
  auto store = OpenSqliteStore(File(), no_readers);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument);
  SqliteOptions negative_timeout;
  negative_timeout.busy_timeout = std::chrono::milliseconds(-1);
  store = OpenSqliteStore(File(), negative_timeout);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument);
  SqliteOptions negative_checkpoint;
  negative_checkpoint.wal_checkpoint_pages = -1;
  store = OpenSqliteStore(File(), negative_checkpoint);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ConnectionsAreDurableByDefaultAndEnforceForeignKeys) {
  { auto store = Open(); }
  auto writer = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kWriter);
  ASSERT_TRUE(writer.has_value()) << Describe(writer.error());
  const auto pragma = [](detail::Connection& connection, const char* sql) -> std::int64_t {
    auto stmt = connection.Prepare(sql);
    EXPECT_TRUE(stmt.has_value());
    if (!stmt) return -1;
    auto row = stmt->Step();
    EXPECT_TRUE(row.has_value() && *row);
    return stmt->Int(0);
  };
  EXPECT_EQ(pragma(**writer, "PRAGMA synchronous"), 2) << "FULL";
  EXPECT_EQ(pragma(**writer, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(pragma(**writer, "PRAGMA busy_timeout"), 5000);
  EXPECT_EQ(pragma(**writer, "PRAGMA query_only"), 0);
  EXPECT_EQ(pragma(**writer, "PRAGMA cache_size"), -65536) << "64 MiB for feed intake's random key inserts";

  SqliteOptions relaxed;
  relaxed.synchronous = Synchronous::kNormal;
  relaxed.busy_timeout = std::chrono::milliseconds(250);
  auto reader = detail::Connection::Open(File(), relaxed, detail::ConnectionRole::kReader);
  ASSERT_TRUE(reader.has_value()) << Describe(reader.error());
  EXPECT_EQ(pragma(**reader, "PRAGMA synchronous"), 1) << "NORMAL, only when asked for";
  EXPECT_EQ(pragma(**reader, "PRAGMA busy_timeout"), 250);
  EXPECT_EQ(pragma(**reader, "PRAGMA query_only"), 1);
}

TEST_F(SqliteStoreTest, AForeignKeyToNothingIsRefused) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  core::Incident orphan = NewIncident("orphan");
  orphan.constituency_id = 999;
  const auto result = store->Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), orphan));
    return {};
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(result.error().message(), HasSubstr("FOREIGN KEY"));
}

TEST_F(SqliteStoreTest, ALockHeldByAnotherProcessIsUnavailable) {
  SqliteOptions impatient;
  impatient.busy_timeout = std::chrono::milliseconds(50);
  auto store = Open(impatient);
  ASSERT_NE(store, nullptr);
  RawDb other(File());
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);

  bool body_ran = false;
  const auto result = store->Write([&](core::WriteTx&) -> Result<void> {
    body_ran = true;
    return {};
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(body_ran) << "the write lock is taken before the callback runs";

  // Readers are not blocked by a writer in WAL mode.
  const auto read = store->Read([](core::StoreReader& r) -> Result<void> {
    HIKESHI_CHECK(r.ListUsers());
    return {};
  });
  EXPECT_TRUE(read.has_value()) << Describe(read.error());
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE(AddIncident(*store, "after the lock").has_value());
}

TEST_F(SqliteStoreTest, ErrorCodesMapAsDocumented) {
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_BUSY, "x").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_BUSY_SNAPSHOT, "x").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_LOCKED, "x").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_CONSTRAINT_UNIQUE, "x").code(), ErrorCode::kConflict);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_CONSTRAINT_PRIMARYKEY, "x").code(), ErrorCode::kConflict);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_CONSTRAINT_FOREIGNKEY, "x").code(), ErrorCode::kInternal);
  EXPECT_EQ(detail::ErrorFromSqlite(nullptr, SQLITE_CORRUPT, "x").code(), ErrorCode::kInternal);
  EXPECT_THAT(detail::ErrorFromSqlite(nullptr, SQLITE_IOERR, "writing").message(), HasSubstr("writing"));
}

TEST_F(SqliteStoreTest, AThrowingCallbackIsAnInternalErrorAndRollsBack) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const auto result = store->Write([](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident("half-way")));
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(result.error().message(), HasSubstr("boom"));
  auto found = Find(*store, "I-2026-000001");
  ASSERT_TRUE(found.has_value()) << Describe(found.error());
  EXPECT_EQ(*found, std::nullopt);

  const auto read = store->Read([](core::StoreReader&) -> Result<void> { throw 42; });
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kInternal);
  EXPECT_TRUE(AddIncident(*store, "the store still works").has_value());
}

TEST_F(SqliteStoreTest, AWriteInsideAWriteFailsInsteadOfDeadlocking) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Result<void> inner;
  const auto outer = store->Write([&](core::WriteTx&) -> Result<void> {
    inner = store->Write([](core::WriteTx&) -> Result<void> { return {}; });
    return {};
  });
  EXPECT_TRUE(outer.has_value());
  ASSERT_FALSE(inner.has_value());
  EXPECT_EQ(inner.error().code(), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, ReadsNestedBeyondThePoolFailInsteadOfHanging) {
  SqliteOptions one_reader;
  one_reader.max_readers = 1;
  one_reader.busy_timeout = std::chrono::milliseconds(50);
  auto store = Open(one_reader);
  ASSERT_NE(store, nullptr);
  Result<void> inner;
  const auto outer = store->Read([&](core::StoreReader&) -> Result<void> {
    inner = store->Read([](core::StoreReader&) -> Result<void> { return {}; });
    return {};
  });
  EXPECT_TRUE(outer.has_value());
  ASSERT_FALSE(inner.has_value());
  EXPECT_EQ(inner.error().code(), ErrorCode::kUnavailable);
}

TEST_F(SqliteStoreTest, AValueEditedToNonsenseIsReportedAsDataLoss) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(AddIncident(*store, "tampered").has_value());
  RawDb raw(File());
  ASSERT_EQ(raw.Exec("UPDATE incidents SET status = 'bogus'"), SQLITE_OK);
  auto found = Find(*store, "I-2026-000001");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(found.error().message(), HasSubstr("bogus"));
}

TEST_F(SqliteStoreTest, StatementsAreCachedAndSafeToNest) {
  { auto store = Open(); }
  auto connection = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kReader);
  ASSERT_TRUE(connection.has_value());
  const std::string sql = "SELECT value FROM json_each('[1,2,3]')";
  auto outer = (*connection)->Prepare(sql);
  ASSERT_TRUE(outer.has_value());
  ASSERT_TRUE(outer->Step().value_or(false));
  // Same text while the first is mid-iteration: a second, private statement.
  auto inner = (*connection)->Prepare(sql);
  ASSERT_TRUE(inner.has_value());
  std::vector<std::int64_t> inner_values;
  while (inner->Step().value_or(false)) inner_values.push_back(inner->Int(0));
  EXPECT_THAT(inner_values, ElementsAre(1, 2, 3));
  EXPECT_EQ(outer->Int(0), 1);
  ASSERT_TRUE(outer->Step().value_or(false));
  EXPECT_EQ(outer->Int(0), 2);
}

TEST_F(SqliteStoreTest, AnUnknownParameterNameIsAnInternalError) {
  { auto store = Open(); }
  auto connection = detail::Connection::Open(File(), SqliteOptions{}, detail::ConnectionRole::kReader);
  ASSERT_TRUE(connection.has_value());
  auto stmt = (*connection)->Prepare("SELECT :a");
  ASSERT_TRUE(stmt.has_value());
  stmt->Bind(":b", std::int64_t{1});
  const auto step = stmt->Step();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().code(), ErrorCode::kInternal);
  EXPECT_THAT(step.error().message(), HasSubstr(":b"));
}

// The audit tamper test (and any operator fixing data by hand) depends on this: the sqlite3 shell,
// which has no hikeshi_cjk tokenizer, can update an incidents row while the store is open.
// An aggregate report's row edited by hand (not through Hikeshi, so not journalled), then folded
// into: the fold's update checks the row it works from, which is the edited one, so it goes
// through; its journal entry starts from a count the entry before it never left, and
// `audit verify` names that entry.
TEST_F(SqliteStoreTest, AFoldOntoARowEditedByHandIsNamedByAuditVerify) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const auto at = [](int hour) {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::sys_days{std::chrono::year{2026} / 3 / 14} + std::chrono::hours(hour));
  };
  core::Report report;
  report.channel = core::Channel::kFeed;
  report.reporter = "suricata-eve:eve.json";
  report.subject = "suricata-eve: scan from 192.0.2.8";
  report.category = core::Category{"information-gathering", "scanner"};
  report.fingerprint = "suricata-eve|information-gathering/scanner|ipv4:192.0.2.8|2026-03-14";
  report.event_count = 3;
  report.first_seen = report.last_seen = at(8);
  report.received_at = report.updated_at = at(8);
  report.observables = {{core::ObservableType::kIpv4, "192.0.2.8"}};
  core::Report created;
  ASSERT_TRUE(store->Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(created, tx.CreateReport({"feed", at(8)}, report));
    core::Report folded = created;
    folded.event_count = 7;
    folded.updated_at = at(9);
    return tx.UpdateAggregate({"feed", at(9)}, created, folded);
  }));

  RawDb raw(File());
  ASSERT_TRUE(raw.Ok());
  ASSERT_EQ(raw.Exec("UPDATE reports SET event_count = 5 WHERE human_id = '" + created.human_id + "'"), SQLITE_OK);

  ASSERT_TRUE(store->Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto edited, tx.FindReportByFingerprint(report.fingerprint));
    if (!edited) return Fail(Error::NotFound("the report"));
    EXPECT_EQ(edited->event_count, 5);
    core::Report folded = *edited;
    folded.event_count = 6;
    folded.updated_at = at(10);
    return tx.UpdateAggregate({"feed", at(10)}, *edited, folded);
  }));
  auto verdict = core::VerifyAudit(*store);
  ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
  EXPECT_FALSE(verdict->ok());
  EXPECT_EQ(verdict->first_bad_seq, 3);
  EXPECT_THAT(verdict->problem, ::testing::HasSubstr("does not follow from its previous entry"));
  EXPECT_THAT(verdict->problem, ::testing::HasSubstr(created.human_id));
}

TEST_F(SqliteStoreTest, TheSqlite3ShellCanEditAnIncidentRow) {
#ifndef HIKESHI_SQLITE3_SHELL
  GTEST_SKIP() << "no sqlite3 command-line shell was found at configure time";
#else
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(AddIncident(*store, "original title").has_value());

  const std::string command = std::string(HIKESHI_SQLITE3_SHELL) + " '" + File().string() +
                              "' \"UPDATE incidents SET title = 'edited by hand' WHERE human_id = 'I-2026-000001'\""
                              " 2>&1";
  std::FILE* shell = popen(command.c_str(), "r");
  ASSERT_NE(shell, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, shell) != nullptr) output += buffer;
  const int status = pclose(shell);
  ASSERT_EQ(status, 0) << output;
  EXPECT_EQ(output, "");

  auto found = Find(*store, "I-2026-000001");
  ASSERT_TRUE(found.has_value()) << Describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->title, "edited by hand");
  // The store keeps working afterwards, writes included.
  EXPECT_TRUE(AddIncident(*store, "after the edit").has_value());
#endif
}

}  // namespace
}  // namespace hikeshi::store::sqlite
