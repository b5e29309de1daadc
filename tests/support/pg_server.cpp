#include "support/pg_server.hpp"

#include <atomic>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include <libpq-fe.h>
#include <unistd.h>

namespace hikeshi::testing {
namespace {

struct ConnFinish {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct ResultClear {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};

std::string Trimmed(const char* text) {
  std::string s = text == nullptr ? "" : text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> TestServerConninfo() {
  const std::string file = std::string(HIKESHI_PG_STATE_DIR) + "/pg_conninfo";
  std::ifstream in(file);
  std::string conninfo;
  if (!in || !std::getline(in, conninfo) || conninfo.empty()) {
    return Fail(Error::Unavailable("the PostgreSQL test server is not running (" + file +
                                   " is missing): run the tests with ctest, whose pg_server fixture starts it, or "
                                   "tests/support/pg_server.sh start " HIKESHI_PG_STATE_DIR));
  }
  return conninfo;
}

Result<void> RunSql(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, ConnFinish> conn(PQconnectdb(conninfo.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail(Error::Unavailable("cannot connect to the PostgreSQL test server: " +
                                   Trimmed(conn ? PQerrorMessage(conn.get()) : "out of memory")));
  }
  std::unique_ptr<PGresult, ResultClear> result(PQexec(conn.get(), sql.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(Error::Internal(sql + ": " + Trimmed(PQerrorMessage(conn.get()))));
  }
  return {};
}

Result<std::string> QueryValue(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, ConnFinish> conn(PQconnectdb(conninfo.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail(Error::Unavailable("cannot connect to the PostgreSQL test server: " +
                                   Trimmed(conn ? PQerrorMessage(conn.get()) : "out of memory")));
  }
  std::unique_ptr<PGresult, ResultClear> result(PQexec(conn.get(), sql.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Fail(Error::Internal(sql + ": " + Trimmed(PQerrorMessage(conn.get()))));
  }
  if (PQntuples(result.get()) == 0) return Fail(Error::NotFound(sql + ": no row"));
  return std::string(PQgetvalue(result.get(), 0, 0), static_cast<std::size_t>(PQgetlength(result.get(), 0, 0)));
}

Result<TestDatabase> TestDatabase::Create() {
  HIKESHI_TRY(std::string admin, TestServerConninfo());
  static std::atomic<int> counter{0};
  std::random_device random;
  std::ostringstream name;
  name << "hikeshi_t_" << getpid() << "_" << counter.fetch_add(1) << "_" << std::hex << random();
  HIKESHI_CHECK(RunSql(admin, "CREATE DATABASE " + name.str()));
  // The fixture writes ".../postgres" as the database; the new one replaces it.
  const std::size_t slash = admin.rfind('/');
  std::string conninfo = admin.substr(0, slash + 1) + name.str();
  return TestDatabase(std::move(admin), name.str(), std::move(conninfo));
}

TestDatabase::TestDatabase(TestDatabase&& other) noexcept
    : admin_(std::move(other.admin_)), name_(std::move(other.name_)), conninfo_(std::move(other.conninfo_)) {
  other.admin_.clear();
}

TestDatabase::~TestDatabase() {
  if (admin_.empty()) return;
  (void)RunSql(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

}  // namespace hikeshi::testing
