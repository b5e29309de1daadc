#pragma once
// Use cases for reports: what arrives on a channel, then linked to an incident or rejected.
// Scoped like Incidents. Thread-safe; Store and Clock must outlive it.

#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct ReportDraft {
  std::string channel = "api";
  std::string reporter;
  std::string subject;  // required, 1..1000 bytes
  std::string body;
  std::optional<std::string> category;
  std::optional<std::string> constituency;
  std::optional<std::string> tlp;
  std::vector<RawObservable> observables;
};

struct ReportListRequest {
  std::optional<std::string> status;
  std::optional<std::string> constituency;
  std::optional<std::string> incident;
  std::optional<std::string> flag;
  std::string text;
  std::optional<std::int64_t> before_id;
  int limit = 50;
};

class IntakeTriage;

class Reports {
 public:
  // `triage` (may be null: no triage) decides for every report Create stores; it must outlive this.
  Reports(Store& store, const Clock& clock, const IntakeTriage* triage = nullptr)
      : store_(store), clock_(clock), triage_(triage) {}

  // Admins, handlers and constituents may file reports; a constituent's report belongs to their
  // constituency. With triage, the report is triaged in the same transaction and returned as
  // triage left it (linked to the incident it opened, or rejected).
  // Errors: kPermissionDenied, kInvalidArgument, kNotFound (constituency).
  [[nodiscard]] Result<Report> Create(const Principal& actor, const ReportDraft& draft);
  [[nodiscard]] Result<Report> Get(const Principal& actor, std::string_view id);
  [[nodiscard]] Result<Page<Report>> List(const Principal& actor, const ReportListRequest& request);
  // The open incidents `report` shares an observable with (feed correlation), those the principal
  // may see only, oldest first. `report` must have come from Get() for the same principal.
  [[nodiscard]] Result<std::vector<Correlation>> Correlations(const Principal& actor, const Report& report);
  // Links a new report to an incident; both must be visible. Errors: kNotFound,
  // kFailedPrecondition when the report is not new or the incident is merged.
  [[nodiscard]] Result<Report> Link(const Principal& actor, std::string_view report_id, std::string_view incident_id);
  // The mail of a visible report (the message that opened it, replies, acknowledgements), oldest
  // first. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<MailMessage>> Mail(const Principal& actor, std::string_view report_id);
  // Errors: kNotFound, kInvalidArgument (reason), kFailedPrecondition when not new.
  [[nodiscard]] Result<Report> Reject(const Principal& actor, std::string_view report_id, std::string_view reason,
                                      std::string_view comment);

 private:
  Store& store_;
  const Clock& clock_;
  const IntakeTriage* triage_;
};

}  // namespace hikeshi::core
