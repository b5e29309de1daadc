#pragma once
// Domain names as the extractor accepts them: converted to ASCII (IDNA2008 via libidn2), then
// checked against the public suffix list (libpsl) so that "report.pdf" is not taken for a host.
// Immutable after creation; thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <libpsl.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::extract::detail {

struct FreePsl {
  void operator()(psl_ctx_t* psl) const { psl_free(psl); }
};
using PslContext = std::unique_ptr<psl_ctx_t, FreePsl>;

class DomainRules {
 public:
  // `path` empty: the newest of the system's list and libpsl's built-in one.
  // Errors: kUnavailable when the list cannot be loaded.
  [[nodiscard]] static Result<DomainRules> Load(const std::string& path);

  // The ASCII form of a name written with U-labels and/or A-labels, lower-case: "例え.JP" ->
  // "xn--r8jz45g.jp". nullopt if IDNA2008 refuses it (a bad A-label, a disallowed code point).
  static std::optional<std::string> ToAscii(std::string_view name);

  // Whether `ascii_name` (lower-case) ends in a suffix the list knows (ICANN or private), and is more
  // than that suffix: "example.co.jp" yes, "co.jp" no, "report.pdf" no (no such suffix).
  bool IsRegistrable(const std::string& ascii_name) const;
  // Whether `ascii_label` (lower-case, no dot) is a top-level suffix on the list.
  bool IsKnownTld(const std::string& ascii_label) const;

 private:
  // TLD questions repeat all the time ("com", "jp", and "pdf" for every file name), and each costs
  // libpsl a few thousand instructions. Answers for labels of up to 7 bytes are kept in a small
  // table shared by all threads: lock-free, since a lost or overwritten entry only means asking
  // libpsl again. Each slot holds the label packed into the high 56 bits and the answer below.
  struct TldCache {
    std::array<std::atomic<std::uint64_t>, 1024> slots{};
  };

  DomainRules(PslContext psl, std::unique_ptr<TldCache> cache) : psl_(std::move(psl)), cache_(std::move(cache)) {}
  PslContext psl_;
  std::unique_ptr<TldCache> cache_;
};

// TLDs that are also common file extensions ("setup.py", "README.md", "invoice.zip"). A bare
// two-label name ending in one of them is read as a file name unless it was defanged; written as
// a URL, an e-mail address, with a subdomain ("www.example.zip") or defanged, it is a domain.
bool IsFileExtensionTld(std::string_view tld);

}  // namespace hikeshi::extract::detail
