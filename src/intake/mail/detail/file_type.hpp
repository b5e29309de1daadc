#pragma once
// File type sniffing with libmagic. A magic_t is not thread-safe, so each thread loads its own
// (once, on first use). Thread-safe.

#include <string>
#include <string_view>

namespace hikeshi::intake::mail::detail {

// The MIME type libmagic reads from the first bytes of `content` ("application/zip"), without
// looking inside compressed data; "application/octet-stream" when it cannot tell or libmagic
// cannot load its database.
std::string SniffMimeType(std::string_view content);

}  // namespace hikeshi::intake::mail::detail
