#pragma once
// Strict UTF-8 decoding, shared by every component that reads untrusted text (observables, feeds,
// extraction). Pure functions; thread-safe.

#include <cstddef>
#include <string_view>

namespace hikeshi::common {

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;  // bytes; 0 when no well-formed code point starts there
};

// The well-formed UTF-8 sequence starting at text[pos]. Overlong forms, surrogates, code points
// over U+10FFFF, truncated sequences and pos past the end all give length 0.
CodePoint DecodeUtf8(std::string_view text, std::size_t pos);
// The well-formed UTF-8 sequence ending just before text[end], or length 0.
CodePoint DecodeUtf8Before(std::string_view text, std::size_t end);
// True when the whole of `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace hikeshi::common
