#pragma once
// Where the `hikeshi` command keeps its data, and opening it: the SQLite file in the data
// directory (the default), or a PostgreSQL database named by a postgres:// or postgresql:// URL,
// taken from --store, else from the HIKESHI_STORE environment variable. The only place that names
// both concrete store backends.
//
// Thread-safety: plain functions; the opened Store is thread-safe.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/change_signal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::app {

struct StoreLocation {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::filesystem::path data_dir;     // configuration and files live here with either backend
  std::filesystem::path sqlite_file;  // kSqlite: DATA/hikeshi.db
  std::string conninfo;               // kPostgres: the URL, password included: never print it

  // What to show a person: the file, or the URL with its password replaced by ***.
  std::string Describe() const;
};

// Chooses the store: `store_option` (--store) when not empty, else `store_env` (HIKESHI_STORE) when
// not empty, else the SQLite file in `data_dir`.
// Errors: kInvalidArgument (field "--store") for a value that is not a postgres:// or
// postgresql:// URL; the message shows the value redacted.
Result<StoreLocation> ResolveStore(std::string_view store_option, std::string_view store_env,
                                   const std::filesystem::path& data_dir);

// Opens the store at `location`. With `create` (hikeshi init), a missing data directory is created
// (owner-only: it holds configuration with either backend), and the store gets its schema; without
// it, a SQLite store that does not exist yet is kNotFound, naming `hikeshi init`.
// Errors: as OpenSqliteStore / OpenPostgresStore (kUnavailable when PostgreSQL cannot be reached,
// with a message that never shows the password), kInvalidArgument when the directory cannot be made.
Result<std::unique_ptr<core::Store>> OpenStore(const StoreLocation& location, bool create);

// The blob store that goes with the store at `location`: sealed files in DATA/blobs beside a SQLite
// store, the `blobs` table of the database with PostgreSQL. Both seal with the key in `key_file`
// (every node of a PostgreSQL deployment needs the same one); with `create_key` a missing key file
// is made. Errors: as LoadBlobKey (kNotFound when the key file is missing and may not be made),
// OpenFileBlobStore and OpenPostgresBlobStore.
Result<std::unique_ptr<core::BlobStore>> OpenBlobStore(const StoreLocation& location,
                                                       const std::filesystem::path& key_file, bool create_key);

// The blob store mail uses: OpenBlobStore's, with blobs of at most `max_inline_bytes` kept as rows
// of `store` instead, committed with the message naming them (core/inline_blob_store.hpp; 0: none).
// Reads find a blob either way. `store` must be the store at `location` and outlive the result.
// Errors: as OpenBlobStore (the key file must exist).
Result<std::unique_ptr<core::BlobStore>> OpenMailBlobStore(const StoreLocation& location,
                                                           const std::filesystem::path& key_file, core::Store& store,
                                                           std::size_t max_inline_bytes);

// Watches for commits made by other processes on the store at `location` and publishes them into
// `signal` (live updates): a LISTEN connection with PostgreSQL, reporting trouble to `on_trouble`;
// nothing (nullptr) with SQLite, where a node's own writes signal in-process and a JournalPoller
// finds the rest. `signal` must outlive the watch. Errors: as WatchPostgresChanges.
Result<std::unique_ptr<core::ChangeWatch>> WatchChanges(const StoreLocation& location, core::ChangeSignal& signal,
                                                        std::function<void(std::string_view)> on_trouble);

}  // namespace hikeshi::app
