#include "hikeshi/core/feed_ingest.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "hikeshi/common/crypto.hpp"

namespace hikeshi::core {

namespace {
std::string Key(std::string_view material) { return common::Sha256Hex(material).substr(0, 32); }

std::string Day(Timestamp t) { return common::FormatRfc3339(t).substr(0, 10); }

void AddObservable(std::vector<Observable>& list, const Observable& o, std::size_t cap) {
  if (list.size() >= cap) return;
  if (std::find(list.begin(), list.end(), o) == list.end()) list.push_back(o);
}

std::string SubjectLine(std::string_view format, const MachineEvent& e, Timestamp day) {
  const std::string what = e.report_type.empty() ? e.category.ToString() : e.report_type;
  const std::string who = e.subject ? " " + e.subject->value : "";
  return fmt::format("{}: {}{} on {}", format, what, who, Day(day));
}
}  // namespace

std::string EventKey(std::string_view format, const MachineEvent& event) {
  // The first 40 bits are the event's own time in seconds, the rest a hash of its identity: the key
  // still depends only on the event (so a rerun finds it), but a feed's keys arrive nearly in
  // order, and the key index takes them as appends instead of writes scattered over every page.
  const std::int64_t seconds = event.time ? std::max<std::int64_t>(0, common::ToMicros(*event.time) / 1'000'000) : 0;
  const std::string hash = event.event_id.empty() ? common::Sha256Hex({format, "\nraw\n", event.raw})
                                                  : common::Sha256Hex({format, "\nid\n", event.event_id});
  return fmt::format("{:010x}", seconds & 0xFF'FFFF'FFFFLL) + hash.substr(0, 22);
}

std::string RejectKey(std::int64_t run_id, const RejectedRecord& reject) {
  return Key(fmt::format("{}\nreject\n{}\n{}", run_id, reject.record, reject.raw));
}

std::string Fingerprint(std::string_view format, const MachineEvent& event, Timestamp received) {
  return fmt::format("{}|{}|{}|{}", format, event.category.ToString(),
                     event.subject ? std::string(ObservableTypeName(event.subject->type)) + ":" + event.subject->value
                                   : std::string("-"),
                     Day(event.time.value_or(received)));
}

Result<FeedRun> FeedIngest::Start(const Principal& actor, std::string_view format, std::string_view source) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not ingest feeds"));
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

// What the stored batches since the last fold add to each aggregate report.
struct FeedIngest::Pending {
  struct Fold {
    MachineEvent first;  // without its raw record: the report is made from its fields
    Timestamp first_seen{};
    Timestamp last_seen{};
    std::vector<Observable> observables;
  };
  std::map<std::string, Fold> folds;
  std::vector<std::string> order;  // first-seen order, so that report ids follow the feed
};

FeedIngest::FeedIngest(Store& store, const Clock& clock, FeedIngestOptions options)
    : store_(store), clock_(clock), options_(options) {}
FeedIngest::~FeedIngest() = default;

Result<void> FeedIngest::StoreBatch(const Principal& actor, FeedRun& run, const std::vector<MachineEvent>& events,
                                    const std::vector<RejectedRecord>& rejects) {
  const auto now = clock_.Now();
  FeedRun after = run;
  std::vector<std::pair<std::string, const MachineEvent*>> touched;
  touched.reserve(events.size());
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    after = run;
    touched.clear();
    after.records += static_cast<std::int64_t>(events.size() + rejects.size());
    for (const auto& reject : rejects) {
      FeedReject row{RejectKey(run.id, reject), run.id, reject.record, reject.reason, reject.raw, now};
      HIKESHI_TRY(const bool stored, tx.InsertFeedReject(row));
      if (stored) ++after.rejects;
    }
    for (const auto& event : events) {
      std::string fingerprint = Fingerprint(run.format, event, now);
      StoredEvent row{EventKey(run.format, event), run.id, event.record, fingerprint, event.time, event.raw};
      HIKESHI_TRY(const bool fresh, tx.InsertEvent(row));
      ++(fresh ? after.events_new : after.duplicates);
      touched.emplace_back(std::move(fingerprint), &event);
    }
    return tx.UpdateFeedRun({actor.username, now}, run, after);
  }));
  run = after;
  // Only once committed: a batch that failed leaves nothing to fold.
  if (!pending_) pending_ = std::make_unique<Pending>();
  for (auto& [fingerprint, event] : touched) {
    const Timestamp seen = event->time.value_or(now);
    auto [it, inserted] = pending_->folds.try_emplace(fingerprint);
    auto& fold = it->second;
    if (inserted) {
      pending_->order.push_back(fingerprint);
      fold.first = *event;
      fold.first.raw.clear();
      fold.first_seen = fold.last_seen = seen;
    }
    fold.first_seen = std::min(fold.first_seen, seen);
    fold.last_seen = std::max(fold.last_seen, seen);
    if (event->subject) AddObservable(fold.observables, *event->subject, options_.max_report_observables);
    for (const auto& o : event->observables) AddObservable(fold.observables, o, options_.max_report_observables);
  }
  return {};
}

Result<void> FeedIngest::Fold(const Principal& actor, FeedRun& run) {
  if (!pending_ || pending_->order.empty()) return {};
  const auto now = clock_.Now();
  const AuditContext ctx{actor.username, now};
  FeedRun after = run;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    after = run;
    for (const auto& fingerprint : pending_->order) {
      const auto& fold = pending_->folds.at(fingerprint);
      const MachineEvent& first = fold.first;
      HIKESHI_TRY(const std::int64_t count, tx.CountEvents(fingerprint));
      HIKESHI_TRY(const auto existing, tx.FindReportByFingerprint(fingerprint));
      Report report;
      // Observables this fold adds to the report: the only ones a correlation lookup can find
      // anything new for (the others were looked up when they were added).
      std::vector<Observable> added;
      for (const auto& o : fold.observables) {
        if (!existing ||
            std::find(existing->observables.begin(), existing->observables.end(), o) == existing->observables.end()) {
          added.push_back(o);
        }
      }
      if (existing) {
        report = *existing;
        report.event_count = count;
        report.first_seen = std::min(report.first_seen.value_or(fold.first_seen), fold.first_seen);
        report.last_seen = std::max(report.last_seen.value_or(fold.last_seen), fold.last_seen);
        for (const auto& o : fold.observables) AddObservable(report.observables, o, options_.max_report_observables);
        if (report.event_count == existing->event_count && report.first_seen == existing->first_seen &&
            report.last_seen == existing->last_seen && report.observables == existing->observables) {
          continue;  // a rerun that found nothing new: no write, no journal entry
        }
        report.updated_at = now;
        HIKESHI_CHECK(tx.UpdateReport(ctx, "report.aggregate", *existing, report, ""));
        ++after.reports_updated;
      } else {
        report.channel = Channel::kFeed;
        report.reporter = run.format + ":" + run.source;
        report.subject = SubjectLine(run.format, first, fold.first_seen);
        report.body = first.description;
        report.category = first.category;
        report.constituency_id = first.constituency_id;
        report.tlp = options_.tlp;
        report.observables = fold.observables;
        report.fingerprint = fingerprint;
        report.event_count = count;
        report.first_seen = fold.first_seen;
        report.last_seen = fold.last_seen;
        report.received_at = report.updated_at = now;
        if (first.out_of_scope) {
          report.status = ReportStatus::kRejected;
          report.reject_reason = RejectReason::kOutOfScope;
          report.reject_comment = "no constituency matched";
        }
        HIKESHI_TRY(report, tx.CreateReport(ctx, report));
        ++after.reports_created;
      }

      // Correlate: open incidents of the same constituency holding any of the added observables.
      std::vector<std::int64_t> candidates;
      for (const auto& o : added) {
        HIKESHI_TRY(const auto incidents, tx.OpenIncidentsWith(report.constituency_id, o));
        for (const auto incident_id : incidents) {
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
  pending_.reset();
  return {};
}

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

Result<std::vector<FeedReject>> FeedIngest::Rejects(const Principal& actor, std::int64_t run_id,
                                                    std::int64_t after_record, int limit) {
  if (limit < 1 || limit > 500) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  HIKESHI_CHECK(GetRun(actor, run_id));
  std::vector<FeedReject> rejects;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(rejects, r.ListFeedRejects(run_id, after_record, limit));
    return {};
  }));
  return rejects;
}

}  // namespace hikeshi::core
