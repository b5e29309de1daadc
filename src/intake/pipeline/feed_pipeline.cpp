#include "hikeshi/intake/pipeline/feed_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/feed/parser.hpp"
#include "hikeshi/intake/feed/sources.hpp"
#include "hikeshi/routing/router.hpp"

namespace hikeshi::intake::pipeline {

namespace {

bool IsPlainName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '_' || c == '.';
                     }) &&
         name.front() != '.';
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error{ErrorCode::kInvalidArgument, "cannot read mapping " + path.string(), "/mapping"});
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One transaction's worth of parsed records.
struct Batch {
  // The first `count` are this batch's events. The others were an earlier batch's and are kept
  // for the room their strings and lists have: the next events are copied into them instead of
  // into fresh allocations (10,000 events allocated and freed together per batch overflow
  // malloc's per-thread caches, and cost more than the copies).
  std::vector<core::MachineEvent> events;
  std::size_t count = 0;
  std::vector<core::RejectedRecord> rejects;
  // What waits for a fold, this batch included, when the writer is to fold once the batch is
  // stored; none otherwise.
  std::optional<core::FeedPending> fold;
  std::span<const core::MachineEvent> Events() const { return {events.data(), count}; }
  std::size_t size() const { return count + rejects.size(); }
  void clear() {
    count = 0;
    rejects.clear();
    fold.reset();
  }
  // An event to fill: a kept one (with whatever it held before) or a new one.
  core::MachineEvent& Add() {
    if (count == events.size()) events.emplace_back();
    return events[count++];
  }
};

// Stores batches on a thread of its own, so that parsing, extraction and routing (on the caller's
// thread) overlap with SQLite's work. One batch is written while the next one fills; Submit waits
// while a third would be queued, so memory stays at about three batches whatever the input.
// Submit and Close are called from one thread; `write` runs on the writer thread only.
class BatchWriter {
 public:
  using Write = std::function<Result<void>(Batch&)>;

  explicit BatchWriter(Write write) : write_(std::move(write)), thread_([this] { Run(); }) {}
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;
  ~BatchWriter() { static_cast<void>(Close()); }

  // Hands `batch` to the writer and leaves an empty one (with capacity) in its place: the batch
  // the writer finished last, emptied but keeping its events' room (see Batch).
  // Errors: the writer's first error; once there is one, nothing more is written.
  Result<void> Submit(Batch& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queued_ || failure_; });
    if (failure_) return Fail(*failure_);
    queued_ = std::move(batch);
    if (spare_) {
      batch = std::move(*spare_);
      spare_.reset();
    } else {
      batch = Batch{};
    }
    lock.unlock();
    changed_.notify_all();
    batch.clear();
    return {};
  }

  // Waits until every submitted batch is written and stops the thread. Errors: the writer's first.
  Result<void> Close() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (failure_) return Fail(*failure_);
    return {};
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return queued_.has_value() || closing_; });
      if (!queued_) return;
      Batch batch = std::move(*queued_);
      queued_.reset();
      const bool failed = failure_.has_value();
      lock.unlock();
      Result<void> written;
      if (!failed) {
        try {
          written = write_(batch);
        } catch (const std::exception& e) {
          written = Fail(Error::Internal(std::string("storing a feed batch: ") + e.what()));
        }
      }
      lock.lock();
      if (!written && !failure_) failure_ = written.error();
      spare_ = std::move(batch);
      changed_.notify_all();
    }
  }

  Write write_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Batch> queued_;
  std::optional<Batch> spare_;
  std::optional<Error> failure_;
  bool closing_ = false;
  std::thread thread_;  // last: started once everything above exists
};

// Timing for live feeds (PipelineOptions::live_commit_after): how long records have waited, not
// the time the store records.
using LiveClock = std::chrono::steady_clock;

// Extraction results by text, for the free text that repeats from event to event (a signature
// name). Bounded: emptied when full, which costs only extractions.
class ExtractionCache {
 public:
  explicit ExtractionCache(const extract::Extractor& extractor) : extractor_(extractor) {}

  // The observables in `text`; none when extraction fails (the event keeps its own fields).
  const std::vector<core::Observable>& Find(const std::string& text) {
    if (const auto it = found_.find(text); it != found_.end()) return it->second;
    std::vector<core::Observable> observables;
    if (auto found = extractor_.Extract(text)) {
      observables.reserve(found->size());
      for (auto& x : *found) observables.push_back(std::move(x.observable));
    }
    if (found_.size() >= kMaxEntries) found_.clear();
    return found_.emplace(text, std::move(observables)).first->second;
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  const extract::Extractor& extractor_;
  std::unordered_map<std::string, std::vector<core::Observable>> found_;
};

// Collects parsed records into batches and hands each to the writer thread, which stores it and
// folds every so often.
class BatchSink final : public feed::EventSink {
 public:
  BatchSink(core::FeedIngest& ingest, const core::Principal& actor, core::FeedRun& run, const core::Clock& clock,
            std::shared_ptr<const routing::RoutingTable> routes, const extract::Extractor* extractor,
            const PipelineOptions& options)
      : ingest_(ingest),
        actor_(actor),
        run_(run),
        format_(run.format),
        clock_(clock),
        routes_(std::move(routes)),
        extractor_(extractor),
        options_(options),
        pending_(options.ingest.max_report_observables),
        writer_([this](Batch& batch) { return Store(batch); }) {
    batch_.events.reserve(options.batch_size);
    if (extractor_ != nullptr) cache_.emplace(*extractor_);
  }

  // `event` is freed right after, while malloc's per-thread cache still holds its blocks for the
  // next one: its strings are copied (not moved) into a recycled event, whose strings already have
  // the room. (Swapping the strings instead measured slower: the recycled room was freed.)
  Result<void> OnEvent(feed::FeedEvent event) override { return Add(event, /*reused=*/false); }

  // The parser refills `event` for its next record: the longer strings are swapped with the
  // recycled event's, so neither is copied nor freed, and both keep their room.
  Result<void> OnReusedEvent(feed::FeedEvent& event) override { return Add(event, /*reused=*/true); }

 private:
  Result<void> Add(feed::FeedEvent& event, bool reused) {
    if (batch_.size() == 0) batch_started_ = LiveClock::now();
    core::MachineEvent& e = batch_.Add();
    e.record = event.record;
    if (reused) {
      e.raw.swap(event.raw);
      e.description.swap(event.description);
    } else {
      e.raw.assign(event.raw);
      e.description.assign(event.description);
    }
    e.event_id.assign(event.event_id);
    e.time = event.time;
    e.category = event.category;
    e.report_type.assign(event.report_type);
    e.subject = event.subject;
    e.subject_port = event.subject_port;
    e.observables = event.observables;
    e.tlp = event.tlp;
    // Free text (a signature name, a comment) often names more than the structured fields do.
    const std::string& text = event.free_text ? *event.free_text : e.description;
    if (cache_ && !text.empty()) {
      for (const auto& x : cache_->Find(text)) {
        if (std::find(e.observables.begin(), e.observables.end(), x) == e.observables.end() &&
            (!e.subject || *e.subject != x)) {
          e.observables.push_back(x);
        }
      }
    }
    const routing::Decision decision =
        e.subject ? routes_->Route(*e.subject) : routes_->Route(std::span<const core::Observable>(e.observables));
    e.constituency_id = decision.constituency_id();
    e.out_of_scope = decision.disposition == routing::Disposition::kOutOfScope;
    // Here rather than on the writer thread, which has more to do.
    core::EventKey(format_, e, e.key);
    core::Fingerprint(format_, e, clock_.Now(), e.fingerprint);
    group_of_.push_back(groups_.try_emplace(e.fingerprint, static_cast<std::uint32_t>(groups_.size())).first->second);
    return MaybeFlush();
  }

 public:
  Result<void> OnReject(feed::FeedReject reject) override {
    if (batch_.size() == 0) batch_started_ = LiveClock::now();
    batch_.rejects.push_back({reject.record, std::move(reject.reason), std::move(reject.raw)});
    return MaybeFlush();
  }

  // For a live feed (LiveSource), while the input has nothing to read: how long until the batch
  // is to be committed or what waits folded (options' live_commit_after, live_fold_after); none
  // when nothing waits.
  std::optional<std::chrono::milliseconds> NextDue() const {
    std::optional<LiveClock::time_point> due;
    if (batch_.size() > 0) due = batch_started_ + options_.live_commit_after;
    if (batch_.size() > 0 || !pending_.Empty()) {
      const auto fold = last_fold_ + options_.live_fold_after;
      due = due ? std::min(*due, fold) : fold;
    }
    if (!due) return std::nullopt;
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(*due - LiveClock::now()));
  }

  // Commits the batch, folding too, when NextDue() says it is time.
  Result<void> CommitDue() {
    const auto now = LiveClock::now();
    const bool fold = (batch_.size() > 0 || !pending_.Empty()) && now >= last_fold_ + options_.live_fold_after;
    const bool commit = batch_.size() > 0 && now >= batch_started_ + options_.live_commit_after;
    if (!fold && !commit) return {};
    return Submit(fold);
  }

  // Stores what is left (unless `store_rest` is false: the parse failed), has what waits for a fold
  // folded, and waits for the writer. Errors: the first storage error of the run.
  Result<void> Finish(bool store_rest) {
    Result<void> submitted;
    if (!store_rest) {
      batch_.clear();
      groups_.clear();
      group_of_.clear();
    }
    if (batch_.size() > 0 || !pending_.Empty()) submitted = Submit(/*fold=*/true);
    // The events kept for their room are not needed any more: freed here, while the writer stores
    // the last batch and folds, instead of after it (tens of thousands of strings).
    batch_ = Batch{};
    grouped_ = {};
    Result<void> closed = writer_.Close();
    if (!closed) return closed;
    return submitted;
  }

 private:
  Result<void> MaybeFlush() {
    if (batch_.size() < options_.batch_size) return {};
    return Submit(/*fold=*/false);
  }

  // Hands the batch to the writer. What the batch brings to its aggregate reports is worked out
  // here, on the parsing thread, which has less to do than the writer; it goes to the writer for a
  // fold every few batches (folding rewrites every report the batches touched and journals each
  // change), sooner when what waits holds max_pending_bytes of memory, and with the last batch
  // (`fold`). The writer folds it only once the batch is stored, so a fold never holds a batch that
  // failed; after a storage error nothing more is folded, and a rerun of the feed (which finds every
  // stored event again) brings the reports up to date.
  Result<void> Submit(bool fold) {
    GroupByFingerprint();
    pending_.Add(format_, batch_.Events(), clock_.Now());
    if (fold || ++batches_since_fold_ >= options_.fold_every_batches ||
        pending_.Bytes() >= options_.max_pending_bytes) {
      batches_since_fold_ = 0;
      last_fold_ = LiveClock::now();
      batch_.fold.emplace(std::move(pending_));
      pending_ = core::FeedPending(options_.ingest.max_report_observables);
    }
    return writer_.Submit(batch_);
  }

  // Puts the batch's events of each aggregate report together, the reports in the order the feed
  // first names them and each report's events in feed order, so that the writer thread (the
  // busier one) looks each report up once per run of events instead of once per event. Nothing
  // the store keeps depends on the order of events within one transaction, and the fold sees
  // each report's events, and the reports, in the order it would have.
  void GroupByFingerprint() {
    auto& events = batch_.events;
    const std::size_t count = batch_.count;
    const std::size_t groups = groups_.size();
    if (groups > 1 && groups < count) {
      next_of_group_.assign(groups + 1, 0);
      for (const std::uint32_t group : group_of_) ++next_of_group_[group + 1];
      for (std::size_t g = 1; g <= groups; ++g) next_of_group_[g] += next_of_group_[g - 1];
      if (grouped_.size() < count) grouped_.resize(count);
      // Swapped, not moved: both vectors keep every event's room for later batches.
      for (std::size_t i = 0; i < count; ++i) std::swap(grouped_[next_of_group_[group_of_[i]]++], events[i]);
      events.swap(grouped_);
    }
    groups_.clear();
    group_of_.clear();
  }

  // On the writer thread: the only place that touches `ingest_` and `run_` until Finish returns.
  Result<void> Store(Batch& batch) {
    if (batch.size() > 0) {
      HIKESHI_CHECK(ingest_.StoreRows(actor_, run_, batch.Events(), batch.rejects));
    }
    if (batch.fold) {
      HIKESHI_CHECK(ingest_.Fold(actor_, run_, *batch.fold));
      batch.fold.reset();
    }
    if (options_.on_batch) options_.on_batch(run_);
    return {};
  }

  core::FeedIngest& ingest_;
  const core::Principal& actor_;
  core::FeedRun& run_;        // the writer thread's while it runs
  const std::string format_;  // run_.format, for the parsing thread
  const core::Clock& clock_;
  // One snapshot for the whole run: every event is routed by the same table, and no lock is
  // taken per event.
  std::shared_ptr<const routing::RoutingTable> routes_;
  const extract::Extractor* extractor_;
  const PipelineOptions& options_;
  std::optional<ExtractionCache> cache_;
  Batch batch_;
  // The batch being filled, by fingerprint: each distinct one's group number (in order of first
  // appearance) and each event's group. GroupByFingerprint's scratch besides.
  std::unordered_map<std::string, std::uint32_t> groups_;
  std::vector<std::uint32_t> group_of_;
  std::vector<std::size_t> next_of_group_;
  std::vector<core::MachineEvent> grouped_;
  core::FeedPending pending_;  // what the batches handed to the writer since the last fold bring
  std::size_t batches_since_fold_ = 0;
  LiveClock::time_point batch_started_{};  // when the batch's first record came
  LiveClock::time_point last_fold_ = LiveClock::now();
  BatchWriter writer_;  // last: its thread calls Store, which uses the members above
};

// The feed's input as the parser reads it. Before a read that would wait (a live feed: nothing has
// arrived yet), it waits for input only as long as the sink's batch and fold may still wait, and
// has them committed when their time comes; then it reads. A feed that arrives faster than it is
// parsed never waits, and goes on in full batches.
class LiveSource final : public core::ByteSource {
 public:
  LiveSource(core::ByteSource& input, BatchSink& sink) : input_(input), sink_(sink) {}

  Result<std::size_t> Read(char* buffer, std::size_t size) override {
    while (!input_.WaitReady(std::chrono::milliseconds(0))) {
      const auto due = sink_.NextDue();
      if (!due) break;  // nothing waits: read (and wait) as usual
      if (input_.WaitReady(*due)) break;
      HIKESHI_CHECK(sink_.CommitDue());
    }
    return input_.Read(buffer, size);
  }
  bool WaitReady(std::chrono::milliseconds timeout) override { return input_.WaitReady(timeout); }

 private:
  core::ByteSource& input_;
  BatchSink& sink_;
};

}  // namespace

FeedPipeline::FeedPipeline(core::Store& store, const core::Clock& clock, const extract::Extractor* extractor,
                           PipelineOptions options)
    : store_(store),
      clock_(clock),
      extractor_(extractor),
      options_(std::move(options)),
      router_(std::make_unique<routing::Router>()) {
  options_.batch_size = std::max<std::size_t>(1, options_.batch_size);
  options_.fold_every_batches = std::max<std::size_t>(1, options_.fold_every_batches);
}

FeedPipeline::~FeedPipeline() = default;

Result<core::FeedRun> FeedPipeline::Ingest(const core::Principal& actor, const core::FeedRequest& request,
                                           core::ByteSource& input) {
  const auto format = feed::ParseFeedFormat(request.format);
  if (!format) {
    return Fail(Error::InvalidArgument("'" + request.format +
                                           "' is not a feed format (ndjson, csv, shadowserver, suricata-eve, xarf, "
                                           "iodef, misp)",
                                       "/format"));
  }
  feed::ParserOptions parser_options;
  if (*format == feed::FeedFormat::kNdjson || *format == feed::FeedFormat::kCsv) {
    if (request.mapping_name.empty()) {
      return Fail(Error::InvalidArgument("ndjson and csv feeds need a field mapping", "/mapping"));
    }
    std::filesystem::path path;
    if (IsPlainName(request.mapping_name)) {
      path = options_.mappings_dir / (request.mapping_name + ".toml");
    } else if (options_.allow_mapping_paths) {
      path = request.mapping_name;
    } else {
      return Fail(Error::InvalidArgument("a mapping is named by a plain name (a-z, 0-9, '-', '_', '.')", "/mapping"));
    }
    HIKESHI_TRY(parser_options.mapping_toml, ReadFile(path));
  }
  if (*format == feed::FeedFormat::kShadowserver) {
    parser_options.report_type =
        feed::ShadowserverTypeFromFileName(std::filesystem::path(request.source).filename().string()).value_or("");
  }
  HIKESHI_TRY(auto parser, feed::MakeParser(*format, parser_options));

  // Route with the constituencies as they are now; the table is swapped in whole.
  std::vector<core::Constituency> constituencies;
  HIKESHI_CHECK(store_.Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(constituencies, r.ListConstituencies());
    return {};
  }));
  HIKESHI_CHECK(router_->Rebuild(constituencies, routing::RoutingOptions{options_.unmatched}));

  core::FeedIngestOptions ingest_options = options_.ingest;
  if (request.tlp) ingest_options.tlp = *request.tlp;
  core::FeedIngest ingest(store_, clock_, ingest_options);
  HIKESHI_TRY(auto run, ingest.Start(actor, feed::FeedFormatName(*format), request.source));
  Result<void> parsed;
  try {
    BatchSink sink(ingest, actor, run, clock_, router_->Current(), extractor_, options_);
    // A gzip feed is inflated as it is read; an archive is refused with how to extract it. A live
    // feed is committed as it trickles in.
    LiveSource live(input, sink);
    feed::DecompressingSource plain(live);
    parsed = parser->Parse(plain, sink);
    // The writer's error, if it had one, is what stopped the parse; otherwise the parse's own.
    const Result<void> stored = sink.Finish(/*store_rest=*/parsed.has_value());
    if (!stored) parsed = stored;
  } catch (const std::system_error& e) {
    // No thread for the writer: nothing was parsed or stored.
    parsed = Fail(Error::Internal(std::string("starting the feed writer: ") + e.what()));
  }
  run.skipped = static_cast<std::int64_t>(parser->stats().skipped);
  if (!parsed) {
    // Keep what was committed; say that the run did not finish.
    static_cast<void>(ingest.Finish(actor, run, /*failed=*/true));
    return Fail(parsed.error());
  }
  HIKESHI_CHECK(ingest.Finish(actor, run, /*failed=*/false));
  return run;
}

}  // namespace hikeshi::intake::pipeline
