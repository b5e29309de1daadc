#pragma once
// HTML to readable plain text, for mail whose only body is HTML. One pass over the input, no regular
// expressions, linear time on any input: script, style and head content is dropped, block elements
// become line breaks, entities (named and numeric) are decoded, and a link keeps its target in the
// text as "label <href>" so that URLs are found by observable extraction. Pure; thread-safe.

#include <string>
#include <string_view>

namespace hikeshi::intake::mail::detail {

// `html` must be UTF-8 (the caller converts it first); invalid bytes are passed on unchanged and
// cleaned by the caller.
std::string HtmlToText(std::string_view html);

}  // namespace hikeshi::intake::mail::detail
