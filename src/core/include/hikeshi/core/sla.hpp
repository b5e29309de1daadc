#pragma once
// SLA clocks: how long the team took to acknowledge, triage, first respond to and resolve an
// incident, measured against targets per priority (P1..P4). The clocks are computed only from
// audit journal entries, never from an object's mutable timestamps, so they cannot drift from what
// really happened. docs/sla-and-statistics.md defines every clock precisely.
//
// Pure functions and plain value types: copyable, thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/model.hpp"

namespace hikeshi::core {

enum class SlaClockKind { kAcknowledge, kTriage, kFirstResponse, kResolution };
inline constexpr std::array<SlaClockKind, 4> kSlaClockKinds = {SlaClockKind::kAcknowledge, SlaClockKind::kTriage,
                                                               SlaClockKind::kFirstResponse, SlaClockKind::kResolution};
// "acknowledge", "triage", "first-response", "resolution": the names in the API, in [sla] and in
// the keys of "sla-breach" records.
std::string_view SlaClockName(SlaClockKind kind);
std::optional<SlaClockKind> ParseSlaClock(std::string_view text);

// The targets of one priority, indexed by SlaClockKind.
struct SlaTargets {
  std::array<std::chrono::seconds, 4> by_clock{};
  std::chrono::seconds For(SlaClockKind kind) const { return by_clock[static_cast<std::size_t>(kind)]; }
  std::chrono::seconds& For(SlaClockKind kind) { return by_clock[static_cast<std::size_t>(kind)]; }
};

// What the team promises, from [sla] in DATA/hikeshi.toml.
struct SlaPolicy {
  std::array<SlaTargets, 4> by_priority{};  // [0] is P1, [3] is P4
  // User accounts that act for machines (a mail gateway or feed importer holding a token). Their
  // actions never count as a person acknowledging or triaging an incident.
  std::vector<std::string> machine_accounts;

  // P1: 15m / 1h / 4h / 1d; P2: 1h / 4h / 1d / 3d; P3: 4h / 1d / 3d / 14d; P4: 1d / 3d / 7d / 30d
  // (acknowledge / triage / first response / resolution).
  static SlaPolicy Defaults();
  // The targets of priority `priority` (1..4; values outside are clamped).
  const SlaTargets& For(int priority) const;
};

// "90s", "15m", "4h", "3d", "2w", or a sum of them written together ("1h30m"); a bare number is
// seconds. At least one second, at most ten years. Errors: kInvalidArgument.
[[nodiscard]] Result<std::chrono::seconds> ParseSlaDuration(std::string_view text);
// The shortest such spelling: "1h30m", "3d", "45s"; "0s" for zero.
std::string FormatSlaDuration(std::chrono::seconds duration);

enum class SlaState {
  kMet,       // stopped within its target
  kBreached,  // stopped after its target, or still running past it
  kRunning,   // still running, within its target
};
std::string_view SlaStateName(SlaState state);  // "met", "breached", "running"

// The journal entry that stopped a clock.
struct SlaStop {
  std::int64_t seq = 0;
  Timestamp at{};
  std::string action;  // "incident.resolve", "mail.sent", ...
  std::string actor;
};

struct SlaClock {
  SlaClockKind kind = SlaClockKind::kAcknowledge;
  std::chrono::seconds target{};
  Timestamp started_at{};
  std::optional<SlaStop> stop;          // absent while the clock runs
  std::chrono::microseconds elapsed{};  // to the stop, or to `now` while running
  SlaState state = SlaState::kRunning;
  Timestamp Deadline() const { return started_at + target; }
};

// The clocks of one incident, as the journal has them at `now`.
struct SlaReading {
  std::string incident;  // human id
  // From the incident's newest snapshot in the journal: the targets are those of its priority now.
  int priority = 3;
  bool exercise = false;
  IncidentStatus status = IncidentStatus::kOpen;
  Timestamp created_at{};            // the "incident.create" entry
  Timestamp started_at{};            // created_at, or the earlier received_at of a linked report
  std::array<SlaClock, 4> clocks{};  // indexed by SlaClockKind
  const SlaClock& Clock(SlaClockKind kind) const { return clocks[static_cast<std::size_t>(kind)]; }
};

// The actor name under which the triage engine writes (its decisions are also "triage.*" actions).
inline constexpr std::string_view kTriageEngineActor = "triage";

// Computes the clocks of the incident with human id `incident` at `now`.
//
// `entries` must hold the incident's timeline (the entries whose `incident` field names it) and,
// for each report linked to it, that report's "report.create" entry and the "mail.sent" entries of
// the acknowledgements sent for it (outgoing mail of kind "ack"). Entries about anything else are
// ignored, except that an acknowledgement "mail.sent" entry is taken to be for a linked report: the
// caller selects those. Order does not matter (entries are taken in `seq` order). `people` holds
// the actor names that are persons: user accounts, less SlaPolicy::machine_accounts.
//
// Errors: kInvalidArgument when no readable "incident.create" entry for `incident` is among them.
[[nodiscard]] Result<SlaReading> ComputeSlaClocks(std::string_view incident, std::span<const AuditEntry> entries,
                                                  const SlaPolicy& policy,
                                                  const std::set<std::string, std::less<>>& people, Timestamp now);

}  // namespace hikeshi::core
