#include "detail/queries.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/mail_codec.hpp"

#include "detail/text_index.hpp"

namespace hikeshi::store::postgres::detail {
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

std::optional<Timestamp> OptionalTime(const Rows& rows, int row, int column) {
  const auto micros = rows.OptionalInt(row, column);
  if (!micros) return std::nullopt;
  return FromMicros(*micros);
}

std::optional<std::int64_t> OptionalMicros(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return ToMicros(*t);
}

// Replaces PostgreSQL's wording of a unique clash with the object's own name.
template <typename T>
Result<T> NameConflict(Result<T> result, std::string_view what) {
  if (!result && result.error().code() == ErrorCode::kConflict) {
    return Fail(Error::Conflict(fmt::format("{} already exists", what)));
  }
  return result;
}

Result<void> ExpectOneChange(const Rows& rows, std::string_view what) {
  if (rows.Affected() == 0) return Fail(Error::NotFound(std::string(what)));
  return {};
}

// --- JSON arrays for ordered lists of scalars (the same text the SQLite backend keeps).

template <typename T>
Result<std::string> JsonArray(const std::vector<T>& values, std::string_view field) {
  try {
    return nlohmann::json(values).dump();
  } catch (const nlohmann::json::exception&) {
    return Fail(Error::InvalidArgument("not valid UTF-8", std::string(field)));
  }
}

// Reads a JSON array of T (std::string or an integer type) written by JsonArray.
template <typename T>
Result<std::vector<T>> ArrayFromJson(const std::string& text, std::string_view where) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return Fail(Error::DataLoss(fmt::format("{}: not a JSON array", where)));
  std::vector<T> values;
  for (const auto& item : json) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!item.is_string()) return Fail(Error::DataLoss(fmt::format("{}: not a string", where)));
      values.push_back(item.get<std::string>());
    } else {
      const bool fits =
          (item.is_number_unsigned() &&
           item.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) ||
          (item.is_number_integer() && !item.is_number_unsigned() &&
           item.get<std::int64_t>() >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
           (item.get<std::int64_t>() < 0 || static_cast<std::uint64_t>(item.get<std::int64_t>()) <=
                                                static_cast<std::uint64_t>(std::numeric_limits<T>::max())));
      if (!fits) return Fail(Error::DataLoss(fmt::format("{}: not an integer in range", where)));
      values.push_back(item.get<T>());
    }
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Scope and pages

// The SQL condition for `scope`, on a table with constituency_id and tlp columns (incidents,
// reports). All() adds none; otherwise constituency_id must be one of the bound ids, which also
// excludes rows with no constituency (NULL = ANY(...) is not true). A TLP ceiling keeps tlp to the
// bound names of the labels up to it.
std::string ScopeClause(const core::Scope& scope, Params& params) {
  std::string clause = "TRUE";
  if (!scope.all) {
    const int n = params.AddText(fmt::format("{{{}}}", fmt::join(scope.constituency_ids, ",")));
    clause = fmt::format("constituency_id = ANY(${}::bigint[])", n);
  }
  if (scope.max_tlp) {
    // The names are the enum's own ("TLP:AMBER+STRICT"), quoted as array elements.
    const auto names = core::TlpNamesUpTo(*scope.max_tlp);
    const int n = params.AddText(fmt::format("{{\"{}\"}}", fmt::join(names, "\",\"")));
    clause += fmt::format(" AND tlp = ANY(${}::text[])", n);
  }
  return clause;
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

// Every row of `rows` through `from_row` (which returns T or Result<T>).
template <typename T, typename FromRow>
Result<std::vector<T>> CollectRows(const Rows& rows, FromRow from_row) {
  std::vector<T> values;
  values.reserve(static_cast<std::size_t>(rows.Size()));
  for (int i = 0; i < rows.Size(); ++i) {
    if constexpr (std::is_same_v<decltype(from_row(rows, i)), T>) {
      values.push_back(from_row(rows, i));
    } else {
      HIKESHI_TRY(auto value, from_row(rows, i));
      values.push_back(std::move(value));
    }
  }
  return values;
}

template <typename T, typename FromRow>
Result<std::optional<T>> FirstRow(const Rows& rows, FromRow from_row) {
  HIKESHI_TRY(auto values, (CollectRows<T>(rows, from_row)));
  if (values.empty()) return std::nullopt;
  return std::move(values.front());
}

// ---------------------------------------------------------------------------------------------
// Observables

constexpr std::string_view kIncidentObservablesSql =
    "SELECT o.type, o.value FROM incident_observables l JOIN observables o ON o.id = l.observable_id "
    "WHERE l.incident_id = $1 ORDER BY l.position";
constexpr std::string_view kReportObservablesSql =
    "SELECT o.type, o.value FROM report_observables l JOIN observables o ON o.id = l.observable_id "
    "WHERE l.report_id = $1 ORDER BY l.position";

Result<std::vector<core::Observable>> LoadObservables(Connection& db, std::string_view sql, std::int64_t owner_id,
                                                      std::string_view table) {
  Params params;
  params.Add(owner_id);
  HIKESHI_TRY(const Rows rows, db.Exec(sql, params));
  return CollectRows<core::Observable>(rows, [&](const Rows& r, int i) -> Result<core::Observable> {
    const std::string type_name = r.Text(i, 0);
    HIKESHI_TRY(const auto type,
                Parsed(core::ParseObservableType(type_name), table, owner_id, "observable type", type_name));
    return core::Observable{type, r.Text(i, 1)};
  });
}

// Records `observable` (first/last seen widened to `seen`) and returns its id.
Result<std::int64_t> UpsertObservable(Connection& db, const core::Observable& observable, Timestamp seen) {
  Params params;
  params.Add(core::ObservableTypeName(observable.type));
  params.Add(observable.value);
  params.Add(ToMicros(seen));
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO observables (type, value, first_seen, last_seen) "
                                       "VALUES ($1, $2, $3, $3) ON CONFLICT (type, value) DO UPDATE SET "
                                       "first_seen = LEAST(observables.first_seen, excluded.first_seen), "
                                       "last_seen = GREATEST(observables.last_seen, excluded.last_seen) "
                                       "RETURNING id",
                                       params));
  if (rows.Empty()) return Fail(Error::Internal("observable upsert returned no id"));
  return rows.Int(0, 0);
}

// A PostgreSQL array literal of `values` (each quoted, with `"` and `\` escaped), for a text[]
// parameter.
std::string TextArrayLiteral(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// Records each observable from `first_position` on and links it at its position in `link_table`
// (incident_observables or report_observables, keyed by `owner_column`). One statement for the
// whole list: a report of a feed holds dozens of observables, and a round trip for each upsert
// and each link made a fold of thousands of reports slow (docs/PERFORMANCE.md, pg_feed_bench).
// The upserts go in (type, value) order, so two transactions recording the same observables take
// their row locks in the same order.
Result<void> LinkObservables(Connection& db, std::string_view link_table, std::string_view owner_column,
                             std::int64_t owner_id, const std::vector<core::Observable>& observables, Timestamp seen,
                             std::size_t first_position = 0) {
  if (first_position >= observables.size()) return {};
  std::vector<std::string_view> types;
  std::vector<std::string_view> values;
  for (std::size_t position = first_position; position < observables.size(); ++position) {
    types.push_back(core::ObservableTypeName(observables[position].type));
    values.push_back(observables[position].value);
  }
  const std::string type_array = TextArrayLiteral(types);  // Params borrows them
  const std::string value_array = TextArrayLiteral(values);
  Params params;
  params.Add(owner_id);
  params.Add(static_cast<std::int64_t>(first_position));
  params.Add(type_array);
  params.Add(value_array);
  params.Add(ToMicros(seen));
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format(
                          "WITH input AS (SELECT t.type, t.value, t.ord FROM unnest($3::text::text[], $4::text::text[]) "
                          "WITH ORDINALITY AS t(type, value, ord)), "
                          "recorded AS (INSERT INTO observables (type, value, first_seen, last_seen) "
                          "SELECT DISTINCT type, value, $5::bigint, $5::bigint FROM input ORDER BY type, value "
                          "ON CONFLICT (type, value) DO UPDATE SET "
                          "first_seen = LEAST(observables.first_seen, excluded.first_seen), "
                          "last_seen = GREATEST(observables.last_seen, excluded.last_seen) RETURNING id, type, value) "
                          "INSERT INTO {} ({}, position, observable_id) "
                          "SELECT $1, $2 + input.ord - 1, recorded.id FROM input "
                          "JOIN recorded ON recorded.type = input.type AND recorded.value = input.value",
                          link_table, owner_column),
                      params));
  if (rows.Affected() != static_cast<std::int64_t>(types.size())) {
    return Fail(Error::Internal(fmt::format("linked {} of {} observables", rows.Affected(), types.size())));
  }
  return {};
}

// Rewrites the links only when the list changed, so that an unrelated update (a status change)
// does not count as seeing the observables again.
Result<void> RelinkObservables(Connection& db, std::string_view load_sql, std::string_view link_table,
                               std::string_view owner_column, std::int64_t owner_id, std::string_view table,
                               const std::vector<core::Observable>& observables, Timestamp seen) {
  HIKESHI_TRY(const auto current, LoadObservables(db, load_sql, owner_id, table));
  if (current == observables) return {};
  Params params;
  params.Add(owner_id);
  HIKESHI_CHECK(db.Exec(fmt::format("DELETE FROM {} WHERE {} = $1", link_table, owner_column), params));
  return LinkObservables(db, link_table, owner_column, owner_id, observables, seen);
}

// ---------------------------------------------------------------------------------------------
// Full-text rows

// Replaces the text rows of `owner_id` in `table` (incident_text or report_text, keyed by
// `owner_column`) with the chunks of `text1` and `text2`.
Result<void> IndexText(Connection& db, std::string_view table, std::string_view owner_column, std::int64_t owner_id,
                       std::string_view text1, std::string_view text2) {
  {
    Params params;
    params.Add(owner_id);
    HIKESHI_CHECK(db.Exec(fmt::format("DELETE FROM {} WHERE {} = $1", table, owner_column), params));
  }
  const std::vector<std::string> chunks = TextChunks({text1, text2});
  const std::string insert =
      fmt::format("INSERT INTO {} ({}, chunk, words) VALUES ($1, $2, $3::tsvector)", table, owner_column);
  for (std::size_t chunk = 0; chunk < chunks.size(); ++chunk) {
    Params params;
    params.Add(owner_id);
    params.Add(static_cast<std::int64_t>(chunk));
    params.AddText(chunks[chunk]);
    HIKESHI_CHECK(db.Exec(insert, params));
  }
  return {};
}

// Appends one condition per search phrase: the row's text rows must match each.
void AppendTextFilter(std::string& sql, Params& params, const TextQuery& text, std::string_view table,
                      std::string_view owner_column) {
  for (const std::string& phrase : text.phrases) {
    const int n = params.AddText(phrase);
    sql += fmt::format(" AND id IN (SELECT {} FROM {} WHERE words @@ ${}::tsquery)", owner_column, table, n);
  }
}

// ---------------------------------------------------------------------------------------------
// Incidents

constexpr std::string_view kIncidentColumns =
    "id, human_id, title, description, rsit_class, rsit_type, apt, constituency_id, impact, urgency, priority, "
    "status, phase, owner_id, tlp, exercise, merged_into, created_at, updated_at, resolved_at, closed_at";

Result<core::Incident> IncidentFromRow(const Rows& r, int i) {
  core::Incident incident;
  incident.id = r.Int(i, 0);
  incident.human_id = r.Text(i, 1);
  incident.title = r.Text(i, 2);
  incident.description = r.Text(i, 3);
  incident.category = core::Category{r.Text(i, 4), r.Text(i, 5)};
  incident.apt = r.Bool(i, 6);
  incident.constituency_id = r.OptionalInt(i, 7);
  incident.impact = static_cast<int>(r.Int(i, 8));
  incident.urgency = static_cast<int>(r.Int(i, 9));
  incident.priority = static_cast<int>(r.Int(i, 10));
  const std::string status = r.Text(i, 11);
  HIKESHI_TRY(incident.status, Parsed(core::ParseStatus(status), "incidents", incident.id, "status", status));
  const std::string phase = r.Text(i, 12);
  HIKESHI_TRY(incident.phase, Parsed(core::ParsePhase(phase), "incidents", incident.id, "phase", phase));
  incident.owner_id = r.OptionalInt(i, 13);
  const std::string tlp = r.Text(i, 14);
  HIKESHI_TRY(incident.tlp, Parsed(core::ParseTlp(tlp), "incidents", incident.id, "tlp", tlp));
  incident.exercise = r.Bool(i, 15);
  incident.merged_into = r.OptionalInt(i, 16);
  incident.created_at = FromMicros(r.Int(i, 17));
  incident.updated_at = FromMicros(r.Int(i, 18));
  incident.resolved_at = OptionalTime(r, i, 19);
  incident.closed_at = OptionalTime(r, i, 20);
  return incident;
}

// The observables of every incident in `incidents`, in one query rather than one per incident
// (a page of 50 would otherwise cost 50 round trips).
Result<void> LoadIncidentObservables(Connection& db, std::vector<core::Incident>& incidents) {
  if (incidents.size() == 1) {
    HIKESHI_TRY(incidents[0].observables, LoadObservables(db, kIncidentObservablesSql, incidents[0].id, "incidents"));
    return {};
  }
  if (incidents.empty()) return {};
  std::string ids = "{";
  std::map<std::int64_t, std::size_t> index;
  for (std::size_t i = 0; i < incidents.size(); ++i) {
    if (i > 0) ids += ',';
    ids += std::to_string(incidents[i].id);
    index.emplace(incidents[i].id, i);
  }
  ids += '}';
  Params params;
  params.AddText(ids);  // text format: the server parses the array literal
  HIKESHI_TRY(const Rows rows,
              db.Exec("SELECT l.incident_id, o.type, o.value FROM incident_observables l "
                      "JOIN observables o ON o.id = l.observable_id WHERE l.incident_id = ANY($1::bigint[]) "
                      "ORDER BY l.incident_id, l.position",
                      params));
  for (int i = 0; i < rows.Size(); ++i) {
    const std::int64_t owner_id = rows.Int(i, 0);
    const auto it = index.find(owner_id);
    if (it == index.end()) continue;
    const std::string type_name = rows.Text(i, 1);
    HIKESHI_TRY(const auto type,
                Parsed(core::ParseObservableType(type_name), "incidents", owner_id, "observable type", type_name));
    incidents[it->second].observables.push_back(core::Observable{type, rows.Text(i, 2)});
  }
  return {};
}

Result<std::vector<core::Incident>> CollectIncidents(Connection& db, const Rows& rows) {
  HIKESHI_TRY(auto incidents, CollectRows<core::Incident>(rows, IncidentFromRow));
  HIKESHI_CHECK(LoadIncidentObservables(db, incidents));
  return incidents;
}

Result<std::optional<core::Incident>> QueryOneIncident(Connection& db, std::string_view sql, const Params& params) {
  HIKESHI_TRY(const Rows rows, db.Exec(sql, params));
  HIKESHI_TRY(auto incidents, CollectIncidents(db, rows));
  if (incidents.empty()) return std::nullopt;
  return std::move(incidents.front());
}

// Binds the incident's columns as $1..$20 in kIncidentColumns order (without id).
void BindIncident(Params& p, const core::Incident& incident) {
  p.Add(incident.human_id);
  p.Add(incident.title);
  p.Add(incident.description);
  p.Add(incident.category.rsit_class);
  p.Add(incident.category.rsit_type);
  p.AddBool(incident.apt);
  p.Add(incident.constituency_id);
  p.Add(std::int64_t{incident.impact});
  p.Add(std::int64_t{incident.urgency});
  p.Add(std::int64_t{incident.priority});
  p.Add(core::StatusName(incident.status));
  p.Add(core::PhaseName(incident.phase));
  p.Add(incident.owner_id);
  p.Add(core::TlpName(incident.tlp));
  p.AddBool(incident.exercise);
  p.Add(incident.merged_into);
  p.Add(ToMicros(incident.created_at));
  p.Add(ToMicros(incident.updated_at));
  p.Add(OptionalMicros(incident.resolved_at));
  p.Add(OptionalMicros(incident.closed_at));
}

// ---------------------------------------------------------------------------------------------
// Reports

constexpr std::string_view kReportColumns =
    "id, human_id, channel, reporter, subject, body, rsit_class, rsit_type, constituency_id, tlp, status, "
    "incident_id, reject_reason, reject_comment, received_at, updated_at, fingerprint, event_count, first_seen, "
    "last_seen";

Result<core::Report> ReportFromRow(const Rows& r, int i) {
  core::Report report;
  report.id = r.Int(i, 0);
  report.human_id = r.Text(i, 1);
  const std::string channel = r.Text(i, 2);
  HIKESHI_TRY(report.channel, Parsed(core::ParseChannel(channel), "reports", report.id, "channel", channel));
  report.reporter = r.Text(i, 3);
  report.subject = r.Text(i, 4);
  report.body = r.Text(i, 5);
  if (!r.IsNull(i, 6)) report.category = core::Category{r.Text(i, 6), r.Text(i, 7)};
  report.constituency_id = r.OptionalInt(i, 8);
  const std::string tlp = r.Text(i, 9);
  HIKESHI_TRY(report.tlp, Parsed(core::ParseTlp(tlp), "reports", report.id, "tlp", tlp));
  const std::string status = r.Text(i, 10);
  HIKESHI_TRY(report.status, Parsed(core::ParseReportStatus(status), "reports", report.id, "status", status));
  report.incident_id = r.OptionalInt(i, 11);
  if (const auto reason = r.OptionalText(i, 12)) {
    HIKESHI_TRY(report.reject_reason,
                Parsed(core::ParseRejectReason(*reason), "reports", report.id, "reject_reason", *reason));
  }
  report.reject_comment = r.Text(i, 13);
  report.received_at = FromMicros(r.Int(i, 14));
  report.updated_at = FromMicros(r.Int(i, 15));
  report.fingerprint = r.Text(i, 16);
  report.event_count = r.Int(i, 17);
  report.first_seen = OptionalTime(r, i, 18);
  report.last_seen = OptionalTime(r, i, 19);
  return report;
}

Result<std::vector<std::string>> LoadFlags(Connection& db, std::int64_t report_id) {
  Params params;
  params.Add(report_id);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT flag FROM report_flags WHERE report_id = $1 ORDER BY position", params));
  return CollectRows<std::string>(rows, [](const Rows& r, int i) { return r.Text(i, 0); });
}

Result<std::vector<core::Report>> CollectReports(Connection& db, const Rows& rows) {
  HIKESHI_TRY(auto reports, CollectRows<core::Report>(rows, ReportFromRow));
  for (auto& report : reports) {
    HIKESHI_TRY(report.observables, LoadObservables(db, kReportObservablesSql, report.id, "reports"));
    HIKESHI_TRY(report.flags, LoadFlags(db, report.id));
  }
  return reports;
}

Result<std::optional<core::Report>> QueryOneReport(Connection& db, std::string_view sql, const Params& params) {
  HIKESHI_TRY(const Rows rows, db.Exec(sql, params));
  HIKESHI_TRY(auto reports, CollectReports(db, rows));
  if (reports.empty()) return std::nullopt;
  return std::move(reports.front());
}

// Binds the report's columns as $1..$19 in kReportColumns order (without id). The optional texts
// live in `owned`, which must outlive the query.
struct ReportTexts {
  std::optional<std::string> rsit_class;
  std::optional<std::string> rsit_type;
  std::optional<std::string> reject_reason;
};

void BindReport(Params& p, const core::Report& report, ReportTexts& owned) {
  if (report.category) {
    owned.rsit_class = report.category->rsit_class;
    owned.rsit_type = report.category->rsit_type;
  }
  if (report.reject_reason) owned.reject_reason = std::string(core::RejectReasonName(*report.reject_reason));
  p.Add(report.human_id);
  p.Add(core::ChannelName(report.channel));
  p.Add(report.reporter);
  p.Add(report.subject);
  p.Add(report.body);
  p.Add(owned.rsit_class);
  p.Add(owned.rsit_type);
  p.Add(report.constituency_id);
  p.Add(core::TlpName(report.tlp));
  p.Add(core::ReportStatusName(report.status));
  p.Add(report.incident_id);
  p.Add(owned.reject_reason);
  p.Add(report.reject_comment);
  p.Add(ToMicros(report.received_at));
  p.Add(ToMicros(report.updated_at));
  p.Add(report.fingerprint);
  p.Add(report.event_count);
  p.Add(OptionalMicros(report.first_seen));
  p.Add(OptionalMicros(report.last_seen));
}

// Names the clash: a fingerprint (two aggregates for one fingerprint) or the human id.
template <typename T>
Result<T> ReportConflict(Result<T> result, const core::Report& report) {
  if (!result && result.error().code() == ErrorCode::kConflict &&
      result.error().message().find("reports_fingerprint") != std::string::npos) {
    return Fail(
        Error::Conflict(fmt::format("an aggregate report with fingerprint \"{}\" already exists", report.fingerprint)));
  }
  return NameConflict(std::move(result), fmt::format("report {}", report.human_id));
}

Result<void> WriteFlags(Connection& db, std::int64_t report_id, const std::vector<std::string>& flags) {
  {
    Params params;
    params.Add(report_id);
    HIKESHI_CHECK(db.Exec("DELETE FROM report_flags WHERE report_id = $1", params));
  }
  for (std::size_t position = 0; position < flags.size(); ++position) {
    Params params;
    params.Add(report_id);
    params.Add(static_cast<std::int64_t>(position));
    params.Add(flags[position]);
    HIKESHI_CHECK(db.Exec("INSERT INTO report_flags (report_id, position, flag) VALUES ($1, $2, $3)", params));
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Constituencies, contacts, users, tokens, sessions, audit

constexpr std::string_view kConstituencyColumns = "id, name, description, cidrs, asns, domains, created_at";

Result<core::Constituency> ConstituencyFromRow(const Rows& r, int i) {
  core::Constituency constituency;
  constituency.id = r.Int(i, 0);
  constituency.name = r.Text(i, 1);
  constituency.description = r.Text(i, 2);
  const std::string where = fmt::format("constituencies row {}", constituency.id);
  HIKESHI_TRY(constituency.cidrs, ArrayFromJson<std::string>(r.Text(i, 3), where + " cidrs"));
  HIKESHI_TRY(constituency.asns, ArrayFromJson<std::uint32_t>(r.Text(i, 4), where + " asns"));
  HIKESHI_TRY(constituency.domains, ArrayFromJson<std::string>(r.Text(i, 5), where + " domains"));
  constituency.created_at = FromMicros(r.Int(i, 6));
  return constituency;
}

// Binds $1..$6 (name, description, cidrs, asns, domains, created_at); the JSON texts live in `json`.
Result<void> BindConstituency(Params& p, const core::Constituency& constituency, std::vector<std::string>& json) {
  HIKESHI_TRY(std::string cidrs, JsonArray(constituency.cidrs, "/cidrs"));
  HIKESHI_TRY(std::string asns, JsonArray(constituency.asns, "/asns"));
  HIKESHI_TRY(std::string domains, JsonArray(constituency.domains, "/domains"));
  json = {std::move(cidrs), std::move(asns), std::move(domains)};
  p.Add(constituency.name);
  p.Add(constituency.description);
  p.Add(json[0]);
  p.Add(json[1]);
  p.Add(json[2]);
  p.Add(ToMicros(constituency.created_at));
  return {};
}

constexpr std::string_view kContactColumns =
    "id, name, email, organisation, kind, pgp_fingerprint, tlp_clearance, constituency_id, created_at, trust, "
    "introduced_by";

Result<core::Contact> ContactFromRow(const Rows& r, int i) {
  core::Contact contact;
  contact.id = r.Int(i, 0);
  contact.name = r.Text(i, 1);
  contact.email = r.Text(i, 2);
  contact.organisation = r.Text(i, 3);
  const std::string kind = r.Text(i, 4);
  HIKESHI_TRY(contact.kind, Parsed(core::ParseContactKind(kind), "contacts", contact.id, "kind", kind));
  contact.pgp_fingerprint = r.Text(i, 5);
  const std::string tlp = r.Text(i, 6);
  HIKESHI_TRY(contact.tlp_clearance, Parsed(core::ParseTlp(tlp), "contacts", contact.id, "tlp_clearance", tlp));
  contact.constituency_id = r.OptionalInt(i, 7);
  contact.created_at = FromMicros(r.Int(i, 8));
  const std::string trust = r.Text(i, 9);
  HIKESHI_TRY(contact.trust, Parsed(core::ParseContactTrust(trust), "contacts", contact.id, "trust", trust));
  contact.introduced_by = r.OptionalInt(i, 10);
  return contact;
}

constexpr std::string_view kUserColumns =
    "id, username, display_name, role, scope_all, constituency_ids, password_hash, disabled, created_at";

Result<core::User> UserFromRow(const Rows& r, int i) {
  core::User user;
  user.id = r.Int(i, 0);
  user.username = r.Text(i, 1);
  user.display_name = r.Text(i, 2);
  const std::string role = r.Text(i, 3);
  HIKESHI_TRY(user.role, Parsed(core::ParseRole(role), "users", user.id, "role", role));
  user.scope_all = r.Bool(i, 4);
  HIKESHI_TRY(user.constituency_ids,
              ArrayFromJson<std::int64_t>(r.Text(i, 5), fmt::format("users row {} constituency_ids", user.id)));
  user.password_hash = r.Text(i, 6);
  user.disabled = r.Bool(i, 7);
  user.created_at = FromMicros(r.Int(i, 8));
  return user;
}

// Binds $1..$8 in kUserColumns order (without id); the JSON text lives in `ids`.
Result<void> BindUser(Params& p, const core::User& user, std::string& ids) {
  HIKESHI_TRY(ids, JsonArray(user.constituency_ids, "/constituency_ids"));
  p.Add(user.username);
  p.Add(user.display_name);
  p.Add(core::RoleName(user.role));
  p.AddBool(user.scope_all);
  p.Add(ids);
  p.Add(user.password_hash);
  p.AddBool(user.disabled);
  p.Add(ToMicros(user.created_at));
  return {};
}

constexpr std::string_view kApiTokenColumns = "id, user_id, name, secret_sha256, revoked, created_at";

core::ApiToken ApiTokenFromRow(const Rows& r, int i) {
  core::ApiToken token;
  token.id = r.Int(i, 0);
  token.user_id = r.Int(i, 1);
  token.name = r.Text(i, 2);
  token.secret_sha256 = r.Text(i, 3);
  token.revoked = r.Bool(i, 4);
  token.created_at = FromMicros(r.Int(i, 5));
  return token;
}

constexpr std::string_view kAuditColumns =
    "seq, at, actor, action, object_type, object_id, incident, \"before\", \"after\", prev_hash, hash";

core::AuditEntry AuditFromRow(const Rows& r, int i) {
  core::AuditEntry entry;
  entry.seq = r.Int(i, 0);
  entry.at = FromMicros(r.Int(i, 1));
  entry.actor = r.Text(i, 2);
  entry.action = r.Text(i, 3);
  entry.object_type = r.Text(i, 4);
  entry.object_id = r.Text(i, 5);
  entry.incident = r.Text(i, 6);
  entry.before = r.Text(i, 7);
  entry.after = r.Text(i, 8);
  entry.prev_hash = r.Text(i, 9);
  entry.hash = r.Text(i, 10);
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Feed intake

constexpr std::string_view kFeedRunColumns =
    "id, format, source, records, events_new, duplicates, rejects, reports_created, reports_updated, correlations, "
    "status, started_at, finished_at, skipped";

core::FeedRun FeedRunFromRow(const Rows& r, int i) {
  core::FeedRun run;
  run.id = r.Int(i, 0);
  run.format = r.Text(i, 1);
  run.source = r.Text(i, 2);
  run.records = r.Int(i, 3);
  run.events_new = r.Int(i, 4);
  run.duplicates = r.Int(i, 5);
  run.rejects = r.Int(i, 6);
  run.reports_created = r.Int(i, 7);
  run.reports_updated = r.Int(i, 8);
  run.correlations = r.Int(i, 9);
  run.status = r.Text(i, 10);
  run.started_at = FromMicros(r.Int(i, 11));
  run.finished_at = OptionalTime(r, i, 12);
  run.skipped = r.Int(i, 13);
  return run;
}

// Binds $1..$13 in kFeedRunColumns order (without id).
void BindFeedRun(Params& p, const core::FeedRun& run) {
  p.Add(run.format);
  p.Add(run.source);
  p.Add(run.records);
  p.Add(run.events_new);
  p.Add(run.duplicates);
  p.Add(run.rejects);
  p.Add(run.reports_created);
  p.Add(run.reports_updated);
  p.Add(run.correlations);
  p.Add(run.status);
  p.Add(ToMicros(run.started_at));
  p.Add(OptionalMicros(run.finished_at));
  p.Add(run.skipped);
}

// Event and reject keys travel as their 32 lower-case hex digits and are stored as the 16 bytes
// they spell (decode/encode in SQL). Only lower-case digits are accepted, so that reading a key
// back gives the same text.
Result<void> CheckKey(std::string_view hex) {
  bool valid = hex.size() == 32;
  for (const char c : hex) valid = valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!valid) return Fail(Error::InvalidArgument("a key is 32 lower-case hex digits", "/key"));
  return {};
}

// The id of a stored observable, by its (type, value) index, with type and value as $1 and $2.
constexpr std::string_view kObservableIdSql = "SELECT id FROM observables WHERE type = $1 AND value = $2";

}  // namespace

// =============================================================================================
// Reads

Result<std::optional<core::Incident>> FindIncident(Connection& db, const core::Scope& scope,
                                                   std::string_view human_id) {
  Params params;
  params.Add(human_id);
  const std::string scope_clause = ScopeClause(scope, params);
  return QueryOneIncident(
      db, fmt::format("SELECT {} FROM incidents WHERE human_id = $1 AND {}", kIncidentColumns, scope_clause), params);
}

Result<std::optional<core::Incident>> FindIncidentById(Connection& db, const core::Scope& scope, std::int64_t id) {
  Params params;
  params.Add(id);
  const std::string scope_clause = ScopeClause(scope, params);
  return QueryOneIncident(
      db, fmt::format("SELECT {} FROM incidents WHERE id = $1 AND {}", kIncidentColumns, scope_clause), params);
}

Result<core::Page<core::Incident>> ListIncidents(Connection& db, const core::Scope& scope,
                                                 const core::IncidentQuery& query) {
  HIKESHI_CHECK(CheckLimit(query.limit));
  const TextQuery text = MakeTextQuery(query.text);
  if (text.filter && text.phrases.empty()) return core::Page<core::Incident>{};
  // Only fixed fragments go into the SQL text; every value is bound. Each combination of filters
  // is one prepared statement.
  Params p;
  std::string sql = fmt::format("SELECT {} FROM incidents WHERE {}", kIncidentColumns, ScopeClause(scope, p));
  if (query.status) sql += fmt::format(" AND status = ${}", p.Add(core::StatusName(*query.status)));
  if (query.rsit_class) sql += fmt::format(" AND rsit_class = ${}", p.Add(*query.rsit_class));
  if (query.rsit_type) sql += fmt::format(" AND rsit_type = ${}", p.Add(*query.rsit_type));
  if (query.constituency_id) sql += fmt::format(" AND constituency_id = ${}", p.Add(*query.constituency_id));
  if (query.priority) sql += fmt::format(" AND priority = ${}", p.Add(std::int64_t{*query.priority}));
  if (query.owner_id) sql += fmt::format(" AND owner_id = ${}", p.Add(*query.owner_id));
  AppendTextFilter(sql, p, text, "incident_text", "incident_id");
  if (query.with_record) {
    sql += fmt::format(" AND id IN (SELECT incident_id FROM records WHERE kind = ${})", p.Add(*query.with_record));
  }
  if (query.before_id) sql += fmt::format(" AND id < ${}", p.Add(*query.before_id));
  sql += fmt::format(" ORDER BY id DESC LIMIT ${}", p.Add(std::int64_t{query.limit} + 1));
  HIKESHI_TRY(const Rows rows, db.Exec(sql, p));
  HIKESHI_TRY(auto incidents, CollectIncidents(db, rows));
  return MakePage(std::move(incidents), query.limit);
}

Result<std::optional<core::Report>> FindReport(Connection& db, const core::Scope& scope, std::string_view human_id) {
  Params params;
  params.Add(human_id);
  const std::string scope_clause = ScopeClause(scope, params);
  return QueryOneReport(
      db, fmt::format("SELECT {} FROM reports WHERE human_id = $1 AND {}", kReportColumns, scope_clause), params);
}

Result<core::Page<core::Report>> ListReports(Connection& db, const core::Scope& scope, const core::ReportQuery& query) {
  HIKESHI_CHECK(CheckLimit(query.limit));
  const TextQuery text = MakeTextQuery(query.text);
  if (text.filter && text.phrases.empty()) return core::Page<core::Report>{};
  Params p;
  std::string sql = fmt::format("SELECT {} FROM reports WHERE {}", kReportColumns, ScopeClause(scope, p));
  if (query.status) sql += fmt::format(" AND status = ${}", p.Add(core::ReportStatusName(*query.status)));
  if (query.constituency_id) sql += fmt::format(" AND constituency_id = ${}", p.Add(*query.constituency_id));
  if (query.incident_id) sql += fmt::format(" AND incident_id = ${}", p.Add(*query.incident_id));
  if (query.flag) {
    sql += fmt::format(" AND id IN (SELECT report_id FROM report_flags WHERE flag = ${})", p.Add(*query.flag));
  }
  AppendTextFilter(sql, p, text, "report_text", "report_id");
  if (query.before_id) sql += fmt::format(" AND id < ${}", p.Add(*query.before_id));
  sql += fmt::format(" ORDER BY id DESC LIMIT ${}", p.Add(std::int64_t{query.limit} + 1));
  HIKESHI_TRY(const Rows rows, db.Exec(sql, p));
  HIKESHI_TRY(auto reports, CollectReports(db, rows));
  return MakePage(std::move(reports), query.limit);
}

Result<std::optional<core::Constituency>> FindConstituency(Connection& db, std::string_view name) {
  Params params;
  params.Add(name);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM constituencies WHERE name = $1", kConstituencyColumns), params));
  return FirstRow<core::Constituency>(rows, ConstituencyFromRow);
}

Result<std::optional<core::Constituency>> FindConstituencyById(Connection& db, std::int64_t id) {
  Params params;
  params.Add(id);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM constituencies WHERE id = $1", kConstituencyColumns), params));
  return FirstRow<core::Constituency>(rows, ConstituencyFromRow);
}

Result<std::vector<core::Constituency>> ListConstituencies(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM constituencies ORDER BY id", kConstituencyColumns)));
  return CollectRows<core::Constituency>(rows, ConstituencyFromRow);
}

Result<std::vector<core::Contact>> ListContacts(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM contacts ORDER BY id", kContactColumns)));
  return CollectRows<core::Contact>(rows, ContactFromRow);
}

Result<std::optional<core::User>> FindUser(Connection& db, std::string_view username) {
  Params params;
  params.Add(username);
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM users WHERE username = $1", kUserColumns), params));
  return FirstRow<core::User>(rows, UserFromRow);
}

Result<std::optional<core::User>> FindUserById(Connection& db, std::int64_t id) {
  Params params;
  params.Add(id);
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM users WHERE id = $1", kUserColumns), params));
  return FirstRow<core::User>(rows, UserFromRow);
}

Result<std::vector<core::User>> ListUsers(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM users ORDER BY id", kUserColumns)));
  return CollectRows<core::User>(rows, UserFromRow);
}

Result<std::optional<core::ApiToken>> FindApiToken(Connection& db, std::string_view secret_sha256) {
  Params params;
  params.Add(secret_sha256);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM api_tokens WHERE secret_sha256 = $1", kApiTokenColumns), params));
  return FirstRow<core::ApiToken>(rows, ApiTokenFromRow);
}

Result<std::vector<core::ApiToken>> ListApiTokens(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM api_tokens ORDER BY id", kApiTokenColumns)));
  return CollectRows<core::ApiToken>(rows, ApiTokenFromRow);
}

Result<std::optional<core::Session>> FindSession(Connection& db, std::string_view secret_sha256) {
  Params params;
  params.Add(secret_sha256);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT secret_sha256, user_id, csrf_token, created_at, expires_at "
                                       "FROM sessions WHERE secret_sha256 = $1",
                                       params));
  return FirstRow<core::Session>(rows, [](const Rows& r, int i) {
    return core::Session{r.Text(i, 0), r.Int(i, 1), r.Text(i, 2), FromMicros(r.Int(i, 3)), FromMicros(r.Int(i, 4))};
  });
}

Result<std::vector<core::AuditEntry>> ListAudit(Connection& db, std::int64_t after_seq, int limit) {
  if (limit < 1) return Fail(Error::InvalidArgument("limit must be at least 1", "/limit"));
  Params params;
  params.Add(after_seq);
  params.Add(std::int64_t{limit});
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2", kAuditColumns), params));
  return CollectRows<core::AuditEntry>(rows, AuditFromRow);
}

Result<std::vector<core::AuditEntry>> ListAuditForIncident(Connection& db, std::string_view incident_human_id) {
  Params params;
  params.Add(incident_human_id);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM audit WHERE incident = $1 ORDER BY seq", kAuditColumns), params));
  return CollectRows<core::AuditEntry>(rows, AuditFromRow);
}

Result<std::optional<core::AuditEntry>> LastAuditEntry(Connection& db) {
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM audit ORDER BY seq DESC LIMIT 1", kAuditColumns)));
  return FirstRow<core::AuditEntry>(rows, AuditFromRow);
}

// --- Feed intake

Result<std::optional<core::Report>> FindReportByFingerprint(Connection& db, std::string_view fingerprint) {
  // The second condition lets the planner use the partial index (fingerprint <> '').
  Params params;
  params.Add(fingerprint);
  return QueryOneReport(
      db, fmt::format("SELECT {} FROM reports WHERE fingerprint = $1 AND fingerprint <> ''", kReportColumns), params);
}

// The pivot index (observable_id, owner id) finds the owners; the owner's primary key then gives
// each row, which the scope filters, newest first. An owner holding the value twice comes once
// (IN is a semi-join).
Result<core::Sightings> FindSightings(Connection& db, const core::Scope& scope, const core::Observable& observable,
                                      int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  core::Sightings sightings;
  const auto query = [&](std::string_view table, std::string_view columns, std::string_view link,
                         std::string_view owner) -> Result<Rows> {
    Params p;
    p.Add(core::ObservableTypeName(observable.type));
    p.Add(observable.value);
    const std::string scope_clause = ScopeClause(scope, p);
    const int limit_param = p.Add(std::int64_t{limit});
    return db.Exec(fmt::format("SELECT {} FROM {} WHERE id IN (SELECT {} FROM {} WHERE observable_id = ({})) "
                               "AND {} ORDER BY id DESC LIMIT ${}",
                               columns, table, owner, link, kObservableIdSql, scope_clause, limit_param),
                   p);
  };
  {
    HIKESHI_TRY(const Rows rows, query("incidents", kIncidentColumns, "incident_observables", "incident_id"));
    HIKESHI_TRY(sightings.incidents, CollectIncidents(db, rows));
  }
  HIKESHI_TRY(const Rows rows, query("reports", kReportColumns, "report_observables", "report_id"));
  HIKESHI_TRY(sightings.reports, CollectReports(db, rows));
  return sightings;
}

Result<std::vector<std::int64_t>> OpenIncidentsWith(Connection& db, std::optional<std::int64_t> constituency_id,
                                                    const core::Observable& observable) {
  // As FindSightings: the pivot index drives. IS NOT DISTINCT FROM, so that a NULL constituency
  // matches the unassigned incidents.
  Params p;
  p.Add(core::ObservableTypeName(observable.type));
  p.Add(observable.value);
  p.Add(core::StatusName(core::IncidentStatus::kOpen));
  p.Add(constituency_id);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT id FROM incidents WHERE id IN (SELECT incident_id FROM incident_observables "
                                  "WHERE observable_id = ({})) AND status = $3 "
                                  "AND constituency_id IS NOT DISTINCT FROM $4::bigint ORDER BY id",
                                  kObservableIdSql),
                      p));
  return CollectRows<std::int64_t>(rows, [](const Rows& r, int i) { return r.Int(i, 0); });
}

Result<std::vector<core::Correlation>> ListCorrelations(Connection& db, std::int64_t report_id) {
  Params params;
  params.Add(report_id);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT c.report_id, c.incident_id, o.type, o.value, c.at FROM correlations c "
                                       "JOIN observables o ON o.id = c.observable_id WHERE c.report_id = $1 "
                                       "ORDER BY c.at, c.seq",
                                       params));
  return CollectRows<core::Correlation>(rows, [](const Rows& r, int i) -> Result<core::Correlation> {
    const std::string type_name = r.Text(i, 2);
    HIKESHI_TRY(const auto type, Parsed(core::ParseObservableType(type_name), "correlations", r.Int(i, 0),
                                        "observable type", type_name));
    return core::Correlation{r.Int(i, 0), r.Int(i, 1), core::Observable{type, r.Text(i, 3)}, FromMicros(r.Int(i, 4))};
  });
}

Result<std::optional<core::FeedRun>> FindFeedRun(Connection& db, std::int64_t id) {
  Params params;
  params.Add(id);
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM feed_runs WHERE id = $1", kFeedRunColumns), params));
  return FirstRow<core::FeedRun>(rows, FeedRunFromRow);
}

Result<std::vector<core::FeedRun>> ListFeedRuns(Connection& db, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params params;
  params.Add(after_id);
  params.Add(std::int64_t{limit});
  HIKESHI_TRY(
      const Rows rows,
      db.Exec(fmt::format("SELECT {} FROM feed_runs WHERE id > $1 ORDER BY id LIMIT $2", kFeedRunColumns), params));
  return CollectRows<core::FeedRun>(rows, FeedRunFromRow);
}

Result<std::vector<core::FeedRun>> ListRecentFeedRuns(Connection& db, std::int64_t before_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params params;
  params.Add(before_id);
  params.Add(std::int64_t{limit});
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM feed_runs WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2",
                                  kFeedRunColumns),
                      params));
  return CollectRows<core::FeedRun>(rows, FeedRunFromRow);
}

Result<std::vector<core::FeedReject>> ListFeedRejects(Connection& db, std::int64_t run_id, std::int64_t after_record,
                                                      int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params params;
  params.Add(run_id);
  params.Add(after_record);
  params.Add(std::int64_t{limit});
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT encode(key, 'hex'), run_id, record, reason, raw, at FROM feed_rejects "
                                       "WHERE run_id = $1 AND record > $2 ORDER BY record, reason, key LIMIT $3",
                                       params));
  return CollectRows<core::FeedReject>(rows, [](const Rows& r, int i) {
    return core::FeedReject{r.Text(i, 0), r.Int(i, 1),   r.Int(i, 2),
                            r.Text(i, 3), r.Bytes(i, 4), FromMicros(r.Int(i, 5))};
  });
}

Result<std::int64_t> CountEvents(Connection& db, std::string_view fingerprint) {
  Params params;
  params.Add(fingerprint);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT count FROM event_counts WHERE fingerprint = $1", params));
  return rows.Empty() ? std::int64_t{0} : rows.Int(0, 0);
}

Result<void> AddEventCounts(Connection& db, const std::unordered_map<std::string, std::int64_t>& deltas) {
  if (deltas.empty()) return {};
  // One statement for the transaction's counts: with thousands of sources a batch touches
  // thousands of fingerprints, and a round trip for each was most of a feed's time on PostgreSQL
  // (docs/PERFORMANCE.md, pg_feed_bench). In fingerprint order, so that concurrent feeds lock the
  // rows in the same order.
  std::vector<std::pair<std::string_view, std::int64_t>> sorted(deltas.begin(), deltas.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string_view> fingerprints;
  std::string counts = "{";
  for (const auto& [fingerprint, delta] : sorted) {
    fingerprints.push_back(fingerprint);
    if (counts.size() > 1) counts += ',';
    counts += std::to_string(delta);
  }
  counts += '}';
  const std::string fingerprint_array = TextArrayLiteral(fingerprints);  // Params borrows them
  Params params;
  params.Add(fingerprint_array);
  params.Add(counts);
  HIKESHI_TRY(const Rows rows,
              db.Exec("INSERT INTO event_counts (fingerprint, count) "
                      "SELECT * FROM unnest($1::text::text[], $2::text::bigint[]) "
                      "ON CONFLICT (fingerprint) DO UPDATE SET count = event_counts.count + excluded.count",
                      params));
  if (rows.Affected() != static_cast<std::int64_t>(sorted.size())) {
    return Fail(Error::Internal(fmt::format("counted {} of {} fingerprints", rows.Affected(), sorted.size())));
  }
  return {};
}

// =============================================================================================
// Writes

Result<std::int64_t> NextCounter(Connection& db, std::string_view key) {
  Params params;
  params.Add(key);
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO counters (key, value) VALUES ($1, 1) "
                                       "ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value",
                                       params));
  if (rows.Empty()) return Fail(Error::Internal("counter upsert returned no value"));
  return rows.Int(0, 0);
}

Result<std::int64_t> InsertIncident(Connection& db, const core::Incident& incident) {
  Params p;
  BindIncident(p, incident);
  HIKESHI_TRY(
      const Rows rows,
      NameConflict(db.Exec("INSERT INTO incidents (human_id, title, description, rsit_class, rsit_type, apt, "
                           "constituency_id, impact, urgency, priority, status, phase, owner_id, tlp, exercise, "
                           "merged_into, created_at, updated_at, resolved_at, closed_at) VALUES ($1, $2, $3, "
                           "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
                           "RETURNING id",
                           p),
                   fmt::format("incident {}", incident.human_id)));
  if (rows.Empty()) return Fail(Error::Internal("incident insert returned no id"));
  const std::int64_t id = rows.Int(0, 0);
  HIKESHI_CHECK(IndexText(db, "incident_text", "incident_id", id, incident.title, incident.description));
  HIKESHI_CHECK(
      LinkObservables(db, "incident_observables", "incident_id", id, incident.observables, incident.created_at));
  return id;
}

Result<void> UpdateIncident(Connection& db, const core::Incident& incident) {
  Params p;
  BindIncident(p, incident);
  p.Add(incident.id);
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("UPDATE incidents SET human_id = $1, title = $2, description = $3, rsit_class = $4, "
                                   "rsit_type = $5, apt = $6, constituency_id = $7, impact = $8, urgency = $9, "
                                   "priority = $10, status = $11, phase = $12, owner_id = $13, tlp = $14, "
                                   "exercise = $15, merged_into = $16, created_at = $17, updated_at = $18, "
                                   "resolved_at = $19, closed_at = $20 WHERE id = $21",
                                   p),
                           fmt::format("incident {}", incident.human_id)));
  HIKESHI_CHECK(ExpectOneChange(rows, fmt::format("incident {}", incident.human_id)));
  HIKESHI_CHECK(IndexText(db, "incident_text", "incident_id", incident.id, incident.title, incident.description));
  return RelinkObservables(db, kIncidentObservablesSql, "incident_observables", "incident_id", incident.id,
                           "incidents", incident.observables, incident.updated_at);
}

Result<std::int64_t> InsertReport(Connection& db, const core::Report& report) {
  Params p;
  ReportTexts owned;
  BindReport(p, report, owned);
  HIKESHI_TRY(const Rows rows,
              ReportConflict(db.Exec("INSERT INTO reports (human_id, channel, reporter, subject, body, rsit_class, "
                                     "rsit_type, constituency_id, tlp, status, incident_id, reject_reason, "
                                     "reject_comment, received_at, updated_at, fingerprint, event_count, first_seen, "
                                     "last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                                     "$15, $16, $17, $18, $19) RETURNING id",
                                     p),
                             report));
  if (rows.Empty()) return Fail(Error::Internal("report insert returned no id"));
  const std::int64_t id = rows.Int(0, 0);
  HIKESHI_CHECK(IndexText(db, "report_text", "report_id", id, report.subject, report.body));
  HIKESHI_CHECK(LinkObservables(db, "report_observables", "report_id", id, report.observables, report.received_at));
  HIKESHI_CHECK(WriteFlags(db, id, report.flags));
  return id;
}

Result<void> UpdateReport(Connection& db, const core::Report& before, const core::Report& report) {
  {
    Params p;
    ReportTexts owned;
    BindReport(p, report, owned);
    p.Add(report.id);
    HIKESHI_TRY(const Rows rows,
                ReportConflict(db.Exec("UPDATE reports SET human_id = $1, channel = $2, reporter = $3, subject = $4, "
                                       "body = $5, rsit_class = $6, rsit_type = $7, constituency_id = $8, tlp = $9, "
                                       "status = $10, incident_id = $11, reject_reason = $12, reject_comment = $13, "
                                       "received_at = $14, updated_at = $15, fingerprint = $16, event_count = $17, "
                                       "first_seen = $18, last_seen = $19 WHERE id = $20",
                                       p),
                               report));
    HIKESHI_CHECK(ExpectOneChange(rows, fmt::format("report {}", report.human_id)));
  }
  const bool same_row = before.id == report.id;
  if (!same_row || before.subject != report.subject || before.body != report.body) {
    HIKESHI_CHECK(IndexText(db, "report_text", "report_id", report.id, report.subject, report.body));
  }
  if (!same_row || before.observables != report.observables) {
    HIKESHI_CHECK(RelinkObservables(db, kReportObservablesSql, "report_observables", "report_id", report.id,
                                    "reports", report.observables, report.updated_at));
  }
  if (same_row && before.flags == report.flags) return {};
  HIKESHI_TRY(const auto flags, LoadFlags(db, report.id));
  if (flags == report.flags) return {};
  return WriteFlags(db, report.id, report.flags);
}

Result<void> UpdateAggregate(Connection& db, const core::Report& before, const core::Report& after) {
  {
    // Only the fold's columns: the body and the other texts are not sent and compared again. Only
    // when the row (and its number of observables) is still what `before` says, so that a fold
    // working from a stale copy writes nothing instead of a journal entry that does not follow.
    Params p;
    p.Add(after.event_count);
    p.Add(OptionalMicros(after.first_seen));
    p.Add(OptionalMicros(after.last_seen));
    p.Add(ToMicros(after.updated_at));
    p.Add(after.id);
    p.Add(before.event_count);
    p.Add(OptionalMicros(before.first_seen));
    p.Add(OptionalMicros(before.last_seen));
    p.Add(ToMicros(before.updated_at));
    p.Add(static_cast<std::int64_t>(before.observables.size()));
    HIKESHI_TRY(const Rows rows,
                db.Exec("UPDATE reports SET event_count = $1, first_seen = $2, last_seen = $3, updated_at = $4 "
                        "WHERE id = $5 AND event_count = $6 AND first_seen IS NOT DISTINCT FROM $7 "
                        "AND last_seen IS NOT DISTINCT FROM $8 AND updated_at = $9 "
                        "AND (SELECT count(*) FROM report_observables WHERE report_id = $5) = $10",
                        p));
    if (rows.Affected() == 0) {
      return Fail(Error::FailedPrecondition(fmt::format(
          "report {} is not as the fold read it (changed since, or gone); nothing was written", after.human_id)));
    }
  }
  return LinkObservables(db, "report_observables", "report_id", after.id, after.observables, after.updated_at,
                         before.observables.size());
}

Result<std::int64_t> InsertConstituency(Connection& db, const core::Constituency& constituency) {
  Params p;
  std::vector<std::string> json;
  HIKESHI_CHECK(BindConstituency(p, constituency, json));
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("INSERT INTO constituencies (name, description, cidrs, asns, domains, created_at) "
                                   "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                                   p),
                           fmt::format("constituency \"{}\"", constituency.name)));
  if (rows.Empty()) return Fail(Error::Internal("constituency insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateConstituency(Connection& db, const core::Constituency& constituency) {
  Params p;
  std::vector<std::string> json;
  HIKESHI_CHECK(BindConstituency(p, constituency, json));
  p.Add(constituency.id);
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("UPDATE constituencies SET name = $1, description = $2, cidrs = $3, asns = $4, "
                                   "domains = $5, created_at = $6 WHERE id = $7",
                                   p),
                           fmt::format("constituency \"{}\"", constituency.name)));
  return ExpectOneChange(rows, fmt::format("constituency {}", constituency.id));
}

void BindContact(Params& p, const core::Contact& contact) {
  p.Add(contact.name);
  p.Add(contact.email);
  p.Add(contact.organisation);
  p.Add(core::ContactKindName(contact.kind));
  p.Add(contact.pgp_fingerprint);
  p.Add(core::TlpName(contact.tlp_clearance));
  p.Add(contact.constituency_id);
  p.Add(ToMicros(contact.created_at));
  p.Add(core::ContactTrustName(contact.trust));
  p.Add(contact.introduced_by);
}

Result<void> UpdateContact(Connection& db, const core::Contact& contact) {
  Params p;
  BindContact(p, contact);
  p.Add(contact.id);
  HIKESHI_TRY(const Rows rows, db.Exec("UPDATE contacts SET name = $1, email = $2, organisation = $3, kind = $4, "
                                       "pgp_fingerprint = $5, tlp_clearance = $6, constituency_id = $7, "
                                       "created_at = $8, trust = $9, introduced_by = $10 WHERE id = $11",
                                       p));
  return ExpectOneChange(rows, fmt::format("contact {}", contact.id));
}

Result<std::int64_t> InsertContact(Connection& db, const core::Contact& contact) {
  Params p;
  BindContact(p, contact);
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("INSERT INTO contacts (name, email, organisation, kind, pgp_fingerprint, "
                                   "tlp_clearance, constituency_id, created_at, trust, introduced_by) "
                                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                                   p),
                           fmt::format("contact \"{}\"", contact.name)));
  if (rows.Empty()) return Fail(Error::Internal("contact insert returned no id"));
  return rows.Int(0, 0);
}

Result<std::int64_t> InsertUser(Connection& db, const core::User& user) {
  Params p;
  std::string ids;
  HIKESHI_CHECK(BindUser(p, user, ids));
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("INSERT INTO users (username, display_name, role, scope_all, constituency_ids, "
                                   "password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                                   "RETURNING id",
                                   p),
                           fmt::format("user \"{}\"", user.username)));
  if (rows.Empty()) return Fail(Error::Internal("user insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateUser(Connection& db, const core::User& user) {
  Params p;
  std::string ids;
  HIKESHI_CHECK(BindUser(p, user, ids));
  p.Add(user.id);
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("UPDATE users SET username = $1, display_name = $2, role = $3, scope_all = $4, "
                                   "constituency_ids = $5, password_hash = $6, disabled = $7, created_at = $8 "
                                   "WHERE id = $9",
                                   p),
                           fmt::format("user \"{}\"", user.username)));
  return ExpectOneChange(rows, fmt::format("user {}", user.id));
}

Result<std::int64_t> InsertApiToken(Connection& db, const core::ApiToken& token) {
  Params p;
  p.Add(token.user_id);
  p.Add(token.name);
  p.Add(token.secret_sha256);
  p.AddBool(token.revoked);
  p.Add(ToMicros(token.created_at));
  // Never name the secret (even hashed) in an error message.
  HIKESHI_TRY(const Rows rows, NameConflict(db.Exec("INSERT INTO api_tokens (user_id, name, secret_sha256, revoked, "
                                                    "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                                    p),
                                            "an API token with this secret"));
  if (rows.Empty()) return Fail(Error::Internal("api token insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateApiToken(Connection& db, const core::ApiToken& token) {
  Params p;
  p.Add(token.user_id);
  p.Add(token.name);
  p.Add(token.secret_sha256);
  p.AddBool(token.revoked);
  p.Add(ToMicros(token.created_at));
  p.Add(token.id);
  HIKESHI_TRY(const Rows rows, NameConflict(db.Exec("UPDATE api_tokens SET user_id = $1, name = $2, "
                                                    "secret_sha256 = $3, revoked = $4, created_at = $5 WHERE id = $6",
                                                    p),
                                            "an API token with this secret"));
  return ExpectOneChange(rows, fmt::format("api token {}", token.id));
}

Result<void> InsertSession(Connection& db, const core::Session& session) {
  Params p;
  p.Add(session.secret_sha256);
  p.Add(session.user_id);
  p.Add(session.csrf_token);
  p.Add(ToMicros(session.created_at));
  p.Add(ToMicros(session.expires_at));
  HIKESHI_CHECK(NameConflict(db.Exec("INSERT INTO sessions (secret_sha256, user_id, csrf_token, created_at, "
                                     "expires_at) VALUES ($1, $2, $3, $4, $5)",
                                     p),
                             "a session with this secret"));
  return {};
}

Result<void> DeleteSession(Connection& db, std::string_view secret_sha256) {
  Params p;
  p.Add(secret_sha256);
  HIKESHI_TRY(const Rows rows, db.Exec("DELETE FROM sessions WHERE secret_sha256 = $1", p));
  return ExpectOneChange(rows, "session");
}

Result<void> PurgeExpiredSessions(Connection& db, core::Timestamp now) {
  Params p;
  p.Add(ToMicros(now));
  HIKESHI_CHECK(db.Exec("DELETE FROM sessions WHERE expires_at < $1", p));
  return {};
}

Result<void> AppendAudit(Connection& db, const core::AuditEntry& entry) {
  Params p;
  p.Add(entry.seq);
  p.Add(ToMicros(entry.at));
  p.Add(entry.actor);
  p.Add(entry.action);
  p.Add(entry.object_type);
  p.Add(entry.object_id);
  p.Add(entry.incident);
  p.Add(entry.before);
  p.Add(entry.after);
  p.Add(entry.prev_hash);
  p.Add(entry.hash);
  HIKESHI_CHECK(NameConflict(db.Exec("INSERT INTO audit (seq, at, actor, action, object_type, object_id, incident, "
                                     "\"before\", \"after\", prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                                     "$9, $10, $11)",
                                     p),
                             fmt::format("audit entry {}", entry.seq)));
  return {};
}

// --- Feed intake

Result<std::int64_t> InsertFeedRun(Connection& db, const core::FeedRun& run) {
  Params p;
  BindFeedRun(p, run);
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO feed_runs (format, source, records, events_new, duplicates, "
                                       "rejects, reports_created, reports_updated, correlations, status, started_at, "
                                       "finished_at, skipped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                                       "$12, $13) "
                                       "RETURNING id",
                                       p));
  if (rows.Empty()) return Fail(Error::Internal("feed run insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateFeedRun(Connection& db, const core::FeedRun& run) {
  Params p;
  BindFeedRun(p, run);
  p.Add(run.id);
  HIKESHI_TRY(const Rows rows, db.Exec("UPDATE feed_runs SET format = $1, source = $2, records = $3, "
                                       "events_new = $4, duplicates = $5, rejects = $6, reports_created = $7, "
                                       "reports_updated = $8, correlations = $9, status = $10, started_at = $11, "
                                       "finished_at = $12, skipped = $13 WHERE id = $14",
                                       p));
  return ExpectOneChange(rows, fmt::format("feed run {}", run.id));
}

// The hot path of feed intake: one prepared statement. DO NOTHING makes a key clash a statement
// that changed no row rather than an error (which would abort the transaction), so telling a
// duplicate from a new event costs no second query.
Result<bool> InsertEvent(Connection& db, const core::StoredEvent& event) {
  HIKESHI_CHECK(CheckKey(event.key));
  Params p;
  p.Add(event.key);
  p.Add(event.run_id);
  p.Add(event.record);
  p.Add(event.fingerprint);
  p.Add(OptionalMicros(event.time));
  p.AddBytes(event.raw);
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO events (key, run_id, record, fingerprint, time, raw) "
                                       "VALUES (decode($1::text, 'hex'), $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                                       p));
  return rows.Affected() == 1;
}

namespace {

// Appends `text` as a field of COPY's text format: backslash, tab, newline and carriage return are
// escaped; every other byte is itself.
void AppendCopyText(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

// Appends `bytes` as a bytea field of COPY's text format: \\x and two hex digits a byte (the
// backslash itself escaped for COPY).
void AppendCopyBytes(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
}

}  // namespace

Result<std::int64_t> InsertEvents(Connection& db, std::span<const core::StoredEvent> events,
                                  std::unordered_map<std::string, std::int64_t>& stored_counts) {
  if (events.empty()) return 0;
  std::string rows;
  rows.reserve(events.size() * (events.front().raw.size() * 2 + 128));
  for (std::size_t i = 0; i < events.size(); ++i) {
    const core::StoredEvent& event = events[i];
    HIKESHI_CHECK(CheckKey(event.key));
    rows += fmt::format("{}\t{}\t{}\t{}\t", i, event.key, event.run_id, event.record);
    AppendCopyText(rows, event.fingerprint);
    rows += '\t';
    rows += event.time ? std::to_string(ToMicros(*event.time)) : "\\N";
    rows += '\t';
    AppendCopyBytes(rows, event.raw);
    rows += '\n';
  }
  // Lives as long as the connection; emptied at every commit, and below.
  HIKESHI_CHECK(
      db.Execute("CREATE TEMP TABLE IF NOT EXISTS event_batch (ord BIGINT, key TEXT, run_id BIGINT, "
                 "record BIGINT, fingerprint TEXT, time BIGINT, raw BYTEA) ON COMMIT DELETE ROWS"));
  HIKESHI_CHECK(db.CopyIn("COPY event_batch (ord, key, run_id, record, fingerprint, time, raw) FROM STDIN", rows));
  // The first of each key, in list order, is the one that may be new; RETURNING names the ones that
  // were (a key already stored returns nothing).
  auto inserted = db.Exec(
      "INSERT INTO events (key, run_id, record, fingerprint, time, raw) "
      "SELECT DISTINCT ON (key) decode(key, 'hex'), run_id, record, fingerprint, time, raw FROM event_batch "
      "ORDER BY key, ord ON CONFLICT DO NOTHING RETURNING fingerprint");
  auto emptied = db.Execute("TRUNCATE event_batch");
  HIKESHI_TRY(const Rows stored, std::move(inserted));
  HIKESHI_CHECK(emptied);
  for (int i = 0; i < stored.Size(); ++i) ++stored_counts[stored.Text(i, 0)];
  return static_cast<std::int64_t>(stored.Size());
}

Result<bool> InsertFeedReject(Connection& db, const core::FeedReject& reject) {
  HIKESHI_CHECK(CheckKey(reject.key));
  Params p;
  p.Add(reject.key);
  p.Add(reject.run_id);
  p.Add(reject.record);
  p.Add(reject.reason);
  p.AddBytes(reject.raw);
  p.Add(ToMicros(reject.at));
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO feed_rejects (key, run_id, record, reason, raw, at) "
                                       "VALUES (decode($1::text, 'hex'), $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                                       p));
  return rows.Affected() == 1;
}

Result<bool> InsertCorrelation(Connection& db, const core::Correlation& correlation) {
  // The observable is normally stored already (the incident holds it). When it is not, the
  // INSERT ... SELECT inserts nothing, and only then is it worth telling a duplicate pair from an
  // unknown observable.
  const auto insert = [&]() -> Result<bool> {
    Params p;
    p.Add(correlation.report_id);
    p.Add(correlation.incident_id);
    p.Add(ToMicros(correlation.at));
    p.Add(core::ObservableTypeName(correlation.observable.type));
    p.Add(correlation.observable.value);
    HIKESHI_TRY(const Rows rows,
                db.Exec("INSERT INTO correlations (report_id, incident_id, observable_id, at) "
                        "SELECT $1::bigint, $2::bigint, id, $3::bigint FROM observables WHERE type = $4 AND value = $5 "
                        "ON CONFLICT DO NOTHING",
                        p));
    return rows.Affected() == 1;
  };
  HIKESHI_TRY(const bool inserted, insert());
  if (inserted) return true;
  {
    Params p;
    p.Add(correlation.report_id);
    p.Add(correlation.incident_id);
    HIKESHI_TRY(const Rows pair, db.Exec("SELECT 1 FROM correlations WHERE report_id = $1 AND incident_id = $2", p));
    if (!pair.Empty()) return false;
  }
  HIKESHI_CHECK(UpsertObservable(db, correlation.observable, correlation.at));
  return insert();
}

// =============================================================================================
// Full-text rows

Result<void> IndexIncidentText(Connection& db, std::int64_t id, std::string_view title, std::string_view description) {
  return IndexText(db, "incident_text", "incident_id", id, title, description);
}

Result<void> IndexReportText(Connection& db, std::int64_t id, std::string_view subject, std::string_view body) {
  return IndexText(db, "report_text", "report_id", id, subject, body);
}

// =============================================================================================
// Mail

namespace {

constexpr std::string_view kMailColumns =
    "id, direction, kind, message_id, report_id, incident_id, from_address, from_name, subject, text, in_reply_to, "
    "raw_sha256, raw_size, encrypted, decrypted, auto_reason, spam, details, status, language, attempts, "
    "last_error, next_attempt_at, at, sent_at";

Result<core::MailMessage> MailFromRow(const Rows& r, int i) {
  core::MailMessage m;
  m.id = r.Int(i, 0);
  const std::string direction = r.Text(i, 1);
  HIKESHI_TRY(m.direction, Parsed(core::ParseMailDirection(direction), "mail_messages", m.id, "direction", direction));
  m.kind = r.Text(i, 2);
  m.message_id = r.Text(i, 3);
  m.report_id = r.OptionalInt(i, 4);
  m.incident_id = r.OptionalInt(i, 5);
  m.from_address = r.Text(i, 6);
  m.from_name = r.Text(i, 7);
  m.subject = r.Text(i, 8);
  m.text = r.Text(i, 9);
  m.in_reply_to = r.Text(i, 10);
  m.raw_sha256 = r.Text(i, 11);
  m.raw_size = r.Int(i, 12);
  m.encrypted = r.Bool(i, 13);
  m.decrypted = r.Bool(i, 14);
  m.auto_reason = r.Text(i, 15);
  m.spam = r.Bool(i, 16);
  if (auto decoded = core::DecodeMailDetails(r.Text(i, 17), m); !decoded) {
    return Fail(Error::DataLoss(fmt::format("mail_messages row {}: {}", m.id, decoded.error().message())));
  }
  m.status = r.Text(i, 18);
  m.language = r.Text(i, 19);
  m.attempts = static_cast<int>(r.Int(i, 20));
  m.last_error = r.Text(i, 21);
  m.next_attempt_at = OptionalTime(r, i, 22);
  m.at = FromMicros(r.Int(i, 23));
  m.sent_at = OptionalTime(r, i, 24);
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

// The columns every insert and update writes, in this order, bound as $1..$25.
constexpr std::string_view kMailWriteColumns =
    "direction, kind, message_id, report_id, incident_id, from_address, from_name, recipient, subject, text, "
    "in_reply_to, raw_sha256, raw_size, encrypted, decrypted, auto_reason, spam, details, status, language, "
    "attempts, last_error, next_attempt_at, at, sent_at";
constexpr int kMailWriteCount = 25;

// `details` and `recipient` are borrowed by `p` and must outlive the query.
void BindMail(Params& p, const core::MailMessage& m, const std::string& details, const std::string& recipient) {
  p.Add(core::MailDirectionName(m.direction));
  p.Add(m.kind);
  p.Add(m.message_id);
  p.Add(m.report_id);
  p.Add(m.incident_id);
  p.Add(m.from_address);
  p.Add(m.from_name);
  p.Add(recipient);
  p.Add(m.subject);
  p.Add(m.text);
  p.Add(m.in_reply_to);
  p.Add(m.raw_sha256);
  p.Add(m.raw_size);
  p.AddBool(m.encrypted);
  p.AddBool(m.decrypted);
  p.Add(m.auto_reason);
  p.AddBool(m.spam);
  p.Add(details);
  p.Add(m.status);
  p.Add(m.language);
  p.Add(std::int64_t{m.attempts});
  p.Add(m.last_error);
  p.Add(OptionalMicros(m.next_attempt_at));
  p.Add(ToMicros(m.at));
  p.Add(OptionalMicros(m.sent_at));
}

Result<std::vector<core::MailMessage>> MailWhere(Connection& db, std::string_view where, std::int64_t value) {
  Params p;
  p.Add(value);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM mail_messages WHERE {} ORDER BY id", kMailColumns, where), p));
  return CollectRows<core::MailMessage>(rows, MailFromRow);
}

}  // namespace

Result<std::optional<core::MailMessage>> FindMail(Connection& db, core::MailDirection direction,
                                                  std::string_view message_id) {
  Params p;
  p.Add(core::MailDirectionName(direction));
  p.Add(message_id);
  HIKESHI_TRY(
      const Rows rows,
      db.Exec(fmt::format("SELECT {} FROM mail_messages WHERE direction = $1 AND message_id = $2", kMailColumns), p));
  return FirstRow<core::MailMessage>(rows, MailFromRow);
}

Result<std::optional<core::MailMessage>> FindMailById(Connection& db, std::int64_t id) {
  HIKESHI_TRY(auto rows, MailWhere(db, "id = $1", id));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

Result<std::vector<core::MailMessage>> ListMailForReport(Connection& db, std::int64_t report_id) {
  return MailWhere(db, "report_id = $1", report_id);
}

Result<std::vector<core::MailMessage>> ListMailForIncident(Connection& db, std::int64_t incident_id) {
  return MailWhere(db, "incident_id = $1", incident_id);
}

Result<std::vector<core::MailMessage>> ListMail(Connection& db, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params p;
  p.Add(after_id);
  p.Add(std::int64_t{limit});
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM mail_messages WHERE id > $1 ORDER BY id LIMIT $2", kMailColumns), p));
  return CollectRows<core::MailMessage>(rows, MailFromRow);
}

Result<std::int64_t> CountMailTo(Connection& db, std::string_view kind, std::string_view recipient,
                                 core::Timestamp since) {
  Params p;
  p.Add(kind);
  p.Add(recipient);
  p.Add(ToMicros(since));
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT count(*) FROM mail_messages WHERE direction = 'out' AND kind = $1 "
                                       "AND recipient = $2 AND at >= $3",
                                       p));
  return rows.Int(0, 0);
}

Result<std::int64_t> InsertMail(Connection& db, const core::MailMessage& mail) {
  const std::string details = core::EncodeMailDetails(mail);
  const std::string recipient = FirstRecipient(mail);
  Params p;
  BindMail(p, mail, details, recipient);
  static const std::string sql = [] {
    std::string placeholders;
    for (int n = 1; n <= kMailWriteCount; ++n) placeholders += fmt::format("{}${}", n == 1 ? "" : ", ", n);
    return fmt::format("INSERT INTO mail_messages ({}) VALUES ({}) RETURNING id", kMailWriteColumns, placeholders);
  }();
  HIKESHI_TRY(const Rows rows, NameConflict(db.Exec(sql, p), fmt::format("mail message <{}>", mail.message_id)));
  if (rows.Empty()) return Fail(Error::Internal("mail insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateMail(Connection& db, const core::MailMessage& mail) {
  const std::string details = core::EncodeMailDetails(mail);
  const std::string recipient = FirstRecipient(mail);
  Params p;
  BindMail(p, mail, details, recipient);
  p.Add(mail.id);
  static constexpr std::string_view sql =
      "UPDATE mail_messages SET direction = $1, kind = $2, message_id = $3, report_id = $4, incident_id = $5, "
      "from_address = $6, from_name = $7, recipient = $8, subject = $9, text = $10, in_reply_to = $11, "
      "raw_sha256 = $12, raw_size = $13, encrypted = $14, decrypted = $15, auto_reason = $16, spam = $17, "
      "details = $18, status = $19, language = $20, attempts = $21, last_error = $22, next_attempt_at = $23, "
      "at = $24, sent_at = $25, claimed_by = '', lease_until = 0 WHERE id = $26";
  HIKESHI_TRY(const Rows rows, NameConflict(db.Exec(sql, p), fmt::format("mail message <{}>", mail.message_id)));
  return ExpectOneChange(rows, fmt::format("mail message {}", mail.id));
}

Result<std::vector<core::MailMessage>> ClaimOutgoingMail(Connection& db, core::Timestamp now, std::string_view worker,
                                                         core::Timestamp lease_until, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params p;
  p.Add(ToMicros(now));
  p.Add(worker);
  p.Add(ToMicros(lease_until));
  p.Add(std::int64_t{limit});
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("UPDATE mail_messages SET claimed_by = $2, lease_until = $3 WHERE id IN ("
                                  "SELECT id FROM mail_messages WHERE direction = 'out' AND status = 'pending' "
                                  "AND coalesce(next_attempt_at, 0) <= $1 AND lease_until < $1 "
                                  "ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING {}",
                                  kMailColumns),
                      p));
  HIKESHI_TRY(auto claimed, CollectRows<core::MailMessage>(rows, MailFromRow));
  // RETURNING gives no order; the queue is oldest first.
  std::ranges::sort(claimed, {}, &core::MailMessage::id);
  return claimed;
}

}  // namespace hikeshi::store::postgres::detail

// =============================================================================================
// Response records

namespace hikeshi::store::postgres::detail {
namespace {

constexpr std::string_view kRecordColumns = "id, kind, key, incident_id, state, body, created_at, updated_at";

core::Record RecordFromRow(const Rows& r, int i) {
  core::Record record;
  record.id = r.Int(i, 0);
  record.kind = r.Text(i, 1);
  record.key = r.Text(i, 2);
  record.incident_id = r.OptionalInt(i, 3);
  record.state = r.Text(i, 4);
  record.body = r.Text(i, 5);
  record.created_at = FromMicros(r.Int(i, 6));
  record.updated_at = FromMicros(r.Int(i, 7));
  return record;
}

}  // namespace

Result<std::optional<core::Record>> FindRecord(Connection& db, std::string_view kind, std::string_view key) {
  Params p;
  p.Add(kind);
  p.Add(key);
  HIKESHI_TRY(const Rows rows,
              db.Exec(fmt::format("SELECT {} FROM records WHERE kind = $1 AND key = $2", kRecordColumns), p));
  return FirstRow<core::Record>(rows, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecordsForIncident(Connection& db, std::int64_t incident_id,
                                                         std::string_view kind) {
  Params p;
  p.Add(incident_id);
  // Two texts rather than "($2 = '' OR kind = $2)", so that a kind uses the whole index.
  const std::string kind_filter = kind.empty() ? "" : fmt::format(" AND kind = ${}", p.Add(kind));
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM records WHERE incident_id = $1{} ORDER BY id",
                                                   kRecordColumns, kind_filter),
                                       p));
  return CollectRows<core::Record>(rows, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecordsForIncidents(Connection& db, std::span<const std::int64_t> incident_ids,
                                                          std::string_view kind) {
  if (incident_ids.empty()) return std::vector<core::Record>{};
  if (incident_ids.size() > static_cast<std::size_t>(kMaxPageSize)) {
    return Fail(Error::InvalidArgument(fmt::format("at most {} incidents at a time", kMaxPageSize)));
  }
  Params p;
  p.Add(kind);
  p.AddText(fmt::format("{{{}}}", fmt::join(incident_ids, ",")));
  HIKESHI_TRY(
      const Rows rows,
      db.Exec(fmt::format("SELECT {} FROM records WHERE kind = $1 AND incident_id = ANY($2::bigint[]) ORDER BY id",
                          kRecordColumns),
              p));
  return CollectRows<core::Record>(rows, RecordFromRow);
}

Result<std::vector<core::Record>> ListRecords(Connection& db, std::string_view kind, std::int64_t after_id, int limit) {
  HIKESHI_CHECK(CheckLimit(limit));
  Params p;
  p.Add(after_id);
  p.Add(std::int64_t{limit});
  const std::string kind_filter = kind.empty() ? "" : fmt::format(" AND kind = ${}", p.Add(kind));
  HIKESHI_TRY(const Rows rows, db.Exec(fmt::format("SELECT {} FROM records WHERE id > $1{} ORDER BY id LIMIT $2",
                                                   kRecordColumns, kind_filter),
                                       p));
  return CollectRows<core::Record>(rows, RecordFromRow);
}

Result<std::int64_t> InsertRecord(Connection& db, const core::Record& record) {
  Params p;
  p.Add(record.kind);
  p.Add(record.key);
  p.Add(record.incident_id);
  p.Add(record.state);
  p.Add(record.body);
  p.Add(ToMicros(record.created_at));
  p.Add(ToMicros(record.updated_at));
  HIKESHI_TRY(const Rows rows,
              NameConflict(db.Exec("INSERT INTO records (kind, key, incident_id, state, body, created_at, updated_at) "
                                   "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                                   p),
                           fmt::format("{} {}", record.kind, record.key)));
  if (rows.Empty()) return Fail(Error::Internal("record insert returned no id"));
  return rows.Int(0, 0);
}

Result<void> UpdateRecord(Connection& db, const core::Record& record) {
  Params p;
  p.Add(record.incident_id);
  p.Add(record.state);
  p.Add(record.body);
  p.Add(ToMicros(record.updated_at));
  p.Add(record.id);
  HIKESHI_TRY(const Rows rows,
              db.Exec("UPDATE records SET incident_id = $1, state = $2, body = $3, updated_at = $4 WHERE id = $5", p));
  return ExpectOneChange(rows, fmt::format("record {}", record.id));
}

Result<std::optional<core::SealedBlob>> FindBlob(Connection& db, std::string_view sha256) {
  Params p;
  p.Add(sha256);
  HIKESHI_TRY(const Rows rows, db.Exec("SELECT sealed, size FROM blobs WHERE sha256 = $1", p));
  if (rows.Empty()) return std::optional<core::SealedBlob>();
  return core::SealedBlob{std::string(sha256), rows.Bytes(0, 0), rows.Int(0, 1)};
}

Result<bool> InsertBlob(Connection& db, const core::SealedBlob& blob, core::Timestamp created_at) {
  Params p;
  p.Add(blob.sha256);
  p.AddBytes(blob.sealed);
  p.Add(blob.size);
  p.Add(ToMicros(created_at));
  HIKESHI_TRY(const Rows rows, db.Exec("INSERT INTO blobs (sha256, sealed, size, created_at) VALUES ($1, $2, $3, $4) "
                                       "ON CONFLICT (sha256) DO NOTHING",
                                       p));
  return rows.Affected() == 1;
}

}  // namespace hikeshi::store::postgres::detail
