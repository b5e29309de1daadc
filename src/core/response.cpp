#include "hikeshi/core/response.hpp"

#include <algorithm>
#include <array>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/core/observable.hpp"

#include "detail/response_records.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
using common::FormatRfc3339;
using common::ParseRfc3339;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::array<std::string_view, 6> kKindNames = {"block-ip", "block-domain",    "sinkhole",
                                                        "takedown", "account-disable", "other"};
constexpr std::array<std::string_view, 4> kStateNames = {"pending", "active", "pending-removal", "removed"};
constexpr std::array<std::string_view, 2> kDecisionNames = {"eradicate-now", "scope-first"};
constexpr std::array<std::string_view, 7> kRelationNames = {"related",    "parent",      "child",      "split-from",
                                                            "split-into", "merged-into", "merged-from"};

constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxLongText = 64 * 1024;
constexpr std::size_t kMaxPlan = 256 * 1024;

template <std::size_t N>
std::optional<std::size_t> IndexOf(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return i;
  }
  return std::nullopt;
}

// --- record bodies ---

std::string Str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> OptStr(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<Timestamp> Time(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return ParseRfc3339(it->get<std::string>());
}

ordered_json OptionalJson(const std::optional<std::string>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json OptionalJson(const std::optional<Timestamp>& v) {
  return v ? ordered_json(FormatRfc3339(*v)) : ordered_json(nullptr);
}

Result<json> Body(const Record& record) {
  json j = json::parse(record.body, nullptr, false);
  if (!j.is_object()) return Fail(Error::Internal(record.kind + " " + record.key + " is not a JSON object"));
  return j;
}

std::string EncodeTask(const Task& t) {
  ordered_json j;
  j["title"] = t.title;
  j["title_en"] = t.title_en;
  j["role"] = t.role;
  j["assignee"] = OptionalJson(t.assignee);
  j["due"] = OptionalJson(t.due);
  j["done_at"] = OptionalJson(t.done_at);
  j["done_by"] = t.done_by;
  j["playbook"] = t.playbook;
  j["created_by"] = t.created_by;
  return j.dump();
}

Result<Task> DecodeTask(const Record& record, const std::string& incident) {
  HIKESHI_TRY(const json j, Body(record));
  Task t;
  t.id = record.key;
  t.incident = incident;
  t.title = Str(j, "title");
  t.title_en = Str(j, "title_en");
  t.role = Str(j, "role");
  t.assignee = OptStr(j, "assignee");
  t.due = Time(j, "due");
  t.done = record.state == "done";
  t.done_at = Time(j, "done_at");
  t.done_by = Str(j, "done_by");
  t.playbook = Str(j, "playbook");
  t.created_by = Str(j, "created_by");
  t.created_at = record.created_at;
  t.updated_at = record.updated_at;
  return t;
}

std::string EncodeCountermeasure(const Countermeasure& c) {
  ordered_json history = ordered_json::array();
  for (const auto& h : c.history) {
    history.push_back(
        {{"state", CountermeasureStateName(h.state)}, {"by", h.by}, {"note", h.note}, {"at", FormatRfc3339(h.at)}});
  }
  ordered_json j;
  j["kind"] = CountermeasureKindName(c.kind);
  j["target"] = c.target;
  j["where"] = c.where;
  j["note"] = c.note;
  j["history"] = history;
  j["created_by"] = c.created_by;
  return j.dump();
}

Result<Countermeasure> DecodeCountermeasure(const Record& record, const std::string& incident) {
  HIKESHI_TRY(const json j, Body(record));
  Countermeasure c;
  c.id = record.key;
  c.incident = incident;
  c.kind = ParseCountermeasureKind(Str(j, "kind")).value_or(CountermeasureKind::kOther);
  c.target = Str(j, "target");
  c.where = Str(j, "where");
  c.note = Str(j, "note");
  const auto state = ParseCountermeasureState(record.state);
  if (!state) return Fail(Error::Internal("countermeasure " + record.key + " is in unknown state " + record.state));
  c.state = *state;
  if (const auto it = j.find("history"); it != j.end() && it->is_array()) {
    for (const auto& h : *it) {
      CountermeasureChange change;
      change.state = ParseCountermeasureState(Str(h, "state")).value_or(CountermeasureState::kPending);
      change.by = Str(h, "by");
      change.note = Str(h, "note");
      change.at = Time(h, "at").value_or(Timestamp{});
      c.history.push_back(std::move(change));
    }
  }
  c.created_by = Str(j, "created_by");
  c.created_at = record.created_at;
  c.updated_at = record.updated_at;
  return c;
}

std::string EncodePlan(const ResponsePlan& plan) {
  ordered_json revisions = ordered_json::array();
  for (const auto& r : plan.revisions) {
    revisions.push_back({{"text", r.text}, {"author", r.author}, {"at", FormatRfc3339(r.at)}});
  }
  ordered_json decisions = ordered_json::array();
  for (const auto& d : plan.decisions) {
    decisions.push_back({{"decision", AptDecisionName(d.decision)},
                         {"rationale", d.rationale},
                         {"decider", d.decider},
                         {"at", FormatRfc3339(d.at)}});
  }
  return ordered_json{{"revisions", revisions}, {"decisions", decisions}}.dump();
}

Result<ResponsePlan> DecodePlan(const Record& record, const std::string& incident) {
  HIKESHI_TRY(const json j, Body(record));
  ResponsePlan plan;
  plan.incident = incident;
  if (const auto it = j.find("revisions"); it != j.end() && it->is_array()) {
    for (const auto& r : *it)
      plan.revisions.push_back({Str(r, "text"), Str(r, "author"), Time(r, "at").value_or(Timestamp{})});
  }
  if (const auto it = j.find("decisions"); it != j.end() && it->is_array()) {
    for (const auto& d : *it) {
      const auto decision = ParseAptDecision(Str(d, "decision"));
      if (!decision) return Fail(Error::Internal("the plan of " + incident + " holds an unknown APT decision"));
      plan.decisions.push_back(
          {*decision, Str(d, "rationale"), Str(d, "decider"), Time(d, "at").value_or(Timestamp{})});
    }
  }
  return plan;
}

std::string PlanState(const ResponsePlan& plan) {
  return plan.decisions.empty() ? "plan" : std::string(AptDecisionName(plan.decisions.back().decision));
}

std::string EncodeReview(const PostIncidentReview& r) {
  ordered_json j;
  j["root_cause"] = r.root_cause;
  j["actions_taken"] = r.actions_taken;
  j["lessons_learned"] = r.lessons_learned;
  j["playbook_revision"] = r.playbook_revision;
  j["author"] = r.author;
  return j.dump();
}

Result<PostIncidentReview> DecodeReview(const Record& record, const std::string& incident) {
  HIKESHI_TRY(const json j, Body(record));
  PostIncidentReview r;
  r.incident = incident;
  r.root_cause = Str(j, "root_cause");
  r.actions_taken = Str(j, "actions_taken");
  r.lessons_learned = Str(j, "lessons_learned");
  r.playbook_revision = Str(j, "playbook_revision");
  r.author = Str(j, "author");
  r.updated_at = record.updated_at;
  return r;
}

std::string LinkKey(std::string_view a, std::string_view b) { return std::string(a) + ">" + std::string(b); }

Result<IncidentLink> DecodeLink(const Record& record) {
  HIKESHI_TRY(const json j, Body(record));
  IncidentLink link;
  link.incident = Str(j, "incident");
  link.other = Str(j, "other");
  const auto relation = ParseLinkRelation(record.state);
  if (!relation) return Fail(Error::Internal("link " + record.key + " has unknown relation " + record.state));
  link.relation = *relation;
  link.created_by = Str(j, "created_by");
  link.created_at = record.created_at;
  return link;
}

// --- checks shared by the use cases ---

Result<void> RequireWriter(const Principal& actor, std::string_view what) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not " + std::string(what)));
  }
  return {};
}

Result<Incident> FindVisible(StoreReader& reader, const Principal& actor, std::string_view id) {
  HIKESHI_TRY(auto incident, reader.FindIncident(actor.scope, id));
  if (!incident) return Fail(Error::NotFound("incident '" + std::string(id) + "'"));
  return std::move(*incident);
}

// The work of a merged incident continues on the one it was merged into.
Result<Incident> FindWritable(StoreReader& reader, const Principal& actor, std::string_view id) {
  HIKESHI_TRY(auto incident, FindVisible(reader, actor, id));
  if (incident.status == IncidentStatus::kMerged) {
    return Fail(
        Error::FailedPrecondition(incident.human_id + " was merged into another incident; its work continues there"));
  }
  return incident;
}

// A record of `kind` that belongs to `incident`; one of another incident is not found.
Result<Record> FindOwnRecord(StoreReader& reader, std::string_view kind, std::string_view key, const Incident& incident,
                             std::string_view what) {
  HIKESHI_TRY(auto record, reader.FindRecord(kind, key));
  if (!record || record->incident_id != incident.id) {
    return Fail(Error::NotFound(std::string(what) + " '" + std::string(key) + "' of " + incident.human_id));
  }
  return std::move(*record);
}

// Someone a task can be given to: a handler or admin who can see the incident (its constituency
// and label). A scoped actor learns nothing about users outside the incident's constituency.
Result<std::string> ResolveAssignee(StoreReader& reader, const Principal& actor, const std::string& username,
                                    const Incident& incident) {
  HIKESHI_TRY(const auto user, reader.FindUser(username));
  const bool sees = user && Principal::ForUser(*user).scope.Allows(incident.constituency_id, incident.tlp);
  if (!user || (!actor.scope.all && !sees)) {
    return Fail(Error{ErrorCode::kNotFound, "user '" + username + "' not found", "/assignee"});
  }
  if (user->role != Role::kAdmin && user->role != Role::kHandler) {
    return Fail(Error::InvalidArgument(
        "'" + username + "' is a " + std::string(RoleName(user->role)) + " and cannot be given tasks", "/assignee"));
  }
  if (!sees) {
    return Fail(Error::InvalidArgument("'" + username + "' cannot see this incident's constituency", "/assignee"));
  }
  return user->username;
}

// A new key for a record: "<prefix>-<year>-NNNNNN" from the counter "<counter>-<year>".
Result<std::string> NextKey(WriteTx& tx, char prefix, std::string_view counter, Timestamp at) {
  const int year = common::YearOf(at);
  HIKESHI_TRY(const auto number, tx.NextNumber(fmt::format("{}-{}", counter, year)));
  return fmt::format("{}-{}-{:06}", prefix, year, number);
}

Result<std::string> NormalizeTarget(CountermeasureKind kind, std::string_view target) {
  HIKESHI_CHECK(detail::CheckText(target, 1000, true, "/target"));
  switch (kind) {
    case CountermeasureKind::kBlockIp: {
      for (const auto type : {ObservableType::kIpv4, ObservableType::kIpv6}) {
        if (auto ip = NormalizeObservable(type, target)) return std::move(ip->value);
      }
      if (auto cidr = NormalizeCidr(target)) return std::move(*cidr);
      return Fail(Error::InvalidArgument("block-ip needs an IP address or a CIDR prefix", "/target"));
    }
    case CountermeasureKind::kBlockDomain:
      return AtField(NormalizeDomain(target), "/target");
    default:
      return std::string(target);
  }
}

std::string_view TransitionAction(CountermeasureState to) {
  switch (to) {
    case CountermeasureState::kActive:
      return "countermeasure.activate";
    case CountermeasureState::kPendingRemoval:
      return "countermeasure.request-removal";
    case CountermeasureState::kRemoved:
      return "countermeasure.remove";
    case CountermeasureState::kPending:
      break;
  }
  return "countermeasure.update";
}
}  // namespace

// --- pure functions ---

std::string_view CountermeasureKindName(CountermeasureKind kind) { return kKindNames[static_cast<int>(kind)]; }
std::optional<CountermeasureKind> ParseCountermeasureKind(std::string_view text) {
  const auto i = IndexOf(kKindNames, text);
  return i ? std::optional(static_cast<CountermeasureKind>(*i)) : std::nullopt;
}

std::string_view CountermeasureStateName(CountermeasureState state) { return kStateNames[static_cast<int>(state)]; }
std::optional<CountermeasureState> ParseCountermeasureState(std::string_view text) {
  const auto i = IndexOf(kStateNames, text);
  return i ? std::optional(static_cast<CountermeasureState>(*i)) : std::nullopt;
}

Result<void> CheckCountermeasureTransition(CountermeasureState from, CountermeasureState to) {
  using S = CountermeasureState;
  bool ok = false;
  switch (from) {
    case S::kPending:
      ok = to == S::kActive || to == S::kRemoved;
      break;
    case S::kActive:
      ok = to == S::kPendingRemoval;
      break;
    case S::kPendingRemoval:
      ok = to == S::kRemoved;
      break;
    case S::kRemoved:
      break;
  }
  if (ok) return {};
  return Fail(Error::FailedPrecondition("a countermeasure cannot go from '" +
                                            std::string(CountermeasureStateName(from)) + "' to '" +
                                            std::string(CountermeasureStateName(to)) + "'",
                                        "/state"));
}

std::string_view AptDecisionName(AptDecision decision) { return kDecisionNames[static_cast<int>(decision)]; }
std::optional<AptDecision> ParseAptDecision(std::string_view text) {
  const auto i = IndexOf(kDecisionNames, text);
  return i ? std::optional(static_cast<AptDecision>(*i)) : std::nullopt;
}

Result<AptDecision> CheckAptDecision(const Incident& incident, std::string_view decision, std::string_view rationale) {
  const auto parsed = ParseAptDecision(decision);
  if (!parsed) {
    return Fail(Error::InvalidArgument("'" + std::string(decision) + "' is not a decision (eradicate-now, scope-first)",
                                       "/decision"));
  }
  HIKESHI_CHECK(detail::CheckText(rationale, kMaxLongText, true, "/rationale"));
  if (!incident.apt) {
    return Fail(Error::FailedPrecondition(
        incident.human_id + " is not an APT incident; the decision to eradicate at once or scope first is for APTs",
        "/decision"));
  }
  return *parsed;
}

std::string_view LinkRelationName(LinkRelation relation) { return kRelationNames[static_cast<int>(relation)]; }
std::optional<LinkRelation> ParseLinkRelation(std::string_view text) {
  const auto i = IndexOf(kRelationNames, text);
  return i ? std::optional(static_cast<LinkRelation>(*i)) : std::nullopt;
}

LinkRelation InverseOf(LinkRelation relation) {
  switch (relation) {
    case LinkRelation::kRelated:
      return LinkRelation::kRelated;
    case LinkRelation::kParent:
      return LinkRelation::kChild;
    case LinkRelation::kChild:
      return LinkRelation::kParent;
    case LinkRelation::kSplitFrom:
      return LinkRelation::kSplitInto;
    case LinkRelation::kSplitInto:
      return LinkRelation::kSplitFrom;
    case LinkRelation::kMergedInto:
      return LinkRelation::kMergedFrom;
    case LinkRelation::kMergedFrom:
      return LinkRelation::kMergedInto;
  }
  return LinkRelation::kRelated;
}

// --- writes made inside other use cases' transactions ---

namespace detail {

Result<Task> CreateTask(WriteTx& tx, const AuditContext& ctx, const Incident& incident, Task task) {
  HIKESHI_TRY(task.id, NextKey(tx, 'T', "task", ctx.at));
  task.incident = incident.human_id;
  task.created_at = task.updated_at = ctx.at;
  Record record;
  record.kind = "task";
  record.key = task.id;
  record.incident_id = incident.id;
  record.state = task.done ? "done" : "open";
  record.body = EncodeTask(task);
  record.created_at = record.updated_at = ctx.at;
  HIKESHI_CHECK(detail::Discard(tx.CreateRecord(ctx, record, incident.human_id)));
  return task;
}

Result<void> LinkIncidents(WriteTx& tx, const AuditContext& ctx, const Incident& a, const Incident& b,
                           LinkRelation a_to_b, bool replace) {
  const auto side = [&](const Incident& self, const Incident& other, LinkRelation relation) -> Result<void> {
    const std::string key = LinkKey(self.human_id, other.human_id);
    HIKESHI_TRY(const auto existing, tx.FindRecord("link", key));
    if (existing && !replace) {
      return Fail(
          Error::Conflict(self.human_id + " and " + other.human_id + " are already linked (" + existing->state + ")"));
    }
    ordered_json body{{"incident", self.human_id}, {"other", other.human_id}, {"created_by", ctx.actor}};
    if (existing) {
      if (existing->state == LinkRelationName(relation)) return {};
      Record after = *existing;
      after.state = LinkRelationName(relation);
      after.updated_at = ctx.at;
      return tx.UpdateRecord(ctx, "link.update", *existing, after, self.human_id);
    }
    Record record;
    record.kind = "link";
    record.key = key;
    record.incident_id = self.id;
    record.state = LinkRelationName(relation);
    record.body = body.dump();
    record.created_at = record.updated_at = ctx.at;
    return detail::Discard(tx.CreateRecord(ctx, record, self.human_id));
  };
  HIKESHI_CHECK(side(a, b, a_to_b));
  return side(b, a, InverseOf(a_to_b));
}

Result<void> MoveIntoMerged(WriteTx& tx, const AuditContext& ctx, const Incident& from, const Incident& into) {
  // Every report of `from`, whoever may see it: they are part of the incident, which moves whole.
  std::vector<Report> reports;
  ReportQuery query;
  query.incident_id = from.id;
  query.limit = 500;
  while (true) {
    HIKESHI_TRY(const auto page, tx.ListReports(Scope::All(), query));
    reports.insert(reports.end(), page.items.begin(), page.items.end());
    if (!page.next_before_id) break;
    query.before_id = page.next_before_id;
  }
  for (const auto& before : reports) {
    Report after = before;
    after.incident_id = into.id;
    after.updated_at = ctx.at;
    HIKESHI_CHECK(tx.UpdateReport(ctx, "report.move", before, after, into.human_id));
  }
  HIKESHI_TRY(const auto records, tx.ListRecordsForIncident(from.id, ""));
  for (const auto& before : records) {
    if (before.kind != "task" && before.kind != "countermeasure" && before.kind != "investigation") continue;
    Record after = before;
    after.incident_id = into.id;
    after.updated_at = ctx.at;
    HIKESHI_CHECK(tx.UpdateRecord(ctx, before.kind + ".move", before, after, into.human_id));
  }
  Incident target = into;
  for (const auto& o : from.observables) {
    if (std::find(target.observables.begin(), target.observables.end(), o) == target.observables.end()) {
      target.observables.push_back(o);
    }
  }
  if (target.observables.size() != into.observables.size()) {
    target.updated_at = ctx.at;
    HIKESHI_CHECK(tx.UpdateIncident(ctx, "incident.merge-in", into, target));
  }
  return LinkIncidents(tx, ctx, from, into, LinkRelation::kMergedInto, /*replace=*/true);
}

Result<std::vector<std::string>> MergedFrom(StoreReader& reader, std::int64_t incident_id) {
  HIKESHI_TRY(const auto links, reader.ListRecordsForIncident(incident_id, "link"));
  std::vector<std::string> out;
  for (const auto& record : links) {
    if (record.state != LinkRelationName(LinkRelation::kMergedFrom)) continue;
    HIKESHI_TRY(const auto link, DecodeLink(record));
    out.push_back(link.other);
  }
  return out;
}

}  // namespace detail

// --- tasks ---

Result<std::vector<Task>> ResponseLoop::Tasks(const Principal& actor, std::string_view incident_id) {
  std::vector<Task> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, incident_id));
    HIKESHI_TRY(const auto records, r.ListRecordsForIncident(incident.id, "task"));
    for (const auto& record : records) {
      HIKESHI_TRY(auto task, DecodeTask(record, incident.human_id));
      out.push_back(std::move(task));
    }
    return {};
  }));
  return out;
}

Result<Task> ResponseLoop::AddTask(const Principal& actor, std::string_view incident_id, const NewTask& draft) {
  HIKESHI_CHECK(RequireWriter(actor, "add tasks"));
  HIKESHI_CHECK(detail::CheckText(draft.title, kMaxTitle, true, "/title"));
  const AuditContext ctx{actor.username, clock_.Now()};
  Task task;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    Task draft_task;
    draft_task.title = draft.title;
    if (draft.assignee) {
      HIKESHI_TRY(draft_task.assignee, ResolveAssignee(tx, actor, *draft.assignee, incident));
    }
    draft_task.due = draft.due;
    draft_task.created_by = actor.username;
    HIKESHI_TRY(task, detail::CreateTask(tx, ctx, incident, std::move(draft_task)));
    return {};
  }));
  return task;
}

Result<Task> ResponseLoop::UpdateTask(const Principal& actor, std::string_view incident_id, std::string_view task_id,
                                      const TaskPatch& patch) {
  HIKESHI_CHECK(RequireWriter(actor, "change tasks"));
  if (patch.title) {
    HIKESHI_CHECK(detail::CheckText(*patch.title, kMaxTitle, true, "/title"));
  }
  const AuditContext ctx{actor.username, clock_.Now()};
  Task after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    HIKESHI_TRY(const auto record, FindOwnRecord(tx, "task", task_id, incident, "task"));
    HIKESHI_TRY(const Task before, DecodeTask(record, incident.human_id));
    after = before;
    if (patch.title && *patch.title != before.title) {
      after.title = *patch.title;
      after.title_en.clear();
    }
    if (patch.assignee) {
      if (*patch.assignee) {
        HIKESHI_TRY(after.assignee, ResolveAssignee(tx, actor, **patch.assignee, incident));
      } else {
        after.assignee.reset();
      }
    }
    if (patch.due) after.due = *patch.due;
    std::string action = "task.update";
    if (patch.done && *patch.done != before.done) {
      after.done = *patch.done;
      after.done_at = after.done ? std::optional(ctx.at) : std::nullopt;
      after.done_by = after.done ? actor.username : "";
      action = after.done ? "task.done" : "task.reopen";
    }
    const std::string body = EncodeTask(after);
    if (body == EncodeTask(before)) return {};  // nothing changed: no write, no journal entry
    Record updated = record;
    updated.state = after.done ? "done" : "open";
    updated.body = body;
    updated.updated_at = after.updated_at = ctx.at;
    return tx.UpdateRecord(ctx, action, record, updated, incident.human_id);
  }));
  return after;
}

// --- the plan and the APT decision ---

Result<ResponsePlan> ResponseLoop::Plan(const Principal& actor, std::string_view incident_id) {
  ResponsePlan plan;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, incident_id));
    plan.incident = incident.human_id;
    HIKESHI_TRY(const auto record, r.FindRecord("plan", incident.human_id));
    if (record) {
      HIKESHI_TRY(plan, DecodePlan(*record, incident.human_id));
    }
    return {};
  }));
  return plan;
}

namespace {
// Reads the plan of `incident` (empty when none), lets `change` amend it, and stores it.
Result<ResponsePlan> AmendPlan(WriteTx& tx, const AuditContext& ctx, const Incident& incident, std::string_view action,
                               const std::function<void(ResponsePlan&)>& change) {
  HIKESHI_TRY(const auto record, tx.FindRecord("plan", incident.human_id));
  ResponsePlan plan;
  plan.incident = incident.human_id;
  if (record) {
    HIKESHI_TRY(plan, DecodePlan(*record, incident.human_id));
  }
  change(plan);
  if (!record) {
    Record created;
    created.kind = "plan";
    created.key = incident.human_id;
    created.incident_id = incident.id;
    created.state = PlanState(plan);
    created.body = EncodePlan(plan);
    created.created_at = created.updated_at = ctx.at;
    HIKESHI_CHECK(detail::Discard(tx.CreateRecord(ctx, created, incident.human_id)));
    return plan;
  }
  Record after = *record;
  after.state = PlanState(plan);
  after.body = EncodePlan(plan);
  after.updated_at = ctx.at;
  HIKESHI_CHECK(tx.UpdateRecord(ctx, action, *record, after, incident.human_id));
  return plan;
}
}  // namespace

Result<ResponsePlan> ResponseLoop::RevisePlan(const Principal& actor, std::string_view incident_id,
                                              std::string_view text) {
  HIKESHI_CHECK(RequireWriter(actor, "change response plans"));
  HIKESHI_CHECK(detail::CheckText(text, kMaxPlan, true, "/text"));
  const AuditContext ctx{actor.username, clock_.Now()};
  ResponsePlan plan;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    HIKESHI_TRY(plan, AmendPlan(tx, ctx, incident, "plan.revise", [&](ResponsePlan& p) {
                  p.revisions.push_back({std::string(text), actor.username, ctx.at});
                }));
    return {};
  }));
  return plan;
}

Result<ResponsePlan> ResponseLoop::DecideApt(const Principal& actor, std::string_view incident_id,
                                             std::string_view decision, std::string_view rationale) {
  HIKESHI_CHECK(RequireWriter(actor, "decide on the response"));
  const AuditContext ctx{actor.username, clock_.Now()};
  ResponsePlan plan;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    HIKESHI_TRY(const auto parsed, CheckAptDecision(incident, decision, rationale));
    HIKESHI_TRY(plan, AmendPlan(tx, ctx, incident, "plan.apt-decision", [&](ResponsePlan& p) {
                  p.decisions.push_back({parsed, std::string(rationale), actor.username, ctx.at});
                }));
    return {};
  }));
  return plan;
}

// --- countermeasures ---

Result<std::vector<Countermeasure>> ResponseLoop::Countermeasures(const Principal& actor,
                                                                  std::string_view incident_id) {
  std::vector<Countermeasure> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, incident_id));
    HIKESHI_TRY(const auto records, r.ListRecordsForIncident(incident.id, "countermeasure"));
    for (const auto& record : records) {
      HIKESHI_TRY(auto c, DecodeCountermeasure(record, incident.human_id));
      out.push_back(std::move(c));
    }
    return {};
  }));
  return out;
}

Result<Countermeasure> ResponseLoop::AddCountermeasure(const Principal& actor, std::string_view incident_id,
                                                       const NewCountermeasure& draft) {
  HIKESHI_CHECK(RequireWriter(actor, "add countermeasures"));
  Countermeasure c;
  const auto kind = ParseCountermeasureKind(draft.kind);
  if (!kind) {
    return Fail(Error::InvalidArgument("'" + draft.kind +
                                           "' is not a countermeasure kind (block-ip, block-domain, sinkhole, "
                                           "takedown, account-disable, other)",
                                       "/kind"));
  }
  c.kind = *kind;
  HIKESHI_TRY(c.target, NormalizeTarget(c.kind, draft.target));
  HIKESHI_CHECK(detail::CheckText(draft.where, kMaxTitle, false, "/where"));
  HIKESHI_CHECK(detail::CheckText(draft.note, kMaxLongText, false, "/note"));
  c.where = draft.where;
  c.note = draft.note;
  const AuditContext ctx{actor.username, clock_.Now()};
  c.state = CountermeasureState::kPending;
  c.history.push_back({CountermeasureState::kPending, actor.username, "", ctx.at});
  c.created_by = actor.username;
  c.created_at = c.updated_at = ctx.at;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    c.incident = incident.human_id;
    HIKESHI_TRY(c.id, NextKey(tx, 'C', "countermeasure", ctx.at));
    Record record;
    record.kind = "countermeasure";
    record.key = c.id;
    record.incident_id = incident.id;
    record.state = CountermeasureStateName(c.state);
    record.body = EncodeCountermeasure(c);
    record.created_at = record.updated_at = ctx.at;
    return detail::Discard(tx.CreateRecord(ctx, record, incident.human_id));
  }));
  return c;
}

Result<Countermeasure> ResponseLoop::UpdateCountermeasure(const Principal& actor, std::string_view incident_id,
                                                          std::string_view countermeasure_id,
                                                          const CountermeasurePatch& patch) {
  HIKESHI_CHECK(RequireWriter(actor, "change countermeasures"));
  std::optional<CountermeasureState> state;
  if (patch.state) {
    state = ParseCountermeasureState(*patch.state);
    if (!state) {
      return Fail(Error::InvalidArgument(
          "'" + *patch.state + "' is not a countermeasure state (pending, active, pending-removal, removed)",
          "/state"));
    }
  }
  if (patch.where) {
    HIKESHI_CHECK(detail::CheckText(*patch.where, kMaxTitle, false, "/where"));
  }
  if (patch.note) {
    HIKESHI_CHECK(detail::CheckText(*patch.note, kMaxLongText, false, "/note"));
  }
  const AuditContext ctx{actor.username, clock_.Now()};
  Countermeasure after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    HIKESHI_TRY(const auto record, FindOwnRecord(tx, "countermeasure", countermeasure_id, incident, "countermeasure"));
    HIKESHI_TRY(const Countermeasure before, DecodeCountermeasure(record, incident.human_id));
    after = before;
    if (patch.where) after.where = *patch.where;
    if (patch.note) after.note = *patch.note;
    std::string_view action = "countermeasure.update";
    if (state && *state != before.state) {
      HIKESHI_CHECK(CheckCountermeasureTransition(before.state, *state));
      if (*state == CountermeasureState::kActive && after.where.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Fail(Error::InvalidArgument("say where the countermeasure is applied before it is active", "/where"));
      }
      after.state = *state;
      after.history.push_back({*state, actor.username, patch.note.value_or(""), ctx.at});
      action = TransitionAction(*state);
    }
    const std::string body = EncodeCountermeasure(after);
    if (body == EncodeCountermeasure(before)) return {};
    Record updated = record;
    updated.state = CountermeasureStateName(after.state);
    updated.body = body;
    updated.updated_at = after.updated_at = ctx.at;
    return tx.UpdateRecord(ctx, action, record, updated, incident.human_id);
  }));
  return after;
}

// --- the post-incident review ---

Result<PostIncidentReview> ResponseLoop::Review(const Principal& actor, std::string_view incident_id) {
  PostIncidentReview review;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, incident_id));
    review.incident = incident.human_id;
    HIKESHI_TRY(const auto record, r.FindRecord("review", incident.human_id));
    if (record) {
      HIKESHI_TRY(review, DecodeReview(*record, incident.human_id));
    }
    return {};
  }));
  return review;
}

Result<PostIncidentReview> ResponseLoop::PutReview(const Principal& actor, std::string_view incident_id,
                                                   const ReviewDraft& draft) {
  HIKESHI_CHECK(RequireWriter(actor, "write post-incident reviews"));
  HIKESHI_CHECK(detail::CheckText(draft.root_cause, kMaxLongText, false, "/root_cause"));
  HIKESHI_CHECK(detail::CheckText(draft.actions_taken, kMaxLongText, false, "/actions_taken"));
  HIKESHI_CHECK(detail::CheckText(draft.lessons_learned, kMaxLongText, false, "/lessons_learned"));
  HIKESHI_CHECK(detail::CheckText(draft.playbook_revision, 200, false, "/playbook_revision"));
  const AuditContext ctx{actor.username, clock_.Now()};
  PostIncidentReview review;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindWritable(tx, actor, incident_id));
    if (!draft.playbook_revision.empty()) {
      HIKESHI_TRY(const auto playbook, tx.FindRecord("playbook", draft.playbook_revision));
      if (!playbook) {
        return Fail(Error::InvalidArgument(
            "there is no playbook revision '" + draft.playbook_revision + "' (give it as name@version)",
            "/playbook_revision"));
      }
    }
    review = {incident.human_id,
              draft.root_cause,
              draft.actions_taken,
              draft.lessons_learned,
              draft.playbook_revision,
              actor.username,
              ctx.at};
    HIKESHI_TRY(const auto record, tx.FindRecord("review", incident.human_id));
    if (!record) {
      Record created;
      created.kind = "review";
      created.key = incident.human_id;
      created.incident_id = incident.id;
      created.state = "written";
      created.body = EncodeReview(review);
      created.created_at = created.updated_at = ctx.at;
      return detail::Discard(tx.CreateRecord(ctx, created, incident.human_id));
    }
    Record after = *record;
    after.body = EncodeReview(review);
    if (after.body == record->body) {
      review.updated_at = record->updated_at;
      return {};
    }
    after.updated_at = ctx.at;
    return tx.UpdateRecord(ctx, "review.update", *record, after, incident.human_id);
  }));
  return review;
}

// --- links ---

Result<std::vector<IncidentLink>> ResponseLoop::Links(const Principal& actor, std::string_view incident_id) {
  std::vector<IncidentLink> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(r, actor, incident_id));
    HIKESHI_TRY(const auto records, r.ListRecordsForIncident(incident.id, "link"));
    for (const auto& record : records) {
      HIKESHI_TRY(auto link, DecodeLink(record));
      HIKESHI_TRY(const auto other, r.FindIncident(actor.scope, link.other));
      if (other) out.push_back(std::move(link));
    }
    return {};
  }));
  return out;
}

Result<IncidentLink> ResponseLoop::AddLink(const Principal& actor, std::string_view incident_id,
                                           std::string_view other_id, std::string_view relation_text) {
  HIKESHI_CHECK(RequireWriter(actor, "link incidents"));
  const auto relation = ParseLinkRelation(relation_text);
  if (!relation || (*relation != LinkRelation::kRelated && *relation != LinkRelation::kParent &&
                    *relation != LinkRelation::kChild)) {
    return Fail(Error::InvalidArgument("must be related, parent or child", "/relation"));
  }
  const AuditContext ctx{actor.username, clock_.Now()};
  IncidentLink link;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, FindVisible(tx, actor, incident_id));
    HIKESHI_TRY(const auto other, tx.FindIncident(actor.scope, other_id));
    if (!other) {
      return Fail(Error{ErrorCode::kNotFound, "incident '" + std::string(other_id) + "' not found", "/incident"});
    }
    if (other->id == incident.id)
      return Fail(Error::InvalidArgument("an incident cannot be linked to itself", "/incident"));
    HIKESHI_TRY(const auto reverse, tx.FindRecord("link", LinkKey(other->human_id, incident.human_id)));
    if (reverse) {
      return Fail(Error::Conflict(incident.human_id + " and " + other->human_id + " are already linked"));
    }
    HIKESHI_CHECK(detail::LinkIncidents(tx, ctx, incident, *other, *relation, /*replace=*/false));
    link = {incident.human_id, other->human_id, *relation, actor.username, ctx.at};
    return {};
  }));
  return link;
}

}  // namespace hikeshi::core
