#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "detail/connection.hpp"

namespace hikeshi::store::sqlite {
namespace {

using detail::Connection;

bool IsName(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

class SqliteTableSource final : public core::TableSource {
 public:
  explicit SqliteTableSource(std::unique_ptr<Connection> db) : db_(std::move(db)) {}

  Result<std::vector<std::string>> Columns(std::string_view table) override {
    if (!IsName(table)) return Fail(Error::InvalidArgument(fmt::format("not a table name: {}", table)));
    HIKESHI_TRY(auto stmt, db_->Prepare("SELECT name FROM pragma_table_info(:table) ORDER BY cid"));
    stmt.Bind(":table", table);
    std::vector<std::string> columns;
    for (;;) {
      HIKESHI_TRY(const bool row, stmt.Step());
      if (!row) break;
      columns.push_back(stmt.Text(0));
    }
    return columns;
  }

  Result<std::int64_t> CountRows(std::string_view table) override {
    if (!IsName(table)) return Fail(Error::InvalidArgument(fmt::format("not a table name: {}", table)));
    HIKESHI_TRY(auto stmt, db_->Prepare(fmt::format("SELECT count(*) FROM {}", table)));
    HIKESHI_TRY(const bool row, stmt.Step());
    return row ? stmt.Int(0) : 0;
  }

  Result<core::TableBatch> ReadRows(std::string_view table, const std::vector<std::string>& columns,
                                    std::string_view after, int limit) override {
    if (!IsName(table)) return Fail(Error::InvalidArgument(fmt::format("not a table name: {}", table)));
    for (const auto& column : columns) {
      if (!IsName(column)) return Fail(Error::InvalidArgument(fmt::format("not a column name: {}", column)));
    }
    HIKESHI_TRY(const std::string order, OrderColumn(table));
    std::string list;
    for (const auto& column : columns) list += ", " + column;
    // The cursor is the rowid (insertion order) or, for a WITHOUT ROWID table, its key.
    const bool by_rowid = order == "rowid";
    HIKESHI_TRY(auto stmt,
                db_->Prepare(fmt::format("SELECT {0}{1} FROM {2} {3} ORDER BY {0} LIMIT :limit", order, list, table,
                                         after.empty() ? "" : fmt::format("WHERE {} > :after", order))));
    stmt.Bind(":limit", std::int64_t{limit});
    if (after.empty()) {
      // From the first row.
    } else if (by_rowid) {
      std::int64_t rowid = 0;
      if (!after.empty() && std::from_chars(after.data(), after.data() + after.size(), rowid).ec != std::errc()) {
        return Fail(Error::InvalidArgument(fmt::format("not a cursor of table {}: {}", table, after)));
      }
      stmt.Bind(":after", rowid);
    } else {
      stmt.Bind(":after", after);
    }
    core::TableBatch batch;
    for (;;) {
      HIKESHI_TRY(const bool row, stmt.Step());
      if (!row) break;
      core::TableRow values;
      values.reserve(columns.size());
      for (int i = 1; i <= static_cast<int>(columns.size()); ++i) values.push_back(stmt.OptionalText(i));
      batch.rows.push_back(std::move(values));
      batch.cursor = stmt.Text(0);
    }
    return batch;
  }

 private:
  // "rowid", or the key column of a WITHOUT ROWID table.
  Result<std::string> OrderColumn(std::string_view table) {
    HIKESHI_TRY(auto stmt, db_->Prepare("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = :table"));
    stmt.Bind(":table", table);
    HIKESHI_TRY(const bool found, stmt.Step());
    if (!found) return Fail(Error::InvalidArgument(fmt::format("no table {} in the source", table)));
    if (stmt.Int(0) == 0) return std::string("rowid");
    stmt.Finish();
    HIKESHI_TRY(auto key, db_->Prepare("SELECT name FROM pragma_table_info(:table) WHERE pk = 1"));
    key.Bind(":table", table);
    HIKESHI_TRY(const bool has_key, key.Step());
    if (!has_key) return Fail(Error::Internal(fmt::format("table {} has no key", table)));
    return key.Text(0);
  }

  std::unique_ptr<Connection> db_;
};

}  // namespace

Result<std::unique_ptr<core::TableSource>> OpenSqliteTableSource(const std::filesystem::path& db_file) {
  std::error_code ec;
  if (!std::filesystem::exists(db_file, ec)) return Fail(Error::NotFound("Hikeshi store " + db_file.string()));
  {
    // Brings an older store's schema up to date first, so that its tables are this program's.
    HIKESHI_TRY(auto store, OpenSqliteStore(db_file));
  }
  HIKESHI_TRY(auto db, Connection::Open(db_file, SqliteOptions{}, detail::ConnectionRole::kReader));
  // One read transaction for the whole copy: every ReadRows sees the same snapshot.
  HIKESHI_CHECK(db->Execute("BEGIN"));
  return std::make_unique<SqliteTableSource>(std::move(db));
}

}  // namespace hikeshi::store::sqlite
