#pragma once
// Backend factories for the store contract suite. Each one gives a test a fresh, empty store and
// can open the same data again (to prove it survives a restart). To run the suite against another
// backend, add a factory with the same shape and list it in StoreBackends:
//
//   struct XBackend {
//     static constexpr std::string_view kName = "x";     // test-name suffix
//     XBackend();                                         // an empty database of its own
//     Result<std::unique_ptr<core::Store>> Open();        // callable again: same data
//   };
//
// PostgresBackend needs the test server that ctest's pg_server fixture starts; without it every
// test fails (never skips) with a message saying how to start it.
//
// Thread-safety: a factory belongs to one test.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>
#include <unistd.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "support/pg_server.hpp"

namespace hikeshi::store_contract {

// A directory under $TMPDIR that lives as long as the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hikeshi-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();  // no temp dir: nothing can be tested
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct SqliteBackend {
  static constexpr std::string_view kName = "sqlite";

  Result<std::unique_ptr<core::Store>> Open() {
    return store::sqlite::OpenSqliteStore(dir.Path() / "hikeshi.db", store::sqlite::SqliteOptions{});
  }

  TempDir dir;
};

// A database of its own on the PostgreSQL test server, dropped when the test ends.
struct PostgresBackend {
  static constexpr std::string_view kName = "postgres";

  PostgresBackend() : database(testing::TestDatabase::Create()) {}

  Result<std::unique_ptr<core::Store>> Open() {
    if (!database) return Fail(database.error());
    return store::postgres::OpenPostgresStore(database->Conninfo());
  }

  Result<testing::TestDatabase> database;
};

// Every backend the typed suites run against, and the suffix each test name gets.
using StoreBackends = ::testing::Types<SqliteBackend, PostgresBackend>;
struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::string(T::kName);
  }
};

}  // namespace hikeshi::store_contract
