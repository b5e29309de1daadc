#pragma once
// The StoreReader and WriteTx the PostgreSQL store hands to callbacks. Both only forward to the SQL in
// queries.hpp over the connection they borrow; the connection's transaction is opened and ended by
// PostgresStore around the callback.
//
// Thread-safety: valid only inside the callback, on its thread (see core/store.hpp).

#include <string>
#include <unordered_map>

#include "hikeshi/core/store.hpp"

#include "detail/connection.hpp"
#include "detail/queries.hpp"

namespace hikeshi::store::postgres::detail {

// Implements every StoreReader method on top of `Base` (StoreReader or WriteTx), so that reads
// inside a write transaction see its own uncommitted changes through the same code.
template <typename Base>
class ReaderOn : public Base {
 public:
  // `connection` must outlive this object.
  explicit ReaderOn(Connection& connection) : connection_(connection) {}
  ReaderOn(const ReaderOn&) = delete;
  ReaderOn& operator=(const ReaderOn&) = delete;

  Result<std::optional<core::Incident>> FindIncident(const core::Scope& scope, std::string_view human_id) override {
    return detail::FindIncident(connection_, scope, human_id);
  }
  Result<std::optional<core::Incident>> FindIncidentById(const core::Scope& scope, std::int64_t id) override {
    return detail::FindIncidentById(connection_, scope, id);
  }
  Result<core::Page<core::Incident>> ListIncidents(const core::Scope& scope,
                                                   const core::IncidentQuery& query) override {
    return detail::ListIncidents(connection_, scope, query);
  }
  Result<std::optional<core::Report>> FindReport(const core::Scope& scope, std::string_view human_id) override {
    return detail::FindReport(connection_, scope, human_id);
  }
  Result<core::Page<core::Report>> ListReports(const core::Scope& scope, const core::ReportQuery& query) override {
    return detail::ListReports(connection_, scope, query);
  }
  Result<std::optional<core::Constituency>> FindConstituency(std::string_view name) override {
    return detail::FindConstituency(connection_, name);
  }
  Result<std::optional<core::Constituency>> FindConstituencyById(std::int64_t id) override {
    return detail::FindConstituencyById(connection_, id);
  }
  Result<std::vector<core::Constituency>> ListConstituencies() override {
    return detail::ListConstituencies(connection_);
  }
  Result<std::vector<core::Contact>> ListContacts() override { return detail::ListContacts(connection_); }
  Result<std::optional<core::User>> FindUser(std::string_view username) override {
    return detail::FindUser(connection_, username);
  }
  Result<std::optional<core::User>> FindUserById(std::int64_t id) override {
    return detail::FindUserById(connection_, id);
  }
  Result<std::vector<core::User>> ListUsers() override { return detail::ListUsers(connection_); }
  Result<std::optional<core::ApiToken>> FindApiToken(std::string_view secret_sha256) override {
    return detail::FindApiToken(connection_, secret_sha256);
  }
  Result<std::vector<core::ApiToken>> ListApiTokens() override { return detail::ListApiTokens(connection_); }
  Result<std::optional<core::Session>> FindSession(std::string_view secret_sha256) override {
    return detail::FindSession(connection_, secret_sha256);
  }
  Result<std::optional<core::Report>> FindReportByFingerprint(std::string_view fingerprint) override {
    return detail::FindReportByFingerprint(connection_, fingerprint);
  }
  Result<core::Sightings> FindSightings(const core::Scope& scope, const core::Observable& observable,
                                        int limit) override {
    return detail::FindSightings(connection_, scope, observable, limit);
  }
  Result<std::vector<std::int64_t>> OpenIncidentsWith(std::optional<std::int64_t> constituency_id,
                                                      const core::Observable& observable) override {
    return detail::OpenIncidentsWith(connection_, constituency_id, observable);
  }
  Result<std::vector<core::Correlation>> ListCorrelations(std::int64_t report_id) override {
    return detail::ListCorrelations(connection_, report_id);
  }
  Result<std::optional<core::FeedRun>> FindFeedRun(std::int64_t id) override {
    return detail::FindFeedRun(connection_, id);
  }
  Result<std::vector<core::FeedRun>> ListFeedRuns(std::int64_t after_id, int limit) override {
    return detail::ListFeedRuns(connection_, after_id, limit);
  }
  Result<std::vector<core::FeedRun>> ListRecentFeedRuns(std::int64_t before_id, int limit) override {
    return detail::ListRecentFeedRuns(connection_, before_id, limit);
  }
  Result<std::vector<core::FeedReject>> ListFeedRejects(std::int64_t run_id, std::int64_t after_record,
                                                        int limit) override {
    return detail::ListFeedRejects(connection_, run_id, after_record, limit);
  }
  Result<std::int64_t> CountEvents(std::string_view fingerprint) override {
    return detail::CountEvents(connection_, fingerprint);
  }
  Result<std::optional<core::MailMessage>> FindMail(core::MailDirection direction,
                                                    std::string_view message_id) override {
    return detail::FindMail(connection_, direction, message_id);
  }
  Result<std::optional<core::MailMessage>> FindMailById(std::int64_t id) override {
    return detail::FindMailById(connection_, id);
  }
  Result<std::vector<core::MailMessage>> ListMailForReport(std::int64_t report_id) override {
    return detail::ListMailForReport(connection_, report_id);
  }
  Result<std::vector<core::MailMessage>> ListMailForIncident(std::int64_t incident_id) override {
    return detail::ListMailForIncident(connection_, incident_id);
  }
  Result<std::vector<core::MailMessage>> ListMail(std::int64_t after_id, int limit) override {
    return detail::ListMail(connection_, after_id, limit);
  }
  Result<std::int64_t> CountMailTo(std::string_view kind, std::string_view recipient, core::Timestamp since) override {
    return detail::CountMailTo(connection_, kind, recipient, since);
  }
  Result<std::optional<core::Record>> FindRecord(std::string_view kind, std::string_view key) override {
    return detail::FindRecord(connection_, kind, key);
  }
  Result<std::vector<core::Record>> ListRecordsForIncident(std::int64_t incident_id, std::string_view kind) override {
    return detail::ListRecordsForIncident(connection_, incident_id, kind);
  }
  Result<std::vector<core::Record>> ListRecordsForIncidents(std::span<const std::int64_t> incident_ids,
                                                            std::string_view kind) override {
    return detail::ListRecordsForIncidents(connection_, incident_ids, kind);
  }
  Result<std::vector<core::Record>> ListRecords(std::string_view kind, std::int64_t after_id, int limit) override {
    return detail::ListRecords(connection_, kind, after_id, limit);
  }
  Result<std::vector<core::AuditEntry>> ListAudit(std::int64_t after_seq, int limit) override {
    return detail::ListAudit(connection_, after_seq, limit);
  }
  Result<std::vector<core::AuditEntry>> ListAuditForIncident(std::string_view incident_human_id) override {
    return detail::ListAuditForIncident(connection_, incident_human_id);
  }
  Result<std::optional<core::SealedBlob>> FindBlob(std::string_view sha256) override {
    return detail::FindBlob(connection_, sha256);
  }

 protected:
  Connection& connection_;
};

class PostgresReader final : public ReaderOn<core::StoreReader> {
 public:
  using ReaderOn::ReaderOn;
};

class PostgresWriteTx final : public ReaderOn<core::WriteTx> {
 public:
  using ReaderOn::ReaderOn;

  Result<void> PurgeExpiredSessions(core::Timestamp now) override {
    return detail::PurgeExpiredSessions(connection_, now);
  }
  // Counts stored events per fingerprint in memory; FlushEventCounts() adds them to event_counts
  // before COMMIT (and before any CountEvents in this transaction), in one statement.
  Result<bool> InsertEvent(const core::StoredEvent& event) override {
    HIKESHI_TRY(const bool stored, detail::InsertEvent(connection_, event));
    if (stored) ++pending_counts_[event.fingerprint];
    return stored;
  }
  // The whole list in one COPY (queries.hpp); counted as InsertEvent counts.
  Result<std::int64_t> InsertEvents(std::span<const core::StoredEvent> events) override {
    return detail::InsertEvents(connection_, events, pending_counts_);
  }
  Result<std::int64_t> CountEvents(std::string_view fingerprint) override {
    HIKESHI_CHECK(FlushEventCounts());
    return detail::CountEvents(connection_, fingerprint);
  }
  Result<void> FlushEventCounts() {
    HIKESHI_CHECK(detail::AddEventCounts(connection_, pending_counts_));
    pending_counts_.clear();
    return {};
  }
  Result<std::vector<core::MailMessage>> ClaimOutgoingMail(core::Timestamp now, std::string_view worker,
                                                           core::Timestamp lease_until, int limit) override {
    return detail::ClaimOutgoingMail(connection_, now, worker, lease_until, limit);
  }
  Result<bool> InsertFeedReject(const core::FeedReject& reject) override {
    return detail::InsertFeedReject(connection_, reject);
  }
  Result<bool> InsertCorrelation(const core::Correlation& correlation) override {
    return detail::InsertCorrelation(connection_, correlation);
  }
  Result<bool> InsertBlob(const core::SealedBlob& blob, core::Timestamp created_at) override {
    return detail::InsertBlob(connection_, blob, created_at);
  }

 protected:
  Result<std::int64_t> NextCounter(std::string_view key) override { return detail::NextCounter(connection_, key); }
  Result<std::int64_t> DoInsertIncident(const core::Incident& incident) override {
    return detail::InsertIncident(connection_, incident);
  }
  Result<void> DoUpdateIncident(const core::Incident& incident) override {
    return detail::UpdateIncident(connection_, incident);
  }
  Result<std::int64_t> DoInsertReport(const core::Report& report) override {
    return detail::InsertReport(connection_, report);
  }
  Result<void> DoUpdateReport(const core::Report& before, const core::Report& after) override {
    return detail::UpdateReport(connection_, before, after);
  }
  Result<void> DoUpdateAggregate(const core::Report& before, const core::Report& after) override {
    return detail::UpdateAggregate(connection_, before, after);
  }
  Result<std::int64_t> DoInsertConstituency(const core::Constituency& constituency) override {
    return detail::InsertConstituency(connection_, constituency);
  }
  Result<void> DoUpdateConstituency(const core::Constituency& constituency) override {
    return detail::UpdateConstituency(connection_, constituency);
  }
  Result<std::int64_t> DoInsertContact(const core::Contact& contact) override {
    return detail::InsertContact(connection_, contact);
  }
  Result<void> DoUpdateContact(const core::Contact& contact) override {
    return detail::UpdateContact(connection_, contact);
  }
  Result<std::int64_t> DoInsertUser(const core::User& user) override { return detail::InsertUser(connection_, user); }
  Result<void> DoUpdateUser(const core::User& user) override { return detail::UpdateUser(connection_, user); }
  Result<std::int64_t> DoInsertApiToken(const core::ApiToken& token) override {
    return detail::InsertApiToken(connection_, token);
  }
  Result<void> DoUpdateApiToken(const core::ApiToken& token) override {
    return detail::UpdateApiToken(connection_, token);
  }
  Result<std::int64_t> DoInsertFeedRun(const core::FeedRun& run) override {
    return detail::InsertFeedRun(connection_, run);
  }
  Result<void> DoUpdateFeedRun(const core::FeedRun& run) override { return detail::UpdateFeedRun(connection_, run); }
  Result<void> DoInsertSession(const core::Session& session) override {
    return detail::InsertSession(connection_, session);
  }
  Result<void> DoDeleteSession(std::string_view secret_sha256) override {
    return detail::DeleteSession(connection_, secret_sha256);
  }
  Result<std::int64_t> DoInsertMail(const core::MailMessage& mail) override {
    return detail::InsertMail(connection_, mail);
  }
  Result<void> DoUpdateMail(const core::MailMessage& mail) override { return detail::UpdateMail(connection_, mail); }
  Result<std::int64_t> DoInsertRecord(const core::Record& record) override {
    return detail::InsertRecord(connection_, record);
  }
  Result<void> DoUpdateRecord(const core::Record& record) override { return detail::UpdateRecord(connection_, record); }
  Result<std::optional<core::AuditEntry>> DoLastAuditEntry() override { return detail::LastAuditEntry(connection_); }
  Result<void> DoAppendAudit(const core::AuditEntry& entry) override { return detail::AppendAudit(connection_, entry); }

 private:
  std::unordered_map<std::string, std::int64_t> pending_counts_;
};

}  // namespace hikeshi::store::postgres::detail
