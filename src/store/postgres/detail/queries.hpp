#pragma once
// The SQL behind every StoreReader method and every WriteTx hook, as free functions over one
// Connection. The reader and the write transaction classes only forward to these.
//
// Thread-safety: as the Connection passed in (one thread at a time).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

#include "detail/connection.hpp"

namespace hikeshi::store::postgres::detail {

// Largest page a list may ask for (IncidentQuery::limit, ReportQuery::limit).
inline constexpr int kMaxPageSize = 500;

// --- Reads. Incident and report reads apply `scope` in SQL. Rows whose enum columns hold text no
// parser accepts (edited by hand) yield kDataLoss naming the row and column.
Result<std::optional<core::Incident>> FindIncident(Connection& db, const core::Scope& scope, std::string_view human_id);
Result<std::optional<core::Incident>> FindIncidentById(Connection& db, const core::Scope& scope, std::int64_t id);
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<core::Page<core::Incident>> ListIncidents(Connection& db, const core::Scope& scope,
                                                 const core::IncidentQuery& query);
Result<std::optional<core::Report>> FindReport(Connection& db, const core::Scope& scope, std::string_view human_id);
Result<core::Page<core::Report>> ListReports(Connection& db, const core::Scope& scope, const core::ReportQuery& query);

Result<std::optional<core::Constituency>> FindConstituency(Connection& db, std::string_view name);
Result<std::optional<core::Constituency>> FindConstituencyById(Connection& db, std::int64_t id);
Result<std::vector<core::Constituency>> ListConstituencies(Connection& db);  // in creation order
Result<std::vector<core::Contact>> ListContacts(Connection& db);             // in creation order
Result<std::optional<core::User>> FindUser(Connection& db, std::string_view username);
Result<std::optional<core::User>> FindUserById(Connection& db, std::int64_t id);
Result<std::vector<core::User>> ListUsers(Connection& db);  // in creation order
Result<std::optional<core::ApiToken>> FindApiToken(Connection& db, std::string_view secret_sha256);
Result<std::vector<core::ApiToken>> ListApiTokens(Connection& db);  // in creation order
Result<std::optional<core::Session>> FindSession(Connection& db, std::string_view secret_sha256);
// Errors: kInvalidArgument when limit < 1.
Result<std::vector<core::AuditEntry>> ListAudit(Connection& db, std::int64_t after_seq, int limit);
Result<std::vector<core::AuditEntry>> ListAuditForIncident(Connection& db, std::string_view incident_human_id);
Result<std::optional<core::AuditEntry>> LastAuditEntry(Connection& db);

// --- Feed intake reads.
// An empty fingerprint finds nothing: reports that are not aggregates all have one.
Result<std::optional<core::Report>> FindReportByFingerprint(Connection& db, std::string_view fingerprint);
// Driven by the observable pivot indexes; an owner holding the value twice comes once.
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<core::Sightings> FindSightings(Connection& db, const core::Scope& scope, const core::Observable& observable,
                                      int limit);
// In id order (oldest first).
Result<std::vector<std::int64_t>> OpenIncidentsWith(Connection& db, std::optional<std::int64_t> constituency_id,
                                                    const core::Observable& observable);
Result<std::vector<core::Correlation>> ListCorrelations(Connection& db, std::int64_t report_id);
Result<std::optional<core::FeedRun>> FindFeedRun(Connection& db, std::int64_t id);
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<std::vector<core::FeedRun>> ListFeedRuns(Connection& db, std::int64_t after_id, int limit);
Result<std::vector<core::FeedRun>> ListRecentFeedRuns(Connection& db, std::int64_t before_id, int limit);
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<std::vector<core::FeedReject>> ListFeedRejects(Connection& db, std::int64_t run_id, std::int64_t after_record,
                                                      int limit);
Result<std::int64_t> CountEvents(Connection& db, std::string_view fingerprint);
// Adds `delta` to the stored event count of `fingerprint` (see PostgresWriteTx::InsertEvent).
// Adds each fingerprint's count of newly stored events, in one statement.
Result<void> AddEventCounts(Connection& db, const std::unordered_map<std::string, std::int64_t>& deltas);

// --- Writes, inside the caller's transaction. Inserts return the new row id. Unique clashes
// yield kConflict naming the object; updates of a row that does not exist yield kNotFound.
// Incidents and reports keep their text rows and their ordered observable links in step.
Result<std::int64_t> NextCounter(Connection& db, std::string_view key);
Result<std::int64_t> InsertIncident(Connection& db, const core::Incident& incident);
Result<void> UpdateIncident(Connection& db, const core::Incident& incident);
Result<std::int64_t> InsertReport(Connection& db, const core::Report& report);
// Rewrites the text rows, the observable links and the flags only where they differ from `before`.
Result<void> UpdateReport(Connection& db, const core::Report& before, const core::Report& report);
// Writes only event_count, first/last_seen and updated_at, and links the observables `after` adds
// at the end of `before`'s list (WriteTx::UpdateAggregate has checked that nothing else changed).
Result<void> UpdateAggregate(Connection& db, const core::Report& before, const core::Report& after);
Result<std::int64_t> InsertConstituency(Connection& db, const core::Constituency& constituency);
Result<void> UpdateConstituency(Connection& db, const core::Constituency& constituency);
Result<std::int64_t> InsertContact(Connection& db, const core::Contact& contact);
Result<void> UpdateContact(Connection& db, const core::Contact& contact);
Result<std::int64_t> InsertUser(Connection& db, const core::User& user);
Result<void> UpdateUser(Connection& db, const core::User& user);
Result<std::int64_t> InsertApiToken(Connection& db, const core::ApiToken& token);
Result<void> UpdateApiToken(Connection& db, const core::ApiToken& token);
Result<void> InsertSession(Connection& db, const core::Session& session);
Result<void> DeleteSession(Connection& db, std::string_view secret_sha256);
Result<void> PurgeExpiredSessions(Connection& db, core::Timestamp now);
Result<void> AppendAudit(Connection& db, const core::AuditEntry& entry);

// --- Feed intake writes.
Result<std::int64_t> InsertFeedRun(Connection& db, const core::FeedRun& run);
Result<void> UpdateFeedRun(Connection& db, const core::FeedRun& run);
// Each returns false, writing nothing, when a row with the same key (for correlations: the same
// report and incident) is already stored. Events and rejects are kept as the 16 bytes their key
// spells, raw records as BYTEA. Errors: kInvalidArgument (field "/key") when a key is not 32 lower-case hex digits;
// kInternal when the run, report or incident does not exist.
Result<bool> InsertEvent(Connection& db, const core::StoredEvent& event);
Result<bool> InsertFeedReject(Connection& db, const core::FeedReject& reject);
// InsertEvent for many events in three statements: COPY into a temporary table, then one INSERT
// ... SELECT DISTINCT ON (key) ... ON CONFLICT DO NOTHING RETURNING. Adds to `stored_counts` (by
// fingerprint) the events it stored, and returns how many that was. Same errors as InsertEvent.
Result<std::int64_t> InsertEvents(Connection& db, std::span<const core::StoredEvent> events,
                                  std::unordered_map<std::string, std::int64_t>& stored_counts);
Result<bool> InsertCorrelation(Connection& db, const core::Correlation& correlation);

// --- Full-text rows, rewritten for one incident or report (hikeshi migrate copies the rows, then
// indexes their text as InsertIncident / InsertReport would).
Result<void> IndexIncidentText(Connection& db, std::int64_t id, std::string_view title, std::string_view description);
Result<void> IndexReportText(Connection& db, std::int64_t id, std::string_view subject, std::string_view body);

// --- Mail. Lists are in id order (oldest first). Inserting a second message with the same
// direction and Message-ID yields kConflict.
Result<std::optional<core::MailMessage>> FindMail(Connection& db, core::MailDirection direction,
                                                  std::string_view message_id);
Result<std::optional<core::MailMessage>> FindMailById(Connection& db, std::int64_t id);
Result<std::vector<core::MailMessage>> ListMailForReport(Connection& db, std::int64_t report_id);
Result<std::vector<core::MailMessage>> ListMailForIncident(Connection& db, std::int64_t incident_id);
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<std::vector<core::MailMessage>> ListMail(Connection& db, std::int64_t after_id, int limit);
Result<std::int64_t> CountMailTo(Connection& db, std::string_view kind, std::string_view recipient,
                                 core::Timestamp since);
Result<std::int64_t> InsertMail(Connection& db, const core::MailMessage& mail);
// Also ends the message's lease (the worker has recorded the outcome).
Result<void> UpdateMail(Connection& db, const core::MailMessage& mail);
// Leases due outgoing messages with FOR UPDATE SKIP LOCKED, so that a row another transaction is
// leasing at the same moment is passed over rather than waited for or leased twice.
// Errors: kInvalidArgument (field "/limit") when limit is outside 1..kMaxPageSize.
Result<std::vector<core::MailMessage>> ClaimOutgoingMail(Connection& db, core::Timestamp now, std::string_view worker,
                                                         core::Timestamp lease_until, int limit);

// --- Response records. Lists are in id order (oldest first); kind "" lists every kind.
// Inserting a second record of the same kind and key yields kConflict; updating one that does not
// exist, kNotFound. ListRecords: kInvalidArgument (field "/limit") when limit is outside
// 1..kMaxPageSize.
Result<std::optional<core::Record>> FindRecord(Connection& db, std::string_view kind, std::string_view key);
Result<std::vector<core::Record>> ListRecordsForIncident(Connection& db, std::int64_t incident_id,
                                                         std::string_view kind);
Result<std::vector<core::Record>> ListRecordsForIncidents(Connection& db, std::span<const std::int64_t> incident_ids,
                                                          std::string_view kind);
Result<std::vector<core::Record>> ListRecords(Connection& db, std::string_view kind, std::int64_t after_id, int limit);
Result<std::int64_t> InsertRecord(Connection& db, const core::Record& record);
// Writes incident_id, state, body and updated_at of the record with `record.id`.
Result<void> UpdateRecord(Connection& db, const core::Record& record);

// --- Blobs kept inline (core::WriteTx::InsertBlob), in the table PostgresBlobStore keeps.
Result<std::optional<core::SealedBlob>> FindBlob(Connection& db, std::string_view sha256);
// false, writing nothing, when a blob of that name is stored already.
Result<bool> InsertBlob(Connection& db, const core::SealedBlob& blob, core::Timestamp created_at);

}  // namespace hikeshi::store::postgres::detail
