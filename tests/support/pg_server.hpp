#pragma once
// The PostgreSQL server the tests run against, started by ctest's `pg_server` fixture
// (tests/support/pg_server.sh), and a fresh database on it for each test, so that tests can run in
// parallel. Test code only; needs no gtest.
//
// Thread-safety: TestDatabase belongs to one test; the functions may be called from any thread.

#include <memory>
#include <string>

#include "hikeshi/common/error.hpp"

namespace hikeshi::testing {

// The superuser conninfo (a postgresql:// URL) of the test server.
// Errors: kUnavailable, saying how to start it, when the fixture has not written it.
Result<std::string> TestServerConninfo();

// A database of its own on the test server: created by Create(), dropped (with any connections
// still open to it) on destruction. Move-only.
class TestDatabase {
 public:
  // Errors: kUnavailable when the server is not running or refuses; kInternal otherwise.
  static Result<TestDatabase> Create();
  TestDatabase(TestDatabase&& other) noexcept;
  TestDatabase& operator=(TestDatabase&&) = delete;
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  ~TestDatabase();

  const std::string& Name() const { return name_; }
  // A postgresql:// URL for this database, with the superuser's password.
  const std::string& Conninfo() const { return conninfo_; }

 private:
  TestDatabase(std::string admin, std::string name, std::string conninfo)
      : admin_(std::move(admin)), name_(std::move(name)), conninfo_(std::move(conninfo)) {}

  std::string admin_;  // empty once moved from
  std::string name_;
  std::string conninfo_;
};

// Runs one SQL statement as the superuser on the database `conninfo` names (for tests that need
// to look behind the store). Errors: kUnavailable, kInternal with the server's message.
Result<void> RunSql(const std::string& conninfo, const std::string& sql);

// Runs one query as the superuser and returns the first column of its first row as text ("" for
// NULL). Errors: kNotFound when it returns no row; otherwise as RunSql.
Result<std::string> QueryValue(const std::string& conninfo, const std::string& sql);

}  // namespace hikeshi::testing
