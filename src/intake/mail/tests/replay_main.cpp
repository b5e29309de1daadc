// mail_parser_replay: runs fuzz/mail_parser_fuzz.cpp's LLVMFuzzerTestOneInput (and so its checks)
// over every file of the given directories, and with --hostile over the generated hostile messages
// (tests/hostile_messages.hpp), without libFuzzer. A broken invariant aborts; a message that takes
// longer than kMaxReplaySeconds (tests/support/replay_input.hpp) fails the run. Exit status 0 when every input passed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "tests/hostile_messages.hpp"
#include "tests/support/replay_input.hpp"

using hikeshi::testing::ReplayInput;

int main(int argc, char** argv) {
  bool ok = true;
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--hostile") {
      for (const auto& message : hikeshi::intake::mail::testing::HostileMessages()) {
        ok = ReplayInput(message.name, message.bytes) && ok;
        ++inputs;
      }
      continue;
    }
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(argument, error)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream file(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      ok = ReplayInput(entry.path().filename().string(), bytes) && ok;
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
