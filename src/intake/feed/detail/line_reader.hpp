#pragma once
// Splits a ByteSource into lines with a buffer of bounded size: a line longer than the limit is
// skipped (its start kept for the reject) rather than buffered whole, so memory stays within
// about max_line_bytes + 64 KiB whatever the input. Not thread-safe; one reader per parse.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/intake/feed/event.hpp"

namespace hikeshi::intake::feed::detail {

class LineReader {
 public:
  struct Line {
    // Without its terminator. For an over-long line: its first min(64 KiB, max_line_bytes) bytes.
    std::string_view text;
    std::string_view terminator;  // "\n", "\r\n", or "" for a last line without one
    std::int64_t number = 0;      // 1-based
    bool too_long = false;        // longer than max_line_bytes; the rest of it was skipped
    std::size_t length = 0;       // full length without the terminator, also when too long
  };

  // `source` must outlive the reader.
  LineReader(ByteSource& source, std::size_t max_line_bytes);
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, or nullopt at the end of the input. The views stay valid until the next call.
  // A UTF-8 byte order mark at the very start is dropped. Errors: those of the source.
  [[nodiscard]] Result<std::optional<Line>> Next();

  // Appends all input not yet returned as lines to `out`.
  // Errors: those of the source; kTooLarge once `out` would exceed `limit` bytes.
  [[nodiscard]] Result<void> ReadRest(std::string& out, std::size_t limit);

 private:
  Result<void> Fill();
  Result<std::optional<Line>> SkipLongLine();
  Line MakeLine(std::size_t begin, std::size_t end, bool newline);
  // How much of an over-long line is kept: the same however the input was chunked.
  std::size_t KeptBytes() const { return std::min(kMaxRejectRawBytes, max_line_bytes_); }

  ByteSource& source_;
  std::size_t max_line_bytes_;
  std::size_t capacity_limit_;
  std::string buffer_;  // holds input in [begin_, end_); its size is the buffer's capacity
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t scanned_ = 0;  // bytes after begin_ already known to hold no '\n'
  bool eof_ = false;
  bool at_start_ = true;
  std::int64_t number_ = 0;
  std::string long_prefix_;
};

// Reads all of `source`, for the whole-document formats.
// Errors: those of the source; kTooLarge when it holds more than `limit` bytes.
[[nodiscard]] Result<std::string> ReadDocument(ByteSource& source, std::size_t limit);

}  // namespace hikeshi::intake::feed::detail
