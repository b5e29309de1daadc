#pragma once
// One libpq connection with its cache of prepared statements, the RAII wrappers for the C handles,
// query parameters and result rows. Every PGconn* and PGresult* is owned by a unique_ptr from the
// moment it exists.
//
// Thread-safety: a Connection is used by one thread at a time (the store hands it out under a lock).

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

namespace hikeshi::store::postgres::detail {

struct PgConnFinish {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct PgResultClear {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgConnHandle = std::unique_ptr<PGconn, PgConnFinish>;
using PgResultHandle = std::unique_ptr<PGresult, PgResultClear>;

// Query parameters in placeholder order. Each Add* returns the number of its placeholder ($n), so
// that SQL assembled from optional fragments can say fmt::format("status = ${}", p.Add(...)).
// Strings passed to Add() and AddBytes() are borrowed (sent as they are, in binary format, which
// for text and bytea is the bytes themselves) and must outlive the query; AddText() copies, for
// values the SQL casts to another type (::tsquery, ::bigint[]), which take the text format.
class Params {
 public:
  int Add(std::int64_t value);
  int Add(std::string_view value) { return Push(value.data(), value.size(), 1); }
  int Add(const std::string& value) { return Add(std::string_view(value)); }
  int Add(const char* value) { return Add(std::string_view(value)); }
  int Add(const std::optional<std::int64_t>& value);
  int Add(const std::optional<std::string>& value);
  int AddBool(bool value) { return AddText(value ? "true" : "false"); }
  int AddBytes(std::string_view bytes) { return Push(bytes.data(), bytes.size(), 1); }
  int AddText(std::string_view value);
  int AddNull() { return Push(nullptr, 0, 0); }

  int Count() const { return static_cast<int>(values_.size()); }
  const char* const* Values() const { return values_.data(); }
  const int* Lengths() const { return lengths_.data(); }
  const int* Formats() const { return formats_.data(); }

 private:
  int Push(const char* data, std::size_t size, int format);

  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::deque<std::string> owned_;  // a deque: its strings never move, so values_ may point into them
};

// The rows of one result, in text format.
class Rows {
 public:
  explicit Rows(PgResultHandle result) : result_(std::move(result)) {}

  int Size() const { return PQntuples(result_.get()); }
  bool Empty() const { return Size() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE (0 for ON CONFLICT DO NOTHING that did nothing).
  std::int64_t Affected() const;

  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::int64_t Int(int row, int column) const;
  std::optional<std::int64_t> OptionalInt(int row, int column) const;
  bool Bool(int row, int column) const;
  std::string Text(int row, int column) const;
  std::optional<std::string> OptionalText(int row, int column) const;
  // A bytea column (sent as \x followed by hex digits).
  std::string Bytes(int row, int column) const;

 private:
  PgResultHandle result_;
};

// Maps a failed result: unique_violation -> kConflict (the message names the constraint),
// serialization failures, deadlocks, lock and statement timeouts, shutdowns and lost connections
// -> kUnavailable, text the server cannot store (NUL, invalid UTF-8) -> kInvalidArgument, anything
// else -> kInternal. `context` says what was being done.
Error ErrorFromResult(PGconn* conn, const PGresult* result, std::string_view context);

// Errors: kInvalidArgument naming the option that is out of range.
Result<void> CheckOptions(const PostgresOptions& options);

class Connection {
 public:
  // Connects and configures the session (UTF-8, UTC, lock_timeout). Errors: kInvalidArgument when
  // libpq cannot parse `conninfo`; kUnavailable when the server cannot be reached or refuses.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo, const PostgresOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with `params` as a prepared statement, prepared on first use on this connection (up
  // to kMaxCachedStatements texts; beyond that, unprepared).
  [[nodiscard]] Result<Rows> Exec(std::string_view sql, const Params& params = {});
  // Runs SQL text that may hold several statements and no parameters (schema, BEGIN, COMMIT).
  [[nodiscard]] Result<void> Execute(const char* sql);
  // Runs `sql`, a COPY ... FROM STDIN, sending `data` (in the format the COPY names) as its input.
  [[nodiscard]] Result<void> CopyIn(const char* sql, std::string_view data);
  // Ends an open transaction if there is one, ignoring errors (the connection may be gone).
  void RollbackQuietly();
  // Whether the connection is lost, so that the store opens a new one instead of reusing it.
  bool Broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
  // The libpq handle, for what this class does not wrap: waiting on the socket for notifications
  // (change_watch.cpp). Owned by this Connection.
  PGconn* Raw() { return conn_.get(); }

 private:
  struct OpenedTag {
    explicit OpenedTag() = default;
  };

 public:
  Connection(OpenedTag, PgConnHandle conn) : conn_(std::move(conn)) {}

 private:
  static constexpr std::size_t kMaxCachedStatements = 256;

  PgConnHandle conn_;
  std::map<std::string, std::string, std::less<>> statements_;  // SQL text -> prepared name
};

}  // namespace hikeshi::store::postgres::detail
