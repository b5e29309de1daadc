#pragma once
// Impact x urgency -> priority, the matrix every triage decision uses. Pure functions.

#include <optional>

namespace hikeshi::core {

// Impact and urgency run from 1 (highest) to 4 (lowest); priority P1 (most urgent) to P4.
inline constexpr int kMinLevel = 1;
inline constexpr int kMaxLevel = 4;
inline bool IsValidLevel(int level) { return level >= kMinLevel && level <= kMaxLevel; }

// Returns 1..4 for P1..P4. Precondition: both levels valid (checked by the caller's validation).
int PriorityOf(int impact, int urgency);

}  // namespace hikeshi::core
