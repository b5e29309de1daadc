// Triage routes: the rule set and its versions (/triage/rules), and each report's triage decision
// with its overrides (/reports/{id}/triage). core::TriageService holds the rules; this file only
// translates.

#include <charconv>
#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

#include "detail/json_input.hpp"
#include "detail/modules.hpp"
#include "detail/routing.hpp"

namespace hikeshi::api::detail {
namespace {

using nlohmann::ordered_json;

Result<core::TriageService*> Service(const ApiServices& services) {
  if (services.triage == nullptr) return Fail(Error::Unavailable("triage is not configured on this server"));
  return services.triage;
}

ordered_json OrNull(const std::optional<std::string>& value) { return value ? ordered_json(*value) : ordered_json(); }
ordered_json OrNull(const std::optional<int>& value) { return value ? ordered_json(*value) : ordered_json(); }

// Only what the author gave: empty lists and absent actions are left out, as in the TOML.
ordered_json RenderRule(const core::TriageRule& rule) {
  ordered_json match = ordered_json::object();
  const auto list = [&match](const char* key, const std::vector<std::string>& values) {
    if (!values.empty()) match[key] = values;
  };
  list("category", rule.match.category);
  list("constituency", rule.match.constituency);
  list("channel", rule.match.channel);
  list("source", rule.match.source);
  list("format", rule.match.format);
  list("ip", rule.match.ip);
  list("domain", rule.match.domain);
  list("keyword", rule.match.keyword);
  list("pgp", rule.match.pgp);
  ordered_json set = ordered_json::object();
  const auto& a = rule.set;
  if (a.category) set["category"] = *a.category;
  if (a.apt) set["apt"] = *a.apt;
  if (a.impact) set["impact"] = *a.impact;
  if (a.urgency) set["urgency"] = *a.urgency;
  if (a.owner) set["owner"] = *a.owner;
  if (a.team) set["team"] = *a.team;
  if (a.playbook) set["playbook"] = *a.playbook;
  if (a.tlp) set["tlp"] = *a.tlp;
  if (a.sla_class) set["sla_class"] = *a.sla_class;
  if (a.disposition) set["disposition"] = *a.disposition;
  if (!a.flag.empty()) set["flag"] = a.flag;
  return {{"id", rule.id},     {"description", rule.description}, {"enabled", rule.enabled},
          {"stop", rule.stop}, {"match", std::move(match)},       {"set", std::move(set)}};
}

ordered_json RenderVersionSummary(const core::RuleSetVersion& v) {
  if (v.version == 0) {
    return {{"version", 0}, {"by", nullptr}, {"at", nullptr}, {"note", nullptr}, {"source", nullptr}};
  }
  return {{"version", v.version},
          {"by", v.by},
          {"at", common::FormatRfc3339(v.at)},
          {"note", v.note},
          {"source", v.source}};
}

ordered_json RenderVersion(const core::RuleSetVersion& v) {
  ordered_json out = RenderVersionSummary(v);
  out["toml"] = v.toml;
  ordered_json rules = ordered_json::array();
  for (const auto& rule : v.rules.rules) rules.push_back(RenderRule(rule));
  out["rules"] = std::move(rules);
  return out;
}

ordered_json RenderRecord(const core::TriageRecord& r) {
  ordered_json out;
  out["report"] = r.report;
  out["state"] = r.state;
  if (r.decision) {
    const core::TriageDecision& d = *r.decision;
    out["rule_set_version"] = d.rule_set_version;
    out["rule_id"] = d.rule_id;
    out["matched_rules"] = d.matched_rules;
    out["decision"] = {
        {"category", d.category ? ordered_json(d.category->ToString()) : ordered_json()},
        {"apt", d.apt ? ordered_json(*d.apt) : ordered_json()},
        {"impact", OrNull(d.impact)},
        {"urgency", OrNull(d.urgency)},
        {"priority", d.priority ? ordered_json("P" + std::to_string(*d.priority)) : ordered_json()},
        {"owner", OrNull(d.owner)},
        {"team", OrNull(d.team)},
        {"playbook", OrNull(d.playbook)},
        {"tlp", d.tlp ? ordered_json(core::TlpName(*d.tlp)) : ordered_json()},
        {"sla_class", OrNull(d.sla_class)},
        {"disposition", d.disposition ? ordered_json(core::TriageDispositionName(*d.disposition)) : ordered_json()},
        {"flags", d.flags}};
    out["explanation"] = d.explanation;
  } else {
    out["rule_set_version"] = nullptr;
    out["rule_id"] = nullptr;
    out["matched_rules"] = ordered_json::array();
    out["decision"] = nullptr;
    out["explanation"] = nullptr;
  }
  out["decided_at"] = r.decided_at ? ordered_json(common::FormatRfc3339(*r.decided_at)) : ordered_json();
  out["incident"] = r.incident.empty() ? ordered_json() : ordered_json(r.incident);
  out["notes"] = r.notes;
  ordered_json overrides = ordered_json::array();
  for (const auto& o : r.overrides) {
    ordered_json changes = ordered_json::array();
    for (const auto& c : o.changes) changes.push_back({{"field", c.field}, {"from", c.from}, {"to", c.to}});
    overrides.push_back(
        {{"by", o.by}, {"at", common::FormatRfc3339(o.at)}, {"reason", o.reason}, {"changes", std::move(changes)}});
  }
  out["overrides"] = std::move(overrides);
  return out;
}

// "application/toml; charset=utf-8" -> "application/toml".
std::string_view MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

bool IsMedia(std::string_view content_type, std::string_view wanted) {
  const auto type = MediaType(content_type);
  if (type.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i] >= 'A' && type[i] <= 'Z' ? static_cast<char>(type[i] - 'A' + 'a') : type[i];
    if (c != wanted[i]) return false;
  }
  return true;
}

Result<HttpResponse> GetRules(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  QueryReader q(call.request);
  HIKESHI_CHECK(q.RejectUnknown());
  HIKESHI_TRY(const auto current, triage->Current(call.principal()));
  return Json(200, RenderVersion(current));
}

// The body is the TOML itself (Content-Type application/toml, the note in ?note=), or JSON
// {"toml": "...", "note": "..."}.
Result<HttpResponse> PutRules(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  QueryReader q(call.request);
  std::string toml;
  std::string note = q.Get("note").value_or("");
  HIKESHI_CHECK(q.RejectUnknown());
  const std::string_view content_type = call.request.Header("content-type");
  if (IsMedia(content_type, "application/json")) {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(toml, body.RequiredString("toml"));
    HIKESHI_TRY(const auto json_note, body.String("note"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (json_note) note = *json_note;
  } else if (IsMedia(content_type, "application/toml") || IsMedia(content_type, "text/plain")) {
    toml = call.request.body;
  } else {
    return Fail(Error::InvalidArgument(
        "send the rule set as Content-Type application/toml, or as JSON {\"toml\": ..., \"note\": ...}",
        "/content-type"));
  }
  HIKESHI_TRY(const auto put, triage->Put(call.principal(), toml, note));
  auto response = Json(put.created ? 201 : 200, RenderVersion(put.stored));
  response.headers.emplace_back("Location", "/api/v1/triage/rules/versions/" + std::to_string(put.stored.version));
  return response;
}

Result<HttpResponse> ListVersions(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  QueryReader q(call.request);
  HIKESHI_CHECK(q.RejectUnknown());
  HIKESHI_TRY(const auto versions, triage->Versions(call.principal()));
  ordered_json items = ordered_json::array();
  for (const auto& v : versions) items.push_back(RenderVersionSummary(v));
  return Json(200, {{"items", std::move(items)}});
}

Result<HttpResponse> GetVersion(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  QueryReader q(call.request);
  HIKESHI_CHECK(q.RejectUnknown());
  const std::string& text = call.params[0];
  int version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return Fail(Error::NotFound("rule set version '" + text + "'"));
  }
  HIKESHI_TRY(const auto stored, triage->Version(call.principal(), version));
  return Json(200, RenderVersion(stored));
}

Result<HttpResponse> GetReportTriage(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  QueryReader q(call.request);
  HIKESHI_CHECK(q.RejectUnknown());
  HIKESHI_TRY(const auto record, triage->Get(call.principal(), call.params[0]));
  return Json(200, RenderRecord(record));
}

Result<HttpResponse> OverrideReportTriage(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* triage, Service(services));
  HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
  core::TriageOverride change;
  HIKESHI_TRY(change.category, body.String("category"));
  HIKESHI_TRY(const auto impact, body.Integer("impact"));
  HIKESHI_TRY(const auto urgency, body.Integer("urgency"));
  HIKESHI_TRY(change.tlp, body.String("tlp"));
  HIKESHI_TRY(change.owner, body.String("owner"));
  HIKESHI_TRY(change.disposition, body.String("disposition"));
  HIKESHI_TRY(change.reason, body.RequiredString("reason"));
  HIKESHI_CHECK(body.RejectUnknownFields());
  const auto level = [](const std::optional<std::int64_t>& value, const char* field) -> Result<std::optional<int>> {
    if (!value) return std::optional<int>();
    if (*value < 1 || *value > 4)
      return Fail(Error::InvalidArgument("must be between 1 (highest) and 4 (lowest)", field));
    return std::optional<int>(static_cast<int>(*value));
  };
  HIKESHI_TRY(change.impact, level(impact, "/impact"));
  HIKESHI_TRY(change.urgency, level(urgency, "/urgency"));
  HIKESHI_TRY(const auto record, triage->Override(call.principal(), call.params[0], change));
  return Json(200, RenderRecord(record));
}

}  // namespace

void AddTriageRoutes(const RouteSink& add, const ApiServices& services) {
  const auto bind = [&services](Result<HttpResponse> (*handler)(const ApiServices&, Call&)) {
    return [&services, handler](Call& call) { return handler(services, call); };
  };
  add("GET", "/api/v1/triage/rules", true, bind(&GetRules));
  add("PUT", "/api/v1/triage/rules", true, bind(&PutRules));
  add("GET", "/api/v1/triage/rules/versions", true, bind(&ListVersions));
  add("GET", "/api/v1/triage/rules/versions/{version}", true, bind(&GetVersion));
  add("GET", "/api/v1/reports/{id}/triage", true, bind(&GetReportTriage));
  add("POST", "/api/v1/reports/{id}/triage", true, bind(&OverrideReportTriage));
}

}  // namespace hikeshi::api::detail
