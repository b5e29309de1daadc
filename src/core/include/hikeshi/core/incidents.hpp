#pragma once
// Use cases for incidents: open, change, transition, list, search and read the timeline.
// Every call is scoped to the constituencies the principal may see; an incident outside the
// scope is reported as not found. Thread-safe; Store and Clock must outlive it.

#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

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
  std::optional<std::int64_t> before_id;
  int limit = 50;
};

class Incidents {
 public:
  Incidents(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Errors: kPermissionDenied (viewers, constituents), kInvalidArgument naming the field,
  // kNotFound for a constituency or owner the principal cannot see.
  [[nodiscard]] Result<Incident> Create(const Principal& actor, const IncidentDraft& draft);
  // Errors: as Create, plus kNotFound for the incident and kFailedPrecondition for an illegal
  // status or phase transition. Nothing is written when any part fails.
  [[nodiscard]] Result<Incident> Update(const Principal& actor, std::string_view id, const IncidentPatch& patch);
  // Errors: kNotFound (also for an incident outside the scope).
  [[nodiscard]] Result<Incident> Get(const Principal& actor, std::string_view id);
  // Errors: kInvalidArgument for a bad filter value.
  [[nodiscard]] Result<Page<Incident>> List(const Principal& actor, const IncidentListRequest& request);
  // The audit entries that touched the incident (its own changes and linked reports), oldest first.
  [[nodiscard]] Result<std::vector<AuditEntry>> Timeline(const Principal& actor, std::string_view id);
  // The mail threaded into a visible incident, oldest first. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<MailMessage>> Mail(const Principal& actor, std::string_view id);

 private:
  Store& store_;
  const Clock& clock_;
};

// Validates and normalises observables from the API; the error field is "/observables/<i>/...".
[[nodiscard]] Result<std::vector<Observable>> NormalizeObservables(const std::vector<RawObservable>& raw);

}  // namespace hikeshi::core
