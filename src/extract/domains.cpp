#include "detail/domains.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>

#include <idn2.h>

#include "detail/chars.hpp"

namespace hikeshi::extract::detail {

namespace {

struct FreeIdn2 {
  void operator()(char* text) const { idn2_free(text); }
};

// Every entry is a TLD on the list as well (a test checks it), chosen from the extensions that turn
// up in incident reports: scripts (py, sh, pl, pm, rs, java), documents (md, ps, pub, one), archives
// (zip, cab), video (mov), libraries and sources (so, cc). Deliberately absent: app and ai, which
// are far more often real domains than macOS bundles or Illustrator files.
constexpr std::array<std::string_view, 15> kFileExtensionTlds{
    "cab", "cc", "java", "md", "mov", "one", "pl", "pm", "ps", "pub", "py", "rs", "sh", "so", "zip",
};

}  // namespace

Result<DomainRules> DomainRules::Load(const std::string& path) {
  psl_ctx_t* raw = path.empty() ? psl_latest(nullptr) : psl_load_file(path.c_str());
  if (raw == nullptr) {
    return Fail(Error::Unavailable(path.empty() ? "cannot load the public suffix list (install Debian's publicsuffix)"
                                                : "cannot load the public suffix list from '" + path + "'"));
  }
  return DomainRules(PslContext(raw), std::make_unique<TldCache>());
}

std::optional<std::string> DomainRules::ToAscii(std::string_view name) {
  // Non-transitional UTS #46 processing: lower-cases, NFC-normalises, maps ß and ς as IDNA2008
  // does, and refuses A-labels that do not decode to a valid U-label.
  const std::string terminated(name);
  char* raw = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(terminated.c_str()),
                                reinterpret_cast<std::uint8_t**>(&raw), IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  const std::unique_ptr<char, FreeIdn2> out(raw);
  if (rc != IDN2_OK || out == nullptr) return std::nullopt;
  return std::string(out.get());
}

bool DomainRules::IsRegistrable(const std::string& ascii_name) const {
  const std::size_t dot = ascii_name.rfind('.');
  if (dot == std::string::npos) return false;
  if (!IsKnownTld(ascii_name.substr(dot + 1))) return false;
  return psl_is_public_suffix2(psl_.get(), ascii_name.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) == 0;
}

bool DomainRules::IsKnownTld(const std::string& ascii_label) const {
  const auto ask = [&] {
    // Without NO_STAR_RULE every label is a suffix under the list's implicit "*" rule, "pdf" included.
    return psl_is_public_suffix2(psl_.get(), ascii_label.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) == 1;
  };
  if (ascii_label.empty() || ascii_label.size() > 7) return ask();
  std::uint64_t key = 0;
  for (char c : ascii_label) key = (key << 8) | static_cast<unsigned char>(c);
  constexpr std::uint64_t kKnown = 2;
  constexpr std::uint64_t kUnknown = 1;  // never 0, which marks an empty slot
  std::atomic<std::uint64_t>& slot = cache_->slots[(key * 0x9e3779b97f4a7c15u >> 54) % cache_->slots.size()];
  const std::uint64_t entry = slot.load(std::memory_order_relaxed);
  if (entry != 0 && entry >> 8 == key) return (entry & 0xff) == kKnown;
  const bool known = ask();
  slot.store(key << 8 | (known ? kKnown : kUnknown), std::memory_order_relaxed);
  return known;
}

bool IsFileExtensionTld(std::string_view tld) {
  for (std::string_view entry : kFileExtensionTlds) {
    if (EqualsIgnoreCase(entry, tld)) return true;
  }
  return false;
}

}  // namespace hikeshi::extract::detail
