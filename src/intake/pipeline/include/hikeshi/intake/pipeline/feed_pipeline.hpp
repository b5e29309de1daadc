#pragma once
// The feed intake pipeline: parse (intake/feed) -> extract observables from free text (extract) ->
// route to a constituency (routing) -> store idempotently, aggregate and correlate in batched
// transactions (core::FeedIngest). Implements core::FeedIntake, so the API can offer it without
// depending on intake. Thread-safe: concurrent Ingest() calls each get their own parser and batch.
// Each Ingest() parses on the calling thread and stores on a writer thread of its own, so that the
// two overlap; at most about three batches are in memory at a time.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/feed_ingest.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/routing/routing_table.hpp"

namespace hikeshi::extract {
class Extractor;
}
namespace hikeshi::routing {
class Router;
}

namespace hikeshi::intake::pipeline {

struct PipelineOptions {
  // Events per transaction: large enough to amortise the commit's fsync, small enough that a crash
  // costs little to redo and memory stays bounded.
  std::size_t batch_size = 10'000;
  // Aggregate reports are brought up to date after this many batches (and at the end): a report
  // that many events touch is then written, and journalled, once per fold, not once per batch.
  std::size_t fold_every_batches = 50;
  // ... and sooner when what a fold will write, held in memory, reaches this many bytes (a few
  // hundred per waiting report, each distinct observable once): the bound on memory when a feed
  // names many sources. A feed naming more sources than can wait folds often, and each fold
  // rewrites and journals every report it touched, so this is generous.
  std::size_t max_pending_bytes = 64 << 20;
  // A live feed (a sensor's `tail -F eve.json | hikeshi ingest feed -`, an upload that stays open)
  // arrives slower than it is parsed, so batches would take long to fill. Whenever the input has
  // nothing to read, a batch is committed once its first record is this old, and what waits is
  // folded into its reports once the last fold is `live_fold_after` old: events are durable within
  // about a second and reports current within about ten, while a feed that arrives faster than it
  // is parsed keeps its full batches. (Folding rewrites and journals each report it touches, so it
  // is the slower of the two.)
  std::chrono::milliseconds live_commit_after{1'000};
  std::chrono::milliseconds live_fold_after{10'000};
  routing::UnmatchedPolicy unmatched = routing::UnmatchedPolicy::kCoordinationQueue;
  core::FeedIngestOptions ingest;
  // Where named ndjson/csv mappings live: <mappings_dir>/<name>.toml.
  std::filesystem::path mappings_dir;
  // A mapping may also be given as a file path (the CLI's operator may; API callers may not).
  bool allow_mapping_paths = false;
  // Called after each committed batch with the run so far (progress on long feeds), on the
  // pipeline's writer thread (one call at a time, never after Ingest returns).
  std::function<void(const core::FeedRun&)> on_batch;
};

class FeedPipeline final : public core::FeedIntake {
 public:
  // `extractor` may be null (no free-text extraction); it must outlive the pipeline, as must
  // `store` and `clock`.
  FeedPipeline(core::Store& store, const core::Clock& clock, const extract::Extractor* extractor,
               PipelineOptions options);
  ~FeedPipeline() override;
  FeedPipeline(const FeedPipeline&) = delete;
  FeedPipeline& operator=(const FeedPipeline&) = delete;

  // Reads the whole input. Malformed records become rejects; the run is finished (or marked failed
  // when storage fails mid-way, keeping every batch committed before). Errors: kInvalidArgument for
  // an unknown format or a missing/bad mapping, kPermissionDenied, storage errors.
  [[nodiscard]] Result<core::FeedRun> Ingest(const core::Principal& actor, const core::FeedRequest& request,
                                             core::ByteSource& input) override;

 private:
  core::Store& store_;
  const core::Clock& clock_;
  const extract::Extractor* extractor_;
  PipelineOptions options_;
  std::unique_ptr<routing::Router> router_;
};

}  // namespace hikeshi::intake::pipeline
