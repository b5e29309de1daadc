#pragma once
// One SQLite connection with its cache of prepared statements, and the RAII wrappers for the C
// handles. Every sqlite3* and sqlite3_stmt* is owned by a unique_ptr from the moment it exists.
//
// Thread-safety: a Connection is used by one thread at a time (the store hands it out under a lock);
// the connection is opened with SQLITE_OPEN_NOMUTEX accordingly.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace hikeshi::store::sqlite::detail {

struct SqliteClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalize {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteClose>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalize>;

// Maps an SQLite result code: busy/locked -> kUnavailable, a UNIQUE or PRIMARY KEY clash ->
// kConflict (the message names the clashing columns), anything else -> kInternal. `context` says
// what was being done. `db` may be null.
Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context);

// Sets the process-wide SQLite configuration the store runs with (see ConfigureSqliteLibrary in
// sqlite_store.hpp). Idempotent; Connection::Open calls it.
void ConfigureLibrary();

// A prepared statement lent out for one use: bind, step, read columns. Resets itself (and drops its
// bindings) when destroyed, so a cached statement never holds a read lock or stale parameters.
// Move-only. Binding errors are kept and reported by the first Step().
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, StatementHandle owned);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are named (":name") so that SQL assembled from optional fragments stays readable.
  Statement& Bind(const char* name, std::int64_t value);
  Statement& Bind(const char* name, std::string_view value);
  Statement& Bind(const char* name, const std::string& value) { return Bind(name, std::string_view(value)); }
  Statement& Bind(const char* name, const char* value) { return Bind(name, std::string_view(value)); }
  Statement& Bind(const char* name, std::optional<std::int64_t> value);
  Statement& Bind(const char* name, const std::optional<std::string>& value);
  Statement& BindNull(const char* name);
  // Binds `bytes` as a BLOB (a Bind of a string_view binds TEXT).
  Statement& BindBlob(const char* name, std::string_view bytes);
  // As Bind and BindBlob, but SQLite reads the caller's bytes instead of copying them (for the feed
  // intake's hot path): they must stay unchanged until this Statement is destroyed or finished.
  Statement& BindBorrowed(const char* name, std::string_view text);
  Statement& BindBorrowedBlob(const char* name, std::string_view bytes);
  // Avoids int -> bool/int64 ambiguity at call sites.
  Statement& BindBool(const char* name, bool value) { return Bind(name, std::int64_t{value ? 1 : 0}); }
  // For a statement bound thousands of times in a loop (with Rewind): the parameter's number,
  // looked up once, and binding by number, which skips the lookup by name. ParameterIndex returns
  // 0 when there is no such parameter, and binding 0 fails the next Step() as an unknown name does.
  int ParameterIndex(const char* name) { return Index(name); }
  Statement& BindAt(int index, std::int64_t value);
  Statement& BindAt(int index, std::optional<std::int64_t> value);
  Statement& BindNullAt(int index);
  Statement& BindBorrowedAt(int index, std::string_view text);
  Statement& BindBorrowedBlobAt(int index, std::string_view bytes);

  // true when a row is ready, false when done.
  [[nodiscard]] Result<bool> Step();
  // Steps to completion, ignoring any rows (INSERT/UPDATE/DELETE).
  [[nodiscard]] Result<void> Run();
  // Ends this use early, as the destructor would: the statement is reset and handed back, and this
  // object must not be used again.
  void Finish();
  // Resets the statement and drops its bindings (and any binding error), so that it can be bound
  // and run again: a loop that runs one statement thousands of times (the feed's event inserts, a
  // report's observable links) prepares it once instead of looking it up each time.
  void Rewind();

  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  std::optional<std::int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::string Blob(int column) const;

 private:
  int Index(const char* name);
  bool NoParameter(int index);  // true (and the bind fails) for index 0

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  StatementHandle owned_;  // set only when the statement is not from the cache
  int bind_rc_ = SQLITE_OK;
  std::string bind_failure_;
};

// kCheckpointer: a connection that only checkpoints the WAL (detail/checkpointer.hpp).
enum class ConnectionRole { kWriter, kReader, kCheckpointer };

class Connection {
 public:
  // Opens `path` and configures the connection: extended result codes, busy timeout, foreign keys,
  // synchronous, the hikeshi_cjk tokenizer; WAL for the writer, query_only for readers.
  static Result<std::unique_ptr<Connection>> Open(const std::filesystem::path& path, const SqliteOptions& options,
                                                  ConnectionRole role);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns the cached statement for `sql`, preparing it on first use. If that statement is
  // already in use (a nested query with the same text), a private one is prepared instead.
  [[nodiscard]] Result<Statement> Prepare(std::string_view sql);
  // Runs SQL text that may hold several statements and no parameters (schema, BEGIN, COMMIT).
  [[nodiscard]] Result<void> Execute(const char* sql);
  // Ends an open transaction if there is one; errors are ignored because SQLite may already have
  // rolled it back by itself.
  void RollbackQuietly();
  bool InTransaction() const;

  sqlite3* Handle() const { return db_.get(); }

  // Observables upserted in the open write transaction, by "type\nvalue": their id and the first
  // and last seen written for them. A fold links the same few observables to thousands of
  // reports; with this each is upserted once per transaction, not once per link. Valid only until
  // the transaction ends: SqliteStore clears it whenever it begins one.
  struct KnownObservable {
    std::int64_t id = 0;
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
  };
  std::unordered_map<std::string, KnownObservable>& KnownObservables() { return known_observables_; }

  // Full-text rows written in the open write transaction, by (FTS table, rowid), held back and
  // written together just before COMMIT (FlushDeferredText in queries.hpp). FTS5 flushes its
  // pending terms into a new segment at every later write statement of a transaction that has
  // written to it; deferred, a transaction makes one flush instead of one per statement after the
  // first report. SqliteStore turns deferral on when it begins a write transaction and off (which
  // drops anything not written, as a rollback must) when it ends it. nullptr while off: IndexText
  // then writes at once.
  struct DeferredTextRow {
    std::string column1;
    std::string column2;
    std::string text1;
    std::string text2;
  };
  using DeferredTextKey = std::pair<std::string, std::int64_t>;
  std::map<DeferredTextKey, DeferredTextRow>* DeferredText() { return defer_text_ ? &deferred_text_ : nullptr; }
  void DeferText(bool on) {
    defer_text_ = on;
    deferred_text_.clear();
  }

 private:
  // Only Open() may construct: a Connection always leaves it fully configured.
  struct OpenedTag {
    explicit OpenedTag() = default;
  };

 public:
  Connection(OpenedTag, SqliteHandle db) : db_(std::move(db)) {}

 private:
  SqliteHandle db_;  // declared first: destroyed after the statements
  std::map<std::string, StatementHandle, std::less<>> statements_;
  std::unordered_map<std::string, KnownObservable> known_observables_;
  bool defer_text_ = false;
  std::map<DeferredTextKey, DeferredTextRow> deferred_text_;
};

}  // namespace hikeshi::store::sqlite::detail
