#pragma once
// GMime reads back what the composer wrote: an independent decoder for the tests' expectations.

#include <memory>
#include <string>
#include <string_view>

#include <gmime/gmime.h>

namespace hikeshi::notify::testing {

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

inline void InitGMimeOnce() {
  static const bool initialised = [] {
    g_mime_init();
    return true;
  }();
  static_cast<void>(initialised);
}

inline GObjectPtr<GMimeMessage> ParseMessage(std::string_view raw) {
  InitGMimeOnce();
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return GObjectPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

// RFC 2047 decoding of unstructured header text, by GMime.
inline std::string DecodeHeaderText(std::string_view encoded) {
  InitGMimeOnce();
  std::string input(encoded);
  char* decoded = g_mime_utils_header_decode_text(nullptr, input.c_str());
  std::string out = decoded != nullptr ? decoded : "";
  g_free(decoded);
  return out;
}

// The decoded content of a text part (charset converted to UTF-8), by GMime.
inline std::string TextOf(GMimeObject* part) {
  if (part == nullptr || !GMIME_IS_TEXT_PART(part)) return "<not a text part>";
  char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
  std::string out = text != nullptr ? text : "";
  g_free(text);
  return out;
}

// Every line of a raw message, without its CRLF.
inline std::vector<std::string> Lines(std::string_view raw) {
  std::vector<std::string> lines;
  while (!raw.empty()) {
    std::size_t eol = raw.find("\r\n");
    lines.emplace_back(raw.substr(0, eol));
    if (eol == std::string_view::npos) break;
    raw.remove_prefix(eol + 2);
  }
  return lines;
}

// The raw header field `name` (first occurrence), continuation lines included, without the final CRLF.
inline std::string RawHeader(std::string_view raw, std::string_view name) {
  std::string prefix = std::string(name) + ":";
  std::size_t start = raw.starts_with(prefix) ? 0 : raw.find("\r\n" + prefix);
  if (start == std::string_view::npos) return {};
  if (start != 0) start += 2;
  std::size_t end = start;
  for (;;) {
    end = raw.find("\r\n", end);
    if (end == std::string_view::npos || end + 2 >= raw.size() || (raw[end + 2] != ' ' && raw[end + 2] != '\t')) break;
    end += 2;
  }
  return std::string(raw.substr(start, end - start));
}

}  // namespace hikeshi::notify::testing
