// Who sees what: the scope a user's role and constituencies give, and the TLP ceiling that keeps
// TLP:RED incidents and reports away from constituents (outside parties) while the team sees them.

#include "hikeshi/core/principal.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/core/model.hpp"
#include "hikeshi/core/tlp.hpp"

namespace hikeshi::core {
namespace {

User UserOf(Role role, bool scope_all = false) {
  User user;
  user.id = 7;
  user.username = "someone";
  user.role = role;
  user.scope_all = scope_all;
  user.constituency_ids = {3};
  return user;
}

TEST(PrincipalTest, ConstituentSeesUpToAmberStrictOfTheirConstituencyButNotRed) {
  const Scope scope = Principal::ForUser(UserOf(Role::kConstituent)).scope;
  EXPECT_EQ(scope.max_tlp, Tlp::kAmberStrict);
  for (const Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict}) {
    EXPECT_TRUE(scope.Allows(3, tlp)) << TlpName(tlp);
  }
  EXPECT_FALSE(scope.Allows(3, Tlp::kRed));
  EXPECT_FALSE(scope.Allows(4, Tlp::kGreen));  // another constituency
  EXPECT_FALSE(scope.Allows(std::nullopt, Tlp::kClear));
}

TEST(PrincipalTest, ConstituentSeeingEveryConstituencyStillStopsBelowRed) {
  const Scope scope = Principal::ForUser(UserOf(Role::kConstituent, true)).scope;
  EXPECT_TRUE(scope.all);
  EXPECT_TRUE(scope.Allows(4, Tlp::kAmberStrict));
  EXPECT_FALSE(scope.Allows(4, Tlp::kRed));
}

TEST(PrincipalTest, TheTeamHasNoCeiling) {
  for (const Role role : {Role::kHandler, Role::kViewer}) {
    const Scope scope = Principal::ForUser(UserOf(role)).scope;
    EXPECT_EQ(scope.max_tlp, std::nullopt) << RoleName(role);
    EXPECT_TRUE(scope.Allows(3, Tlp::kRed)) << RoleName(role);
    EXPECT_FALSE(scope.Allows(4, Tlp::kRed)) << RoleName(role);
  }
  const Scope admin = Principal::ForUser(UserOf(Role::kAdmin)).scope;
  EXPECT_TRUE(admin.Allows(4, Tlp::kRed));
  EXPECT_TRUE(admin.Allows(std::nullopt, Tlp::kRed));
  EXPECT_TRUE(Scope::All().Allows(std::nullopt, Tlp::kRed));
  EXPECT_TRUE(Principal::LocalOperator().scope.Allows(std::nullopt, Tlp::kRed));
}

TEST(PrincipalTest, TlpNamesUpToListsTheLabelsAtOrBelowTheCeiling) {
  EXPECT_EQ(TlpNamesUpTo(Tlp::kClear), (std::vector<std::string_view>{"TLP:CLEAR"}));
  EXPECT_EQ(TlpNamesUpTo(Tlp::kAmberStrict),
            (std::vector<std::string_view>{"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT"}));
  EXPECT_EQ(TlpNamesUpTo(Tlp::kRed).size(), 5U);
}

}  // namespace
}  // namespace hikeshi::core
