#include "detail/csv_reader.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/intake/feed/sources.hpp"

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed::detail {
namespace {

struct SeenRecord {
  std::int64_t line;
  bool ok;
  std::vector<std::string> fields;
  std::string raw;
  bool operator==(const SeenRecord&) const = default;
  friend std::ostream& operator<<(std::ostream& out, const SeenRecord& record) {
    out << record.line << (record.ok ? ":" : ":bad:");
    for (const auto& field : record.fields) out << "[" << field << "]";
    return out;
  }
};

std::vector<SeenRecord> ReadRecords(ByteSource& source, std::optional<std::size_t> columns = std::nullopt,
                                    std::size_t max = 1 << 20, char delimiter = ',') {
  CsvReader reader(source, max, delimiter);
  if (columns) reader.ExpectColumns(*columns);
  std::vector<SeenRecord> records;
  for (;;) {
    auto item = reader.Next();
    EXPECT_TRUE(item.has_value());
    if (!item || !*item) return records;
    records.push_back({(*item)->line, (*item)->ok,
                       std::vector<std::string>((*item)->fields.begin(), (*item)->fields.end()),
                       std::string((*item)->raw)});
  }
}

std::vector<SeenRecord> ReadRecords(std::string_view input, std::optional<std::size_t> columns = std::nullopt,
                                    std::size_t max = 1 << 20, char delimiter = ',') {
  StringSource source(input);
  return ReadRecords(source, columns, max, delimiter);
}

TEST(CsvReader, ReadsRfc4180QuotingAndEmbeddedLineBreaks) {
  const auto records = ReadRecords("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\r\nline\",,\r\nx,y,\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"multi\r\nline", "", ""}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].raw, "\"multi\r\nline\",,");
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"x", "y", ""}));
  EXPECT_EQ(records[2].line, 4);
}

TEST(CsvReader, WrongColumnCountIsNotOk) {
  const auto records = ReadRecords("1,2,3\n1,2\n1,2,3,4\n", 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[0].ok);
  EXPECT_FALSE(records[1].ok);
  EXPECT_FALSE(records[2].ok);
}

TEST(CsvReader, AnUnbalancedQuoteCostsOnlyItsLine) {
  // Line 2 opens a quote that line 3 closes; read together they make two columns, not three. The
  // reader rejects line 2 alone and reads line 3 again on its own.
  const auto records = ReadRecords("1,\"x,3\n4,5,6\"\n7,8,9\n", 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], (SeenRecord{1, false, {}, "1,\"x,3"}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_TRUE(records[1].ok);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"4", "5", "6\""}));
  EXPECT_EQ(records[2], (SeenRecord{3, true, {"7", "8", "9"}, "7,8,9"}));
}

TEST(CsvReader, AQuoteOpenAtTheEndRejectsItsLineAndKeepsTheRest) {
  const auto records = ReadRecords("a,b\n\"open,1\nc,d\ne,f\n", 2);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_TRUE(records[0].ok);
  EXPECT_FALSE(records[1].ok);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2], (SeenRecord{3, true, {"c", "d"}, "c,d"}));
  EXPECT_EQ(records[3], (SeenRecord{4, true, {"e", "f"}, "e,f"}));
}

TEST(CsvReader, AQuotedFieldMaySpanAtMostAHundredLines) {
  std::string input = "\"starts here\n";
  for (int i = 0; i < 150; ++i) input += "row" + std::to_string(i) + ",x\n";
  const auto records = ReadRecords(input, 2);
  ASSERT_EQ(records.size(), 151u);
  EXPECT_FALSE(records[0].ok);
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_TRUE(records[i].ok) << i;
    EXPECT_EQ(records[i].line, static_cast<std::int64_t>(i + 1));
  }
}

TEST(CsvReader, AnOverlongLineIsRejectedAndSkipped) {
  const std::string input = "a,b\n" + std::string(3000, 'x') + ",y\nc,d\n";
  const auto records = ReadRecords(input, 2, 1000);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[1].ok);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2], (SeenRecord{3, true, {"c", "d"}, "c,d"}));
}

TEST(CsvReader, TabDelimiterAndBlankLines) {
  StringSource source("a\tb\n\n  \nc\td\n");
  CsvReader reader(source, 100, '\t');
  std::vector<std::vector<std::string>> rows;
  for (auto item = reader.Next(); item && *item; item = reader.Next()) {
    rows.emplace_back((*item)->fields.begin(), (*item)->fields.end());
  }
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(reader.blank_lines(), 2);
}

TEST(CsvReader, ChunkBoundariesChangeNothing) {
  std::string input = "h1,h2,h3\r\n";
  for (int i = 0; i < 200; ++i) {
    input +=
        i % 7 == 0 ? "\"q" + std::to_string(i) + "\r\nline\",\"a\"\"b\",c\r\n" : "x,y" + std::to_string(i) + ",z\n";
    if (i == 100) input += "broken,\"quote\n";
  }
  const auto expected = ReadRecords(input, 3);
  for (std::uint32_t seed : {3u, 5u, 11u}) {
    testing::ChunkedSource source(input, seed);
    EXPECT_EQ(ReadRecords(source, 3), expected) << "seed " << seed;
  }
}

}  // namespace
}  // namespace hikeshi::intake::feed::detail
