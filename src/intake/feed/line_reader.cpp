#include "detail/line_reader.hpp"

#include <algorithm>
#include <cstring>

namespace hikeshi::intake::feed::detail {

namespace {
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

LineReader::LineReader(ByteSource& source, std::size_t max_line_bytes)
    : source_(source),
      max_line_bytes_(max_line_bytes),
      // Room for a whole line of the maximum length, its "\r\n", and one more read.
      capacity_limit_(max_line_bytes + 2 + kChunkBytes) {}

LineReader::Line LineReader::MakeLine(std::size_t begin, std::size_t end, bool newline) {
  Line line;
  line.number = ++number_;
  std::string_view text(buffer_.data() + begin, end - begin);
  if (newline) {
    line.terminator = "\n";
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
      line.terminator = "\r\n";
    }
  }
  if (at_start_) {
    at_start_ = false;
    if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  }
  line.text = text;
  line.length = text.size();
  if (line.length > max_line_bytes_) {
    line.too_long = true;
    line.text = text.substr(0, KeptBytes());
  }
  return line;
}

Result<void> LineReader::Fill() {
  if (begin_ > 0) {
    // Move the partial line to the front so that the free space is all at the end.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kChunkBytes / 2 && buffer_.size() < capacity_limit_) {
    buffer_.resize(std::min(capacity_limit_, std::max<std::size_t>(kChunkBytes, buffer_.size() * 2)));
  }
  HIKESHI_TRY(const std::size_t read, source_.Read(buffer_.data() + end_, buffer_.size() - end_));
  if (read == 0) eof_ = true;
  end_ += read;
  return {};
}

Result<std::optional<LineReader::Line>> LineReader::Next() {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start + scanned_, '\n', end_ - begin_ - scanned_));
    if (newline != nullptr) {
      const auto end = static_cast<std::size_t>(newline - buffer_.data());
      const std::size_t line_begin = begin_;
      begin_ = end + 1;
      scanned_ = 0;
      return MakeLine(line_begin, end, true);
    }
    scanned_ = end_ - begin_;
    // Even without its "\r\n" this is already over the limit: skip it without buffering more.
    if (end_ - begin_ >= max_line_bytes_ + 2) return SkipLongLine();
    if (eof_) {
      if (begin_ == end_) return std::optional<Line>();
      const std::size_t line_begin = begin_;
      begin_ = end_;
      scanned_ = 0;
      return MakeLine(line_begin, end_, false);
    }
    HIKESHI_CHECK(Fill());
  }
}

Result<std::optional<LineReader::Line>> LineReader::SkipLongLine() {
  std::string_view head(buffer_.data() + begin_, end_ - begin_);
  if (at_start_) {
    at_start_ = false;
    if (head.starts_with(kBom)) head.remove_prefix(kBom.size());
  }
  long_prefix_.assign(head.substr(0, KeptBytes()));
  std::size_t length = head.size();
  begin_ = end_ = scanned_ = 0;
  Line line;
  line.number = ++number_;
  line.too_long = true;
  for (;;) {
    if (end_ == 0) {
      if (eof_) break;
      HIKESHI_CHECK(Fill());
      continue;
    }
    const auto* newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', end_));
    if (newline != nullptr) {
      const auto end = static_cast<std::size_t>(newline - buffer_.data());
      length += end;
      line.terminator = "\n";
      begin_ = end + 1;
      break;
    }
    length += end_;
    end_ = 0;
  }
  line.text = long_prefix_;
  line.length = length;
  return std::optional<Line>(line);
}

Result<void> LineReader::ReadRest(std::string& out, std::size_t limit) {
  const auto append = [&](std::string_view bytes) -> Result<void> {
    if (out.size() + bytes.size() > limit) {
      return Fail(Error::TooLarge("the document is larger than " + std::to_string(limit) + " bytes"));
    }
    out.append(bytes);
    return {};
  };
  HIKESHI_CHECK(append(std::string_view(buffer_.data() + begin_, end_ - begin_)));
  begin_ = end_ = scanned_ = 0;
  while (!eof_) {
    HIKESHI_CHECK(Fill());
    HIKESHI_CHECK(append(std::string_view(buffer_.data(), end_)));
    end_ = 0;
  }
  return {};
}

Result<std::string> ReadDocument(ByteSource& source, std::size_t limit) {
  std::string document;
  for (;;) {
    const std::size_t size = document.size();
    document.resize(size + kChunkBytes);
    HIKESHI_TRY(const std::size_t read, source.Read(document.data() + size, kChunkBytes));
    document.resize(size + read);
    if (read == 0) return document;
    if (document.size() > limit) {
      return Fail(
          Error::TooLarge("the document is larger than max_document_bytes (" + std::to_string(limit) + " bytes)"));
    }
  }
}

}  // namespace hikeshi::intake::feed::detail
