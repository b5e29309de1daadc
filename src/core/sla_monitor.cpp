#include "hikeshi/core/sla_monitor.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"

namespace hikeshi::core {

namespace {
using nlohmann::ordered_json;

constexpr int kJournalPage = 1000;
constexpr int kMaxPage = 500;

std::string BreachKey(std::string_view incident, SlaClockKind clock) {
  return std::string(incident) + "/" + std::string(SlaClockName(clock));
}

std::string BreachBody(const SlaReading& reading, const SlaClock& clock) {
  ordered_json j;
  j["incident"] = reading.incident;
  j["clock"] = SlaClockName(clock.kind);
  j["priority"] = reading.priority;
  j["target_seconds"] = clock.target.count();
  j["started_at"] = common::FormatRfc3339(clock.started_at);
  j["deadline"] = common::FormatRfc3339(clock.Deadline());
  j["stopped_at"] = clock.stop ? ordered_json(common::FormatRfc3339(clock.stop->at)) : ordered_json(nullptr);
  return j.dump(-1, ' ', true);
}

std::optional<SlaBreach> DecodeBreach(const Record& record, std::string incident) {
  const auto body = nlohmann::json::parse(record.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  const auto text = [&](const char* key) {
    const auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto clock = ParseSlaClock(text("clock"));
  const auto started = common::ParseRfc3339(text("started_at"));
  const auto deadline = common::ParseRfc3339(text("deadline"));
  if (!clock || !started || !deadline) return std::nullopt;
  SlaBreach breach;
  breach.record_id = record.id;
  breach.incident = std::move(incident);
  breach.clock = *clock;
  breach.priority = body.value("priority", 3);
  breach.target = std::chrono::seconds(body.value("target_seconds", std::int64_t{0}));
  breach.started_at = *started;
  breach.deadline = *deadline;
  breach.stopped_at = common::ParseRfc3339(text("stopped_at"));
  breach.recorded_at = record.created_at;
  return breach;
}

// Every page of ListReports for one incident, across all constituencies: a linked report from
// another constituency still started the incident's clocks.
Result<std::vector<Report>> LinkedReports(StoreReader& reader, std::int64_t incident_id) {
  std::vector<Report> out;
  ReportQuery query;
  query.incident_id = incident_id;
  query.limit = kMaxPage;
  while (true) {
    HIKESHI_TRY(auto page, reader.ListReports(Scope::All(), query));
    for (auto& report : page.items) out.push_back(std::move(report));
    if (!page.next_before_id) break;
    query.before_id = page.next_before_id;
  }
  return out;
}

Result<std::optional<AuditEntry>> EntryAt(StoreReader& reader, std::int64_t seq) {
  HIKESHI_TRY(auto entries, reader.ListAudit(seq - 1, 1));
  if (entries.empty() || entries.front().seq != seq) return std::optional<AuditEntry>();
  return std::optional<AuditEntry>(std::move(entries.front()));
}
}  // namespace

// Where the journal entries the incident's timeline does not carry are: a report's creation and
// the acknowledgements sent for it. Built by reading the journal once, then only what was appended.
class SlaMonitor::JournalIndex {
 public:
  Result<void> CatchUp(StoreReader& reader) {
    const std::lock_guard lock(mutex_);
    while (true) {
      HIKESHI_TRY(const auto entries, reader.ListAudit(last_seq_, kJournalPage));
      for (const AuditEntry& e : entries) {
        Observe(e);
        last_seq_ = e.seq;
      }
      if (std::cmp_less(entries.size(), kJournalPage)) break;
    }
    return {};
  }

  std::optional<std::int64_t> ReportCreated(std::string_view report) const {
    const std::lock_guard lock(mutex_);
    const auto it = report_created_.find(std::string(report));
    return it == report_created_.end() ? std::nullopt : std::optional(it->second);
  }

  std::optional<std::int64_t> FirstAckSent(std::int64_t report_id) const {
    const std::lock_guard lock(mutex_);
    const auto it = first_ack_sent_.find(report_id);
    return it == first_ack_sent_.end() ? std::nullopt : std::optional(it->second);
  }

  // The incidents whose timeline grew since the previous call.
  std::set<std::string, std::less<>> TakeTouched() {
    const std::lock_guard lock(mutex_);
    return std::exchange(touched_, {});
  }

 private:
  void Observe(const AuditEntry& e) {
    if (!e.incident.empty()) touched_.insert(e.incident);
    if (e.action == "report.create") {
      report_created_.emplace(e.object_id, e.seq);
    } else if (e.action == "mail.sent") {
      const auto after = nlohmann::json::parse(e.after, nullptr, false);
      if (!after.is_object() || after.value("direction", "") != "out" || after.value("kind", "") != "ack") return;
      const auto report = after.find("report_id");
      if (report == after.end() || !report->is_number_integer()) return;
      first_ack_sent_.emplace(report->get<std::int64_t>(), e.seq);  // keeps the first
    }
  }

  mutable std::mutex mutex_;
  std::int64_t last_seq_ = 0;
  std::unordered_map<std::string, std::int64_t> report_created_;   // report human id -> seq
  std::unordered_map<std::int64_t, std::int64_t> first_ack_sent_;  // report row id -> seq
  std::set<std::string, std::less<>> touched_;
};

SlaMonitor::SlaMonitor(Store& store, const Clock& clock, SlaPolicy policy)
    : store_(store), clock_(clock), policy_(std::move(policy)), index_(std::make_unique<JournalIndex>()) {}

SlaMonitor::~SlaMonitor() = default;

Result<std::set<std::string, std::less<>>> SlaMonitor::People(StoreReader& reader) const {
  HIKESHI_TRY(const auto users, reader.ListUsers());
  std::set<std::string, std::less<>> people;
  for (const auto& user : users) {
    const auto& machines = policy_.machine_accounts;
    if (std::find(machines.begin(), machines.end(), user.username) == machines.end()) people.insert(user.username);
  }
  return people;
}

Result<std::vector<AuditEntry>> SlaMonitor::Gather(StoreReader& reader, const Incident& incident) {
  HIKESHI_TRY(auto entries, reader.ListAuditForIncident(incident.human_id));
  std::set<std::string, std::less<>> linked;
  for (const auto& e : entries) {
    if (e.object_type == "report") linked.insert(e.object_id);
  }
  if (linked.empty()) return entries;
  std::map<std::string, std::int64_t, std::less<>> row_ids;
  HIKESHI_TRY(const auto reports, LinkedReports(reader, incident.id));
  for (const auto& r : reports) row_ids.emplace(r.human_id, r.id);
  std::vector<std::int64_t> seqs;
  for (const auto& report : linked) {
    if (const auto seq = index_->ReportCreated(report)) seqs.push_back(*seq);
    auto row = row_ids.find(report);
    std::optional<std::int64_t> row_id;
    if (row != row_ids.end()) {
      row_id = row->second;
    } else {
      // Linked once, since moved elsewhere: still part of this incident's history.
      HIKESHI_TRY(const auto found, reader.FindReport(Scope::All(), report));
      if (found) row_id = found->id;
    }
    if (row_id) {
      if (const auto seq = index_->FirstAckSent(*row_id)) seqs.push_back(*seq);
    }
  }
  std::sort(seqs.begin(), seqs.end());
  for (const auto seq : seqs) {
    HIKESHI_TRY(auto entry, EntryAt(reader, seq));
    if (entry) entries.push_back(std::move(*entry));
  }
  return entries;
}

Result<SlaReading> SlaMonitor::Read(StoreReader& reader, const Incident& incident,
                                    const std::set<std::string, std::less<>>& people, Timestamp now) {
  HIKESHI_TRY(const auto entries, Gather(reader, incident));
  return ComputeSlaClocks(incident.human_id, entries, policy_, people, now);
}

Result<SlaReading> SlaMonitor::Clocks(const Principal& actor, std::string_view incident_id) {
  SlaReading reading;
  const Timestamp now = clock_.Now();
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto incident, r.FindIncident(actor.scope, incident_id));
    if (!incident) return Fail(Error::NotFound("incident '" + std::string(incident_id) + "'"));
    HIKESHI_CHECK(index_->CatchUp(r));
    HIKESHI_TRY(const auto people, People(r));
    HIKESHI_TRY(reading, Read(r, *incident, people, now));
    return {};
  }));
  return reading;
}

Result<std::vector<SlaReading>> SlaMonitor::ClocksOf(std::span<const Incident> incidents) {
  std::vector<SlaReading> readings;
  const Timestamp now = clock_.Now();
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    readings.clear();
    HIKESHI_CHECK(index_->CatchUp(r));
    HIKESHI_TRY(const auto people, People(r));
    for (const auto& incident : incidents) {
      HIKESHI_TRY(auto reading, Read(r, incident, people, now));
      readings.push_back(std::move(reading));
    }
    return {};
  }));
  return readings;
}

Result<SlaBreachPage> SlaMonitor::Breaches(const Principal& actor, const SlaBreachQuery& query) {
  std::optional<SlaClockKind> clock;
  if (query.clock) {
    clock = ParseSlaClock(*query.clock);
    if (!clock) {
      return Fail(Error::InvalidArgument(
          "'" + *query.clock + "' is not a clock (acknowledge, triage, first-response, resolution)", "/clock"));
    }
  }
  if (query.limit < 1 || query.limit > kMaxPage) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  SlaBreachPage page;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    page = {};
    const auto keep = [&](const Record& record, const std::string& incident) {
      if (query.after_id && record.id <= *query.after_id) return;
      auto breach = DecodeBreach(record, incident);
      if (!breach || (clock && breach->clock != *clock)) return;
      page.items.push_back(std::move(*breach));
    };
    if (query.incident) {
      HIKESHI_TRY(const auto incident, r.FindIncident(actor.scope, *query.incident));
      if (!incident)
        return Fail(Error{ErrorCode::kNotFound, "incident '" + *query.incident + "' not found", "/incident"});
      HIKESHI_TRY(const auto records, r.ListRecordsForIncident(incident->id, kSlaBreachKind));
      for (const auto& record : records) {
        if (std::cmp_less(page.items.size(), query.limit)) keep(record, incident->human_id);
      }
      return {};
    }
    // Visible incidents by row id, each looked up once.
    std::map<std::int64_t, std::optional<std::string>> visible;
    std::int64_t after = query.after_id.value_or(0);
    while (true) {
      HIKESHI_TRY(const auto records, r.ListRecords(kSlaBreachKind, after, kMaxPage));
      for (const auto& record : records) {
        after = record.id;
        if (!record.incident_id) continue;
        auto it = visible.find(*record.incident_id);
        if (it == visible.end()) {
          HIKESHI_TRY(const auto incident, r.FindIncidentById(actor.scope, *record.incident_id));
          it = visible.emplace(*record.incident_id, incident ? std::optional(incident->human_id) : std::nullopt).first;
        }
        if (!it->second) continue;
        keep(record, *it->second);
        if (std::cmp_equal(page.items.size(), query.limit)) {
          page.next_after_id = record.id;
          return {};
        }
      }
      if (std::cmp_less(records.size(), kMaxPage)) return {};
    }
  }));
  return page;
}

Result<int> SlaMonitor::RecordBreaches() {
  struct Found {
    std::int64_t incident_id;
    SlaReading reading;
    SlaClockKind clock;
  };
  std::vector<Found> found;
  const Timestamp now = clock_.Now();
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    found.clear();
    HIKESHI_CHECK(index_->CatchUp(r));
    // The first pass looks at open incidents only: clocks that stopped late before this server ran
    // are left to the statistics, which compute compliance from the clocks themselves.
    auto candidates = index_->TakeTouched();
    if (first_pass_.exchange(false)) candidates.clear();
    IncidentQuery open;
    open.status = IncidentStatus::kOpen;
    open.limit = kMaxPage;
    while (true) {
      HIKESHI_TRY(const auto page, r.ListIncidents(Scope::All(), open));
      for (const auto& incident : page.items) candidates.insert(incident.human_id);
      if (!page.next_before_id) break;
      open.before_id = page.next_before_id;
    }
    HIKESHI_TRY(const auto people, People(r));
    for (const auto& id : candidates) {
      HIKESHI_TRY(const auto incident, r.FindIncident(Scope::All(), id));
      if (!incident || incident->exercise || incident->status == IncidentStatus::kMerged) continue;
      auto reading = Read(r, *incident, people, now);
      if (!reading) continue;  // no creation entry: not an incident this journal can time
      if (reading->exercise) continue;
      for (const auto& clock : reading->clocks) {
        if (clock.state != SlaState::kBreached) continue;
        HIKESHI_TRY(const auto existing, r.FindRecord(kSlaBreachKind, BreachKey(id, clock.kind)));
        if (!existing) found.push_back({incident->id, *reading, clock.kind});
      }
    }
    return {};
  }));
  int recorded = 0;
  for (const auto& f : found) {
    Record record;
    record.kind = std::string(kSlaBreachKind);
    record.key = BreachKey(f.reading.incident, f.clock);
    record.incident_id = f.incident_id;
    record.state = "breached";
    record.body = BreachBody(f.reading, f.reading.Clock(f.clock));
    record.created_at = record.updated_at = now;
    bool created = false;
    const auto written = store_.Write([&](WriteTx& tx) -> Result<void> {
      created = false;
      HIKESHI_TRY(const auto existing, tx.FindRecord(record.kind, record.key));
      if (existing) return {};
      HIKESHI_CHECK(tx.CreateRecord({std::string(kSlaActor), now}, record, f.reading.incident));
      created = true;
      return {};
    });
    if (!written && written.error().code() != ErrorCode::kConflict) return Fail(written.error());
    if (written && created) ++recorded;  // kConflict: another node recorded it first
  }
  return recorded;
}

}  // namespace hikeshi::core
