#pragma once
// Traffic Light Protocol 2.0 labels. Value type.

#include <optional>
#include <string_view>
#include <vector>

namespace hikeshi::core {

// Ordered from least to most restricted, so that a < b means a may be shared more widely.
enum class Tlp { kClear = 0, kGreen = 1, kAmber = 2, kAmberStrict = 3, kRed = 4 };

// "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED".
std::string_view TlpName(Tlp tlp);
// Accepts the canonical names, case-insensitively, with or without the "TLP:" prefix. TLP 1.0's
// WHITE is read as CLEAR. nullopt for anything else.
std::optional<Tlp> ParseTlp(std::string_view text);
// The names of every label from TLP:CLEAR up to and including `ceiling`, least restricted first:
// what a store binds to keep rows above a ceiling out of a query.
std::vector<std::string_view> TlpNamesUpTo(Tlp ceiling);
// The more restrictive of two labels, either of which may be absent (absent when both are).
constexpr std::optional<Tlp> StricterTlp(std::optional<Tlp> a, std::optional<Tlp> b) {
  if (!a) return b;
  if (!b) return a;
  return *a < *b ? b : a;
}

}  // namespace hikeshi::core
