#include "hikeshi/common/time.hpp"

#include <gtest/gtest.h>

namespace hikeshi::common {
namespace {

TEST(TimeTest, FormatsUtcWithMicroseconds) {
  // 2026-11-27T07:43:16.123456Z is 1795765396 seconds after the epoch.
  EXPECT_EQ(FormatRfc3339(FromMicros(1795765396123456LL)), "2026-11-27T07:43:16.123456Z");
  EXPECT_EQ(FormatRfc3339(FromMicros(0)), "1970-01-01T00:00:00.000000Z");
}

TEST(TimeTest, ParsesZuluAndOffsets) {
  EXPECT_EQ(ParseRfc3339("2026-11-27T07:43:16.123456Z"), FromMicros(1795765396123456LL));
  EXPECT_EQ(ParseRfc3339("2026-11-27T16:43:16+09:00"), FromMicros(1795765396000000LL));  // JST
  EXPECT_EQ(ParseRfc3339("2026-11-27T07:43:16.5Z"), FromMicros(1795765396500000LL));
}

TEST(TimeTest, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"", "2026-11-27", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-27T07:43:16", "2026-11-27T25:00:00Z",
        "2026-11-27T07:43:16.Z", "2026-11-27T07:43:16Zjunk", "2026-11-27T07:43:16+0900"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TimeTest, YearComesFromUtc) {
  EXPECT_EQ(YearOf(*ParseRfc3339("2026-12-31T23:59:59Z")), 2026);
  EXPECT_EQ(YearOf(*ParseRfc3339("2027-01-01T08:00:00+09:00")), 2026);  // still 2026 in UTC
}

}  // namespace
}  // namespace hikeshi::common
