#include "hikeshi/core/stats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/taxonomy.hpp"

namespace hikeshi::core {

namespace {
namespace chr = std::chrono;
using nlohmann::ordered_json;

constexpr int kMaxPeriods = 1000;
constexpr int kPage = 500;
constexpr std::string_view kNoConstituency = "(none)";
constexpr std::string_view kNoChannel = "none";
constexpr std::array<std::string_view, 7> kTables = {"categories", "constituencies", "channels", "status",
                                                     "priority",   "times",          "sla"};

chr::sys_days LocalDay(Timestamp t, int offset) { return chr::floor<chr::days>(t + chr::minutes(offset)); }
Timestamp FromLocalDay(chr::sys_days day, int offset) { return Timestamp(day) - chr::minutes(offset); }

bool ParseDigits(std::string_view text, int& out) {
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string> GuideColumns() {
  std::vector<std::string> out;
  for (int g = static_cast<int>(GuideCategory::kScan); g <= static_cast<int>(GuideCategory::kOther); ++g) {
    out.emplace_back(GuideCategoryName(static_cast<GuideCategory>(g)));
  }
  return out;
}

// One counted incident, as the aggregation needs it.
struct Counted {
  std::size_t period = 0;
  std::string category;
  std::string constituency;
  std::string channel;
};

CountTable Tabulate(const std::vector<Counted>& counted, std::size_t periods, std::vector<std::string> fixed,
                    std::string Counted::*key) {
  CountTable table;
  table.columns = std::move(fixed);
  if (table.columns.empty()) {
    std::set<std::string> seen;
    for (const auto& c : counted) seen.insert(c.*key);
    table.columns.assign(seen.begin(), seen.end());
  }
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < table.columns.size(); ++i) index.emplace(table.columns[i], i);
  table.rows.assign(periods, std::vector<std::int64_t>(table.columns.size(), 0));
  table.totals.assign(table.columns.size(), 0);
  for (const auto& c : counted) {
    auto it = index.find(c.*key);
    if (it == index.end()) {  // a fixed column list that lacks the value: add it
      table.columns.push_back(c.*key);
      for (auto& row : table.rows) row.push_back(0);
      table.totals.push_back(0);
      it = index.emplace(c.*key, table.columns.size() - 1).first;
    }
    ++table.rows[c.period][it->second];
    ++table.totals[it->second];
  }
  return table;
}

double Seconds(chr::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

ordered_json OptionalSeconds(const std::optional<chr::microseconds>& us) {
  return us ? ordered_json(Seconds(*us)) : ordered_json(nullptr);
}

const std::vector<std::int64_t>& RowOf(const CountTable& table, std::size_t period) {
  static const std::vector<std::int64_t> kNone;
  return period < table.rows.size() ? table.rows[period] : kNone;
}

ordered_json CountsOf(const CountTable& table, const std::vector<std::int64_t>& counts) {
  ordered_json out = ordered_json::object();
  for (std::size_t i = 0; i < table.columns.size(); ++i) out[table.columns[i]] = i < counts.size() ? counts[i] : 0;
  return out;
}

ordered_json ComplianceJson(const ComplianceSummary& s) {
  const auto c = s.Compliance();
  return {{"met", s.met},
          {"breached", s.breached},
          {"running", s.running},
          {"compliance", c ? ordered_json(*c) : ordered_json(nullptr)}};
}

// A CSV field: quoted when it must be, and text that a spreadsheet would run as a formula is
// prefixed with an apostrophe.
std::string Field(std::string_view text) {
  std::string value(text);
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@')) {
    value.insert(value.begin(), '\'');
  }
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += fields[i];
  }
  return out + "\r\n";
}

std::string CsvSeconds(const std::optional<chr::microseconds>& us) {
  return us ? fmt::format("{:.3f}", Seconds(*us)) : std::string();
}

std::string CountCsv(const StatsReport& report, const CountTable& table) {
  std::vector<std::string> header = {"period", "from", "to"};
  for (const auto& c : table.columns) header.push_back(Field(c));
  header.emplace_back("total");
  std::string out = Line(header);
  const auto row = [&](std::string label, Timestamp from, Timestamp to, const std::vector<std::int64_t>& counts) {
    std::vector<std::string> fields = {Field(label), common::FormatRfc3339(from), common::FormatRfc3339(to)};
    std::int64_t total = 0;
    for (const auto n : counts) {
      fields.push_back(std::to_string(n));
      total += n;
    }
    fields.push_back(std::to_string(total));
    out += Line(fields);
  };
  // A table built by Tabulate has a row per period; one made by hand may not, and reads as zeros.
  const std::vector<std::int64_t> zeros(table.columns.size(), 0);
  for (std::size_t i = 0; i < report.periods.size(); ++i) {
    row(report.periods[i].label, report.periods[i].from, report.periods[i].to,
        i < table.rows.size() && table.rows[i].size() == zeros.size() ? table.rows[i] : zeros);
  }
  row("total", report.from, report.to, table.totals.size() == zeros.size() ? table.totals : zeros);
  return out;
}
}  // namespace

std::string_view StatsPeriodName(StatsPeriod period) {
  switch (period) {
    case StatsPeriod::kDay:
      return "day";
    case StatsPeriod::kWeek:
      return "week";
    case StatsPeriod::kMonth:
      return "month";
    case StatsPeriod::kQuarter:
      return "quarter";
  }
  return "month";
}

std::optional<StatsPeriod> ParseStatsPeriod(std::string_view text) {
  for (const auto p : {StatsPeriod::kDay, StatsPeriod::kWeek, StatsPeriod::kMonth, StatsPeriod::kQuarter}) {
    if (StatsPeriodName(p) == text) return p;
  }
  return std::nullopt;
}

Result<int> ParseUtcOffset(std::string_view text) {
  const auto bad = [&] {
    return Fail(Error::InvalidArgument("'" + std::string(text) +
                                       "' is not a UTC offset (Z, +09:00, -05:30; in a URL write + as %2B)"));
  };
  if (text == "Z" || text == "z") return 0;
  int sign = 1;
  // A '+' that arrived unescaped in a query string has become a space.
  if (!text.empty() && (text[0] == '+' || text[0] == ' ' || text[0] == '-')) {
    sign = text[0] == '-' ? -1 : 1;
    text.remove_prefix(1);
  }
  int hours = 0;
  int minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !ParseDigits(text.substr(0, 2), hours) ||
      !ParseDigits(text.substr(3, 2), minutes) || hours > 14 || minutes > 59) {
    return bad();
  }
  return sign * (hours * 60 + minutes);
}

std::string FormatUtcOffset(int minutes) {
  if (minutes == 0) return "Z";
  const int m = std::abs(minutes);
  return fmt::format("{}{:02}:{:02}", minutes < 0 ? '-' : '+', m / 60, m % 60);
}

Timestamp PeriodStart(Timestamp t, StatsPeriod period, int offset) {
  const chr::sys_days day = LocalDay(t, offset);
  const chr::year_month_day ymd{day};
  switch (period) {
    case StatsPeriod::kDay:
      return FromLocalDay(day, offset);
    case StatsPeriod::kWeek:
      return FromLocalDay(day - chr::days(chr::weekday(day).iso_encoding() - 1), offset);
    case StatsPeriod::kMonth:
      return FromLocalDay(chr::sys_days(ymd.year() / ymd.month() / 1), offset);
    case StatsPeriod::kQuarter: {
      const unsigned first = (static_cast<unsigned>(ymd.month()) - 1) / 3 * 3 + 1;
      return FromLocalDay(chr::sys_days(ymd.year() / chr::month(first) / 1), offset);
    }
  }
  return t;
}

Timestamp NextPeriodStart(Timestamp start, StatsPeriod period, int offset) {
  const chr::sys_days day = LocalDay(start, offset);
  const chr::year_month_day ymd{day};
  switch (period) {
    case StatsPeriod::kDay:
      return FromLocalDay(day + chr::days(1), offset);
    case StatsPeriod::kWeek:
      return FromLocalDay(day + chr::days(7), offset);
    case StatsPeriod::kMonth:
      return FromLocalDay(chr::sys_days(ymd + chr::months(1)), offset);
    case StatsPeriod::kQuarter:
      return FromLocalDay(chr::sys_days(ymd + chr::months(3)), offset);
  }
  return start;
}

std::string PeriodLabel(Timestamp start, StatsPeriod period, int offset) {
  const chr::sys_days day = LocalDay(start, offset);
  const chr::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  const unsigned month = static_cast<unsigned>(ymd.month());
  switch (period) {
    case StatsPeriod::kDay:
      return fmt::format("{:04}-{:02}-{:02}", year, month, static_cast<unsigned>(ymd.day()));
    case StatsPeriod::kWeek: {
      // ISO 8601: the week belongs to the year of its Thursday.
      const chr::sys_days thursday = day - chr::days(chr::weekday(day).iso_encoding() - 1) + chr::days(3);
      const chr::year iso_year = chr::year_month_day{thursday}.year();
      const auto week = (thursday - chr::sys_days(iso_year / chr::January / 1)).count() / 7 + 1;
      return fmt::format("{:04}-W{:02}", static_cast<int>(iso_year), week);
    }
    case StatsPeriod::kMonth:
      return fmt::format("{:04}-{:02}", year, month);
    case StatsPeriod::kQuarter:
      return fmt::format("{:04}Q{}", year, (month - 1) / 3 + 1);
  }
  return {};
}

Result<TimeRange> ParseQuarter(std::string_view text, int offset) {
  const auto bad = [&] {
    return Fail(Error::InvalidArgument("'" + std::string(text) + "' is not a quarter (such as 2026Q3)"));
  };
  if (text.size() < 6 || text.size() > 7) return bad();
  int year = 0;
  if (!ParseDigits(text.substr(0, 4), year) || year < 1970 || year > 9999) return bad();
  std::string_view rest = text.substr(4);
  if (rest.size() == 3) {
    if (rest[0] != '-') return bad();
    rest.remove_prefix(1);
  }
  if (rest.size() != 2 || (rest[0] != 'Q' && rest[0] != 'q') || rest[1] < '1' || rest[1] > '4') return bad();
  const unsigned quarter = static_cast<unsigned>(rest[1] - '0');
  const chr::year_month_day first{chr::year(year), chr::month((quarter - 1) * 3 + 1), chr::day(1)};
  const Timestamp from = FromLocalDay(chr::sys_days(first), offset);
  return TimeRange{from, NextPeriodStart(from, StatsPeriod::kQuarter, offset)};
}

Result<Timestamp> ParseStatsTime(std::string_view text, int offset) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' && ParseDigits(text.substr(0, 4), y) &&
      ParseDigits(text.substr(5, 2), m) && ParseDigits(text.substr(8, 2), d)) {
    const chr::year_month_day ymd{chr::year(y), chr::month(static_cast<unsigned>(m)),
                                  chr::day(static_cast<unsigned>(d))};
    if (ymd.ok() && y >= 1970) return FromLocalDay(chr::sys_days(ymd), offset);
  } else if (auto t = common::ParseRfc3339(text)) {
    return *t;
  }
  return Fail(Error::InvalidArgument("'" + std::string(text) + "' is not a date (2026-07-01) or an RFC 3339 time"));
}

std::optional<chr::microseconds> Percentile(std::vector<chr::microseconds> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const auto n = static_cast<double>(values.size());
  // Rounded before ceil, so that 0.9 * 10 (9.000000000000002 in binary) is rank 9, not 10.
  auto rank = static_cast<std::size_t>(std::ceil(std::round(p * n * 1e9) / 1e9));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

std::optional<double> ComplianceSummary::Compliance() const {
  if (met + breached == 0) return std::nullopt;
  return static_cast<double>(met) / static_cast<double>(met + breached);
}

Result<StatsReport> Statistics::Compute(const Principal& actor, const StatsRequest& request) {
  StatsReport report;
  if (request.tz) {
    HIKESHI_TRY(report.utc_offset_minutes, AtField(ParseUtcOffset(*request.tz), "/tz"));
  }
  const int offset = report.utc_offset_minutes;
  if (request.period) {
    const auto period = ParseStatsPeriod(*request.period);
    if (!period) {
      return Fail(
          Error::InvalidArgument("'" + *request.period + "' is not a period (day, week, month, quarter)", "/period"));
    }
    report.period = *period;
  }
  if (request.group) {
    if (*request.group == "rsit") {
      report.group = StatsGrouping::kRsit;
    } else if (*request.group != "guide") {
      return Fail(Error::InvalidArgument("'" + *request.group + "' is not a grouping (guide, rsit)", "/group"));
    }
  }
  if (request.quarter) {
    if (request.from || request.to) {
      return Fail(Error::InvalidArgument("give a quarter, or from and to, not both", "/quarter"));
    }
    HIKESHI_TRY(const auto range, AtField(ParseQuarter(*request.quarter, offset), "/quarter"));
    report.from = range.from;
    report.to = range.to;
  } else {
    report.to = clock_.Now();
    if (request.to) {
      HIKESHI_TRY(report.to, AtField(ParseStatsTime(*request.to, offset), "/to"));
    }
    if (request.from) {
      HIKESHI_TRY(report.from, AtField(ParseStatsTime(*request.from, offset), "/from"));
    } else {
      report.from = PeriodStart(report.to - chr::microseconds(1), report.period, offset);
      for (int i = 0; i < 11; ++i) report.from = PeriodStart(report.from - chr::microseconds(1), report.period, offset);
    }
  }
  if (report.from >= report.to) return Fail(Error::InvalidArgument("must be before 'to'", "/from"));
  for (Timestamp start = PeriodStart(report.from, report.period, offset); start < report.to;) {
    if (report.periods.size() >= kMaxPeriods) {
      return Fail(
          Error::InvalidArgument("more than 1000 periods: choose a longer period or a shorter range", "/period"));
    }
    const Timestamp next = NextPeriodStart(start, report.period, offset);
    report.periods.push_back(
        {PeriodLabel(start, report.period, offset), std::max(start, report.from), std::min(next, report.to), 0});
    start = next;
  }

  std::vector<Incident> incidents;
  std::vector<std::string> channels;
  std::map<std::int64_t, std::string> constituency_names;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    incidents.clear();
    channels.clear();
    HIKESHI_TRY(const auto constituencies, r.ListConstituencies());
    for (const auto& c : constituencies) constituency_names[c.id] = c.name;
    IncidentQuery query;
    query.limit = kPage;
    // Newest first. Creation times follow ids except for clock differences between nodes, so the
    // walk stops a day past the start of the range.
    bool done = false;
    while (!done) {
      HIKESHI_TRY(const auto page, r.ListIncidents(actor.scope, query));
      for (const auto& incident : page.items) {
        if (incident.created_at < report.from - chr::days(1)) done = true;
        if (incident.created_at < report.from || incident.created_at >= report.to) continue;
        if (incident.exercise || incident.status == IncidentStatus::kMerged) continue;
        incidents.push_back(incident);
      }
      if (!page.next_before_id) break;
      query.before_id = page.next_before_id;
    }
    std::reverse(incidents.begin(), incidents.end());  // oldest first
    for (const auto& incident : incidents) {
      // The channel of the earliest linked report: pages come newest first, so the last one holds it.
      ReportQuery reports;
      reports.incident_id = incident.id;
      reports.limit = kPage;
      std::optional<Report> earliest;
      while (true) {
        HIKESHI_TRY(const auto page, r.ListReports(Scope::All(), reports));
        for (const auto& linked : page.items) {
          if (!earliest || linked.received_at < earliest->received_at ||
              (linked.received_at == earliest->received_at && linked.id < earliest->id)) {
            earliest = linked;
          }
        }
        if (!page.next_before_id) break;
        reports.before_id = page.next_before_id;
      }
      channels.emplace_back(earliest ? ChannelName(earliest->channel) : kNoChannel);
    }
    return {};
  }));
  HIKESHI_TRY(const auto readings, sla_.ClocksOf(incidents));

  std::vector<Counted> counted;
  counted.reserve(incidents.size());
  std::array<std::vector<chr::microseconds>, 4> durations;
  for (std::size_t i = 0; i < incidents.size(); ++i) {
    const Incident& incident = incidents[i];
    Counted c;
    const auto period = std::upper_bound(report.periods.begin(), report.periods.end(), incident.created_at,
                                         [](Timestamp t, const StatsPeriodRow& row) { return t < row.from; });
    c.period = static_cast<std::size_t>(period - report.periods.begin()) - 1;
    ++report.periods[c.period].incidents;
    c.category = report.group == StatsGrouping::kGuide
                     ? std::string(GuideCategoryName(GuideCategoryOf(incident.category, incident.apt)))
                     : incident.category.ToString();
    c.constituency = incident.constituency_id && constituency_names.contains(*incident.constituency_id)
                         ? constituency_names[*incident.constituency_id]
                         : std::string(kNoConstituency);
    c.channel = channels[i];
    counted.push_back(std::move(c));

    const auto status = StatusName(incident.status);
    for (std::size_t s = 0; s < kStatsStatuses.size(); ++s) {
      if (kStatsStatuses[s] == status) ++report.by_status[s];
    }
    if (incident.status == IncidentStatus::kOpen) {
      ++report.open;
      ++report.open_by_priority[static_cast<std::size_t>(std::clamp(incident.priority, 1, 4) - 1)];
    } else {
      ++report.closed;
    }

    const SlaReading& reading = readings[i];
    const bool resolved = incident.status == IncidentStatus::kResolved || incident.status == IncidentStatus::kClosed;
    for (const auto kind : kSlaClockKinds) {
      const auto k = static_cast<std::size_t>(kind);
      const SlaClock& clock = reading.Clock(kind);
      if (clock.stop && (kind != SlaClockKind::kResolution || resolved)) durations[k].push_back(clock.elapsed);
      for (ComplianceSummary* s : {&report.sla[k], &report.sla_all}) {
        switch (clock.state) {
          case SlaState::kMet:
            ++s->met;
            break;
          case SlaState::kBreached:
            ++s->breached;
            break;
          case SlaState::kRunning:
            ++s->running;
            break;
        }
      }
    }
  }
  report.incidents = static_cast<std::int64_t>(incidents.size());
  for (std::size_t k = 0; k < durations.size(); ++k) {
    report.times[k].count = static_cast<std::int64_t>(durations[k].size());
    report.times[k].median = Percentile(durations[k], 0.5);
    report.times[k].p90 = Percentile(durations[k], 0.9);
  }
  const std::size_t periods = report.periods.size();
  report.categories =
      Tabulate(counted, periods, report.group == StatsGrouping::kGuide ? GuideColumns() : std::vector<std::string>{},
               &Counted::category);
  report.constituencies = Tabulate(counted, periods, {}, &Counted::constituency);
  std::vector<std::string> channel_columns;
  for (const auto channel :
       {Channel::kApi, Channel::kMail, Channel::kWeb, Channel::kFeed, Channel::kPhone, Channel::kManual}) {
    channel_columns.emplace_back(ChannelName(channel));
  }
  channel_columns.emplace_back(kNoChannel);
  report.channels = Tabulate(counted, periods, std::move(channel_columns), &Counted::channel);
  return report;
}

std::string StatsJson(const StatsReport& report) {
  ordered_json j;
  j["from"] = common::FormatRfc3339(report.from);
  j["to"] = common::FormatRfc3339(report.to);
  j["period"] = StatsPeriodName(report.period);
  j["group"] = report.group == StatsGrouping::kGuide ? "guide" : "rsit";
  j["tz"] = FormatUtcOffset(report.utc_offset_minutes);
  j["incidents"] = report.incidents;
  j["open"] = report.open;
  j["closed"] = report.closed;
  ordered_json status = ordered_json::object();
  for (std::size_t s = 0; s < kStatsStatuses.size(); ++s) status[std::string(kStatsStatuses[s])] = report.by_status[s];
  j["status"] = status;
  ordered_json priority = ordered_json::object();
  for (std::size_t p = 0; p < 4; ++p) priority["P" + std::to_string(p + 1)] = report.open_by_priority[p];
  j["open_by_priority"] = priority;
  j["categories"] = CountsOf(report.categories, report.categories.totals);
  j["constituencies"] = CountsOf(report.constituencies, report.constituencies.totals);
  j["channels"] = CountsOf(report.channels, report.channels.totals);
  ordered_json periods = ordered_json::array();
  for (std::size_t i = 0; i < report.periods.size(); ++i) {
    const auto& p = report.periods[i];
    periods.push_back({{"period", p.label},
                       {"from", common::FormatRfc3339(p.from)},
                       {"to", common::FormatRfc3339(p.to)},
                       {"incidents", p.incidents},
                       {"categories", CountsOf(report.categories, RowOf(report.categories, i))},
                       {"constituencies", CountsOf(report.constituencies, RowOf(report.constituencies, i))},
                       {"channels", CountsOf(report.channels, RowOf(report.channels, i))}});
  }
  j["periods"] = periods;
  ordered_json times = ordered_json::object();
  ordered_json sla = ordered_json::object();
  for (const auto kind : kSlaClockKinds) {
    const auto k = static_cast<std::size_t>(kind);
    const std::string name(SlaClockName(kind));
    times[name] = {{"count", report.times[k].count},
                   {"median_seconds", OptionalSeconds(report.times[k].median)},
                   {"p90_seconds", OptionalSeconds(report.times[k].p90)}};
    sla[name] = ComplianceJson(report.sla[k]);
  }
  sla["all"] = ComplianceJson(report.sla_all);
  j["times"] = times;
  j["sla"] = sla;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::span<const std::string_view> StatsCsvTables() { return kTables; }

Result<std::string> StatsCsv(const StatsReport& report, std::string_view table) {
  if (table == "categories") return CountCsv(report, report.categories);
  if (table == "constituencies") return CountCsv(report, report.constituencies);
  if (table == "channels") return CountCsv(report, report.channels);
  if (table == "status") {
    std::string out = Line({"status", "incidents"});
    for (std::size_t s = 0; s < kStatsStatuses.size(); ++s) {
      out += Line({std::string(kStatsStatuses[s]), std::to_string(report.by_status[s])});
    }
    return out;
  }
  if (table == "priority") {
    std::string out = Line({"priority", "open_incidents"});
    for (std::size_t p = 0; p < 4; ++p) {
      out += Line({"P" + std::to_string(p + 1), std::to_string(report.open_by_priority[p])});
    }
    return out;
  }
  if (table == "times") {
    std::string out = Line({"clock", "count", "median_seconds", "p90_seconds"});
    for (const auto kind : kSlaClockKinds) {
      const auto& t = report.times[static_cast<std::size_t>(kind)];
      out += Line({std::string(SlaClockName(kind)), std::to_string(t.count), CsvSeconds(t.median), CsvSeconds(t.p90)});
    }
    return out;
  }
  if (table == "sla") {
    std::string out = Line({"clock", "met", "breached", "running", "compliance"});
    const auto row = [&](std::string name, const ComplianceSummary& s) {
      const auto c = s.Compliance();
      out += Line({std::move(name), std::to_string(s.met), std::to_string(s.breached), std::to_string(s.running),
                   c ? fmt::format("{:.4f}", *c) : std::string()});
    };
    for (const auto kind : kSlaClockKinds)
      row(std::string(SlaClockName(kind)), report.sla[static_cast<std::size_t>(kind)]);
    row("all", report.sla_all);
    return out;
  }
  return Fail(Error::InvalidArgument("'" + std::string(table) +
                                         "' is not a table (categories, constituencies, channels, status, priority, "
                                         "times, sla)",
                                     "/table"));
}

std::string StatsCsvAll(const StatsReport& report) {
  std::string out;
  for (const auto table : kTables) {
    if (!out.empty()) out += "\r\n";
    out += "# " + std::string(table) + "\r\n";
    out += *StatsCsv(report, table);
  }
  return out;
}

}  // namespace hikeshi::core
