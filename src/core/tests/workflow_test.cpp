// The incident state machine. Every (from, to) pair is checked against tables written out here from
// workflow.hpp, so a transition cannot become legal or illegal without this file changing too.

#include "hikeshi/core/workflow.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using S = IncidentStatus;
using P = Phase;

struct NamedStatus {
  IncidentStatus status;
  std::string_view name;
};
constexpr std::array<NamedStatus, 5> kStatuses{{
    {S::kOpen, "open"},
    {S::kResolved, "resolved"},
    {S::kClosed, "closed"},
    {S::kRejected, "rejected"},
    {S::kMerged, "merged"},
}};

struct NamedPhase {
  Phase phase;
  std::string_view name;
};
constexpr std::array<NamedPhase, 7> kPhases{{
    {P::kTriage, "triage"},
    {P::kAnalysis, "analysis"},
    {P::kResponsePlan, "response-plan"},
    {P::kContainment, "containment"},
    {P::kCoordination, "coordination"},
    {P::kRecovery, "recovery"},
    {P::kPostIncident, "post-incident"},
}};

constexpr std::array<std::pair<S, S>, 7> kLegalStatusChanges{{
    {S::kOpen, S::kResolved},
    {S::kOpen, S::kRejected},
    {S::kOpen, S::kMerged},
    {S::kResolved, S::kClosed},
    {S::kResolved, S::kOpen},  // reopen
    {S::kClosed, S::kOpen},    // reopen
    {S::kRejected, S::kOpen},  // reopen
}};

constexpr std::array<std::pair<P, P>, 14> kLegalPhaseChanges{{
    // forward along the response
    {P::kTriage, P::kAnalysis},
    {P::kAnalysis, P::kResponsePlan},
    {P::kResponsePlan, P::kContainment},
    {P::kContainment, P::kCoordination},
    {P::kCoordination, P::kRecovery},
    {P::kRecovery, P::kPostIncident},
    // the extra successors
    {P::kContainment, P::kRecovery},
    {P::kCoordination, P::kResponsePlan},
    {P::kCoordination, P::kContainment},
    // back to analysis from every phase after it
    {P::kResponsePlan, P::kAnalysis},
    {P::kContainment, P::kAnalysis},
    {P::kCoordination, P::kAnalysis},
    {P::kRecovery, P::kAnalysis},
    {P::kPostIncident, P::kAnalysis},
}};

template <typename Pairs, typename State>
bool Contains(const Pairs& pairs, State from, State to) {
  return std::find(pairs.begin(), pairs.end(), std::pair{from, to}) != pairs.end();
}

TEST(WorkflowTest, StatusNamesRoundTrip) {
  for (const NamedStatus& s : kStatuses) {
    EXPECT_EQ(StatusName(s.status), s.name);
    EXPECT_EQ(ParseStatus(s.name), s.status) << s.name;
  }
}

TEST(WorkflowTest, PhaseNamesRoundTrip) {
  for (const NamedPhase& p : kPhases) {
    EXPECT_EQ(PhaseName(p.phase), p.name);
    EXPECT_EQ(ParsePhase(p.name), p.phase) << p.name;
  }
}

TEST(WorkflowTest, UnknownNamesAreRejected) {
  for (std::string_view text : {"", "opened", "close", "reopen", "new", "open ", "response_plan"}) {
    EXPECT_EQ(ParseStatus(text), std::nullopt) << "'" << text << "'";
  }
  for (std::string_view text : {"", "response_plan", "responseplan", "post_incident", "done", "triage "}) {
    EXPECT_EQ(ParsePhase(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(WorkflowTest, EveryStatusPairMatchesTheTable) {
  int legal = 0;
  for (const NamedStatus& from : kStatuses) {
    for (const NamedStatus& to : kStatuses) {
      const Result<void> result = CheckStatusTransition(from.status, to.status);
      const std::string pair = std::string(from.name) + " -> " + std::string(to.name);
      if (Contains(kLegalStatusChanges, from.status, to.status)) {
        EXPECT_TRUE(result.has_value()) << pair << " refused: " << result.error().message();
        ++legal;
        continue;
      }
      ASSERT_FALSE(result.has_value()) << pair << " was allowed";
      EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition) << pair;
      EXPECT_EQ(result.error().field(), "/status") << pair;
      EXPECT_NE(result.error().message().find(from.name), std::string::npos)
          << pair << ": " << result.error().message();
      EXPECT_NE(result.error().message().find(to.name), std::string::npos) << pair << ": " << result.error().message();
    }
  }
  EXPECT_EQ(legal, 7);
}

TEST(WorkflowTest, MergedIsFinal) {
  for (const NamedStatus& to : kStatuses) EXPECT_FALSE(CheckStatusTransition(S::kMerged, to.status).has_value());
}

TEST(WorkflowTest, EveryPhasePairWhileOpenMatchesTheTable) {
  int legal = 0;
  for (const NamedPhase& from : kPhases) {
    for (const NamedPhase& to : kPhases) {
      const Result<void> result = CheckPhaseTransition(S::kOpen, from.phase, to.phase);
      const std::string pair = std::string(from.name) + " -> " + std::string(to.name);
      if (Contains(kLegalPhaseChanges, from.phase, to.phase)) {
        EXPECT_TRUE(result.has_value()) << pair << " refused: " << result.error().message();
        ++legal;
        continue;
      }
      ASSERT_FALSE(result.has_value()) << pair << " was allowed";
      EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition) << pair;
      EXPECT_EQ(result.error().field(), "/phase") << pair;
    }
  }
  EXPECT_EQ(legal, 14);
}

// A resolved, closed, rejected or merged incident keeps its phase: no change is allowed, not even
// one that would be legal while it is open.
TEST(WorkflowTest, PhaseNeverMovesUnlessOpen) {
  for (const NamedStatus& status : kStatuses) {
    if (status.status == S::kOpen) continue;
    for (const NamedPhase& from : kPhases) {
      for (const NamedPhase& to : kPhases) {
        const Result<void> result = CheckPhaseTransition(status.status, from.phase, to.phase);
        const std::string what =
            std::string(status.name) + ": " + std::string(from.name) + " -> " + std::string(to.name);
        ASSERT_FALSE(result.has_value()) << what << " was allowed";
        EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition) << what;
        EXPECT_EQ(result.error().field(), "/phase") << what;
      }
    }
  }
}

}  // namespace
}  // namespace hikeshi::core
