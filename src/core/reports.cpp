#include "hikeshi/core/reports.hpp"

#include <fmt/format.h>

#include "hikeshi/core/human_id.hpp"
#include "hikeshi/core/tlp.hpp"
#include "hikeshi/core/triage_service.hpp"

#include "detail/resolve.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
constexpr std::size_t kMaxSubject = 1000;
constexpr std::size_t kMaxBody = 8 * 1024 * 1024;

Result<Report> FindVisible(StoreReader& reader, const Principal& actor, std::string_view id) {
  HIKESHI_TRY(auto report, reader.FindReport(actor.scope, id));
  if (!report) return Fail(Error::NotFound("report '" + std::string(id) + "'"));
  return std::move(*report);
}

Result<void> RequireTriager(const Principal& actor) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not triage reports"));
  }
  return {};
}

Result<void> RequireNew(const Report& report) {
  if (report.status == ReportStatus::kNew) return {};
  return Fail(Error::FailedPrecondition(
      "report " + report.human_id + " is already " + std::string(ReportStatusName(report.status)), "/status"));
}
}  // namespace

Result<Report> Reports::Create(const Principal& actor, const ReportDraft& draft) {
  if (actor.role == Role::kViewer) return Fail(Error::PermissionDenied("a viewer may not file reports"));
  HIKESHI_CHECK(detail::CheckText(draft.subject, kMaxSubject, true, "/subject"));
  HIKESHI_CHECK(detail::CheckText(draft.body, kMaxBody, false, "/body"));
  HIKESHI_CHECK(detail::CheckText(draft.reporter, 500, false, "/reporter"));
  Report report;
  const auto channel = ParseChannel(draft.channel);
  if (!channel) return Fail(Error::InvalidArgument("'" + draft.channel + "' is not an intake channel", "/channel"));
  report.channel = *channel;
  report.reporter = draft.reporter.empty() ? actor.username : draft.reporter;
  report.subject = draft.subject;
  report.body = draft.body;
  if (draft.category) {
    const auto parsed = ParseCategory(*draft.category);
    if (!parsed) return Fail(Error::InvalidArgument("'" + *draft.category + "' is not a category", "/category"));
    report.category = parsed->category;
  }
  if (draft.tlp) {
    const auto tlp = ParseTlp(*draft.tlp);
    if (!tlp) return Fail(Error::InvalidArgument("'" + *draft.tlp + "' is not a TLP 2.0 label", "/tlp"));
    report.tlp = *tlp;
  }
  // A label above what the filer may read (a constituent's TLP:RED) would hide the report from
  // them the moment it is filed; they are told so instead, and nothing is stored.
  if (!actor.scope.AllowsTlp(report.tlp)) {
    return Fail(Error::InvalidArgument(
        fmt::format("you may label a report at most {}: a report labelled {} is read by the team's handlers only, "
                    "and you could not open it again; {} keeps it within the team",
                    TlpName(*actor.scope.max_tlp), TlpName(report.tlp), TlpName(*actor.scope.max_tlp)),
        "/tlp"));
  }
  HIKESHI_TRY(report.observables, NormalizeObservables(draft.observables));
  report.received_at = report.updated_at = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(report.constituency_id, detail::ResolveConstituency(tx, actor, draft.constituency, "/constituency"));
    HIKESHI_TRY(report, tx.CreateReport({actor.username, report.received_at}, report));
    if (triage_ != nullptr) {
      HIKESHI_TRY(auto triaged, triage_->TriageNewReport(tx, report, {}));
      report = std::move(triaged.report);
    }
    return {};
  }));
  return report;
}

Result<std::vector<MailMessage>> Reports::Mail(const Principal& actor, std::string_view report_id) {
  std::vector<MailMessage> mail;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto report, FindVisible(r, actor, report_id));
    HIKESHI_TRY(mail, r.ListMailForReport(report.id));
    return {};
  }));
  return mail;
}

Result<Report> Reports::Get(const Principal& actor, std::string_view id) {
  Report report;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(report, FindVisible(r, actor, id));
    return {};
  }));
  return report;
}

Result<Page<Report>> Reports::List(const Principal& actor, const ReportListRequest& request) {
  ReportQuery query;
  if (request.status) {
    query.status = ParseReportStatus(*request.status);
    if (!query.status) {
      return Fail(Error::InvalidArgument("'" + *request.status + "' is not a report status (new, linked, rejected)",
                                         "/status"));
    }
  }
  if (request.flag) {
    HIKESHI_CHECK(detail::CheckName(*request.flag, "flag", "/flag"));
    query.flag = request.flag;
  }
  if (request.limit < 1 || request.limit > 500) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  query.limit = request.limit;
  query.before_id = request.before_id;
  HIKESHI_CHECK(detail::CheckText(request.text, 1000, false, "/q"));
  query.text = request.text;
  Page<Report> page;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    if (request.constituency) {
      HIKESHI_TRY(query.constituency_id, detail::ResolveConstituency(r, actor, request.constituency, "/constituency"));
    }
    if (request.incident) {
      HIKESHI_TRY(const auto incident, r.FindIncident(actor.scope, *request.incident));
      if (!incident) {
        return Fail(Error{ErrorCode::kNotFound, "incident '" + *request.incident + "' not found", "/incident"});
      }
      query.incident_id = incident->id;
    }
    HIKESHI_TRY(page, r.ListReports(actor.scope, query));
    return {};
  }));
  return page;
}

Result<std::vector<Correlation>> Reports::Correlations(const Principal& actor, const Report& report) {
  std::vector<Correlation> visible;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto all, r.ListCorrelations(report.id));
    for (const auto& c : all) {
      HIKESHI_TRY(const auto incident, r.FindIncidentById(actor.scope, c.incident_id));
      if (incident) visible.push_back(c);
    }
    return {};
  }));
  return visible;
}

Result<Report> Reports::Link(const Principal& actor, std::string_view report_id, std::string_view incident_id) {
  HIKESHI_CHECK(RequireTriager(actor));
  const auto now = clock_.Now();
  Report after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const Report before, FindVisible(tx, actor, report_id));
    HIKESHI_TRY(const auto incident, tx.FindIncident(actor.scope, incident_id));
    if (!incident) {
      return Fail(Error{ErrorCode::kNotFound, "incident '" + std::string(incident_id) + "' not found", "/incident"});
    }
    HIKESHI_CHECK(RequireNew(before));
    if (incident->status == IncidentStatus::kMerged) {
      return Fail(Error::FailedPrecondition(incident->human_id + " was merged; link to the incident it was merged into",
                                            "/incident"));
    }
    after = before;
    after.status = ReportStatus::kLinked;
    after.incident_id = incident->id;
    after.updated_at = now;
    return tx.UpdateReport({actor.username, now}, "report.link", before, after, incident->human_id);
  }));
  return after;
}

Result<Report> Reports::Reject(const Principal& actor, std::string_view report_id, std::string_view reason,
                               std::string_view comment) {
  HIKESHI_CHECK(RequireTriager(actor));
  const auto parsed = ParseRejectReason(reason);
  if (!parsed) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(reason) + "' is not a reason (not-incident, out-of-scope, spam, duplicate)", "/reason"));
  }
  HIKESHI_CHECK(detail::CheckText(comment, 4000, false, "/comment"));
  const auto now = clock_.Now();
  Report after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const Report before, FindVisible(tx, actor, report_id));
    HIKESHI_CHECK(RequireNew(before));
    after = before;
    after.status = ReportStatus::kRejected;
    after.reject_reason = *parsed;
    after.reject_comment = comment;
    after.updated_at = now;
    return tx.UpdateReport({actor.username, now}, "report.reject", before, after, "");
  }));
  return after;
}

}  // namespace hikeshi::core
