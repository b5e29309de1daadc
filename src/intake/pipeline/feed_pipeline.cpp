#include "hikeshi/intake/pipeline/feed_pipeline.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/feed/parser.hpp"
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

// Collects parsed records into batches and commits each one.
class BatchSink final : public feed::EventSink {
 public:
  BatchSink(core::FeedIngest& ingest, const core::Principal& actor, core::FeedRun& run,
            std::shared_ptr<const routing::RoutingTable> routes, const extract::Extractor* extractor,
            const PipelineOptions& options)
      : ingest_(ingest),
        actor_(actor),
        run_(run),
        routes_(std::move(routes)),
        extractor_(extractor),
        options_(options) {
    events_.reserve(options.batch_size);
  }

  Result<void> OnEvent(feed::FeedEvent event) override {
    core::MachineEvent e;
    e.record = event.record;
    e.raw = std::move(event.raw);
    e.event_id = std::move(event.event_id);
    e.time = event.time;
    e.category = std::move(event.category);
    e.report_type = std::move(event.report_type);
    e.description = std::move(event.description);
    e.subject = std::move(event.subject);
    e.subject_port = event.subject_port;
    e.observables = std::move(event.observables);
    if (extractor_ != nullptr && !e.description.empty()) {
      // Free text (a signature name, a comment) often names more than the structured fields do.
      if (auto found = extractor_->Extract(e.description)) {
        for (auto& x : *found) {
          if (std::find(e.observables.begin(), e.observables.end(), x.observable) == e.observables.end() &&
              (!e.subject || *e.subject != x.observable)) {
            e.observables.push_back(std::move(x.observable));
          }
        }
      }
    }
    const routing::Decision decision =
        e.subject ? routes_->Route(*e.subject) : routes_->Route(std::span<const core::Observable>(e.observables));
    e.constituency_id = decision.constituency_id();
    e.out_of_scope = decision.disposition == routing::Disposition::kOutOfScope;
    events_.push_back(std::move(e));
    return MaybeFlush();
  }

  Result<void> OnReject(feed::FeedReject reject) override {
    rejects_.push_back({reject.record, std::move(reject.reason), std::move(reject.raw)});
    return MaybeFlush();
  }

  Result<void> Flush() {
    if (events_.empty() && rejects_.empty()) return {};
    HIKESHI_CHECK(ingest_.StoreBatch(actor_, run_, events_, rejects_));
    events_.clear();
    rejects_.clear();
    if (++batches_ % options_.fold_every_batches == 0) HIKESHI_CHECK(ingest_.Fold(actor_, run_));
    if (options_.on_batch) options_.on_batch(run_);
    return {};
  }

 private:
  Result<void> MaybeFlush() {
    if (events_.size() + rejects_.size() < options_.batch_size) return {};
    return Flush();
  }

  core::FeedIngest& ingest_;
  const core::Principal& actor_;
  core::FeedRun& run_;
  // One snapshot for the whole run: every event is routed by the same table, and no lock is
  // taken per event.
  std::shared_ptr<const routing::RoutingTable> routes_;
  const extract::Extractor* extractor_;
  const PipelineOptions& options_;
  std::vector<core::MachineEvent> events_;
  std::vector<core::RejectedRecord> rejects_;
  std::size_t batches_ = 0;
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

  core::FeedIngest ingest(store_, clock_, options_.ingest);
  HIKESHI_TRY(auto run, ingest.Start(actor, feed::FeedFormatName(*format), request.source));
  BatchSink sink(ingest, actor, run, router_->Current(), extractor_, options_);
  auto parsed = parser->Parse(input, sink);
  if (parsed) parsed = sink.Flush();
  if (!parsed) {
    // Keep what was committed; say that the run did not finish.
    static_cast<void>(ingest.Finish(actor, run, /*failed=*/true));
    return Fail(parsed.error());
  }
  HIKESHI_CHECK(ingest.Finish(actor, run, /*failed=*/false));
  return run;
}

}  // namespace hikeshi::intake::pipeline
