#pragma once
// The domain objects Hikeshi keeps. Plain value types: copyable, movable, not synchronised.
// Ids are the store's row ids (0 = not yet stored); human ids are what people see.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/inbound_mail.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/observable.hpp"
#include "hikeshi/core/taxonomy.hpp"
#include "hikeshi/core/tlp.hpp"
#include "hikeshi/core/workflow.hpp"

namespace hikeshi::core {

using common::Timestamp;

// Whose incidents we handle: a constituent organisation and the networks and names it owns.
struct Constituency {
  std::int64_t id = 0;
  std::string name;  // unique, e.g. "example-university"
  std::string description;
  std::vector<std::string> cidrs;    // normalised (NormalizeCidr)
  std::vector<std::uint32_t> asns;   // 64500
  std::vector<std::string> domains;  // normalised (NormalizeDomain)
  Timestamp created_at{};
};

enum class ContactKind { kCsirt, kIsp, kHosting, kVendor, kPolice, kExpert, kConstituent, kOther };
std::string_view ContactKindName(ContactKind kind);
std::optional<ContactKind> ParseContactKind(std::string_view text);

// How far the team trusts a contact (the trust circle): vetted in person or by a peer team,
// introduced by a contact we trust, or not vetted at all.
enum class ContactTrust { kUnvetted, kIntroduced, kVetted };
std::string_view ContactTrustName(ContactTrust trust);  // "unvetted", "introduced", "vetted"
std::optional<ContactTrust> ParseContactTrust(std::string_view text);

// Someone we coordinate with: a peer team, an ISP, a vendor, the police, a constituent's PoC.
struct Contact {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string organisation;
  ContactKind kind = ContactKind::kOther;
  std::string pgp_fingerprint;      // upper-case hex, empty when none
  Tlp tlp_clearance = Tlp::kClear;  // the most restricted TLP we may send them in clear text
  std::optional<std::int64_t> constituency_id;
  Timestamp created_at{};
  ContactTrust trust = ContactTrust::kUnvetted;
  std::optional<std::int64_t> introduced_by;  // the id of the contact who introduced this one
};

enum class Role { kAdmin, kHandler, kViewer, kConstituent };
std::string_view RoleName(Role role);  // "admin", "handler", "viewer", "constituent"
std::optional<Role> ParseRole(std::string_view text);

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string display_name;
  Role role = Role::kViewer;
  bool scope_all = false;                      // sees every constituency (always true for admins)
  std::vector<std::int64_t> constituency_ids;  // the scope when !scope_all
  std::string password_hash;                   // argon2id encoded string; never logged, never in the API
  bool disabled = false;
  Timestamp created_at{};
};

// A bearer token for machines. Only the SHA-256 of the secret is kept.
struct ApiToken {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  std::string secret_sha256;
  bool revoked = false;
  Timestamp created_at{};
};

// A browser session. Only the SHA-256 of the cookie value is kept.
struct Session {
  std::string secret_sha256;
  std::int64_t user_id = 0;
  std::string csrf_token;
  Timestamp created_at{};
  Timestamp expires_at{};
};

enum class Channel { kApi, kMail, kWeb, kFeed, kPhone, kManual };
std::string_view ChannelName(Channel channel);
std::optional<Channel> ParseChannel(std::string_view text);

enum class ReportStatus { kNew, kLinked, kRejected };
std::string_view ReportStatusName(ReportStatus status);
std::optional<ReportStatus> ParseReportStatus(std::string_view text);

enum class RejectReason { kNotIncident, kOutOfScope, kSpam, kDuplicate };
std::string_view RejectReasonName(RejectReason reason);  // "not-incident", "out-of-scope", ...
std::optional<RejectReason> ParseRejectReason(std::string_view text);

// One item received on a channel. It is linked to exactly one incident, or rejected with a reason.
struct Report {
  std::int64_t id = 0;
  std::string human_id;  // "R-2026-000001"
  Channel channel = Channel::kApi;
  std::string reporter;  // free text: an address, a name, a feed
  std::string subject;
  std::string body;
  std::optional<Category> category;
  std::optional<std::int64_t> constituency_id;
  Tlp tlp = Tlp::kAmber;
  ReportStatus status = ReportStatus::kNew;
  std::optional<std::int64_t> incident_id;
  std::optional<RejectReason> reject_reason;
  std::string reject_comment;
  std::vector<Observable> observables;
  std::vector<std::string> flags;  // e.g. "parse_failed"
  // Machine events (feeds) fold into one report per fingerprint instead of thousands of rows.
  // Empty for reports that are not aggregates; unique when set.
  std::string fingerprint;
  std::int64_t event_count = 0;  // events folded in (0 for reports that are not aggregates)
  std::optional<Timestamp> first_seen;
  std::optional<Timestamp> last_seen;
  Timestamp received_at{};
  Timestamp updated_at{};
};

struct Incident {
  std::int64_t id = 0;
  std::string human_id;  // "I-2026-000001"
  std::string title;
  std::string description;
  Category category;
  bool apt = false;
  std::optional<std::int64_t> constituency_id;
  int impact = 3;
  int urgency = 3;
  int priority = 3;  // derived: PriorityOf(impact, urgency)
  IncidentStatus status = IncidentStatus::kOpen;
  Phase phase = Phase::kTriage;
  std::optional<std::int64_t> owner_id;
  Tlp tlp = Tlp::kAmber;
  bool exercise = false;
  std::optional<std::int64_t> merged_into;
  std::vector<Observable> observables;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::optional<Timestamp> resolved_at;
  std::optional<Timestamp> closed_at;
};

// One run of a feed through intake: what came in and what became of it. Audited when it starts
// and after each committed batch, so the counters a summary shows are the journal's.
struct FeedRun {
  std::int64_t id = 0;
  std::string format;                // "suricata-eve", "shadowserver", ...
  std::string source;                // file name, "-" for stdin, "api"
  std::int64_t records = 0;          // events and rejects seen
  std::int64_t events_new = 0;       // events stored for the first time
  std::int64_t duplicates = 0;       // events already stored (a rerun, a redelivery)
  std::int64_t rejects = 0;          // records that could not be parsed (kept, with the reason)
  // Records with nothing to store, counted when the run ends: blank lines, Suricata events other
  // than alerts, MISP attributes marked deleted.
  std::int64_t skipped = 0;
  std::int64_t reports_created = 0;  // aggregate reports opened
  std::int64_t reports_updated = 0;  // aggregate reports that gained events
  std::int64_t correlations = 0;     // report-incident candidates found
  std::string status = "running";    // running, finished, failed
  Timestamp started_at{};
  std::optional<Timestamp> finished_at;
};

// One machine event as stored: the record kept raw, keyed so that a rerun or a redelivery of the
// same event is recognised. Intake records are not audited one by one; the report they fold into
// is, with its count.
struct StoredEvent {
  std::string key;  // 32 hex chars: the first 16 bytes of SHA-256(format, event id or raw record)
  std::int64_t run_id = 0;
  std::int64_t record = 0;
  std::string fingerprint;  // of the report it folds into
  std::optional<Timestamp> time;
  // Borrowed for the InsertEvent call: feeds pass through millions of records, and copying each
  // one once more on the way to the store would cost as much as storing it.
  std::string_view raw;
};

// A record that could not be parsed, kept with its position and the reason.
struct FeedReject {
  std::string key;  // as StoredEvent::key, over (format, record number, raw): a rerun adds no copy
  std::int64_t run_id = 0;
  std::int64_t record = 0;
  std::string reason;
  std::string raw;
  Timestamp at{};
};

// A report that shares an observable with an open incident of the same constituency: a candidate
// for linking, shown to the handler.
struct Correlation {
  std::int64_t report_id = 0;
  std::int64_t incident_id = 0;
  Observable observable;
  Timestamp at{};
};

// Where one observable value appears: the pivot.
struct Sightings {
  std::vector<Incident> incidents;  // newest first
  std::vector<Report> reports;      // newest first
};

enum class MailDirection { kIn, kOut };
std::string_view MailDirectionName(MailDirection direction);  // "in", "out"
std::optional<MailDirection> ParseMailDirection(std::string_view text);

// An attachment as kept: the bytes are in the BlobStore under `sha256`.
struct AttachmentRef {
  std::string sha256;
  std::string filename;
  std::string content_type;
  std::string magic_type;
  std::int64_t size = 0;
};

// One e-mail message Hikeshi received or sent. The raw bytes are in the BlobStore (`raw_sha256`);
// this row holds what was parsed from them and where the message belongs: the report it opened
// (or acknowledges), the incident whose timeline shows it.
struct MailMessage {
  std::int64_t id = 0;
  MailDirection direction = MailDirection::kIn;
  // in: "report" (opened a report), "reply" (threaded into an incident or report);
  // out: "ack" (acknowledgement of a report), "notice" (to the reporter), "investigation".
  std::string kind;
  std::string message_id;  // without <>; unique per direction
  std::optional<std::int64_t> report_id;
  std::optional<std::int64_t> incident_id;
  std::string from_address;
  std::string from_name;
  std::vector<std::string> to;
  std::string subject;
  std::string text;
  std::string in_reply_to;
  std::vector<std::string> references;
  std::string raw_sha256;  // "" for an outgoing message not yet composed
  std::int64_t raw_size = 0;
  std::vector<AttachmentRef> attachments;
  bool encrypted = false;
  bool decrypted = false;
  std::vector<SignatureCheck> signatures;
  std::optional<AbuseReport> abuse;
  std::string auto_reason;  // why it counts as automatic mail, "" when it does not
  bool spam = false;
  std::vector<std::string> flags;
  std::vector<std::string> problems;
  // Incoming: what became of the acknowledgement ("queued", "suppressed: spam", ...).
  // Outgoing: the delivery state, "pending", "sent" or "failed".
  std::string status;
  std::string language;  // "ja" or "en": of the message (incoming) or the template used (outgoing)
  int attempts = 0;      // outgoing: delivery attempts so far
  std::string last_error;
  std::optional<Timestamp> next_attempt_at;  // outgoing, pending: not before
  Timestamp at{};                            // received, or queued
  std::optional<Timestamp> sent_at;
};

// A response record: one of the documents of the response loop and of its configuration that is
// read whole rather than searched by column: tasks, countermeasures, investigations, response
// plans, post-incident reviews, incident links, SLA breaches, triage decisions, and the versions of
// playbooks and rule sets. The use case that owns a kind encodes and decodes its body (canonical
// JSON); backends store it as given, so a new kind needs no migration.
struct Record {
  std::int64_t id = 0;
  std::string kind;  // "task", "countermeasure", ...: 1..32 of a-z, 0-9 and '-'
  std::string key;   // unique per kind: a human id ("T-2026-000001"), "phishing@3", ...
  std::optional<std::int64_t> incident_id;  // the incident it belongs to, if any
  std::string state;                        // a short state for lists ("open", "done", "active"...)
  std::string body;                         // a JSON object
  Timestamp created_at{};
  Timestamp updated_at{};
};

// One entry of the append-only, hash-chained audit journal.
struct AuditEntry {
  std::int64_t seq = 0;  // 1, 2, 3... without gaps
  Timestamp at{};
  std::string actor;        // username, or "cli" / "system"
  std::string action;       // "incident.create", "report.link", ...
  std::string object_type;  // "incident", "report", "user", ...
  std::string object_id;    // human id or name
  std::string incident;     // the incident this touches (for its timeline), or empty
  std::string before;       // canonical JSON snapshot, empty when created
  std::string after;        // canonical JSON snapshot, empty when deleted
  std::string prev_hash;    // hash of entry seq-1; 64 zeros for the first
  std::string hash;         // SHA-256 over prev_hash and this entry's canonical form
};

}  // namespace hikeshi::core
