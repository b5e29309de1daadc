#include "store_factory.hpp"

#include <system_error>
#include <utility>

#include "hikeshi/core/inline_blob_store.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/store/postgres/change_watch.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDbFile = "hikeshi.db";

bool IsPostgresUrl(std::string_view text) {
  return text.starts_with("postgres://") || text.starts_with("postgresql://");
}

}  // namespace

std::string StoreLocation::Describe() const {
  if (kind == Kind::kSqlite) return sqlite_file.string();
  return store::postgres::RedactConninfo(conninfo);
}

Result<StoreLocation> ResolveStore(std::string_view store_option, std::string_view store_env,
                                   const fs::path& data_dir) {
  const std::string_view chosen = !store_option.empty() ? store_option : store_env;
  if (chosen.empty()) return StoreLocation{StoreLocation::Kind::kSqlite, data_dir, data_dir / kDbFile, {}};
  if (!IsPostgresUrl(chosen)) {
    const std::string_view from = !store_option.empty() ? "--store" : "HIKESHI_STORE";
    return Fail(Error::InvalidArgument(std::string(from) + " must be a postgres:// or postgresql:// URL, not " +
                                           store::postgres::RedactConninfo(chosen),
                                       "--store"));
  }
  return StoreLocation{StoreLocation::Kind::kPostgres, data_dir, {}, std::string(chosen)};
}

Result<std::unique_ptr<core::Store>> OpenStore(const StoreLocation& location, bool create) {
  const fs::path& data_dir = location.data_dir;
  std::error_code ec;
  if (create) {
    fs::create_directories(data_dir, ec);
    if (ec) {
      return Fail(Error::InvalidArgument("cannot create data directory " + data_dir.string() + ": " + ec.message()));
    }
    // Reports are confidential: the data directory is for the service account alone.
    fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (location.kind == StoreLocation::Kind::kPostgres) return store::postgres::OpenPostgresStore(location.conninfo);
  if (!create && !fs::exists(location.sqlite_file, ec)) {
    return Fail(Error::NotFound("Hikeshi store in " + data_dir.string() + " (run `hikeshi init --data " +
                                data_dir.string() + "` first)"));
  }
  return store::sqlite::OpenSqliteStore(location.sqlite_file);
}

Result<std::unique_ptr<core::BlobStore>> OpenBlobStore(const StoreLocation& location, const fs::path& key_file,
                                                       bool create_key) {
  if (location.kind == StoreLocation::Kind::kPostgres) {
    HIKESHI_TRY(std::string key, store::files::LoadBlobKey(key_file, create_key));
    return store::postgres::OpenPostgresBlobStore(location.conninfo, std::move(key));
  }
  return store::files::OpenFileBlobStore(location.data_dir / "blobs", key_file, create_key);
}

Result<std::unique_ptr<core::BlobStore>> OpenMailBlobStore(const StoreLocation& location, const fs::path& key_file,
                                                           core::Store& store, std::size_t max_inline_bytes) {
  HIKESHI_TRY(auto larger, OpenBlobStore(location, key_file, false));
  HIKESHI_TRY(std::string key, store::files::LoadBlobKey(key_file, false));
  return core::MakeInlineBlobStore(store, std::move(larger), std::move(key), max_inline_bytes);
}

Result<std::unique_ptr<core::ChangeWatch>> WatchChanges(const StoreLocation& location, core::ChangeSignal& signal,
                                                        std::function<void(std::string_view)> on_trouble) {
  if (location.kind != StoreLocation::Kind::kPostgres) return std::unique_ptr<core::ChangeWatch>();
  store::postgres::ChangeWatchOptions options;
  options.on_trouble = std::move(on_trouble);
  return store::postgres::WatchPostgresChanges(location.conninfo, signal, std::move(options));
}

}  // namespace hikeshi::app
