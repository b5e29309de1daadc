#include "hikeshi/core/workflow.hpp"

#include <array>
#include <string>

namespace hikeshi::core {

namespace {
constexpr std::array<std::string_view, 5> kStatusNames = {"open", "resolved", "closed", "rejected", "merged"};
constexpr std::array<std::string_view, 7> kPhaseNames = {"triage",       "analysis", "response-plan", "containment",
                                                         "coordination", "recovery", "post-incident"};

bool StatusAllows(IncidentStatus from, IncidentStatus to) {
  using S = IncidentStatus;
  switch (from) {
    case S::kOpen:
      return to == S::kResolved || to == S::kRejected || to == S::kMerged;
    case S::kResolved:
      return to == S::kClosed || to == S::kOpen;
    case S::kClosed:
      return to == S::kOpen;
    case S::kRejected:
      return to == S::kOpen;
    case S::kMerged:
      return false;
  }
  return false;
}

bool PhaseAllows(Phase from, Phase to) {
  using P = Phase;
  // The response loop (analysis -> plan -> containment -> coordination) may start over from any
  // later phase when new facts arrive.
  if (to == P::kAnalysis && from != P::kTriage && from != P::kAnalysis) return true;
  switch (from) {
    case P::kTriage:
      return to == P::kAnalysis;
    case P::kAnalysis:
      return to == P::kResponsePlan;
    case P::kResponsePlan:
      return to == P::kContainment;
    case P::kContainment:
      return to == P::kCoordination || to == P::kRecovery;
    case P::kCoordination:
      return to == P::kResponsePlan || to == P::kContainment || to == P::kRecovery;
    case P::kRecovery:
      return to == P::kPostIncident;
    case P::kPostIncident:
      return false;
  }
  return false;
}
}  // namespace

std::string_view StatusName(IncidentStatus status) { return kStatusNames[static_cast<int>(status)]; }

std::optional<IncidentStatus> ParseStatus(std::string_view text) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == text) return static_cast<IncidentStatus>(i);
  }
  return std::nullopt;
}

std::string_view PhaseName(Phase phase) { return kPhaseNames[static_cast<int>(phase)]; }

std::optional<Phase> ParsePhase(std::string_view text) {
  for (std::size_t i = 0; i < kPhaseNames.size(); ++i) {
    if (kPhaseNames[i] == text) return static_cast<Phase>(i);
  }
  return std::nullopt;
}

Result<void> CheckStatusTransition(IncidentStatus from, IncidentStatus to) {
  if (StatusAllows(from, to)) return {};
  return Fail(Error::FailedPrecondition("an incident cannot go from status '" + std::string(StatusName(from)) +
                                            "' to '" + std::string(StatusName(to)) + "'",
                                        "/status"));
}

Result<void> CheckPhaseTransition(IncidentStatus status, Phase from, Phase to) {
  if (status != IncidentStatus::kOpen) {
    return Fail(Error::FailedPrecondition(
        "the phase of an incident can change only while it is open; it is '" + std::string(StatusName(status)) + "'",
        "/phase"));
  }
  if (PhaseAllows(from, to)) return {};
  return Fail(Error::FailedPrecondition(
      "an incident cannot go from phase '" + std::string(PhaseName(from)) + "' to '" + std::string(PhaseName(to)) + "'",
      "/phase"));
}

}  // namespace hikeshi::core
