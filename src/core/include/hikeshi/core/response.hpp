#pragma once
// The response loop on one incident (the guide's 対応): the checklist of tasks, the response plan
// with its history and, for an APT, the decision to eradicate at once or to scope first;
// countermeasures (RTIR's Blocks) with their lifecycle; the post-incident review; links between
// incidents. Each is a Record (store.hpp) of the incident, written with its audit entry, so it
// shows on the incident's timeline.
//
// Every call first finds the incident within the principal's scope: an incident the principal
// cannot see is kNotFound, and so is everything on it. Viewers and constituents may read; only
// admins and handlers write (kPermissionDenied).
// The state machines and the APT decision rule are pure functions, thread-safe. ResponseLoop is
// thread-safe; the Store and Clock must outlive it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// --- countermeasures: the state machine ---

enum class CountermeasureKind { kBlockIp, kBlockDomain, kSinkhole, kTakedown, kAccountDisable, kOther };
std::string_view CountermeasureKindName(CountermeasureKind kind);  // "block-ip", "block-domain", ...
std::optional<CountermeasureKind> ParseCountermeasureKind(std::string_view text);

enum class CountermeasureState { kPending, kActive, kPendingRemoval, kRemoved };
std::string_view CountermeasureStateName(CountermeasureState state);  // "pending", "pending-removal", ...
std::optional<CountermeasureState> ParseCountermeasureState(std::string_view text);

// pending -> active -> pending-removal -> removed, and pending -> removed (a block never applied).
// removed is final. Same-to-same is not a transition.
// Errors: kFailedPrecondition naming both states, with field "/state".
[[nodiscard]] Result<void> CheckCountermeasureTransition(CountermeasureState from, CountermeasureState to);

// --- the APT decision ---

enum class AptDecision { kEradicateNow, kScopeFirst };
std::string_view AptDecisionName(AptDecision decision);  // "eradicate-now", "scope-first"
std::optional<AptDecision> ParseAptDecision(std::string_view text);

// Whether `incident` may take this decision: the decision must be one of the two (kInvalidArgument
// "/decision"), the rationale must be given (kInvalidArgument "/rationale", at most 64 KiB), and
// the incident must be an APT (kFailedPrecondition "/decision").
[[nodiscard]] Result<AptDecision> CheckAptDecision(const Incident& incident, std::string_view decision,
                                                   std::string_view rationale);

// --- what the use case returns ---

struct Task {
  std::string id;        // "T-2026-000001"
  std::string incident;  // the human id of the incident it belongs to now
  std::string title;
  std::string title_en;                 // the English title a playbook gave it; empty when none
  std::string role;                     // who should do it, from the playbook; empty when none
  std::optional<std::string> assignee;  // username
  std::optional<Timestamp> due;
  bool done = false;
  std::optional<Timestamp> done_at;
  std::string done_by;
  std::string playbook;  // "phishing@2" when a playbook gave it
  std::string created_by;
  Timestamp created_at{};
  Timestamp updated_at{};
};

struct NewTask {
  std::string title;  // required, 1..500 bytes
  std::optional<std::string> assignee;
  std::optional<Timestamp> due;
};

// Absent fields are left alone; assignee and due hold nullopt inside to clear them. A new title
// drops the playbook's English title, which no longer matches it.
struct TaskPatch {
  std::optional<std::string> title;
  std::optional<std::optional<std::string>> assignee;
  std::optional<std::optional<Timestamp>> due;
  std::optional<bool> done;
};

struct PlanRevision {
  std::string text;
  std::string author;
  Timestamp at{};
};

struct AptDecisionEntry {
  AptDecision decision = AptDecision::kScopeFirst;
  std::string rationale;
  std::string decider;
  Timestamp at{};
};

// The plan is the newest revision; a later APT decision supersedes the earlier, and both lists
// keep everything, oldest first.
struct ResponsePlan {
  std::string incident;
  std::vector<PlanRevision> revisions;
  std::vector<AptDecisionEntry> decisions;
};

struct CountermeasureChange {
  CountermeasureState state = CountermeasureState::kPending;
  std::string by;
  std::string note;
  Timestamp at{};
};

struct Countermeasure {
  std::string id;  // "C-2026-000001"
  std::string incident;
  CountermeasureKind kind = CountermeasureKind::kOther;
  std::string target;  // normalised for block-ip (an address or CIDR) and block-domain
  std::string where;   // where it is applied: "border firewall fw1", "registrar", ...
  std::string note;
  CountermeasureState state = CountermeasureState::kPending;
  std::vector<CountermeasureChange> history;  // every state it was in, oldest first
  std::string created_by;
  Timestamp created_at{};
  Timestamp updated_at{};
};

struct NewCountermeasure {
  std::string kind;    // CountermeasureKindName syntax
  std::string target;  // required
  std::string where;
  std::string note;
};

// Moving to active needs `where`, given now or before.
struct CountermeasurePatch {
  std::optional<std::string> state;
  std::optional<std::string> where;
  std::optional<std::string> note;
};

struct PostIncidentReview {
  std::string incident;
  std::string root_cause;
  std::string actions_taken;
  std::string lessons_learned;
  std::string playbook_revision;  // "phishing@3", or empty
  std::string author;             // empty while there is no review
  std::optional<Timestamp> updated_at;
};

struct ReviewDraft {
  std::string root_cause;
  std::string actions_taken;
  std::string lessons_learned;
  std::string playbook_revision;  // empty, or "name@version" of a stored playbook version
};

// How two incidents relate, read "incident RELATION other": I-1 parent I-2 (I-1 is the parent of
// I-2), I-3 split-from I-1, I-4 merged-into I-1. Each link is kept on both incidents, with the
// relation seen from each: parent/child, split-from/split-into, merged-into/merged-from,
// related/related.
enum class LinkRelation { kRelated, kParent, kChild, kSplitFrom, kSplitInto, kMergedInto, kMergedFrom };
std::string_view LinkRelationName(LinkRelation relation);  // "related", "parent", "split-from", ...
std::optional<LinkRelation> ParseLinkRelation(std::string_view text);
LinkRelation InverseOf(LinkRelation relation);

struct IncidentLink {
  std::string incident;                            // this incident
  std::string other;                               // the linked incident
  LinkRelation relation = LinkRelation::kRelated;  // what `incident` is to `other`
  std::string created_by;
  Timestamp created_at{};
};

class ResponseLoop {
 public:
  ResponseLoop(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Oldest first. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<Task>> Tasks(const Principal& actor, std::string_view incident);
  // Errors: kNotFound, kPermissionDenied, kInvalidArgument naming the field (an assignee who is not
  // a handler or admin of the incident's constituency is "/assignee").
  [[nodiscard]] Result<Task> AddTask(const Principal& actor, std::string_view incident, const NewTask& task);
  // Errors: as AddTask; a task of another incident is kNotFound.
  [[nodiscard]] Result<Task> UpdateTask(const Principal& actor, std::string_view incident, std::string_view task,
                                        const TaskPatch& patch);

  // The plan and its history; empty lists when nothing was written yet. Errors: kNotFound.
  [[nodiscard]] Result<ResponsePlan> Plan(const Principal& actor, std::string_view incident);
  // Adds a revision (text 1..256 KiB). Errors: kNotFound, kPermissionDenied, kInvalidArgument "/text".
  [[nodiscard]] Result<ResponsePlan> RevisePlan(const Principal& actor, std::string_view incident,
                                                std::string_view text);
  // Records the APT decision (CheckAptDecision), stamped with the decider and the time.
  [[nodiscard]] Result<ResponsePlan> DecideApt(const Principal& actor, std::string_view incident,
                                               std::string_view decision, std::string_view rationale);

  [[nodiscard]] Result<std::vector<Countermeasure>> Countermeasures(const Principal& actor, std::string_view incident);
  // Starts pending. Errors: kNotFound, kPermissionDenied, kInvalidArgument ("/kind", "/target":
  // block-ip wants an address or CIDR, block-domain a domain; "/where", "/note").
  [[nodiscard]] Result<Countermeasure> AddCountermeasure(const Principal& actor, std::string_view incident,
                                                         const NewCountermeasure& countermeasure);
  // Errors: as AddCountermeasure, plus kFailedPrecondition for an illegal state transition.
  [[nodiscard]] Result<Countermeasure> UpdateCountermeasure(const Principal& actor, std::string_view incident,
                                                            std::string_view countermeasure,
                                                            const CountermeasurePatch& patch);

  // The review, or one with empty fields and no author when none was written. Errors: kNotFound.
  [[nodiscard]] Result<PostIncidentReview> Review(const Principal& actor, std::string_view incident);
  // Writes the whole review. Errors: kNotFound, kPermissionDenied, kInvalidArgument (fields too
  // long; a playbook revision that is not stored is "/playbook_revision").
  [[nodiscard]] Result<PostIncidentReview> PutReview(const Principal& actor, std::string_view incident,
                                                     const ReviewDraft& review);

  // Oldest first; links to incidents the principal cannot see are left out. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<IncidentLink>> Links(const Principal& actor, std::string_view incident);
  // `relation` is related, parent or child: what `incident` is to `other`. Errors: kNotFound
  // (either incident, "/incident" for the other), kPermissionDenied, kInvalidArgument
  // ("/relation", an incident linked to itself), kConflict when the two are already linked.
  [[nodiscard]] Result<IncidentLink> AddLink(const Principal& actor, std::string_view incident, std::string_view other,
                                             std::string_view relation);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace hikeshi::core
