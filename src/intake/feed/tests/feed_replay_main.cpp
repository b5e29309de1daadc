// feed_parser_replay: runs fuzz/feed_parser_fuzz.cpp's LLVMFuzzerTestOneInput (and so its checks)
// without libFuzzer, over every file of the given directories (fuzz inputs: the format byte, then
// the feed) and, with --samples DIR, over every sample under tests/e2e/feeds/<format>/ in five
// forms: whole, gzip-compressed, cut in half, gzip cut in half, and with every 31st byte flipped.
// A broken invariant aborts; an input that takes longer than kMaxReplaySeconds
// (tests/support/replay_input.hpp) fails the run. Exit status 0 when every input passed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <zlib.h>

#include "hikeshi/intake/feed/parser.hpp"

#include "tests/support/replay_input.hpp"

namespace {

namespace fs = std::filesystem;
using hikeshi::testing::ReplayInput;

std::string ReadAll(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::string Gzip(const std::string& plain) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool ok = true;
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--samples" && i + 1 < argc) {
      for (const auto& folder : fs::directory_iterator(argv[++i])) {
        const auto format = hikeshi::intake::feed::ParseFeedFormat(folder.path().filename().string());
        if (!folder.is_directory() || !format) continue;
        const std::string prefix(1, static_cast<char>(static_cast<int>(*format)));
        for (const auto& entry : fs::directory_iterator(folder.path())) {
          const std::string file = entry.path().filename().string();
          if (!entry.is_regular_file() || file.ends_with(".expected.json") || file.ends_with(".mapping.toml")) continue;
          const std::string plain = ReadAll(entry.path());
          const std::string packed = Gzip(plain);
          std::string flipped = plain;
          for (std::size_t at = 0; at < flipped.size(); at += 31) flipped[at] = static_cast<char>(flipped[at] ^ 0x5A);
          const std::string name = folder.path().filename().string() + "/" + file;
          ok = ReplayInput(name, prefix + plain) && ok;
          ok = ReplayInput(name + " (gzip)", prefix + packed) && ok;
          ok = ReplayInput(name + " (half)", prefix + plain.substr(0, plain.size() / 2)) && ok;
          ok = ReplayInput(name + " (gzip, half)", prefix + packed.substr(0, packed.size() / 2)) && ok;
          ok = ReplayInput(name + " (flipped)", prefix + flipped) && ok;
          inputs += 5;
        }
      }
      continue;
    }
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(argument, error)) {
      if (!entry.is_regular_file()) continue;
      ok = ReplayInput(entry.path().filename().string(), ReadAll(entry.path())) && ok;
      ++inputs;
    }
    if (error) {
      std::fprintf(stderr, "cannot read %s: %s\n", argv[i], error.message().c_str());
      ok = false;
    }
  }
  std::printf("%zu inputs\n", inputs);
  if (inputs == 0) {
    std::fprintf(stderr, "no inputs: give the corpus directory and --samples tests/e2e/feeds\n");
    return 1;
  }
  return ok ? 0 : 1;
}
