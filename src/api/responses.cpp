// Routes of the response loop: playbooks; and on an incident its tasks, response plan and APT
// decision, countermeasures, post-incident review, links, merge and split; and bulk actions on
// reports and incidents. Each handler reads the request strictly, calls one core use case and
// renders the result; the rules are in core (playbooks.hpp, response.hpp, bulk_actions.hpp).

#include <charconv>
#include <initializer_list>

#include "hikeshi/api/problem.hpp"
#include "hikeshi/common/time.hpp"

#include "detail/json_input.hpp"
#include "detail/modules.hpp"
#include "detail/render.hpp"

namespace hikeshi::api::detail {

namespace {
using common::FormatRfc3339;
using nlohmann::json;
using nlohmann::ordered_json;

ordered_json OrNull(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }
ordered_json OrNull(const std::optional<std::string>& text) {
  return text ? ordered_json(*text) : ordered_json(nullptr);
}
ordered_json OrNull(const std::optional<core::Timestamp>& t) {
  return t ? ordered_json(FormatRfc3339(*t)) : ordered_json(nullptr);
}

template <typename T>
Result<T*> Require(T* service, std::string_view what) {
  if (service == nullptr) return Fail(Error::Unavailable(std::string(what) + " is not configured on this server"));
  return service;
}

// --- reading nested JSON strictly ---

std::string_view TypeName(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

Result<void> OnlyFields(const json& object, std::initializer_list<std::string_view> allowed, const std::string& at) {
  if (!object.is_object())
    return Fail(Error::InvalidArgument("must be an object, not " + std::string(TypeName(object)), at));
  for (const auto& [name, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return Fail(Error::InvalidArgument("unknown field", at + "/" + name));
    }
  }
  return {};
}

Result<std::string> StringField(const json& object, const char* key, const std::string& at, bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) return Fail(Error::InvalidArgument("is required", at + "/" + key));
    return std::string();
  }
  if (!it->is_string()) {
    return Fail(Error::InvalidArgument("must be a string, not " + std::string(TypeName(*it)), at + "/" + key));
  }
  return it->get<std::string>();
}

Result<std::vector<const json*>> ArrayField(const json* value, const std::string& at) {
  std::vector<const json*> out;
  if (value == nullptr) return out;
  if (!value->is_array())
    return Fail(Error::InvalidArgument("must be an array, not " + std::string(TypeName(*value)), at));
  for (const auto& item : *value) out.push_back(&item);
  return out;
}

// {"ja": "...", "en": "..."}, either may be left out.
Result<core::LocalizedText> Localized(const json* value, const std::string& at) {
  if (value == nullptr) return core::LocalizedText{};
  HIKESHI_CHECK(OnlyFields(*value, {"ja", "en"}, at));
  core::LocalizedText text;
  HIKESHI_TRY(text.ja, StringField(*value, "ja", at, false));
  HIKESHI_TRY(text.en, StringField(*value, "en", at, false));
  return text;
}

const json* Member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// An optional RFC 3339 time: absent -> nullopt; null -> optional holding nullopt.
Result<std::optional<std::optional<core::Timestamp>>> NullableTime(JsonObjectReader& body, std::string_view key) {
  using R = std::optional<std::optional<core::Timestamp>>;
  HIKESHI_TRY(const auto text, body.NullableString(key));
  if (!text) return R();
  if (!*text) return R(std::optional<core::Timestamp>());
  const auto parsed = common::ParseRfc3339(**text);
  if (!parsed) {
    return Fail(
        Error::InvalidArgument("must be an RFC 3339 time such as 2026-04-01T09:00:00+09:00", "/" + std::string(key)));
  }
  return R(*parsed);
}

// --- renderings ---

ordered_json Localized(const core::LocalizedText& text) { return {{"ja", OrNull(text.ja)}, {"en", OrNull(text.en)}}; }

ordered_json RenderPlaybook(const core::Playbook& p) {
  ordered_json tasks = ordered_json::array();
  for (const auto& t : p.tasks) {
    tasks.push_back({{"title", Localized(t.title)},
                     {"role", OrNull(t.role)},
                     {"due_hours", t.due_hours ? ordered_json(*t.due_hours) : ordered_json(nullptr)}});
  }
  ordered_json templates = ordered_json::array();
  for (const auto& t : p.templates) {
    templates.push_back({{"name", t.name}, {"language", t.language}, {"subject", t.subject}, {"body", t.body}});
  }
  ordered_json j;
  j["name"] = p.name;
  j["version"] = p.version;
  j["revision"] = p.Revision();
  j["current"] = p.current;
  j["category"] = p.category;
  j["title"] = Localized(p.title);
  j["tasks"] = tasks;
  j["notify"] = p.notify;
  j["templates"] = templates;
  j["changed_by"] = p.changed_by;
  j["changed_at"] = FormatRfc3339(p.changed_at);
  j["change_note"] = p.change_note;
  return j;
}

ordered_json RenderTask(const core::Task& t) {
  ordered_json j;
  j["id"] = t.id;
  j["incident"] = t.incident;
  j["title"] = t.title;
  j["title_en"] = OrNull(t.title_en);
  j["role"] = OrNull(t.role);
  j["assignee"] = OrNull(t.assignee);
  j["due"] = OrNull(t.due);
  j["done"] = t.done;
  j["done_at"] = OrNull(t.done_at);
  j["done_by"] = OrNull(t.done_by);
  j["playbook"] = OrNull(t.playbook);
  j["created_by"] = t.created_by;
  j["created_at"] = FormatRfc3339(t.created_at);
  j["updated_at"] = FormatRfc3339(t.updated_at);
  return j;
}

ordered_json RenderDecision(const core::AptDecisionEntry& d) {
  return {{"decision", core::AptDecisionName(d.decision)},
          {"rationale", d.rationale},
          {"decider", d.decider},
          {"at", FormatRfc3339(d.at)}};
}

ordered_json RenderPlan(const core::ResponsePlan& plan) {
  ordered_json revisions = ordered_json::array();
  for (const auto& r : plan.revisions) {
    revisions.push_back({{"text", r.text}, {"author", r.author}, {"at", FormatRfc3339(r.at)}});
  }
  ordered_json decisions = ordered_json::array();
  for (const auto& d : plan.decisions) decisions.push_back(RenderDecision(d));
  ordered_json j;
  j["incident"] = plan.incident;
  j["text"] = plan.revisions.empty() ? "" : plan.revisions.back().text;
  j["revisions"] = revisions;
  j["apt_decision"] = plan.decisions.empty() ? ordered_json(nullptr) : RenderDecision(plan.decisions.back());
  j["decisions"] = decisions;
  return j;
}

ordered_json RenderCountermeasure(const core::Countermeasure& c) {
  ordered_json history = ordered_json::array();
  for (const auto& h : c.history) {
    history.push_back({{"state", core::CountermeasureStateName(h.state)},
                       {"by", h.by},
                       {"note", OrNull(h.note)},
                       {"at", FormatRfc3339(h.at)}});
  }
  ordered_json j;
  j["id"] = c.id;
  j["incident"] = c.incident;
  j["kind"] = core::CountermeasureKindName(c.kind);
  j["target"] = c.target;
  j["where"] = c.where;
  j["note"] = c.note;
  j["state"] = core::CountermeasureStateName(c.state);
  j["history"] = history;
  j["created_by"] = c.created_by;
  j["created_at"] = FormatRfc3339(c.created_at);
  j["updated_at"] = FormatRfc3339(c.updated_at);
  return j;
}

ordered_json RenderReview(const core::PostIncidentReview& r) {
  ordered_json j;
  j["incident"] = r.incident;
  j["root_cause"] = r.root_cause;
  j["actions_taken"] = r.actions_taken;
  j["lessons_learned"] = r.lessons_learned;
  j["playbook_revision"] = OrNull(r.playbook_revision);
  j["author"] = OrNull(r.author);
  j["updated_at"] = OrNull(r.updated_at);
  return j;
}

ordered_json RenderLink(const core::IncidentLink& l) {
  return {{"incident", l.incident},
          {"other", l.other},
          {"relation", core::LinkRelationName(l.relation)},
          {"created_by", l.created_by},
          {"created_at", FormatRfc3339(l.created_at)}};
}

HttpResponse BulkResponse(const std::vector<core::BulkOutcome>& outcomes) {
  ordered_json results = ordered_json::array();
  int done = 0;
  for (const auto& o : outcomes) {
    if (!o.error) {
      ++done;
      results.push_back({{"id", o.id}, {"ok", true}});
      continue;
    }
    results.push_back({{"id", o.id},
                       {"ok", false},
                       {"status", HttpStatusOf(*o.error)},
                       {"detail", o.error->message()},
                       {"field", OrNull(o.error->field())}});
  }
  return Json(200, {{"results", results}, {"succeeded", done}, {"failed", static_cast<int>(outcomes.size()) - done}});
}

// --- request bodies ---

Result<core::PlaybookDraft> ReadPlaybook(const HttpRequest& request, std::string name) {
  HIKESHI_TRY(auto body, JsonObjectReader::Parse(request.body));
  core::PlaybookDraft draft;
  draft.name = std::move(name);
  HIKESHI_TRY(draft.category, body.RequiredString("category"));
  HIKESHI_TRY(draft.title, Localized(body.Value("title"), "/title"));
  HIKESHI_TRY(const auto tasks, ArrayField(body.Value("tasks"), "/tasks"));
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string at = "/tasks/" + std::to_string(i);
    const json& item = *tasks[i];
    HIKESHI_CHECK(OnlyFields(item, {"title", "role", "due_hours"}, at));
    core::PlaybookTask task;
    HIKESHI_TRY(task.title, Localized(Member(item, "title"), at + "/title"));
    HIKESHI_TRY(task.role, StringField(item, "role", at, false));
    if (const auto* due = Member(item, "due_hours"); due != nullptr && !due->is_null()) {
      if (!due->is_number_integer())
        return Fail(Error::InvalidArgument("must be a whole number of hours", at + "/due_hours"));
      const auto hours = due->get<std::int64_t>();
      if (hours < 1 || hours > 24 * 366)
        return Fail(Error::InvalidArgument("must be 1..8784 hours", at + "/due_hours"));
      task.due_hours = static_cast<int>(hours);
    }
    draft.tasks.push_back(std::move(task));
  }
  HIKESHI_TRY(const auto notify, body.StringArray("notify"));
  draft.notify = notify.value_or(std::vector<std::string>{});
  HIKESHI_TRY(const auto templates, ArrayField(body.Value("templates"), "/templates"));
  for (std::size_t i = 0; i < templates.size(); ++i) {
    const std::string at = "/templates/" + std::to_string(i);
    const json& item = *templates[i];
    HIKESHI_CHECK(OnlyFields(item, {"name", "language", "subject", "body"}, at));
    core::MailTemplate t;
    HIKESHI_TRY(t.name, StringField(item, "name", at, true));
    HIKESHI_TRY(t.language, StringField(item, "language", at, true));
    HIKESHI_TRY(t.subject, StringField(item, "subject", at, true));
    HIKESHI_TRY(t.body, StringField(item, "body", at, true));
    draft.templates.push_back(std::move(t));
  }
  HIKESHI_TRY(const auto note, body.String("change_note"));
  draft.change_note = note.value_or("");
  HIKESHI_CHECK(body.RejectUnknownFields());
  return draft;
}

Result<int> VersionOf(const std::string& text) {
  int version = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || ptr != text.data() + text.size() || version < 1) {
    return Fail(Error::InvalidArgument("must be a version number: 1, 2, 3...", "/version"));
  }
  return version;
}

Result<std::vector<std::string>> RequiredList(JsonObjectReader& body, std::string_view key) {
  HIKESHI_TRY(auto list, body.StringArray(key));
  if (!list) return Fail(Error::InvalidArgument("is required", "/" + std::string(key)));
  return std::move(*list);
}

// --- the routes ---

void AddPlaybookRoutes(const RouteSink& add, core::Playbooks* playbooks) {
  add("GET", "/api/v1/playbooks", true, [playbooks](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* p, Require(playbooks, "playbooks"));
    QueryReader q(call.request);
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto list, p->List(call.principal()));
    ordered_json items = ordered_json::array();
    for (const auto& playbook : list) items.push_back(RenderPlaybook(playbook));
    return Json(200, {{"items", items}});
  });
  add("GET", "/api/v1/playbooks/{name}", true, [playbooks](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* p, Require(playbooks, "playbooks"));
    QueryReader q(call.request);
    const auto version = q.Get("version");
    HIKESHI_CHECK(q.RejectUnknown());
    if (version) {
      HIKESHI_TRY(const int number, VersionOf(*version));
      HIKESHI_TRY(const auto playbook, p->GetVersion(call.principal(), call.params[0], number));
      return Json(200, RenderPlaybook(playbook));
    }
    HIKESHI_TRY(const auto playbook, p->Get(call.principal(), call.params[0]));
    return Json(200, RenderPlaybook(playbook));
  });
  add("PUT", "/api/v1/playbooks/{name}", true, [playbooks](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* p, Require(playbooks, "playbooks"));
    HIKESHI_TRY(const auto draft, ReadPlaybook(call.request, call.params[0]));
    HIKESHI_TRY(const auto playbook, p->Put(call.principal(), draft));
    auto response = Json(playbook.version == 1 ? 201 : 200, RenderPlaybook(playbook));
    response.headers.emplace_back(
        "Location", "/api/v1/playbooks/" + playbook.name + "?version=" + std::to_string(playbook.version));
    return response;
  });
  add("GET", "/api/v1/playbooks/{name}/versions", true, [playbooks](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* p, Require(playbooks, "playbooks"));
    HIKESHI_TRY(const auto history, p->History(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& playbook : history) items.push_back(RenderPlaybook(playbook));
    return Json(200, {{"items", items}});
  });
}

void AddTaskRoutes(const RouteSink& add, core::ResponseLoop* response) {
  add("GET", "/api/v1/incidents/{id}/tasks", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(const auto tasks, r->Tasks(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& t : tasks) items.push_back(RenderTask(t));
    return Json(200, {{"items", items}});
  });
  add("POST", "/api/v1/incidents/{id}/tasks", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::NewTask task;
    HIKESHI_TRY(task.title, body.RequiredString("title"));
    HIKESHI_TRY(task.assignee, body.String("assignee"));
    HIKESHI_TRY(const auto due, NullableTime(body, "due"));
    if (due) task.due = *due;
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto created, r->AddTask(call.principal(), call.params[0], task));
    return Json(201, RenderTask(created));
  });
  add("PATCH", "/api/v1/incidents/{id}/tasks/{task}", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::TaskPatch patch;
    HIKESHI_TRY(patch.title, body.String("title"));
    HIKESHI_TRY(patch.assignee, body.NullableString("assignee"));
    HIKESHI_TRY(patch.due, NullableTime(body, "due"));
    HIKESHI_TRY(patch.done, body.Bool("done"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto task, r->UpdateTask(call.principal(), call.params[0], call.params[1], patch));
    return Json(200, RenderTask(task));
  });
}

void AddPlanRoutes(const RouteSink& add, core::ResponseLoop* response) {
  add("GET", "/api/v1/incidents/{id}/plan", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(const auto plan, r->Plan(call.principal(), call.params[0]));
    return Json(200, RenderPlan(plan));
  });
  add("PUT", "/api/v1/incidents/{id}/plan", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto text, body.RequiredString("text"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto plan, r->RevisePlan(call.principal(), call.params[0], text));
    return Json(200, RenderPlan(plan));
  });
  add("POST", "/api/v1/incidents/{id}/plan/apt-decision", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto decision, body.RequiredString("decision"));
    HIKESHI_TRY(const auto rationale, body.RequiredString("rationale"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto plan, r->DecideApt(call.principal(), call.params[0], decision, rationale));
    return Json(201, RenderPlan(plan));
  });
}

void AddCountermeasureRoutes(const RouteSink& add, core::ResponseLoop* response) {
  add("GET", "/api/v1/incidents/{id}/countermeasures", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(const auto list, r->Countermeasures(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& c : list) items.push_back(RenderCountermeasure(c));
    return Json(200, {{"items", items}});
  });
  add("POST", "/api/v1/incidents/{id}/countermeasures", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::NewCountermeasure draft;
    HIKESHI_TRY(draft.kind, body.RequiredString("kind"));
    HIKESHI_TRY(draft.target, body.RequiredString("target"));
    HIKESHI_TRY(const auto where, body.String("where"));
    HIKESHI_TRY(const auto note, body.String("note"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    draft.where = where.value_or("");
    draft.note = note.value_or("");
    HIKESHI_TRY(const auto created, r->AddCountermeasure(call.principal(), call.params[0], draft));
    return Json(201, RenderCountermeasure(created));
  });
  add("PATCH", "/api/v1/incidents/{id}/countermeasures/{cm}", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::CountermeasurePatch patch;
    HIKESHI_TRY(patch.state, body.String("state"));
    HIKESHI_TRY(patch.where, body.String("where"));
    HIKESHI_TRY(patch.note, body.String("note"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto updated, r->UpdateCountermeasure(call.principal(), call.params[0], call.params[1], patch));
    return Json(200, RenderCountermeasure(updated));
  });
}

void AddReviewAndLinkRoutes(const RouteSink& add, core::ResponseLoop* response) {
  add("GET", "/api/v1/incidents/{id}/review", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(const auto review, r->Review(call.principal(), call.params[0]));
    return Json(200, RenderReview(review));
  });
  add("PUT", "/api/v1/incidents/{id}/review", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::ReviewDraft draft;
    HIKESHI_TRY(const auto root_cause, body.String("root_cause"));
    HIKESHI_TRY(const auto actions_taken, body.String("actions_taken"));
    HIKESHI_TRY(const auto lessons_learned, body.String("lessons_learned"));
    HIKESHI_TRY(const auto playbook_revision, body.NullableString("playbook_revision"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    draft.root_cause = root_cause.value_or("");
    draft.actions_taken = actions_taken.value_or("");
    draft.lessons_learned = lessons_learned.value_or("");
    draft.playbook_revision = playbook_revision.value_or(std::nullopt).value_or("");
    HIKESHI_TRY(const auto review, r->PutReview(call.principal(), call.params[0], draft));
    return Json(200, RenderReview(review));
  });
  add("GET", "/api/v1/incidents/{id}/links", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(const auto links, r->Links(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& l : links) items.push_back(RenderLink(l));
    return Json(200, {{"items", items}});
  });
  add("POST", "/api/v1/incidents/{id}/links", true, [response](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* r, Require(response, "the response loop"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto other, body.RequiredString("incident"));
    HIKESHI_TRY(const auto relation, body.RequiredString("relation"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto link, r->AddLink(call.principal(), call.params[0], other, relation));
    return Json(201, RenderLink(link));
  });
}

void AddMergeSplitAndBulkRoutes(const RouteSink& add, const ApiServices& services) {
  core::Store& store = services.store;
  core::Incidents& incidents = services.incidents;
  add("POST", "/api/v1/incidents/{id}/merge", true, [&store, &incidents](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto into, body.RequiredString("into"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto merged, incidents.Merge(call.principal(), call.params[0], into));
    Names names(store, call.principal());
    return Json(200, RenderIncident(merged, names));
  });
  add("POST", "/api/v1/incidents/{id}/split", true, [&store, &incidents](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto reports, RequiredList(body, "reports"));
    HIKESHI_TRY(const auto title, body.RequiredString("title"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto created, incidents.Split(call.principal(), call.params[0], reports, title));
    Names names(store, call.principal());
    auto response = Json(201, RenderIncident(created, names));
    response.headers.emplace_back("Location", "/api/v1/incidents/" + created.human_id);
    return response;
  });
  core::BulkActions* bulk = services.bulk;
  add("POST", "/api/v1/reports/bulk", true, [bulk](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* b, Require(bulk, "bulk actions"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto action, body.RequiredString("action"));
    HIKESHI_TRY(const auto reports, RequiredList(body, "reports"));
    HIKESHI_TRY(const auto reason, body.String("reason"));
    HIKESHI_TRY(const auto comment, body.String("comment"));
    HIKESHI_TRY(const auto incident, body.String("incident"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (action == "reject") {
      if (!reason) return Fail(Error::InvalidArgument("is required to reject", "/reason"));
      if (incident) return Fail(Error::InvalidArgument("goes with action 'link'", "/incident"));
      HIKESHI_TRY(const auto outcomes, b->RejectReports(call.principal(), reports, *reason, comment.value_or("")));
      return BulkResponse(outcomes);
    }
    if (action == "link") {
      if (!incident) return Fail(Error::InvalidArgument("is required to link", "/incident"));
      if (reason || comment)
        return Fail(Error::InvalidArgument("goes with action 'reject'", reason ? "/reason" : "/comment"));
      HIKESHI_TRY(const auto outcomes, b->LinkReports(call.principal(), reports, *incident));
      return BulkResponse(outcomes);
    }
    return Fail(Error::InvalidArgument("must be reject or link", "/action"));
  });
  add("POST", "/api/v1/incidents/bulk", true, [bulk](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(auto* b, Require(bulk, "bulk actions"));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto action, body.RequiredString("action"));
    HIKESHI_TRY(const auto list, RequiredList(body, "incidents"));
    HIKESHI_TRY(const auto owner, body.NullableString("owner"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (action != "assign") return Fail(Error::InvalidArgument("must be assign", "/action"));
    if (!owner) return Fail(Error::InvalidArgument("is required (null to unassign)", "/owner"));
    HIKESHI_TRY(const auto outcomes, b->AssignIncidents(call.principal(), list, *owner));
    return BulkResponse(outcomes);
  });
}
}  // namespace

void AddResponseRoutes(const RouteSink& add, const ApiServices& services) {
  AddPlaybookRoutes(add, services.playbooks);
  AddTaskRoutes(add, services.response);
  AddPlanRoutes(add, services.response);
  AddCountermeasureRoutes(add, services.response);
  AddReviewAndLinkRoutes(add, services.response);
  AddMergeSplitAndBulkRoutes(add, services);
}

}  // namespace hikeshi::api::detail
