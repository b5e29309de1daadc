#include "hikeshi/core/incidents.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "hikeshi/core/priority.hpp"
#include "hikeshi/core/reporter_notices.hpp"
#include "hikeshi/core/sla_monitor.hpp"
#include "hikeshi/core/snapshot.hpp"

#include "detail/incident_mail.hpp"
#include "detail/resolve.hpp"
#include "detail/response_records.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxDescription = 256 * 1024;

Result<void> RequireHandler(const Principal& actor, std::string_view what) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not " + std::string(what)));
  }
  return {};
}

Result<ParsedCategory> ParseCategoryField(std::string_view text) {
  auto parsed = ParseCategory(text);
  if (!parsed) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(text) +
            "' is not an RSIT class/type (such as fraud/phishing) or one of the guide's categories",
        "/category"));
  }
  return *parsed;
}

Result<void> CheckLevel(int level, const std::string& field) {
  if (!IsValidLevel(level)) return Fail(Error::InvalidArgument("must be between 1 (highest) and 4 (lowest)", field));
  return {};
}

Result<Tlp> ParseTlpField(std::string_view text) {
  auto tlp = ParseTlp(text);
  if (!tlp) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(text) +
            "' is not a TLP 2.0 label (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED)",
        "/tlp"));
  }
  return *tlp;
}

// An owner must be a handler or admin who can see the incident (its constituency and label).
Result<std::int64_t> ResolveOwner(StoreReader& reader, const Principal& actor, const std::string& username,
                                  std::optional<std::int64_t> constituency_id, Tlp tlp) {
  HIKESHI_TRY(const auto user, reader.FindUser(username));
  if (!user) return Fail(Error{ErrorCode::kNotFound, "user '" + username + "' not found", "/owner"});
  if (!actor.scope.all) {
    // A scoped handler may only hand work to people who share the incident's constituency.
    const Principal owner = Principal::ForUser(*user);
    if (!owner.scope.Allows(constituency_id, tlp)) {
      return Fail(Error{ErrorCode::kNotFound, "user '" + username + "' not found", "/owner"});
    }
  }
  if (user->role != Role::kAdmin && user->role != Role::kHandler) {
    return Fail(Error::InvalidArgument(
        "'" + username + "' is a " + std::string(RoleName(user->role)) + " and cannot own incidents", "/owner"));
  }
  if (!Principal::ForUser(*user).scope.Allows(constituency_id, tlp)) {
    return Fail(Error::InvalidArgument("'" + username + "' cannot see this incident's constituency", "/owner"));
  }
  return user->id;
}

std::string ActionFor(IncidentStatus before, IncidentStatus after) {
  if (before == after) return "incident.update";
  switch (after) {
    case IncidentStatus::kResolved:
      return "incident.resolve";
    case IncidentStatus::kClosed:
      return "incident.close";
    case IncidentStatus::kRejected:
      return "incident.reject";
    case IncidentStatus::kMerged:
      return "incident.merge";
    case IncidentStatus::kOpen:
      return "incident.reopen";
  }
  return "incident.update";
}

Result<Incident> FindVisible(StoreReader& reader, const Principal& actor, std::string_view id) {
  HIKESHI_TRY(auto incident, reader.FindIncident(actor.scope, id));
  if (!incident) return Fail(Error::NotFound("incident '" + std::string(id) + "'"));
  return std::move(*incident);
}

// Keeps the entries of `entries` that `scope` may see:
// - one about a report or an incident above the scope's TLP ceiling (a TLP:RED report linked to a
//   TLP:AMBER incident) is dropped, as the live feed drops it;
// - one about a link to another incident (object id "I-A>I-B") is dropped unless `scope` may see
//   that other incident, as the incident's list of links leaves it out: the id of a TLP:RED
//   incident, or of another constituency's, is not shown to someone who may not open it.
Result<void> DropInvisible(StoreReader& reader, const Scope& scope, std::vector<AuditEntry>& entries) {
  std::map<std::pair<std::string, std::string>, bool, std::less<>> allowed;
  std::vector<AuditEntry> kept;
  kept.reserve(entries.size());
  for (auto& e : entries) {
    if (e.object_type == "incident" || e.object_type == "report" || e.object_type == "link") {
      auto it = allowed.find(std::pair(e.object_type, e.object_id));
      if (it == allowed.end()) {
        bool visible = false;
        if (e.object_type == "incident") {
          HIKESHI_TRY(const auto found, reader.FindIncident(Scope::All(), e.object_id));
          visible = found && scope.AllowsTlp(found->tlp);
        } else if (e.object_type == "report") {
          HIKESHI_TRY(const auto found, reader.FindReport(Scope::All(), e.object_id));
          visible = found && scope.AllowsTlp(found->tlp);
        } else {
          const auto arrow = e.object_id.find('>');
          if (arrow != std::string::npos) {
            HIKESHI_TRY(const auto other, reader.FindIncident(scope, std::string_view(e.object_id).substr(arrow + 1)));
            visible = other.has_value();
          }
        }
        it = allowed.emplace(std::pair(e.object_type, e.object_id), visible).first;
      }
      if (!it->second) continue;
    }
    kept.push_back(std::move(e));
  }
  entries = std::move(kept);
  return {};
}

}  // namespace

Result<std::vector<Observable>> NormalizeObservables(const std::vector<RawObservable>& raw) {
  std::vector<Observable> out;
  if (raw.size() > 10'000) return Fail(Error::TooLarge("at most 10000 observables at once", "/observables"));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string at = "/observables/" + std::to_string(i);
    const auto type = ParseObservableType(raw[i].type);
    if (!type) return Fail(Error::InvalidArgument("'" + raw[i].type + "' is not an observable type", at + "/type"));
    HIKESHI_TRY(auto o, AtField(NormalizeObservable(*type, raw[i].value), at + "/value"));
    if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(std::move(o));
  }
  return out;
}

Result<Incident> Incidents::Create(const Principal& actor, const IncidentDraft& draft) {
  Incident incident;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(incident, CreateIn(tx, actor, draft));
    return {};
  }));
  return incident;
}

// Both ways an incident is opened come here: Create, and triage at intake (TriageService), which
// opens it in the transaction that stores the report. Whatever an incident gets when it is opened
// (its playbook's tasks) belongs here, so that both get it.
Result<Incident> Incidents::CreateIn(WriteTx& tx, const Principal& actor, const IncidentDraft& draft) const {
  HIKESHI_CHECK(RequireHandler(actor, "open incidents"));
  HIKESHI_CHECK(detail::CheckText(draft.title, kMaxTitle, true, "/title"));
  HIKESHI_CHECK(detail::CheckText(draft.description, kMaxDescription, false, "/description"));
  HIKESHI_TRY(const auto category, ParseCategoryField(draft.category));
  HIKESHI_CHECK(CheckLevel(draft.impact, "/impact"));
  HIKESHI_CHECK(CheckLevel(draft.urgency, "/urgency"));
  Incident incident;
  incident.title = draft.title;
  incident.description = draft.description;
  incident.category = category.category;
  incident.apt = category.apt;
  incident.impact = draft.impact;
  incident.urgency = draft.urgency;
  incident.priority = PriorityOf(draft.impact, draft.urgency);
  if (draft.tlp) {
    HIKESHI_TRY(incident.tlp, ParseTlpField(*draft.tlp));
  }
  incident.exercise = draft.exercise;
  HIKESHI_TRY(incident.observables, NormalizeObservables(draft.observables));
  incident.created_at = incident.updated_at = clock_.Now();
  HIKESHI_TRY(incident.constituency_id, detail::ResolveConstituency(tx, actor, draft.constituency, "/constituency"));
  if (draft.owner) {
    HIKESHI_TRY(incident.owner_id, ResolveOwner(tx, actor, *draft.owner, incident.constituency_id, incident.tlp));
  }
  HIKESHI_TRY(incident, tx.CreateIncident({actor.username, incident.created_at}, incident));
  HIKESHI_CHECK(detail::ApplyPlaybook(tx, {actor.username, incident.created_at}, incident, draft.playbook));
  return incident;
}

Result<Incident> Incidents::Update(const Principal& actor, std::string_view id, const IncidentPatch& patch) {
  Incident after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(after, UpdateIn(tx, actor, id, patch));
    return {};
  }));
  return after;
}

// Both ways an incident is changed come here: Update, and a triage override (TriageService), which
// changes the incident in the transaction that changes the report. Whatever a change brings with it
// (a recategorised incident's playbook tasks) belongs here, so that both get it.
Result<Incident> Incidents::UpdateIn(WriteTx& tx, const Principal& actor, std::string_view id,
                                     const IncidentPatch& patch) const {
  HIKESHI_CHECK(RequireHandler(actor, "change incidents"));
  if (patch.title) HIKESHI_CHECK(detail::CheckText(*patch.title, kMaxTitle, true, "/title"));
  if (patch.description) HIKESHI_CHECK(detail::CheckText(*patch.description, kMaxDescription, false, "/description"));
  std::optional<ParsedCategory> category;
  if (patch.category) {
    HIKESHI_TRY(category, ParseCategoryField(*patch.category));
  }
  if (patch.impact) HIKESHI_CHECK(CheckLevel(*patch.impact, "/impact"));
  if (patch.urgency) HIKESHI_CHECK(CheckLevel(*patch.urgency, "/urgency"));
  std::optional<IncidentStatus> status;
  if (patch.status) {
    status = ParseStatus(*patch.status);
    if (!status) {
      return Fail(Error::InvalidArgument(
          "'" + *patch.status + "' is not a status (open, resolved, closed, rejected, merged)", "/status"));
    }
  }
  std::optional<Phase> phase;
  if (patch.phase) {
    phase = ParsePhase(*patch.phase);
    if (!phase) return Fail(Error::InvalidArgument("'" + *patch.phase + "' is not a response phase", "/phase"));
  }
  std::optional<Tlp> tlp;
  if (patch.tlp) {
    HIKESHI_TRY(tlp, ParseTlpField(*patch.tlp));
  }
  std::optional<std::vector<Observable>> observables;
  if (patch.observables) {
    HIKESHI_TRY(observables, NormalizeObservables(*patch.observables));
  }
  if (patch.merged_into && status != IncidentStatus::kMerged) {
    return Fail(Error::InvalidArgument("merged_into goes with status 'merged'", "/merged_into"));
  }
  if (status == IncidentStatus::kMerged && !patch.merged_into) {
    return Fail(Error::InvalidArgument("say which incident this one is merged into", "/merged_into"));
  }

  const auto now = clock_.Now();
  Incident after;
  {
    HIKESHI_TRY(const Incident before, FindVisible(tx, actor, id));
    after = before;
    if (patch.title) after.title = *patch.title;
    if (patch.description) after.description = *patch.description;
    if (category) {
      after.category = category->category;
      after.apt = category->apt || (after.apt && category->category == before.category);
    }
    if (patch.impact) after.impact = *patch.impact;
    if (patch.urgency) after.urgency = *patch.urgency;
    after.priority = PriorityOf(after.impact, after.urgency);
    if (tlp) after.tlp = *tlp;
    if (patch.exercise) after.exercise = *patch.exercise;
    if (observables) after.observables = *observables;
    if (patch.owner) {
      if (*patch.owner) {
        HIKESHI_TRY(after.owner_id, ResolveOwner(tx, actor, **patch.owner, after.constituency_id, after.tlp));
      } else {
        after.owner_id.reset();
      }
    }
    if (status && *status != before.status) {
      HIKESHI_CHECK(CheckStatusTransition(before.status, *status));
      after.status = *status;
      switch (*status) {
        case IncidentStatus::kResolved:
          after.resolved_at = now;
          break;
        case IncidentStatus::kClosed:
          after.closed_at = now;
          break;
        case IncidentStatus::kOpen:
          after.resolved_at.reset();
          after.closed_at.reset();
          break;
        case IncidentStatus::kMerged: {
          if (*patch.merged_into == before.human_id) {
            return Fail(Error::InvalidArgument("an incident cannot be merged into itself", "/merged_into"));
          }
          HIKESHI_TRY(const auto target, tx.FindIncident(actor.scope, *patch.merged_into));
          if (!target) {
            return Fail(Error{ErrorCode::kNotFound, "incident '" + *patch.merged_into + "' not found", "/merged_into"});
          }
          if (target->status != IncidentStatus::kOpen) {
            return Fail(
                Error::FailedPrecondition("incidents can be merged only into an open incident", "/merged_into"));
          }
          after.merged_into = target->id;
          // Its reports, observables, tasks and countermeasures go to the target, and the two are linked.
          HIKESHI_CHECK(detail::MoveIntoMerged(tx, {actor.username, now}, after, *target));
          break;
        }
        case IncidentStatus::kRejected:
          break;
      }
    }
    if (phase && *phase != before.phase) {
      HIKESHI_CHECK(CheckPhaseTransition(after.status, before.phase, *phase));
      after.phase = *phase;
    }
    after.updated_at = before.updated_at;
    if (Snapshot(after) == Snapshot(before)) return after;  // nothing changed: no write, no journal entry
    after.updated_at = now;
    HIKESHI_CHECK(tx.UpdateIncident({actor.username, now}, ActionFor(before.status, after.status), before, after));
    const bool recategorised = after.category != before.category || after.apt != before.apt;
    if (recategorised && after.status == IncidentStatus::kOpen) {
      HIKESHI_CHECK(detail::ApplyPlaybook(tx, {actor.username, now}, after, std::nullopt));
    }
    if (notices_ != nullptr) {
      HIKESHI_CHECK(notices_->AfterIncidentChange(tx, {actor.username, now}, before, after));
    }
  }
  return after;
}

Result<Incident> Incidents::Merge(const Principal& actor, std::string_view id, std::string_view into) {
  IncidentPatch patch;
  patch.status = std::string(StatusName(IncidentStatus::kMerged));
  patch.merged_into = std::string(into);
  Incident merged;
  auto written = store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto source, FindVisible(tx, actor, id));
    if (source.status != IncidentStatus::kOpen) {
      return Fail(Error::FailedPrecondition(
          "only an open incident can be merged; " + source.human_id + " is " + std::string(StatusName(source.status)),
          "/status"));
    }
    HIKESHI_TRY(merged, UpdateIn(tx, actor, id, patch));
    return {};
  });
  if (!written) {
    const Error& e = written.error();
    if (e.field() == "/merged_into") return Fail(Error(e.code(), e.message(), "/into"));
    return Fail(e);
  }
  return merged;
}

Result<Incident> Incidents::Split(const Principal& actor, std::string_view id, const std::vector<std::string>& reports,
                                  std::string_view title) {
  HIKESHI_CHECK(RequireHandler(actor, "split incidents"));
  HIKESHI_CHECK(detail::CheckText(title, kMaxTitle, true, "/title"));
  if (reports.empty()) return Fail(Error::InvalidArgument("name the reports that go to the new incident", "/reports"));
  if (reports.size() > 500) return Fail(Error::TooLarge("at most 500 reports at once", "/reports"));
  const auto now = clock_.Now();
  const AuditContext ctx{actor.username, now};
  Incident created;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto source, FindVisible(tx, actor, id));
    if (source.status != IncidentStatus::kOpen) {
      return Fail(Error::FailedPrecondition(
          "only an open incident can be split; " + source.human_id + " is " + std::string(StatusName(source.status)),
          "/status"));
    }
    std::vector<Report> moving;
    for (std::size_t i = 0; i < reports.size(); ++i) {
      const std::string at = "/reports/" + std::to_string(i);
      HIKESHI_TRY(const auto report, tx.FindReport(actor.scope, reports[i]));
      if (!report) return Fail(Error{ErrorCode::kNotFound, "report '" + reports[i] + "' not found", at});
      if (report->incident_id != source.id) {
        return Fail(Error::InvalidArgument(report->human_id + " is not a report of " + source.human_id, at));
      }
      const bool twice = std::any_of(moving.begin(), moving.end(), [&](const Report& r) { return r.id == report->id; });
      if (!twice) moving.push_back(*report);
    }
    Incident split;
    split.title = std::string(title);
    split.category = source.category;
    split.apt = source.apt;
    split.constituency_id = source.constituency_id;
    split.impact = source.impact;
    split.urgency = source.urgency;
    split.priority = source.priority;
    split.tlp = source.tlp;
    split.owner_id = source.owner_id;
    split.exercise = source.exercise;
    for (const auto& report : moving) {
      for (const auto& o : report.observables) {
        if (std::find(split.observables.begin(), split.observables.end(), o) == split.observables.end()) {
          split.observables.push_back(o);
        }
      }
    }
    split.created_at = split.updated_at = now;
    HIKESHI_TRY(created, tx.CreateIncident(ctx, split));
    HIKESHI_CHECK(detail::ApplyPlaybook(tx, ctx, created, std::nullopt));
    for (const auto& before : moving) {
      Report after = before;
      after.incident_id = created.id;
      after.updated_at = now;
      HIKESHI_CHECK(tx.UpdateReport(ctx, "report.move", before, after, created.human_id));
    }
    return detail::LinkIncidents(tx, ctx, created, source, LinkRelation::kSplitFrom, /*replace=*/false);
  }));
  return created;
}

Result<Incident> Incidents::Get(const Principal& actor, std::string_view id) {
  Incident incident;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(incident, FindVisible(r, actor, id));
    return {};
  }));
  return incident;
}

Result<Page<Incident>> Incidents::List(const Principal& actor, const IncidentListRequest& request) {
  IncidentQuery query;
  if (request.status) {
    query.status = ParseStatus(*request.status);
    if (!query.status) return Fail(Error::InvalidArgument("'" + *request.status + "' is not a status", "/status"));
  }
  if (request.category) {
    const auto& text = *request.category;
    const auto& classes = RsitClasses();
    const bool is_class =
        std::any_of(classes.begin(), classes.end(), [&](const RsitClass& c) { return c.name == text; });
    if (is_class) {
      query.rsit_class = text;
    } else {
      HIKESHI_TRY(const auto parsed, ParseCategoryField(text));
      query.rsit_class = parsed.category.rsit_class;
      query.rsit_type = parsed.category.rsit_type;
    }
  }
  if (request.priority) {
    if (!IsValidLevel(*request.priority)) return Fail(Error::InvalidArgument("must be 1, 2, 3 or 4", "/priority"));
    query.priority = request.priority;
  }
  if (request.limit < 1 || request.limit > 500) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  query.limit = request.limit;
  query.before_id = request.before_id;
  HIKESHI_CHECK(detail::CheckText(request.text, 1000, false, "/q"));
  query.text = request.text;
  if (request.sla) {
    if (*request.sla != "breached") return Fail(Error::InvalidArgument("must be 'breached'", "/sla"));
    query.with_record = std::string(kSlaBreachKind);
  }
  Page<Incident> page;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    if (request.constituency) {
      HIKESHI_TRY(query.constituency_id, detail::ResolveConstituency(r, actor, request.constituency, "/constituency"));
    }
    if (request.owner) {
      HIKESHI_TRY(const auto owner, r.FindUser(*request.owner));
      if (!owner) return Fail(Error{ErrorCode::kNotFound, "user '" + *request.owner + "' not found", "/owner"});
      query.owner_id = owner->id;
    }
    HIKESHI_TRY(page, r.ListIncidents(actor.scope, query));
    return {};
  }));
  return page;
}

Result<std::map<std::int64_t, std::vector<std::string>>> Incidents::SlaBreachesOf(std::span<const Incident> incidents) {
  std::map<std::int64_t, std::vector<std::string>> out;
  if (incidents.empty()) return out;
  std::vector<std::int64_t> ids;
  ids.reserve(incidents.size());
  for (const auto& i : incidents) ids.push_back(i.id);
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto records, r.ListRecordsForIncidents(ids, kSlaBreachKind));
    for (const auto& record : records) {
      if (!record.incident_id) continue;
      // The key is "<incident>/<clock>"; the incident part is its human id at the time of the breach.
      const auto slash = record.key.rfind('/');
      if (slash == std::string::npos) continue;
      out[*record.incident_id].push_back(record.key.substr(slash + 1));
    }
    return {};
  }));
  return out;
}

namespace detail {

Result<std::vector<MailMessage>> IncidentMail(StoreReader& reader, const Scope& scope, const Incident& incident) {
  HIKESHI_TRY(auto mail, reader.ListMailForIncident(incident.id));
  ReportQuery query;
  query.incident_id = incident.id;
  query.limit = 500;
  while (true) {
    HIKESHI_TRY(const auto page, reader.ListReports(scope, query));
    for (const auto& report : page.items) {
      HIKESHI_TRY(auto of_report, reader.ListMailForReport(report.id));
      for (auto& m : of_report) {
        const bool listed = std::any_of(mail.begin(), mail.end(), [&](const MailMessage& x) { return x.id == m.id; });
        if (!listed) mail.push_back(std::move(m));
      }
    }
    if (!page.next_before_id) break;
    query.before_id = page.next_before_id;
  }
  std::sort(mail.begin(), mail.end(), [](const MailMessage& a, const MailMessage& b) { return a.id < b.id; });
  return mail;
}

}  // namespace detail

Result<std::vector<MailMessage>> Incidents::Mail(const Principal& actor, std::string_view id) {
  std::vector<MailMessage> mail;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, id));
    HIKESHI_TRY(mail, detail::IncidentMail(r, actor.scope, incident));
    return {};
  }));
  return mail;
}

Result<std::vector<AuditEntry>> Incidents::Timeline(const Principal& actor, std::string_view id) {
  std::vector<AuditEntry> entries;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, id));
    // Its own entries, then those of every incident merged into it (and into those), which the
    // principal may see.
    std::vector<Incident> pending{incident};
    std::set<std::string> seen{incident.human_id};
    while (!pending.empty()) {
      const Incident next = std::move(pending.back());
      pending.pop_back();
      HIKESHI_TRY(const auto own, r.ListAuditForIncident(next.human_id));
      entries.insert(entries.end(), own.begin(), own.end());
      HIKESHI_TRY(const auto sources, detail::MergedFrom(r, next.id));
      for (const auto& source : sources) {
        if (!seen.insert(source).second) continue;
        HIKESHI_TRY(auto visible, r.FindIncident(actor.scope, source));
        if (visible) pending.push_back(std::move(*visible));
      }
    }
    if (!actor.scope.all || actor.scope.max_tlp) {
      HIKESHI_CHECK(DropInvisible(r, actor.scope, entries));
    }
    std::sort(entries.begin(), entries.end(), [](const AuditEntry& a, const AuditEntry& b) { return a.seq < b.seq; });
    return {};
  }));
  return entries;
}

}  // namespace hikeshi::core
