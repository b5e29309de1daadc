#include "hikeshi/core/triage_service.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/priority.hpp"
#include "hikeshi/core/snapshot.hpp"

#include "detail/response_records.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {

using nlohmann::ordered_json;

constexpr std::string_view kRuleSetKind = "ruleset";
constexpr std::string_view kTriageKind = "triage";
// The audit actor of automatic decisions: the rule and version that made each one are in its record.
constexpr std::string_view kTriageActor = "triage";
constexpr std::size_t kMaxReason = 4000;
constexpr std::size_t kMaxNote = 1000;
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxIncidentObservables = 10'000;  // NormalizeObservables' bound

Result<void> RequireReader(const Principal& actor) {
  if (actor.role == Role::kConstituent) {
    return Fail(Error::PermissionDenied("a constituent may not read the triage rules"));
  }
  return {};
}

Result<void> RequireTriager(const Principal& actor, std::string_view what) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not " + std::string(what)));
  }
  return {};
}

// Cuts `text` to at most `max` bytes on a UTF-8 boundary.
std::string Cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::string Dump(const ordered_json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// Tolerant readers of stored JSON: a field of the wrong type reads as absent.
std::optional<std::string> OptString(const nlohmann::json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::string String(const nlohmann::json& j, std::string_view key) { return OptString(j, key).value_or(""); }
std::optional<int> OptInt(const nlohmann::json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}
std::vector<std::string> Strings(const nlohmann::json& j, std::string_view key) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}
std::optional<Timestamp> OptTime(const nlohmann::json& j, std::string_view key) {
  const auto text = OptString(j, key);
  return text ? common::ParseRfc3339(*text) : std::nullopt;
}

template <typename T, typename F>
ordered_json OrNull(const std::optional<T>& value, F&& render) {
  return value ? ordered_json(render(*value)) : ordered_json(nullptr);
}
ordered_json OrNull(const std::optional<std::string>& value) { return value ? ordered_json(*value) : ordered_json(); }
ordered_json OrNull(const std::optional<int>& value) { return value ? ordered_json(*value) : ordered_json(); }

// The decision's fields, flat in the record body.
void PutDecision(ordered_json& j, const TriageDecision& d) {
  j["rule_set_version"] = d.rule_set_version;
  j["rule_id"] = d.rule_id;
  j["matched_rules"] = d.matched_rules;
  j["category"] = OrNull(d.category, [](const Category& c) { return c.ToString(); });
  j["apt"] = d.apt ? ordered_json(*d.apt) : ordered_json();
  j["impact"] = OrNull(d.impact);
  j["urgency"] = OrNull(d.urgency);
  j["priority"] = OrNull(d.priority);
  j["owner"] = OrNull(d.owner);
  j["team"] = OrNull(d.team);
  j["playbook"] = OrNull(d.playbook);
  j["tlp"] = OrNull(d.tlp, [](Tlp t) { return std::string(TlpName(t)); });
  j["sla_class"] = OrNull(d.sla_class);
  j["disposition"] = OrNull(d.disposition, [](TriageDisposition v) { return std::string(TriageDispositionName(v)); });
  j["flags"] = d.flags;
  j["explanation"] = d.explanation;
}

TriageDecision ReadDecision(const nlohmann::json& j) {
  TriageDecision d;
  d.rule_set_version = OptInt(j, "rule_set_version").value_or(0);
  d.rule_id = String(j, "rule_id");
  d.matched_rules = Strings(j, "matched_rules");
  if (const auto text = OptString(j, "category")) {
    if (const auto parsed = ParseCategory(*text)) d.category = parsed->category;
  }
  if (const auto it = j.find("apt"); it != j.end() && it->is_boolean()) d.apt = it->get<bool>();
  d.impact = OptInt(j, "impact");
  d.urgency = OptInt(j, "urgency");
  d.priority = OptInt(j, "priority");
  d.owner = OptString(j, "owner");
  d.team = OptString(j, "team");
  d.playbook = OptString(j, "playbook");
  if (const auto text = OptString(j, "tlp")) d.tlp = ParseTlp(*text);
  d.sla_class = OptString(j, "sla_class");
  if (const auto text = OptString(j, "disposition")) d.disposition = ParseTriageDisposition(*text);
  d.flags = Strings(j, "flags");
  d.explanation = String(j, "explanation");
  return d;
}

std::string EncodeRecord(const TriageRecord& r) {
  ordered_json j;
  j["report"] = r.report;
  j["decided_at"] = OrNull(r.decided_at, [](Timestamp t) { return common::FormatRfc3339(t); });
  if (r.decision) {
    PutDecision(j, *r.decision);
  } else {
    j["rule_id"] = nullptr;
  }
  j["incident"] = r.incident.empty() ? ordered_json() : ordered_json(r.incident);
  j["notes"] = r.notes;
  ordered_json overrides = ordered_json::array();
  for (const auto& o : r.overrides) {
    ordered_json changes = ordered_json::array();
    for (const auto& c : o.changes) changes.push_back({{"field", c.field}, {"from", c.from}, {"to", c.to}});
    overrides.push_back(
        {{"by", o.by}, {"at", common::FormatRfc3339(o.at)}, {"reason", o.reason}, {"changes", std::move(changes)}});
  }
  j["overrides"] = std::move(overrides);
  return Dump(j);
}

std::string RecordState(const TriageRecord& r) {
  if (!r.overrides.empty()) return r.decision ? "overridden" : "manual";
  return r.decision ? "auto" : "manual";
}

// A stored rule set version as its record body holds it (the rules are parsed by the caller).
struct StoredVersion {
  RuleSetVersion version;
  std::string file_sha256;  // of the text last loaded from the data directory's file, carried forward
};

std::string EncodeVersion(const StoredVersion& v) {
  ordered_json j;
  j["version"] = v.version.version;
  j["by"] = v.version.by;
  j["at"] = common::FormatRfc3339(v.version.at);
  j["note"] = v.version.note;
  j["source"] = v.version.source;
  j["file_sha256"] = v.file_sha256;
  j["toml"] = v.version.toml;
  return Dump(j);
}

Result<StoredVersion> DecodeVersion(const Record& record) {
  const auto j = nlohmann::json::parse(record.body, nullptr, false);
  const auto version = j.is_object() ? OptInt(j, "version") : std::nullopt;
  if (!version || record.key != TriageService::VersionKey(*version)) {
    return Fail(Error::DataLoss("rule set record '" + record.key + "' is not a rule set version"));
  }
  StoredVersion v;
  v.version.version = *version;
  v.version.toml = String(j, "toml");
  v.version.by = String(j, "by");
  v.version.at = OptTime(j, "at").value_or(record.created_at);
  v.version.note = String(j, "note");
  v.version.source = String(j, "source");
  v.file_sha256 = String(j, "file_sha256");
  return v;
}

// The newest stored version after `known` (which exists, or is 0), found with a handful of keyed
// reads: versions are numbered 1, 2, 3... without gaps, so gallop forward, then bisect.
Result<std::optional<Record>> FindNewest(StoreReader& reader, int known) {
  const auto find = [&reader](int version) {
    return reader.FindRecord(kRuleSetKind, TriageService::VersionKey(version));
  };
  HIKESHI_TRY(auto next, find(known + 1));
  if (!next) return std::optional<Record>();
  int low = known + 1;  // exists
  Record best = std::move(*next);
  int high = 0;  // does not exist
  for (int step = 1;; step *= 2) {
    const int probe = low + step;
    HIKESHI_TRY(auto found, find(probe));
    if (!found) {
      high = probe;
      break;
    }
    low = probe;
    best = std::move(*found);
  }
  while (high - low > 1) {
    const int middle = low + (high - low) / 2;
    HIKESHI_TRY(auto found, find(middle));
    if (found) {
      low = middle;
      best = std::move(*found);
    } else {
      high = middle;
    }
  }
  return std::optional<Record>(std::move(best));
}

std::optional<RejectReason> ReasonOf(TriageDisposition disposition) {
  switch (disposition) {
    case TriageDisposition::kSpam:
      return RejectReason::kSpam;
    case TriageDisposition::kOutOfScope:
      return RejectReason::kOutOfScope;
    case TriageDisposition::kNone:
      break;
  }
  return std::nullopt;
}

// How a report's disposition reads in an override's from/to.
std::string DispositionOf(const Report& report) {
  if (report.status != ReportStatus::kRejected || !report.reject_reason) return "none";
  return std::string(RejectReasonName(*report.reject_reason));
}

// The journal action for a report triage (or an override) changed.
std::string ReportAction(const Report& before, const Report& after) {
  if (after.status != before.status) {
    switch (after.status) {
      case ReportStatus::kLinked:
        return "report.link";
      case ReportStatus::kRejected:
        return "report.reject";
      case ReportStatus::kNew:
        return "report.reopen";
    }
  }
  return "report.triage";
}

Principal TriagePrincipal() {
  Principal p;
  p.username = kTriageActor;
  p.role = Role::kAdmin;
  p.scope = Scope::All();
  return p;
}

std::string Level(std::optional<int> value) { return value ? std::to_string(*value) : "-"; }

}  // namespace

TriageInput TriageInputOf(const Report& report, std::string constituency, const IntakeSignals& signals) {
  TriageInput in;
  in.category = report.category;
  in.constituency = std::move(constituency);
  in.channel = report.channel;
  in.source = report.reporter;
  in.format = signals.format;
  if (in.format.empty() && report.channel == Channel::kFeed) {
    in.format = report.reporter.substr(0, report.reporter.find(':'));
  }
  in.subject = report.subject;
  in.body = report.body;
  in.observables = report.observables;
  in.signatures = signals.signatures;
  return in;
}

struct TriageService::Loaded {
  RuleSetVersion version;
  std::string file_sha256;
  CompiledRuleSet compiled;
};

TriageService::TriageService(Store& store, const Clock& clock, const Incidents& incidents, const RuleSetCodec& codec,
                             TriageServiceOptions options)
    : store_(store), clock_(clock), incidents_(incidents), codec_(codec), options_(options) {}

TriageService::~TriageService() = default;

std::string TriageService::VersionKey(int version) { return fmt::format("v{:08}", version); }

Result<std::shared_ptr<const TriageService::Loaded>> TriageService::LoadVersion(const Record& record) const {
  HIKESHI_TRY(StoredVersion stored, DecodeVersion(record));
  auto rules = codec_.Parse(stored.version.toml, stored.version.version);
  if (!rules) {
    return Fail(Error::DataLoss(
        fmt::format("rule set version {} cannot be read: {}", stored.version.version, rules.error().message())));
  }
  stored.version.rules = *rules;
  HIKESHI_TRY(auto compiled, CompiledRuleSet::Compile(std::move(*rules)));
  return std::shared_ptr<const Loaded>(
      new Loaded{std::move(stored.version), std::move(stored.file_sha256), std::move(compiled)});
}

std::shared_ptr<const TriageService::Loaded> TriageService::Cached() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

void TriageService::Install(std::shared_ptr<const Loaded> loaded) const {
  const std::lock_guard lock(mutex_);
  if (!current_ || current_->version.version < loaded->version.version) current_ = std::move(loaded);
}

Result<std::shared_ptr<const TriageService::Loaded>> TriageService::Fresh(StoreReader& reader, bool force) const {
  auto current = Cached();
  const std::int64_t now = common::ToMicros(clock_.Now());
  const std::int64_t last = last_check_us_.load();
  const std::int64_t interval =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.refresh_interval).count();
  if (!force && last != 0 && now >= last && now - last < interval) return current;
  last_check_us_.store(now);
  HIKESHI_TRY(const auto newest, FindNewest(reader, current ? current->version.version : 0));
  if (!newest) return current;
  auto loaded = LoadVersion(*newest);
  if (!loaded) {
    // Intake keeps deciding with the version it has rather than fail every report; the API says why.
    if (force) return Fail(loaded.error());
    return current;
  }
  Install(std::move(*loaded));
  return Cached();
}

Result<RuleSetVersion> TriageService::Current(const Principal& actor) const {
  HIKESHI_CHECK(RequireReader(actor));
  std::shared_ptr<const Loaded> loaded;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(loaded, Fresh(r, true));
    return {};
  }));
  return loaded ? loaded->version : RuleSetVersion{};
}

Result<std::vector<RuleSetVersion>> TriageService::Versions(const Principal& actor) const {
  HIKESHI_CHECK(RequireReader(actor));
  std::vector<RuleSetVersion> versions;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    versions.clear();
    std::int64_t after = 0;
    for (;;) {
      HIKESHI_TRY(const auto page, r.ListRecords(kRuleSetKind, after, 200));
      for (const auto& record : page) {
        HIKESHI_TRY(auto stored, DecodeVersion(record));
        stored.version.toml.clear();
        versions.push_back(std::move(stored.version));
        after = record.id;
      }
      if (page.size() < 200) break;
    }
    return {};
  }));
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return versions;
}

Result<RuleSetVersion> TriageService::Version(const Principal& actor, int version) const {
  HIKESHI_CHECK(RequireReader(actor));
  std::optional<Record> record;
  if (version >= 1) {
    HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(record, r.FindRecord(kRuleSetKind, VersionKey(version)));
      return {};
    }));
  }
  if (!record) return Fail(Error::NotFound("rule set version " + std::to_string(version)));
  HIKESHI_TRY(const auto loaded, LoadVersion(*record));
  return loaded->version;
}

Result<RuleSetPut> TriageService::Put(const Principal& actor, std::string_view toml, std::string_view note) const {
  return StoreVersion(actor, toml, note, false);
}

Result<RuleSetPut> TriageService::Put(const Principal& actor, const RuleSet& rules, std::string_view note) const {
  HIKESHI_CHECK(RequireTriager(actor, "change the triage rules"));
  HIKESHI_CHECK(Validate(rules));
  return StoreVersion(actor, codec_.Format(rules), note, false);
}

Result<RuleSetPut> TriageService::LoadFile(const Principal& actor, std::string_view toml) const {
  return StoreVersion(actor, toml, "loaded from triage.toml", true);
}

Result<RuleSetPut> TriageService::StoreVersion(const Principal& actor, std::string_view toml, std::string_view note,
                                               bool from_file) const {
  HIKESHI_CHECK(RequireTriager(actor, "change the triage rules"));
  HIKESHI_CHECK(detail::CheckText(note, kMaxNote, false, "/note"));
  // Parsed and compiled before the write lock is taken; compiled again only when another writer
  // took the version number this guessed.
  HIKESHI_TRY(RuleSet rules, codec_.Parse(toml, 0));
  const auto cached = Cached();
  rules.version = (cached ? cached->version.version : 0) + 1;
  HIKESHI_TRY(auto compiled, CompiledRuleSet::Compile(rules));
  const std::string file_sha256 = from_file ? common::Sha256Hex(toml) : "";

  const Timestamp now = clock_.Now();
  StoredVersion stored;
  bool created = false;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    created = false;
    const auto known = Cached();
    std::optional<StoredVersion> newest;
    HIKESHI_TRY(const auto record, FindNewest(tx, known ? known->version.version : 0));
    if (record) {
      HIKESHI_TRY(newest, DecodeVersion(*record));
    } else if (known) {
      newest = StoredVersion{known->version, known->file_sha256};
    }
    if (newest && newest->version.toml == toml) return {};  // the current version already
    // The file has not changed since it was last loaded, and versions stored through the API since
    // are newer: a restart must not undo them.
    if (from_file && newest && newest->file_sha256 == file_sha256) return {};
    stored.version.version = newest ? newest->version.version + 1 : 1;
    stored.version.toml = std::string(toml);
    stored.version.by = actor.username;
    stored.version.at = now;
    stored.version.note = std::string(note);
    stored.version.source = from_file ? "file" : "api";
    stored.file_sha256 = from_file ? file_sha256 : (newest ? newest->file_sha256 : "");
    Record out;
    out.kind = kRuleSetKind;
    out.key = VersionKey(stored.version.version);
    out.state = "stored";
    out.body = EncodeVersion(stored);
    out.created_at = out.updated_at = now;
    HIKESHI_CHECK(tx.CreateRecord({actor.username, now}, std::move(out), ""));
    created = true;
    return {};
  }));

  if (!created) {
    std::shared_ptr<const Loaded> loaded;
    HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(loaded, Fresh(r, true));
      return {};
    }));
    return RuleSetPut{loaded ? loaded->version : RuleSetVersion{}, false};
  }
  if (rules.version != stored.version.version) {
    rules.version = stored.version.version;
    HIKESHI_TRY(compiled, CompiledRuleSet::Compile(rules));
  }
  stored.version.rules = std::move(rules);
  Install(std::shared_ptr<const Loaded>(new Loaded{stored.version, stored.file_sha256, std::move(compiled)}));
  return RuleSetPut{std::move(stored.version), true};
}

Result<Incident> TriageService::OpenIncident(WriteTx& tx, const Principal& actor, const Report& report, int impact,
                                             int urgency, const std::optional<std::string>& owner,
                                             const std::optional<std::string>& playbook, bool apt,
                                             std::string_view origin, std::vector<std::string>& notes) const {
  IncidentDraft draft;
  draft.title = Cut(report.subject, kMaxTitle);
  if (draft.title.find_first_not_of(" \t\r\n") == std::string::npos) draft.title = "Report " + report.human_id;
  draft.description = "Opened from report " + report.human_id + " by " + std::string(origin) + ".";
  draft.category = report.category ? report.category->ToString() : std::string("other/undetermined");
  if (report.constituency_id) {
    HIKESHI_TRY(const auto constituency, tx.FindConstituencyById(*report.constituency_id));
    if (constituency) draft.constituency = constituency->name;
  }
  draft.impact = impact;
  draft.urgency = urgency;
  draft.tlp = std::string(TlpName(report.tlp));
  if (owner) {
    // A rule naming someone who cannot own this incident must not lose the report: it is opened
    // without an owner, and the record says why.
    HIKESHI_TRY(const auto user, tx.FindUser(*owner));
    const bool can_own = user && !user->disabled && (user->role == Role::kAdmin || user->role == Role::kHandler) &&
                         Principal::ForUser(*user).scope.Allows(report.constituency_id, report.tlp) &&
                         actor.scope.Allows(report.constituency_id, report.tlp);
    if (can_own) {
      draft.owner = owner;
    } else {
      notes.push_back("owner '" + *owner + "' cannot own this incident (no such handler, or outside its " +
                      "constituency): left unassigned");
    }
  }
  const std::size_t observables = std::min(report.observables.size(), kMaxIncidentObservables);
  for (std::size_t i = 0; i < observables; ++i) {
    draft.observables.push_back(
        {std::string(ObservableTypeName(report.observables[i].type)), report.observables[i].value});
  }
  if (playbook) {
    // Likewise a playbook not (or no longer) stored: the incident gets its category's playbook.
    HIKESHI_TRY(const auto playbooks, detail::CurrentPlaybooks(tx));
    if (std::any_of(playbooks.begin(), playbooks.end(), [&](const Playbook& p) { return p.name == *playbook; })) {
      draft.playbook = playbook;
    } else {
      notes.push_back("playbook '" + *playbook + "' not found: the incident got its category's playbook, if any");
    }
  }
  HIKESHI_TRY(Incident incident, incidents_.CreateIn(tx, actor, draft));
  if (apt && !incident.apt) {
    Incident after = incident;
    after.apt = true;
    HIKESHI_CHECK(tx.UpdateIncident({actor.username, incident.created_at}, "incident.update", incident, after));
    incident = after;
  }
  return incident;
}

Result<IntakeTriageResult> TriageService::TriageNewReport(WriteTx& tx, const Report& report,
                                                          const IntakeSignals& signals) const {
  IntakeTriageResult result{report, std::nullopt, ""};
  if (report.status != ReportStatus::kNew) return result;
  HIKESHI_TRY(const auto loaded, Fresh(tx, false));
  if (!loaded) return result;
  std::string constituency;
  if (report.constituency_id) {
    HIKESHI_TRY(const auto found, tx.FindConstituencyById(*report.constituency_id));
    if (found) constituency = found->name;
  }
  const TriageDecision d = loaded->compiled.Decide(TriageInputOf(report, std::move(constituency), signals));
  if (!d.matched()) return result;

  const Timestamp now = clock_.Now();
  const AuditContext ctx{std::string(kTriageActor), now};
  const std::string origin = fmt::format("triage rule '{}' (rule set v{})", d.rule_id, d.rule_set_version);
  TriageRecord record;
  record.report = report.human_id;
  record.decision = d;
  record.decided_at = now;
  Report after = report;
  if (d.category) after.category = *d.category;
  if (d.tlp) after.tlp = *d.tlp;
  for (const auto& flag : d.flags) {
    if (std::find(after.flags.begin(), after.flags.end(), flag) == after.flags.end()) after.flags.push_back(flag);
  }
  std::optional<Incident> incident;
  const auto reason = d.disposition ? ReasonOf(*d.disposition) : std::nullopt;
  if (reason) {
    after.status = ReportStatus::kRejected;
    after.reject_reason = *reason;
    after.reject_comment = "rejected by " + origin;
  } else if (d.impact && d.urgency) {
    HIKESHI_TRY(incident, OpenIncident(tx, TriagePrincipal(), after, *d.impact, *d.urgency, d.owner, d.playbook,
                                       d.apt.value_or(false), origin, record.notes));
    after.status = ReportStatus::kLinked;
    after.incident_id = incident->id;
    record.incident = incident->human_id;
  }
  if (Snapshot(after) != Snapshot(report)) {
    after.updated_at = now;
    HIKESHI_CHECK(tx.UpdateReport(ctx, ReportAction(report, after), report, after, record.incident));
  }
  Record out;
  out.kind = kTriageKind;
  out.key = report.human_id;
  if (incident) out.incident_id = incident->id;
  out.state = RecordState(record);
  out.body = EncodeRecord(record);
  out.created_at = out.updated_at = now;
  HIKESHI_CHECK(tx.CreateRecord(ctx, std::move(out), record.incident));
  result.report = std::move(after);
  result.decision = d;
  result.incident = record.incident;
  return result;
}

Result<TriageRecord> TriageService::DecodeRecord(const Record& record) {
  const auto j = nlohmann::json::parse(record.body, nullptr, false);
  if (!j.is_object()) return Fail(Error::DataLoss("triage record '" + record.key + "' is not a JSON object"));
  TriageRecord r;
  r.report = OptString(j, "report").value_or(record.key);
  r.decided_at = OptTime(j, "decided_at");
  if (OptString(j, "rule_id").value_or("").empty()) {
    r.decision.reset();
  } else {
    r.decision = ReadDecision(j);
  }
  r.incident = String(j, "incident");
  r.notes = Strings(j, "notes");
  if (const auto it = j.find("overrides"); it != j.end() && it->is_array()) {
    for (const auto& o : *it) {
      if (!o.is_object()) continue;
      TriageOverrideEntry entry;
      entry.by = String(o, "by");
      entry.at = OptTime(o, "at").value_or(Timestamp{});
      entry.reason = String(o, "reason");
      if (const auto c = o.find("changes"); c != o.end() && c->is_array()) {
        for (const auto& change : *c) {
          if (change.is_object())
            entry.changes.push_back({String(change, "field"), String(change, "from"), String(change, "to")});
        }
      }
      r.overrides.push_back(std::move(entry));
    }
  }
  r.state = record.state.empty() ? RecordState(r) : record.state;
  return r;
}

Result<TriageRecord> TriageService::Get(const Principal& actor, std::string_view report_id) const {
  TriageRecord out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto report, r.FindReport(actor.scope, report_id));
    if (!report) return Fail(Error::NotFound("report '" + std::string(report_id) + "'"));
    HIKESHI_TRY(const auto record, r.FindRecord(kTriageKind, report->human_id));
    if (!record) {
      out = TriageRecord{};
      out.report = report->human_id;
      out.state = "untriaged";
      return {};
    }
    HIKESHI_TRY(out, DecodeRecord(*record));
    return {};
  }));
  return out;
}

Result<TriageRecord> TriageService::Override(const Principal& actor, std::string_view report_id,
                                             const TriageOverride& change) const {
  HIKESHI_CHECK(RequireTriager(actor, "override triage"));
  HIKESHI_CHECK(detail::CheckText(change.reason, kMaxReason, true, "/reason"));
  std::optional<Category> category;
  if (change.category) {
    const auto parsed = ParseCategory(*change.category);
    if (!parsed) {
      return Fail(Error::InvalidArgument("'" + *change.category + "' is not a category", "/category"));
    }
    category = parsed->category;
  }
  std::optional<Tlp> tlp;
  if (change.tlp) {
    tlp = ParseTlp(*change.tlp);
    if (!tlp) return Fail(Error::InvalidArgument("'" + *change.tlp + "' is not a TLP 2.0 label", "/tlp"));
  }
  if (change.impact && !IsValidLevel(*change.impact)) {
    return Fail(Error::InvalidArgument("must be between 1 (highest) and 4 (lowest)", "/impact"));
  }
  if (change.urgency && !IsValidLevel(*change.urgency)) {
    return Fail(Error::InvalidArgument("must be between 1 (highest) and 4 (lowest)", "/urgency"));
  }
  std::optional<TriageDisposition> disposition;
  if (change.disposition) {
    disposition = ParseTriageDisposition(*change.disposition);
    if (!disposition) {
      return Fail(Error::InvalidArgument(
          "'" + *change.disposition + "' is not a disposition (none, spam, out-of-scope)", "/disposition"));
    }
  }
  if (change.owner) {
    HIKESHI_CHECK(detail::CheckName(*change.owner, "an owner", "/owner"));
  }
  if (!category && !tlp && !change.impact && !change.urgency && !disposition && !change.owner) {
    return Fail(
        Error::InvalidArgument("say what to change: category, impact, urgency, tlp, owner or disposition", "/"));
  }

  TriageRecord out;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    const Timestamp now = clock_.Now();
    const AuditContext ctx{actor.username, now};
    HIKESHI_TRY(const auto found, tx.FindReport(actor.scope, report_id));
    if (!found) return Fail(Error::NotFound("report '" + std::string(report_id) + "'"));
    const Report before = *found;
    HIKESHI_TRY(auto stored, tx.FindRecord(kTriageKind, before.human_id));
    if (!stored) {
      // Triaged by hand for the first time: the record is made, then overridden like any other.
      TriageRecord empty;
      empty.report = before.human_id;
      Record fresh;
      fresh.kind = kTriageKind;
      fresh.key = before.human_id;
      fresh.incident_id = before.incident_id;
      fresh.state = "manual";
      fresh.body = EncodeRecord(empty);
      fresh.created_at = fresh.updated_at = now;
      HIKESHI_TRY(stored, tx.CreateRecord(ctx, std::move(fresh), ""));
    }
    HIKESHI_TRY(TriageRecord record, DecodeRecord(*stored));

    TriageOverrideEntry entry{actor.username, now, change.reason, {}};
    Report after = before;
    std::optional<Incident> incident;
    if (before.incident_id) {
      HIKESHI_TRY(incident, tx.FindIncidentById(actor.scope, *before.incident_id));
    }
    if (category && after.category != category) {
      entry.changes.push_back({"category", after.category ? after.category->ToString() : "-", category->ToString()});
      after.category = category;
    }
    if (tlp && after.tlp != *tlp) {
      entry.changes.push_back({"tlp", std::string(TlpName(after.tlp)), std::string(TlpName(*tlp))});
      after.tlp = *tlp;
    }
    IncidentPatch patch;
    if (disposition) {
      const auto reason = ReasonOf(*disposition);
      const std::string from = DispositionOf(before);
      if (reason && !(before.status == ReportStatus::kRejected && before.reject_reason == reason)) {
        if (before.status == ReportStatus::kLinked) {
          // Only the incident triage opened for this very report goes with it; any other incident
          // is the handlers' to close.
          if (!incident || incident->human_id != record.incident || incident->status != IncidentStatus::kOpen) {
            return Fail(Error::FailedPrecondition(
                "report " + before.human_id + " is linked to an incident triage did not open for it; handle that " +
                    "incident instead",
                "/disposition"));
          }
          patch.status = "rejected";
          after.incident_id.reset();
        }
        after.status = ReportStatus::kRejected;
        after.reject_reason = *reason;
        after.reject_comment = "override by " + actor.username + ": " + Cut(change.reason, 1000);
        entry.changes.push_back({"disposition", from, std::string(TriageDispositionName(*disposition))});
      } else if (!reason && before.status == ReportStatus::kRejected) {
        after.status = ReportStatus::kNew;
        after.reject_reason.reset();
        after.reject_comment.clear();
        entry.changes.push_back({"disposition", from, "none"});
      }
    }
    const bool keeps_incident = incident && after.status == ReportStatus::kLinked;
    if (keeps_incident) {
      if (category && incident->category != *category) patch.category = category->ToString();
      if (tlp && incident->tlp != *tlp) patch.tlp = std::string(TlpName(*tlp));
      if (change.impact && incident->impact != *change.impact) {
        entry.changes.push_back({"impact", std::to_string(incident->impact), std::to_string(*change.impact)});
        patch.impact = change.impact;
      }
      if (change.urgency && incident->urgency != *change.urgency) {
        entry.changes.push_back({"urgency", std::to_string(incident->urgency), std::to_string(*change.urgency)});
        patch.urgency = change.urgency;
      }
      if (change.owner) {
        std::string from = "-";
        if (incident->owner_id) {
          HIKESHI_TRY(const auto owner, tx.FindUserById(*incident->owner_id));
          if (owner) from = owner->username;
        }
        if (from != *change.owner) {
          entry.changes.push_back({"owner", from, *change.owner});
          patch.owner = std::optional<std::string>(*change.owner);
        }
      }
    } else if (change.impact || change.urgency) {
      if (after.status != ReportStatus::kNew) {
        return Fail(Error::FailedPrecondition("report " + after.human_id + " is " +
                                                  std::string(ReportStatusName(after.status)) +
                                                  "; only a new report can have an incident opened for it",
                                              change.impact ? "/impact" : "/urgency"));
      }
      const int impact = change.impact.value_or(record.decision ? record.decision->impact.value_or(3) : 3);
      const int urgency = change.urgency.value_or(record.decision ? record.decision->urgency.value_or(3) : 3);
      const auto playbook = record.decision ? record.decision->playbook : std::nullopt;
      std::vector<std::string> notes;
      HIKESHI_TRY(const Incident opened, OpenIncident(tx, actor, after, impact, urgency, change.owner, playbook, false,
                                                      "a triage override by " + actor.username, notes));
      if (!notes.empty()) {
        return Fail(Error{ErrorCode::kInvalidArgument, notes.front(), "/owner"});
      }
      entry.changes.push_back(
          {"impact", Level(record.decision ? record.decision->impact : std::nullopt), std::to_string(impact)});
      entry.changes.push_back(
          {"urgency", Level(record.decision ? record.decision->urgency : std::nullopt), std::to_string(urgency)});
      if (change.owner) entry.changes.push_back({"owner", "-", *change.owner});
      entry.changes.push_back({"incident", "-", opened.human_id});
      after.status = ReportStatus::kLinked;
      after.incident_id = opened.id;
      record.incident = opened.human_id;
      incident = opened;
    } else if (change.owner) {
      return Fail(Error::FailedPrecondition(
          "report " + after.human_id + " has no incident to own; give impact and urgency to open one", "/owner"));
    }

    const std::string incident_id = incident ? incident->human_id : "";
    if (keeps_incident || (incident && patch.status)) {
      const bool any = patch.category || patch.tlp || patch.impact || patch.urgency || patch.owner || patch.status;
      if (any) {
        HIKESHI_CHECK(incidents_.UpdateIn(tx, actor, incident->human_id, patch));
      }
    }
    if (Snapshot(after) != Snapshot(before)) {
      after.updated_at = now;
      HIKESHI_CHECK(tx.UpdateReport(ctx, ReportAction(before, after), before, after, incident_id));
    }
    record.overrides.push_back(std::move(entry));
    Record updated = *stored;
    if (after.incident_id) updated.incident_id = after.incident_id;
    updated.state = RecordState(record);
    updated.body = EncodeRecord(record);
    updated.updated_at = now;
    HIKESHI_CHECK(tx.UpdateRecord(ctx, "triage.override", *stored, updated, incident_id));
    record.state = updated.state;
    out = std::move(record);
    return {};
  }));
  return out;
}

}  // namespace hikeshi::core
