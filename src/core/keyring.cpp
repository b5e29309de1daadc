#include "hikeshi/core/keyring.hpp"

#include <array>
#include <utility>

namespace hikeshi::core {
namespace {

constexpr std::array<std::pair<SignatureValidity, std::string_view>, 6> kNames{{
    {SignatureValidity::kGood, "good"},
    {SignatureValidity::kBad, "bad"},
    {SignatureValidity::kUnknownKey, "unknown-key"},
    {SignatureValidity::kExpiredKey, "expired-key"},
    {SignatureValidity::kRevokedKey, "revoked-key"},
    {SignatureValidity::kError, "error"},
}};

}  // namespace

std::string_view SignatureValidityName(SignatureValidity validity) {
  for (const auto& [value, name] : kNames) {
    if (value == validity) return name;
  }
  return "error";
}

std::optional<SignatureValidity> ParseSignatureValidity(std::string_view text) {
  for (const auto& [value, name] : kNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace hikeshi::core
