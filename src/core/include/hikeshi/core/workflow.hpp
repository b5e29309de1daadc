#pragma once
// The incident state machine: status and response phase, with the transitions that are legal.
// Pure functions; thread-safe.

#include <optional>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

enum class IncidentStatus { kOpen, kResolved, kClosed, kRejected, kMerged };
enum class Phase { kTriage, kAnalysis, kResponsePlan, kContainment, kCoordination, kRecovery, kPostIncident };

std::string_view StatusName(IncidentStatus status);  // "open", "resolved", ...
std::optional<IncidentStatus> ParseStatus(std::string_view text);
std::string_view PhaseName(Phase phase);  // "triage", "analysis", "response-plan", ...
std::optional<Phase> ParsePhase(std::string_view text);

// open -> resolved | rejected | merged; resolved -> closed | open (reopen); closed -> open (reopen);
// rejected -> open (reopen). merged is final. Same-to-same is not a transition.
// Errors: kFailedPrecondition naming both states, with field "/status".
[[nodiscard]] Result<void> CheckStatusTransition(IncidentStatus from, IncidentStatus to);

// Phases move only while the incident is open. The response loop may go back to analysis from any
// later phase; otherwise a phase advances to one of its successors:
// triage -> analysis -> response-plan -> containment -> coordination -> recovery -> post-incident,
// with containment -> recovery and coordination -> response-plan | containment allowed too.
// Errors: kFailedPrecondition with field "/phase".
[[nodiscard]] Result<void> CheckPhaseTransition(IncidentStatus status, Phase from, Phase to);

}  // namespace hikeshi::core
