#pragma once
// Human-readable ids: "R-2026-000001" for reports, "I-2026-000001" for incidents. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hikeshi::core {

enum class IdKind : char { kReport = 'R', kIncident = 'I' };

struct HumanId {
  IdKind kind;
  int year;
  std::int64_t number;  // 1-based, per kind and year
};

// Six digits at least; wider when a year passes 999999 items.
std::string FormatHumanId(IdKind kind, int year, std::int64_t number);
// nullopt unless `text` is exactly <kind>-<4-digit year>-<6+ digits>.
std::optional<HumanId> ParseHumanId(std::string_view text);
// The counter key under which numbers for (kind, year) are allocated: "I-2026".
std::string CounterKey(IdKind kind, int year);

}  // namespace hikeshi::core
