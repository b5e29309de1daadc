// Hostile input, so that the normal test suite (under ASan and UBSan) exercises what the libFuzzer
// target explores: random bytes, bytes drawn from the characters observables are made of, and
// megabyte runs built to make a careless validator rescan the same bytes for every match. The
// corpus is generated from fixed seeds, so a failure reproduces exactly.
//
// For every input: Extract() succeeds, each result's raw text is where its offset says, each value
// is already normalised, no value repeats, offsets ascend, and the work done stays linear
// (ExtractInfo::bytes_examined within a small multiple of the input size).

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/extract/extractor.hpp"

namespace hikeshi::extract {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMegabyte = std::size_t{1} << 20;
// A validator family looks at a byte at most about twice (leftwards from one match, rightwards from
// another), and the corpus stays under 2.5 bytes examined per input byte; a rescan per match
// exceeds this bound at once.
constexpr std::size_t kWorkPerByte = 8;

struct Input {
  std::string name;
  std::string text;
};

std::string Repeat(std::string_view unit, std::size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

// std::mt19937_64 is specified bit for bit, so the same seed yields the same corpus everywhere;
// distributions are not, so they are avoided.
std::string RandomFrom(std::mt19937_64& rng, std::string_view alphabet, std::size_t bytes) {
  std::string out(bytes, '\0');
  for (char& c : out) c = alphabet[rng() % alphabet.size()];
  return out;
}

std::string RandomBytes(std::mt19937_64& rng, std::size_t bytes) {
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::vector<Input> HostileCorpus() {
  std::mt19937_64 rng(20240401);
  std::vector<Input> corpus;
  for (int i = 0; i < 8; ++i) corpus.push_back({"random bytes " + std::to_string(i), RandomBytes(rng, 64 * 1024)});
  const std::string ioc_alphabet = "0123456789abcdefABCDEFxXhtpsnN.:/@[]()-_% \n";
  for (int i = 0; i < 8; ++i) {
    corpus.push_back({"observable alphabet " + std::to_string(i), RandomFrom(rng, ioc_alphabet, 64 * 1024)});
  }
  // UTF-8 fragments, full-width forms and defang brackets, shuffled: exercises folding, the
  // refanging map and the label classes on sequences no real text has.
  const std::vector<std::string> fragments = {"例",  "え",    ".",    "jp",   "１",   "．",   "＠",   "［",       "］",
                                              "[.]", "(dot)", "[at]", "hxxp", "://",  "\xe3", "\x81", "\xef\xbc", "@",
                                              "1",   "a",     ":",    "%",    "xn--", "み",   "ー",   "\0"s};
  for (int i = 0; i < 4; ++i) {
    std::string text;
    while (text.size() < 64 * 1024) text += fragments[rng() % fragments.size()];
    corpus.push_back({"fragments " + std::to_string(i), std::move(text)});
  }
  // Megabyte runs. Each makes every position, or nearly, a pattern match.
  corpus.push_back({"dots", std::string(kMegabyte, '.')});
  corpus.push_back({"digits", std::string(kMegabyte, '7')});
  corpus.push_back({"digit dot", Repeat("1.", kMegabyte)});
  corpus.push_back({"dotted quads run together", Repeat("1.1.1.1.", kMegabyte)});
  corpus.push_back({"colons", Repeat("a:", kMegabyte)});
  corpus.push_back({"double colons", Repeat("1::", kMegabyte)});
  corpus.push_back({"labels", Repeat("a.bc.", kMegabyte)});
  corpus.push_back({"one long label", std::string(kMegabyte, 'a') + ".com"});
  corpus.push_back({"at signs", Repeat("a@b.", kMegabyte)});
  corpus.push_back({"hex", Repeat("0123456789abcdef", kMegabyte)});
  corpus.push_back({"hex words", Repeat("d41d8cd98f00b204e9800998ecf8427e ", kMegabyte)});
  corpus.push_back({"brackets", Repeat("[(", kMegabyte)});
  corpus.push_back({"defanged dots", Repeat("[.]", kMegabyte)});
  corpus.push_back({"defanged everything", Repeat("1[.]1(dot)a[at]b[:]hxxp[://]", kMegabyte)});
  corpus.push_back({"schemes", Repeat("http://", kMegabyte)});
  corpus.push_back({"one long url", "http://example.com/" + std::string(kMegabyte, 'a')});
  corpus.push_back({"one long url host", "http://" + std::string(kMegabyte, 'a')});
  corpus.push_back({"closing brackets", "http://example.com/" + std::string(kMegabyte, ')')});
  corpus.push_back({"cve digits", "CVE-2024-" + std::string(kMegabyte, '1')});
  corpus.push_back({"asn", Repeat("AS1", kMegabyte)});
  corpus.push_back({"japanese without spaces", Repeat("サーバから例え不審な通信を検知しました", kMegabyte)});
  corpus.push_back({"kana label", Repeat("み", kMegabyte) + ".jp"});
  corpus.push_back({"full-width digits", Repeat("１．", kMegabyte)});
  corpus.push_back({"utf-8 lead bytes", std::string(kMegabyte, '\xe3')});
  corpus.push_back({"nuls", std::string(kMegabyte, '\0')});
  // One megabyte line of ordinary observables: thousands of real results, capped.
  std::string line;
  for (std::uint64_t i = 0; line.size() < kMegabyte; ++i) {
    line += "10." + std::to_string(i % 250) + "." + std::to_string((i / 250) % 250) + ".1 host" + std::to_string(i) +
            ".example.com ";
  }
  corpus.push_back({"megabyte line of observables", std::move(line)});
  return corpus;
}

class HostileInput : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto created = Extractor::Create();
    ASSERT_TRUE(created) << created.error().message();
    extractor_ = std::move(*created);
  }
  static void TearDownTestSuite() { extractor_.reset(); }
  static std::unique_ptr<Extractor> extractor_;
};
std::unique_ptr<Extractor> HostileInput::extractor_;

TEST_F(HostileInput, NeverBreaksAndStaysLinear) {
  for (const Input& input : HostileCorpus()) {
    SCOPED_TRACE(input.name);
    ExtractInfo info;
    auto found = extractor_->Extract(input.text, &info);
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_LE(found->size(), extractor_->options().max_results);
    EXPECT_LE(info.bytes_examined, kWorkPerByte * input.text.size() + 4096);

    std::set<std::pair<core::ObservableType, std::string>> seen;
    std::size_t previous_offset = 0;
    for (const Extracted& x : *found) {
      ASSERT_LE(x.offset + x.raw.size(), input.text.size());
      EXPECT_EQ(std::string_view(input.text).substr(x.offset, x.raw.size()), x.raw);
      auto again = core::NormalizeObservable(x.observable.type, x.observable.value);
      ASSERT_TRUE(again) << x.observable.value;
      EXPECT_EQ(again->value, x.observable.value);
      EXPECT_TRUE(seen.emplace(x.observable.type, x.observable.value).second) << x.observable.value;
      EXPECT_GE(x.offset, previous_offset);
      previous_offset = x.offset;
    }
  }
}

// The megabyte line holds far more distinct observables than the cap; the list stops at the cap
// and says it was cut, rather than growing without bound.
TEST_F(HostileInput, CapsAMegabyteOfObservables) {
  std::string line;
  for (std::uint64_t i = 0; line.size() < kMegabyte; ++i) line += "host" + std::to_string(i) + ".example.com ";
  ExtractInfo info;
  auto found = extractor_->Extract(line, &info);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), extractor_->options().max_results);
  EXPECT_TRUE(info.truncated);
  EXPECT_EQ(found->front().observable.value, "host0.example.com");
}

// The work bound above is only worth something if a rescan per match would break it. Each unit
// below makes nearly every position a match inside the previous candidate; four times the input
// must cost about four times the work, not sixteen. (Sizes are kept small so that a quadratic
// regression fails here in seconds rather than timing out.)
TEST_F(HostileInput, WorkGrowsLinearlyWithInputSize) {
  for (const char* unit : {"1.1.1.1.", "1.", "a:", "1::", "a.bc.", "a@b.", "[.]1", "http://", "AS1", "み"}) {
    SCOPED_TRACE(unit);
    ExtractInfo small;
    ExtractInfo large;
    ASSERT_TRUE(extractor_->Extract(Repeat(unit, 16 * 1024), &small));
    ASSERT_TRUE(extractor_->Extract(Repeat(unit, 64 * 1024), &large));
    EXPECT_LE(large.bytes_examined, 5 * std::max<std::size_t>(small.bytes_examined, 1024));
  }
}

}  // namespace
}  // namespace hikeshi::extract
