#pragma once
// Feed parsers: one per format, each turning a ByteSource into FeedEvents and FeedRejects.
// A malformed record is a reject, never the end of the feed. Parsers are created per feed run
// and used from one thread. docs/feeds.md describes every format, the mapping TOML and the
// RSIT tables.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/intake/feed/event.hpp"

namespace hikeshi::intake::feed {

enum class FeedFormat { kNdjson, kCsv, kShadowserver, kSuricataEve, kXarf, kIodef, kMisp };
std::string_view FeedFormatName(FeedFormat format);  // "ndjson", "csv", "shadowserver", "suricata-eve", ...
std::optional<FeedFormat> ParseFeedFormat(std::string_view text);

struct ParserOptions {
  // For ndjson and csv: the field mapping, as TOML text (see docs/feeds.md). Empty for the others.
  std::string mapping_toml;
  // For shadowserver: the report type when it is not in a column ("scan_ssh"), usually taken from
  // the file name by the caller (ShadowserverTypeFromFileName).
  std::string report_type;
  // Records (lines) longer than this are rejected, not buffered without bound. Also bounds one
  // IODEF <Incident>. Memory for line formats stays within a small multiple of this.
  std::size_t max_record_bytes = 1 << 20;
  // Whole-document formats (IODEF, MISP, X-ARF as one JSON document) larger than this are refused.
  std::size_t max_document_bytes = 64 << 20;
};

// What one Parse() run saw. events + rejects + skipped counts every record once, except that one
// IODEF Incident can give several events.
struct ParseStats {
  std::int64_t events = 0;
  std::int64_t rejects = 0;
  // Well-formed records that are not events by design, and so not rejects: Suricata events other
  // than "alert", MISP attributes of a type that names no observable (comment, text...) or
  // marked deleted, blank lines.
  std::int64_t skipped = 0;
};

class FeedParser {
 public:
  virtual ~FeedParser() = default;
  // Reads `source` to its end, delivering every record to `sink` in order.
  // Errors: those of `source` or `sink`, unchanged; kInvalidArgument when a document format's
  // document as a whole cannot be parsed (not well-formed XML or JSON, a DTD in IODEF, a CSV header
  // without a column the mapping names), and kTooLarge when it is over max_document_bytes. The
  // events and rejects delivered before such an error stand; the caller keeps the input raw.
  [[nodiscard]] virtual Result<void> Parse(ByteSource& source, EventSink& sink) = 0;
  // Counts for the last Parse() call (cumulative if Parse is called again on more input).
  virtual ParseStats stats() const = 0;
};

// Errors: kInvalidArgument when the options do not suit the format (e.g. a bad mapping, or a
// mapping given to a format that takes none), with the TOML key in the message.
[[nodiscard]] Result<std::unique_ptr<FeedParser>> MakeParser(FeedFormat format, const ParserOptions& options);

// "2026-11-27-scan_ssh-japan-geo.csv" -> "scan_ssh"; nullopt when the name does not look like a
// Shadowserver report file (YYYY-MM-DD-<type>-<anything>.csv, optionally in a directory).
std::optional<std::string> ShadowserverTypeFromFileName(std::string_view file_name);

}  // namespace hikeshi::intake::feed
