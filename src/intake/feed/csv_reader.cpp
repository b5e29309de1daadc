#include "detail/csv_reader.hpp"

#include <algorithm>
#include <utility>

#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

namespace {
// How many physical lines one record may span. Quoted line breaks are rare in feeds; an unbalanced
// quote is not, and each resync re-reads at most this many lines, which bounds the cost of one.
constexpr std::size_t kMaxLinesPerRecord = 100;
// Fields kept per record; a line of a million commas is counted, not stored.
constexpr std::size_t kMaxFields = 4096;
}  // namespace

CsvReader::CsvReader(ByteSource& source, std::size_t max_record_bytes, char delimiter)
    : lines_(source, max_record_bytes), max_record_bytes_(max_record_bytes), delimiter_(delimiter) {}

Result<std::optional<LineReader::Line>> CsvReader::NextPhysical() {
  if (pending_.empty()) return lines_.Next();
  current_pending_ = std::move(pending_.front());
  pending_.pop_front();
  LineReader::Line line;
  line.text = current_pending_.text;
  line.terminator = current_pending_.terminator;
  line.number = current_pending_.number;
  line.too_long = current_pending_.too_long;
  line.length = current_pending_.length;
  return std::optional<LineReader::Line>(line);
}

void CsvReader::Store(const LineReader::Line& line) {
  if (line_count_ == record_lines_.size()) record_lines_.emplace_back();
  StoredLine& stored = record_lines_[line_count_++];
  stored.text.assign(line.text);
  stored.terminator.assign(line.terminator);
  stored.number = line.number;
  stored.too_long = line.too_long;
  stored.length = line.length;
}

void CsvReader::StartRecord() {
  line_count_ = 0;
  field_count_ = 0;
  in_quotes_ = false;
  field_started_ = false;
  if (fields_.empty()) fields_.emplace_back();
  fields_[0].clear();
}

std::string& CsvReader::CurrentField() {
  // Past kMaxFields the text goes to a scratch field that is never returned.
  return fields_[std::min(field_count_, kMaxFields)];
}

void CsvReader::EndField() {
  ++field_count_;
  field_started_ = false;
  const std::size_t slot = std::min(field_count_, kMaxFields);
  if (slot == fields_.size()) fields_.emplace_back();
  fields_[slot].clear();
}

bool CsvReader::Consume(std::string_view text, std::string_view terminator) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (in_quotes_) {
      const std::size_t quote = text.find('"', pos);
      if (quote == std::string_view::npos) {
        CurrentField().append(text.substr(pos));
        pos = text.size();
        break;
      }
      CurrentField().append(text.substr(pos, quote - pos));
      if (quote + 1 < text.size() && text[quote + 1] == '"') {
        CurrentField() += '"';
        pos = quote + 2;
      } else {
        in_quotes_ = false;
        pos = quote + 1;
      }
      continue;
    }
    const char c = text[pos];
    if (c == delimiter_) {
      EndField();
      ++pos;
    } else if (c == '"' && !field_started_) {
      in_quotes_ = true;
      field_started_ = true;
      ++pos;
    } else {
      // Up to the next delimiter. A quote inside an unquoted field is kept as an ordinary
      // character, as most producers mean it (RFC 4180 forbids it; being lenient loses nothing).
      std::size_t end = pos + 1;
      while (end < text.size() && text[end] != delimiter_) ++end;
      CurrentField().append(text.substr(pos, end - pos));
      field_started_ = true;
      pos = end;
    }
  }
  if (in_quotes_) {
    CurrentField().append(terminator);  // a line break inside a quoted field is part of the value
    return false;
  }
  EndField();
  return true;
}

CsvReader::Item CsvReader::Resync(std::string reason) {
  Item item;
  item.line = record_lines_[0].number;
  item.ok = false;
  item.reason = std::move(reason);
  raw_.assign(std::string_view(record_lines_[0].text).substr(0, kMaxRejectRawBytes));
  item.raw = raw_;
  for (std::size_t i = line_count_; i > 1; --i) pending_.push_front(std::move(record_lines_[i - 1]));
  line_count_ = 0;
  return item;
}

std::optional<CsvReader::Item> CsvReader::ResyncBadRecord(std::string reason) {
  if (line_count_ < 2) return std::nullopt;
  return Resync(std::move(reason) + "; the record ran over " + std::to_string(line_count_) +
                " lines inside a quoted field, so only its first line is rejected and the others are read again");
}

Result<std::optional<CsvReader::Item>> CsvReader::Next() {
  for (;;) {
    HIKESHI_TRY(std::optional<LineReader::Line> first, NextPhysical());
    if (!first) return std::optional<Item>();
    if (first->too_long) {
      Item item;
      item.line = first->number;
      item.ok = false;
      item.reason = "the line is " + std::to_string(first->length) + " bytes long, over max_record_bytes (" +
                    std::to_string(max_record_bytes_) + "); skipped";
      raw_.assign(first->text);
      item.raw = raw_;
      return std::optional<Item>(std::move(item));
    }
    if (Trim(first->text).empty()) {
      ++blank_lines_;
      continue;
    }
    StartRecord();
    LineReader::Line current = *first;
    std::size_t bytes = current.length;
    bool complete = Consume(current.text, current.terminator);
    while (!complete) {
      Store(current);  // the next read invalidates `current`; a resync needs it
      if (line_count_ >= kMaxLinesPerRecord || bytes > max_record_bytes_) {
        return std::optional<Item>(Resync("a quoted field opened on this line is still open " +
                                          std::to_string(line_count_) + " lines (" + std::to_string(bytes) +
                                          " bytes) later: an unbalanced quote? The line is rejected and reading "
                                          "resumes on the next one"));
      }
      HIKESHI_TRY(std::optional<LineReader::Line> next, NextPhysical());
      if (!next) {
        return std::optional<Item>(
            Resync("a quoted field opened on this line is not closed before the end of the "
                   "input: an unbalanced quote?"));
      }
      current = *next;
      bytes += current.length + 2;
      if (current.too_long) {
        Store(current);
        return std::optional<Item>(
            Resync("a quoted field opened on this line runs into a line longer than "
                   "max_record_bytes: an unbalanced quote?"));
      }
      complete = Consume(current.text, current.terminator);
    }
    Item item;
    item.line = first->number;
    if (line_count_ > 0) {
      Store(current);
      raw_.clear();
      for (std::size_t i = 0; i < line_count_; ++i) {
        raw_ += record_lines_[i].text;
        if (i + 1 < line_count_) raw_ += record_lines_[i].terminator;
      }
      item.line = record_lines_[0].number;
      item.raw = raw_;
    } else {
      item.raw = current.text;
    }
    if (expected_columns_ && field_count_ != *expected_columns_) {
      std::string reason = std::to_string(field_count_) + (field_count_ == 1 ? " column" : " columns") +
                           " where the header has " + std::to_string(*expected_columns_);
      if (line_count_ > 1) {
        return std::optional<Item>(
            Resync(reason + "; a quoted field runs over " + std::to_string(line_count_) +
                   " lines, so a quote is probably unbalanced. The line is rejected and reading resumes on the next "
                   "one"));
      }
      item.ok = false;
      item.reason = std::move(reason);
      if (item.raw.size() > kMaxRejectRawBytes) item.raw = item.raw.substr(0, kMaxRejectRawBytes);
      return std::optional<Item>(std::move(item));
    }
    item.fields = std::span<const std::string>(fields_.data(), std::min(field_count_, kMaxFields));
    return std::optional<Item>(std::move(item));
  }
}

}  // namespace hikeshi::intake::feed::detail
