#include "hikeshi/core/store.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/core/human_id.hpp"
#include "hikeshi/core/snapshot.hpp"

namespace hikeshi::core {

Result<void> WriteTx::Audit(const AuditContext& ctx, std::string_view action, std::string_view object_type,
                            std::string_view object_id, std::string_view incident, std::string before,
                            std::string after) {
  HIKESHI_TRY(const auto last, DoLastAuditEntry());
  AuditEntry entry;
  entry.seq = last ? last->seq + 1 : 1;
  entry.at = ctx.at;
  entry.actor = ctx.actor;
  entry.action = action;
  entry.object_type = object_type;
  entry.object_id = object_id;
  entry.incident = incident;
  entry.before = std::move(before);
  entry.after = std::move(after);
  entry.prev_hash = last ? last->hash : std::string(kGenesisHash);
  entry.hash = AuditHash(entry);
  HIKESHI_CHECK(DoAppendAudit(entry));
  last_audit_seq_ = entry.seq;
  return {};
}

Result<Incident> WriteTx::CreateIncident(const AuditContext& ctx, Incident incident) {
  const int year = common::YearOf(incident.created_at);
  HIKESHI_TRY(const auto number, NextCounter(CounterKey(IdKind::kIncident, year)));
  incident.human_id = FormatHumanId(IdKind::kIncident, year, number);
  HIKESHI_TRY(incident.id, DoInsertIncident(incident));
  HIKESHI_CHECK(
      Audit(ctx, "incident.create", "incident", incident.human_id, incident.human_id, "", Snapshot(incident)));
  return incident;
}

Result<void> WriteTx::UpdateIncident(const AuditContext& ctx, std::string_view action, const Incident& before,
                                     const Incident& after) {
  HIKESHI_CHECK(DoUpdateIncident(after));
  return Audit(ctx, action, "incident", after.human_id, after.human_id, Snapshot(before), Snapshot(after));
}

Result<Report> WriteTx::CreateReport(const AuditContext& ctx, Report report) {
  const int year = common::YearOf(report.received_at);
  HIKESHI_TRY(const auto number, NextCounter(CounterKey(IdKind::kReport, year)));
  report.human_id = FormatHumanId(IdKind::kReport, year, number);
  HIKESHI_TRY(report.id, DoInsertReport(report));
  HIKESHI_CHECK(Audit(ctx, "report.create", "report", report.human_id, "", "", Snapshot(report)));
  return report;
}

Result<void> WriteTx::UpdateReport(const AuditContext& ctx, std::string_view action, const Report& before,
                                   const Report& after, std::string_view incident) {
  HIKESHI_CHECK(DoUpdateReport(before, after));
  return Audit(ctx, action, "report", after.human_id, incident, Snapshot(before), Snapshot(after));
}

namespace {
// The first thing besides the fold's fields in which `after` differs from `before`, or "".
std::string_view NonAggregateChange(const Report& before, const Report& after) {
  if (before.id != after.id || before.human_id != after.human_id) return "id";
  if (before.channel != after.channel) return "channel";
  if (before.reporter != after.reporter) return "reporter";
  if (before.subject != after.subject) return "subject";
  if (before.body != after.body) return "body";
  if (before.category != after.category) return "category";
  if (before.constituency_id != after.constituency_id) return "constituency_id";
  if (before.tlp != after.tlp) return "tlp";
  if (before.status != after.status) return "status";
  if (before.incident_id != after.incident_id) return "incident_id";
  if (before.reject_reason != after.reject_reason) return "reject_reason";
  if (before.reject_comment != after.reject_comment) return "reject_comment";
  if (before.flags != after.flags) return "flags";
  if (before.fingerprint != after.fingerprint) return "fingerprint";
  if (before.received_at != after.received_at) return "received_at";
  if (after.observables.size() < before.observables.size() ||
      !std::equal(before.observables.begin(), before.observables.end(), after.observables.begin())) {
    return "observables (only additions at the end are an aggregate update)";
  }
  return "";
}
}  // namespace

Result<void> WriteTx::UpdateAggregate(const AuditContext& ctx, const Report& before, const Report& after) {
  if (const auto change = NonAggregateChange(before, after); !change.empty()) {
    return Fail(Error::Internal(
        fmt::format("aggregate update of report {} changes {}: not a fold's change", before.human_id, change)));
  }
  HIKESHI_CHECK(DoUpdateAggregate(before, after));
  const std::span<const Observable> added(
      after.observables.begin() + static_cast<std::ptrdiff_t>(before.observables.size()), after.observables.end());
  return Audit(ctx, "report.aggregate", "report", after.human_id, "", AggregateSnapshot(before),
               AggregateSnapshot(after, added));
}

Result<Constituency> WriteTx::CreateConstituency(const AuditContext& ctx, Constituency constituency) {
  HIKESHI_TRY(constituency.id, DoInsertConstituency(constituency));
  HIKESHI_CHECK(Audit(ctx, "constituency.create", "constituency", constituency.name, "", "", Snapshot(constituency)));
  return constituency;
}

Result<void> WriteTx::UpdateConstituency(const AuditContext& ctx, const Constituency& before,
                                         const Constituency& after) {
  HIKESHI_CHECK(DoUpdateConstituency(after));
  return Audit(ctx, "constituency.update", "constituency", after.name, "", Snapshot(before), Snapshot(after));
}

Result<Contact> WriteTx::CreateContact(const AuditContext& ctx, Contact contact) {
  HIKESHI_TRY(contact.id, DoInsertContact(contact));
  HIKESHI_CHECK(Audit(ctx, "contact.create", "contact", std::to_string(contact.id), "", "", Snapshot(contact)));
  return contact;
}

Result<void> WriteTx::UpdateContact(const AuditContext& ctx, const Contact& before, const Contact& after) {
  HIKESHI_CHECK(DoUpdateContact(after));
  return Audit(ctx, "contact.update", "contact", std::to_string(after.id), "", Snapshot(before), Snapshot(after));
}

Result<User> WriteTx::CreateUser(const AuditContext& ctx, User user) {
  HIKESHI_TRY(user.id, DoInsertUser(user));
  HIKESHI_CHECK(Audit(ctx, "user.create", "user", user.username, "", "", Snapshot(user)));
  return user;
}

Result<void> WriteTx::UpdateUser(const AuditContext& ctx, std::string_view action, const User& before,
                                 const User& after) {
  HIKESHI_CHECK(DoUpdateUser(after));
  return Audit(ctx, action, "user", after.username, "", Snapshot(before), Snapshot(after));
}

Result<ApiToken> WriteTx::CreateApiToken(const AuditContext& ctx, ApiToken token) {
  HIKESHI_TRY(token.id, DoInsertApiToken(token));
  HIKESHI_CHECK(Audit(ctx, "token.create", "api_token", std::to_string(token.id), "", "", Snapshot(token)));
  return token;
}

Result<void> WriteTx::UpdateApiToken(const AuditContext& ctx, const ApiToken& before, const ApiToken& after) {
  HIKESHI_CHECK(DoUpdateApiToken(after));
  return Audit(ctx, "token.update", "api_token", std::to_string(after.id), "", Snapshot(before), Snapshot(after));
}

Result<FeedRun> WriteTx::CreateFeedRun(const AuditContext& ctx, FeedRun run) {
  HIKESHI_TRY(run.id, DoInsertFeedRun(run));
  HIKESHI_CHECK(Audit(ctx, "feed_run.start", "feed_run", std::to_string(run.id), "", "", Snapshot(run)));
  return run;
}

Result<void> WriteTx::UpdateFeedRun(const AuditContext& ctx, const FeedRun& before, const FeedRun& after) {
  HIKESHI_CHECK(DoUpdateFeedRun(after));
  return Audit(ctx, after.status == "running" ? "feed_run.batch" : "feed_run." + after.status, "feed_run",
               std::to_string(after.id), "", Snapshot(before), Snapshot(after));
}

Result<MailMessage> WriteTx::CreateMail(const AuditContext& ctx, MailMessage mail, std::string_view incident) {
  HIKESHI_TRY(mail.id, DoInsertMail(mail));
  const char* action = mail.direction == MailDirection::kIn ? "mail.receive" : "mail.queue";
  HIKESHI_CHECK(Audit(ctx, action, "mail", std::to_string(mail.id), incident, "", Snapshot(mail)));
  return mail;
}

Result<void> WriteTx::UpdateMail(const AuditContext& ctx, std::string_view action, const MailMessage& before,
                                 const MailMessage& after, std::string_view incident) {
  HIKESHI_CHECK(DoUpdateMail(after));
  return Audit(ctx, action, "mail", std::to_string(after.id), incident, Snapshot(before), Snapshot(after));
}

Result<std::int64_t> WriteTx::InsertEvents(std::span<const StoredEvent> events) {
  std::int64_t stored = 0;
  for (const StoredEvent& event : events) {
    HIKESHI_TRY(const bool fresh, InsertEvent(event));
    stored += fresh ? 1 : 0;
  }
  return stored;
}

namespace {
// What the journal says about a session: who and until when, never the secret or CSRF token.
std::string SessionEvent(const Session& session, std::string_view username) {
  nlohmann::ordered_json j;
  j["username"] = username;
  j["user_id"] = session.user_id;
  j["created_at"] = common::FormatRfc3339(session.created_at);
  j["expires_at"] = common::FormatRfc3339(session.expires_at);
  return j.dump(-1, ' ', true);
}
}  // namespace

Result<void> WriteTx::CreateSession(const AuditContext& ctx, const Session& session, std::string_view username) {
  HIKESHI_CHECK(DoInsertSession(session));
  return Audit(ctx, "session.login", "session", username, "", "", SessionEvent(session, username));
}

Result<void> WriteTx::DeleteSession(const AuditContext& ctx, const Session& session, std::string_view username) {
  HIKESHI_CHECK(DoDeleteSession(session.secret_sha256));
  return Audit(ctx, "session.logout", "session", username, "", SessionEvent(session, username), "");
}

namespace {
// Object types the journal already uses for other objects: a record kind must not reuse one, or
// `audit verify` would mistake one object for another.
bool ValidRecordKind(std::string_view kind) {
  static constexpr std::string_view kTaken[] = {"incident", "report",   "constituency", "contact", "user",
                                                "api_token", "feed_run", "mail",         "session", "rules"};
  if (kind.empty() || kind.size() > 32) return false;
  for (const char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  for (const auto taken : kTaken) {
    if (kind == taken) return false;
  }
  return true;
}
}  // namespace

Result<Record> WriteTx::CreateRecord(const AuditContext& ctx, Record record, std::string_view incident) {
  if (!ValidRecordKind(record.kind) || record.key.empty()) {
    return Fail(Error::Internal("record kind '" + record.kind + "' or its empty key cannot be stored"));
  }
  HIKESHI_TRY(record.id, DoInsertRecord(record));
  HIKESHI_CHECK(Audit(ctx, record.kind + ".create", record.kind, record.key, incident, "", Snapshot(record)));
  return record;
}

Result<void> WriteTx::UpdateRecord(const AuditContext& ctx, std::string_view action, const Record& before,
                                   const Record& after, std::string_view incident) {
  if (before.id != after.id || before.kind != after.kind || before.key != after.key) {
    return Fail(Error::Internal("a record's id, kind and key cannot change"));
  }
  HIKESHI_CHECK(DoUpdateRecord(after));
  return Audit(ctx, action, after.kind, after.key, incident, Snapshot(before), Snapshot(after));
}

}  // namespace hikeshi::core
