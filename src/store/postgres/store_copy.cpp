// `hikeshi migrate`: a store copied table by table from a core::TableSource into this database.
#include <algorithm>
#include <charconv>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hikeshi/store/postgres/postgres_store.hpp"

#include "detail/connection.hpp"
#include "detail/queries.hpp"
#include "detail/schema.hpp"

namespace hikeshi::store::postgres {
namespace {

using detail::Connection;
using detail::Params;
using detail::Rows;

// Every table of a store, parents before the tables that refer to them. A table the schema gains
// must be added here (CopyStoreFrom refuses to run while one is missing, so the copy cannot
// silently leave it out).
constexpr std::string_view kTables[] = {
    "constituencies", "users",       "contacts",  "api_tokens",           "sessions",     "counters",
    "audit",          "observables", "incidents", "incident_observables", "reports",      "report_observables",
    "report_flags",   "feed_runs",   "events",    "event_counts",         "feed_rejects", "correlations",
    "mail_messages",  "records",
};
// Tables that are not copied: bookkeeping, and what the copy rebuilds or moves another way.
constexpr std::string_view kNotCopied[] = {"schema_migrations", "store_copy", "blobs", "incident_text", "report_text"};

struct Column {
  std::string name;
  bool bytes = false;  // bytea: sent in binary format, which for bytea is the bytes themselves
};

Result<std::vector<Column>> TargetColumns(Connection& db, std::string_view table) {
  Params p;
  p.Add(table);
  // Columns the database generates itself (correlations.seq) are left to it.
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT column_name, data_type FROM information_schema.columns "
                                       "WHERE table_schema = current_schema() AND table_name = $1 "
                                       "AND NOT (is_identity = 'YES' AND identity_generation = 'ALWAYS') "
                                       "ORDER BY ordinal_position",
                                       p));
  std::vector<Column> columns;
  for (int i = 0; i < rows.Size(); ++i) columns.push_back({rows.Text(i, 0), rows.Text(i, 1) == "bytea"});
  return columns;
}

Result<void> CheckEveryTableIsCopied(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"));
  for (int i = 0; i < rows.Size(); ++i) {
    const std::string name = rows.Text(i, 0);
    const auto known = [&](std::span<const std::string_view> list) {
      return std::ranges::find(list, name) != list.end();
    };
    if (!known(kTables) && !known(kNotCopied)) {
      return Fail(Error::Internal(fmt::format("table {} has no place in the copy order (store_copy.cpp)", name)));
    }
  }
  return {};
}

// The hash of the source's first audit entry: what tells one store from another.
Result<std::string> SourceIdentity(core::TableSource& source) {
  HIKESHI_TRY(const auto first, source.ReadRows("audit", {"hash"}, "", 1));
  if (first.rows.empty() || !first.rows[0][0]) return std::string("(no audit entries)");
  return *first.rows[0][0];
}

// A fresh copy needs an empty database; a resumed one, a database that holds part of the same
// source.
Result<void> CheckTarget(Connection& db, core::TableSource& source, const std::string& identity) {
  HIKESHI_TRY(const Rows sources, db.Exec("SELECT DISTINCT source FROM store_copy"));
  if (!sources.Empty()) {
    if (sources.Size() != 1 || sources.Text(0, 0) != identity) {
      return Fail(Error::FailedPrecondition(
          "the target database holds a copy of another Hikeshi store; copy into an empty database"));
    }
    // The same store, but a node may have written to the copy since: then its journal goes on
    // where the source's does not, and copying more would mix the two.
    HIKESHI_TRY(const Rows last, db.Exec("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    if (last.Empty()) return {};
    HIKESHI_TRY(const auto same,
                source.ReadRows("audit", {"hash"}, std::to_string(last.Int(0, 0) - 1), 1));  // rowid is seq
    if (same.rows.empty() || same.rows[0][0] != last.Text(0, 1)) {
      return Fail(Error::FailedPrecondition(
          "the target database already holds data that is not in the source (it has been written to since the "
          "copy); copy into an empty database"));
    }
    return {};
  }
  for (const std::string_view table : kTables) {
    HIKESHI_TRY(const Rows any, db.Exec(fmt::format("SELECT EXISTS (SELECT 1 FROM {})", table)));
    if (any.Bool(0, 0)) {
      return Fail(Error::FailedPrecondition(
          fmt::format("the target database already holds data (table {} is not empty); copy into an empty "
                      "database, not one that `hikeshi init` or a node has written to",
                      table)));
    }
  }
  return {};
}

struct Progress {
  std::string cursor;
  std::int64_t copied = 0;
  bool done = false;
};

Result<Progress> LoadProgress(Connection& db, std::string_view table) {
  Params p;
  p.Add(table);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT cursor, copied, done FROM store_copy WHERE table_name = $1", p));
  if (rows.Empty()) return Progress{};
  return Progress{rows.Text(0, 0), rows.Int(0, 1), rows.Bool(0, 2)};
}

Result<void> SaveProgress(Connection& db, std::string_view table, const std::string& identity,
                          const Progress& progress) {
  Params p;
  p.Add(table);
  p.Add(identity);
  p.Add(progress.cursor);
  p.Add(progress.copied);
  p.AddBool(progress.done);
  HIKESHI_CHECK(
      db.Exec("INSERT INTO store_copy (table_name, source, cursor, copied, done) VALUES ($1, $2, $3, $4, $5) "
              "ON CONFLICT (table_name) DO UPDATE SET cursor = excluded.cursor, copied = excluded.copied, "
              "done = excluded.done",
              p));
  return {};
}

std::ptrdiff_t IndexOf(const std::vector<Column>& columns, std::string_view name) {
  const auto it = std::ranges::find(columns, name, &Column::name);
  return it == columns.end() ? -1 : it - columns.begin();
}

// Runs `body` in one transaction.
template <typename Body>
Result<void> InTransaction(Connection& db, const Body& body) {
  HIKESHI_CHECK(db.Execute("BEGIN"));
  auto result = body();
  if (result) result = db.Execute("COMMIT");
  if (!result) db.RollbackQuietly();
  return result;
}

class TableCopy {
 public:
  TableCopy(Connection& db, core::TableSource& source, const std::string& identity, const CopyOptions& options)
      : db_(db), source_(source), identity_(identity), options_(options) {}

  Result<std::int64_t> Run(std::string_view table) {
    HIKESHI_TRY(columns_, TargetColumns(db_, table));
    HIKESHI_TRY(const auto available, source_.Columns(table));
    names_.clear();
    for (const Column& column : columns_) {
      if (std::ranges::find(available, column.name) == available.end()) {
        return Fail(Error::FailedPrecondition(
            fmt::format("the source store has no column {}.{}; is it from a newer Hikeshi?", table, column.name)));
      }
      names_.push_back(column.name);
    }
    HIKESHI_TRY(const std::int64_t total, source_.CountRows(table));
    HIKESHI_TRY(Progress progress, LoadProgress(db_, table));
    if (progress.done) {
      Report(table, progress.copied, total);
      return progress.copied;
    }
    std::string placeholders;
    for (std::size_t i = 1; i <= columns_.size(); ++i) placeholders += fmt::format("{}${}", i == 1 ? "" : ", ", i);
    const std::string insert =
        fmt::format("INSERT INTO {} ({}) VALUES ({})", table, fmt::join(names_, ", "), placeholders);
    // A row may refer to a newer row of its own table (an incident merged into a newer one, a
    // contact introduced by a newer one): that column is filled in once every row is copied.
    const std::string_view self_reference = SelfReference(table);
    const std::ptrdiff_t deferred = self_reference.empty() ? -1 : IndexOf(columns_, self_reference);
    for (;;) {
      HIKESHI_TRY(auto batch, source_.ReadRows(table, names_, progress.cursor, options_.batch_rows));
      if (batch.rows.empty()) break;
      HIKESHI_CHECK(InTransaction(db_, [&]() -> Result<void> {
        for (auto& row : batch.rows) {
          if (deferred >= 0) row[static_cast<std::size_t>(deferred)].reset();
          HIKESHI_CHECK(InsertRow(insert, row));
          HIKESHI_CHECK(IndexText(table, row));
        }
        Progress next{batch.cursor, progress.copied + static_cast<std::int64_t>(batch.rows.size()), false};
        HIKESHI_CHECK(SaveProgress(db_, table, identity_, next));
        progress = std::move(next);
        return {};
      }));
      Report(table, progress.copied, total);
    }
    if (deferred >= 0) HIKESHI_CHECK(CopySelfReference(table, self_reference));
    progress.done = true;
    HIKESHI_CHECK(SaveProgress(db_, table, identity_, progress));
    Report(table, progress.copied, total);
    return progress.copied;
  }

 private:
  Result<void> InsertRow(const std::string& insert, const core::TableRow& row) {
    Params p;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (!row[i]) {
        p.AddNull();
      } else if (columns_[i].bytes) {
        p.AddBytes(*row[i]);
      } else {
        p.AddText(*row[i]);  // text format: the server parses numbers and booleans ("0", "1") itself
      }
    }
    HIKESHI_CHECK(db_.Exec(insert, p));
    return {};
  }

  // The text rows SQLite keeps in FTS5 tables, built as the store builds them.
  Result<void> IndexText(std::string_view table, const core::TableRow& row) {
    const auto field = [&](std::string_view name) -> std::string_view {
      const std::ptrdiff_t i = IndexOf(columns_, name);
      return i >= 0 && row[static_cast<std::size_t>(i)] ? std::string_view(*row[static_cast<std::size_t>(i)]) : "";
    };
    const auto id = [&] {
      std::int64_t value = 0;
      const std::string_view text = field("id");
      std::from_chars(text.data(), text.data() + text.size(), value);
      return value;
    };
    if (table == "incidents") return detail::IndexIncidentText(db_, id(), field("title"), field("description"));
    if (table == "reports") return detail::IndexReportText(db_, id(), field("subject"), field("body"));
    return {};
  }

  static std::string_view SelfReference(std::string_view table) {
    if (table == "incidents") return "merged_into";
    if (table == "contacts") return "introduced_by";
    return "";
  }

  Result<void> CopySelfReference(std::string_view table, std::string_view column) {
    const std::string update = fmt::format("UPDATE {} SET {} = $1 WHERE id = $2", table, column);
    for (std::string cursor;;) {
      HIKESHI_TRY(auto batch, source_.ReadRows(table, {"id", std::string(column)}, cursor, options_.batch_rows));
      if (batch.rows.empty()) return {};
      for (const auto& row : batch.rows) {
        if (!row[1]) continue;
        Params p;
        p.AddText(*row[1]);
        p.AddText(row[0].value_or(""));
        HIKESHI_CHECK(db_.Exec(update, p));
      }
      cursor = batch.cursor;
    }
  }

  void Report(std::string_view table, std::int64_t copied, std::int64_t total) const {
    if (options_.progress) options_.progress(table, copied, total);
  }

  Connection& db_;
  core::TableSource& source_;
  const std::string& identity_;
  const CopyOptions& options_;
  std::vector<Column> columns_;
  std::vector<std::string> names_;
};

// Ids were copied as they were, so each identity sequence must continue after the highest.
Result<void> AdvanceSequences(Connection& db) {
  HIKESHI_TRY(const Rows identities, db.Exec("SELECT table_name, column_name FROM information_schema.columns "
                                             "WHERE table_schema = current_schema() AND is_identity = 'YES' "
                                             "AND identity_generation = 'BY DEFAULT'"));
  for (int i = 0; i < identities.Size(); ++i) {
    const std::string table = identities.Text(i, 0);
    const std::string column = identities.Text(i, 1);
    HIKESHI_CHECK(
        db.Exec(fmt::format("SELECT setval(pg_get_serial_sequence('{0}', '{1}'), coalesce(max({1}), 0) + 1, "
                            "false) FROM {0}",
                            table, column)));
  }
  return {};
}

}  // namespace

Result<CopySummary> CopyStoreFrom(core::TableSource& source, const std::string& conninfo, const CopyOptions& options) {
  if (options.batch_rows < 1 || options.batch_rows > 100000) {
    return Fail(Error::InvalidArgument("batch_rows must be between 1 and 100000", "/batch_rows"));
  }
  HIKESHI_TRY(auto db, Connection::Open(conninfo, PostgresOptions{}));
  HIKESHI_CHECK(detail::Migrate(*db));
  // Held for the whole copy: no node writes while the store is being copied in, and no second copy
  // runs at once (a write or copy that waits longer than the busy timeout gives up, kUnavailable).
  const std::string lock = fmt::format("SELECT pg_advisory_lock({}, {})", detail::kLockSpace, detail::kWriteLock);
  HIKESHI_CHECK(db->Execute(lock.c_str()));
  HIKESHI_CHECK(CheckEveryTableIsCopied(*db));
  HIKESHI_TRY(const std::string identity, SourceIdentity(source));
  HIKESHI_TRY(const Rows resumed, db->Exec("SELECT EXISTS (SELECT 1 FROM store_copy)"));
  CopySummary summary;
  summary.resumed = resumed.Bool(0, 0);
  HIKESHI_CHECK(CheckTarget(*db, source, identity));
  TableCopy copy(*db, source, identity, options);
  for (const std::string_view table : kTables) {
    HIKESHI_TRY(const std::int64_t copied, copy.Run(table));
    summary.tables.emplace_back(std::string(table), copied);
  }
  HIKESHI_CHECK(AdvanceSequences(*db));
  const std::string unlock = fmt::format("SELECT pg_advisory_unlock({}, {})", detail::kLockSpace, detail::kWriteLock);
  HIKESHI_CHECK(db->Execute(unlock.c_str()));
  return summary;
}

}  // namespace hikeshi::store::postgres
