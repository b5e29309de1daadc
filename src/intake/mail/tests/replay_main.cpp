// mail_parser_replay: runs fuzz/mail_parser_fuzz.cpp's LLVMFuzzerTestOneInput (and so its checks)
// over every file of the given directories, and with --hostile over the generated hostile messages
// (tests/hostile_messages.hpp), without libFuzzer. A broken invariant aborts; a message that takes
// longer than kMaxSeconds fails the run. Exit status 0 when every input passed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "tests/hostile_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// A guard against hangs and quadratic blow-ups, not a benchmark: on an idle machine every case takes
// under 2 s in this ASan debug build (most well under one), but the test machine's two cores are
// shared, and a loaded run is several times slower.
constexpr double kMaxSeconds = 20.0;

bool Run(std::string_view name, const std::string& bytes) {
  const auto start = std::chrono::steady_clock::now();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-60.*s %9zu bytes %7.3f s\n", static_cast<int>(name.size()), name.data(), bytes.size(), seconds);
  if (seconds > kMaxSeconds) {
    std::fprintf(stderr, "too slow: %.*s took %.1f s (limit %.0f s)\n", static_cast<int>(name.size()), name.data(),
                 seconds, kMaxSeconds);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool ok = true;
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--hostile") {
      for (const auto& message : hikeshi::intake::mail::testing::HostileMessages()) {
        ok = Run(message.name, message.bytes) && ok;
        ++inputs;
      }
      continue;
    }
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(argument, error)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream file(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      ok = Run(entry.path().filename().string(), bytes) && ok;
      ++inputs;
    }
    if (error) {
      std::fprintf(stderr, "cannot read %s: %s\n", argv[i], error.message().c_str());
      return 2;
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "no inputs: give corpus directories and/or --hostile\n");
    return 2;
  }
  std::printf("%zu inputs, %s\n", inputs, ok ? "all passed" : "FAILED");
  return ok ? 0 : 1;
}
