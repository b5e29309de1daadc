#pragma once
// Statistics for management (the guide's reports; JPCERT/CC publishes such counts each quarter):
// incidents per category, period, constituency and channel, open and closed counts, times to
// triage and to resolve, and SLA compliance. Exercises are left out of every number. The counts
// come from the incidents as stored, the times and compliance from the SLA clocks, so from the
// audit journal. docs/sla-and-statistics.md defines every number.
//
// The free functions are pure and thread-safe. Statistics is thread-safe; Store, SlaMonitor and
// Clock must outlive it.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/sla.hpp"
#include "hikeshi/core/sla_monitor.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

enum class StatsPeriod { kDay, kWeek, kMonth, kQuarter };
std::string_view StatsPeriodName(StatsPeriod period);  // "day", "week", "month", "quarter"
std::optional<StatsPeriod> ParseStatsPeriod(std::string_view text);

// Which categories incidents are counted under: the guide's eight (and Other), or RSIT class/type.
enum class StatsGrouping { kGuide, kRsit };

// A fixed offset from UTC in minutes: "Z" (or "+00:00"), "+09:00", "-05:30". Calendar periods and
// dates are cut at midnight at this offset. Errors: kInvalidArgument.
[[nodiscard]] Result<int> ParseUtcOffset(std::string_view text);
std::string FormatUtcOffset(int minutes);  // "Z", "+09:00"

// The first instant of the period holding `t`. Weeks start on Monday (ISO 8601).
Timestamp PeriodStart(Timestamp t, StatsPeriod period, int utc_offset_minutes);
// The first instant of the period after the one starting at `start`.
Timestamp NextPeriodStart(Timestamp start, StatsPeriod period, int utc_offset_minutes);
// "2026-07-01", "2026-W27" (ISO week), "2026-07", "2026Q3".
std::string PeriodLabel(Timestamp start, StatsPeriod period, int utc_offset_minutes);

struct TimeRange {
  Timestamp from{};  // inclusive
  Timestamp to{};    // exclusive
};
// "2026Q3" (or "2026-Q3", "2026q3"): [2026-07-01, 2026-10-01) at midnight at the offset.
// Errors: kInvalidArgument.
[[nodiscard]] Result<TimeRange> ParseQuarter(std::string_view text, int utc_offset_minutes);
// A date "2026-07-01" (midnight at the offset) or an RFC 3339 time. Errors: kInvalidArgument.
[[nodiscard]] Result<Timestamp> ParseStatsTime(std::string_view text, int utc_offset_minutes);

// The nearest-rank percentile, p in (0, 1]: the smallest value such that at least p of all values
// are at or below it (so the median of four values is the second). nullopt for no values.
std::optional<std::chrono::microseconds> Percentile(std::vector<std::chrono::microseconds> values, double p);

// Query parameters as given; absent ones take their defaults.
struct StatsRequest {
  std::optional<std::string> period;   // day, week, month (default), quarter
  std::optional<std::string> from;     // default: 11 periods before the one holding `to`
  std::optional<std::string> to;       // exclusive; default: now
  std::optional<std::string> quarter;  // "2026Q3": from and to of that quarter; not with from/to
  std::optional<std::string> group;    // guide (default) or rsit
  std::optional<std::string> tz;       // UTC offset, default "Z"
};

// Incidents counted under each column, per period and in all.
struct CountTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::int64_t>> rows;  // one per StatsReport::periods, aligned with columns
  std::vector<std::int64_t> totals;             // aligned with columns
};

struct StatsPeriodRow {
  std::string label;
  Timestamp from{};
  Timestamp to{};
  std::int64_t incidents = 0;
};

struct DurationSummary {
  std::int64_t count = 0;  // clocks that stopped
  std::optional<std::chrono::microseconds> median;
  std::optional<std::chrono::microseconds> p90;
};

struct ComplianceSummary {
  std::int64_t met = 0;
  std::int64_t breached = 0;
  std::int64_t running = 0;  // still within target: not yet counted either way
  // met / (met + breached); nullopt when both are zero.
  std::optional<double> Compliance() const;
};

struct StatsReport {
  Timestamp from{};
  Timestamp to{};
  StatsPeriod period = StatsPeriod::kMonth;
  StatsGrouping group = StatsGrouping::kGuide;
  int utc_offset_minutes = 0;
  std::vector<StatsPeriodRow> periods;
  std::int64_t incidents = 0;  // counted: created in [from, to), not exercises, not merged
  CountTable categories;
  CountTable constituencies;                       // by name; "(none)" for the coordination queue
  CountTable channels;                             // the channel of the earliest linked report; "none" without reports
  std::int64_t open = 0;                           // status open
  std::int64_t closed = 0;                         // resolved, closed or rejected
  std::array<std::int64_t, 4> by_status{};         // open, resolved, closed, rejected
  std::array<std::int64_t, 4> open_by_priority{};  // P1..P4
  std::array<DurationSummary, 4> times{};          // per SlaClockKind; resolution: resolved/closed only
  std::array<ComplianceSummary, 4> sla{};          // per SlaClockKind
  ComplianceSummary sla_all;
};

inline constexpr std::array<std::string_view, 4> kStatsStatuses = {"open", "resolved", "closed", "rejected"};

class Statistics {
 public:
  Statistics(Store& store, SlaMonitor& sla, const Clock& clock) : store_(store), sla_(sla), clock_(clock) {}

  // Statistics over the incidents in the actor's scope.
  // Errors: kInvalidArgument naming the parameter ("/period", "/from", "/to", "/quarter", "/group",
  // "/tz"), also for a range of more than 1000 periods.
  [[nodiscard]] Result<StatsReport> Compute(const Principal& actor, const StatsRequest& request);

 private:
  Store& store_;
  SlaMonitor& sla_;
  const Clock& clock_;
};

// The JSON document of GET /api/v1/stats.
std::string StatsJson(const StatsReport& report);
// The CSV tables, one per chart: categories, constituencies, channels, status, priority, times, sla.
std::span<const std::string_view> StatsCsvTables();
// One table as CSV (RFC 4180, CRLF line ends). Errors: kInvalidArgument for an unknown table.
[[nodiscard]] Result<std::string> StatsCsv(const StatsReport& report, std::string_view table);
// Every table, each after a line "# <table>", separated by empty lines.
std::string StatsCsvAll(const StatsReport& report);

}  // namespace hikeshi::core
