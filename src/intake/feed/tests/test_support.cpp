#include "tests/test_support.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "hikeshi/intake/feed/sources.hpp"

namespace hikeshi::intake::feed::testing {

Result<std::size_t> ChunkedSource::Read(char* buffer, std::size_t size) {
  state_ = state_ * 1664525u + 1013904223u;
  const std::size_t chunk = 1 + (state_ >> 8) % max_chunk_;
  const std::size_t count = std::min({size, chunk, data_.size()});
  std::memcpy(buffer, data_.data(), count);
  data_.remove_prefix(count);
  return count;
}

ParseRun RunParser(FeedFormat format, std::string_view input, const ParserOptions& options, std::uint32_t chunk_seed) {
  ParseRun run{{}, {}, {}, {}};
  auto parser = MakeParser(format, options);
  if (!parser) {
    run.status = std::unexpected(parser.error());
    return run;
  }
  CollectingSink sink;
  if (chunk_seed == 0) {
    StringSource source(input);
    run.status = (*parser)->Parse(source, sink);
  } else {
    ChunkedSource source(input, chunk_seed);
    run.status = (*parser)->Parse(source, sink);
  }
  run.events = std::move(sink.events);
  run.rejects = std::move(sink.rejects);
  run.stats = (*parser)->stats();
  return run;
}

std::string Summarize(const FeedEvent& event) {
  std::ostringstream out;
  out << "event record=" << event.record << " id=" << event.event_id
      << " time=" << (event.time ? common::FormatRfc3339(*event.time) : "-")
      << " category=" << event.category.ToString() << " type=" << event.report_type << " subject="
      << (event.subject ? std::string(core::ObservableTypeName(event.subject->type)) + " " + event.subject->value : "-")
      << " port=" << (event.subject_port ? std::to_string(*event.subject_port) : "-") << " observables=[";
  for (const auto& observable : event.observables) {
    out << core::ObservableTypeName(observable.type) << " " << observable.value << ";";
  }
  out << "] description=" << event.description << " raw_bytes=" << event.raw.size();
  return out.str();
}

std::string Summarize(const ParseRun& run) {
  std::ostringstream out;
  out << "status=" << (run.status ? std::string("ok") : run.status.error().message()) << "\n";
  for (const auto& event : run.events) out << Summarize(event) << "\n";
  for (const auto& reject : run.rejects) {
    out << "reject record=" << reject.record << " reason=" << reject.reason << " raw_bytes=" << reject.raw.size()
        << "\n";
  }
  out << "events=" << run.stats.events << " rejects=" << run.stats.rejects << " skipped=" << run.stats.skipped;
  return out.str();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

std::filesystem::path SamplesDir() { return HIKESHI_FEED_SAMPLES_DIR; }
std::filesystem::path SharedDir() { return HIKESHI_SHARED_DIR; }

}  // namespace hikeshi::intake::feed::testing
