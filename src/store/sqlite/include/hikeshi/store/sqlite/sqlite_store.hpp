#pragma once
// The SQLite backend of core::Store: the embedded default that `hikeshi serve` uses with no
// configuration. One file in WAL mode; one writer connection (writes are serialised by a mutex and
// BEGIN IMMEDIATE) and a small pool of reader connections, each Read in its own snapshot. Full-text
// search uses FTS5 with the CJK bigram tokenizer `hikeshi_cjk`, registered on every connection.
//
// Thread-safety: the returned Store may be shared by any number of threads.

#include <chrono>
#include <filesystem>
#include <memory>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/table_source.hpp"

namespace hikeshi::store::sqlite {

// PRAGMA synchronous. In WAL mode, NORMAL may lose the last commits on power failure; FULL syncs the
// WAL on every commit, so a write is durable before Write() returns and an acknowledgement (an
// MTA's 250, an API 201) can never be sent for data that is then lost.
enum class Synchronous { kNormal, kFull, kExtra };

struct SqliteOptions {
  Synchronous synchronous = Synchronous::kFull;
  // How long a connection waits for a lock held by another process before giving up with
  // kUnavailable. Also bounds the wait for a free reader connection.
  std::chrono::milliseconds busy_timeout{5000};
  // Reader connections opened on demand, at most this many (1..64).
  int max_readers = 4;
  // The WAL is checkpointed on a thread of the store's own once it holds this many pages (80 MiB of
  // 8 KiB pages), never by a writer in its COMMIT. 0: the writer checkpoints, as SQLite does by
  // default, in the COMMIT that crosses 10,000 pages.
  int wal_checkpoint_pages = 10'000;
};

// Opens (creating the file if missing) the store in `db_file` and brings its schema up to date by
// running the numbered migrations it lacks, each in its own transaction. The directory must exist.
// Errors: kInvalidArgument for bad options; kFailedPrecondition when the file's schema is newer than
// this program; kUnavailable when the file stays locked; kInternal when it cannot be opened or is
// not an SQLite database.
[[nodiscard]] Result<std::unique_ptr<core::Store>> OpenSqliteStore(const std::filesystem::path& db_file,
                                                                   const SqliteOptions& options = {});

// The store in `db_file` as a TableSource (for `hikeshi migrate`): its schema is brought up to date
// first, then it is read in one snapshot through a read-only connection, so writers may go on but
// the copy shows the store as it was when the first rows were read. Rows come in insertion (rowid)
// order; a WITHOUT ROWID table's in key order.
// Errors: kNotFound when the file does not exist; those of OpenSqliteStore.
[[nodiscard]] Result<std::unique_ptr<core::TableSource>> OpenSqliteTableSource(const std::filesystem::path& db_file);

// Sets the process-wide SQLite configuration the store runs with (memory statistics off), once.
// OpenSqliteStore calls it. SQLite accepts it only before its first use in the process, so a program
// that opens SQLite databases of its own before any store (a benchmark's baseline) calls it first,
// and both then run on the same library settings.
void ConfigureSqliteLibrary();

// The schema version this program creates and expects (the highest migration number).
int LatestSchemaVersion();

}  // namespace hikeshi::store::sqlite
