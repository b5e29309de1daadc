#include "hikeshi/core/tlp.hpp"

#include <array>

#include "detail/text.hpp"

namespace hikeshi::core {

namespace {
constexpr std::array<std::string_view, 5> kNames = {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT",
                                                    "TLP:RED"};
}  // namespace

std::string_view TlpName(Tlp tlp) { return kNames[static_cast<int>(tlp)]; }

std::vector<std::string_view> TlpNamesUpTo(Tlp ceiling) {
  return {kNames.begin(), kNames.begin() + static_cast<int>(ceiling) + 1};
}

std::optional<Tlp> ParseTlp(std::string_view text) {
  text = detail::Trim(text);
  if (text.size() > 4 && detail::EqualsIgnoreCase(text.substr(0, 4), "TLP:")) text.remove_prefix(4);
  if (detail::EqualsIgnoreCase(text, "WHITE")) return Tlp::kClear;  // TLP 1.0 spelling
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (detail::EqualsIgnoreCase(text, kNames[i].substr(4))) return static_cast<Tlp>(i);
  }
  return std::nullopt;
}

}  // namespace hikeshi::core
