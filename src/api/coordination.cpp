// Routes of coordination with outside parties: the contact directory and the investigations of an
// incident (its coordination threads), with the messages sent in them. The rules (TLP clearance,
// encryption to the contact's key) are core's (investigations.hpp); this file only translates.
#include <charconv>
#include <map>

#include "hikeshi/common/time.hpp"

#include "detail/json_input.hpp"
#include "detail/modules.hpp"
#include "detail/render.hpp"

namespace hikeshi::api::detail {

namespace {
using nlohmann::ordered_json;

ordered_json OptionalTime(const std::optional<common::Timestamp>& t) {
  return t ? ordered_json(common::FormatRfc3339(*t)) : ordered_json(nullptr);
}

ordered_json RenderContact(const core::Contact& c, Names& names) {
  ordered_json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["email"] = c.email;
  j["organisation"] = c.organisation;
  j["kind"] = core::ContactKindName(c.kind);
  j["tlp_clearance"] = core::TlpName(c.tlp_clearance);
  j["constituency"] = names.Constituency(c.constituency_id);
  j["pgp_fingerprint"] = c.pgp_fingerprint.empty() ? ordered_json(nullptr) : ordered_json(c.pgp_fingerprint);
  j["trust"] = core::ContactTrustName(c.trust);
  j["introduced_by"] = c.introduced_by ? ordered_json(*c.introduced_by) : ordered_json(nullptr);
  j["created_at"] = common::FormatRfc3339(c.created_at);
  return j;
}

// What the keyring says about the contact's key: whether mail to them will be encrypted.
ordered_json RenderKey(const core::ContactKey& key) {
  ordered_json j;
  j["usable"] = key.usable;
  j["problem"] = key.problem.empty() ? ordered_json(nullptr) : ordered_json(key.problem);
  if (key.key) {
    j["fingerprint"] = key.key->fingerprint;
    j["user_ids"] = key.key->user_ids;
    j["expires_at"] = OptionalTime(key.key->expires_at);
  }
  return j;
}

// A short form of the contact inside an investigation; null when the contact is gone.
ordered_json ContactSummary(const std::map<std::int64_t, core::Contact>& contacts, std::int64_t id) {
  const auto it = contacts.find(id);
  if (it == contacts.end()) return {{"id", id}};
  const core::Contact& c = it->second;
  return {{"id", c.id},
          {"name", c.name},
          {"email", c.email},
          {"organisation", c.organisation},
          {"kind", core::ContactKindName(c.kind)},
          {"tlp_clearance", core::TlpName(c.tlp_clearance)}};
}

ordered_json RenderInvestigation(const core::Investigation& v, const std::map<std::int64_t, core::Contact>& contacts) {
  ordered_json j;
  j["id"] = v.id;
  j["incident"] = v.incident;
  j["contact"] = ContactSummary(contacts, v.contact_id);
  j["title"] = v.title;
  j["state"] = core::InvestigationStateName(v.state);
  j["due"] = OptionalTime(v.due);
  j["sent"] = v.sent;
  j["replies"] = v.replies;
  j["last_sent_at"] = OptionalTime(v.last_sent_at);
  j["last_reply_at"] = OptionalTime(v.last_reply_at);
  j["created_by"] = v.created_by;
  j["created_at"] = common::FormatRfc3339(v.created_at);
  j["updated_at"] = common::FormatRfc3339(v.updated_at);
  return j;
}

// Every contact by id, for display (whether the principal may pick a contact is core's rule).
Result<std::map<std::int64_t, core::Contact>> ContactsById(core::Store& store) {
  std::map<std::int64_t, core::Contact> out;
  HIKESHI_CHECK(store.Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(auto all, r.ListContacts());
    for (auto& c : all) out.emplace(c.id, std::move(c));
    return {};
  }));
  return out;
}

Result<std::int64_t> ContactId(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Fail(Error::NotFound("contact '" + std::string(text) + "'"));
  }
  return id;
}

Result<std::optional<common::Timestamp>> ParseDue(const std::optional<std::string>& text) {
  if (!text) return std::optional<common::Timestamp>();
  auto t = common::ParseRfc3339(*text);
  if (!t) return Fail(Error::InvalidArgument("must be an RFC 3339 time such as 2026-12-01T09:00:00+09:00", "/due"));
  return t;
}

Result<core::Contacts*> ContactsOf(const ApiServices& s) {
  if (s.contacts == nullptr) return Fail(Error::Unavailable("contacts are not configured on this server"));
  return s.contacts;
}

Result<core::Investigations*> InvestigationsOf(const ApiServices& s) {
  if (s.investigations == nullptr) return Fail(Error::Unavailable("investigations are not configured on this server"));
  return s.investigations;
}

Result<HttpResponse> ShowContact(const ApiServices& s, const core::Principal& principal, const core::Contact& contact,
                                 int status) {
  HIKESHI_TRY(core::Contacts * contacts, ContactsOf(s));
  Names names(s.store, principal);
  ordered_json out = RenderContact(contact, names);
  out["pgp"] = RenderKey(contacts->KeyOf(contact));
  auto response = Json(status, out);
  if (status == 201) response.headers.emplace_back("Location", "/api/v1/contacts/" + std::to_string(contact.id));
  return response;
}

HttpResponse ShowInvestigation(const core::InvestigationDetail& d) {
  std::map<std::int64_t, core::Contact> contacts{{d.contact.id, d.contact}};
  ordered_json out = RenderInvestigation(d.investigation, contacts);
  // What the next message will be: encrypted to the contact's key, or clear text, which the
  // contact's clearance then bounds.
  out["encryption"] = d.key.usable ? "pgp" : "none";
  out["encryption_problem"] = d.key.usable ? ordered_json(nullptr) : ordered_json(d.key.problem);
  out["contact_tlp_clearance"] = core::TlpName(d.contact.tlp_clearance);
  ordered_json mail = ordered_json::array();
  for (const auto& m : d.mail) mail.push_back(RenderMail(m));
  out["mail"] = std::move(mail);
  return Json(200, out);
}
}  // namespace

void AddCoordinationRoutes(const RouteSink& add, const ApiServices& services) {
  const ApiServices& s = services;

  // --- contacts ---
  add("GET", "/api/v1/contacts", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Contacts * contacts, ContactsOf(s));
    QueryReader q(call.request);
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto list, contacts->List(call.principal()));
    Names names(s.store, call.principal());
    ordered_json items = ordered_json::array();
    for (const auto& c : list) items.push_back(RenderContact(c, names));
    return Json(200, {{"items", items}});
  });
  add("POST", "/api/v1/contacts", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Contacts * contacts, ContactsOf(s));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::ContactDraft draft;
    HIKESHI_TRY(draft.name, body.RequiredString("name"));
    HIKESHI_TRY(draft.email, body.RequiredString("email"));
    HIKESHI_TRY(const auto organisation, body.String("organisation"));
    HIKESHI_TRY(const auto kind, body.String("kind"));
    HIKESHI_TRY(const auto clearance, body.String("tlp_clearance"));
    HIKESHI_TRY(draft.constituency, body.String("constituency"));
    HIKESHI_TRY(draft.pgp_key, body.String("pgp_key"));
    HIKESHI_TRY(const auto trust, body.String("trust"));
    HIKESHI_TRY(draft.introduced_by, body.Integer("introduced_by"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    draft.trust = trust.value_or("unvetted");
    draft.organisation = organisation.value_or("");
    draft.kind = kind.value_or("other");
    draft.tlp_clearance = clearance.value_or("TLP:CLEAR");
    HIKESHI_TRY(const auto contact, contacts->Create(call.principal(), draft));
    return ShowContact(s, call.principal(), contact, 201);
  });
  add("GET", "/api/v1/contacts/{id}", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Contacts * contacts, ContactsOf(s));
    HIKESHI_TRY(const auto id, ContactId(call.params[0]));
    HIKESHI_TRY(const auto contact, contacts->Get(call.principal(), id));
    return ShowContact(s, call.principal(), contact, 200);
  });
  add("PATCH", "/api/v1/contacts/{id}", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Contacts * contacts, ContactsOf(s));
    HIKESHI_TRY(const auto id, ContactId(call.params[0]));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::ContactChange change;
    HIKESHI_TRY(change.name, body.String("name"));
    HIKESHI_TRY(change.organisation, body.String("organisation"));
    HIKESHI_TRY(change.tlp_clearance, body.String("tlp_clearance"));
    HIKESHI_TRY(change.trust, body.String("trust"));
    HIKESHI_TRY(change.introduced_by, body.NullableInteger("introduced_by"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto contact, contacts->Update(call.principal(), id, change));
    return ShowContact(s, call.principal(), contact, 200);
  });

  // --- investigations ---
  add("GET", "/api/v1/incidents/{id}/investigations", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Investigations * investigations, InvestigationsOf(s));
    HIKESHI_TRY(const auto list, investigations->List(call.principal(), call.params[0]));
    HIKESHI_TRY(const auto contacts, ContactsById(s.store));
    ordered_json items = ordered_json::array();
    for (const auto& v : list) items.push_back(RenderInvestigation(v, contacts));
    return Json(200, {{"items", items}});
  });
  add("POST", "/api/v1/incidents/{id}/investigations", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Investigations * investigations, InvestigationsOf(s));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::NewInvestigation draft;
    HIKESHI_TRY(const auto contact, body.Integer("contact"));
    HIKESHI_TRY(draft.title, body.RequiredString("title"));
    HIKESHI_TRY(const auto due, body.String("due"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (!contact) return Fail(Error::InvalidArgument("is required: the id of a contact", "/contact"));
    draft.contact_id = *contact;
    HIKESHI_TRY(draft.due, ParseDue(due));
    HIKESHI_TRY(const auto v, investigations->Open(call.principal(), call.params[0], draft));
    HIKESHI_TRY(const auto detail, investigations->Get(call.principal(), v.incident, v.id));
    auto response = ShowInvestigation(detail);
    response.status = 201;
    response.headers.emplace_back("Location", "/api/v1/incidents/" + v.incident + "/investigations/" + v.id);
    return response;
  });
  add("GET", "/api/v1/incidents/{id}/investigations/{investigation}", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Investigations * investigations, InvestigationsOf(s));
    HIKESHI_TRY(const auto detail, investigations->Get(call.principal(), call.params[0], call.params[1]));
    return ShowInvestigation(detail);
  });
  add("PATCH", "/api/v1/incidents/{id}/investigations/{investigation}", true, [&s](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(core::Investigations * investigations, InvestigationsOf(s));
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::InvestigationPatch patch;
    HIKESHI_TRY(patch.state, body.String("state"));
    HIKESHI_TRY(patch.title, body.String("title"));
    HIKESHI_TRY(const auto due, body.NullableString("due"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (due) {
      HIKESHI_TRY(patch.due, ParseDue(*due));
    }
    HIKESHI_CHECK(investigations->Update(call.principal(), call.params[0], call.params[1], patch));
    HIKESHI_TRY(const auto detail, investigations->Get(call.principal(), call.params[0], call.params[1]));
    return ShowInvestigation(detail);
  });
  add("POST", "/api/v1/incidents/{id}/investigations/{investigation}/messages", true,
      [&s](Call& call) -> Result<HttpResponse> {
        HIKESHI_TRY(core::Investigations * investigations, InvestigationsOf(s));
        HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
        core::InvestigationMessage message;
        HIKESHI_TRY(message.subject, body.RequiredString("subject"));
        HIKESHI_TRY(message.body, body.RequiredString("body"));
        HIKESHI_TRY(message.tlp, body.String("tlp"));
        HIKESHI_CHECK(body.RejectUnknownFields());
        HIKESHI_TRY(const auto queued, investigations->Send(call.principal(), call.params[0], call.params[1], message));
        // Accepted for delivery: the queue sends it (see the message's status).
        return Json(202, RenderMail(queued));
      });
}

}  // namespace hikeshi::api::detail
