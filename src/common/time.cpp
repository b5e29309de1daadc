#include "hikeshi/common/time.hpp"

#include <charconv>

#include <fmt/format.h>

namespace hikeshi::common {

namespace {
using std::chrono::days;
using std::chrono::floor;
using std::chrono::microseconds;

bool ReadInt(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  for (std::size_t i = 0; i < width; ++i) {
    if (text[pos + i] < '0' || text[pos + i] > '9') return false;
  }
  std::from_chars(text.data() + pos, text.data() + pos + width, out);
  pos += width;
  return true;
}

bool Expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}
}  // namespace

std::string FormatRfc3339(Timestamp t) {
  const auto day = floor<days>(t);
  const std::chrono::year_month_day ymd(day);
  const auto since_midnight = t - day;
  const auto us = since_midnight.count();
  const long long secs = us / 1'000'000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), secs / 3600,
                     (secs / 60) % 60, secs % 60, us % 1'000'000);
}

std::optional<Timestamp> ParseRfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadInt(text, pos, 4, year) || !Expect(text, pos, '-') || !ReadInt(text, pos, 2, month) ||
      !Expect(text, pos, '-') || !ReadInt(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!ReadInt(text, pos, 2, hour) || !Expect(text, pos, ':') || !ReadInt(text, pos, 2, minute) ||
      !Expect(text, pos, ':') || !ReadInt(text, pos, 2, second)) {
    return std::nullopt;
  }
  long long micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  long long offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!ReadInt(text, pos, 2, oh) || !Expect(text, pos, ':') || !ReadInt(text, pos, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_seconds = sign * (oh * 3600LL + om * 60LL);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const auto base = std::chrono::sys_days(ymd);
  const long long total_seconds = hour * 3600LL + minute * 60LL + second - offset_seconds;
  return Timestamp(std::chrono::duration_cast<microseconds>(base.time_since_epoch()) +
                   microseconds(total_seconds * 1'000'000LL + micros));
}

int YearOf(Timestamp t) { return static_cast<int>(std::chrono::year_month_day(floor<days>(t)).year()); }

}  // namespace hikeshi::common
