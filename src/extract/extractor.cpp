#include "hikeshi/extract/extractor.hpp"

#include <algorithm>
#include <climits>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "detail/candidates.hpp"
#include "detail/domains.hpp"
#include "detail/patterns.hpp"
#include "detail/rewrite.hpp"

namespace hikeshi::extract {

using detail::Trigger;

struct Extractor::Impl {
  ExtractorOptions options;
  detail::Database observables;
  detail::Database defangs;
  std::unique_ptr<detail::ScratchPool> scratch;
  detail::DomainRules domains;
};

namespace {

// A defanged form seen by the scan: a fixed string ending at `end`.
struct Defang {
  Trigger trigger;
  std::size_t end;
};

// Hyperscan calls these for every match, in order of end offset. An exception must not unwind
// through Hyperscan's C frames: it is caught, stops the scan, and becomes the call's error.
struct ScanFailure {
  std::optional<std::string> message;
  Result<void> ToResult() const {
    if (!message) return {};
    return Fail(Error::Internal("extracting observables failed: " + *message));
  }
};

struct ObservablePass {
  detail::CandidateScan& candidates;
  ScanFailure failure;
};
int OnObservableMatch(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/,
                      void* context) noexcept {
  auto& pass = *static_cast<ObservablePass*>(context);
  try {
    return pass.candidates.OnTrigger(static_cast<Trigger>(id), static_cast<std::size_t>(to)) ? 0 : 1;
  } catch (const std::exception& e) {
    pass.failure.message.emplace(e.what());
    return 1;
  }
}

struct DefangPass {
  std::vector<Defang> defangs;
  ScanFailure failure;
};
int OnDefangMatch(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/,
                  void* context) noexcept {
  auto& pass = *static_cast<DefangPass*>(context);
  try {
    pass.defangs.push_back({static_cast<Trigger>(id), static_cast<std::size_t>(to)});
    return 0;
  } catch (const std::exception& e) {
    pass.failure.message.emplace(e.what());
    return 1;
  }
}

struct Replacement {
  std::size_t length;         // of the defanged form
  std::string_view refanged;  // what it stands for
  bool word;                  // "[dot]", "[at]": written with spaces around as often as not
};

Replacement ReplacementFor(Trigger trigger, std::string_view text, std::size_t end) {
  switch (trigger) {
    case Trigger::kDefangDot:
      return {text[end - 2] == '\\' ? std::size_t{2} : std::size_t{3}, ".", false};  // "\." or "[.]"
    case Trigger::kDefangDotWord:
      return {5, ".", true};
    case Trigger::kDefangAt:
      return {3, "@", false};
    case Trigger::kDefangAtWord:
      return {4, "@", true};
    case Trigger::kDefangColon:
      return {3, ":", false};
    case Trigger::kDefangSchemeSep:
      return {5, "://", false};
    case Trigger::kDefangSlash:
      return {3, "/", false};
    case Trigger::kDefangHxxp:
      return {4, "http", false};
    case Trigger::kDefangFxp:
      return {6, "ftp://", false};
    default:
      return {0, "", false};
  }
}

// The text with every defanged form replaced by what it stands for. Forms that overlap one already
// replaced are left as they are.
void Refang(std::string_view text, std::vector<Defang> defangs, detail::Rewrite& out) {
  struct Span {
    std::size_t begin;
    std::size_t end;
    std::string_view refanged;
    bool took_space_before;
  };
  std::vector<Span> spans;
  spans.reserve(defangs.size());
  for (const Defang& defang : defangs) {
    const Replacement r = ReplacementFor(defang.trigger, text, defang.end);
    if (r.length == 0 || r.length > defang.end) continue;
    Span span{defang.end - r.length, defang.end, r.refanged, false};
    if (r.word) {
      // "abuse [at] example [dot] com": the spaces belong to the defanging, not to the text.
      if (span.begin > 0 && text[span.begin - 1] == ' ') {
        --span.begin;
        span.took_space_before = true;
      }
      if (span.end < text.size() && text[span.end] == ' ') ++span.end;
    }
    spans.push_back(span);
  }
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (Span span : spans) {
    // In "[at] [dot]" the space between went to the first form; the second still applies.
    if (span.took_space_before && span.begin + 1 == out.source_pos()) ++span.begin;
    if (span.begin < out.source_pos()) continue;  // overlaps a form already replaced
    out.KeepUntil(span.begin);
    out.ReplaceUntil(span.end, span.refanged);
  }
  out.Finish();
}

}  // namespace

Result<std::unique_ptr<Extractor>> Extractor::Create(ExtractorOptions options) {
  if (options.max_results == 0) {
    return Fail(Error::InvalidArgument("max_results must be at least 1", "/max_results"));
  }
  // Hyperscan takes the length as an unsigned int.
  if (options.max_input_bytes == 0 || options.max_input_bytes > UINT_MAX) {
    return Fail(
        Error::InvalidArgument("max_input_bytes must be from 1 to " + std::to_string(UINT_MAX), "/max_input_bytes"));
  }
  HIKESHI_TRY(detail::Database observables, detail::CompileObservablePatterns());
  HIKESHI_TRY(detail::Database defangs, detail::CompileDefangPatterns());
  HIKESHI_TRY(std::unique_ptr<detail::ScratchPool> scratch,
              detail::ScratchPool::Create({observables.get(), defangs.get()}));
  HIKESHI_TRY(detail::DomainRules domains, detail::DomainRules::Load(options.public_suffix_list));
  auto impl = std::make_unique<Impl>(
      Impl{std::move(options), std::move(observables), std::move(defangs), std::move(scratch), std::move(domains)});
  return std::make_unique<Extractor>(Key{}, std::move(impl));
}

Extractor::Extractor(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Extractor::~Extractor() = default;

const ExtractorOptions& Extractor::options() const { return impl_->options; }

Result<std::vector<Extracted>> Extractor::Extract(std::string_view text, ExtractInfo* info) const {
  const ExtractorOptions& options = impl_->options;
  if (info != nullptr) *info = ExtractInfo{};
  if (text.size() > options.max_input_bytes) {
    return Fail(Error::TooLarge("the text is " + std::to_string(text.size()) + " bytes long; the limit is " +
                                std::to_string(options.max_input_bytes)));
  }
  if (text.empty()) return std::vector<Extracted>{};
  HIKESHI_TRY(detail::ScratchPool::Lease scratch, impl_->scratch->Borrow());

  try {
    std::optional<detail::Rewrite> folded;
    std::string_view scanned = text;
    if (options.fold_full_width && detail::NeedsFolding(text)) {
      folded.emplace(text);
      detail::FoldFullWidth(text, *folded);
      scanned = folded->text();
    }

    const auto scan = [&](const hs_database_t* db, std::string_view input, match_event_handler on_match,
                          void* pass) -> Result<void> {
      const hs_error_t rc =
          hs_scan(db, input.data(), static_cast<unsigned int>(input.size()), 0, scratch.get(), on_match, pass);
      if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
        return Fail(Error::Internal("the pattern scan failed: Hyperscan error " + std::to_string(rc)));
      }
      return {};
    };

    // Defanged forms first: "hxxp://evil[.]example[.]com" is scanned as the URL it stands for.
    DefangPass defang_pass;
    HIKESHI_CHECK(scan(impl_->defangs.get(), scanned, OnDefangMatch, &defang_pass));
    HIKESHI_CHECK(defang_pass.failure.ToResult());
    std::optional<detail::Rewrite> refanged;
    if (!defang_pass.defangs.empty()) {
      refanged.emplace(scanned);
      Refang(scanned, std::move(defang_pass.defangs), *refanged);
      scanned = refanged->text();
    }

    const detail::SourceMap source(folded ? &*folded : nullptr, refanged ? &*refanged : nullptr);
    detail::CandidateScan candidates(impl_->domains, options, scanned, text, source);
    ObservablePass pass{candidates, {}};
    HIKESHI_CHECK(scan(impl_->observables.get(), scanned, OnObservableMatch, &pass));
    HIKESHI_CHECK(pass.failure.ToResult());
    if (info != nullptr) {
      info->truncated = candidates.truncated();
      info->candidates = candidates.candidates();
      info->bytes_examined = candidates.bytes_examined();
    }
    return candidates.TakeResults();
  } catch (const std::bad_alloc&) {
    return Fail(Error::Internal("out of memory while extracting observables"));
  }
}

}  // namespace hikeshi::extract
