#pragma once
// `hikeshi report --quarter 2026Q3 [--format text|csv|json] [--tz +09:00]`: the quarterly report to
// management (the guide's reporting step; JPCERT/CC publishes such counts each quarter): incidents
// per category of the guide by month, per constituency and channel, open and closed, response
// times and SLA compliance. Exercises are left out. Reads only; nothing is written.

#include <filesystem>
#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/stats.hpp"

namespace CLI {
class App;
}

namespace hikeshi::app {

struct ReportOptions {
  std::string quarter;  // "2026Q3"
  std::string format = "text";
  std::string tz = "Z";  // UTC offset where months and the quarter begin
};

// Adds `report` to `app` and returns it (main adds --data and --store).
CLI::App* AddReportCommand(CLI::App& app, ReportOptions& options);

// The text form of the report, for people.
std::string ReportText(const core::StatsReport& report, const std::string& quarter);

// The whole command. `store_option` is --store (empty: $HIKESHI_STORE, then SQLite in `data_dir`).
// Errors: kInvalidArgument for a bad quarter, format or offset (before the store is opened), those
// of [sla] in hikeshi.toml, and the store's.
Result<int> QuarterlyReport(const std::filesystem::path& data_dir, const std::string& store_option,
                            const ReportOptions& options);

}  // namespace hikeshi::app
