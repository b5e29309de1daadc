#include "detail/schema.hpp"

#include <array>
#include <chrono>

#include <fmt/format.h>

#include "hikeshi/common/time.hpp"

namespace hikeshi::store::sqlite::detail {
namespace {

// Conventions: timestamps are INTEGER microseconds since the epoch (UTC); enums are their canonical
// text names; booleans are 0/1; ordered lists of scalars are JSON arrays; ordered lists of shared
// things (observables) are link tables with a position. Indexes end in id so that each list filter
// walks its index backwards for keyset pagination (id < ? ORDER BY id DESC).
//
// There are deliberately no triggers that write the FTS tables: a person fixing a row with the
// plain sqlite3 shell, which lacks the hikeshi_cjk tokenizer, must be able to. The store keeps the
// FTS rows in step from C++.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE constituencies (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  cidrs       TEXT NOT NULL,  -- JSON array of strings, in order
  asns        TEXT NOT NULL,  -- JSON array of integers, in order
  domains     TEXT NOT NULL,  -- JSON array of strings, in order
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE contacts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT NOT NULL,
  email           TEXT NOT NULL,
  organisation    TEXT NOT NULL,
  kind            TEXT NOT NULL,
  pgp_fingerprint TEXT NOT NULL,
  tlp_clearance   TEXT NOT NULL,
  constituency_id INTEGER REFERENCES constituencies (id),
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_constituency ON contacts (constituency_id);

CREATE TABLE users (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  username         TEXT NOT NULL UNIQUE,
  display_name     TEXT NOT NULL,
  role             TEXT NOT NULL,
  scope_all        INTEGER NOT NULL CHECK (scope_all IN (0, 1)),
  constituency_ids TEXT NOT NULL,  -- JSON array of constituency ids, in order
  password_hash    TEXT NOT NULL,
  disabled         INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  created_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL REFERENCES users (id),
  name          TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  revoked       INTEGER NOT NULL CHECK (revoked IN (0, 1)),
  created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
  secret_sha256 TEXT PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users (id),
  csrf_token    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

-- Human id numbers per kind and year ("I-2026" -> 123), allocated inside the write transaction so
-- that a rolled-back creation leaves no gap.
CREATE TABLE counters (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The append-only, hash-chained journal. seq is given by the writer (previous seq + 1).
CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id   TEXT NOT NULL,
  incident    TEXT NOT NULL,  -- '' when the entry touches no incident
  "before"    TEXT NOT NULL,
  "after"     TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_incident ON audit (incident);

CREATE TABLE observables (
  id         INTEGER PRIMARY KEY,
  type       TEXT NOT NULL,
  value      TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  UNIQUE (type, value)
) STRICT;

CREATE TABLE incidents (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  human_id        TEXT NOT NULL UNIQUE,
  title           TEXT NOT NULL,
  description     TEXT NOT NULL,
  rsit_class      TEXT NOT NULL,
  rsit_type       TEXT NOT NULL,
  apt             INTEGER NOT NULL CHECK (apt IN (0, 1)),
  constituency_id INTEGER REFERENCES constituencies (id),
  impact          INTEGER NOT NULL,
  urgency         INTEGER NOT NULL,
  priority        INTEGER NOT NULL,
  status          TEXT NOT NULL,
  phase           TEXT NOT NULL,
  owner_id        INTEGER REFERENCES users (id),
  tlp             TEXT NOT NULL,
  exercise        INTEGER NOT NULL CHECK (exercise IN (0, 1)),
  merged_into     INTEGER REFERENCES incidents (id),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  resolved_at     INTEGER,
  closed_at       INTEGER
) STRICT;
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_constituency ON incidents (constituency_id, id);
CREATE INDEX incidents_class ON incidents (rsit_class, id);
CREATE INDEX incidents_category ON incidents (rsit_class, rsit_type, id);
CREATE INDEX incidents_priority ON incidents (priority, id);
CREATE INDEX incidents_owner ON incidents (owner_id, id);
CREATE INDEX incidents_merged_into ON incidents (merged_into);

CREATE TABLE incident_observables (
  incident_id   INTEGER NOT NULL REFERENCES incidents (id),
  position      INTEGER NOT NULL,
  observable_id INTEGER NOT NULL REFERENCES observables (id),
  PRIMARY KEY (incident_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX incident_observables_pivot ON incident_observables (observable_id, incident_id);

CREATE TABLE reports (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  human_id        TEXT NOT NULL UNIQUE,
  channel         TEXT NOT NULL,
  reporter        TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  rsit_class      TEXT,  -- both NULL when the report has no category yet
  rsit_type       TEXT,
  constituency_id INTEGER REFERENCES constituencies (id),
  tlp             TEXT NOT NULL,
  status          TEXT NOT NULL,
  incident_id     INTEGER REFERENCES incidents (id),
  reject_reason   TEXT,
  reject_comment  TEXT NOT NULL,
  received_at     INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  CHECK ((rsit_class IS NULL) = (rsit_type IS NULL))
) STRICT;
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_constituency ON reports (constituency_id, id);
CREATE INDEX reports_incident ON reports (incident_id, id);

CREATE TABLE report_observables (
  report_id     INTEGER NOT NULL REFERENCES reports (id),
  position      INTEGER NOT NULL,
  observable_id INTEGER NOT NULL REFERENCES observables (id),
  PRIMARY KEY (report_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX report_observables_pivot ON report_observables (observable_id, report_id);

CREATE TABLE report_flags (
  report_id INTEGER NOT NULL REFERENCES reports (id),
  position  INTEGER NOT NULL,
  flag      TEXT NOT NULL,
  PRIMARY KEY (report_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX report_flags_flag ON report_flags (flag, report_id);

-- Full-text indexes; rowid = incidents.id / reports.id. They keep their own copy of the text
-- (not external content), so an edit of the base table by hand can leave them stale but never
-- corrupt them.
CREATE VIRTUAL TABLE incidents_fts USING fts5(title, description, tokenize = 'hikeshi_cjk');
CREATE VIRTUAL TABLE reports_fts USING fts5(subject, body, tokenize = 'hikeshi_cjk');
)sql";

// Feed intake (issue 4): aggregate reports, feed runs, the events and rejects they bring in, and
// report-incident correlation candidates.
//
// events and feed_rejects are rowid tables with the key as a unique index, not WITHOUT ROWID: their
// rows carry the raw record (about 1 KB for an EVE line, unbounded for a reject), and SQLite's own
// advice is that WITHOUT ROWID suits small rows. With random (hashed) keys, inserting into a B-tree
// of 1 KB rows dirties a table page per event, while a rowid table appends and only the 16-byte key
// index takes random inserts; measured here (300,000 events, WAL, synchronous=FULL), the rowid
// layout inserts 3-4 times faster. Keys are the 16 bytes that StoredEvent::key spells in hex,
// halving the index that every insert probes. CountEvents reads event_counts, which the write
// transaction keeps in step: it counts the events it stores per fingerprint in memory and adds the
// sums just before COMMIT, one upsert per fingerprint per transaction instead of an index entry
// per event (an index on the fingerprint made event inserts twice as slow, measured).
constexpr const char* kMigration2 = R"sql(
ALTER TABLE reports ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN first_seen INTEGER;
ALTER TABLE reports ADD COLUMN last_seen INTEGER;
CREATE UNIQUE INDEX reports_fingerprint ON reports (fingerprint) WHERE fingerprint <> '';

CREATE TABLE feed_runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  format          TEXT NOT NULL,
  source          TEXT NOT NULL,
  records         INTEGER NOT NULL,
  events_new      INTEGER NOT NULL,
  duplicates      INTEGER NOT NULL,
  rejects         INTEGER NOT NULL,
  reports_created INTEGER NOT NULL,
  reports_updated INTEGER NOT NULL,
  correlations    INTEGER NOT NULL,
  status          TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER
) STRICT;

CREATE TABLE events (
  key         BLOB NOT NULL PRIMARY KEY CHECK (length(key) = 16),
  run_id      INTEGER NOT NULL REFERENCES feed_runs (id),
  record      INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  time        INTEGER,
  raw         TEXT NOT NULL
) STRICT;

CREATE TABLE event_counts (
  fingerprint TEXT NOT NULL PRIMARY KEY,
  count       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE feed_rejects (
  key    BLOB NOT NULL PRIMARY KEY CHECK (length(key) = 16),
  run_id INTEGER NOT NULL REFERENCES feed_runs (id),
  record INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw    TEXT NOT NULL,
  at     INTEGER NOT NULL
) STRICT;
CREATE INDEX feed_rejects_run ON feed_rejects (run_id, record);

CREATE TABLE correlations (
  report_id     INTEGER NOT NULL REFERENCES reports (id),
  incident_id   INTEGER NOT NULL REFERENCES incidents (id),
  observable_id INTEGER NOT NULL REFERENCES observables (id),
  at            INTEGER NOT NULL,
  PRIMARY KEY (report_id, incident_id)
) STRICT;
)sql";

// Mail received and sent. The raw bytes are blobs (BlobStore); a row holds what was parsed and
// where the message belongs. Lists and the abuse report are one JSON document (core's
// EncodeMailDetails). Outgoing rows double as the delivery queue: a worker leases due rows
// (claimed_by, lease_until; not part of the audited object) and records the outcome.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE mail_messages (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  kind            TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  report_id       INTEGER REFERENCES reports (id),
  incident_id     INTEGER REFERENCES incidents (id),
  from_address    TEXT NOT NULL,
  from_name       TEXT NOT NULL,
  recipient       TEXT NOT NULL,  -- the first To, lower case (rate limits)
  subject         TEXT NOT NULL,
  text            TEXT NOT NULL,
  in_reply_to     TEXT NOT NULL,
  raw_sha256      TEXT NOT NULL,
  raw_size        INTEGER NOT NULL,
  encrypted       INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  decrypted       INTEGER NOT NULL CHECK (decrypted IN (0, 1)),
  auto_reason     TEXT NOT NULL,
  spam            INTEGER NOT NULL CHECK (spam IN (0, 1)),
  details         TEXT NOT NULL,  -- JSON: to, references, attachments, signatures, abuse, flags, problems
  status          TEXT NOT NULL,
  language        TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  next_attempt_at INTEGER,
  at              INTEGER NOT NULL,
  sent_at         INTEGER,
  claimed_by      TEXT NOT NULL DEFAULT '',
  lease_until     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX mail_messages_message_id ON mail_messages (direction, message_id);
CREATE INDEX mail_messages_report ON mail_messages (report_id, id) WHERE report_id IS NOT NULL;
CREATE INDEX mail_messages_incident ON mail_messages (incident_id, id) WHERE incident_id IS NOT NULL;
CREATE INDEX mail_messages_outbox ON mail_messages (status, id) WHERE direction = 'out' AND status = 'pending';
CREATE INDEX mail_messages_recipient ON mail_messages (kind, recipient, at) WHERE direction = 'out';
)sql";

// Response records (core::Record): documents of the response loop that are read whole, one table
// for every kind. The body is the owner's JSON text, stored as given; a new kind needs no
// migration.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE records (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL,
  key         TEXT NOT NULL,
  incident_id INTEGER REFERENCES incidents (id),
  state       TEXT NOT NULL,
  body        TEXT NOT NULL,  -- JSON object
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (kind, key)
) STRICT;
CREATE INDEX records_incident ON records (incident_id, kind, id) WHERE incident_id IS NOT NULL;
CREATE INDEX records_kind ON records (kind, id);
)sql";

// The trust circle: how far the team trusts a contact and which contact introduced it. Existing
// contacts become unvetted, introduced by nobody.
constexpr const char* kMigration5 = R"sql(
ALTER TABLE contacts ADD COLUMN trust TEXT NOT NULL DEFAULT 'unvetted';
ALTER TABLE contacts ADD COLUMN introduced_by INTEGER REFERENCES contacts (id);
)sql";

// Small blobs (raw mail and attachments up to [mail] inline_blob_max_bytes) kept as rows, sealed
// as the blob files are, committed in the transaction that stores the message naming them: one
// WAL flush instead of a file, its fsync and its directory's fsync each (docs/architecture.md).
// The columns are PostgreSQL's blobs table's. Rows run to hundreds of KiB, so not WITHOUT ROWID.
constexpr const char* kMigration6 = R"sql(
CREATE TABLE blobs (
  sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
  sealed     BLOB NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
)sql";

// Feed runs count the records they had nothing to store for (core::FeedRun::skipped).
constexpr const char* kMigration7 = R"sql(
ALTER TABLE feed_runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
)sql";

// A report's observable links without foreign keys. A feed's fold links tens of thousands of
// observables in one transaction; each link's two parent lookups, and the statement journal that
// a foreign-key check makes SQLite keep for every insert, were about a third of the links' cost
// (docs/PERFORMANCE.md). Only WriteTx writes links, in the transaction that writes the report and
// stores the observables, reports and observables are never deleted, and `hikeshi audit verify`
// compares every report's observables with its journalled snapshot. Same columns and keys as
// before (and as PostgreSQL's table, which keeps its foreign keys).
constexpr const char* kMigration8 = R"sql(
CREATE TABLE report_observables_unchecked (
  report_id     INTEGER NOT NULL,
  position      INTEGER NOT NULL,
  observable_id INTEGER NOT NULL,
  PRIMARY KEY (report_id, position)
) STRICT, WITHOUT ROWID;
INSERT INTO report_observables_unchecked (report_id, position, observable_id)
  SELECT report_id, position, observable_id FROM report_observables ORDER BY report_id, position;
DROP TABLE report_observables;
ALTER TABLE report_observables_unchecked RENAME TO report_observables;
CREATE INDEX report_observables_pivot ON report_observables (observable_id, report_id);
)sql";

constexpr std::array kMigrations = {
    Migration{1, kMigration1}, Migration{2, kMigration2}, Migration{3, kMigration3}, Migration{4, kMigration4},
    Migration{5, kMigration5}, Migration{6, kMigration6}, Migration{7, kMigration7}, Migration{8, kMigration8},
};

Result<int> CurrentVersion(Connection& connection) {
  HIKESHI_TRY(auto stmt, connection.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  HIKESHI_TRY(const bool row, stmt.Step());
  if (!row) return 0;
  return static_cast<int>(stmt.Int(0));
}

Result<void> Apply(Connection& connection, const Migration& migration) {
  HIKESHI_TRY(const int current, CurrentVersion(connection));
  if (current >= migration.version) return {};  // another process got there first
  HIKESHI_CHECK(connection.Execute(migration.sql));
  HIKESHI_TRY(auto record,
              connection.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (:version, :at)"));
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  record.Bind(":version", std::int64_t{migration.version}).Bind(":at", common::ToMicros(now));
  return record.Run();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Result<void> Migrate(Connection& connection) {
  HIKESHI_CHECK(connection.Execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) "
      "STRICT"));
  HIKESHI_TRY(const int found, CurrentVersion(connection));
  const int latest = kMigrations.back().version;
  if (found > latest) {
    return Fail(Error::FailedPrecondition(fmt::format(
        "the database has schema version {}, newer than this program's {}; upgrade Hikeshi", found, latest)));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= found) continue;
    HIKESHI_CHECK(connection.Execute("BEGIN IMMEDIATE"));
    auto applied = Apply(connection, migration);
    if (applied) applied = connection.Execute("COMMIT");
    if (!applied) {
      connection.RollbackQuietly();
      return Fail(Error(applied.error().code(),
                        fmt::format("schema migration {}: {}", migration.version, applied.error().message())));
    }
  }
  return {};
}

}  // namespace hikeshi::store::sqlite::detail
