#include "migrate_command.hpp"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/table_source.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "exit_codes.hpp"
#include "mail_service.hpp"
#include "store_factory.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

bool IsBlobName(std::string_view name) {
  return name.size() == 64 &&
         std::ranges::all_of(name, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The blobs in DIR/blobs (one file per blob in a two-hex-digit shard, named by its SHA-256), sorted.
std::vector<std::string> BlobNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return names;
  for (const auto& shard : fs::directory_iterator(dir, ec)) {
    if (!shard.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(shard.path(), ec)) {
      const std::string name = file.path().filename().string();
      if (file.is_regular_file() && IsBlobName(name)) names.push_back(name);
    }
  }
  std::ranges::sort(names);
  return names;
}

struct BlobCount {
  std::int64_t copied = 0;
  std::int64_t present = 0;
};

// The blobs kept as rows of the SQLite store (small ones: OpenMailBlobStore), sorted.
Result<std::vector<std::string>> InlineBlobNames(core::TableSource& source) {
  std::vector<std::string> names;
  std::string after;
  for (;;) {
    HIKESHI_TRY(const core::TableBatch batch, source.ReadRows("blobs", {"sha256"}, after, 1000));
    if (batch.rows.empty()) break;
    for (const auto& row : batch.rows) {
      if (row[0]) names.push_back(*row[0]);
    }
    after = batch.cursor;
  }
  std::ranges::sort(names);
  return names;
}

// Through the BlobStore ports: each blob, a file or a row of the SQLite store, is opened (and so
// checked) with the key and sealed again for the database. Put is idempotent, so a resumed run
// only skips what is there.
Result<BlobCount> CopyBlobs(const MigrateOptions& options, core::TableSource& table_source,
                            const StoreLocation& source_location, const StoreLocation& target) {
  BlobCount count;
  const fs::path from(options.from);
  std::vector<std::string> names = BlobNames(from / "blobs");
  HIKESHI_TRY(const std::vector<std::string> inline_names, InlineBlobNames(table_source));
  names.insert(names.end(), inline_names.begin(), inline_names.end());
  if (names.empty()) return count;
  HIKESHI_TRY(const MailConfig config, LoadMailConfig(from));
  const fs::path key_file = BlobKeyFile(from, config);
  HIKESHI_TRY(auto source_store, OpenStore(source_location, false));
  // Reads look in the rows, then in the files; nothing is written to the source.
  HIKESHI_TRY(auto source, OpenMailBlobStore(source_location, key_file, *source_store, 0));
  HIKESHI_TRY(auto sink, OpenBlobStore(target, key_file, false));
  for (std::size_t i = 0; i < names.size(); ++i) {
    HIKESHI_TRY(const bool present, sink->Contains(names[i]));
    if (present) {
      ++count.present;
    } else {
      HIKESHI_TRY(const std::string content, source->Get(names[i]));
      HIKESHI_CHECK(sink->Put(content));
      ++count.copied;
    }
    if (!options.quiet && ((i + 1) % 100 == 0 || i + 1 == names.size())) {
      fmt::print(stderr, "migrate: blobs {}/{}\n", i + 1, names.size());
    }
  }
  return count;
}

}  // namespace

CLI::App* AddMigrateCommand(CLI::App& app, MigrateOptions& options) {
  auto* migrate = app.add_subcommand(
      "migrate", "Copy a SQLite store (and its blobs) into an empty PostgreSQL database; rerun to resume");
  migrate->add_option("--from", options.from, "The data directory of the SQLite store")->required();
  migrate->add_option("--to", options.to, "The PostgreSQL database: a postgres:// or postgresql:// URL")->required();
  migrate->add_option("--batch-rows", options.batch_rows, "Rows per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  migrate->add_flag("--quiet", options.quiet, "No progress lines");
  return migrate;
}

Result<int> Migrate(const MigrateOptions& options) {
  const fs::path from(options.from);
  if (options.to.empty()) return Fail(Error::InvalidArgument("--to must name a PostgreSQL database", "--to"));
  HIKESHI_TRY(const StoreLocation source_location, ResolveStore("", "", from));
  HIKESHI_TRY(const StoreLocation target, ResolveStore(options.to, "", from));
  HIKESHI_TRY(auto source, store::sqlite::OpenSqliteTableSource(source_location.sqlite_file));
  fmt::print(stderr, "migrate: copying {} into {}\n", source_location.Describe(), target.Describe());

  store::postgres::CopyOptions copy;
  copy.batch_rows = options.batch_rows;
  if (!options.quiet) {
    copy.progress = [](std::string_view table, std::int64_t copied, std::int64_t total) {
      fmt::print(stderr, "migrate: {} {}/{}\n", table, copied, total);
    };
  }
  HIKESHI_TRY(const auto summary, store::postgres::CopyStoreFrom(*source, target.conninfo, copy));
  HIKESHI_TRY(const BlobCount blobs, CopyBlobs(options, *source, source_location, target));

  fmt::print("Copied {} into {}{}\n", source_location.Describe(), target.Describe(),
             summary.resumed ? " (resumed)" : "");
  for (const auto& [table, rows] : summary.tables) fmt::print("  {:<22}{:>10} rows\n", table, rows);
  fmt::print("  {:<22}{:>10} copied, {} already there\n", "blobs", blobs.copied, blobs.present);

  // The copy must be the same store: its journal verifies, and every object matches it.
  HIKESHI_TRY(auto copied, OpenStore(target, false));
  HIKESHI_TRY(const auto verdict, core::VerifyAudit(*copied));
  if (!verdict.ok()) {
    fmt::print(stderr, "migrate: the copy does not verify: {}\n", verdict.problem);
    return kExitVerifyFailed;
  }
  fmt::print("The copy's audit journal verifies ({} entries).\n", verdict.entries_checked);
  return kExitOk;
}

}  // namespace hikeshi::app
