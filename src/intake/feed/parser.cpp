#include "hikeshi/intake/feed/parser.hpp"

#include <array>
#include <utility>

#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed {

namespace {
constexpr std::array<std::pair<FeedFormat, std::string_view>, 7> kFormats = {{
    {FeedFormat::kNdjson, "ndjson"},
    {FeedFormat::kCsv, "csv"},
    {FeedFormat::kShadowserver, "shadowserver"},
    {FeedFormat::kSuricataEve, "suricata-eve"},
    {FeedFormat::kXarf, "xarf"},
    {FeedFormat::kIodef, "iodef"},
    {FeedFormat::kMisp, "misp"},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::string_view FeedFormatName(FeedFormat format) {
  for (const auto& [known, name] : kFormats) {
    if (known == format) return name;
  }
  return "unknown";
}

std::optional<FeedFormat> ParseFeedFormat(std::string_view text) {
  for (const auto& [format, name] : kFormats) {
    if (detail::EqualsIgnoreCase(text, name)) return format;
  }
  return std::nullopt;
}

Result<std::unique_ptr<FeedParser>> MakeParser(FeedFormat format, const ParserOptions& options) {
  const std::string name(FeedFormatName(format));
  if (options.max_record_bytes == 0 || options.max_document_bytes == 0) {
    return Fail(Error::InvalidArgument("max_record_bytes and max_document_bytes must be positive"));
  }
  const bool mapped = format == FeedFormat::kNdjson || format == FeedFormat::kCsv;
  if (mapped && options.mapping_toml.empty()) {
    return Fail(Error::InvalidArgument("the " + name + " format needs a field mapping (TOML, see docs/feeds.md)"));
  }
  if (!mapped && !options.mapping_toml.empty()) {
    return Fail(Error::InvalidArgument("the " + name + " format takes no field mapping; only ndjson and csv do"));
  }
  if (format != FeedFormat::kShadowserver && !options.report_type.empty()) {
    return Fail(Error::InvalidArgument("a report type applies to the shadowserver format only"));
  }
  switch (format) {
    case FeedFormat::kNdjson:
      return detail::MakeNdjsonParser(options);
    case FeedFormat::kCsv:
      return detail::MakeCsvParser(options);
    case FeedFormat::kShadowserver:
      return detail::MakeShadowserverParser(options);
    case FeedFormat::kSuricataEve:
      return detail::MakeSuricataParser(options);
    case FeedFormat::kXarf:
      return detail::MakeXarfParser(options);
    case FeedFormat::kIodef:
      return detail::MakeIodefParser(options);
    case FeedFormat::kMisp:
      return detail::MakeMispParser(options);
  }
  return Fail(Error::InvalidArgument("unknown feed format"));
}

std::optional<std::string> ShadowserverTypeFromFileName(std::string_view file_name) {
  if (const std::size_t slash = file_name.find_last_of("/\\"); slash != std::string_view::npos) {
    file_name = file_name.substr(slash + 1);
  }
  // "YYYY-MM-DD-" then the type, then "-" or the end of the name before ".csv".
  if (file_name.size() < 12) return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(file_name[i])) return std::nullopt;
  }
  if (file_name[4] != '-' || file_name[7] != '-' || file_name[10] != '-') return std::nullopt;
  std::string_view rest = file_name.substr(11);
  for (std::string_view suffix : {".gz", ".zip"}) {
    if (rest.ends_with(suffix)) rest.remove_suffix(suffix.size());
  }
  if (!detail::EqualsIgnoreCase(rest.substr(rest.size() < 4 ? 0 : rest.size() - 4), ".csv")) return std::nullopt;
  rest.remove_suffix(4);
  const std::string_view type = rest.substr(0, rest.find('-'));
  if (type.empty()) return std::nullopt;
  for (char c : type) {
    // Shadowserver report names are lower-case words joined by '_' ("event4_sinkhole_http").
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '_')) return std::nullopt;
  }
  return std::string(type);
}

}  // namespace hikeshi::intake::feed
