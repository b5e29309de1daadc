// The impact x urgency matrix that sets every incident's priority, written out cell by cell.

#include "hikeshi/core/priority.hpp"

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

// kMatrix[impact - 1][urgency - 1] is the P-number. Level 1 is the highest impact / urgency.
constexpr int kMatrix[4][4] = {
    {1, 1, 2, 3},  // impact 1
    {1, 2, 3, 3},  // impact 2
    {2, 3, 3, 4},  // impact 3
    {3, 3, 4, 4},  // impact 4
};

TEST(PriorityTest, EveryCellOfTheMatrix) {
  for (int impact = 1; impact <= 4; ++impact) {
    for (int urgency = 1; urgency <= 4; ++urgency) {
      EXPECT_EQ(PriorityOf(impact, urgency), kMatrix[impact - 1][urgency - 1])
          << "impact " << impact << ", urgency " << urgency;
    }
  }
}

TEST(PriorityTest, CornersReadAsTriageExpects) {
  EXPECT_EQ(PriorityOf(1, 1), 1) << "critical impact, needed now: P1";
  EXPECT_EQ(PriorityOf(4, 4), 4) << "minor impact, can wait: P4";
  EXPECT_EQ(PriorityOf(1, 4), 3);
  EXPECT_EQ(PriorityOf(4, 1), 3);
}

TEST(PriorityTest, ValidLevelsAreOneToFour) {
  EXPECT_EQ(kMinLevel, 1);
  EXPECT_EQ(kMaxLevel, 4);
  EXPECT_FALSE(IsValidLevel(0));
  EXPECT_TRUE(IsValidLevel(1));
  EXPECT_TRUE(IsValidLevel(2));
  EXPECT_TRUE(IsValidLevel(3));
  EXPECT_TRUE(IsValidLevel(4));
  EXPECT_FALSE(IsValidLevel(5));
  EXPECT_FALSE(IsValidLevel(-1));
}

}  // namespace
}  // namespace hikeshi::core
