// The response loop's pure rules: the countermeasure state machine (RTIR's Blocks), the APT
// decision, and the link relations. Every (from, to) pair is checked against a table written out
// here from response.hpp, so a transition cannot become legal or illegal without this file changing.

#include "hikeshi/core/response.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using S = CountermeasureState;

struct NamedState {
  CountermeasureState state;
  std::string_view name;
};
constexpr std::array<NamedState, 4> kStates{{
    {S::kPending, "pending"},
    {S::kActive, "active"},
    {S::kPendingRemoval, "pending-removal"},
    {S::kRemoved, "removed"},
}};

constexpr std::array<std::pair<S, S>, 4> kLegal{{
    {S::kPending, S::kActive},
    {S::kActive, S::kPendingRemoval},
    {S::kPendingRemoval, S::kRemoved},
    {S::kPending, S::kRemoved},
}};

TEST(CountermeasureStateTest, NamesRoundTrip) {
  for (const auto& [state, name] : kStates) {
    EXPECT_EQ(CountermeasureStateName(state), name);
    EXPECT_EQ(ParseCountermeasureState(name), state);
  }
  EXPECT_EQ(ParseCountermeasureState("Active"), std::nullopt);
  EXPECT_EQ(ParseCountermeasureState("pending_removal"), std::nullopt);
  EXPECT_EQ(ParseCountermeasureState(""), std::nullopt);
}

TEST(CountermeasureStateTest, OnlyTheBlocksLifecycleIsLegal) {
  for (const auto& from : kStates) {
    for (const auto& to : kStates) {
      const bool legal = std::find(kLegal.begin(), kLegal.end(), std::pair{from.state, to.state}) != kLegal.end();
      const auto result = CheckCountermeasureTransition(from.state, to.state);
      EXPECT_EQ(result.has_value(), legal) << from.name << " -> " << to.name;
      if (!result) {
        EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition);
        EXPECT_EQ(result.error().field(), "/state");
      }
    }
  }
}

TEST(CountermeasureStateTest, RefusalNamesBothStates) {
  const auto result = CheckCountermeasureTransition(S::kRemoved, S::kActive);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "a countermeasure cannot go from 'removed' to 'active'");
  const auto backwards = CheckCountermeasureTransition(S::kActive, S::kPending);
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().message(), "a countermeasure cannot go from 'active' to 'pending'");
}

TEST(CountermeasureKindTest, TheSixKindsParseAndNothingElse) {
  const std::array<std::pair<CountermeasureKind, std::string_view>, 6> kinds{{
      {CountermeasureKind::kBlockIp, "block-ip"},
      {CountermeasureKind::kBlockDomain, "block-domain"},
      {CountermeasureKind::kSinkhole, "sinkhole"},
      {CountermeasureKind::kTakedown, "takedown"},
      {CountermeasureKind::kAccountDisable, "account-disable"},
      {CountermeasureKind::kOther, "other"},
  }};
  for (const auto& [kind, name] : kinds) {
    EXPECT_EQ(CountermeasureKindName(kind), name);
    EXPECT_EQ(ParseCountermeasureKind(name), kind);
  }
  EXPECT_EQ(ParseCountermeasureKind("block"), std::nullopt);
  EXPECT_EQ(ParseCountermeasureKind("firewall"), std::nullopt);
}

Incident AptIncident(bool apt) {
  Incident incident;
  incident.human_id = "I-2026-000042";
  incident.category = {"intrusions", "system-compromise"};
  incident.apt = apt;
  return incident;
}

TEST(AptDecisionTest, BothDecisionsAreAcceptedForAnAptWithARationale) {
  const auto now = CheckAptDecision(AptIncident(true), "eradicate-now", "C2 is live and data leaves every hour");
  ASSERT_TRUE(now) << now.error().message();
  EXPECT_EQ(*now, AptDecision::kEradicateNow);
  const auto first = CheckAptDecision(AptIncident(true), "scope-first", "攻撃者に気付かれずに侵害範囲を特定する");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*first, AptDecision::kScopeFirst);
  EXPECT_EQ(AptDecisionName(AptDecision::kEradicateNow), "eradicate-now");
  EXPECT_EQ(AptDecisionName(AptDecision::kScopeFirst), "scope-first");
}

TEST(AptDecisionTest, AnIncidentThatIsNotAnAptCannotTakeTheDecision) {
  const auto result = CheckAptDecision(AptIncident(false), "scope-first", "watch first");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(result.error().message().find("I-2026-000042 is not an APT"), std::string::npos)
      << result.error().message();
}

TEST(AptDecisionTest, TheRationaleIsRequired) {
  for (const std::string_view rationale : {"", "   ", "\n\t"}) {
    const auto result = CheckAptDecision(AptIncident(true), "eradicate-now", rationale);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().field(), "/rationale");
  }
}

TEST(AptDecisionTest, OnlyTheTwoDecisionsExist) {
  for (const std::string_view decision : {"", "eradicate", "Scope-First", "monitor", "scope_first"}) {
    const auto result = CheckAptDecision(AptIncident(true), decision, "because");
    ASSERT_FALSE(result) << decision;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().field(), "/decision");
  }
}

TEST(LinkRelationTest, EachSideSeesTheInverse) {
  const std::array<std::pair<std::string_view, std::string_view>, 7> pairs{{
      {"related", "related"},
      {"parent", "child"},
      {"child", "parent"},
      {"split-from", "split-into"},
      {"split-into", "split-from"},
      {"merged-into", "merged-from"},
      {"merged-from", "merged-into"},
  }};
  for (const auto& [name, inverse] : pairs) {
    const auto relation = ParseLinkRelation(name);
    ASSERT_TRUE(relation) << name;
    EXPECT_EQ(LinkRelationName(*relation), name);
    EXPECT_EQ(LinkRelationName(InverseOf(*relation)), inverse) << name;
  }
  EXPECT_EQ(ParseLinkRelation("sibling"), std::nullopt);
}

}  // namespace
}  // namespace hikeshi::core
