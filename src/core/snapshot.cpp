#include "hikeshi/core/snapshot.hpp"

#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/mail_codec.hpp"

namespace hikeshi::core {

namespace {
using common::FormatRfc3339;
using nlohmann::ordered_json;

ordered_json Optional(const std::optional<std::int64_t>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json Optional(const std::optional<Timestamp>& v) {
  return v ? ordered_json(FormatRfc3339(*v)) : ordered_json(nullptr);
}

ordered_json Observables(const std::vector<Observable>& observables) {
  ordered_json out = ordered_json::array();
  for (const auto& o : observables) out.push_back({{"type", ObservableTypeName(o.type)}, {"value", o.value}});
  return out;
}

// One fixed field order per type, so the same object always yields the same bytes. dump() with
// ensure_ascii keeps the bytes independent of how a backend stores text.
std::string Dump(const ordered_json& j) { return j.dump(-1, ' ', true); }
}  // namespace

std::string Snapshot(const Incident& i) {
  ordered_json j;
  j["id"] = i.human_id;
  j["title"] = i.title;
  j["description"] = i.description;
  j["category"] = i.category.ToString();
  j["apt"] = i.apt;
  j["constituency_id"] = Optional(i.constituency_id);
  j["impact"] = i.impact;
  j["urgency"] = i.urgency;
  j["priority"] = i.priority;
  j["status"] = StatusName(i.status);
  j["phase"] = PhaseName(i.phase);
  j["owner_id"] = Optional(i.owner_id);
  j["tlp"] = TlpName(i.tlp);
  j["exercise"] = i.exercise;
  j["merged_into"] = Optional(i.merged_into);
  j["observables"] = Observables(i.observables);
  j["created_at"] = FormatRfc3339(i.created_at);
  j["updated_at"] = FormatRfc3339(i.updated_at);
  j["resolved_at"] = Optional(i.resolved_at);
  j["closed_at"] = Optional(i.closed_at);
  return Dump(j);
}

std::string Snapshot(const Report& r) {
  ordered_json j;
  j["id"] = r.human_id;
  j["channel"] = ChannelName(r.channel);
  j["reporter"] = r.reporter;
  j["subject"] = r.subject;
  j["body_sha256"] = common::Sha256Hex(r.body);  // bodies can be large; the digest pins them
  j["category"] = r.category ? ordered_json(r.category->ToString()) : ordered_json(nullptr);
  j["constituency_id"] = Optional(r.constituency_id);
  j["tlp"] = TlpName(r.tlp);
  j["status"] = ReportStatusName(r.status);
  j["incident_id"] = Optional(r.incident_id);
  j["reject_reason"] = r.reject_reason ? ordered_json(RejectReasonName(*r.reject_reason)) : ordered_json(nullptr);
  j["reject_comment"] = r.reject_comment;
  j["observables"] = Observables(r.observables);
  j["flags"] = r.flags;
  j["fingerprint"] = r.fingerprint;
  j["event_count"] = r.event_count;
  j["first_seen"] = Optional(r.first_seen);
  j["last_seen"] = Optional(r.last_seen);
  j["received_at"] = FormatRfc3339(r.received_at);
  j["updated_at"] = FormatRfc3339(r.updated_at);
  return Dump(j);
}

std::string Snapshot(const Constituency& c) {
  ordered_json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["description"] = c.description;
  j["cidrs"] = c.cidrs;
  j["asns"] = c.asns;
  j["domains"] = c.domains;
  j["created_at"] = FormatRfc3339(c.created_at);
  return Dump(j);
}

std::string Snapshot(const Contact& c) {
  ordered_json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["email"] = c.email;
  j["organisation"] = c.organisation;
  j["kind"] = ContactKindName(c.kind);
  j["pgp_fingerprint"] = c.pgp_fingerprint;
  j["tlp_clearance"] = TlpName(c.tlp_clearance);
  j["constituency_id"] = Optional(c.constituency_id);
  j["created_at"] = FormatRfc3339(c.created_at);
  // Added by schema 5 (SQLite) / 6 (PostgreSQL). Left out while at their defaults, so that a
  // contact recorded before the upgrade still matches its journal entry (audit verify).
  if (c.trust != ContactTrust::kUnvetted || c.introduced_by) {
    j["trust"] = ContactTrustName(c.trust);
    j["introduced_by"] = Optional(c.introduced_by);
  }
  return Dump(j);
}

std::string Snapshot(const User& u) {
  ordered_json j;
  j["id"] = u.id;
  j["username"] = u.username;
  j["display_name"] = u.display_name;
  j["role"] = RoleName(u.role);
  j["scope_all"] = u.scope_all;
  j["constituency_ids"] = u.constituency_ids;
  // The hash of the hash: a password swapped in behind Hikeshi's back is detected, yet the journal
  // holds nothing an attacker could crack.
  j["password_sha256"] = common::Sha256Hex(u.password_hash);
  j["disabled"] = u.disabled;
  j["created_at"] = FormatRfc3339(u.created_at);
  return Dump(j);
}

std::string Snapshot(const ApiToken& t) {
  ordered_json j;
  j["id"] = t.id;
  j["user_id"] = t.user_id;
  j["name"] = t.name;
  j["secret_sha256"] = t.secret_sha256;
  j["revoked"] = t.revoked;
  j["created_at"] = FormatRfc3339(t.created_at);
  return Dump(j);
}

std::string Snapshot(const FeedRun& r) {
  ordered_json j;
  j["id"] = r.id;
  j["format"] = r.format;
  j["source"] = r.source;
  j["records"] = r.records;
  j["events_new"] = r.events_new;
  j["duplicates"] = r.duplicates;
  j["rejects"] = r.rejects;
  j["reports_created"] = r.reports_created;
  j["reports_updated"] = r.reports_updated;
  j["correlations"] = r.correlations;
  j["status"] = r.status;
  j["started_at"] = FormatRfc3339(r.started_at);
  j["finished_at"] = Optional(r.finished_at);
  return Dump(j);
}

std::string Snapshot(const MailMessage& m) {
  ordered_json j;
  j["id"] = m.id;
  j["direction"] = MailDirectionName(m.direction);
  j["kind"] = m.kind;
  j["message_id"] = m.message_id;
  j["report_id"] = Optional(m.report_id);
  j["incident_id"] = Optional(m.incident_id);
  j["from_address"] = m.from_address;
  j["from_name"] = m.from_name;
  j["subject"] = m.subject;
  j["text_sha256"] = common::Sha256Hex(m.text);
  j["in_reply_to"] = m.in_reply_to;
  j["raw_sha256"] = m.raw_sha256;
  j["raw_size"] = m.raw_size;
  j["encrypted"] = m.encrypted;
  j["decrypted"] = m.decrypted;
  j["auto_reason"] = m.auto_reason;
  j["spam"] = m.spam;
  // Recipients, references, attachments, signatures, the abuse report, flags and problems.
  j["details_sha256"] = common::Sha256Hex(EncodeMailDetails(m));
  j["status"] = m.status;
  j["language"] = m.language;
  j["attempts"] = m.attempts;
  j["last_error"] = m.last_error;
  j["next_attempt_at"] = Optional(m.next_attempt_at);
  j["at"] = FormatRfc3339(m.at);
  j["sent_at"] = Optional(m.sent_at);
  return Dump(j);
}

std::string CanonicalAuditBytes(const AuditEntry& e) {
  ordered_json j;
  j["seq"] = e.seq;
  j["at"] = FormatRfc3339(e.at);
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["object_type"] = e.object_type;
  j["object_id"] = e.object_id;
  j["incident"] = e.incident;
  j["before"] = e.before;
  j["after"] = e.after;
  j["prev_hash"] = e.prev_hash;
  return Dump(j);
}

std::string AuditHash(const AuditEntry& entry) {
  return common::Sha256Hex(entry.prev_hash + "\n" + CanonicalAuditBytes(entry));
}

std::string Snapshot(const Record& r) {
  ordered_json j;
  j["id"] = r.id;
  j["kind"] = r.kind;
  j["key"] = r.key;
  j["incident_id"] = Optional(r.incident_id);
  j["state"] = r.state;
  // The body as its owner wrote it, re-dumped so that a backend's JSON type (PostgreSQL jsonb
  // reorders keys) cannot change the bytes; a body that is not JSON is kept as a string.
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    j["body"] = r.body;
  } else {
    j["body"] = std::move(body);
  }
  j["created_at"] = FormatRfc3339(r.created_at);
  j["updated_at"] = FormatRfc3339(r.updated_at);
  return Dump(j);
}

}  // namespace hikeshi::core
