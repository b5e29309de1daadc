// libFuzzer target for the feed parsers: the first byte picks the format (of the seven), the rest
// is the feed, read through the DecompressingSource that every feed goes through (so gzip input
// is fuzzed too). Invariants checked on every input (a violation aborts, which libFuzzer reports
// with the input that caused it):
//   - every event has a record number, an RSIT class and type, and text fields (description,
//     report type, event id) that are valid UTF-8 on one line; a subject has a value;
//   - every reject has a reason that is valid UTF-8, and a raw record of at most 64 KiB;
//   - the parser's own counts are the events and rejects it delivered.
//
// Build and run (clang only; see fuzz/CMakeLists.txt):
//   ninja -C build/fuzz feed_parser_fuzz
//   build/fuzz/fuzz/feed_parser_fuzz -max_len=65536 fuzz/corpus/feed
// The same checks run with the normal test suite: feed_parser_replay (src/intake/feed) replays
// this corpus and every sample under tests/e2e/feeds, whole, gzip-compressed, cut short and with
// bytes flipped, through this function.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hikeshi/common/utf8.hpp"
#include "hikeshi/intake/feed/parser.hpp"
#include "hikeshi/intake/feed/sources.hpp"

namespace {

namespace feed = hikeshi::intake::feed;
using hikeshi::Result;

constexpr std::array kFormats = {feed::FeedFormat::kNdjson,       feed::FeedFormat::kCsv,
                                 feed::FeedFormat::kShadowserver, feed::FeedFormat::kSuricataEve,
                                 feed::FeedFormat::kXarf,         feed::FeedFormat::kIodef,
                                 feed::FeedFormat::kMisp};

// One mapping for ndjson and one for csv, using most keys (TLP included).
constexpr std::string_view kNdjsonMapping = R"(
time = "/time"
category = "/category"
category_default = "other/undetermined"
event_id = "/id"
description = "/text"
subject_ip = "/ip"
subject_domain = "/host"
subject_url = "/url"
subject_port = "/port"
tlp = "/tlp"
[[observable]]
field = "/more"
type = "host"
skip_invalid = true
)";
constexpr std::string_view kCsvMapping = R"(
time = "time"
category = "category"
category_default = "other/undetermined"
event_id = "id"
subject_ip = "ip"
subject_domain = "host"
tlp = "tlp"
[[observable]]
field = "url"
type = "url"
skip_invalid = true
)";

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "feed_parser_fuzz: invariant broken: %s\n", what);
  std::abort();
}

bool OneLine(std::string_view text) {
  if (!hikeshi::common::IsValidUtf8(text)) return false;
  for (const char c : text) {
    if (c == '\n' || c == '\r') return false;
  }
  return true;
}

class CheckingSink final : public feed::EventSink {
 public:
  Result<void> OnEvent(feed::FeedEvent event) override { return OnReusedEvent(event); }
  Result<void> OnReusedEvent(feed::FeedEvent& event) override {
    ++events;
    if (event.record <= 0) Broken("an event without a record number");
    if (event.category.rsit_class.empty() || event.category.rsit_type.empty()) Broken("an event without a category");
    if (!OneLine(event.description) || !OneLine(event.report_type) || !OneLine(event.event_id)) {
      Broken("an event text field that is not valid UTF-8 on one line");
    }
    if (event.subject && event.subject->value.empty()) Broken("a subject without a value");
    for (const auto& observable : event.observables) {
      if (observable.value.empty()) Broken("an observable without a value");
    }
    return {};
  }
  Result<void> OnReject(feed::FeedReject reject) override {
    ++rejects;
    if (reject.reason.empty() || !hikeshi::common::IsValidUtf8(reject.reason)) Broken("a reject without a reason");
    if (reject.raw.size() > feed::kMaxRejectRawBytes) Broken("a reject's raw record over 64 KiB");
    return {};
  }

  std::int64_t events = 0;
  std::int64_t rejects = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const feed::FeedFormat format = kFormats[data[0] % kFormats.size()];
  feed::ParserOptions options;
  options.max_record_bytes = 64 * 1024;
  options.max_document_bytes = 1 << 20;
  if (format == feed::FeedFormat::kNdjson) options.mapping_toml = kNdjsonMapping;
  if (format == feed::FeedFormat::kCsv) options.mapping_toml = kCsvMapping;
  if (format == feed::FeedFormat::kShadowserver) options.report_type = "scan_ssh";
  auto parser = feed::MakeParser(format, options);
  if (!parser) Broken("the fixed mapping was refused");
  feed::StringSource bytes(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  feed::DecompressingSource source(bytes);
  CheckingSink sink;
  (void)(*parser)->Parse(source, sink);  // a document that fails as a whole is allowed
  const feed::ParseStats stats = (*parser)->stats();
  if (stats.events != sink.events || stats.rejects != sink.rejects)
    Broken("the parser's counts are not what it delivered");
  return 0;
}
