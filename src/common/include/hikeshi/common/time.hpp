#pragma once
// Timestamps: microseconds since the Unix epoch, UTC. Value type; functions are thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hikeshi::common {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

inline std::int64_t ToMicros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp FromMicros(std::int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

// "2026-11-27T07:43:16.123456Z" (always UTC, always six fractional digits).
std::string FormatRfc3339(Timestamp t);
// Accepts RFC 3339 with 'Z' or a numeric offset and 0-9 fractional digits; nullopt otherwise.
std::optional<Timestamp> ParseRfc3339(std::string_view text);
// The UTC calendar year of t.
int YearOf(Timestamp t);

}  // namespace hikeshi::common
