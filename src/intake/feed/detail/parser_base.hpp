#pragma once
// What every format's parser shares: the counting of events, rejects and skips, the line loop of
// the line formats, and the factory for each format. Not a public header.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "hikeshi/intake/feed/parser.hpp"

#include "detail/line_reader.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

class ParserBase : public FeedParser {
 public:
  ParseStats stats() const final { return stats_; }

 protected:
  Result<void> Emit(EventSink& sink, FeedEvent event) {
    ++stats_.events;
    return sink.OnEvent(std::move(event));
  }
  // For a parser that refills one FeedEvent per record (see EventSink::OnReusedEvent).
  Result<void> EmitReused(EventSink& sink, FeedEvent& event) {
    ++stats_.events;
    return sink.OnReusedEvent(event);
  }
  Result<void> Reject(EventSink& sink, std::int64_t record, std::string reason, std::string_view raw) {
    ++stats_.rejects;
    return sink.OnReject(FeedReject{record, std::move(reason), RejectRaw(raw)});
  }
  void Skip() { ++stats_.skipped; }

  // Calls `handle(line)` for each line that is neither blank (skipped) nor over max_record_bytes
  // (rejected here). `handle` returns Result<void>: an error ends the parse.
  template <typename Handle>
  Result<void> ForEachLine(ByteSource& source, EventSink& sink, std::size_t max_record_bytes, Handle&& handle) {
    LineReader lines(source, max_record_bytes);
    for (;;) {
      HIKESHI_TRY(const std::optional<LineReader::Line> line, lines.Next());
      if (!line) return {};
      if (line->too_long) {
        HIKESHI_CHECK(Reject(sink, line->number, TooLongReason(*line, max_record_bytes), line->text));
      } else if (Trim(line->text).empty()) {
        Skip();
      } else {
        HIKESHI_CHECK(handle(*line));
      }
    }
  }

  static std::string TooLongReason(const LineReader::Line& line, std::size_t max_record_bytes) {
    return "line " + std::to_string(line.number) + ": the line is " + std::to_string(line.length) +
           " bytes long, over max_record_bytes (" + std::to_string(max_record_bytes) + "); skipped";
  }
  static std::string LinePrefix(std::int64_t number) { return "line " + std::to_string(number) + ": "; }

  // For the CSV formats: emits the event built from `item`, or rejects the record. A record that
  // failed may owe its shape to an unbalanced quote, so the reader is asked to re-read it line by
  // line; then only its first line is the reject and the lines after it are read again.
  template <typename Reader, typename Item, typename Built>
  Result<void> EmitOrRejectRecord(EventSink& sink, Reader& reader, const Item& item, Built event) {
    if (!event) {
      std::string reason = LinePrefix(item.line) + event.error();
      if (auto first_line = reader.ResyncBadRecord(reason)) {
        return Reject(sink, first_line->line, first_line->reason, first_line->raw);
      }
      return Reject(sink, item.line, std::move(reason), item.raw);
    }
    event->record = item.line;
    event->raw.assign(item.raw);
    return Emit(sink, *std::move(event));
  }

  ParseStats stats_;
};

Result<std::unique_ptr<FeedParser>> MakeNdjsonParser(const ParserOptions& options);
Result<std::unique_ptr<FeedParser>> MakeCsvParser(const ParserOptions& options);
std::unique_ptr<FeedParser> MakeShadowserverParser(const ParserOptions& options);
std::unique_ptr<FeedParser> MakeSuricataParser(const ParserOptions& options);
std::unique_ptr<FeedParser> MakeXarfParser(const ParserOptions& options);
std::unique_ptr<FeedParser> MakeIodefParser(const ParserOptions& options);
std::unique_ptr<FeedParser> MakeMispParser(const ParserOptions& options);

}  // namespace hikeshi::intake::feed::detail
