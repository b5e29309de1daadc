#pragma once
// The Store port: everything Hikeshi keeps, behind one interface that each backend (SQLite now,
// PostgreSQL later) implements and that tests/store_contract checks.
//
// Reads go through StoreReader and are always scoped. Writes go through WriteTx, whose public
// mutators are non-virtual: each one writes the object through the backend's Do*() hook AND
// appends exactly one hash-chained audit entry in the same transaction. A backend cannot forget
// the audit entry, and the chain is computed in one place for every backend.
//
// Thread-safety: a Store is shared by all request threads. A StoreReader or WriteTx is valid only
// inside the callback it is passed to, on that thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"

namespace hikeshi::core {

// Keyset pagination: rows come newest first (descending id); pass next_before_id back as
// before_id to get the following page.
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<std::int64_t> next_before_id;  // absent on the last page
};

struct IncidentQuery {
  std::optional<IncidentStatus> status;
  std::optional<std::string> rsit_class;  // matches every type of the class
  std::optional<std::string> rsit_type;   // with rsit_class: exactly that class/type
  std::optional<std::int64_t> constituency_id;
  std::optional<int> priority;
  std::optional<std::int64_t> owner_id;
  std::string text;  // full-text words as the user typed them; empty = no text filter
  // Only incidents holding a record of this kind ("sla-breach").
  std::optional<std::string> with_record;
  std::optional<std::int64_t> before_id;
  int limit = 50;  // 1..500
};

struct ReportQuery {
  std::optional<ReportStatus> status;
  std::optional<std::int64_t> constituency_id;
  std::optional<std::int64_t> incident_id;
  std::optional<std::string> flag;  // e.g. "parse_failed"
  std::string text;
  std::optional<std::int64_t> before_id;
  int limit = 50;
};

// Who did a change and when; stamped on the audit entry.
struct AuditContext {
  std::string actor;
  Timestamp at{};
};

// Reads. Every method that returns incidents or reports filters by `scope` in the query itself,
// so an object outside the scope is indistinguishable from one that does not exist.
// Errors (all methods): kUnavailable when the backend is busy or down, kInternal otherwise.
class StoreReader {
 public:
  virtual ~StoreReader() = default;

  virtual Result<std::optional<Incident>> FindIncident(const Scope& scope, std::string_view human_id) = 0;
  virtual Result<std::optional<Incident>> FindIncidentById(const Scope& scope, std::int64_t id) = 0;
  virtual Result<Page<Incident>> ListIncidents(const Scope& scope, const IncidentQuery& query) = 0;

  virtual Result<std::optional<Report>> FindReport(const Scope& scope, std::string_view human_id) = 0;
  virtual Result<Page<Report>> ListReports(const Scope& scope, const ReportQuery& query) = 0;

  virtual Result<std::optional<Constituency>> FindConstituency(std::string_view name) = 0;
  virtual Result<std::optional<Constituency>> FindConstituencyById(std::int64_t id) = 0;
  virtual Result<std::vector<Constituency>> ListConstituencies() = 0;

  virtual Result<std::vector<Contact>> ListContacts() = 0;

  virtual Result<std::optional<User>> FindUser(std::string_view username) = 0;
  virtual Result<std::optional<User>> FindUserById(std::int64_t id) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;

  virtual Result<std::optional<ApiToken>> FindApiToken(std::string_view secret_sha256) = 0;
  virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;
  virtual Result<std::optional<Session>> FindSession(std::string_view secret_sha256) = 0;

  // The aggregate report with this fingerprint, whatever its scope (intake's own bookkeeping).
  virtual Result<std::optional<Report>> FindReportByFingerprint(std::string_view fingerprint) = 0;
  // Every incident and report holding `observable`, newest first, at most `limit` of each, scoped.
  // Served by the observable index, never by a scan.
  virtual Result<Sightings> FindSightings(const Scope& scope, const Observable& observable, int limit) = 0;
  // Ids of the open incidents of `constituency_id` (none: unassigned ones) holding `observable`.
  virtual Result<std::vector<std::int64_t>> OpenIncidentsWith(std::optional<std::int64_t> constituency_id,
                                                              const Observable& observable) = 0;
  // The correlation candidates of a report, oldest first.
  virtual Result<std::vector<Correlation>> ListCorrelations(std::int64_t report_id) = 0;

  virtual Result<std::optional<FeedRun>> FindFeedRun(std::int64_t id) = 0;
  // Runs in id order after `after_id`, at most `limit`.
  virtual Result<std::vector<FeedRun>> ListFeedRuns(std::int64_t after_id, int limit) = 0;
  // Runs newest first with an id below `before_id` (0: from the newest), at most `limit`.
  virtual Result<std::vector<FeedRun>> ListRecentFeedRuns(std::int64_t before_id, int limit) = 0;
  // A run's rejects in record order (one record's in reason order) after `after_record`, at most `limit`.
  virtual Result<std::vector<FeedReject>> ListFeedRejects(std::int64_t run_id, std::int64_t after_record,
                                                          int limit) = 0;
  // How many events are stored under `fingerprint` (for checks; the report carries the count).
  virtual Result<std::int64_t> CountEvents(std::string_view fingerprint) = 0;

  // Mail, received and sent. Unscoped (intake's bookkeeping): a caller showing mail to a person
  // first checks that the report or incident it belongs to is in the person's scope.
  virtual Result<std::optional<MailMessage>> FindMail(MailDirection direction, std::string_view message_id) = 0;
  virtual Result<std::optional<MailMessage>> FindMailById(std::int64_t id) = 0;
  virtual Result<std::vector<MailMessage>> ListMailForReport(std::int64_t report_id) = 0;      // oldest first
  virtual Result<std::vector<MailMessage>> ListMailForIncident(std::int64_t incident_id) = 0;  // oldest first
  // Every message in id order after `after_id`, at most `limit` (audit verify).
  virtual Result<std::vector<MailMessage>> ListMail(std::int64_t after_id, int limit) = 0;
  // How many outgoing messages of `kind` to `recipient` (the first To, lower case) were queued at
  // or after `since`: the acknowledgement rate limit.
  virtual Result<std::int64_t> CountMailTo(std::string_view kind, std::string_view recipient, Timestamp since) = 0;

  // Response records (see Record). Unscoped, like mail: a caller showing one to a person first
  // checks that the incident it belongs to is in the person's scope.
  virtual Result<std::optional<Record>> FindRecord(std::string_view kind, std::string_view key) = 0;
  // The records of `incident_id` of `kind` ("" = every kind), oldest (lowest id) first.
  virtual Result<std::vector<Record>> ListRecordsForIncident(std::int64_t incident_id, std::string_view kind) = 0;
  // The records of `kind` of any of `incident_ids` (at most 500; borrowed for the call), in id
  // order: one query for a page of incidents.
  virtual Result<std::vector<Record>> ListRecordsForIncidents(std::span<const std::int64_t> incident_ids,
                                                              std::string_view kind) = 0;
  // Records of `kind` ("" = every kind) in id order after `after_id`, at most `limit`.
  virtual Result<std::vector<Record>> ListRecords(std::string_view kind, std::int64_t after_id, int limit) = 0;

  // The journal in sequence order, from `after_seq` (exclusive), at most `limit` entries.
  virtual Result<std::vector<AuditEntry>> ListAudit(std::int64_t after_seq, int limit) = 0;
  // Entries whose `incident` field is `incident_human_id`, in sequence order.
  virtual Result<std::vector<AuditEntry>> ListAuditForIncident(std::string_view incident_human_id) = 0;

  // The blob `sha256` as stored in the `blobs` table (sealed: BlobStore opens it), or nullopt.
  virtual Result<std::optional<SealedBlob>> FindBlob(std::string_view sha256) = 0;
};

// One write transaction. Changes become visible to others only when the callback returns success.
class WriteTx : public StoreReader {
 public:
  // Each mutator: validates nothing about the domain (use cases do), writes, and appends one audit
  // entry with `action`, the canonical before/after snapshots and the chained hash.
  // Errors: kConflict on a unique-key clash (names, Message-IDs), plus the StoreReader errors.

  // Assigns id and human_id ("I-<year of created_at>-NNNNNN") and returns the stored incident.
  Result<Incident> CreateIncident(const AuditContext& ctx, Incident incident);
  Result<void> UpdateIncident(const AuditContext& ctx, std::string_view action, const Incident& before,
                              const Incident& after);

  // Assigns id and human_id ("R-<year of received_at>-NNNNNN").
  Result<Report> CreateReport(const AuditContext& ctx, Report report);
  // `incident` names the incident whose timeline shows this change ("" for none).
  Result<void> UpdateReport(const AuditContext& ctx, std::string_view action, const Report& before, const Report& after,
                            std::string_view incident);
  // A feed fold bringing the aggregate report `before` (as stored) up to date: `after` differs only
  // in event_count, first_seen, last_seen, updated_at and observables appended to before's list.
  // Writes just those and the new observable links, and journals one compact "report.aggregate"
  // entry holding the four values before and after and the added observables (not two full
  // snapshots); `audit verify` applies such entries to the report's last full snapshot.
  // Errors: kInternal when `after` changes anything else (use UpdateReport), kNotFound when the
  // report is gone.
  Result<void> UpdateAggregate(const AuditContext& ctx, const Report& before, const Report& after);

  Result<Constituency> CreateConstituency(const AuditContext& ctx, Constituency constituency);
  Result<void> UpdateConstituency(const AuditContext& ctx, const Constituency& before, const Constituency& after);

  Result<Contact> CreateContact(const AuditContext& ctx, Contact contact);
  // Errors: kNotFound when the contact is gone.
  Result<void> UpdateContact(const AuditContext& ctx, const Contact& before, const Contact& after);

  Result<User> CreateUser(const AuditContext& ctx, User user);
  Result<void> UpdateUser(const AuditContext& ctx, std::string_view action, const User& before, const User& after);

  Result<ApiToken> CreateApiToken(const AuditContext& ctx, ApiToken token);
  Result<void> UpdateApiToken(const AuditContext& ctx, const ApiToken& before, const ApiToken& after);

  // Assigns the id.
  Result<FeedRun> CreateFeedRun(const AuditContext& ctx, FeedRun run);
  Result<void> UpdateFeedRun(const AuditContext& ctx, const FeedRun& before, const FeedRun& after);

  // Assigns the id. `incident` names the incident whose timeline shows the message ("" for none).
  Result<MailMessage> CreateMail(const AuditContext& ctx, MailMessage mail, std::string_view incident);
  Result<void> UpdateMail(const AuditContext& ctx, std::string_view action, const MailMessage& before,
                          const MailMessage& after, std::string_view incident);
  // Leases up to `limit` outgoing messages that are due (status "pending", next_attempt_at absent
  // or <= now, and not leased to a worker until after now) to `worker` until `lease_until`, oldest
  // first. A worker that dies loses its lease when it runs out, and another worker takes the
  // message; a message is sent twice only if a worker dies between the MTA's acceptance and its
  // UpdateMail. Not audited (the send is).
  virtual Result<std::vector<MailMessage>> ClaimOutgoingMail(Timestamp now, std::string_view worker,
                                                             Timestamp lease_until, int limit) = 0;

  // Intake records (not audited one by one; see StoredEvent). Each returns false, writing
  // nothing, when a row with the same key (or report/incident pair) is already stored.
  virtual Result<bool> InsertEvent(const StoredEvent& event) = 0;
  // InsertEvent for each of `events`, in order (a key that comes again in the list is a duplicate
  // from its second time on); returns how many were stored. The default calls InsertEvent per
  // event; a backend may send the whole list at once (PostgreSQL: COPY).
  virtual Result<std::int64_t> InsertEvents(std::span<const StoredEvent> events);
  virtual Result<bool> InsertFeedReject(const FeedReject& reject) = 0;
  virtual Result<bool> InsertCorrelation(const Correlation& correlation) = 0;
  // A blob sealed by BlobStore::SealInline, stored as a row that commits (or rolls back) with the
  // rows naming it; not audited, like a blob file. Returns false, writing nothing, when a blob of
  // that name is stored already (the same plaintext). `created_at` is kept for operators.
  virtual Result<bool> InsertBlob(const SealedBlob& blob, Timestamp created_at) = 0;

  // Assigns the id; audited as "<kind>.create" with object type `kind` and object id `key`.
  // `incident` names the incident whose timeline shows it ("" for none).
  // Errors: kConflict when a record of the same kind and key exists.
  Result<Record> CreateRecord(const AuditContext& ctx, Record record, std::string_view incident);
  // Stores `after` (same id, kind and key as `before`). `action` is audited, e.g. "task.done".
  Result<void> UpdateRecord(const AuditContext& ctx, std::string_view action, const Record& before, const Record& after,
                            std::string_view incident);
  // The next number of the counter `key` (1, 2, 3...), for human ids of records ("task-2026").
  Result<std::int64_t> NextNumber(std::string_view key) { return NextCounter(key); }

  // Sessions are audited as login/logout events; they are not objects `audit verify` compares.
  Result<void> CreateSession(const AuditContext& ctx, const Session& session, std::string_view username);
  Result<void> DeleteSession(const AuditContext& ctx, const Session& session, std::string_view username);
  // Housekeeping, not audited: drops sessions that expired before `now`.
  virtual Result<void> PurgeExpiredSessions(Timestamp now) = 0;

  // The seq of the last audit entry this transaction appended, 0 when none: what the change feed
  // announces once the transaction has committed (change_signal.hpp).
  std::int64_t last_audit_seq() const { return last_audit_seq_; }

 protected:
  // Backend hooks. Insert hooks return the new row id. Human ids are allocated with NextCounter.
  virtual Result<std::int64_t> NextCounter(std::string_view key) = 0;
  virtual Result<std::int64_t> DoInsertIncident(const Incident& incident) = 0;
  virtual Result<void> DoUpdateIncident(const Incident& incident) = 0;
  virtual Result<std::int64_t> DoInsertReport(const Report& report) = 0;
  // `before` is the report as stored, so that a backend can leave unchanged parts (its text index,
  // its observable links) alone: an aggregate report gains events far more often than words.
  virtual Result<void> DoUpdateReport(const Report& before, const Report& after) = 0;
  // Writes only after's event_count, first_seen, last_seen and updated_at, and links after's
  // observables from position before.observables.size() on (UpdateAggregate checked the rest).
  virtual Result<void> DoUpdateAggregate(const Report& before, const Report& after) = 0;
  virtual Result<std::int64_t> DoInsertConstituency(const Constituency& constituency) = 0;
  virtual Result<void> DoUpdateConstituency(const Constituency& constituency) = 0;
  virtual Result<std::int64_t> DoInsertContact(const Contact& contact) = 0;
  virtual Result<void> DoUpdateContact(const Contact& contact) = 0;
  virtual Result<std::int64_t> DoInsertUser(const User& user) = 0;
  virtual Result<void> DoUpdateUser(const User& user) = 0;
  virtual Result<std::int64_t> DoInsertApiToken(const ApiToken& token) = 0;
  virtual Result<void> DoUpdateApiToken(const ApiToken& token) = 0;
  virtual Result<std::int64_t> DoInsertFeedRun(const FeedRun& run) = 0;
  virtual Result<void> DoUpdateFeedRun(const FeedRun& run) = 0;
  virtual Result<void> DoInsertSession(const Session& session) = 0;
  virtual Result<void> DoDeleteSession(std::string_view secret_sha256) = 0;
  virtual Result<std::int64_t> DoInsertMail(const MailMessage& mail) = 0;
  virtual Result<void> DoUpdateMail(const MailMessage& mail) = 0;
  virtual Result<std::int64_t> DoInsertRecord(const Record& record) = 0;
  virtual Result<void> DoUpdateRecord(const Record& record) = 0;
  // The newest journal entry, read inside this transaction (writers are serialised), or nullopt.
  virtual Result<std::optional<AuditEntry>> DoLastAuditEntry() = 0;
  virtual Result<void> DoAppendAudit(const AuditEntry& entry) = 0;

 private:
  Result<void> Audit(const AuditContext& ctx, std::string_view action, std::string_view object_type,
                     std::string_view object_id, std::string_view incident, std::string before, std::string after);

  std::int64_t last_audit_seq_ = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Runs `body` in one write transaction: committed when it returns success, rolled back when it
  // returns an error (which is passed on). Writers are serialised.
  // Errors: those of `body`, kUnavailable when the store stays busy, kInternal.
  virtual Result<void> Write(const std::function<Result<void>(WriteTx&)>& body) = 0;
  // Runs `body` against one consistent snapshot.
  virtual Result<void> Read(const std::function<Result<void>(StoreReader&)>& body) = 0;
};

}  // namespace hikeshi::core
