// libFuzzer target for the observable extractor: any bytes in, and the extractor must neither
// crash nor break its contract. Invariants checked on every input (a violation aborts, which
// libFuzzer reports with the input that caused it):
//   - Extract() succeeds on any input within the size limit;
//   - each result's raw text is the input's bytes at its offset, and offsets ascend;
//   - each value is already in core's normalised form, and no (type, value) repeats;
//   - the list respects max_results, and the validators' work stays linear in the input size.
//
// Build and run (clang only; see fuzz/CMakeLists.txt):
//   CC=clang-16 CXX=clang++-16 cmake -S . -B build/fuzz -G Ninja -DHIKESHI_FUZZ=ON -DHIKESHI_SANITIZE=ON \
//       -DHIKESHI_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   ninja -C build/fuzz extract_fuzz
//   build/fuzz/fuzz/extract_fuzz -max_len=65536 fuzz/corpus/extract

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "hikeshi/extract/extractor.hpp"

namespace {

// Small cap, so that inputs which produce many results also exercise truncation.
constexpr std::size_t kMaxResults = 64;

const hikeshi::extract::Extractor& Instance() {
  static const std::unique_ptr<hikeshi::extract::Extractor> extractor = [] {
    hikeshi::extract::ExtractorOptions options;
    options.max_results = kMaxResults;
    options.include_hosts = true;  // covers the host paths as well
    auto created = hikeshi::extract::Extractor::Create(options);
    if (!created) {
      std::fprintf(stderr, "cannot create the extractor: %s\n", created.error().message().c_str());
      std::abort();
    }
    return std::move(*created);
  }();
  return *extractor;
}

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hikeshi::extract::ExtractInfo info;
  auto found = Instance().Extract(text, &info);
  Check(found.has_value(), "Extract() failed");
  Check(found->size() <= kMaxResults, "more results than max_results");
  Check(info.bytes_examined <= 8 * size + 4096, "validators did more than linear work");
  std::set<std::pair<hikeshi::core::ObservableType, std::string>> seen;
  std::size_t previous = 0;
  for (const hikeshi::extract::Extracted& x : *found) {
    Check(x.offset + x.raw.size() <= size, "raw text runs past the input");
    Check(text.substr(x.offset, x.raw.size()) == x.raw, "raw text is not at its offset");
    Check(x.offset >= previous, "offsets out of order");
    previous = x.offset;
    auto again = hikeshi::core::NormalizeObservable(x.observable.type, x.observable.value);
    Check(again.has_value() && again->value == x.observable.value, "value is not normalised");
    Check(seen.emplace(x.observable.type, x.observable.value).second, "value repeated");
  }
  return 0;
}
