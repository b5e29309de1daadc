#include "report_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/sla_monitor.hpp"

#include "exit_codes.hpp"
#include "sla_service.hpp"
#include "store_factory.hpp"

namespace hikeshi::app {
namespace {

namespace chr = std::chrono;

// A table with the categories (or constituencies, channels) as rows and the months as columns.
std::string CountTableText(const core::StatsReport& report, const core::CountTable& table, std::string_view title) {
  std::vector<std::string> header = {std::string(title)};
  for (const auto& p : report.periods) header.push_back(p.label);
  header.emplace_back("Total");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::int64_t> column_totals(report.periods.size(), 0);
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    std::vector<std::string> row = {table.columns[c]};
    for (std::size_t p = 0; p < report.periods.size(); ++p) {
      row.push_back(std::to_string(table.rows[p][c]));
      column_totals[p] += table.rows[p][c];
    }
    row.push_back(std::to_string(table.totals[c]));
    rows.push_back(std::move(row));
  }
  std::vector<std::string> total = {"Total"};
  std::int64_t all = 0;
  for (const auto n : column_totals) {
    total.push_back(std::to_string(n));
    all += n;
  }
  total.push_back(std::to_string(all));
  rows.push_back(std::move(total));

  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "  " + fmt::format("{:<{}}", cells[0], widths[0]);
    for (std::size_t i = 1; i < cells.size(); ++i) out += "  " + fmt::format("{:>{}}", cells[i], widths[i]);
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string Duration(const std::optional<chr::microseconds>& us) {
  if (!us) return "-";
  const auto s = chr::duration_cast<chr::seconds>(*us + chr::microseconds(500'000));
  return core::FormatSlaDuration(s);
}

std::string Percent(const std::optional<double>& share) {
  return share ? fmt::format("{:.1f}%", *share * 100.0) : std::string("-");
}

}  // namespace

CLI::App* AddReportCommand(CLI::App& app, ReportOptions& options) {
  auto* report = app.add_subcommand("report", "Print the quarterly report to management (exercises excluded)");
  report->add_option("--quarter", options.quarter, "The quarter, such as 2026Q3")->required();
  report->add_option("--format", options.format, "text, csv or json")->capture_default_str();
  report->add_option("--tz", options.tz, "UTC offset where months begin, such as +09:00")->capture_default_str();
  return report;
}

std::string ReportText(const core::StatsReport& report, const std::string& quarter) {
  const int offset = report.utc_offset_minutes;
  std::string out;
  out += fmt::format("Incident report for {}\n", quarter);
  out += fmt::format("Period: {} to {} (UTC offset {}); incidents opened in the quarter, exercises not counted\n\n",
                     core::PeriodLabel(report.from, core::StatsPeriod::kDay, offset),
                     core::PeriodLabel(report.to - chr::microseconds(1), core::StatsPeriod::kDay, offset),
                     core::FormatUtcOffset(offset));
  out += fmt::format("Incidents: {} (open {}, closed {})\n", report.incidents, report.open, report.closed);
  out += "  ";
  for (std::size_t s = 0; s < core::kStatsStatuses.size(); ++s) {
    out += fmt::format("{}{} {}", s == 0 ? "" : ", ", core::kStatsStatuses[s], report.by_status[s]);
  }
  out += "\n";
  out += fmt::format("Open by priority: P1 {}, P2 {}, P3 {}, P4 {}\n\n", report.open_by_priority[0],
                     report.open_by_priority[1], report.open_by_priority[2], report.open_by_priority[3]);
  out += "Incidents by category (the guide's categories, as JPCERT/CC counts them)\n";
  out += CountTableText(report, report.categories, "Category");
  out += "\nIncidents by constituency\n";
  out += CountTableText(report, report.constituencies, "Constituency");
  out += "\nIncidents by channel (of the first report)\n";
  out += CountTableText(report, report.channels, "Channel");

  out += "\nResponse times (from the first report or the opening, whichever came first)\n";
  out += fmt::format("  {:<24}  {:>6}  {:>10}  {:>15}\n", "", "count", "median", "90th percentile");
  const std::array<std::string_view, 4> labels = {"Time to acknowledge", "Time to triage", "Time to first response",
                                                  "Time to resolve"};
  for (const auto kind : core::kSlaClockKinds) {
    const auto& t = report.times[static_cast<std::size_t>(kind)];
    out += fmt::format("  {:<24}  {:>6}  {:>10}  {:>15}\n", labels[static_cast<std::size_t>(kind)], t.count,
                       Duration(t.median), Duration(t.p90));
  }
  out += "\nSLA compliance (clocks within target, of those met or breached)\n";
  const auto row = [&](std::string_view name, const core::ComplianceSummary& s) {
    out += fmt::format("  {:<24}  {:>7}  met {:>5}  breached {:>5}  running {:>5}\n", name, Percent(s.Compliance()),
                       s.met, s.breached, s.running);
  };
  for (const auto kind : core::kSlaClockKinds) {
    row(core::SlaClockName(kind), report.sla[static_cast<std::size_t>(kind)]);
  }
  row("all clocks", report.sla_all);
  return out;
}

Result<int> QuarterlyReport(const std::filesystem::path& data_dir, const std::string& store_option,
                            const ReportOptions& options) {
  if (options.format != "text" && options.format != "csv" && options.format != "json") {
    return Fail(Error::InvalidArgument("--format must be text, csv or json", "--format"));
  }
  HIKESHI_TRY(const int offset, AtField(core::ParseUtcOffset(options.tz), "--tz"));
  HIKESHI_CHECK(AtField(core::ParseQuarter(options.quarter, offset), "--quarter"));
  HIKESHI_TRY(const auto config, LoadSlaConfig(data_dir));
  const char* env = std::getenv("HIKESHI_STORE");
  HIKESHI_TRY(const StoreLocation location, ResolveStore(store_option, env == nullptr ? "" : env, data_dir));
  HIKESHI_TRY(auto store, OpenStore(location, false));
  core::SystemClock clock;
  core::SlaMonitor monitor(*store, clock, config.policy);
  core::Statistics statistics(*store, monitor, clock);
  core::StatsRequest request;
  request.quarter = options.quarter;
  request.period = "month";
  request.group = "guide";
  request.tz = options.tz;
  HIKESHI_TRY(const auto report, statistics.Compute(core::Principal::LocalOperator(), request));
  if (options.format == "json") {
    fmt::print("{}\n", core::StatsJson(report));
  } else if (options.format == "csv") {
    fmt::print("{}", core::StatsCsvAll(report));
  } else {
    fmt::print("{}", ReportText(report, options.quarter));
  }
  return kExitOk;
}

}  // namespace hikeshi::app
