#pragma once
// The numbered schema migrations of the SQLite store and the code that applies them.
// Thread-safety: Migrate runs on the writer connection before the store is shared.

#include <span>

#include "hikeshi/common/error.hpp"

#include "detail/connection.hpp"

namespace hikeshi::store::sqlite::detail {

struct Migration {
  int version;      // 1, 2, 3... without gaps
  const char* sql;  // may hold several statements
};

// Every migration, in order. Migration 1 is the whole initial schema.
std::span<const Migration> Migrations();

// Applies the migrations newer than the version recorded in `schema_migrations`, each in its own
// BEGIN IMMEDIATE transaction that re-reads the version first, so two processes opening a new file
// at once apply each migration exactly once.
// Errors: kFailedPrecondition when the file is newer than every known migration; SQLite errors.
[[nodiscard]] Result<void> Migrate(Connection& connection);

}  // namespace hikeshi::store::sqlite::detail
