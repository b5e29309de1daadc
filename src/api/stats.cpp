// SLA and statistics routes: an incident's SLA clocks (/incidents/{id}/sla), the breaches recorded
// so far (/sla/breaches), and the statistics for management (/stats, as JSON or CSV).
// core::SlaMonitor and core::Statistics do the work; this file only translates.

#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

#include "detail/modules.hpp"
#include "detail/routing.hpp"

namespace hikeshi::api::detail {
namespace {

using nlohmann::ordered_json;

Result<core::SlaMonitor*> Monitor(const ApiServices& services) {
  if (services.sla == nullptr) return Fail(Error::Unavailable("SLA clocks are not configured on this server"));
  return services.sla;
}

Result<core::Statistics*> Stats(const ApiServices& services) {
  if (services.stats == nullptr) return Fail(Error::Unavailable("statistics are not configured on this server"));
  return services.stats;
}

double Seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

ordered_json Time(const std::optional<common::Timestamp>& t) {
  return t ? ordered_json(common::FormatRfc3339(*t)) : ordered_json(nullptr);
}

ordered_json RenderClock(const core::SlaClock& clock) {
  ordered_json j;
  j["clock"] = core::SlaClockName(clock.kind);
  j["target_seconds"] = clock.target.count();
  j["target"] = core::FormatSlaDuration(clock.target);
  j["started_at"] = common::FormatRfc3339(clock.started_at);
  j["deadline"] = common::FormatRfc3339(clock.Deadline());
  j["stopped_at"] = Time(clock.stop ? std::optional(clock.stop->at) : std::nullopt);
  j["stopped_by"] =
      clock.stop ? ordered_json{{"seq", clock.stop->seq}, {"action", clock.stop->action}, {"actor", clock.stop->actor}}
                 : ordered_json(nullptr);
  j["elapsed_seconds"] = Seconds(clock.elapsed);
  j["state"] = core::SlaStateName(clock.state);
  return j;
}

ordered_json RenderBreach(const core::SlaBreach& b) {
  ordered_json j;
  j["id"] = b.incident + "/" + std::string(core::SlaClockName(b.clock));
  j["incident"] = b.incident;
  j["clock"] = core::SlaClockName(b.clock);
  j["priority"] = b.priority;
  j["target_seconds"] = b.target.count();
  j["started_at"] = common::FormatRfc3339(b.started_at);
  j["deadline"] = common::FormatRfc3339(b.deadline);
  j["stopped_at"] = Time(b.stopped_at);
  j["recorded_at"] = common::FormatRfc3339(b.recorded_at);
  return j;
}

Result<HttpResponse> IncidentSla(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* sla, Monitor(services));
  QueryReader query(call.request);
  HIKESHI_CHECK(query.RejectUnknown());
  HIKESHI_TRY(const auto reading, sla->Clocks(call.principal(), call.params[0]));
  ordered_json clocks = ordered_json::array();
  for (const auto& clock : reading.clocks) clocks.push_back(RenderClock(clock));
  return Json(200, {{"incident", reading.incident},
                    {"priority", reading.priority},
                    {"status", core::StatusName(reading.status)},
                    {"exercise", reading.exercise},
                    {"created_at", common::FormatRfc3339(reading.created_at)},
                    {"started_at", common::FormatRfc3339(reading.started_at)},
                    {"clocks", std::move(clocks)}});
}

Result<HttpResponse> ListBreaches(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* sla, Monitor(services));
  QueryReader query(call.request);
  core::SlaBreachQuery request;
  request.incident = query.Get("incident");
  request.clock = query.Get("clock");
  HIKESHI_TRY(const auto limit, query.Int("limit"));
  if (limit) request.limit = *limit;
  HIKESHI_TRY(request.after_id, query.Cursor());
  HIKESHI_CHECK(query.RejectUnknown());
  HIKESHI_TRY(const auto page, sla->Breaches(call.principal(), request));
  ordered_json items = ordered_json::array();
  for (const auto& breach : page.items) items.push_back(RenderBreach(breach));
  return Json(200, {{"items", std::move(items)}, {"next_cursor", NextCursor(page.next_after_id)}});
}

Result<HttpResponse> GetStats(const ApiServices& services, Call& call) {
  HIKESHI_TRY(auto* stats, Stats(services));
  QueryReader query(call.request);
  core::StatsRequest request;
  request.period = query.Get("period");
  request.from = query.Get("from");
  request.to = query.Get("to");
  request.quarter = query.Get("quarter");
  request.group = query.Get("group");
  request.tz = query.Get("tz");
  const auto format = query.Get("format");
  const auto table = query.Get("table");
  HIKESHI_CHECK(query.RejectUnknown());
  bool csv = call.request.Header("accept").starts_with("text/csv");
  if (format) {
    if (*format != "csv" && *format != "json") {
      return Fail(Error::InvalidArgument("'" + *format + "' is not a format (json, csv)", "/format"));
    }
    csv = *format == "csv";
  }
  if (table && !csv) return Fail(Error::InvalidArgument("a table is chosen only with format=csv", "/table"));
  HIKESHI_TRY(const auto report, stats->Compute(call.principal(), request));
  if (!csv) return Json(200, ordered_json::parse(core::StatsJson(report)));
  if (!table) return Csv(core::StatsCsvAll(report), "hikeshi-stats.csv");
  HIKESHI_TRY(auto body, core::StatsCsv(report, *table));
  return Csv(std::move(body), "hikeshi-stats-" + *table + ".csv");
}

}  // namespace

void AddStatsRoutes(const RouteSink& add, const ApiServices& services) {
  const auto bind = [&services](Result<HttpResponse> (*handler)(const ApiServices&, Call&)) {
    return [&services, handler](Call& call) { return handler(services, call); };
  };
  add("GET", "/api/v1/incidents/{id}/sla", true, bind(&IncidentSla));
  add("GET", "/api/v1/sla/breaches", true, bind(&ListBreaches));
  add("GET", "/api/v1/stats", true, bind(&GetStats));
}

}  // namespace hikeshi::api::detail
