#pragma once
// TableSource port: a store's tables as plain rows, for `hikeshi migrate`, which copies a store into
// another backend with every stored value as it is (ids, the audit journal's hashes, timestamps,
// counters), so that the copy is the same store and its audit chain still verifies. The SQLite
// backend implements it; the PostgreSQL backend reads from it (CopyStoreFrom).
//
// Thread-safety: one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

// One row: each column's value as bytes (integers in decimal, text and BLOBs as their bytes), or
// nullopt for NULL.
using TableRow = std::vector<std::optional<std::string>>;

struct TableBatch {
  std::vector<TableRow> rows;
  // Names the last row: pass it back as `after` for the rows that follow. "" when `rows` is empty.
  std::string cursor;
};

class TableSource {
 public:
  virtual ~TableSource() = default;
  // The column names of `table`; empty when the source has no such table.
  virtual Result<std::vector<std::string>> Columns(std::string_view table) = 0;
  virtual Result<std::int64_t> CountRows(std::string_view table) = 0;
  // Up to `limit` rows of `table`, with `columns` in that order, in a fixed order (insertion order
  // where the table has one), after the row the cursor `after` names ("" from the first row).
  // Every call sees the same snapshot of the source.
  // Errors: kInvalidArgument for an unknown table or column or a cursor this source did not make.
  virtual Result<TableBatch> ReadRows(std::string_view table, const std::vector<std::string>& columns,
                                      std::string_view after, int limit) = 0;
};

}  // namespace hikeshi::core
