#pragma once
// An RFC 4180 CSV reader over a LineReader: quoted fields, "" for a quote, line breaks inside
// quoted fields, CRLF or LF. A record that goes wrong (an unbalanced quote swallowing the lines
// after it, a wrong column count across lines, a quoted field still open at the end) costs only
// its first line: that line is rejected and reading resumes on the next one, so one stray quote
// cannot eat the rest of a feed. Memory is bounded by max_record_bytes. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"

#include "detail/line_reader.hpp"

namespace hikeshi::intake::feed::detail {

class CsvReader {
 public:
  struct Item {
    std::int64_t line = 0;                // where the record starts
    bool ok = true;                       // false: `reason` says why the record is rejected
    std::string reason;                   // without the "line N: " prefix
    std::span<const std::string> fields;  // when ok
    std::string_view raw;                 // the record as received (its first 64 KiB when not ok)
  };

  // `source` must outlive the reader.
  CsvReader(ByteSource& source, std::size_t max_record_bytes, char delimiter);

  // From now on, a record with another number of fields is not ok (the header sets this).
  void ExpectColumns(std::size_t count) { expected_columns_ = count; }

  // The next record, or nullopt at the end. Blank lines are skipped and counted in blank_lines().
  // Views stay valid until the next call. Errors: those of the source.
  [[nodiscard]] Result<std::optional<Item>> Next();

  // After Next() gave an ok record spanning several lines that the caller then found bad (an
  // unbalanced quote can pair with a later one and give the right column count): rejects only the
  // record's first line, with `reason`, and reads the lines after it again. nullopt when the record
  // was one line, which the caller rejects whole.
  std::optional<Item> ResyncBadRecord(std::string reason);

  std::int64_t blank_lines() const { return blank_lines_; }

 private:
  // A physical line kept beyond the LineReader's next call.
  struct StoredLine {
    std::string text;
    std::string terminator;
    std::int64_t number = 0;
    bool too_long = false;
    std::size_t length = 0;
  };
  Result<std::optional<LineReader::Line>> NextPhysical();
  void Store(const LineReader::Line& line);
  void StartRecord();
  // Parses one physical line into the current record; returns true when the record is complete.
  bool Consume(std::string_view text, std::string_view terminator);
  void EndField();
  std::string& CurrentField();
  // Rejects the current record's first line and queues the lines after it to be read again.
  Item Resync(std::string reason);

  LineReader lines_;
  std::size_t max_record_bytes_;
  char delimiter_;
  std::optional<std::size_t> expected_columns_;
  std::deque<StoredLine> pending_;        // lines to read again after a resync
  StoredLine current_pending_;            // the pending line being read now (views point into it)
  std::vector<StoredLine> record_lines_;  // reused; the first line_count_ belong to the current record
  std::size_t line_count_ = 0;
  std::vector<std::string> fields_;  // reused; the first min(field_count_, kMaxFields) are the record's
  std::size_t field_count_ = 0;
  bool in_quotes_ = false;
  bool field_started_ = false;  // the field has begun, so a '"' in it is an ordinary character
  std::string raw_;
  std::int64_t blank_lines_ = 0;
};

}  // namespace hikeshi::intake::feed::detail
