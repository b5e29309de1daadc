#include "hikeshi/common/utf8.hpp"

#include <gtest/gtest.h>

namespace hikeshi::common {
namespace {

TEST(Utf8Test, DecodesEachSequenceLength) {
  EXPECT_EQ(DecodeUtf8("A", 0).value, U'A');
  EXPECT_EQ(DecodeUtf8("\xc3\xa9", 0).value, U'é');
  const std::string_view houkoku = "報告";
  EXPECT_EQ(DecodeUtf8(houkoku, 0).value, U'報');
  EXPECT_EQ(DecodeUtf8(houkoku, 0).length, 3u);
  EXPECT_EQ(DecodeUtf8(houkoku, 3).value, U'告');
  EXPECT_EQ(DecodeUtf8("\xf0\x9f\x94\xa5", 0).value, U'\U0001F525');
  EXPECT_EQ(DecodeUtf8Before(houkoku, 6).value, U'告');
}

TEST(Utf8Test, RefusesEveryMalformedForm) {
  for (const std::string_view bad : {std::string_view("\xc0\xaf"),          // overlong '/'
                                     std::string_view("\xed\xa0\x80"),      // surrogate
                                     std::string_view("\xf4\x90\x80\x80"),  // over U+10FFFF
                                     std::string_view("\xe5\xa0"),          // truncated
                                     std::string_view("\x80"),              // lone continuation
                                     std::string_view("\xff")}) {
    EXPECT_EQ(DecodeUtf8(bad, 0).length, 0u);
    EXPECT_FALSE(IsValidUtf8(bad));
  }
  EXPECT_EQ(DecodeUtf8("a", 1).length, 0u);  // past the end
  EXPECT_TRUE(IsValidUtf8("不正アクセス abc"));
}

}  // namespace
}  // namespace hikeshi::common
