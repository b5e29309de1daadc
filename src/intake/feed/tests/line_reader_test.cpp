#include "detail/line_reader.hpp"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/intake/feed/sources.hpp"

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed::detail {
namespace {

struct SeenLine {
  std::string text;
  std::string terminator;
  std::int64_t number;
  bool too_long;
  std::size_t length;
  bool operator==(const SeenLine&) const = default;
  friend std::ostream& operator<<(std::ostream& out, const SeenLine& line) {
    return out << line.number << ":" << line.text.size() << "B" << (line.too_long ? "(long)" : "");
  }
};

std::vector<SeenLine> ReadLines(ByteSource& source, std::size_t max) {
  LineReader reader(source, max);
  std::vector<SeenLine> lines;
  for (;;) {
    auto line = reader.Next();
    EXPECT_TRUE(line.has_value());
    if (!line || !*line) return lines;
    lines.push_back({std::string((*line)->text), std::string((*line)->terminator), (*line)->number, (*line)->too_long,
                     (*line)->length});
  }
}

// Remembers the largest read it was asked for: the reader's buffer size.
class MeasuringSource : public ByteSource {
 public:
  explicit MeasuringSource(std::string_view data) : inner_(data) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override {
    largest = std::max(largest, size);
    return inner_.Read(buffer, size);
  }
  std::size_t largest = 0;

 private:
  StringSource inner_;
};

TEST(LineReader, SplitsLfCrlfAndALastLineWithoutTerminator) {
  StringSource source(
      "\xEF\xBB\xBF"
      "one\r\ntwo\n\nthree");
  const std::vector<SeenLine> expected = {
      {"one", "\r\n", 1, false, 3}, {"two", "\n", 2, false, 3}, {"", "\n", 3, false, 0}, {"three", "", 4, false, 5}};
  EXPECT_EQ(ReadLines(source, 100), expected);
}

TEST(LineReader, DropsAByteOrderMarkOnlyAtTheStart) {
  StringSource source(
      "a\n\xEF\xBB\xBF"
      "b\n");
  const auto lines = ReadLines(source, 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].text,
            "\xEF\xBB\xBF"
            "b");
}

TEST(LineReader, SkipsAnOverlongLineAndGoesOn) {
  const std::string long_line(5000, 'x');
  const std::string input = "short\n" + long_line + "\nafter\n";
  StringSource source(input);
  const auto lines = ReadLines(source, 1000);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "short");
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].length, 5000u);
  EXPECT_EQ(lines[1].number, 2);
  EXPECT_EQ(lines[1].text, long_line.substr(0, lines[1].text.size()));
  EXPECT_EQ(lines[2], (SeenLine{"after", "\n", 3, false, 5}));
}

TEST(LineReader, ALineOfExactlyTheLimitIsAccepted) {
  const std::string input = std::string(10, 'a') + "\r\n" + std::string(11, 'b') + "\n";
  StringSource source(input);
  const auto lines = ReadLines(source, 10);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_TRUE(lines[1].too_long);
}

TEST(LineReader, MemoryStaysBoundedByTheLimitForA5MbLine) {
  const std::string huge(5 << 20, 'z');
  const std::string input = huge + "\nnext\n";
  MeasuringSource source(input);
  const auto lines = ReadLines(source, 1000);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[0].length, huge.size());
  EXPECT_LE(lines[0].text.size(), kMaxRejectRawBytes);
  EXPECT_EQ(lines[1].text, "next");
  // The buffer never grows past the limit plus one read: the 5 MB line was never held whole.
  EXPECT_LE(source.largest, 1000u + 2 + 64 * 1024);
}

TEST(LineReader, ChunkBoundariesChangeNothing) {
  std::string input;
  for (int i = 0; i < 300; ++i)
    input += std::string(static_cast<std::size_t>(i % 17), 'a' + i % 26) + (i % 3 ? "\n" : "\r\n");
  input += std::string(200, 'q') + "\nend";
  StringSource whole(input);
  const auto expected = ReadLines(whole, 150);
  for (std::uint32_t seed : {1u, 7u, 99u}) {
    testing::ChunkedSource chunked(input, seed);
    EXPECT_EQ(ReadLines(chunked, 150), expected) << "seed " << seed;
  }
}

TEST(LineReader, ReadRestReturnsWhatIsLeftAndEnforcesTheLimit) {
  StringSource source("first\nsecond\nthird");
  LineReader reader(source, 100);
  ASSERT_EQ(std::string(reader.Next().value()->text), "first");
  std::string rest;
  ASSERT_TRUE(reader.ReadRest(rest, 100).has_value());
  EXPECT_EQ(rest, "second\nthird");

  const std::string big_input(1000, 'a');
  StringSource big(big_input);
  LineReader big_reader(big, 10);
  std::string out;
  auto result = big_reader.ReadRest(out, 500);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kTooLarge);
}

TEST(LineReader, EmptyInputHasNoLines) {
  StringSource source("");
  EXPECT_TRUE(ReadLines(source, 10).empty());
}

}  // namespace
}  // namespace hikeshi::intake::feed::detail
