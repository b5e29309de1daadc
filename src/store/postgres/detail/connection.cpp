#include "detail/connection.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace hikeshi::store::postgres::detail {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string TrimmedMessage(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The password `conninfo` carries (URL or key=value form), or "" when it has none or libpq cannot
// parse it.
std::string PasswordOf(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return {};
  std::string password;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  }
  PQconninfoFree(options);
  return password;
}

// libpq's messages do not quote the password, but a server or a future libpq might echo parts of
// the connection string: scrub it from anything shown.
std::string Scrubbed(std::string text, const std::string& password) {
  if (password.empty()) return text;
  for (std::size_t at = text.find(password); at != std::string::npos; at = text.find(password, at + 3)) {
    text.replace(at, password.size(), "***");
  }
  return text;
}

}  // namespace

// --- Params

int Params::Push(const char* data, std::size_t size, int format) {
  values_.push_back(data);
  lengths_.push_back(static_cast<int>(size));
  formats_.push_back(format);
  return Count();
}

int Params::Add(std::int64_t value) { return AddText(std::to_string(value)); }

int Params::Add(const std::optional<std::int64_t>& value) { return value ? Add(*value) : AddNull(); }

int Params::Add(const std::optional<std::string>& value) { return value ? Add(std::string_view(*value)) : AddNull(); }

int Params::AddText(std::string_view value) {
  const std::string& copy = owned_.emplace_back(value);
  return Push(copy.c_str(), copy.size(), 0);
}

// --- Rows

std::int64_t Rows::Affected() const {
  const char* text = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

std::int64_t Rows::Int(int row, int column) const {
  const char* text = PQgetvalue(result_.get(), row, column);
  std::int64_t value = 0;
  std::from_chars(text, text + PQgetlength(result_.get(), row, column), value);
  return value;
}

std::optional<std::int64_t> Rows::OptionalInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

bool Rows::Bool(int row, int column) const { return PQgetvalue(result_.get(), row, column)[0] == 't'; }

std::string Rows::Text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::optional<std::string> Rows::OptionalText(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Text(row, column);
}

std::string Rows::Bytes(int row, int column) const {
  const std::string_view hex(PQgetvalue(result_.get(), row, column),
                             static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
  std::string bytes;
  if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x') return bytes;  // bytea_output is hex (set at connect)
  bytes.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
  }
  return bytes;
}

// --- Errors

Error ErrorFromResult(PGconn* conn, const PGresult* result, std::string_view context) {
  const char* state_field = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string_view state = state_field == nullptr ? "" : state_field;
  std::string message = TrimmedMessage(result != nullptr ? PQresultErrorMessage(result)
                                       : conn != nullptr ? PQerrorMessage(conn)
                                                         : "");
  if (message.empty() && conn != nullptr) message = TrimmedMessage(PQerrorMessage(conn));
  const std::string text = fmt::format("{}: {}", context, message);
  if (state == "23505") {
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    return Error::Conflict(
        fmt::format("{}: unique constraint {} violated", context, constraint == nullptr ? "(unnamed)" : constraint));
  }
  const bool lost = conn != nullptr && PQstatus(conn) != CONNECTION_OK;
  if (lost || state.starts_with("08") || state == "40001" || state == "40P01" || state == "55P03" || state == "57014" ||
      state.starts_with("57P") || state == "53300") {
    return Error::Unavailable(text);
  }
  if (state == "22021" || state == "22P05") {
    return Error::InvalidArgument(fmt::format("{}: text holds a NUL character or is not valid UTF-8", context));
  }
  return Error::Internal(text);
}

// --- Connection

Result<void> CheckOptions(const PostgresOptions& options) {
  if (options.max_readers < 1 || options.max_readers > 64) {
    return Fail(Error::InvalidArgument("max_readers must be between 1 and 64", "/max_readers"));
  }
  if (options.busy_timeout.count() < 0 || options.busy_timeout > std::chrono::hours(1)) {
    return Fail(Error::InvalidArgument("busy_timeout must be between 0 and 1 hour", "/busy_timeout"));
  }
  if (options.connect_timeout.count() < 0 || options.connect_timeout > std::chrono::hours(1)) {
    return Fail(Error::InvalidArgument("connect_timeout must be between 0 and 1 hour", "/connect_timeout"));
  }
  return {};
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo, const PostgresOptions& options) {
  {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
    std::string reason = TrimmedMessage(error);
    if (error != nullptr) PQfreemem(error);
    if (parsed == nullptr) {
      return Fail(Error::InvalidArgument(
          fmt::format("not a PostgreSQL connection string ({}): {}", RedactConninfo(conninfo), reason), "/store"));
    }
    PQconninfoFree(parsed);
  }
  const std::string timeout = std::to_string(std::max<std::int64_t>(1, options.connect_timeout.count()));
  // dbname comes first so that libpq expands the whole connection string from it; the keywords
  // after it add what the string may lack.
  const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), timeout.c_str(), "hikeshi", nullptr};
  PgConnHandle conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Fail(Error::Internal("out of memory connecting to PostgreSQL"));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail(
        Error::Unavailable(fmt::format("cannot connect to PostgreSQL ({}): {}", RedactConninfo(conninfo),
                                       Scrubbed(TrimmedMessage(PQerrorMessage(conn.get())), PasswordOf(conninfo)))));
  }
  auto connection = std::make_unique<Connection>(OpenedTag{}, std::move(conn));
  const std::string setup = fmt::format(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET bytea_output = 'hex'; SET client_min_messages = warning; "
      "SET lock_timeout = {}",
      options.busy_timeout.count());
  HIKESHI_CHECK(connection->Execute(setup.c_str()));
  return connection;
}

Result<Rows> Connection::Exec(std::string_view sql, const Params& params) {
  auto found = statements_.find(sql);
  if (found == statements_.end() && statements_.size() >= kMaxCachedStatements) {
    const std::string text(sql);
    PgResultHandle result(PQexecParams(conn_.get(), text.c_str(), params.Count(), nullptr, params.Values(),
                                       params.Lengths(), params.Formats(), /*resultFormat=*/0));
    const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return Fail(ErrorFromResult(conn_.get(), result.get(), "query"));
    }
    return Rows(std::move(result));
  }
  if (found == statements_.end()) {
    const std::string name = fmt::format("h{}", statements_.size() + 1);
    const std::string text(sql);
    PgResultHandle prepared(PQprepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr));
    if (prepared == nullptr || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return Fail(ErrorFromResult(conn_.get(), prepared.get(), "preparing a statement"));
    }
    found = statements_.emplace(text, name).first;
  }
  PgResultHandle result(PQexecPrepared(conn_.get(), found->second.c_str(), params.Count(), params.Values(),
                                       params.Lengths(), params.Formats(), /*resultFormat=*/0));
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Fail(ErrorFromResult(conn_.get(), result.get(), "query"));
  }
  return Rows(std::move(result));
}

Result<void> Connection::Execute(const char* sql) {
  PgResultHandle result(PQexec(conn_.get(), sql));
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Fail(ErrorFromResult(conn_.get(), result.get(), "statement"));
  }
  return {};
}

Result<void> Connection::CopyIn(const char* sql, std::string_view data) {
  {
    PgResultHandle started(PQexec(conn_.get(), sql));
    if (started == nullptr || PQresultStatus(started.get()) != PGRES_COPY_IN) {
      return Fail(ErrorFromResult(conn_.get(), started.get(), "COPY"));
    }
  }
  // In pieces, so that libpq never needs a second buffer of the whole input.
  constexpr std::size_t kPiece = std::size_t{1} << 20;
  bool sent = true;
  for (std::size_t at = 0; at < data.size() && sent; at += kPiece) {
    const std::size_t n = std::min(kPiece, data.size() - at);
    sent = PQputCopyData(conn_.get(), data.data() + at, static_cast<int>(n)) == 1;
  }
  const bool ended = PQputCopyEnd(conn_.get(), sent ? nullptr : "the client could not send the rows") == 1;
  Result<void> outcome;
  // Every result must be read before the connection takes another command.
  while (PgResultHandle result{PQgetResult(conn_.get())}) {
    if (outcome && PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      outcome = Fail(ErrorFromResult(conn_.get(), result.get(), "COPY"));
    }
  }
  if (outcome && (!sent || !ended)) outcome = Fail(ErrorFromResult(conn_.get(), nullptr, "COPY"));
  return outcome;
}

void Connection::RollbackQuietly() {
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return;
  PgResultHandle ignored(PQexec(conn_.get(), "ROLLBACK"));
}

}  // namespace hikeshi::store::postgres::detail
