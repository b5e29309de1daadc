#pragma once
// The PostgreSQL schema as numbered migrations, and the code that applies the ones a database
// lacks. Thread-safety: as the Connection passed in.

#include <span>

#include "hikeshi/common/error.hpp"

#include "detail/connection.hpp"

namespace hikeshi::store::postgres::detail {

struct Migration {
  int version;
  const char* sql;
};

// In version order; versions start at 1 and have no gaps.
std::span<const Migration> Migrations();

// Takes the schema advisory lock (a session lock: a second process opening the same database waits
// here until the first has migrated), creates schema_migrations if missing, refuses a schema newer
// than this program (kFailedPrecondition), applies each missing migration in its own transaction,
// and releases the lock.
Result<void> Migrate(Connection& connection);

// The advisory lock keys: (kLockSpace, kSchemaLock) guards migrations, (kLockSpace, kWriteLock) is
// taken by every write transaction.
inline constexpr int kLockSpace = 0x48494B45;  // "HIKE"
inline constexpr int kSchemaLock = 1;
inline constexpr int kWriteLock = 2;

}  // namespace hikeshi::store::postgres::detail
