#include "detail/queries.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/mail_codec.hpp"

#include "detail/cjk_tokenizer.hpp"

namespace hikeshi::store::sqlite::detail {
namespace {

using common::FromMicros;
using common::ToMicros;
using core::Timestamp;

// ---------------------------------------------------------------------------------------------
// Column helpers

// An enum column whose text no parser accepts was edited outside Hikeshi.
template <typename T>
Result<T> Parsed(std::optional<T> value, std::string_view table, std::int64_t id, std::string_view column,
                 std::string_view text) {
  if (value) return *value;
  return Fail(Error::DataLoss(fmt::format("{} row {}: unknown {} \"{}\"", table, id, column, text)));
}

std::optional<Timestamp> OptionalTime(const Statement& row, int column) {
  const auto micros = row.OptionalInt(column);
  if (!micros) return std::nullopt;
  return FromMicros(*micros);
}

std::optional<std::int64_t> OptionalMicros(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return ToMicros(*t);
}

// Replaces SQLite's wording of a unique clash with the object's own name.
template <typename T>
Result<T> NameConflict(Result<T> result, std::string_view what) {
  if (!result && result.error().code() == ErrorCode::kConflict) {
    return Fail(Error::Conflict(fmt::format("{} already exists", what)));
  }
  return result;
}

Result<void> ExpectOneChange(Connection& db, std::string_view what) {
  if (sqlite3_changes(db.Handle()) == 0) return Fail(Error::NotFound(std::string(what)));
  return {};
}

// --- JSON arrays for ordered lists of scalars.

template <typename T>
Result<std::string> JsonArray(const std::vector<T>& values, std::string_view field) {
  try {
    return nlohmann::json(values).dump();
  } catch (const nlohmann::json::exception&) {
    // Only strings can fail: dump() refuses invalid UTF-8.
    return Fail(Error::InvalidArgument("not valid UTF-8", std::string(field)));
  }
}

Result<std::vector<std::string>> StringsFromJson(const std::string& text, std::string_view where) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> values;
  if (!json.is_array()) return Fail(Error::DataLoss(fmt::format("{}: not a JSON array", where)));
  for (const auto& item : json) {
    if (!item.is_string()) return Fail(Error::DataLoss(fmt::format("{}: not a string", where)));
    values.push_back(item.get<std::string>());
  }
  return values;
}

template <typename Int>
Result<std::vector<Int>> IntegersFromJson(const std::string& text, std::string_view where) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<Int> values;
  if (!json.is_array()) return Fail(Error::DataLoss(fmt::format("{}: not a JSON array", where)));
  for (const auto& item : json) {
    bool fits = false;
    if (item.is_number_unsigned()) {
      fits = item.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max());
    } else if (item.is_number_integer()) {
      const auto v = item.get<std::int64_t>();
      fits = v >= static_cast<std::int64_t>(std::numeric_limits<Int>::min()) &&
             (v < 0 || static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max()));
    }
    if (!fits) return Fail(Error::DataLoss(fmt::format("{}: not an integer in range", where)));
    values.push_back(item.get<Int>());
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Scope

// The SQL condition for `scope`, on a table with constituency_id and tlp columns (incidents,
// reports). All() adds none; otherwise constituency_id must be one of the bound ids, which also
// excludes rows with no constituency (NULL IN (...) is not true). A TLP ceiling keeps tlp to the
// bound names of the labels up to it. Fixed texts rather than one "(:all = 1 OR ...)" so that the
// planner can use the constituency index.
std::string_view ScopeClause(const core::Scope& scope) {
  if (scope.max_tlp) {
    return scope.all ? "tlp IN (SELECT value FROM json_each(:scope_tlps))"
                     : "constituency_id IN (SELECT value FROM json_each(:scope_ids)) "
                       "AND tlp IN (SELECT value FROM json_each(:scope_tlps))";
  }
  return scope.all ? "1" : "constituency_id IN (SELECT value FROM json_each(:scope_ids))";
}

void BindScope(Statement& stmt, const core::Scope& scope) {
  if (!scope.all) stmt.Bind(":scope_ids", fmt::format("[{}]", fmt::join(scope.constituency_ids, ",")));
  if (scope.max_tlp) {
    // The names are the enum's own ("TLP:AMBER+STRICT"): nothing to escape in a JSON string.
    const auto names = core::TlpNamesUpTo(*scope.max_tlp);
    stmt.Bind(":scope_tlps", fmt::format("[\"{}\"]", fmt::join(names, "\",\"")));
  }
}

Result<void> CheckLimit(int limit) {
  if (limit < 1 || limit > kMaxPageSize) {
    return Fail(Error::InvalidArgument(fmt::format("limit must be between 1 and {}", kMaxPageSize), "/limit"));
  }
  return {};
}

// Rows were fetched with LIMIT limit+1: an extra row means there is a next page, which starts
// below the last row shown.
template <typename T>
core::Page<T> MakePage(std::vector<T> rows, int limit) {
  core::Page<T> page;
  if (rows.size() > static_cast<std::size_t>(limit)) {
    rows.resize(static_cast<std::size_t>(limit));
    page.next_before_id = rows.back().id;
  }
  page.items = std::move(rows);
  return page;
}

// ---------------------------------------------------------------------------------------------
// Observables

Result<std::vector<core::Observable>> LoadObservables(Connection& db, std::string_view sql, std::int64_t owner_id,
                                                      std::string_view table) {
  HIKESHI_TRY(auto stmt, db.Prepare(sql));
  stmt.Bind(":owner", owner_id);
  std::vector<core::Observable> observables;
  for (;;) {
    HIKESHI_TRY(const bool row, stmt.Step());
    if (!row) break;
    const std::string type_name = stmt.Text(0);
    HIKESHI_TRY(const auto type,
                Parsed(core::ParseObservableType(type_name), table, owner_id, "observable type", type_name));
    observables.push_back(core::Observable{type, stmt.Text(1)});
  }
  return observables;
}

constexpr std::string_view kIncidentObservablesSql =
    "SELECT o.type, o.value FROM incident_observables l JOIN observables o ON o.id = l.observable_id "
    "WHERE l.incident_id = :owner ORDER BY l.position";
constexpr std::string_view kReportObservablesSql =
    "SELECT o.type, o.value FROM report_observables l JOIN observables o ON o.id = l.observable_id "
    "WHERE l.report_id = :owner ORDER BY l.position";

// The upsert itself: first/last seen of `observable` widened to `seen`; returns its id.
Result<std::int64_t> UpsertObservableRow(Connection& db, const core::Observable& observable, Timestamp seen) {
  HIKESHI_TRY(auto upsert, db.Prepare("INSERT INTO observables (type, value, first_seen, last_seen) "
                                      "VALUES (:type, :value, :seen, :seen) "
                                      "ON CONFLICT (type, value) DO UPDATE SET "
                                      "first_seen = min(first_seen, excluded.first_seen), "
                                      "last_seen = max(last_seen, excluded.last_seen) "
                                      "RETURNING id"));
  upsert.Bind(":type", core::ObservableTypeName(observable.type))
      .Bind(":value", std::string_view(observable.value))
      .Bind(":seen", ToMicros(seen));
  HIKESHI_TRY(const bool row, upsert.Step());
  if (!row) return Fail(Error::Internal("observable upsert returned no id"));
  return upsert.Int(0);
}

// Records `observable` (first/last seen widened to `seen`) and returns its id.
Result<std::int64_t> UpsertObservable(Connection& db, const core::Observable& observable, Timestamp seen) {
  const std::int64_t seen_us = ToMicros(seen);
  auto& known = db.KnownObservables();
  std::string memo_key;
  memo_key.reserve(16 + observable.value.size());
  memo_key.append(core::ObservableTypeName(observable.type)).append(1, '\n').append(observable.value);
  if (const auto it = known.find(memo_key);
      it != known.end() && it->second.first_seen <= seen_us && seen_us <= it->second.last_seen) {
    return it->second.id;  // this transaction already stored it with a range that covers `seen`
  }
  HIKESHI_TRY(const std::int64_t id, UpsertObservableRow(db, observable, seen));
  if (known.size() >= 100'000) known.clear();  // bounded; a miss only costs the upsert
  auto& entry = known[std::move(memo_key)];
  if (entry.id != id) entry = {id, seen_us, seen_us};
  entry.first_seen = std::min(entry.first_seen, seen_us);
  entry.last_seen = std::max(entry.last_seen, seen_us);
  return id;
}

// Records each observable and links it at its position. `link_sql` inserts (:owner, :position,
// :observable); it is prepared once for the list. (One INSERT of many rows measured much slower.)
Result<void> LinkObservables(Connection& db, std::string_view link_sql, std::int64_t owner_id,
                             const std::vector<core::Observable>& observables, Timestamp seen,
                             std::size_t first_position = 0) {
  if (first_position >= observables.size()) return {};
  HIKESHI_TRY(auto link, db.Prepare(link_sql));
  for (std::size_t position = first_position; position < observables.size(); ++position) {
    HIKESHI_TRY(const std::int64_t observable_id, UpsertObservable(db, observables[position], seen));
    link.Bind(":owner", owner_id)
        .Bind(":position", static_cast<std::int64_t>(position))
        .Bind(":observable", observable_id);
    HIKESHI_CHECK(link.Run());
    link.Rewind();
  }
  return {};
}

// Rewrites the links only when the list changed, so that an unrelated update (a status change)
// does not count as seeing the observables again.
Result<void> RelinkObservables(Connection& db, std::string_view load_sql, std::string_view unlink_sql,
                               std::string_view link_sql, std::int64_t owner_id, std::string_view table,
                               const std::vector<core::Observable>& observables, Timestamp seen) {
  HIKESHI_TRY(const auto current, LoadObservables(db, load_sql, owner_id, table));
  if (current == observables) return {};
  if (current.size() < observables.size() && std::equal(current.begin(), current.end(), observables.begin())) {
    // Only added at the end (as a fold adds to an aggregate report): the links that stay are kept,
    // and their observables are seen again as a full relink would record them.
    for (const auto& observable : current) HIKESHI_CHECK(UpsertObservable(db, observable, seen));
    return LinkObservables(db, link_sql, owner_id, observables, seen, current.size());
  }
  HIKESHI_TRY(auto unlink, db.Prepare(unlink_sql));
  unlink.Bind(":owner", owner_id);
  HIKESHI_CHECK(unlink.Run());
  return LinkObservables(db, link_sql, owner_id, observables, seen);
}

// ---------------------------------------------------------------------------------------------
// Full-text rows. The FTS tables are written only from here (no triggers; see schema.cpp).

// Replaces the FTS row of `id` unless it already holds exactly this text.
Result<void> WriteText(Connection& db, std::string_view table, std::string_view column1, std::string_view column2,
                       std::int64_t id, std::string_view text1, std::string_view text2) {
  bool exists = false;
  {
    HIKESHI_TRY(auto current,
                db.Prepare(fmt::format("SELECT {}, {} FROM {} WHERE rowid = :id", column1, column2, table)));
    current.Bind(":id", id);
    HIKESHI_TRY(exists, current.Step());
    if (exists && current.Text(0) == text1 && current.Text(1) == text2) return {};
  }
  if (exists) {
    HIKESHI_TRY(auto remove, db.Prepare(fmt::format("DELETE FROM {} WHERE rowid = :id", table)));
    remove.Bind(":id", id);
    HIKESHI_CHECK(remove.Run());
  }
  HIKESHI_TRY(auto insert, db.Prepare(fmt::format("INSERT INTO {} (rowid, {}, {}) VALUES (:id, :text1, :text2)", table,
                                                  column1, column2)));
  insert.Bind(":id", id).Bind(":text1", text1).Bind(":text2", text2);
  return insert.Run();
}

// As WriteText, or, inside a write transaction of SqliteStore, queued for FlushDeferredText (the
// last text given for a row wins).
Result<void> IndexText(Connection& db, std::string_view table, std::string_view column1, std::string_view column2,
                       std::int64_t id, std::string_view text1, std::string_view text2) {
  auto* deferred = db.DeferredText();
  if (deferred == nullptr) return WriteText(db, table, column1, column2, id, text1, text2);
  (*deferred)[{std::string(table), id}] =
      Connection::DeferredTextRow{std::string(column1), std::string(column2), std::string(text1), std::string(text2)};
  return {};
}

// The clause restricting `id` to rows whose FTS row matches, and the expression to bind to
// :match. nullopt clause: no text filter. `matches_nothing`: the user typed only punctuation.
struct TextFilter {
  std::optional<std::string> match;
  bool matches_nothing = false;
};

TextFilter MakeTextFilter(std::string_view text) {
  if (IsBlankQuery(text)) return {};
  auto match = BuildMatchExpression(text);
  if (!match) return {std::nullopt, true};
  return {std::move(match), false};
}

// ---------------------------------------------------------------------------------------------
// Incidents

constexpr std::string_view kIncidentColumns =
    "id, human_id, title, description, rsit_class, rsit_type, apt, constituency_id, impact, urgency, priority, "
    "status, phase, owner_id, tlp, exercise, merged_into, created_at, updated_at, resolved_at, closed_at";

Result<core::Incident> IncidentFromRow(const Statement& row) {
  core::Incident incident;
  incident.id = row.Int(0);
  incident.human_id = row.Text(1);
  incident.title = row.Text(2);
  incident.description = row.Text(3);
  incident.category = core::Category{row.Text(4), row.Text(5)};
  incident.apt = row.Int(6) != 0;
  incident.constituency_id = row.OptionalInt(7);
  incident.impact = static_cast<int>(row.Int(8));
  incident.urgency = static_cast<int>(row.Int(9));
  incident.priority = static_cast<int>(row.Int(10));
  const std::string status = row.Text(11);
  HIKESHI_TRY(incident.status, Parsed(core::ParseStatus(status), "incidents", incident.id, "status", status));
  const std::string phase = row.Text(12);
  HIKESHI_TRY(incident.phase, Parsed(core::ParsePhase(phase), "incidents", incident.id, "phase", phase));
  incident.owner_id = row.OptionalInt(13);
  const std::string tlp = row.Text(14);
  HIKESHI_TRY(incident.tlp, Parsed(core::ParseTlp(tlp), "incidents", incident.id, "tlp", tlp));
  incident.exercise = row.Int(15) != 0;
  incident.merged_into = row.OptionalInt(16);
  incident.created_at = FromMicros(row.Int(17));
  incident.updated_at = FromMicros(row.Int(18));
  incident.resolved_at = OptionalTime(row, 19);
  incident.closed_at = OptionalTime(row, 20);
  return incident;
}

// Steps `stmt` to the end, then loads each incident's observables (after, so that the list
// statement is finished before the next one runs).
Result<std::vector<core::Incident>> CollectIncidents(Connection& db, Statement stmt) {
  std::vector<core::Incident> incidents;
  for (;;) {
    HIKESHI_TRY(const bool row, stmt.Step());
    if (!row) break;
    HIKESHI_TRY(auto incident, IncidentFromRow(stmt));
    incidents.push_back(std::move(incident));
  }
  stmt.Finish();
  for (auto& incident : incidents) {
    HIKESHI_TRY(incident.observables, LoadObservables(db, kIncidentObservablesSql, incident.id, "incidents"));
  }
  return incidents;
}

Result<std::optional<core::Incident>> FirstIncident(Connection& db, Statement stmt) {
  HIKESHI_TRY(auto incidents, CollectIncidents(db, std::move(stmt)));
  if (incidents.empty()) return std::nullopt;
  return std::move(incidents.front());
}

void BindIncident(Statement& stmt, const core::Incident& incident) {
  stmt.Bind(":human_id", std::string_view(incident.human_id))
      .Bind(":title", std::string_view(incident.title))
      .Bind(":description", std::string_view(incident.description))
      .Bind(":rsit_class", std::string_view(incident.category.rsit_class))
      .Bind(":rsit_type", std::string_view(incident.category.rsit_type))
      .BindBool(":apt", incident.apt)
      .Bind(":constituency_id", incident.constituency_id)
      .Bind(":impact", std::int64_t{incident.impact})
      .Bind(":urgency", std::int64_t{incident.urgency})
      .Bind(":priority", std::int64_t{incident.priority})
      .Bind(":status", core::StatusName(incident.status))
      .Bind(":phase", core::PhaseName(incident.phase))
      .Bind(":owner_id", incident.owner_id)
      .Bind(":tlp", core::TlpName(incident.tlp))
      .BindBool(":exercise", incident.exercise)
      .Bind(":merged_into", incident.merged_into)
      .Bind(":created_at", ToMicros(incident.created_at))
      .Bind(":updated_at", ToMicros(incident.updated_at))
      .Bind(":resolved_at", OptionalMicros(incident.resolved_at))
      .Bind(":closed_at", OptionalMicros(incident.closed_at));
}

constexpr std::string_view kLinkIncidentObservableSql =
    "INSERT INTO incident_observables (incident_id, position, observable_id) VALUES (:owner, :position, :observable)";

// ---------------------------------------------------------------------------------------------
// Reports

constexpr std::string_view kReportColumns =
    "id, human_id, channel, reporter, subject, body, rsit_class, rsit_type, constituency_id, tlp, status, "
    "incident_id, reject_reason, reject_comment, received_at, updated_at, fingerprint, event_count, first_seen, "
    "last_seen";

Result<core::Report> ReportFromRow(const Statement& row) {
  core::Report report;
  report.id = row.Int(0);
  report.human_id = row.Text(1);
  const std::string channel = row.Text(2);
  HIKESHI_TRY(report.channel, Parsed(core::ParseChannel(channel), "reports", report.id, "channel", channel));
  report.reporter = row.Text(3);
  report.subject = row.Text(4);
  report.body = row.Text(5);
  if (!row.IsNull(6)) report.category = core::Category{row.Text(6), row.Text(7)};
  report.constituency_id = row.OptionalInt(8);
  const std::string tlp = row.Text(9);
  HIKESHI_TRY(report.tlp, Parsed(core::ParseTlp(tlp), "reports", report.id, "tlp", tlp));
  const std::string status = row.Text(10);
  HIKESHI_TRY(report.status, Parsed(core::ParseReportStatus(status), "reports", report.id, "status", status));
  report.incident_id = row.OptionalInt(11);
  if (const auto reason = row.OptionalText(12)) {
    HIKESHI_TRY(report.reject_reason,
                Parsed(core::ParseRejectReason(*reason), "reports", report.id, "reject_reason", *reason));
  }
  report.reject_comment = row.Text(13);
  report.received_at = FromMicros(row.Int(14));
  report.updated_at = FromMicros(row.Int(15));
  report.fingerprint = row.Text(16);
  report.event_count = row.Int(17);
  report.first_seen = OptionalTime(row, 18);
  report.last_seen = OptionalTime(row, 19);
  return report;
}

Result<std::vector<std::string>> LoadFlags(Connection& db, std::int64_t report_id) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT flag FROM report_flags WHERE report_id = :report ORDER BY position"));
  stmt.Bind(":report", report_id);
  std::vector<std::string> flags;
  for (;;) {
    HIKESHI_TRY(const bool row, stmt.Step());
    if (!row) break;
    flags.push_back(stmt.Text(0));
  }
  return flags;
}

Result<std::vector<core::Report>> CollectReports(Connection& db, Statement stmt) {
  std::vector<core::Report> reports;
  for (;;) {
    HIKESHI_TRY(const bool row, stmt.Step());
    if (!row) break;
    HIKESHI_TRY(auto report, ReportFromRow(stmt));
    reports.push_back(std::move(report));
  }
  stmt.Finish();
  for (auto& report : reports) {
    HIKESHI_TRY(report.observables, LoadObservables(db, kReportObservablesSql, report.id, "reports"));
    HIKESHI_TRY(report.flags, LoadFlags(db, report.id));
  }
  return reports;
}

void BindReport(Statement& stmt, const core::Report& report) {
  std::optional<std::string> reject_reason;
  if (report.reject_reason) reject_reason = std::string(core::RejectReasonName(*report.reject_reason));
  std::optional<std::string> rsit_class;
  std::optional<std::string> rsit_type;
  if (report.category) {
    rsit_class = report.category->rsit_class;
    rsit_type = report.category->rsit_type;
  }
  stmt.Bind(":human_id", std::string_view(report.human_id))
      .Bind(":channel", core::ChannelName(report.channel))
      .Bind(":reporter", std::string_view(report.reporter))
      .Bind(":subject", std::string_view(report.subject))
      .Bind(":body", std::string_view(report.body))
      .Bind(":rsit_class", rsit_class)
      .Bind(":rsit_type", rsit_type)
      .Bind(":constituency_id", report.constituency_id)
      .Bind(":tlp", core::TlpName(report.tlp))
      .Bind(":status", core::ReportStatusName(report.status))
      .Bind(":incident_id", report.incident_id)
      .Bind(":reject_reason", reject_reason)
      .Bind(":reject_comment", std::string_view(report.reject_comment))
      .Bind(":received_at", ToMicros(report.received_at))
      .Bind(":updated_at", ToMicros(report.updated_at))
      .Bind(":fingerprint", std::string_view(report.fingerprint))
      .Bind(":event_count", report.event_count)
      .Bind(":first_seen", OptionalMicros(report.first_seen))
      .Bind(":last_seen", OptionalMicros(report.last_seen));
}

// Names the clash: a fingerprint (two aggregates for one fingerprint) or the human id.
template <typename T>
Result<T> ReportConflict(Result<T> result, const core::Report& report) {
  if (!result && result.error().code() == ErrorCode::kConflict &&
      result.error().message().find("reports.fingerprint") != std::string::npos) {
    return Fail(
        Error::Conflict(fmt::format("an aggregate report with fingerprint \"{}\" already exists", report.fingerprint)));
  }
  return NameConflict(std::move(result), fmt::format("report {}", report.human_id));
}

Result<void> WriteFlags(Connection& db, std::int64_t report_id, const std::vector<std::string>& flags) {
  HIKESHI_TRY(auto clear, db.Prepare("DELETE FROM report_flags WHERE report_id = :report"));
  clear.Bind(":report", report_id);
  HIKESHI_CHECK(clear.Run());
  for (std::size_t position = 0; position < flags.size(); ++position) {
    HIKESHI_TRY(auto insert,
                db.Prepare("INSERT INTO report_flags (report_id, position, flag) VALUES (:report, :position, :flag)"));
    insert.Bind(":report", report_id)
        .Bind(":position", static_cast<std::int64_t>(position))
        .Bind(":flag", std::string_view(flags[position]));
    HIKESHI_CHECK(insert.Run());
  }
  return {};
}

constexpr std::string_view kLinkReportObservableSql =
    "INSERT INTO report_observables (report_id, position, observable_id) VALUES (:owner, :position, :observable)";

// ---------------------------------------------------------------------------------------------
// Constituencies, contacts, users, tokens, sessions, audit

constexpr std::string_view kConstituencyColumns = "id, name, description, cidrs, asns, domains, created_at";

Result<core::Constituency> ConstituencyFromRow(const Statement& row) {
  core::Constituency constituency;
  constituency.id = row.Int(0);
  constituency.name = row.Text(1);
  constituency.description = row.Text(2);
  const std::string where = fmt::format("constituencies row {}", constituency.id);
  HIKESHI_TRY(constituency.cidrs, StringsFromJson(row.Text(3), where + " cidrs"));
  HIKESHI_TRY(constituency.asns, IntegersFromJson<std::uint32_t>(row.Text(4), where + " asns"));
  HIKESHI_TRY(constituency.domains, StringsFromJson(row.Text(5), where + " domains"));
  constituency.created_at = FromMicros(row.Int(6));
  return constituency;
}

constexpr std::string_view kContactColumns =
    "id, name, email, organisation, kind, pgp_fingerprint, tlp_clearance, constituency_id, created_at, trust, "
    "introduced_by";

Result<core::Contact> ContactFromRow(const Statement& row) {
  core::Contact contact;
  contact.id = row.Int(0);
  contact.name = row.Text(1);
  contact.email = row.Text(2);
  contact.organisation = row.Text(3);
  const std::string kind = row.Text(4);
  HIKESHI_TRY(contact.kind, Parsed(core::ParseContactKind(kind), "contacts", contact.id, "kind", kind));
  contact.pgp_fingerprint = row.Text(5);
  const std::string tlp = row.Text(6);
  HIKESHI_TRY(contact.tlp_clearance, Parsed(core::ParseTlp(tlp), "contacts", contact.id, "tlp_clearance", tlp));
  contact.constituency_id = row.OptionalInt(7);
  contact.created_at = FromMicros(row.Int(8));
  const std::string trust = row.Text(9);
  HIKESHI_TRY(contact.trust, Parsed(core::ParseContactTrust(trust), "contacts", contact.id, "trust", trust));
  contact.introduced_by = row.OptionalInt(10);
  return contact;
}

constexpr std::string_view kUserColumns =
    "id, username, display_name, role, scope_all, constituency_ids, password_hash, disabled, created_at";

Result<core::User> UserFromRow(const Statement& row) {
  core::User user;
  user.id = row.Int(0);
  user.username = row.Text(1);
  user.display_name = row.Text(2);
  const std::string role = row.Text(3);
  HIKESHI_TRY(user.role, Parsed(core::ParseRole(role), "users", user.id, "role", role));
  user.scope_all = row.Int(4) != 0;
  HIKESHI_TRY(user.constituency_ids,
              IntegersFromJson<std::int64_t>(row.Text(5), fmt::format("users row {} constituency_ids", user.id)));
  user.password_hash = row.Text(6);
  user.disabled = row.Int(7) != 0;
  user.created_at = FromMicros(row.Int(8));
  return user;
}

Result<void> BindUser(Statement& stmt, const core::User& user) {
  HIKESHI_TRY(const std::string ids, JsonArray(user.constituency_ids, "/constituency_ids"));
  stmt.Bind(":username", std::string_view(user.username))
      .Bind(":display_name", std::string_view(user.display_name))
      .Bind(":role", core::RoleName(user.role))
      .BindBool(":scope_all", user.scope_all)
      .Bind(":constituency_ids", std::string_view(ids))
      .Bind(":password_hash", std::string_view(user.password_hash))
      .BindBool(":disabled", user.disabled)
      .Bind(":created_at", ToMicros(user.created_at));
  return {};
}

Result<void> BindConstituency(Statement& stmt, const core::Constituency& constituency) {
  HIKESHI_TRY(const std::string cidrs, JsonArray(constituency.cidrs, "/cidrs"));
  HIKESHI_TRY(const std::string asns, JsonArray(constituency.asns, "/asns"));
  HIKESHI_TRY(const std::string domains, JsonArray(constituency.domains, "/domains"));
  stmt.Bind(":name", std::string_view(constituency.name))
      .Bind(":description", std::string_view(constituency.description))
      .Bind(":cidrs", std::string_view(cidrs))
      .Bind(":asns", std::string_view(asns))
      .Bind(":domains", std::string_view(domains))
      .Bind(":created_at", ToMicros(constituency.created_at));
  return {};
}

constexpr std::string_view kApiTokenColumns = "id, user_id, name, secret_sha256, revoked, created_at";

core::ApiToken ApiTokenFromRow(const Statement& row) {
  core::ApiToken token;
  token.id = row.Int(0);
  token.user_id = row.Int(1);
  token.name = row.Text(2);
  token.secret_sha256 = row.Text(3);
  token.revoked = row.Int(4) != 0;
  token.created_at = FromMicros(row.Int(5));
  return token;
}

constexpr std::string_view kAuditColumns =
    "seq, at, actor, action, object_type, object_id, incident, \"before\", \"after\", prev_hash, hash";

core::AuditEntry AuditFromRow(const Statement& row) {
  core::AuditEntry entry;
  entry.seq = row.Int(0);
  entry.at = FromMicros(row.Int(1));
  entry.actor = row.Text(2);
  entry.action = row.Text(3);
  entry.object_type = row.Text(4);
  entry.object_id = row.Text(5);
  entry.incident = row.Text(6);
  entry.before = row.Text(7);
  entry.after = row.Text(8);
  entry.prev_hash = row.Text(9);
  entry.hash = row.Text(10);
  return entry;
}

// Reads every row of `stmt` through `from_row` (which returns T or Result<T>).
template <typename T, typename FromRow>
Result<std::vector<T>> CollectRows(Statement& stmt, FromRow from_row) {
  std::vector<T> rows;
  for (;;) {
    HIKESHI_TRY(const bool row, stmt.Step());
    if (!row) break;
    if constexpr (std::is_same_v<decltype(from_row(stmt)), T>) {
      rows.push_back(from_row(stmt));
    } else {
      HIKESHI_TRY(auto value, from_row(stmt));
      rows.push_back(std::move(value));
    }
  }
  return rows;
}

template <typename T, typename FromRow>
Result<std::optional<T>> FirstRow(Statement& stmt, FromRow from_row) {
  HIKESHI_TRY(auto rows, (CollectRows<T>(stmt, from_row)));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// ---------------------------------------------------------------------------------------------
// Feed intake

constexpr std::string_view kFeedRunColumns =
    "id, format, source, records, events_new, duplicates, rejects, reports_created, reports_updated, correlations, "
    "status, started_at, finished_at, skipped";

core::FeedRun FeedRunFromRow(const Statement& row) {
  core::FeedRun run;
  run.id = row.Int(0);
  run.format = row.Text(1);
  run.source = row.Text(2);
  run.records = row.Int(3);
  run.events_new = row.Int(4);
  run.duplicates = row.Int(5);
  run.rejects = row.Int(6);
  run.reports_created = row.Int(7);
  run.reports_updated = row.Int(8);
  run.correlations = row.Int(9);
  run.status = row.Text(10);
  run.started_at = FromMicros(row.Int(11));
  run.finished_at = OptionalTime(row, 12);
  run.skipped = row.Int(13);
  return run;
}

void BindFeedRun(Statement& stmt, const core::FeedRun& run) {
  stmt.Bind(":format", std::string_view(run.format))
      .Bind(":source", std::string_view(run.source))
      .Bind(":records", run.records)
      .Bind(":events_new", run.events_new)
      .Bind(":duplicates", run.duplicates)
      .Bind(":rejects", run.rejects)
      .Bind(":reports_created", run.reports_created)
      .Bind(":reports_updated", run.reports_updated)
      .Bind(":correlations", run.correlations)
      .Bind(":status", std::string_view(run.status))
      .Bind(":started_at", ToMicros(run.started_at))
      .Bind(":finished_at", OptionalMicros(run.finished_at))
      .Bind(":skipped", run.skipped);
}

// Event and reject keys are stored as the 16 bytes their 32 hex digits spell (schema.cpp says why).
// Only lower-case digits are accepted, so that reading a key back gives the same text.
constexpr std::size_t kKeyBytes = 16;
using KeyBytes = std::array<char, kKeyBytes>;

// The value of each lower-case hex digit, 0xFF for every other byte (a table: this runs for every
// feed event).
constexpr std::array<unsigned char, 256> kHexValues = [] {
  std::array<unsigned char, 256> values{};
  values.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) values[static_cast<std::size_t>(c)] = static_cast<unsigned char>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[static_cast<std::size_t>(c)] = static_cast<unsigned char>(c - 'a' + 10);
  return values;
}();

Result<KeyBytes> ParseKey(std::string_view hex) {
  KeyBytes bytes{};
  if (hex.size() != 2 * kKeyBytes) return Fail(Error::InvalidArgument("a key is 32 lower-case hex digits", "/key"));
  unsigned invalid = 0;
  for (std::size_t i = 0; i < kKeyBytes; ++i) {
    const unsigned high = kHexValues[static_cast<unsigned char>(hex[2 * i])];
    const unsigned low = kHexValues[static_cast<unsigned char>(hex[2 * i + 1])];
    invalid |= (high | low) & 0xF0;
    bytes[i] = static_cast<char>(high << 4 | (low & 0x0F));
  }
  if (invalid != 0) return Fail(Error::InvalidArgument("a key is 32 lower-case hex digits", "/key"));
  return bytes;
}

std::string KeyText(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0F];
  }
  return hex;
}

std::string_view View(const KeyBytes& key) { return {key.data(), key.size()}; }

core::FeedReject FeedRejectFromRow(const Statement& row) {
  return core::FeedReject{KeyText(row.Blob(0)), row.Int(1),  row.Int(2),
                          row.Text(3),          row.Text(4), FromMicros(row.Int(5))};
}

// The id of a stored observable, by its (type, value) index.
constexpr std::string_view kObservableIdSql = "SELECT id FROM observables WHERE type = :type AND value = :value";

}  // namespace

Result<void> FlushDeferredText(Connection& db) {
  auto* deferred = db.DeferredText();
  if (deferred == nullptr) return {};
  for (const auto& [key, row] : *deferred) {
    HIKESHI_CHECK(WriteText(db, key.first, row.column1, row.column2, key.second, row.text1, row.text2));
  }
  deferred->clear();
  return {};
}

// =============================================================================================
// Reads

Result<std::optional<core::Incident>> FindIncident(Connection& db, const core::Scope& scope,
                                                   std::string_view human_id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM incidents WHERE human_id = :human_id AND {}",
                                                kIncidentColumns, ScopeClause(scope))));
  stmt.Bind(":human_id", human_id);
  BindScope(stmt, scope);
  return FirstIncident(db, std::move(stmt));
}

Result<std::optional<core::Incident>> FindIncidentById(Connection& db, const core::Scope& scope, std::int64_t id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM incidents WHERE id = :id AND {}", kIncidentColumns,
                                                ScopeClause(scope))));
  stmt.Bind(":id", id);
  BindScope(stmt, scope);
  return FirstIncident(db, std::move(stmt));
}

Result<core::Page<core::Incident>> ListIncidents(Connection& db, const core::Scope& scope,
                                                 const core::IncidentQuery& query) {
  HIKESHI_CHECK(CheckLimit(query.limit));
  const TextFilter text = MakeTextFilter(query.text);
  if (text.matches_nothing) return core::Page<core::Incident>{};
  // Only fixed fragments go into the SQL text; every value is bound. Each combination of filters
  // is one cached statement.
  std::string sql = fmt::format("SELECT {} FROM incidents WHERE {}", kIncidentColumns, ScopeClause(scope));
  if (query.status) sql += " AND status = :status";
  if (query.rsit_class) sql += " AND rsit_class = :rsit_class";
  if (query.rsit_type) sql += " AND rsit_type = :rsit_type";
  if (query.constituency_id) sql += " AND constituency_id = :constituency_id";
  if (query.priority) sql += " AND priority = :priority";
  if (query.owner_id) sql += " AND owner_id = :owner_id";
  if (text.match) sql += " AND id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH :match)";
  if (text.match) {
    HIKESHI_CHECK(FlushDeferredText(db));  // this transaction's own rows are searchable too
  }
  if (query.with_record) sql += " AND id IN (SELECT incident_id FROM records WHERE kind = :record_kind)";
  if (query.before_id) sql += " AND id < :before_id";
  sql += " ORDER BY id DESC LIMIT :limit";

  HIKESHI_TRY(auto stmt, db.Prepare(sql));
  BindScope(stmt, scope);
  if (query.status) stmt.Bind(":status", core::StatusName(*query.status));
  if (query.rsit_class) stmt.Bind(":rsit_class", std::string_view(*query.rsit_class));
  if (query.rsit_type) stmt.Bind(":rsit_type", std::string_view(*query.rsit_type));
  if (query.constituency_id) stmt.Bind(":constituency_id", *query.constituency_id);
  if (query.priority) stmt.Bind(":priority", std::int64_t{*query.priority});
  if (query.owner_id) stmt.Bind(":owner_id", *query.owner_id);
  if (text.match) stmt.Bind(":match", std::string_view(*text.match));
  if (query.with_record) stmt.Bind(":record_kind", std::string_view(*query.with_record));
  if (query.before_id) stmt.Bind(":before_id", *query.before_id);
  stmt.Bind(":limit", std::int64_t{query.limit} + 1);
  HIKESHI_TRY(auto rows, CollectIncidents(db, std::move(stmt)));
  return MakePage(std::move(rows), query.limit);
}

Result<std::optional<core::Report>> FindReport(Connection& db, const core::Scope& scope, std::string_view human_id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM reports WHERE human_id = :human_id AND {}",
                                                kReportColumns, ScopeClause(scope))));
  stmt.Bind(":human_id", human_id);
  BindScope(stmt, scope);
  HIKESHI_TRY(auto reports, CollectReports(db, std::move(stmt)));
  if (reports.empty()) return std::nullopt;
  return std::move(reports.front());
}

Result<core::Page<core::Report>> ListReports(Connection& db, const core::Scope& scope, const core::ReportQuery& query) {
  HIKESHI_CHECK(CheckLimit(query.limit));
  const TextFilter text = MakeTextFilter(query.text);
  if (text.matches_nothing) return core::Page<core::Report>{};
  std::string sql = fmt::format("SELECT {} FROM reports WHERE {}", kReportColumns, ScopeClause(scope));
  if (query.status) sql += " AND status = :status";
  if (query.constituency_id) sql += " AND constituency_id = :constituency_id";
  if (query.incident_id) sql += " AND incident_id = :incident_id";
  if (query.flag) sql += " AND id IN (SELECT report_id FROM report_flags WHERE flag = :flag)";
  if (text.match) sql += " AND id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :match)";
  if (text.match) {
    HIKESHI_CHECK(FlushDeferredText(db));  // this transaction's own rows are searchable too
  }
  if (query.before_id) sql += " AND id < :before_id";
  sql += " ORDER BY id DESC LIMIT :limit";

  HIKESHI_TRY(auto stmt, db.Prepare(sql));
  BindScope(stmt, scope);
  if (query.status) stmt.Bind(":status", core::ReportStatusName(*query.status));
  if (query.constituency_id) stmt.Bind(":constituency_id", *query.constituency_id);
  if (query.incident_id) stmt.Bind(":incident_id", *query.incident_id);
  if (query.flag) stmt.Bind(":flag", std::string_view(*query.flag));
  if (text.match) stmt.Bind(":match", std::string_view(*text.match));
  if (query.before_id) stmt.Bind(":before_id", *query.before_id);
  stmt.Bind(":limit", std::int64_t{query.limit} + 1);
  HIKESHI_TRY(auto rows, CollectReports(db, std::move(stmt)));
  return MakePage(std::move(rows), query.limit);
}

Result<std::optional<core::Constituency>> FindConstituency(Connection& db, std::string_view name) {
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM constituencies WHERE name = :name", kConstituencyColumns)));
  stmt.Bind(":name", name);
  return FirstRow<core::Constituency>(stmt, ConstituencyFromRow);
}

Result<std::optional<core::Constituency>> FindConstituencyById(Connection& db, std::int64_t id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM constituencies WHERE id = :id", kConstituencyColumns)));
  stmt.Bind(":id", id);
  return FirstRow<core::Constituency>(stmt, ConstituencyFromRow);
}

Result<std::vector<core::Constituency>> ListConstituencies(Connection& db) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM constituencies ORDER BY id", kConstituencyColumns)));
  return CollectRows<core::Constituency>(stmt, ConstituencyFromRow);
}

Result<std::vector<core::Contact>> ListContacts(Connection& db) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM contacts ORDER BY id", kContactColumns)));
  return CollectRows<core::Contact>(stmt, ContactFromRow);
}

Result<std::optional<core::User>> FindUser(Connection& db, std::string_view username) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM users WHERE username = :username", kUserColumns)));
  stmt.Bind(":username", username);
  return FirstRow<core::User>(stmt, UserFromRow);
}

Result<std::optional<core::User>> FindUserById(Connection& db, std::int64_t id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM users WHERE id = :id", kUserColumns)));
  stmt.Bind(":id", id);
  return FirstRow<core::User>(stmt, UserFromRow);
}

Result<std::vector<core::User>> ListUsers(Connection& db) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM users ORDER BY id", kUserColumns)));
  return CollectRows<core::User>(stmt, UserFromRow);
}

Result<std::optional<core::ApiToken>> FindApiToken(Connection& db, std::string_view secret_sha256) {
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM api_tokens WHERE secret_sha256 = :secret", kApiTokenColumns)));
  stmt.Bind(":secret", secret_sha256);
  return FirstRow<core::ApiToken>(stmt, ApiTokenFromRow);
}

Result<std::vector<core::ApiToken>> ListApiTokens(Connection& db) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM api_tokens ORDER BY id", kApiTokenColumns)));
  return CollectRows<core::ApiToken>(stmt, ApiTokenFromRow);
}

Result<std::optional<core::Session>> FindSession(Connection& db, std::string_view secret_sha256) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT secret_sha256, user_id, csrf_token, created_at, expires_at "
                                    "FROM sessions WHERE secret_sha256 = :secret"));
  stmt.Bind(":secret", secret_sha256);
  return FirstRow<core::Session>(stmt, [](const Statement& row) {
    return core::Session{row.Text(0), row.Int(1), row.Text(2), FromMicros(row.Int(3)), FromMicros(row.Int(4))};
  });
}

Result<std::vector<core::AuditEntry>> ListAudit(Connection& db, std::int64_t after_seq, int limit) {
  if (limit < 1) return Fail(Error::InvalidArgument("limit must be at least 1", "/limit"));
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM audit WHERE seq > :after ORDER BY seq LIMIT :limit",
                                                kAuditColumns)));
  stmt.Bind(":after", after_seq).Bind(":limit", std::int64_t{limit});
  return CollectRows<core::AuditEntry>(stmt, AuditFromRow);
}

Result<std::vector<core::AuditEntry>> ListAuditForIncident(Connection& db, std::string_view incident_human_id) {
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM audit WHERE incident = :incident ORDER BY seq", kAuditColumns)));
  stmt.Bind(":incident", incident_human_id);
  return CollectRows<core::AuditEntry>(stmt, AuditFromRow);
}

Result<std::optional<core::AuditEntry>> LastAuditEntry(Connection& db) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM audit ORDER BY seq DESC LIMIT 1", kAuditColumns)));
  return FirstRow<core::AuditEntry>(stmt, AuditFromRow);
}

// --- Feed intake

Result<std::optional<core::Report>> FindReportByFingerprint(Connection& db, std::string_view fingerprint) {
  // The second condition lets the planner use the partial index (fingerprint <> '').
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM reports WHERE fingerprint = :fingerprint AND fingerprint <> ''",
                                     kReportColumns)));
  stmt.Bind(":fingerprint", fingerprint);
  HIKESHI_TRY(auto reports, CollectReports(db, std::move(stmt)));
  if (reports.empty()) return std::nullopt;
  return std::move(reports.front());
}

// CROSS JOIN fixes the join order: the pivot index (observable_id, owner id) drives, walked
// backwards so the newest owner comes first, and each owner is one rowid lookup that the scope then
// filters. GROUP BY on the index column keeps an owner that holds the value twice to one row
// without a sort, so LIMIT stops the walk early. Owner columns are unqualified: the link tables
// share no column name with incidents or reports.
std::string SightingIncidentsSql(const core::Scope& scope) {
  return fmt::format(
      "SELECT {} FROM incident_observables CROSS JOIN incidents ON incidents.id = incident_observables.incident_id "
      "WHERE incident_observables.observable_id = ({}) AND {} "
      "GROUP BY incident_observables.incident_id ORDER BY incident_observables.incident_id DESC LIMIT :limit",
      kIncidentColumns, kObservableIdSql, ScopeClause(scope));
}

std::string SightingReportsSql(const core::Scope& scope) {
  return fmt::format(
      "SELECT {} FROM report_observables CROSS JOIN reports ON reports.id = report_observables.report_id "
      "WHERE report_observables.observable_id = ({}) AND {} "
      "GROUP BY report_observables.report_id ORDER BY report_observables.report_id DESC LIMIT :limit",
      kReportColumns, kObservableIdSql, ScopeClause(scope));
}

Result<core::Sightings> FindSightings(Connection& db, const core::Scope& scope, const core::Observable& observable,
                                      int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  core::Sightings sightings;
  {
    HIKESHI_TRY(auto stmt, db.Prepare(SightingIncidentsSql(scope)));
    stmt.Bind(":type", core::ObservableTypeName(observable.type))
        .Bind(":value", std::string_view(observable.value))
        .Bind(":limit", std::int64_t{limit});
    BindScope(stmt, scope);
    HIKESHI_TRY(sightings.incidents, CollectIncidents(db, std::move(stmt)));
  }
  HIKESHI_TRY(auto stmt, db.Prepare(SightingReportsSql(scope)));
  stmt.Bind(":type", core::ObservableTypeName(observable.type))
      .Bind(":value", std::string_view(observable.value))
      .Bind(":limit", std::int64_t{limit});
  BindScope(stmt, scope);
  HIKESHI_TRY(sightings.reports, CollectReports(db, std::move(stmt)));
  return sightings;
}

Result<std::vector<std::int64_t>> OpenIncidentsWith(Connection& db, std::optional<std::int64_t> constituency_id,
                                                    const core::Observable& observable) {
  // As FindSightings: the pivot index drives. "IS" so that a NULL constituency matches the
  // unassigned incidents.
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format(
                             "SELECT incident_observables.incident_id FROM incident_observables CROSS JOIN incidents "
                             "ON incidents.id = incident_observables.incident_id "
                             "WHERE incident_observables.observable_id = ({}) AND incidents.status = :status "
                             "AND incidents.constituency_id IS :constituency_id "
                             "GROUP BY incident_observables.incident_id ORDER BY incident_observables.incident_id",
                             kObservableIdSql)));
  stmt.Bind(":type", core::ObservableTypeName(observable.type))
      .Bind(":value", std::string_view(observable.value))
      .Bind(":status", core::StatusName(core::IncidentStatus::kOpen))
      .Bind(":constituency_id", constituency_id);
  return CollectRows<std::int64_t>(stmt, [](const Statement& row) { return row.Int(0); });
}

Result<std::vector<core::Correlation>> ListCorrelations(Connection& db, std::int64_t report_id) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT correlations.report_id, correlations.incident_id, observables.type, "
                                    "observables.value, correlations.at FROM correlations "
                                    "JOIN observables ON observables.id = correlations.observable_id "
                                    "WHERE correlations.report_id = :report "
                                    "ORDER BY correlations.at, correlations.rowid"));
  stmt.Bind(":report", report_id);
  return CollectRows<core::Correlation>(stmt, [](const Statement& row) -> Result<core::Correlation> {
    const std::string type_name = row.Text(2);
    HIKESHI_TRY(const auto type,
                Parsed(core::ParseObservableType(type_name), "correlations", row.Int(0), "observable type", type_name));
    return core::Correlation{row.Int(0), row.Int(1), core::Observable{type, row.Text(3)}, FromMicros(row.Int(4))};
  });
}

Result<std::optional<core::FeedRun>> FindFeedRun(Connection& db, std::int64_t id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM feed_runs WHERE id = :id", kFeedRunColumns)));
  stmt.Bind(":id", id);
  return FirstRow<core::FeedRun>(stmt, FeedRunFromRow);
}

Result<std::vector<core::FeedRun>> ListFeedRuns(Connection& db, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM feed_runs WHERE id > :after ORDER BY id LIMIT :limit",
                                                kFeedRunColumns)));
  stmt.Bind(":after", after_id).Bind(":limit", std::int64_t{limit});
  return CollectRows<core::FeedRun>(stmt, FeedRunFromRow);
}

Result<std::vector<core::FeedRun>> ListRecentFeedRuns(Connection& db, std::int64_t before_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM feed_runs WHERE :before = 0 OR id < :before ORDER BY id DESC "
                                     "LIMIT :limit",
                                     kFeedRunColumns)));
  stmt.Bind(":before", before_id).Bind(":limit", std::int64_t{limit});
  return CollectRows<core::FeedRun>(stmt, FeedRunFromRow);
}

Result<std::vector<core::FeedReject>> ListFeedRejects(Connection& db, std::int64_t run_id, std::int64_t after_record,
                                                      int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  HIKESHI_TRY(auto stmt,
              db.Prepare("SELECT key, run_id, record, reason, raw, at FROM feed_rejects "
                         "WHERE run_id = :run AND record > :after ORDER BY record, reason, key LIMIT :limit"));
  stmt.Bind(":run", run_id).Bind(":after", after_record).Bind(":limit", std::int64_t{limit});
  return CollectRows<core::FeedReject>(stmt, FeedRejectFromRow);
}

Result<std::int64_t> CountEvents(Connection& db, std::string_view fingerprint) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT count FROM event_counts WHERE fingerprint = :fingerprint"));
  stmt.Bind(":fingerprint", fingerprint);
  HIKESHI_TRY(const bool row, stmt.Step());
  return row ? stmt.Int(0) : std::int64_t{0};
}

Result<void> AddEventCount(Connection& db, std::string_view fingerprint, std::int64_t delta) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO event_counts (fingerprint, count) VALUES (:fingerprint, :delta) "
                                    "ON CONFLICT (fingerprint) DO UPDATE SET count = count + excluded.count"));
  stmt.Bind(":fingerprint", fingerprint).Bind(":delta", delta);
  return stmt.Run();
}

// =============================================================================================
// Writes

Result<std::int64_t> NextCounter(Connection& db, std::string_view key) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO counters (key, value) VALUES (:key, 1) "
                                    "ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value"));
  stmt.Bind(":key", key);
  HIKESHI_TRY(const bool row, stmt.Step());
  if (!row) return Fail(Error::Internal("counter upsert returned no value"));
  return stmt.Int(0);
}

Result<std::int64_t> InsertIncident(Connection& db, const core::Incident& incident) {
  std::int64_t id = 0;
  {
    HIKESHI_TRY(auto stmt,
                db.Prepare("INSERT INTO incidents (human_id, title, description, rsit_class, rsit_type, apt, "
                           "constituency_id, impact, urgency, priority, status, phase, owner_id, tlp, exercise, "
                           "merged_into, created_at, updated_at, resolved_at, closed_at) "
                           "VALUES (:human_id, :title, :description, :rsit_class, :rsit_type, :apt, :constituency_id, "
                           ":impact, :urgency, :priority, :status, :phase, :owner_id, :tlp, :exercise, :merged_into, "
                           ":created_at, :updated_at, :resolved_at, :closed_at) RETURNING id"));
    BindIncident(stmt, incident);
    HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), fmt::format("incident {}", incident.human_id)));
    if (!row) return Fail(Error::Internal("incident insert returned no id"));
    id = stmt.Int(0);
  }
  HIKESHI_CHECK(IndexText(db, "incidents_fts", "title", "description", id, incident.title, incident.description));
  HIKESHI_CHECK(LinkObservables(db, kLinkIncidentObservableSql, id, incident.observables, incident.created_at));
  return id;
}

Result<void> UpdateIncident(Connection& db, const core::Incident& incident) {
  {
    HIKESHI_TRY(auto stmt,
                db.Prepare("UPDATE incidents SET human_id = :human_id, title = :title, description = :description, "
                           "rsit_class = :rsit_class, rsit_type = :rsit_type, apt = :apt, "
                           "constituency_id = :constituency_id, impact = :impact, urgency = :urgency, "
                           "priority = :priority, status = :status, phase = :phase, owner_id = :owner_id, tlp = :tlp, "
                           "exercise = :exercise, merged_into = :merged_into, created_at = :created_at, "
                           "updated_at = :updated_at, resolved_at = :resolved_at, closed_at = :closed_at "
                           "WHERE id = :id"));
    BindIncident(stmt, incident);
    stmt.Bind(":id", incident.id);
    HIKESHI_CHECK(NameConflict(stmt.Run(), fmt::format("incident {}", incident.human_id)));
  }
  HIKESHI_CHECK(ExpectOneChange(db, fmt::format("incident {}", incident.human_id)));
  HIKESHI_CHECK(
      IndexText(db, "incidents_fts", "title", "description", incident.id, incident.title, incident.description));
  return RelinkObservables(db, kIncidentObservablesSql, "DELETE FROM incident_observables WHERE incident_id = :owner",
                           kLinkIncidentObservableSql, incident.id, "incidents", incident.observables,
                           incident.updated_at);
}

Result<std::int64_t> InsertReport(Connection& db, const core::Report& report) {
  std::int64_t id = 0;
  {
    HIKESHI_TRY(auto stmt,
                db.Prepare("INSERT INTO reports (human_id, channel, reporter, subject, body, rsit_class, rsit_type, "
                           "constituency_id, tlp, status, incident_id, reject_reason, reject_comment, received_at, "
                           "updated_at, fingerprint, event_count, first_seen, last_seen) "
                           "VALUES (:human_id, :channel, :reporter, :subject, :body, :rsit_class, :rsit_type, "
                           ":constituency_id, :tlp, :status, :incident_id, :reject_reason, :reject_comment, "
                           ":received_at, :updated_at, :fingerprint, :event_count, :first_seen, :last_seen) "
                           "RETURNING id"));
    BindReport(stmt, report);
    HIKESHI_TRY(const bool row, ReportConflict(stmt.Step(), report));
    if (!row) return Fail(Error::Internal("report insert returned no id"));
    id = stmt.Int(0);
  }
  HIKESHI_CHECK(IndexText(db, "reports_fts", "subject", "body", id, report.subject, report.body));
  HIKESHI_CHECK(LinkObservables(db, kLinkReportObservableSql, id, report.observables, report.received_at));
  // A new id (AUTOINCREMENT never reuses one) has no flags to clear.
  if (!report.flags.empty()) {
    HIKESHI_CHECK(WriteFlags(db, id, report.flags));
  }
  return id;
}

Result<void> UpdateReport(Connection& db, const core::Report& before, const core::Report& report) {
  {
    HIKESHI_TRY(auto stmt,
                db.Prepare("UPDATE reports SET human_id = :human_id, channel = :channel, reporter = :reporter, "
                           "subject = :subject, body = :body, rsit_class = :rsit_class, rsit_type = :rsit_type, "
                           "constituency_id = :constituency_id, tlp = :tlp, status = :status, "
                           "incident_id = :incident_id, reject_reason = :reject_reason, "
                           "reject_comment = :reject_comment, received_at = :received_at, updated_at = :updated_at, "
                           "fingerprint = :fingerprint, event_count = :event_count, first_seen = :first_seen, "
                           "last_seen = :last_seen "
                           "WHERE id = :id"));
    BindReport(stmt, report);
    stmt.Bind(":id", report.id);
    HIKESHI_CHECK(ReportConflict(stmt.Run(), report));
  }
  HIKESHI_CHECK(ExpectOneChange(db, fmt::format("report {}", report.human_id)));
  const bool same_row = before.id == report.id;
  if (!same_row || before.subject != report.subject || before.body != report.body) {
    HIKESHI_CHECK(IndexText(db, "reports_fts", "subject", "body", report.id, report.subject, report.body));
  }
  if (!same_row || before.observables != report.observables) {
    HIKESHI_CHECK(RelinkObservables(db, kReportObservablesSql,
                                    "DELETE FROM report_observables WHERE report_id = :owner", kLinkReportObservableSql,
                                    report.id, "reports", report.observables, report.updated_at));
  }
  if (same_row && before.flags == report.flags) return {};
  HIKESHI_TRY(const auto flags, LoadFlags(db, report.id));
  if (flags == report.flags) return {};
  return WriteFlags(db, report.id, report.flags);
}

Result<void> UpdateAggregate(Connection& db, const core::Report& before, const core::Report& after) {
  {
    // Only the fold's columns, so that SQLite leaves the other indexes of the row alone; and only
    // when the row (and its number of observables) is still what `before` says, so that a fold
    // working from a stale copy writes nothing instead of a journal entry that does not follow.
    HIKESHI_TRY(auto stmt,
                db.Prepare("UPDATE reports SET event_count = :event_count, first_seen = :first_seen, "
                           "last_seen = :last_seen, updated_at = :updated_at WHERE id = :id "
                           "AND event_count = :before_count AND first_seen IS :before_first "
                           "AND last_seen IS :before_last AND updated_at = :before_updated "
                           "AND (SELECT count(*) FROM report_observables WHERE report_id = :id) = :before_links"));
    stmt.Bind(":event_count", after.event_count)
        .Bind(":first_seen", OptionalMicros(after.first_seen))
        .Bind(":last_seen", OptionalMicros(after.last_seen))
        .Bind(":updated_at", ToMicros(after.updated_at))
        .Bind(":id", after.id)
        .Bind(":before_count", before.event_count)
        .Bind(":before_first", OptionalMicros(before.first_seen))
        .Bind(":before_last", OptionalMicros(before.last_seen))
        .Bind(":before_updated", ToMicros(before.updated_at))
        .Bind(":before_links", static_cast<std::int64_t>(before.observables.size()));
    HIKESHI_CHECK(stmt.Run());
  }
  if (sqlite3_changes(db.Handle()) == 0) {
    return Fail(Error::FailedPrecondition(fmt::format(
        "report {} is not as the fold read it (changed since, or gone); nothing was written", after.human_id)));
  }
  return LinkObservables(db, kLinkReportObservableSql, after.id, after.observables, after.updated_at,
                         before.observables.size());
}

Result<std::int64_t> InsertConstituency(Connection& db, const core::Constituency& constituency) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO constituencies (name, description, cidrs, asns, domains, created_at) "
                                    "VALUES (:name, :description, :cidrs, :asns, :domains, :created_at) RETURNING id"));
  HIKESHI_CHECK(BindConstituency(stmt, constituency));
  HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), fmt::format("constituency \"{}\"", constituency.name)));
  if (!row) return Fail(Error::Internal("constituency insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateConstituency(Connection& db, const core::Constituency& constituency) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE constituencies SET name = :name, description = :description, "
                                      "cidrs = :cidrs, asns = :asns, domains = :domains, created_at = :created_at "
                                      "WHERE id = :id"));
    HIKESHI_CHECK(BindConstituency(stmt, constituency));
    stmt.Bind(":id", constituency.id);
    HIKESHI_CHECK(NameConflict(stmt.Run(), fmt::format("constituency \"{}\"", constituency.name)));
  }
  return ExpectOneChange(db, fmt::format("constituency {}", constituency.id));
}

void BindContact(Statement& stmt, const core::Contact& contact) {
  stmt.Bind(":name", std::string_view(contact.name))
      .Bind(":email", std::string_view(contact.email))
      .Bind(":organisation", std::string_view(contact.organisation))
      .Bind(":kind", core::ContactKindName(contact.kind))
      .Bind(":pgp_fingerprint", std::string_view(contact.pgp_fingerprint))
      .Bind(":tlp_clearance", core::TlpName(contact.tlp_clearance))
      .Bind(":constituency_id", contact.constituency_id)
      .Bind(":created_at", ToMicros(contact.created_at))
      .Bind(":trust", core::ContactTrustName(contact.trust))
      .Bind(":introduced_by", contact.introduced_by);
}

Result<std::int64_t> InsertContact(Connection& db, const core::Contact& contact) {
  HIKESHI_TRY(auto stmt,
              db.Prepare("INSERT INTO contacts (name, email, organisation, kind, pgp_fingerprint, tlp_clearance, "
                         "constituency_id, created_at, trust, introduced_by) VALUES (:name, :email, :organisation, "
                         ":kind, :pgp_fingerprint, :tlp_clearance, :constituency_id, :created_at, :trust, "
                         ":introduced_by) RETURNING id"));
  BindContact(stmt, contact);
  HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), fmt::format("contact \"{}\"", contact.name)));
  if (!row) return Fail(Error::Internal("contact insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateContact(Connection& db, const core::Contact& contact) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE contacts SET name = :name, email = :email, organisation = :organisation, "
                                      "kind = :kind, pgp_fingerprint = :pgp_fingerprint, tlp_clearance = "
                                      ":tlp_clearance, constituency_id = :constituency_id, created_at = :created_at, "
                                      "trust = :trust, introduced_by = :introduced_by WHERE id = :id"));
    BindContact(stmt, contact);
    stmt.Bind(":id", contact.id);
    HIKESHI_CHECK(stmt.Run());
  }
  return ExpectOneChange(db, fmt::format("contact {}", contact.id));
}

Result<std::int64_t> InsertUser(Connection& db, const core::User& user) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO users (username, display_name, role, scope_all, constituency_ids, "
                                    "password_hash, disabled, created_at) VALUES (:username, :display_name, :role, "
                                    ":scope_all, :constituency_ids, :password_hash, :disabled, :created_at) "
                                    "RETURNING id"));
  HIKESHI_CHECK(BindUser(stmt, user));
  HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), fmt::format("user \"{}\"", user.username)));
  if (!row) return Fail(Error::Internal("user insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateUser(Connection& db, const core::User& user) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE users SET username = :username, display_name = :display_name, "
                                      "role = :role, scope_all = :scope_all, constituency_ids = :constituency_ids, "
                                      "password_hash = :password_hash, disabled = :disabled, created_at = :created_at "
                                      "WHERE id = :id"));
    HIKESHI_CHECK(BindUser(stmt, user));
    stmt.Bind(":id", user.id);
    HIKESHI_CHECK(NameConflict(stmt.Run(), fmt::format("user \"{}\"", user.username)));
  }
  return ExpectOneChange(db, fmt::format("user {}", user.id));
}

Result<std::int64_t> InsertApiToken(Connection& db, const core::ApiToken& token) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO api_tokens (user_id, name, secret_sha256, revoked, created_at) "
                                    "VALUES (:user_id, :name, :secret, :revoked, :created_at) RETURNING id"));
  stmt.Bind(":user_id", token.user_id)
      .Bind(":name", std::string_view(token.name))
      .Bind(":secret", std::string_view(token.secret_sha256))
      .BindBool(":revoked", token.revoked)
      .Bind(":created_at", ToMicros(token.created_at));
  // Never name the secret (even hashed) in an error message.
  HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), "an API token with this secret"));
  if (!row) return Fail(Error::Internal("api token insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateApiToken(Connection& db, const core::ApiToken& token) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE api_tokens SET user_id = :user_id, name = :name, "
                                      "secret_sha256 = :secret, revoked = :revoked, created_at = :created_at "
                                      "WHERE id = :id"));
    stmt.Bind(":user_id", token.user_id)
        .Bind(":name", std::string_view(token.name))
        .Bind(":secret", std::string_view(token.secret_sha256))
        .BindBool(":revoked", token.revoked)
        .Bind(":created_at", ToMicros(token.created_at))
        .Bind(":id", token.id);
    HIKESHI_CHECK(NameConflict(stmt.Run(), "an API token with this secret"));
  }
  return ExpectOneChange(db, fmt::format("api token {}", token.id));
}

Result<void> InsertSession(Connection& db, const core::Session& session) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO sessions (secret_sha256, user_id, csrf_token, created_at, expires_at) "
                                    "VALUES (:secret, :user_id, :csrf, :created_at, :expires_at)"));
  stmt.Bind(":secret", std::string_view(session.secret_sha256))
      .Bind(":user_id", session.user_id)
      .Bind(":csrf", std::string_view(session.csrf_token))
      .Bind(":created_at", ToMicros(session.created_at))
      .Bind(":expires_at", ToMicros(session.expires_at));
  return NameConflict(stmt.Run(), "a session with this secret");
}

Result<void> DeleteSession(Connection& db, std::string_view secret_sha256) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("DELETE FROM sessions WHERE secret_sha256 = :secret"));
    stmt.Bind(":secret", secret_sha256);
    HIKESHI_CHECK(stmt.Run());
  }
  return ExpectOneChange(db, "session");
}

Result<void> PurgeExpiredSessions(Connection& db, core::Timestamp now) {
  HIKESHI_TRY(auto stmt, db.Prepare("DELETE FROM sessions WHERE expires_at < :now"));
  stmt.Bind(":now", ToMicros(now));
  return stmt.Run();
}

Result<void> AppendAudit(Connection& db, const core::AuditEntry& entry) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO audit (seq, at, actor, action, object_type, object_id, incident, "
                                    "\"before\", \"after\", prev_hash, hash) VALUES (:seq, :at, :actor, :action, "
                                    ":object_type, :object_id, :incident, :before, :after, :prev_hash, :hash)"));
  stmt.Bind(":seq", entry.seq)
      .Bind(":at", ToMicros(entry.at))
      .Bind(":actor", std::string_view(entry.actor))
      .Bind(":action", std::string_view(entry.action))
      .Bind(":object_type", std::string_view(entry.object_type))
      .Bind(":object_id", std::string_view(entry.object_id))
      .Bind(":incident", std::string_view(entry.incident))
      .Bind(":before", std::string_view(entry.before))
      .Bind(":after", std::string_view(entry.after))
      .Bind(":prev_hash", std::string_view(entry.prev_hash))
      .Bind(":hash", std::string_view(entry.hash));
  return NameConflict(stmt.Run(), fmt::format("audit entry {}", entry.seq));
}

// --- Feed intake

Result<std::int64_t> InsertFeedRun(Connection& db, const core::FeedRun& run) {
  HIKESHI_TRY(
      auto stmt,
      db.Prepare("INSERT INTO feed_runs (format, source, records, events_new, duplicates, rejects, "
                 "reports_created, reports_updated, correlations, status, started_at, finished_at, skipped) "
                 "VALUES (:format, :source, :records, :events_new, :duplicates, :rejects, :reports_created, "
                 ":reports_updated, :correlations, :status, :started_at, :finished_at, :skipped) RETURNING id"));
  BindFeedRun(stmt, run);
  HIKESHI_TRY(const bool row, stmt.Step());
  if (!row) return Fail(Error::Internal("feed run insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateFeedRun(Connection& db, const core::FeedRun& run) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE feed_runs SET format = :format, source = :source, records = :records, "
                                      "events_new = :events_new, duplicates = :duplicates, rejects = :rejects, "
                                      "reports_created = :reports_created, reports_updated = :reports_updated, "
                                      "correlations = :correlations, status = :status, started_at = :started_at, "
                                      "finished_at = :finished_at, skipped = :skipped WHERE id = :id"));
    BindFeedRun(stmt, run);
    stmt.Bind(":id", run.id);
    HIKESHI_CHECK(stmt.Run());
  }
  return ExpectOneChange(db, fmt::format("feed run {}", run.id));
}

// The hot path of feed intake (about 100,000 events a second): one cached statement and nothing
// else. DO NOTHING makes a key clash a statement that changed no row rather than a constraint
// error, so telling a duplicate from a new event costs no second query.
namespace {

constexpr std::string_view kInsertEventSql =
    "INSERT INTO events (key, run_id, record, fingerprint, time, raw) "
    "VALUES (:key, :run_id, :record, :fingerprint, :time, :raw) ON CONFLICT DO NOTHING";

// kInsertEventSql's parameters by number, looked up once per statement use.
struct InsertEventParameters {
  explicit InsertEventParameters(Statement& stmt)
      : key(stmt.ParameterIndex(":key")),
        run_id(stmt.ParameterIndex(":run_id")),
        record(stmt.ParameterIndex(":record")),
        fingerprint(stmt.ParameterIndex(":fingerprint")),
        time(stmt.ParameterIndex(":time")),
        raw(stmt.ParameterIndex(":raw")) {}
  int key, run_id, record, fingerprint, time, raw;
};

// Binds and runs `stmt` (kInsertEventSql) for `event`, and rewinds it; true when the event was new.
Result<bool> RunInsertEvent(Connection& db, Statement& stmt, const InsertEventParameters& at,
                            const core::StoredEvent& event) {
  HIKESHI_TRY(const KeyBytes key, ParseKey(event.key));
  // Borrowed: `key` and `event` outlive the run; the statement is reset before either goes.
  stmt.BindBorrowedBlobAt(at.key, View(key))
      .BindAt(at.run_id, event.run_id)
      .BindAt(at.record, event.record)
      .BindBorrowedAt(at.fingerprint, event.fingerprint)
      .BindAt(at.time, OptionalMicros(event.time))
      .BindBorrowedAt(at.raw, event.raw);
  const Result<void> ran = stmt.Run();
  const bool stored = ran && sqlite3_changes(db.Handle()) == 1;
  stmt.Rewind();
  if (!ran) return Fail(ran.error());
  return stored;
}

}  // namespace

Result<bool> InsertEvent(Connection& db, const core::StoredEvent& event) {
  HIKESHI_TRY(auto stmt, db.Prepare(kInsertEventSql));
  return RunInsertEvent(db, stmt, InsertEventParameters(stmt), event);
}

Result<std::int64_t> InsertEvents(Connection& db, std::span<const core::StoredEvent> events,
                                  std::unordered_map<std::string, std::int64_t>& stored_counts) {
  // One statement for the batch: no cache lookup per event.
  HIKESHI_TRY(auto stmt, db.Prepare(kInsertEventSql));
  const InsertEventParameters at(stmt);
  std::int64_t stored = 0;
  const std::string* last_fingerprint = nullptr;  // events of one report often come in runs
  std::int64_t* last_count = nullptr;
  for (const core::StoredEvent& event : events) {
    HIKESHI_TRY(const bool fresh, RunInsertEvent(db, stmt, at, event));
    if (!fresh) continue;
    ++stored;
    if (last_fingerprint == nullptr || *last_fingerprint != event.fingerprint) {
      const auto it = stored_counts.try_emplace(event.fingerprint, 0).first;
      last_fingerprint = &it->first;
      last_count = &it->second;
    }
    ++*last_count;
  }
  return stored;
}

Result<bool> InsertFeedReject(Connection& db, const core::FeedReject& reject) {
  HIKESHI_TRY(const KeyBytes key, ParseKey(reject.key));
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO feed_rejects (key, run_id, record, reason, raw, at) "
                                    "VALUES (:key, :run_id, :record, :reason, :raw, :at) ON CONFLICT DO NOTHING"));
  stmt.BindBlob(":key", View(key))
      .Bind(":run_id", reject.run_id)
      .Bind(":record", reject.record)
      .Bind(":reason", std::string_view(reject.reason))
      .Bind(":raw", std::string_view(reject.raw))
      .Bind(":at", ToMicros(reject.at));
  HIKESHI_CHECK(stmt.Run());
  return sqlite3_changes(db.Handle()) == 1;
}

Result<bool> InsertCorrelation(Connection& db, const core::Correlation& correlation) {
  // The observable is normally stored already (the incident holds it). When it is not, the
  // INSERT ... SELECT inserts nothing, and only then is it worth telling a duplicate pair from an
  // unknown observable.
  const auto insert = [&]() -> Result<bool> {
    // The WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
    HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO correlations (report_id, incident_id, observable_id, at) "
                                      "SELECT :report, :incident, id, :at FROM observables "
                                      "WHERE type = :type AND value = :value ON CONFLICT DO NOTHING"));
    stmt.Bind(":report", correlation.report_id)
        .Bind(":incident", correlation.incident_id)
        .Bind(":at", ToMicros(correlation.at))
        .Bind(":type", core::ObservableTypeName(correlation.observable.type))
        .Bind(":value", std::string_view(correlation.observable.value));
    HIKESHI_CHECK(stmt.Run());
    return sqlite3_changes(db.Handle()) == 1;
  };
  HIKESHI_TRY(const bool inserted, insert());
  if (inserted) return true;
  {
    HIKESHI_TRY(auto pair,
                db.Prepare("SELECT 1 FROM correlations WHERE report_id = :report AND incident_id = :incident"));
    pair.Bind(":report", correlation.report_id).Bind(":incident", correlation.incident_id);
    HIKESHI_TRY(const bool exists, pair.Step());
    if (exists) return false;
  }
  HIKESHI_CHECK(UpsertObservable(db, correlation.observable, correlation.at));
  return insert();
}

// ---------------------------------------------------------------------------------------------
// Mail

namespace {

constexpr std::string_view kMailColumns =
    "id, direction, kind, message_id, report_id, incident_id, from_address, from_name, subject, text, in_reply_to, "
    "raw_sha256, raw_size, encrypted, decrypted, auto_reason, spam, details, status, language, attempts, "
    "last_error, next_attempt_at, at, sent_at";

Result<core::MailMessage> MailFromRow(const Statement& row) {
  core::MailMessage m;
  m.id = row.Int(0);
  const std::string direction = row.Text(1);
  HIKESHI_TRY(m.direction, Parsed(core::ParseMailDirection(direction), "mail_messages", m.id, "direction", direction));
  m.kind = row.Text(2);
  m.message_id = row.Text(3);
  m.report_id = row.OptionalInt(4);
  m.incident_id = row.OptionalInt(5);
  m.from_address = row.Text(6);
  m.from_name = row.Text(7);
  m.subject = row.Text(8);
  m.text = row.Text(9);
  m.in_reply_to = row.Text(10);
  m.raw_sha256 = row.Text(11);
  m.raw_size = row.Int(12);
  m.encrypted = row.Int(13) != 0;
  m.decrypted = row.Int(14) != 0;
  m.auto_reason = row.Text(15);
  m.spam = row.Int(16) != 0;
  if (auto decoded = core::DecodeMailDetails(row.Text(17), m); !decoded) {
    return Fail(Error::DataLoss(fmt::format("mail_messages row {}: {}", m.id, decoded.error().message())));
  }
  m.status = row.Text(18);
  m.language = row.Text(19);
  m.attempts = static_cast<int>(row.Int(20));
  m.last_error = row.Text(21);
  m.next_attempt_at = OptionalTime(row, 22);
  m.at = FromMicros(row.Int(23));
  m.sent_at = OptionalTime(row, 24);
  return m;
}

std::string FirstRecipient(const core::MailMessage& m) {
  if (m.to.empty()) return "";
  std::string r = m.to.front();
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

void BindMail(Statement& stmt, const core::MailMessage& m, const std::string& details, const std::string& recipient) {
  stmt.Bind(":direction", core::MailDirectionName(m.direction))
      .Bind(":kind", m.kind)
      .Bind(":message_id", m.message_id)
      .Bind(":report_id", m.report_id)
      .Bind(":incident_id", m.incident_id)
      .Bind(":from_address", m.from_address)
      .Bind(":from_name", m.from_name)
      .Bind(":recipient", recipient)
      .Bind(":subject", m.subject)
      .Bind(":text", m.text)
      .Bind(":in_reply_to", m.in_reply_to)
      .Bind(":raw_sha256", m.raw_sha256)
      .Bind(":raw_size", m.raw_size)
      .BindBool(":encrypted", m.encrypted)
      .BindBool(":decrypted", m.decrypted)
      .Bind(":auto_reason", m.auto_reason)
      .BindBool(":spam", m.spam)
      .Bind(":details", details)
      .Bind(":status", m.status)
      .Bind(":language", m.language)
      .Bind(":attempts", std::int64_t{m.attempts})
      .Bind(":last_error", m.last_error)
      .Bind(":next_attempt_at", OptionalMicros(m.next_attempt_at))
      .Bind(":at", ToMicros(m.at))
      .Bind(":sent_at", OptionalMicros(m.sent_at));
}

Result<std::vector<core::MailMessage>> MailWhere(Connection& db, std::string_view where, std::string_view column,
                                                 std::int64_t value) {
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM mail_messages WHERE {} ORDER BY id", kMailColumns, where)));
  stmt.Bind(std::string(column).c_str(), value);
  return CollectRows<core::MailMessage>(stmt, MailFromRow);
}

}  // namespace

Result<std::optional<core::MailMessage>> FindMail(Connection& db, core::MailDirection direction,
                                                  std::string_view message_id) {
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format(
                             "SELECT {} FROM mail_messages WHERE direction = :direction AND message_id = :message_id",
                             kMailColumns)));
  stmt.Bind(":direction", core::MailDirectionName(direction)).Bind(":message_id", message_id);
  return FirstRow<core::MailMessage>(stmt, MailFromRow);
}

Result<std::optional<core::MailMessage>> FindMailById(Connection& db, std::int64_t id) {
  HIKESHI_TRY(auto rows, MailWhere(db, "id = :id", ":id", id));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

Result<std::vector<core::MailMessage>> ListMailForReport(Connection& db, std::int64_t report_id) {
  return MailWhere(db, "report_id = :report_id", ":report_id", report_id);
}

Result<std::vector<core::MailMessage>> ListMailForIncident(Connection& db, std::int64_t incident_id) {
  return MailWhere(db, "incident_id = :incident_id", ":incident_id", incident_id);
}

Result<std::vector<core::MailMessage>> ListMail(Connection& db, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format(
                             "SELECT {} FROM mail_messages WHERE id > :after ORDER BY id LIMIT :limit", kMailColumns)));
  stmt.Bind(":after", after_id).Bind(":limit", std::int64_t{limit});
  return CollectRows<core::MailMessage>(stmt, MailFromRow);
}

Result<std::int64_t> CountMailTo(Connection& db, std::string_view kind, std::string_view recipient,
                                 core::Timestamp since) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT count(*) FROM mail_messages WHERE direction = 'out' AND kind = :kind "
                                    "AND recipient = :recipient AND at >= :since"));
  stmt.Bind(":kind", kind).Bind(":recipient", recipient).Bind(":since", ToMicros(since));
  HIKESHI_TRY(const bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

Result<std::int64_t> InsertMail(Connection& db, const core::MailMessage& mail) {
  const std::string details = core::EncodeMailDetails(mail);
  HIKESHI_TRY(auto stmt,
              db.Prepare("INSERT INTO mail_messages (direction, kind, message_id, report_id, incident_id, "
                         "from_address, from_name, recipient, subject, text, in_reply_to, raw_sha256, raw_size, "
                         "encrypted, decrypted, auto_reason, spam, details, status, language, attempts, last_error, "
                         "next_attempt_at, at, sent_at) VALUES (:direction, :kind, :message_id, :report_id, "
                         ":incident_id, :from_address, :from_name, :recipient, :subject, :text, :in_reply_to, "
                         ":raw_sha256, :raw_size, :encrypted, :decrypted, :auto_reason, :spam, :details, :status, "
                         ":language, :attempts, :last_error, :next_attempt_at, :at, :sent_at) RETURNING id"));
  BindMail(stmt, mail, details, FirstRecipient(mail));
  auto row = NameConflict(stmt.Step(), fmt::format("mail message <{}>", mail.message_id));
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Error::Internal("mail insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateMail(Connection& db, const core::MailMessage& mail) {
  const std::string details = core::EncodeMailDetails(mail);
  {
    HIKESHI_TRY(auto stmt,
                db.Prepare("UPDATE mail_messages SET direction = :direction, kind = :kind, message_id = :message_id, "
                           "report_id = :report_id, incident_id = :incident_id, from_address = :from_address, "
                           "from_name = :from_name, recipient = :recipient, subject = :subject, text = :text, "
                           "in_reply_to = :in_reply_to, raw_sha256 = :raw_sha256, raw_size = :raw_size, "
                           "encrypted = :encrypted, decrypted = :decrypted, auto_reason = :auto_reason, spam = :spam, "
                           "details = :details, status = :status, language = :language, attempts = :attempts, "
                           "last_error = :last_error, next_attempt_at = :next_attempt_at, at = :at, "
                           "sent_at = :sent_at, claimed_by = '', lease_until = 0 WHERE id = :id"));
    BindMail(stmt, mail, details, FirstRecipient(mail));
    stmt.Bind(":id", mail.id);
    HIKESHI_CHECK(NameConflict(stmt.Run(), fmt::format("mail message <{}>", mail.message_id)));
  }
  return ExpectOneChange(db, fmt::format("mail message {}", mail.id));
}

Result<std::vector<core::MailMessage>> ClaimOutgoingMail(Connection& db, core::Timestamp now, std::string_view worker,
                                                         core::Timestamp lease_until, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  std::vector<std::int64_t> ids;
  {
    HIKESHI_TRY(auto stmt, db.Prepare("SELECT id FROM mail_messages WHERE direction = 'out' AND status = 'pending' "
                                      "AND coalesce(next_attempt_at, 0) <= :now AND lease_until < :now "
                                      "ORDER BY id LIMIT :limit"));
    stmt.Bind(":now", ToMicros(now)).Bind(":limit", std::int64_t{limit});
    HIKESHI_TRY(ids, (CollectRows<std::int64_t>(stmt, [](const Statement& row) { return row.Int(0); })));
  }
  std::vector<core::MailMessage> claimed;
  for (const std::int64_t id : ids) {
    {
      HIKESHI_TRY(auto stmt, db.Prepare("UPDATE mail_messages SET claimed_by = :worker, lease_until = :lease "
                                        "WHERE id = :id"));
      stmt.Bind(":worker", worker).Bind(":lease", ToMicros(lease_until)).Bind(":id", id);
      HIKESHI_CHECK(stmt.Run());
    }
    HIKESHI_TRY(auto mail, FindMailById(db, id));
    if (mail) claimed.push_back(std::move(*mail));
  }
  return claimed;
}

}  // namespace hikeshi::store::sqlite::detail

// ---------------------------------------------------------------------------------------------
// Response records

namespace hikeshi::store::sqlite::detail {
namespace {

constexpr std::string_view kRecordColumns = "id, kind, key, incident_id, state, body, created_at, updated_at";

core::Record RecordFromRow(const Statement& row) {
  core::Record r;
  r.id = row.Int(0);
  r.kind = row.Text(1);
  r.key = row.Text(2);
  r.incident_id = row.OptionalInt(3);
  r.state = row.Text(4);
  r.body = row.Text(5);
  r.created_at = FromMicros(row.Int(6));
  r.updated_at = FromMicros(row.Int(7));
  return r;
}

std::string RecordName(const core::Record& record) { return fmt::format("{} {}", record.kind, record.key); }

}  // namespace

Result<std::optional<core::Record>> FindRecord(Connection& db, std::string_view kind, std::string_view key) {
  HIKESHI_TRY(auto stmt,
              db.Prepare(fmt::format("SELECT {} FROM records WHERE kind = :kind AND key = :key", kRecordColumns)));
  stmt.Bind(":kind", kind).Bind(":key", key);
  return FirstRow<core::Record>(stmt, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecordsForIncident(Connection& db, std::int64_t incident_id,
                                                         std::string_view kind) {
  // Two texts rather than "(:kind = '' OR kind = :kind)", so that a kind uses the whole index.
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM records WHERE incident_id = :incident_id{} ORDER BY id",
                                                kRecordColumns, kind.empty() ? "" : " AND kind = :kind")));
  stmt.Bind(":incident_id", incident_id);
  if (!kind.empty()) stmt.Bind(":kind", kind);
  return CollectRows<core::Record>(stmt, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecordsForIncidents(Connection& db, std::span<const std::int64_t> incident_ids,
                                                          std::string_view kind) {
  if (incident_ids.empty()) return std::vector<core::Record>{};
  if (incident_ids.size() > static_cast<std::size_t>(kMaxPageSize)) {
    return Fail(Error::InvalidArgument(fmt::format("at most {} incidents at a time", kMaxPageSize)));
  }
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM records WHERE kind = :kind AND incident_id IN "
                                                "(SELECT value FROM json_each(:ids)) ORDER BY id",
                                                kRecordColumns)));
  stmt.Bind(":kind", kind).Bind(":ids", fmt::format("[{}]", fmt::join(incident_ids, ",")));
  return CollectRows<core::Record>(stmt, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecords(Connection& db, std::string_view kind, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  HIKESHI_TRY(auto stmt, db.Prepare(fmt::format("SELECT {} FROM records WHERE id > :after{} ORDER BY id LIMIT :limit",
                                                kRecordColumns, kind.empty() ? "" : " AND kind = :kind")));
  stmt.Bind(":after", after_id).Bind(":limit", std::int64_t{limit});
  if (!kind.empty()) stmt.Bind(":kind", kind);
  return CollectRows<core::Record>(stmt, RecordFromRow);
}

Result<std::int64_t> InsertRecord(Connection& db, const core::Record& record) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO records (kind, key, incident_id, state, body, created_at, updated_at) "
                                    "VALUES (:kind, :key, :incident_id, :state, :body, :created_at, :updated_at) "
                                    "RETURNING id"));
  stmt.Bind(":kind", record.kind)
      .Bind(":key", record.key)
      .Bind(":incident_id", record.incident_id)
      .Bind(":state", record.state)
      .Bind(":body", record.body)
      .Bind(":created_at", ToMicros(record.created_at))
      .Bind(":updated_at", ToMicros(record.updated_at));
  HIKESHI_TRY(const bool row, NameConflict(stmt.Step(), RecordName(record)));
  if (!row) return Fail(Error::Internal("record insert returned no id"));
  return stmt.Int(0);
}

Result<void> UpdateRecord(Connection& db, const core::Record& record) {
  {
    HIKESHI_TRY(auto stmt, db.Prepare("UPDATE records SET incident_id = :incident_id, state = :state, body = :body, "
                                      "updated_at = :updated_at WHERE id = :id"));
    stmt.Bind(":incident_id", record.incident_id)
        .Bind(":state", record.state)
        .Bind(":body", record.body)
        .Bind(":updated_at", ToMicros(record.updated_at))
        .Bind(":id", record.id);
    HIKESHI_CHECK(stmt.Run());
  }
  return ExpectOneChange(db, fmt::format("record {}", record.id));
}

Result<std::optional<core::SealedBlob>> FindBlob(Connection& db, std::string_view sha256) {
  HIKESHI_TRY(auto stmt, db.Prepare("SELECT sealed, size FROM blobs WHERE sha256 = :sha256"));
  stmt.Bind(":sha256", sha256);
  HIKESHI_TRY(const bool found, stmt.Step());
  if (!found) return std::optional<core::SealedBlob>();
  return core::SealedBlob{std::string(sha256), stmt.Blob(0), stmt.Int(1)};
}

Result<bool> InsertBlob(Connection& db, const core::SealedBlob& blob, core::Timestamp created_at) {
  HIKESHI_TRY(auto stmt, db.Prepare("INSERT INTO blobs (sha256, sealed, size, created_at) "
                                    "VALUES (:sha256, :sealed, :size, :created_at) ON CONFLICT (sha256) DO NOTHING"));
  stmt.Bind(":sha256", blob.sha256)
      .BindBorrowedBlob(":sealed", blob.sealed)
      .Bind(":size", blob.size)
      .Bind(":created_at", ToMicros(created_at));
  HIKESHI_CHECK(stmt.Run());
  return sqlite3_changes(db.Handle()) == 1;
}

}  // namespace hikeshi::store::sqlite::detail
