#include "hikeshi/core/sla.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "hikeshi/common/time.hpp"

namespace hikeshi::core {

namespace {
using nlohmann::json;
using std::chrono::seconds;

constexpr std::array<std::string_view, 4> kClockNames = {"acknowledge", "triage", "first-response", "resolution"};
constexpr seconds kMaxDuration{3650LL * 24 * 3600};

constexpr seconds Minutes(long long m) { return seconds(m * 60); }
constexpr seconds Hours(long long h) { return seconds(h * 3600); }
constexpr seconds Days(long long d) { return seconds(d * 86400); }

// A snapshot as an object; anything else (an empty "before", a damaged entry) reads as {}.
json Snapshot(const std::string& text) {
  if (text.empty()) return json::object();
  auto parsed = json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

std::string Text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The value at `key` as written (so that a number and a string are told apart), "" when absent.
std::string Raw(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? std::string() : it->dump();
}

SlaStop StopAt(const AuditEntry& e) { return SlaStop{e.seq, e.at, e.action, e.actor}; }

// The first entry (in seq order) offered for one clock.
struct FirstEvent {
  std::optional<SlaStop> stop;
  void Offer(const AuditEntry& e) {
    if (!stop || e.seq < stop->seq) stop = StopAt(e);
  }
};

const std::optional<SlaStop>& Earlier(const std::optional<SlaStop>& a, const std::optional<SlaStop>& b) {
  if (!a) return b;
  if (!b) return a;
  return b->seq < a->seq ? b : a;
}

bool EndsHandling(std::string_view status) {
  return status == "resolved" || status == "rejected" || status == "merged";
}
}  // namespace

std::string_view SlaClockName(SlaClockKind kind) { return kClockNames[static_cast<std::size_t>(kind)]; }

std::optional<SlaClockKind> ParseSlaClock(std::string_view text) {
  for (const auto kind : kSlaClockKinds) {
    if (SlaClockName(kind) == text) return kind;
  }
  return std::nullopt;
}

std::string_view SlaStateName(SlaState state) {
  switch (state) {
    case SlaState::kMet:
      return "met";
    case SlaState::kBreached:
      return "breached";
    case SlaState::kRunning:
      return "running";
  }
  return "running";
}

SlaPolicy SlaPolicy::Defaults() {
  SlaPolicy policy;
  policy.by_priority[0].by_clock = {Minutes(15), Hours(1), Hours(4), Days(1)};
  policy.by_priority[1].by_clock = {Hours(1), Hours(4), Days(1), Days(3)};
  policy.by_priority[2].by_clock = {Hours(4), Days(1), Days(3), Days(14)};
  policy.by_priority[3].by_clock = {Days(1), Days(3), Days(7), Days(30)};
  return policy;
}

const SlaTargets& SlaPolicy::For(int priority) const {
  return by_priority[static_cast<std::size_t>(std::clamp(priority, 1, 4) - 1)];
}

Result<seconds> ParseSlaDuration(std::string_view text) {
  const auto bad = [&](std::string why) {
    return Fail(Error::InvalidArgument("'" + std::string(text) + "' is not a duration (" + why +
                                       "; write 90s, 15m, 4h, 3d, 2w or a sum such as 1h30m)"));
  };
  if (text.empty()) return bad("empty");
  seconds total{0};
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] < '0' || text[pos] > '9') return bad("a number must come first");
    long long n = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), n);
    if (ec != std::errc() || ptr == text.data() + pos) return bad("a number must come first");
    if (n > kMaxDuration.count()) return bad("too long");
    pos = static_cast<std::size_t>(ptr - text.data());
    long long unit = 1;
    if (pos < text.size()) {
      switch (text[pos]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 7 * 86400;
          break;
        default:
          return bad("unknown unit");
      }
      ++pos;
    } else if (total.count() != 0) {
      return bad("a unit is missing");
    }
    if (n > kMaxDuration.count() / unit) return bad("too long");
    total += seconds(n * unit);
    if (total > kMaxDuration) return bad("too long");
  }
  if (total < seconds(1)) return bad("at least one second");
  return total;
}

std::string FormatSlaDuration(seconds duration) {
  long long s = duration.count();
  if (s <= 0) return "0s";
  std::string out;
  for (const auto& [unit, letter] : {std::pair{86400LL, 'd'}, {3600LL, 'h'}, {60LL, 'm'}, {1LL, 's'}}) {
    if (s >= unit) {
      out += std::to_string(s / unit) + letter;
      s %= unit;
    }
  }
  return out;
}

Result<SlaReading> ComputeSlaClocks(std::string_view incident, std::span<const AuditEntry> entries,
                                    const SlaPolicy& policy, const std::set<std::string, std::less<>>& people,
                                    Timestamp now) {
  std::vector<const AuditEntry*> sorted;
  sorted.reserve(entries.size());
  for (const auto& e : entries) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const AuditEntry* a, const AuditEntry* b) { return a->seq < b->seq; });

  // The reports linked to the incident are those its timeline shows changes of.
  std::set<std::string, std::less<>> linked;
  for (const AuditEntry* e : sorted) {
    if (e->object_type == "report" && e->incident == incident) linked.insert(e->object_id);
  }

  SlaReading reading;
  reading.incident = std::string(incident);
  bool created = false;
  std::optional<Timestamp> earliest_report;
  FirstEvent acknowledged, triaged, responded, first_end;
  std::optional<SlaStop> end;  // the change that ended handling, unless a reopening came after it

  const auto take_snapshot = [&](const json& after) {
    if (const auto it = after.find("priority"); it != after.end() && it->is_number_integer()) {
      reading.priority = std::clamp(it->get<int>(), 1, 4);
    }
    if (const auto it = after.find("exercise"); it != after.end() && it->is_boolean())
      reading.exercise = it->get<bool>();
    if (const auto status = ParseStatus(Text(after, "status"))) reading.status = *status;
  };

  for (const AuditEntry* e : sorted) {
    const bool on_timeline = e->incident == incident;
    const bool by_person = people.contains(e->actor);
    const bool by_triage = e->actor == kTriageEngineActor || e->action.starts_with("triage.");

    if (e->object_type == "incident" && e->object_id == incident) {
      const json before = Snapshot(e->before);
      const json after = Snapshot(e->after);
      if (e->action == "incident.create") {
        if (created || after.empty()) continue;
        created = true;
        reading.created_at = e->at;
        take_snapshot(after);
        // Opening an incident decides its category and priority: triage, when a person or the
        // triage engine does it.
        if (by_person || by_triage) triaged.Offer(*e);
      } else if (!after.empty()) {
        take_snapshot(after);
        const std::string from = Text(before, "status");
        const std::string to = Text(after, "status");
        if (from != to) {
          if (EndsHandling(to)) {
            first_end.Offer(*e);
            end = StopAt(*e);
          } else if (to == "open") {
            end.reset();  // reopened: resolution runs again
          }
        }
        const std::string phase = Text(after, "phase");
        if (Text(before, "phase") == "triage" && !phase.empty() && phase != "triage") responded.Offer(*e);
        if (by_person || by_triage) {
          for (const char* key : {"category", "apt", "impact", "urgency", "priority"}) {
            if (Raw(before, key) != Raw(after, key)) {
              triaged.Offer(*e);
              break;
            }
          }
        }
      }
    }

    if (on_timeline && e->action.starts_with("triage.")) triaged.Offer(*e);
    // Incoming mail threading into the incident is the outside world acting, not the team.
    if (on_timeline && by_person && e->action != "mail.receive") acknowledged.Offer(*e);

    if (e->object_type == "report" && e->action == "report.create" && linked.contains(e->object_id)) {
      const auto received = common::ParseRfc3339(Text(Snapshot(e->after), "received_at")).value_or(e->at);
      if (!earliest_report || received < *earliest_report) earliest_report = received;
    }

    if (e->object_type == "mail" && (e->action == "mail.sent" || (on_timeline && e->action == "mail.queue"))) {
      const json after = Snapshot(e->after);
      const std::string kind = Text(after, "kind");
      if (Text(after, "direction") == "out") {
        if (e->action == "mail.sent" && kind == "ack") acknowledged.Offer(*e);
        if (e->action == "mail.queue" && kind == "investigation") responded.Offer(*e);
      }
    }

    if (on_timeline && e->object_type == "task") {
      if (Text(Snapshot(e->after), "state") == "done" && Text(Snapshot(e->before), "state") != "done") {
        responded.Offer(*e);
      }
    }
    if (on_timeline && e->object_type == "countermeasure" && e->action == "countermeasure.create") {
      responded.Offer(*e);
    }
  }
  if (!created) {
    return Fail(
        Error::InvalidArgument("the journal entries hold no incident.create entry for " + std::string(incident)));
  }

  reading.started_at = reading.created_at;
  if (earliest_report && *earliest_report < reading.started_at) reading.started_at = *earliest_report;
  const SlaTargets& targets = policy.For(reading.priority);
  for (const auto kind : kSlaClockKinds) {
    SlaClock& clock = reading.clocks[static_cast<std::size_t>(kind)];
    clock.kind = kind;
    clock.target = targets.For(kind);
    clock.started_at = reading.started_at;
    switch (kind) {
      case SlaClockKind::kAcknowledge:
        clock.stop = Earlier(acknowledged.stop, first_end.stop);
        break;
      case SlaClockKind::kTriage:
        clock.stop = Earlier(triaged.stop, first_end.stop);
        break;
      case SlaClockKind::kFirstResponse:
        clock.stop = Earlier(responded.stop, first_end.stop);
        break;
      case SlaClockKind::kResolution:
        clock.stop = end;
        break;
    }
    const Timestamp until = clock.stop ? clock.stop->at : now;
    clock.elapsed = std::max(until - clock.started_at, std::chrono::microseconds(0));
    if (clock.elapsed > clock.target) {
      clock.state = SlaState::kBreached;
    } else {
      clock.state = clock.stop ? SlaState::kMet : SlaState::kRunning;
    }
  }
  return reading;
}

}  // namespace hikeshi::core
