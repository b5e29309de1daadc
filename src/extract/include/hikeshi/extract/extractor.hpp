#pragma once
// The observable extractor: finds IPs, CIDR prefixes, domains, URLs, e-mail addresses, hashes, CVE
// ids and AS numbers in free text (a mail body, a feed's comment field), refangs defanged forms and
// returns each value normalised by core::NormalizeObservable. Mail intake and feed intake share it.
//
// Thread-safety: create one Extractor at start-up and share it; Extract() is const and may be
// called from any number of threads at once (each concurrent call borrows its own scan space).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/observable.hpp"

namespace hikeshi::extract {

struct ExtractorOptions {
  // At most this many distinct observables per Extract() call; the rest are dropped and
  // ExtractInfo::truncated says so. A pasted feed in a mail must not become an unbounded list.
  std::size_t max_results = 10'000;
  // Longer input is refused with kTooLarge rather than scanned.
  std::size_t max_input_bytes = std::size_t{64} << 20;
  // When true, the host of each URL and the domain of each e-mail address is also returned as an
  // observable of its own (domain, ipv4 or ipv6), placed right after the URL or address. Off by
  // default: every mail from a webmail user would otherwise add the same provider domain.
  bool include_hosts = false;
  // Japanese text often carries full-width ASCII ("１９２．０．２．１", "ａｂｕｓｅ＠example.jp"). When true,
  // U+FF01..U+FF5E are read as their ASCII counterparts; the raw text returned keeps them as written.
  bool fold_full_width = true;
  // Public suffix list to validate domains against: a .dat or .dafsa file. Empty means the newest of
  // the system's list (Debian's publicsuffix package) and libpsl's built-in copy. Never fetched.
  std::string public_suffix_list;
};

// One observable found in the text.
struct Extracted {
  core::Observable observable;  // normalised and refanged: "http://evil.example.com/x"
  std::size_t offset = 0;       // byte offset of `raw` in the text given to Extract()
  std::string raw;              // the bytes as written: "hxxp://evil[.]example[.]com/x"
  bool operator==(const Extracted&) const = default;
};

// What one Extract() call did, for metrics and for callers that must know the list is incomplete.
struct ExtractInfo {
  bool truncated = false;          // max_results was reached; later observables were not looked for
  std::size_t candidates = 0;      // places the pattern scan proposed and the validators examined
  std::size_t bytes_examined = 0;  // bytes the validators looked at: a small multiple of the input at most
};

class Extractor {
  struct Impl;
  struct Key {
    explicit Key() = default;
  };

 public:
  // Compiles the pattern database and loads the public suffix list. Call once at start-up.
  // Errors: kInvalidArgument for options out of range (field named), kUnavailable when the public
  // suffix list cannot be loaded or the CPU cannot run Hyperscan (it needs SSSE3), kInternal when
  // the pattern database fails to compile (a bug).
  [[nodiscard]] static Result<std::unique_ptr<Extractor>> Create(ExtractorOptions options = {});

  // Finds the observables in `text`, which may be any bytes (invalid UTF-8, NULs). Each distinct
  // (type, value) is returned once, at its first occurrence, in order of offset; values inside a
  // URL or e-mail address (its host) are not returned separately unless include_hosts is set, but
  // hashes and CVE ids inside a URL are. Time is linear in the input size.
  // `text` is only read during the call. `info`, when given, is filled in.
  // Errors: kTooLarge when text is longer than max_input_bytes; kInternal if the scan fails or
  // memory runs out.
  [[nodiscard]] Result<std::vector<Extracted>> Extract(std::string_view text, ExtractInfo* info = nullptr) const;

  const ExtractorOptions& options() const;

  // Created through Create() only (the key is private).
  Extractor(Key, std::unique_ptr<Impl> impl);
  ~Extractor();
  // Not copyable or movable: callers hold it by unique_ptr, and threads share it by reference.
  Extractor(const Extractor&) = delete;
  Extractor& operator=(const Extractor&) = delete;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hikeshi::extract
