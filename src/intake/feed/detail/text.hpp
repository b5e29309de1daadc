#pragma once
// Text helpers shared by the feed parsers: quoting input in messages, making untrusted text safe to
// store, and reading the time and port spellings feeds use. Not a public header; thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

namespace hikeshi::intake::feed::detail {

// Descriptions and names taken from a feed are cut to this many bytes: one line a handler reads.
inline constexpr std::size_t kMaxTextBytes = 1024;

std::string_view Trim(std::string_view text);
std::string AsciiLower(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
bool ContainsIgnoreCase(std::string_view text, std::string_view needle);

// The input as it appears in a reject reason: in quotes, at most 100 bytes, with control
// characters and broken UTF-8 shown as \xNN, so that the reason is printable, valid UTF-8.
std::string Quote(std::string_view text);

// `text` as valid UTF-8 on one line: invalid sequences become U+FFFD, control characters become
// spaces, runs of whitespace collapse, and the result is cut (on a character boundary) to
// `max_bytes`. For descriptions, ids and names copied from a feed.
std::string CleanText(std::string_view text, std::size_t max_bytes = kMaxTextBytes);
// The same into `out`, replacing what it held but keeping its room.
void CleanTextInto(std::string_view text, std::string& out, std::size_t max_bytes = kMaxTextBytes);

// The first kMaxRejectRawBytes of `raw`, for FeedReject::raw.
std::string RejectRaw(std::string_view raw);

// A time as feeds write it: RFC 3339, and the variants seen in practice: "+0000" offsets
// (Suricata), no offset at all (read as UTC: Shadowserver writes "2026-11-27 00:00:05"), a bare
// date (midnight UTC). nullopt otherwise.
std::optional<common::Timestamp> ParseFeedTime(std::string_view text);
// Seconds (or milliseconds when `millis`) since the epoch, possibly with a fraction; nullopt
// when not a plain decimal number or out of range.
std::optional<common::Timestamp> ParseEpoch(std::string_view text, bool millis = false);
// A decimal port 0..65535; nullopt otherwise.
std::optional<std::uint16_t> ParsePort(std::string_view text);

}  // namespace hikeshi::intake::feed::detail
