#include "hikeshi/core/human_id.hpp"

#include <charconv>

#include <fmt/format.h>

namespace hikeshi::core {

std::string FormatHumanId(IdKind kind, int year, std::int64_t number) {
  return fmt::format("{}-{:04}-{:06}", static_cast<char>(kind), year, number);
}

std::string CounterKey(IdKind kind, int year) { return fmt::format("{}-{:04}", static_cast<char>(kind), year); }

std::optional<HumanId> ParseHumanId(std::string_view text) {
  if (text.size() < 13 || text.size() > 24 || text[1] != '-' || text[6] != '-') return std::nullopt;
  HumanId id{};
  if (text[0] == 'R') {
    id.kind = IdKind::kReport;
  } else if (text[0] == 'I') {
    id.kind = IdKind::kIncident;
  } else {
    return std::nullopt;
  }
  const auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return !s.empty();
  };
  const std::string_view year = text.substr(2, 4);
  const std::string_view number = text.substr(7);
  if (!all_digits(year) || !all_digits(number) || number.size() < 6) return std::nullopt;
  std::from_chars(year.data(), year.data() + year.size(), id.year);
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), id.number);
  if (ec != std::errc() || ptr != number.data() + number.size() || id.number <= 0) return std::nullopt;
  return id;
}

}  // namespace hikeshi::core
