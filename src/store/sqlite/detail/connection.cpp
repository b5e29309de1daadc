#include "detail/connection.hpp"

#include <string>
#include <utility>

#include <fmt/format.h>

#include "detail/cjk_tokenizer.hpp"

namespace hikeshi::store::sqlite::detail {

Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(fmt::format("{}: the database is busy ({})", context, detail));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        // SQLite's message names the clashing columns: "UNIQUE constraint failed: users.username".
        return Error::Conflict(fmt::format("{}: {}", context, detail));
      }
      break;
    default:
      break;
  }
  return Error::Internal(fmt::format("{}: {} (sqlite code {})", context, detail, rc));
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, StatementHandle owned)
    : db_(db), stmt_(stmt), owned_(std::move(owned)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(std::move(other.owned_)),
      bind_rc_(other.bind_rc_),
      bind_failure_(std::move(other.bind_failure_)) {}

Statement::~Statement() { Finish(); }

void Statement::Rewind() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
  bind_failure_.clear();
}

void Statement::Finish() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  stmt_ = nullptr;
  owned_.reset();
}

bool Statement::NoParameter(int index) {
  if (index != 0) return false;
  if (bind_rc_ == SQLITE_OK) bind_rc_ = SQLITE_RANGE;  // Index() has said which name, if it was one
  return true;
}

int Statement::Index(const char* name) {
  const int index = sqlite3_bind_parameter_index(stmt_, name);
  if (index == 0 && bind_rc_ == SQLITE_OK) {
    bind_rc_ = SQLITE_RANGE;
    bind_failure_ = fmt::format("no parameter {} in: {}", name, sqlite3_sql(stmt_));
  }
  return index;
}

Statement& Statement::Bind(const char* name, std::int64_t value) { return BindAt(Index(name), value); }

Statement& Statement::BindAt(int index, std::int64_t value) {
  if (NoParameter(index)) return *this;
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(const char* name, std::string_view value) {
  const int index = Index(name);
  if (index == 0) return *this;
  // A null data pointer would bind SQL NULL, not ''; an empty view may have one.
  const char* data = value.data() != nullptr ? value.data() : "";
  // TRANSIENT: SQLite copies, so the argument need not outlive the statement's use.
  const int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(const char* name, std::optional<std::int64_t> value) { return BindAt(Index(name), value); }

Statement& Statement::BindAt(int index, std::optional<std::int64_t> value) {
  return value ? BindAt(index, *value) : BindNullAt(index);
}

Statement& Statement::Bind(const char* name, const std::optional<std::string>& value) {
  return value ? Bind(name, std::string_view(*value)) : BindNull(name);
}

Statement& Statement::BindBlob(const char* name, std::string_view bytes) {
  const int index = Index(name);
  if (index == 0) return *this;
  // A null data pointer would bind SQL NULL, not an empty BLOB.
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  const int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBorrowed(const char* name, std::string_view text) {
  return BindBorrowedAt(Index(name), text);
}

Statement& Statement::BindBorrowedAt(int index, std::string_view text) {
  if (NoParameter(index)) return *this;
  const char* data = text.data() != nullptr ? text.data() : "";
  // STATIC: SQLite reads the bytes where they are; the destructor resets the statement and clears
  // its bindings before the caller's bytes may go away.
  const int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBorrowedBlob(const char* name, std::string_view bytes) {
  return BindBorrowedBlobAt(Index(name), bytes);
}

Statement& Statement::BindBorrowedBlobAt(int index, std::string_view bytes) {
  if (NoParameter(index)) return *this;
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  const int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindNull(const char* name) { return BindNullAt(Index(name)); }

Statement& Statement::BindNullAt(int index) {
  if (NoParameter(index)) return *this;
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    if (!bind_failure_.empty()) return Fail(Error::Internal(bind_failure_));
    return Fail(ErrorFromSqlite(db_, bind_rc_, "binding a parameter"));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The statement text tells a developer which query failed; it holds no user data (bound).
  return Fail(ErrorFromSqlite(db_, sqlite3_extended_errcode(db_), sqlite3_sql(stmt_)));
}

Result<void> Statement::Run() {
  for (;;) {
    HIKESHI_TRY(const bool row, Step());
    if (!row) return {};
  }
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<std::int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::string Statement::Blob(int column) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (bytes == nullptr) return {};
  return std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

namespace {

const char* SynchronousPragma(Synchronous synchronous) {
  switch (synchronous) {
    case Synchronous::kNormal:
      return "PRAGMA synchronous = NORMAL";
    case Synchronous::kFull:
      return "PRAGMA synchronous = FULL";
    case Synchronous::kExtra:
      return "PRAGMA synchronous = EXTRA";
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace

void ConfigureLibrary() {
  // Both settings can only be made before SQLite initialises; if something else initialised it
  // first, SQLite's defaults stay.
  // - SQLite counts every allocation it makes for sqlite3_memory_used(), under a process-wide
  //   mutex: a feed's writer allocates and frees for each event it stores, and the locking costs it
  //   a few percent. Nothing here reads those counts.
  // - A statement that may fail half-way (an insert checked against a foreign key, an upsert) keeps
  //   the pages it changes in a statement journal: in memory up to 64 KiB by default, and once one
  //   statement needs more, in a file under /var/tmp until the transaction ends. A feed's fold
  //   creates thousands of reports in one transaction, each with dozens of observable links: past
  //   the first large statement, every link insert wrote a page to that file (277,000 writes for
  //   7,500 reports, 80% of the fold's writes; docs/PERFORMANCE.md). Kept in memory, a statement
  //   journal holds at most the pages that one statement changes, and each of Hikeshi's writes
  //   changes a few rows. (A bound in bytes is not an option: SQLite then allocates the journal
  //   in chunks of that size, one per statement, which measured slower than the file.)
  static const int once = [] {
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) return 0;
    static_cast<void>(sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1));
    return sqlite3_initialize();
  }();
  static_cast<void>(once);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::filesystem::path& path, const SqliteOptions& options,
                                                     ConnectionRole role) {
  ConfigureLibrary();
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int open_rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 hands out a handle even when it fails; it must be closed either way.
  SqliteHandle db(raw);
  if (open_rc != SQLITE_OK) {
    return Fail(ErrorFromSqlite(db.get(), open_rc, fmt::format("opening {}", path.string())));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  // Defensive mode stops our own connections from corrupting the file through writable_schema and
  // the like; a person with the sqlite3 shell is unaffected.
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);

  auto connection = std::make_unique<Connection>(OpenedTag{}, std::move(db));
  HIKESHI_CHECK(connection->Execute("PRAGMA foreign_keys = ON"));
  HIKESHI_CHECK(connection->Execute(SynchronousPragma(options.synchronous)));
  if (role == ConnectionRole::kWriter) {
    // A new database gets 8 KiB pages, not SQLite's 4 KiB: feed intake writes every raw record
    // (hundreds of MB per run) through the WAL, and each page costs a frame (two writes) in the WAL
    // and a read and a write when it is checkpointed; with 8 KiB pages a feed run's writer thread
    // spends about 15% less CPU (measured, docs/PERFORMANCE.md). Ignored for an existing database,
    // which keeps its page size (docs/architecture.md says how to convert one).
    HIKESHI_CHECK(connection->Execute("PRAGMA page_size = 8192"));
    HIKESHI_TRY(auto mode, connection->Prepare("PRAGMA journal_mode = WAL"));
    HIKESHI_TRY(const bool row, mode.Step());
    if (!row || mode.Text(0) != "wal") {
      return Fail(Error::Internal(fmt::format("{}: cannot switch to WAL mode", path.string())));
    }
    // Feed intake inserts hashed (random) event keys, so every insert touches a random page of the
    // key indexes; with SQLite's default 2 MiB cache each one is a read from the file. 64 MiB keeps
    // the hot index pages of tens of millions of events in memory, for one connection only.
    HIKESHI_CHECK(connection->Execute("PRAGMA cache_size = -65536"));
    // When the store runs no checkpointer thread (SqliteOptions::wal_checkpoint_pages = 0), the
    // writer checkpoints every 10,000 pages (80 MiB of WAL, 40 MiB in an older file of 4 KiB pages)
    // instead of SQLite's 1,000: a feed batch of 10,000 events fills more than 1,000 pages, so the
    // default checkpoints after nearly every commit, which costs two more fsyncs each time
    // (measured with 4 KiB pages: 119 fsyncs for 300,000 events instead of 39). Durability is
    // unchanged: every COMMIT still syncs the WAL (synchronous=FULL). The checkpointer's hook
    // replaces this one.
    HIKESHI_CHECK(connection->Execute("PRAGMA wal_autocheckpoint = 10000"));
  } else if (role == ConnectionRole::kReader) {
    HIKESHI_CHECK(connection->Execute("PRAGMA query_only = ON"));
  }
  const int tokenizer_rc = RegisterCjkTokenizer(connection->Handle());
  if (tokenizer_rc != SQLITE_OK) {
    return Fail(ErrorFromSqlite(connection->Handle(), tokenizer_rc, "registering the hikeshi_cjk tokenizer"));
  }
  return connection;
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto cached = statements_.find(sql);
  if (cached != statements_.end() && sqlite3_stmt_busy(cached->second.get()) == 0) {
    return Statement(db_.get(), cached->second.get(), nullptr);
  }
  sqlite3_stmt* raw = nullptr;
  const unsigned flags = cached == statements_.end() ? SQLITE_PREPARE_PERSISTENT : 0;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), flags, &raw, nullptr);
  StatementHandle stmt(raw);
  if (rc != SQLITE_OK) return Fail(ErrorFromSqlite(db_.get(), rc, fmt::format("preparing {}", sql)));
  if (stmt == nullptr) return Fail(Error::Internal(fmt::format("preparing {}: no statement", sql)));
  sqlite3_stmt* const prepared = stmt.get();  // read before `stmt` is moved from
  if (cached != statements_.end()) return Statement(db_.get(), prepared, std::move(stmt));
  statements_.emplace(std::string(sql), std::move(stmt));
  return Statement(db_.get(), prepared, nullptr);
}

Result<void> Connection::Execute(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(ErrorFromSqlite(db_.get(), sqlite3_extended_errcode(db_.get()), sql));
  return {};
}

void Connection::RollbackQuietly() {
  if (InTransaction()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

}  // namespace hikeshi::store::sqlite::detail
