#pragma once
// File type sniffing with libmagic. A magic_t is not thread-safe, so each thread loads its own
// two (once, on first use: the full database, and one that skips the soft tests for plain text).
// Thread-safe.

#include <string>
#include <string_view>

namespace hikeshi::intake::mail::detail {

// The MIME type libmagic reads from the first bytes of `content` ("application/zip"), without
// looking inside compressed data; "application/octet-stream" when it cannot tell or libmagic
// cannot load its database. Content that is plainly text (see file_type.cpp) is typed by
// libmagic's builtin tests alone (JSON, CSV, text), without its soft tests: source code that starts
// like prose is then "text/plain" where the soft tests would have named its language.
std::string SniffMimeType(std::string_view content);

}  // namespace hikeshi::intake::mail::detail
