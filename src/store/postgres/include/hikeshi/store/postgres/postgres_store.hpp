#pragma once
// The PostgreSQL backend of core::Store, for teams whose `hikeshi serve` nodes share one database.
// A small pool of connections: one writer connection (writes are serialised in this process by a
// mutex, and across processes by a transaction-scoped advisory lock taken first in every write
// transaction, so the audit chain stays one chain however many nodes write), and reader
// connections opened on demand, each Read in its own REPEATABLE READ READ ONLY snapshot. Full-text
// search stores the tokens of common::TokenizeCjk as tsvectors (the 'simple' configuration's
// lexemes, written verbatim) and queries them with phrase queries, so it finds exactly what the
// SQLite backend finds.
//
// Thread-safety: the returned Store and BlobStore may be shared by any number of threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/table_source.hpp"

namespace hikeshi::store::postgres {

struct PostgresOptions {
  // Reader connections opened on demand, at most this many (1..64).
  int max_readers = 4;
  // How long a Read waits for a free reader connection, and a statement for a lock (lock_timeout),
  // before giving up with kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // How long opening a connection may take (libpq's connect_timeout, rounded up to seconds).
  std::chrono::seconds connect_timeout{10};
};

// Connects with `conninfo` (a libpq connection string: "postgresql://user:pw@host:5432/db" or
// "host=... dbname=..."), then brings the schema up to date by running the numbered migrations it
// lacks, each in its own transaction, recorded in schema_migrations. A session advisory lock keeps
// two processes from migrating at once.
// Errors: kInvalidArgument for bad options or a conninfo libpq cannot parse; kUnavailable when the
// server cannot be reached or refuses the login (the message names the server, never the
// password); kFailedPrecondition when the database's schema is newer than this program; kInternal
// otherwise.
[[nodiscard]] Result<std::unique_ptr<core::Store>> OpenPostgresStore(std::string conninfo,
                                                                     PostgresOptions options = {});

// The BlobStore of a PostgreSQL deployment: blobs are rows of the `blobs` table in the same
// database as the store (so one backup holds both), keyed by the SHA-256 of the plaintext and
// sealed exactly as store/files seals its files (common::Seal with the SHA-256 as associated data),
// so one key file serves both and a blob moves between them unchanged. `key` is that key
// (common::kSecretKeyBytes bytes; store::files::LoadBlobKey reads the key file); every node must
// use the same one. A Put is committed on its own, before the write transaction that refers to it,
// so it is durable when it returns; storing the same bytes twice keeps one row. Connections are
// opened on demand and kept for reuse, one per concurrent caller. Migrates the schema as
// OpenPostgresStore does.
// Errors: kInvalidArgument when `key` has the wrong length, and those of OpenPostgresStore.
[[nodiscard]] Result<std::unique_ptr<core::BlobStore>> OpenPostgresBlobStore(std::string conninfo, std::string key,
                                                                             PostgresOptions options = {});

struct CopyOptions {
  int batch_rows = 1000;  // rows per transaction (1..100000)
  // Called after every batch and when a table is finished (or found finished by an earlier run).
  std::function<void(std::string_view table, std::int64_t copied, std::int64_t total)> progress;
};

struct CopySummary {
  std::vector<std::pair<std::string, std::int64_t>> tables;  // rows copied, per table, in copy order
  bool resumed = false;                                      // an earlier, interrupted run was continued
};

// `hikeshi migrate`: copies every table of `source` into the database `conninfo` names, rows as
// they are (ids, the audit journal entry by entry, counters, events, mail), so that the copy is the
// same store and its audit chain verifies. Table by table, parents first, in batches of
// `batch_rows`; each batch is one transaction that also records how far the table has come, so an
// interrupted copy run again resumes after the last committed batch: nothing twice, nothing left
// out. Text indexes are built as the rows arrive, identity sequences continue after the copied ids.
// Holds the write lock for its whole run, so no node writes meanwhile. Blobs are not tables: copy
// them through the BlobStore port.
// Errors: kFailedPrecondition when the database already holds data that is not an earlier, partial
// copy of the same source (or the source lacks a column this schema has); those of
// OpenPostgresStore and of `source`.
[[nodiscard]] Result<CopySummary> CopyStoreFrom(core::TableSource& source, const std::string& conninfo,
                                                const CopyOptions& options);

// The schema version this program creates and expects (the highest migration number).
int LatestSchemaVersion();

// `conninfo` with any password replaced by "***", in either form (the URL's user:password@ part and
// its password= query parameter; a key=value string's password value, quoted or not), so that a
// connection string can be logged or shown. Text that is neither form comes back unchanged.
std::string RedactConninfo(std::string_view conninfo);

}  // namespace hikeshi::store::postgres
