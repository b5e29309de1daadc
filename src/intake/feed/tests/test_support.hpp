#pragma once
// Shared by the feed tests: a sink that keeps everything, a source that hands data out in small
// random chunks (to prove chunk boundaries change nothing), and a one-call parse.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/intake/feed/parser.hpp"

namespace hikeshi::intake::feed::testing {

class CollectingSink : public EventSink {
 public:
  Result<void> OnEvent(FeedEvent event) override {
    events.push_back(std::move(event));
    return {};
  }
  Result<void> OnReject(FeedReject reject) override {
    rejects.push_back(std::move(reject));
    return {};
  }
  std::vector<FeedEvent> events;
  std::vector<FeedReject> rejects;
};

// Returns between 1 and max_chunk bytes per Read, chosen by a seeded generator.
class ChunkedSource : public ByteSource {
 public:
  ChunkedSource(std::string_view data, std::uint32_t seed, std::size_t max_chunk = 7)
      : data_(data), state_(seed | 1u), max_chunk_(max_chunk) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override;

 private:
  std::string_view data_;
  std::uint32_t state_;
  std::size_t max_chunk_;
};

struct ParseRun {
  Result<void> status;
  std::vector<FeedEvent> events;
  std::vector<FeedReject> rejects;
  ParseStats stats;
};

// Parses `input` whole (seed 0) or in random chunks (any other seed). A MakeParser failure is
// returned as the status.
ParseRun RunParser(FeedFormat format, std::string_view input, const ParserOptions& options = {},
                   std::uint32_t chunk_seed = 0);

// One line per event and reject, every field included: equal texts mean equal results.
std::string Summarize(const ParseRun& run);
std::string Summarize(const FeedEvent& event);

std::string ReadFile(const std::filesystem::path& path);
std::filesystem::path SamplesDir();  // tests/e2e/feeds
std::filesystem::path SharedDir();   // ../shared

}  // namespace hikeshi::intake::feed::testing
