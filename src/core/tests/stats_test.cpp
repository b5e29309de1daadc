// The pure parts of the statistics: nearest-rank percentiles, quarters, calendar periods (ISO
// weeks across a year's end, UTC offsets), dates, and the CSV tables. Expected values are written
// by hand from docs/sla-and-statistics.md and the calendar.

#include "hikeshi/core/stats.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

Timestamp At(std::string_view text) {
  auto t = common::ParseRfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Timestamp{});
}

std::vector<microseconds> Seconds(std::initializer_list<int> values) {
  std::vector<microseconds> out;
  for (const int v : values) out.push_back(seconds(v));
  return out;
}

TEST(StatsPercentile, NearestRank) {
  EXPECT_FALSE(Percentile({}, 0.5).has_value());
  EXPECT_EQ(Percentile(Seconds({42}), 0.5), seconds(42));
  EXPECT_EQ(Percentile(Seconds({42}), 0.9), seconds(42));
  // Unsorted on purpose.
  const auto ten = Seconds({10, 3, 7, 1, 9, 2, 8, 4, 6, 5});
  EXPECT_EQ(Percentile(ten, 0.5), seconds(5));
  EXPECT_EQ(Percentile(ten, 0.9), seconds(9));
  EXPECT_EQ(Percentile(ten, 1.0), seconds(10));
  // Four values: the median is the second, the 90th percentile the fourth.
  const auto four = Seconds({400, 100, 300, 200});
  EXPECT_EQ(Percentile(four, 0.5), seconds(200));
  EXPECT_EQ(Percentile(four, 0.9), seconds(400));
  // Eleven values: ceil(5.5) = 6th for the median, ceil(9.9) = 10th for the 90th percentile.
  const auto eleven = Seconds({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  EXPECT_EQ(Percentile(eleven, 0.5), seconds(6));
  EXPECT_EQ(Percentile(eleven, 0.9), seconds(10));
}

TEST(StatsQuarter, ParsesQuarterAtAnOffset) {
  auto q = ParseQuarter("2026Q3", 0);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->from, At("2026-07-01T00:00:00Z"));
  EXPECT_EQ(q->to, At("2026-10-01T00:00:00Z"));
  q = ParseQuarter("2026-q4", 0);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->from, At("2026-10-01T00:00:00Z"));
  EXPECT_EQ(q->to, At("2027-01-01T00:00:00Z"));
  // Japan: the quarter starts at midnight JST, which is 15:00 UTC the day before.
  q = ParseQuarter("2026Q1", 9 * 60);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->from, At("2025-12-31T15:00:00Z"));
  EXPECT_EQ(q->to, At("2026-03-31T15:00:00Z"));
  for (const std::string bad : {"2026Q5", "2026Q0", "2026Q", "26Q3", "2026-3", "2026 Q3", "Q3-2026", "2026Q3x"}) {
    EXPECT_FALSE(ParseQuarter(bad, 0).has_value()) << bad;
  }
}

TEST(StatsPeriods, StartsNextStartsAndLabels) {
  const Timestamp t = At("2026-08-19T13:45:00Z");  // a Wednesday
  EXPECT_EQ(PeriodStart(t, StatsPeriod::kDay, 0), At("2026-08-19T00:00:00Z"));
  EXPECT_EQ(PeriodStart(t, StatsPeriod::kWeek, 0), At("2026-08-17T00:00:00Z"));
  EXPECT_EQ(PeriodStart(t, StatsPeriod::kMonth, 0), At("2026-08-01T00:00:00Z"));
  EXPECT_EQ(PeriodStart(t, StatsPeriod::kQuarter, 0), At("2026-07-01T00:00:00Z"));
  EXPECT_EQ(NextPeriodStart(At("2026-08-01T00:00:00Z"), StatsPeriod::kMonth, 0), At("2026-09-01T00:00:00Z"));
  EXPECT_EQ(NextPeriodStart(At("2026-12-01T00:00:00Z"), StatsPeriod::kMonth, 0), At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(NextPeriodStart(At("2026-10-01T00:00:00Z"), StatsPeriod::kQuarter, 0), At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(PeriodLabel(At("2026-08-19T00:00:00Z"), StatsPeriod::kDay, 0), "2026-08-19");
  EXPECT_EQ(PeriodLabel(At("2026-08-01T00:00:00Z"), StatsPeriod::kMonth, 0), "2026-08");
  EXPECT_EQ(PeriodLabel(At("2026-07-01T00:00:00Z"), StatsPeriod::kQuarter, 0), "2026Q3");
  EXPECT_EQ(PeriodLabel(At("2026-08-17T00:00:00Z"), StatsPeriod::kWeek, 0), "2026-W34");
  // ISO weeks across the year's end: 2026-01-01 is a Thursday, so week 1 of 2026 starts on Monday
  // 2025-12-29; 2027-01-01 is a Friday, so it falls in week 53 of 2026.
  EXPECT_EQ(PeriodStart(At("2026-01-01T12:00:00Z"), StatsPeriod::kWeek, 0), At("2025-12-29T00:00:00Z"));
  EXPECT_EQ(PeriodLabel(At("2025-12-29T00:00:00Z"), StatsPeriod::kWeek, 0), "2026-W01");
  EXPECT_EQ(PeriodLabel(PeriodStart(At("2027-01-01T12:00:00Z"), StatsPeriod::kWeek, 0), StatsPeriod::kWeek, 0),
            "2026-W53");
  // At +09:00, 2026-06-30T16:00Z is already July 1st.
  const Timestamp jst = At("2026-06-30T16:00:00Z");
  EXPECT_EQ(PeriodStart(jst, StatsPeriod::kMonth, 540), At("2026-06-30T15:00:00Z"));
  EXPECT_EQ(PeriodLabel(PeriodStart(jst, StatsPeriod::kQuarter, 540), StatsPeriod::kQuarter, 540), "2026Q3");
  EXPECT_EQ(PeriodLabel(PeriodStart(jst, StatsPeriod::kQuarter, 0), StatsPeriod::kQuarter, 0), "2026Q2");
}

TEST(StatsParsing, OffsetsPeriodsAndTimes) {
  EXPECT_EQ(ParseUtcOffset("Z").value(), 0);
  EXPECT_EQ(ParseUtcOffset("+09:00").value(), 540);
  EXPECT_EQ(ParseUtcOffset(" 09:00").value(), 540);  // '+' decoded as a space in a query string
  EXPECT_EQ(ParseUtcOffset("-05:30").value(), -330);
  for (const std::string bad : {"", "+9", "+09", "+15:00", "+09:60", "JST", "+0900"}) {
    EXPECT_FALSE(ParseUtcOffset(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatUtcOffset(540), "+09:00");
  EXPECT_EQ(FormatUtcOffset(-330), "-05:30");
  EXPECT_EQ(FormatUtcOffset(0), "Z");
  EXPECT_EQ(ParseStatsPeriod("week"), StatsPeriod::kWeek);
  EXPECT_FALSE(ParseStatsPeriod("year").has_value());
  EXPECT_EQ(ParseStatsTime("2026-07-01", 0).value(), At("2026-07-01T00:00:00Z"));
  EXPECT_EQ(ParseStatsTime("2026-07-01", 540).value(), At("2026-06-30T15:00:00Z"));
  EXPECT_EQ(ParseStatsTime("2026-07-01T12:00:00+09:00", 0).value(), At("2026-07-01T03:00:00Z"));
  for (const std::string bad : {"2026-02-30", "2026-7-1", "yesterday", "2026-07-01T25:00:00Z"}) {
    EXPECT_FALSE(ParseStatsTime(bad, 0).has_value()) << bad;
  }
}

StatsReport SmallReport() {
  StatsReport r;
  r.from = At("2026-07-01T00:00:00Z");
  r.to = At("2026-09-01T00:00:00Z");
  r.periods = {{"2026-07", At("2026-07-01T00:00:00Z"), At("2026-08-01T00:00:00Z"), 2},
               {"2026-08", At("2026-08-01T00:00:00Z"), At("2026-09-01T00:00:00Z"), 1}};
  r.incidents = 3;
  r.categories = {{"Phishing", "Scan"}, {{1, 1}, {0, 1}}, {1, 2}};
  r.constituencies = {{"=cmd", "a,b"}, {{2, 0}, {0, 1}}, {2, 1}};
  r.times[static_cast<std::size_t>(SlaClockKind::kTriage)] = {3, seconds(90), microseconds(120'500'000)};
  r.sla[static_cast<std::size_t>(SlaClockKind::kTriage)] = {2, 1, 0};
  r.sla_all = {9, 1, 2};
  r.by_status = {1, 1, 1, 0};
  r.open_by_priority = {0, 1, 0, 0};
  return r;
}

TEST(StatsCsv, CountTablesHaveOneRowPerPeriodAndATotal) {
  const auto csv = StatsCsv(SmallReport(), "categories");
  ASSERT_TRUE(csv.has_value());
  EXPECT_EQ(*csv,
            "period,from,to,Phishing,Scan,total\r\n"
            "2026-07,2026-07-01T00:00:00.000000Z,2026-08-01T00:00:00.000000Z,1,1,2\r\n"
            "2026-08,2026-08-01T00:00:00.000000Z,2026-09-01T00:00:00.000000Z,0,1,1\r\n"
            "total,2026-07-01T00:00:00.000000Z,2026-09-01T00:00:00.000000Z,1,2,3\r\n");
}

TEST(StatsCsv, NamesAreQuotedAndFormulasDefused) {
  const auto csv = StatsCsv(SmallReport(), "constituencies");
  ASSERT_TRUE(csv.has_value());
  EXPECT_EQ(csv->substr(0, csv->find("\r\n")), "period,from,to,'=cmd,\"a,b\",total");
}

TEST(StatsCsv, TimesAndCompliance) {
  const auto times = StatsCsv(SmallReport(), "times");
  ASSERT_TRUE(times.has_value());
  EXPECT_NE(times->find("\r\ntriage,3,90.000,120.500\r\n"), std::string::npos) << *times;
  EXPECT_NE(times->find("\r\nresolution,0,,\r\n"), std::string::npos) << *times;
  const auto sla = StatsCsv(SmallReport(), "sla");
  ASSERT_TRUE(sla.has_value());
  EXPECT_NE(sla->find("\r\ntriage,2,1,0,0.6667\r\n"), std::string::npos) << *sla;
  EXPECT_NE(sla->find("\r\nacknowledge,0,0,0,\r\n"), std::string::npos) << *sla;
  EXPECT_NE(sla->find("\r\nall,9,1,2,0.9000\r\n"), std::string::npos) << *sla;
  EXPECT_FALSE(StatsCsv(SmallReport(), "nope").has_value());
}

TEST(StatsCsv, AllTablesInOneFile) {
  const auto all = StatsCsvAll(SmallReport());
  for (const auto table : StatsCsvTables()) {
    EXPECT_NE(all.find("# " + std::string(table) + "\r\n"), std::string::npos) << table;
  }
  EXPECT_NE(all.find("status,incidents\r\nopen,1\r\nresolved,1\r\nclosed,1\r\nrejected,0\r\n"), std::string::npos);
  EXPECT_NE(all.find("priority,open_incidents\r\nP1,0\r\nP2,1\r\n"), std::string::npos);
}

TEST(StatsCompliance, ShareOfDecidedClocks) {
  EXPECT_FALSE((ComplianceSummary{0, 0, 5}.Compliance().has_value()));
  EXPECT_DOUBLE_EQ((ComplianceSummary{3, 1, 7}.Compliance().value()), 0.75);
}

}  // namespace
}  // namespace hikeshi::core
