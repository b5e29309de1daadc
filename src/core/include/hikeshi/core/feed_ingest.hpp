#pragma once
// Feed intake's use case: machine events, already parsed and routed, are stored idempotently,
// folded into aggregate reports by fingerprint, and correlated with open incidents; each batch is
// one transaction. Thread-safe; Store and Clock must outlive it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/core/byte_source.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// One parsed machine event, routed to its constituency by the caller.
struct MachineEvent {
  std::int64_t record = 0;
  std::string raw;
  std::string event_id;  // the feed's own id, or empty
  std::optional<Timestamp> time;
  Category category;
  std::string report_type;
  std::string description;
  std::optional<Observable> subject;
  std::optional<std::uint16_t> subject_port;
  std::vector<Observable> observables;
  // The label the source put on the record (a MISP tlp: tag, an IODEF restriction, a mapped
  // field), if any. Its report is labelled at least this restrictively, never less than the
  // ingest's own label (FeedIngestOptions::tlp).
  std::optional<Tlp> tlp;
  std::optional<std::int64_t> constituency_id;
  // No constituency matched and the routing default says "out of scope": the aggregate report is
  // kept, already rejected as out-of-scope, so nothing is lost and nobody has to triage it.
  bool out_of_scope = false;
  // EventKey and Fingerprint of the event; StoreBatch works out those left empty. A caller that
  // parses on one thread and stores on another fills them on the first (they need no store).
  std::string key;
  std::string fingerprint;
};

struct RejectedRecord {
  std::int64_t record = 0;
  std::string reason;
  std::string raw;
};

class IntakeTriage;

struct FeedIngestOptions {
  // Link a new aggregate report to the incident it correlates with when there is exactly one.
  bool auto_link = false;
  // Decides for each aggregate report when it is first opened, in the fold's transaction (null: no
  // triage). Must outlive the FeedIngest.
  const IntakeTriage* triage = nullptr;
  std::size_t max_report_observables = 50;
  // The label of every aggregate report the feed makes; an event labelled more restrictively by
  // its source (MachineEvent::tlp) raises its report's label to that.
  Tlp tlp = Tlp::kAmber;
};

// What stored batches add to the aggregate reports they touch, until a fold brings those reports
// up to date: for each fingerprint, the fields of its first event, first and last seen, and its
// distinct observables. FeedIngest keeps one of its own, which StoreBatch fills. A caller that
// parses on one thread and stores on another fills one on the parsing thread instead (Add needs no
// store), and hands it to FeedIngest::Fold(actor, run, pending) once every batch it holds is
// stored. Not thread-safe; movable.
class FeedPending {
 public:
  explicit FeedPending(std::size_t max_report_observables = 50);
  ~FeedPending();
  FeedPending(FeedPending&&) noexcept;
  FeedPending& operator=(FeedPending&&) noexcept;

  // Adds what `events` bring to their reports. An event without a fingerprint gets
  // Fingerprint(format, event, now); one without a time is seen at `now`.
  void Add(std::string_view format, std::span<const MachineEvent> events, Timestamp now);
  // An estimate of the memory this holds, in bytes. A caller that folds rarely should fold once it
  // is large.
  std::size_t Bytes() const;
  bool Empty() const;

 private:
  friend class FeedIngest;
  struct State;
  std::size_t max_report_observables_;
  std::unique_ptr<State> state_;
};

// One FeedIngest serves one run at a time: it remembers which aggregate reports the batches stored
// since the last fold touched. Not thread-safe (the read-only GetRun and Rejects are).
class FeedIngest {
 public:
  FeedIngest(Store& store, const Clock& clock, FeedIngestOptions options = {});
  ~FeedIngest();
  FeedIngest(const FeedIngest&) = delete;
  FeedIngest& operator=(const FeedIngest&) = delete;

  // Errors: kPermissionDenied unless admin or handler; kInvalidArgument for an empty format.
  [[nodiscard]] Result<FeedRun> Start(const Principal& actor, std::string_view format, std::string_view source);

  // Stores one batch in one transaction: each event once (an event already stored, same key,
  // counts as a duplicate and changes nothing, so a batch can be stored again after a crash), the
  // rejects, and the run's counts. Remembers the aggregates the batch touched, duplicates included,
  // for the next Fold(). Errors: storage errors; then nothing of the batch is kept and `run` is
  // unchanged.
  [[nodiscard]] Result<void> StoreBatch(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                        const std::vector<RejectedRecord>& rejects);
  // As StoreBatch, but remembers nothing for a fold: the caller adds the batch to a FeedPending of
  // its own (FeedPending::Add), and folds that once the batch is stored.
  [[nodiscard]] Result<void> StoreRows(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                       const std::vector<RejectedRecord>& rejects);
  // Brings the touched aggregate reports up to date in one transaction: each report's event count
  // is the number of its events in the store (so events stored before a crash are counted once a
  // rerun touches them again), first and last seen and observables are merged, new reports are
  // opened, and open incidents sharing an observable become correlation candidates.
  [[nodiscard]] Result<void> Fold(const Principal& actor, FeedRun& run);
  // The same for what `pending` holds, which must be stored batches only; `pending` is emptied once
  // the fold is committed.
  [[nodiscard]] Result<void> Fold(const Principal& actor, FeedRun& run, FeedPending& pending);
  // An estimate of the memory that what the next Fold() will bring up to date holds, in bytes (what
  // the stored batches since the last fold touched). A caller that folds rarely should fold once it
  // is large.
  std::size_t PendingBytes() const;
  // StoreBatch, then Fold.
  [[nodiscard]] Result<void> Commit(const Principal& actor, FeedRun& run, const std::vector<MachineEvent>& events,
                                    const std::vector<RejectedRecord>& rejects);
  // Folds what is pending, then marks the run finished (or failed).
  [[nodiscard]] Result<void> Finish(const Principal& actor, FeedRun& run, bool failed);

  // Runs and their rejects hold unrouted input from every constituency, so only users who see all
  // constituencies may read them; for others they do not exist. Errors: kNotFound,
  // kInvalidArgument ("/limit") outside 1..500.
  [[nodiscard]] Result<FeedRun> GetRun(const Principal& actor, std::int64_t id);
  // A page of runs newest first, with an id below `before_id` (0: from the newest); `limit`
  // 1..200. `next_before_id` is the `before_id` of the next page, unset after the last. Only for
  // principals who see every constituency, as GetRun (others get an empty page).
  struct RunPage {
    std::vector<FeedRun> items;
    std::optional<std::int64_t> next_before_id;
  };
  [[nodiscard]] Result<RunPage> Runs(const Principal& actor, std::int64_t before_id, int limit);
  // A page of a run's rejects in record order after record `after_record`; `limit` 1..500.
  // `next_after` is the `after_record` of the next page, unset after the last. A page never ends
  // part-way through one record's rejects (an IODEF Incident gives one per bad system), so none
  // is skipped between pages; only a record with more rejects than a page holds shows its first
  // `limit` (the run still counts them all).
  struct RejectPage {
    std::vector<FeedReject> items;
    std::optional<std::int64_t> next_after;
  };
  [[nodiscard]] Result<RejectPage> Rejects(const Principal& actor, std::int64_t run_id, std::int64_t after_record,
                                           int limit);

 private:
  // StoreBatch and StoreRows; `fingerprints` holds those of the events that came without one.
  [[nodiscard]] Result<void> StoreEvents(const Principal& actor, FeedRun& run, std::span<const MachineEvent> events,
                                         const std::vector<RejectedRecord>& rejects,
                                         const std::vector<std::string>& fingerprints, Timestamp now);

  Store& store_;
  const Clock& clock_;
  FeedIngestOptions options_;
  FeedPending pending_;
  // StoreBatch's rows, kept from batch to batch so that their keys and fingerprints are copied
  // into strings that already have the room (no allocation per event).
  std::vector<StoredEvent> rows_;
};

// The idempotency key of an event, 32 hex chars: 10 of the event's time in seconds (0 without a
// time), then 22 of SHA-256 over the format and the feed's event id, or the raw record when there
// is no id. Depends only on the event, so the same event gets the same key in every run.
std::string EventKey(std::string_view format, const MachineEvent& event);
// The same into `out`, replacing what it held but keeping its room (no allocation per event).
void EventKey(std::string_view format, const MachineEvent& event, std::string& out);
// The key of a reject: over the run, the record number, the reason and the raw record (one record
// may be rejected for several reasons: an IODEF Incident with several bad systems). Each run keeps
// its own list of rejects (a rerun lists its rejects again); committing one batch twice stores
// them once.
std::string RejectKey(std::int64_t run_id, const RejectedRecord& reject);
// Events with equal fingerprints fold into one report: format, category, subject and the UTC day
// of the event (of `received` when the event has no time).
std::string Fingerprint(std::string_view format, const MachineEvent& event, Timestamp received);
// The same into `out`, replacing what it held but keeping its room (no allocation per event).
void Fingerprint(std::string_view format, const MachineEvent& event, Timestamp received, std::string& out);

// Drives a whole feed through a parser into FeedIngest; implemented by intake (the pipeline), used
// by the API's POST /events so that api does not depend on intake. Thread-safe.
struct FeedRequest {
  std::string format;        // "suricata-eve", ...
  std::string source;        // what to call the input in the run ("api", a file name)
  std::string mapping_name;  // for ndjson/csv: a mapping file in the data directory
  // The label of the feed's reports (as FeedIngestOptions::tlp); unset: the intake's default.
  std::optional<Tlp> tlp;
};
class FeedIntake {
 public:
  virtual ~FeedIntake() = default;
  // Errors: kInvalidArgument for an unknown format or mapping, kPermissionDenied, storage errors.
  [[nodiscard]] virtual Result<FeedRun> Ingest(const Principal& actor, const FeedRequest& request,
                                               ByteSource& input) = 0;
};

}  // namespace hikeshi::core
