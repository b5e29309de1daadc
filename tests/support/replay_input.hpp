#pragma once
// For the fuzz targets' replay programs (mail_parser_replay, feed_parser_replay): runs the
// target's LLVMFuzzerTestOneInput, and so its checks, on one input without libFuzzer, prints its
// name, size and time, and fails it when it takes longer than kMaxReplaySeconds. Header-only, so
// that each replay program links only the library it fuzzes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace hikeshi::testing {

// A guard against hangs and quadratic blow-ups, not a benchmark: on an idle machine every case
// takes under 2 s in the ASan debug build (most well under one), but the test machine's two cores
// are shared, and a loaded run is several times slower.
inline constexpr double kMaxReplaySeconds = 20.0;

// False when the input took too long; a broken invariant aborts inside the target instead.
inline bool ReplayInput(std::string_view name, const std::string& bytes) {
  const auto start = std::chrono::steady_clock::now();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-70.*s %9zu bytes %7.3f s\n", static_cast<int>(name.size()), name.data(), bytes.size(), seconds);
  if (seconds > kMaxReplaySeconds) {
    std::fprintf(stderr, "too slow: %.*s took %.1f s (limit %.0f s)\n", static_cast<int>(name.size()), name.data(),
                 seconds, kMaxReplaySeconds);
    return false;
  }
  return true;
}

}  // namespace hikeshi::testing
