#include "detail/rewrite.hpp"

#include <algorithm>
#include <cstring>

namespace hikeshi::extract::detail {

void Rewrite::KeepUntil(std::size_t end) {
  if (end <= source_pos_) return;
  // Adjacent kept spans merge, so a text with few replacements has few segments.
  if (!segments_.empty() && segments_.back().kept && segments_.back().in_end == source_pos_) {
    segments_.back().in_end = end;
  } else {
    segments_.push_back({text_.size(), source_pos_, end, true});
  }
  text_.append(source_.substr(source_pos_, end - source_pos_));
  source_pos_ = end;
}

void Rewrite::ReplaceUntil(std::size_t end, std::string_view replacement) {
  segments_.push_back({text_.size(), source_pos_, end, false});
  text_.append(replacement);
  source_pos_ = end;
}

const Rewrite::Segment& Rewrite::SegmentAt(std::size_t pos) const {
  // The last segment starting at or before pos. Segments are in copy order and never empty in the
  // copy, except a replacement by "" (which no caller makes), so this is the one holding pos.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), pos,
                             [](std::size_t p, const Segment& s) { return p < s.out_begin; });
  return *std::prev(it);
}

std::size_t Rewrite::MapBegin(std::size_t pos) const {
  if (pos >= text_.size()) return source_.size();
  const Segment& s = SegmentAt(pos);
  return s.kept ? s.in_begin + (pos - s.out_begin) : s.in_begin;
}

std::size_t Rewrite::MapEnd(std::size_t end) const {
  if (end == 0) return 0;
  if (end > text_.size()) return source_.size();
  const Segment& s = SegmentAt(end - 1);
  return s.kept ? s.in_begin + (end - s.out_begin) : s.in_end;
}

bool Rewrite::Replaced(std::size_t begin, std::size_t end) const {
  if (begin >= end || segments_.empty()) return false;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), begin,
                             [](std::size_t p, const Segment& s) { return p < s.out_begin; });
  for (it = std::prev(it); it != segments_.end() && it->out_begin < end; ++it) {
    if (!it->kept) return true;
  }
  return false;
}

std::size_t SourceMap::Begin(std::size_t pos) const {
  if (refang_ != nullptr) pos = refang_->MapBegin(pos);
  if (fold_ != nullptr) pos = fold_->MapBegin(pos);
  return pos;
}

std::size_t SourceMap::End(std::size_t end) const {
  if (refang_ != nullptr) end = refang_->MapEnd(end);
  if (fold_ != nullptr) end = fold_->MapEnd(end);
  return end;
}

namespace {

// U+FF01..U+FF5E are EF BC 81..BF and EF BD 80..9E in UTF-8.
bool IsFullWidthAsciiAt(std::string_view text, std::size_t pos) {
  if (text.size() - pos < 3 || static_cast<unsigned char>(text[pos]) != 0xef) return false;
  const auto b1 = static_cast<unsigned char>(text[pos + 1]);
  const auto b2 = static_cast<unsigned char>(text[pos + 2]);
  return (b1 == 0xbc && b2 >= 0x81 && b2 <= 0xbf) || (b1 == 0xbd && b2 >= 0x80 && b2 <= 0x9e);
}

char FoldedAt(std::string_view text, std::size_t pos) {
  const auto b1 = static_cast<unsigned char>(text[pos + 1]);
  const auto b2 = static_cast<unsigned char>(text[pos + 2]);
  const unsigned code_point = 0xff00u + ((b1 & 0x03u) << 6) + (b2 & 0x3fu);
  return static_cast<char>(code_point - 0xfee0u);
}

// Whether the full-width character at text[pos] can be part of an observable or a defanged form:
// letters, digits, '．', '＠', '［', '］', '｛', '｝', and '（' right before ".", "@", "dot" or "at".
// "（", "：" and "！" alone are ordinary Japanese punctuation and no reason to copy the text.
bool IsFoldTrigger(std::string_view text, std::size_t pos) {
  const char folded = FoldedAt(text, pos);
  if ((folded >= '0' && folded <= '9') || (folded >= 'A' && folded <= 'Z') || (folded >= 'a' && folded <= 'z')) {
    return true;
  }
  if (std::string_view(".@[]{}").find(folded) != std::string_view::npos) return true;
  const char next = pos + 3 < text.size() ? text[pos + 3] : '\0';
  return folded == '(' && std::string_view(".@dDaA").find(next) != std::string_view::npos;
}

// The position of the next full-width ASCII character at or after `pos`, or text.size().
std::size_t NextFullWidth(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    const void* found = std::memchr(text.data() + pos, 0xef, text.size() - pos);
    if (found == nullptr) return text.size();
    pos = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
    if (IsFullWidthAsciiAt(text, pos)) return pos;
    ++pos;
  }
  return text.size();
}

}  // namespace

bool NeedsFolding(std::string_view text) {
  for (std::size_t pos = NextFullWidth(text, 0); pos < text.size(); pos = NextFullWidth(text, pos + 3)) {
    if (IsFoldTrigger(text, pos)) return true;
  }
  return false;
}

void FoldFullWidth(std::string_view text, Rewrite& out) {
  for (std::size_t pos = NextFullWidth(text, out.source_pos()); pos < text.size(); pos = NextFullWidth(text, pos + 3)) {
    out.KeepUntil(pos);
    const char folded = FoldedAt(text, pos);
    out.ReplaceUntil(pos + 3, std::string_view(&folded, 1));
  }
  out.Finish();
}

}  // namespace hikeshi::extract::detail
