#include "detail/render.hpp"

#include "hikeshi/core/taxonomy.hpp"

namespace hikeshi::api::detail {

namespace {
using nlohmann::json;
using nlohmann::ordered_json;

ordered_json Time(const std::optional<common::Timestamp>& t) {
  return t ? ordered_json(common::FormatRfc3339(*t)) : ordered_json(nullptr);
}

ordered_json Observables(const std::vector<core::Observable>& observables) {
  ordered_json out = ordered_json::array();
  for (const auto& o : observables) out.push_back({{"type", core::ObservableTypeName(o.type)}, {"value", o.value}});
  return out;
}
}  // namespace

void Names::Load() {
  if (loaded_) return;
  loaded_ = true;
  (void)store_.Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto constituencies, r.ListConstituencies());
    for (const auto& c : constituencies) constituencies_[c.id] = c.name;
    HIKESHI_TRY(const auto users, r.ListUsers());
    for (const auto& u : users) users_[u.id] = u.username;
    return {};
  });
}

ordered_json Names::Constituency(std::optional<std::int64_t> id) {
  if (!id) return nullptr;
  Load();
  const auto it = constituencies_.find(*id);
  return it == constituencies_.end() ? ordered_json(nullptr) : ordered_json(it->second);
}

ordered_json Names::User(std::optional<std::int64_t> id) {
  if (!id) return nullptr;
  Load();
  const auto it = users_.find(*id);
  return it == users_.end() ? ordered_json(nullptr) : ordered_json(it->second);
}

ordered_json Names::Incident(std::optional<std::int64_t> id) {
  if (!id) return nullptr;
  auto it = incidents_.find(*id);
  if (it == incidents_.end()) {
    std::optional<std::string> human_id;
    (void)store_.Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto incident, r.FindIncidentById(principal_.scope, *id));
      if (incident) human_id = incident->human_id;
      return {};
    });
    it = incidents_.emplace(*id, human_id).first;
  }
  return it->second ? ordered_json(*it->second) : ordered_json(nullptr);
}

ordered_json RenderIncident(const core::Incident& i, Names& names) {
  ordered_json j;
  j["id"] = i.human_id;
  j["title"] = i.title;
  j["description"] = i.description;
  j["category"] = i.category.ToString();
  j["guide_category"] = core::GuideCategoryName(core::GuideCategoryOf(i.category, i.apt));
  j["apt"] = i.apt;
  j["constituency"] = names.Constituency(i.constituency_id);
  j["impact"] = i.impact;
  j["urgency"] = i.urgency;
  j["priority"] = "P" + std::to_string(i.priority);
  j["status"] = core::StatusName(i.status);
  j["phase"] = core::PhaseName(i.phase);
  j["owner"] = names.User(i.owner_id);
  j["tlp"] = core::TlpName(i.tlp);
  j["exercise"] = i.exercise;
  j["merged_into"] = names.Incident(i.merged_into);
  j["observables"] = Observables(i.observables);
  j["created_at"] = common::FormatRfc3339(i.created_at);
  j["updated_at"] = common::FormatRfc3339(i.updated_at);
  j["resolved_at"] = Time(i.resolved_at);
  j["closed_at"] = Time(i.closed_at);
  return j;
}

ordered_json RenderReport(const core::Report& r, Names& names) {
  ordered_json j;
  j["id"] = r.human_id;
  j["channel"] = core::ChannelName(r.channel);
  j["reporter"] = r.reporter;
  j["subject"] = r.subject;
  j["body"] = r.body;
  j["category"] = r.category ? ordered_json(r.category->ToString()) : ordered_json(nullptr);
  j["constituency"] = names.Constituency(r.constituency_id);
  j["tlp"] = core::TlpName(r.tlp);
  j["status"] = core::ReportStatusName(r.status);
  j["incident"] = names.Incident(r.incident_id);
  j["reject_reason"] = r.reject_reason ? ordered_json(core::RejectReasonName(*r.reject_reason)) : ordered_json(nullptr);
  j["reject_comment"] = r.reject_comment;
  j["observables"] = Observables(r.observables);
  j["flags"] = r.flags;
  if (!r.fingerprint.empty()) {
    j["event_count"] = r.event_count;
    j["first_seen"] = Time(r.first_seen);
    j["last_seen"] = Time(r.last_seen);
  }
  j["received_at"] = common::FormatRfc3339(r.received_at);
  j["updated_at"] = common::FormatRfc3339(r.updated_at);
  return j;
}

ordered_json RenderConstituency(const core::Constituency& c) {
  ordered_json j;
  j["name"] = c.name;
  j["description"] = c.description;
  j["cidrs"] = c.cidrs;
  ordered_json asns = ordered_json::array();
  for (const auto asn : c.asns) asns.push_back("AS" + std::to_string(asn));
  j["asns"] = asns;
  j["domains"] = c.domains;
  j["created_at"] = common::FormatRfc3339(c.created_at);
  return j;
}

ordered_json RenderFeedRun(const core::FeedRun& r) {
  ordered_json j;
  j["id"] = r.id;
  j["format"] = r.format;
  j["source"] = r.source;
  j["status"] = r.status;
  j["records"] = r.records;
  j["events_new"] = r.events_new;
  j["duplicates"] = r.duplicates;
  j["rejects"] = r.rejects;
  j["reports_created"] = r.reports_created;
  j["reports_updated"] = r.reports_updated;
  j["skipped"] = r.skipped;
  j["correlations"] = r.correlations;
  j["started_at"] = common::FormatRfc3339(r.started_at);
  j["finished_at"] = Time(r.finished_at);
  return j;
}

ordered_json RenderUser(const core::User& u, Names& names) {
  ordered_json j;
  j["username"] = u.username;
  j["display_name"] = u.display_name;
  j["role"] = core::RoleName(u.role);
  if (u.scope_all) {
    j["constituencies"] = "all";
  } else {
    ordered_json scope = ordered_json::array();
    for (const auto id : u.constituency_ids) scope.push_back(names.Constituency(id));
    j["constituencies"] = scope;
  }
  j["disabled"] = u.disabled;
  j["created_at"] = common::FormatRfc3339(u.created_at);
  return j;
}

ordered_json RenderTimelineEntry(const core::AuditEntry& e) {
  ordered_json j;
  j["seq"] = e.seq;
  j["at"] = common::FormatRfc3339(e.at);
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["object_type"] = e.object_type;
  j["object_id"] = e.object_id;
  const json before = e.before.empty() ? json::object() : json::parse(e.before, nullptr, false);
  const json after = e.after.empty() ? json::object() : json::parse(e.after, nullptr, false);
  ordered_json changes = ordered_json::object();
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : after.items()) {
      const auto old = before.find(key);
      if (old == before.end() || *old != value) {
        changes[key] = {{"from", old == before.end() ? json(nullptr) : *old}, {"to", value}};
      }
    }
  }
  j["changes"] = changes;
  return j;
}

ordered_json RenderMail(const core::MailMessage& m) {
  ordered_json j;
  j["id"] = m.id;
  j["direction"] = core::MailDirectionName(m.direction);
  j["kind"] = m.kind;
  j["message_id"] = m.message_id;
  j["from"] = {{"address", m.from_address}, {"name", m.from_name}};
  j["to"] = m.to;
  j["subject"] = m.subject;
  j["text"] = m.text;
  j["in_reply_to"] = m.in_reply_to;
  j["references"] = m.references;
  j["raw_sha256"] = m.raw_sha256;
  j["raw_size"] = m.raw_size;
  ordered_json attachments = ordered_json::array();
  for (const auto& a : m.attachments) {
    attachments.push_back({{"sha256", a.sha256},
                           {"filename", a.filename},
                           {"content_type", a.content_type},
                           {"magic_type", a.magic_type},
                           {"size", a.size}});
  }
  j["attachments"] = std::move(attachments);
  ordered_json pgp;
  pgp["encrypted"] = m.encrypted;
  pgp["decrypted"] = m.decrypted;
  ordered_json signatures = ordered_json::array();
  for (const auto& sig : m.signatures) {
    signatures.push_back(
        {{"validity", core::SignatureValidityName(sig.validity)},
         {"fingerprint", sig.fingerprint},
         {"signer", sig.signer},
         {"signed_at", sig.signed_at ? ordered_json(common::FormatRfc3339(*sig.signed_at)) : nullptr}});
  }
  pgp["signatures"] = std::move(signatures);
  j["pgp"] = std::move(pgp);
  if (m.abuse) {
    const auto& a = *m.abuse;
    j["abuse_report"] = {{"format", a.format},
                         {"report_type", a.report_type},
                         {"source_ip", a.source_ip},
                         {"source_port", a.source_port ? ordered_json(*a.source_port) : nullptr},
                         {"reported_uri", a.reported_uri},
                         {"reported_domain", a.reported_domain},
                         {"user_agent", a.user_agent},
                         {"category", a.category ? ordered_json(a.category->ToString()) : nullptr}};
  } else {
    j["abuse_report"] = nullptr;
  }
  j["automatic"] = m.auto_reason;
  j["spam"] = m.spam;
  j["flags"] = m.flags;
  j["problems"] = m.problems;
  j["status"] = m.status;
  j["language"] = m.language;
  j["attempts"] = m.attempts;
  j["last_error"] = m.last_error;
  j["at"] = common::FormatRfc3339(m.at);
  j["sent_at"] = m.sent_at ? ordered_json(common::FormatRfc3339(*m.sent_at)) : nullptr;
  return j;
}

}  // namespace hikeshi::api::detail
