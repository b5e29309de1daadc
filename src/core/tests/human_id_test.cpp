// Human-readable ids ("I-2026-000123"): what handlers quote in mail subjects and on the phone, so
// the format must be stable and a mistyped id must never resolve to some other incident.

#include "hikeshi/core/human_id.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

TEST(HumanIdTest, FormatsWithSixDigitsAtLeast) {
  EXPECT_EQ(FormatHumanId(IdKind::kIncident, 2026, 1), "I-2026-000001");
  EXPECT_EQ(FormatHumanId(IdKind::kReport, 2026, 123), "R-2026-000123");
  EXPECT_EQ(FormatHumanId(IdKind::kIncident, 2025, 42195), "I-2025-042195");
  EXPECT_EQ(FormatHumanId(IdKind::kIncident, 2026, 999999), "I-2026-999999");
}

TEST(HumanIdTest, FormatsWiderNumbersInFull) {
  EXPECT_EQ(FormatHumanId(IdKind::kIncident, 2026, 1000000), "I-2026-1000000");
  EXPECT_EQ(FormatHumanId(IdKind::kReport, 2026, 1234567890), "R-2026-1234567890");
}

TEST(HumanIdTest, ParsesWhatItFormats) {
  constexpr struct {
    std::string_view text;
    IdKind kind;
    int year;
    std::int64_t number;
  } kCases[] = {
      {"I-2026-000001", IdKind::kIncident, 2026, 1},
      {"R-2026-000123", IdKind::kReport, 2026, 123},
      {"I-1999-999999", IdKind::kIncident, 1999, 999999},
      {"I-2026-1000000", IdKind::kIncident, 2026, 1000000},
      {"R-2030-1234567890", IdKind::kReport, 2030, 1234567890},
  };
  for (const auto& c : kCases) {
    const std::optional<HumanId> id = ParseHumanId(c.text);
    ASSERT_TRUE(id.has_value()) << c.text;
    EXPECT_EQ(id->kind, c.kind) << c.text;
    EXPECT_EQ(id->year, c.year) << c.text;
    EXPECT_EQ(id->number, c.number) << c.text;
    EXPECT_EQ(FormatHumanId(id->kind, id->year, id->number), c.text);
  }
}

TEST(HumanIdTest, RejectsMalformedIds) {
  for (std::string_view text : {
           "",
           "I-26-1",
           "I-26-000001",     // two-digit year
           "I-02026-000001",  // five-digit year
           "X-2026-000001",   // unknown kind
           "i-2026-000001",   // the kind letter is upper-case
           "I-2026-00001a",
           "I-2026-00001",    // five digits
           "I-2026-000001 ",  // trailing junk
           "I-2026-000001x",
           "I-2026-000001-1",
           " I-2026-000001",
           "I-2026-",
           "I-2026",
           "I2026000001",
           "I_2026_000001",
           "I-2026--000001",  // a sign is not a digit
           "I-2026-+000001",
           "I-+026-000001",
           "I-20x6-000001",
           "IR-2026-000001",
           "I-2026-99999999999999999999999",  // does not fit in 64 bits
       }) {
    EXPECT_EQ(ParseHumanId(text), std::nullopt) << "'" << text << "' was accepted";
  }
}

TEST(HumanIdTest, CounterKeyNamesKindAndYear) {
  EXPECT_EQ(CounterKey(IdKind::kIncident, 2026), "I-2026");
  EXPECT_EQ(CounterKey(IdKind::kReport, 2025), "R-2025");
}

}  // namespace
}  // namespace hikeshi::core
