#pragma once
// Use cases for incidents: open, change, transition, list, search and read the timeline.
// Every call is scoped to the constituencies the principal may see; an incident outside the
// scope is reported as not found. Thread-safe; Store and Clock must outlive it.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

class ReporterNotices;

struct RawObservable {
  std::string type;
  std::string value;
};

struct IncidentDraft {
  std::string title;  // required, 1..500 bytes
  std::string description;
  std::string category;                     // ParseCategory syntax; required
  std::optional<std::string> constituency;  // name; defaults to the principal's only constituency
  int impact = 3;
  int urgency = 3;
  std::optional<std::string> tlp;    // default TLP:AMBER
  std::optional<std::string> owner;  // username
  bool exercise = false;
  std::vector<RawObservable> observables;
  // The playbook whose tasks the incident gets; absent: the playbook of its category, if any.
  std::optional<std::string> playbook;
};

// Absent fields are left alone. `owner` holds nullopt inside to clear the owner.
struct IncidentPatch {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> category;
  std::optional<int> impact;
  std::optional<int> urgency;
  std::optional<std::string> status;
  std::optional<std::string> phase;
  std::optional<std::optional<std::string>> owner;
  std::optional<std::string> tlp;
  std::optional<bool> exercise;
  std::optional<std::string> merged_into;                 // required with status "merged"
  std::optional<std::vector<RawObservable>> observables;  // replaces the list
};

struct IncidentListRequest {
  std::optional<std::string> status;
  std::optional<std::string> category;  // "class" or "class/type" or a guide name
  std::optional<std::string> constituency;
  std::optional<int> priority;
  std::optional<std::string> owner;
  std::string text;
  std::optional<std::string> sla;  // "breached": only incidents with a recorded SLA breach
  std::optional<std::int64_t> before_id;
  int limit = 50;
};

class Incidents {
 public:
  Incidents(Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  // Notices to the reporters when an incident becomes resolved (reporter_notices.hpp); null: none.
  // Set once at start-up, before any call; `notices` must outlive this object.
  void SetReporterNotices(const ReporterNotices* notices) { notices_ = notices; }

  // Errors: kPermissionDenied (viewers, constituents), kInvalidArgument naming the field,
  // kNotFound for a constituency or owner the principal cannot see.
  [[nodiscard]] Result<Incident> Create(const Principal& actor, const IncidentDraft& draft);
  // Create, inside a write transaction the caller holds (triage at intake opens the incident in the
  // transaction that stores the report). Errors: as Create; the caller's transaction then fails.
  [[nodiscard]] Result<Incident> CreateIn(WriteTx& tx, const Principal& actor, const IncidentDraft& draft) const;
  // Errors: as Create, plus kNotFound for the incident and kFailedPrecondition for an illegal
  // status or phase transition. Nothing is written when any part fails.
  [[nodiscard]] Result<Incident> Update(const Principal& actor, std::string_view id, const IncidentPatch& patch);
  // Update, inside a write transaction the caller holds (a triage override changes the report and
  // its incident together). Errors: as Update; the caller's transaction then fails.
  [[nodiscard]] Result<Incident> UpdateIn(WriteTx& tx, const Principal& actor, std::string_view id,
                                          const IncidentPatch& patch) const;
  // Merges incident `id` into `into` (Update with status "merged"): in one transaction, its reports,
  // observables (a union), tasks, countermeasures and investigations move to `into`, the two are
  // linked (merged-into / merged-from), and it becomes merged, pointing at `into`, whose timeline
  // then shows its entries too. Both must be visible. Errors: as Update; the field for `into` is
  // "/into", and kFailedPrecondition unless both are open.
  [[nodiscard]] Result<Incident> Merge(const Principal& actor, std::string_view id, std::string_view into);
  // Opens a new incident titled `title`, with the category, constituency, TLP, impact, urgency,
  // owner and exercise flag of incident `id`, and moves `reports` (1..500, each linked to `id`)
  // to it; the new incident holds their observables, gets its category's playbook tasks, and is
  // linked to `id` (split-from / split-into). One transaction. Returns the new incident.
  // Errors: kPermissionDenied, kNotFound (the incident; a report as "/reports/<i>"),
  // kInvalidArgument ("/title", "/reports", a report of another incident), kFailedPrecondition
  // unless `id` is open.
  [[nodiscard]] Result<Incident> Split(const Principal& actor, std::string_view id,
                                       const std::vector<std::string>& reports, std::string_view title);
  // Errors: kNotFound (also for an incident outside the scope).
  [[nodiscard]] Result<Incident> Get(const Principal& actor, std::string_view id);
  // Errors: kInvalidArgument for a bad filter value.
  [[nodiscard]] Result<Page<Incident>> List(const Principal& actor, const IncidentListRequest& request);
  // The clocks ("triage", "resolution", ...) each incident has breached, by incident id, read in one
  // query; incidents without a breach are absent. `incidents` (at most 500) are ones the caller has
  // already found visible; borrowed for the call.
  [[nodiscard]] Result<std::map<std::int64_t, std::vector<std::string>>> SlaBreachesOf(
      std::span<const Incident> incidents);
  // The audit entries that touched the incident (its own changes, its linked reports, its response
  // records) and the incidents merged into it that the principal may see, oldest first.
  [[nodiscard]] Result<std::vector<AuditEntry>> Timeline(const Principal& actor, std::string_view id);
  // The mail threaded into a visible incident, oldest first. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<MailMessage>> Mail(const Principal& actor, std::string_view id);

 private:
  Store& store_;
  const Clock& clock_;
  const ReporterNotices* notices_ = nullptr;
};

// Validates and normalises observables from the API; the error field is "/observables/<i>/...".
[[nodiscard]] Result<std::vector<Observable>> NormalizeObservables(const std::vector<RawObservable>& raw);

}  // namespace hikeshi::core
