#pragma once
// One SQL statement run on a contract backend's database with its own client, behind the store's
// back: how the tests edit a row as someone with the sqlite3 shell or psql would. Test code only.

#include <memory>
#include <string>

#include <sqlite3.h>

#include "hikeshi/common/error.hpp"

#include "backends.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {

inline Result<void> RunSqlBehind(SqliteBackend& backend, const std::string& sql) {
  sqlite3* raw = nullptr;
  const std::string file = (backend.dir.Path() / "hikeshi.db").string();
  const int opened = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (opened != SQLITE_OK) return Fail(Error::Unavailable("cannot open " + file));
  sqlite3_busy_timeout(db.get(), 5000);
  char* message = nullptr;
  if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "sqlite3_exec failed";
    sqlite3_free(message);
    return Fail(Error::Internal(text));
  }
  return {};
}

inline Result<void> RunSqlBehind(PostgresBackend& backend, const std::string& sql) {
  if (!backend.database) return Fail(backend.database.error());
  return testing::RunSql(backend.database->Conninfo(), sql);
}

}  // namespace hikeshi::store_contract
