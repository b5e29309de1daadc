#include "hikeshi/core/feed_ingest.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/triage_service.hpp"

namespace hikeshi::core {

namespace {
std::string Key(std::string_view material) { return common::Sha256Hex(material).substr(0, 32); }

// Appends "YYYY-MM-DD", the UTC day of `t` (as FormatRfc3339 spells it, without its allocations:
// this runs for every event).
void AppendDay(std::string& out, Timestamp t) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(t)};
  const int year = static_cast<int>(day.year());
  if (year < 0 || year > 9999) {
    out += common::FormatRfc3339(t).substr(0, 10);
    return;
  }
  char text[10] = {static_cast<char>('0' + year / 1000),
                   static_cast<char>('0' + year / 100 % 10),
                   static_cast<char>('0' + year / 10 % 10),
                   static_cast<char>('0' + year % 10),
                   '-',
                   static_cast<char>('0' + static_cast<unsigned>(day.month()) / 10),
                   static_cast<char>('0' + static_cast<unsigned>(day.month()) % 10),
                   '-',
                   static_cast<char>('0' + static_cast<unsigned>(day.day()) / 10),
                   static_cast<char>('0' + static_cast<unsigned>(day.day()) % 10)};
  out.append(text, sizeof text);
}

std::string Day(Timestamp t) {
  std::string day;
  AppendDay(day, t);
  return day;
}

void AddObservable(std::vector<Observable>& list, const Observable& o, std::size_t cap) {
  if (list.size() >= cap) return;
  if (std::find(list.begin(), list.end(), o) == list.end()) list.push_back(o);
}

std::string SubjectLine(std::string_view format, const Category& category, const std::string& report_type,
                        const std::optional<Observable>& subject, Timestamp day) {
  const std::string what = report_type.empty() ? category.ToString() : report_type;
  const std::string who = subject ? " " + subject->value : "";
  return fmt::format("{}: {}{} on {}", format, what, who, Day(day));
}
}  // namespace

std::string EventKey(std::string_view format, const MachineEvent& event) {
  std::string key;
  EventKey(format, event, key);
  return key;
}

void EventKey(std::string_view format, const MachineEvent& event, std::string& key) {
  // The first 40 bits are the event's own time in seconds, the rest a hash of its identity: the key
  // still depends only on the event (so a rerun finds it), but a feed's keys arrive nearly in
  // order, and the key index takes them as appends instead of writes scattered over every page.
  const std::int64_t seconds = event.time ? std::max<std::int64_t>(0, common::ToMicros(*event.time) / 1'000'000) : 0;
  if (event.event_id.empty()) {
    common::Sha256Hex({format, "\nraw\n", event.raw}, key);
  } else {
    common::Sha256Hex({format, "\nid\n", event.event_id}, key);
  }
  // In place: the hash's first 22 hex digits move behind 10 of the time, in the same string.
  key.resize(32);
  std::copy_backward(key.begin(), key.begin() + 22, key.end());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::uint64_t bits = static_cast<std::uint64_t>(seconds) & 0xFF'FFFF'FFFFULL;
  for (int i = 9; i >= 0; --i, bits >>= 4) key[static_cast<std::size_t>(i)] = kHex[bits & 0xF];
}

std::string RejectKey(std::int64_t run_id, const RejectedRecord& reject) {
  return Key(fmt::format("{}\nreject\n{}\n{}\n{}", run_id, reject.record, reject.reason, reject.raw));
}

std::string Fingerprint(std::string_view format, const MachineEvent& event, Timestamp received) {
  std::string fingerprint;
  Fingerprint(format, event, received, fingerprint);
  return fingerprint;
}

void Fingerprint(std::string_view format, const MachineEvent& event, Timestamp received, std::string& fingerprint) {
  // "format|class/type|type:value|YYYY-MM-DD", built in one string: this runs for every event.
  fingerprint.clear();
  fingerprint.reserve(format.size() + event.category.rsit_class.size() + event.category.rsit_type.size() +
                      (event.subject ? event.subject->value.size() + 8 : 1) + 16);
  fingerprint.append(format).append(1, '|');
  fingerprint.append(event.category.rsit_class).append(1, '/').append(event.category.rsit_type).append(1, '|');
  if (event.subject) {
    fingerprint.append(ObservableTypeName(event.subject->type)).append(1, ':').append(event.subject->value);
  } else {
    fingerprint.append(1, '-');
  }
  fingerprint.append(1, '|');
  AppendDay(fingerprint, event.time.value_or(received));
}

Result<FeedRun> FeedIngest::Start(const Principal& actor, std::string_view format, std::string_view source) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not ingest feeds"));
  }
  // A feed's reports go to whichever constituency each event names, and its runs are shown only to
  // those who see every constituency (GetRun): so are feeds sent.
  if (!actor.scope.all) {
    return Fail(Error::PermissionDenied(
        "feeds are ingested by users who see every constituency: a feed's reports go to whichever constituency "
        "each event names"));
  }
  if (format.empty()) return Fail(Error::InvalidArgument("a feed format is required", "/format"));
  FeedRun run;
  run.format = format;
  run.source = source;
  run.started_at = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(run, tx.CreateFeedRun({actor.username, run.started_at}, run));
    return {};
  }));
  return run;
}

// Many reports name the same observables (a scanner's targets, a signature's domain) and the same
// texts (categories, a signature's description), so each distinct observable is held once, in
// `pool`, each distinct text once, in `texts`, and a report holds their indexes: a pending report
// then costs about 300 bytes, and hundreds of thousands can wait for a fold without folding over
// and over (a feed naming more sources than can wait rewrites each report at every fold). `bytes`
// counts what glibc's malloc hands out for all this (its blocks' headers and rounding included),
// so that --fold-memory bounds memory, not a guess: bench/pending_memory.cpp measures it against
// glibc's own count (mallinfo2), which it exceeds by 3 – 15%.
struct FeedPending::State {
  static constexpr std::uint32_t kNone = UINT32_MAX;

  struct Fold {
    // The fields of the report's first event that the report is made from: texts by their index
    // in `texts` (a feed repeats a few categories and descriptions over thousands of reports), the
    // subject by its index in `pool`.
    std::uint32_t rsit_class = 0;
    std::uint32_t rsit_type = 0;
    std::uint32_t report_type = 0;
    std::uint32_t description = 0;
    std::uint32_t subject = kNone;
    bool out_of_scope = false;
    bool routed = false;  // constituency_id holds the constituency
    // The most restrictive label its events' sources gave (kClear when none gave one: the
    // ingest's own label is at least that).
    Tlp tlp = Tlp::kClear;
    std::int64_t constituency_id = 0;
    Timestamp first_seen{};
    Timestamp last_seen{};
    std::vector<std::uint32_t> observables;  // indexes into `pool`, in first-seen order
  };
  using Folds = std::unordered_map<std::string, Fold>;

  Folds folds;
  std::vector<Folds::value_type*> order;  // first-seen order, so that report ids follow the feed
  std::vector<Observable> pool;
  std::unordered_map<std::string, std::uint32_t> pool_index;  // "type\nvalue" -> index in `pool`
  std::deque<std::string> texts;  // a deque: its strings never move, so `text_index` may view them
  std::unordered_map<std::string_view, std::uint32_t> text_index;
  std::string scratch;    // pool_index's lookup key
  std::size_t bytes = 0;  // an estimate of what all this holds
  // The report the last event went to: events of one report often come in runs (the feed
  // pipeline groups each batch by fingerprint), and a run looks its report up once.
  Folds::value_type* last = nullptr;

  // The index of `o` in the pool, added when new.
  std::uint32_t Intern(const Observable& o) {
    scratch.assign(ObservableTypeName(o.type)).append(1, '\n').append(o.value);
    const auto [it, inserted] = pool_index.try_emplace(scratch, static_cast<std::uint32_t>(pool.size()));
    if (inserted) {
      pool.push_back(o);
      // The observable (and the pool's room to grow, half as much again on average), its value
      // and its key where they do not fit inside their strings, and the index's node and bucket.
      bytes += sizeof(Observable) * 3 / 2 + HeapBytes(pool.back().value) +
               Node(sizeof(decltype(pool_index)::value_type)) + HeapBytes(it->first) + kBucket;
    }
    return it->second;
  }

  // The index of `text` in `texts`, added when new.
  std::uint32_t Text(const std::string& text) {
    if (const auto it = text_index.find(text); it != text_index.end()) return it->second;
    const auto index = static_cast<std::uint32_t>(texts.size());
    texts.push_back(text);
    text_index.emplace(texts.back(), index);
    // The text, the index's node and bucket.
    bytes += sizeof(std::string) + HeapBytes(texts.back()) + Node(sizeof(decltype(text_index)::value_type)) + kBucket;
    return index;
  }

  // What `size` bytes from malloc take (glibc: an 8-byte header, 16-byte steps, 32 at least).
  static constexpr std::size_t Chunk(std::size_t size) { return std::max<std::size_t>(32, (size + 8 + 15) / 16 * 16); }
  // A hash map's node holding a value of `size` bytes (with the next pointer and the cached hash).
  static constexpr std::size_t Node(std::size_t size) { return Chunk(size + 2 * sizeof(void*)); }
  // A hash map's bucket, with the room it keeps to grow.
  static constexpr std::size_t kBucket = sizeof(void*) * 3 / 2;
  // What a string holds outside itself: nothing when it is short enough to live inside.
  static std::size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? Chunk(s.capacity() + 1) : 0; }

  void Link(Fold& fold, const Observable& o, std::size_t cap) {
    if (fold.observables.size() >= cap) return;
    const std::uint32_t id = Intern(o);
    if (std::find(fold.observables.begin(), fold.observables.end(), id) != fold.observables.end()) return;
    const std::size_t room = fold.observables.capacity();
    fold.observables.push_back(id);
    // The list's block, as it grows (the old one is freed).
    if (fold.observables.capacity() != room) {
      bytes += Chunk(fold.observables.capacity() * sizeof(std::uint32_t)) -
               (room == 0 ? 0 : Chunk(room * sizeof(std::uint32_t)));
    }
  }

  void Add(const MachineEvent& event, const std::string& fingerprint, Timestamp now, std::size_t cap) {
    const Timestamp seen = event.time.value_or(now);
    if (last == nullptr || last->first != fingerprint) {
      auto [it, inserted] = folds.try_emplace(fingerprint);
      last = &*it;
      if (inserted) {
        order.push_back(last);
        Fold& fold = last->second;
        fold.rsit_class = Text(event.category.rsit_class);
        fold.rsit_type = Text(event.category.rsit_type);
        fold.report_type = Text(event.report_type);
        fold.description = Text(event.description);
        if (event.subject) fold.subject = Intern(*event.subject);
        fold.routed = event.constituency_id.has_value();
        fold.constituency_id = event.constituency_id.value_or(0);
        fold.out_of_scope = event.out_of_scope;
        fold.first_seen = fold.last_seen = seen;
        // The fold and its key in the map's node, the key's characters, the bucket, and the order's
        // pointer (with the vector's room to grow).
        bytes += Node(sizeof(Folds::value_type)) + HeapBytes(last->first) + kBucket + sizeof(void*) * 3 / 2;
      }
    }
    Fold& fold = last->second;
    fold.first_seen = std::min(fold.first_seen, seen);
    fold.last_seen = std::max(fold.last_seen, seen);
    if (event.tlp) fold.tlp = std::max(fold.tlp, *event.tlp);
    if (event.subject) Link(fold, *event.subject, cap);
    for (const auto& o : event.observables) Link(fold, o, cap);
  }

  Category CategoryOf(const Fold& fold) const { return Category{texts[fold.rsit_class], texts[fold.rsit_type]}; }
  std::optional<Observable> SubjectOf(const Fold& fold) const {
    if (fold.subject == kNone) return std::nullopt;
    return pool[fold.subject];
  }
};

FeedPending::FeedPending(std::size_t max_report_observables) : max_report_observables_(max_report_observables) {}
FeedPending::~FeedPending() = default;
FeedPending::FeedPending(FeedPending&&) noexcept = default;
FeedPending& FeedPending::operator=(FeedPending&&) noexcept = default;

void FeedPending::Add(std::string_view format, std::span<const MachineEvent> events, Timestamp now) {
  if (events.empty()) return;
  if (!state_) state_ = std::make_unique<State>();
  std::string computed;
  for (const auto& event : events) {
    if (event.fingerprint.empty()) {
      Fingerprint(format, event, now, computed);
      state_->Add(event, computed, now, max_report_observables_);
    } else {
      state_->Add(event, event.fingerprint, now, max_report_observables_);
    }
  }
}

std::size_t FeedPending::Bytes() const { return state_ ? state_->bytes : 0; }
bool FeedPending::Empty() const { return !state_ || state_->order.empty(); }

FeedIngest::FeedIngest(Store& store, const Clock& clock, FeedIngestOptions options)
    : store_(store), clock_(clock), options_(options), pending_(options.max_report_observables) {}
FeedIngest::~FeedIngest() = default;

namespace {
// The fingerprints of the events that came without one (see MachineEvent::fingerprint), by
// position; empty when every event has its own.
std::vector<std::string> MissingFingerprints(std::string_view format, std::span<const MachineEvent> events,
                                             Timestamp now) {
  std::vector<std::string> computed;
  if (std::none_of(events.begin(), events.end(), [](const MachineEvent& e) { return e.fingerprint.empty(); })) {
    return computed;
  }
  computed.resize(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].fingerprint.empty()) computed[i] = Fingerprint(format, events[i], now);
  }
  return computed;
}
}  // namespace

Result<void> FeedIngest::StoreBatch(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                    const std::vector<RejectedRecord>& rejects) {
  const auto now = clock_.Now();
  // Worked out once for the rows and for the fold.
  const std::vector<std::string> computed = MissingFingerprints(run.format, events, now);
  HIKESHI_CHECK(StoreEvents(actor, run, events, rejects, computed, now));
  // Only once committed: a batch that failed leaves nothing to fold.
  if (events.empty()) return {};
  if (!pending_.state_) pending_.state_ = std::make_unique<FeedPending::State>();
  for (std::size_t i = 0; i < events.size(); ++i) {
    pending_.state_->Add(events[i], events[i].fingerprint.empty() ? computed[i] : events[i].fingerprint, now,
                         options_.max_report_observables);
  }
  return {};
}

Result<void> FeedIngest::StoreRows(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                   const std::vector<RejectedRecord>& rejects) {
  const auto now = clock_.Now();
  const std::vector<std::string> computed = MissingFingerprints(run.format, events, now);
  return StoreEvents(actor, run, events, rejects, computed, now);
}

Result<void> FeedIngest::StoreEvents(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                     const std::vector<RejectedRecord>& rejects,
                                     const std::vector<std::string>& fingerprints, Timestamp now) {
  FeedRun after = run;
  const auto fingerprint_of = [&](std::size_t i) -> const std::string& {
    return events[i].fingerprint.empty() ? fingerprints[i] : events[i].fingerprint;
  };
  std::vector<StoredEvent>& rows = rows_;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    after = run;
    after.records += static_cast<std::int64_t>(events.size() + rejects.size());
    for (const auto& reject : rejects) {
      FeedReject row{RejectKey(run.id, reject), run.id, reject.record, reject.reason, reject.raw, now};
      HIKESHI_TRY(const bool stored, tx.InsertFeedReject(row));
      if (stored) ++after.rejects;
    }
    // The whole batch in one call, so that a backend can send it at once (PostgreSQL: COPY).
    rows.resize(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const MachineEvent& event = events[i];
      StoredEvent& row = rows[i];
      row.run_id = run.id;
      if (event.key.empty()) {
        row.key = EventKey(run.format, event);
      } else {
        row.key.assign(event.key);
      }
      row.record = event.record;
      row.fingerprint.assign(fingerprint_of(i));
      row.time = event.time;
      row.raw = event.raw;
    }
    HIKESHI_TRY(const std::int64_t stored, tx.InsertEvents(rows));
    after.events_new += stored;
    after.duplicates += static_cast<std::int64_t>(events.size()) - stored;
    return tx.UpdateFeedRun({actor.username, now}, run, after);
  }));
  run = after;
  return {};
}

Result<void> FeedIngest::Fold(const Principal& actor, FeedRun& run) { return Fold(actor, run, pending_); }

Result<void> FeedIngest::Fold(const Principal& actor, FeedRun& run, FeedPending& pending) {
  if (pending.Empty()) return {};
  const FeedPending::State& state = *pending.state_;
  const auto now = clock_.Now();
  const AuditContext ctx{actor.username, now};
  FeedRun after = run;
  // Open incidents by constituency and observable: a fold changes no incident, and thousands of
  // aggregate reports may share a few observables (a scanner's targets).
  std::unordered_map<std::string, std::vector<std::int64_t>> open_incidents;
  std::vector<Observable> observables;  // the report's pending observables, from the pool
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    after = run;
    open_incidents.clear();
    for (const auto* entry : state.order) {
      const std::string& fingerprint = entry->first;
      const auto& fold = entry->second;
      observables.clear();
      for (const std::uint32_t id : fold.observables) observables.push_back(state.pool[id]);
      HIKESHI_TRY(const std::int64_t count, tx.CountEvents(fingerprint));
      HIKESHI_TRY(auto existing, tx.FindReportByFingerprint(fingerprint));
      Report report;
      // Observables this fold adds to the report: the only ones a correlation lookup can find
      // anything new for (the others were looked up when they were added).
      std::vector<Observable> added;
      for (const auto& o : observables) {
        if (!existing ||
            std::find(existing->observables.begin(), existing->observables.end(), o) == existing->observables.end()) {
          added.push_back(o);
        }
      }
      if (existing && fold.tlp > existing->tlp) {
        // An event labelled more restrictively than its report: the report takes the label first,
        // as a change of its own in the journal, before the fold's counts and observables.
        Report raised = *existing;
        raised.tlp = fold.tlp;
        raised.updated_at = now;
        HIKESHI_CHECK(tx.UpdateReport(ctx, "report.tlp", *existing, raised, ""));
        existing = std::move(raised);
      }
      if (existing) {
        report = *existing;
        report.event_count = count;
        report.first_seen = std::min(report.first_seen.value_or(fold.first_seen), fold.first_seen);
        report.last_seen = std::max(report.last_seen.value_or(fold.last_seen), fold.last_seen);
        for (const auto& o : observables) AddObservable(report.observables, o, options_.max_report_observables);
        if (report.event_count == existing->event_count && report.first_seen == existing->first_seen &&
            report.last_seen == existing->last_seen && report.observables == existing->observables) {
          continue;  // a rerun that found nothing new: no write, no journal entry
        }
        report.updated_at = now;
        HIKESHI_CHECK(tx.UpdateAggregate(ctx, *existing, report));
        ++after.reports_updated;
      } else {
        report.channel = Channel::kFeed;
        report.reporter = run.format + ":" + run.source;
        report.subject = SubjectLine(run.format, state.CategoryOf(fold), state.texts[fold.report_type],
                                     state.SubjectOf(fold), fold.first_seen);
        report.body = state.texts[fold.description];
        report.category = state.CategoryOf(fold);
        if (fold.routed) report.constituency_id = fold.constituency_id;
        report.tlp = std::max(options_.tlp, fold.tlp);
        report.observables = observables;
        report.fingerprint = fingerprint;
        report.event_count = count;
        report.first_seen = fold.first_seen;
        report.last_seen = fold.last_seen;
        report.received_at = report.updated_at = now;
        if (fold.out_of_scope) {
          report.status = ReportStatus::kRejected;
          report.reject_reason = RejectReason::kOutOfScope;
          report.reject_comment = "no constituency matched";
        }
        HIKESHI_TRY(report, tx.CreateReport(ctx, report));
        ++after.reports_created;
        if (options_.triage != nullptr && report.status == ReportStatus::kNew) {
          HIKESHI_TRY(auto triaged, options_.triage->TriageNewReport(tx, report, {run.format, {}}));
          report = std::move(triaged.report);
        }
      }

      // Correlate: open incidents of the same constituency holding any of the added observables.
      std::vector<std::int64_t> candidates;
      for (const auto& o : added) {
        std::string memo_key = report.constituency_id ? std::to_string(*report.constituency_id) : "-";
        memo_key.append(1, '\n').append(ObservableTypeName(o.type)).append(1, '\n').append(o.value);
        auto memo = open_incidents.find(memo_key);
        if (memo == open_incidents.end()) {
          HIKESHI_TRY(auto found, tx.OpenIncidentsWith(report.constituency_id, o));
          if (open_incidents.size() >= 100'000) open_incidents.clear();  // bounded; a miss costs a query
          memo = open_incidents.emplace(std::move(memo_key), std::move(found)).first;
        }
        for (const auto incident_id : memo->second) {
          HIKESHI_TRY(const bool fresh, tx.InsertCorrelation({report.id, incident_id, o, now}));
          if (fresh) ++after.correlations;
          if (std::find(candidates.begin(), candidates.end(), incident_id) == candidates.end()) {
            candidates.push_back(incident_id);
          }
        }
      }
      if (options_.auto_link && candidates.size() == 1 && report.status == ReportStatus::kNew) {
        HIKESHI_TRY(const auto incident, tx.FindIncidentById(Scope::All(), candidates[0]));
        if (incident && incident->status == IncidentStatus::kOpen) {
          Report linked = report;
          linked.status = ReportStatus::kLinked;
          linked.incident_id = incident->id;
          HIKESHI_CHECK(tx.UpdateReport(ctx, "report.link", report, linked, incident->human_id));
        }
      }
    }
    if (after.reports_created == run.reports_created && after.reports_updated == run.reports_updated &&
        after.correlations == run.correlations) {
      return {};
    }
    return tx.UpdateFeedRun(ctx, run, after);
  }));
  run = after;
  pending.state_.reset();
  return {};
}

std::size_t FeedIngest::PendingBytes() const { return pending_.Bytes(); }

Result<void> FeedIngest::Commit(const Principal& actor, FeedRun& run, const std::vector<MachineEvent>& events,
                                const std::vector<RejectedRecord>& rejects) {
  HIKESHI_CHECK(StoreBatch(actor, run, events, rejects));
  return Fold(actor, run);
}

Result<void> FeedIngest::Finish(const Principal& actor, FeedRun& run, bool failed) {
  const auto folded = Fold(actor, run);
  const auto now = clock_.Now();
  FeedRun after = run;
  after.status = failed || !folded ? "failed" : "finished";
  after.finished_at = now;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    return tx.UpdateFeedRun({actor.username, now}, run, after);
  }));
  run = after;
  return folded;
}

Result<FeedRun> FeedIngest::GetRun(const Principal& actor, std::int64_t id) {
  std::optional<FeedRun> run;
  if (actor.scope.all) {
    HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(run, r.FindFeedRun(id));
      return {};
    }));
  }
  if (!run) return Fail(Error::NotFound("feed run " + std::to_string(id)));
  return *run;
}

Result<FeedIngest::RunPage> FeedIngest::Runs(const Principal& actor, std::int64_t before_id, int limit) {
  if (limit < 1 || limit > 200) return Fail(Error::InvalidArgument("must be 1..200", "/limit"));
  RunPage page;
  if (!actor.scope.all) return page;
  // One more than the page, to know whether another follows.
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(page.items, r.ListRecentFeedRuns(before_id, limit + 1));
    return {};
  }));
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_before_id = page.items.back().id;
  }
  return page;
}

Result<FeedIngest::RejectPage> FeedIngest::Rejects(const Principal& actor, std::int64_t run_id,
                                                   std::int64_t after_record, int limit) {
  if (limit < 1 || limit > 500) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  HIKESHI_CHECK(GetRun(actor, run_id));
  // One more than the page when the store allows, to know whether another page follows.
  const int fetch = std::min(limit + 1, 500);
  RejectPage page;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(page.items, r.ListFeedRejects(run_id, after_record, fetch));
    return {};
  }));
  if (static_cast<int>(page.items.size()) < fetch) return page;  // the last page
  // More may follow, and the last record's rejects may go on beyond what was read: they go to the
  // next page whole.
  const std::int64_t last = page.items.back().record;
  auto first_of_last = page.items.end();
  while (first_of_last != page.items.begin() && std::prev(first_of_last)->record == last) --first_of_last;
  if (first_of_last == page.items.begin()) {
    page.items.resize(static_cast<std::size_t>(limit));  // one record fills the page
    page.next_after = last;
  } else {
    page.items.erase(first_of_last, page.items.end());
    if (static_cast<int>(page.items.size()) > limit) page.items.resize(static_cast<std::size_t>(limit));
    page.next_after = page.items.back().record;
  }
  return page;
}

}  // namespace hikeshi::core
