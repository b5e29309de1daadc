#pragma once
// Rewritten copies of the input (full-width ASCII folded, defanged forms refanged) that remember
// where each byte came from, so that an observable found in the copy is reported at its offset in
// the original, with the original bytes as its raw text.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hikeshi::extract::detail {

// A copy of some source text in which a few spans were replaced. Built left to right by Keep() and
// Replace(); Map*() turn positions in the copy into positions in the source.
class Rewrite {
 public:
  explicit Rewrite(std::string_view source) : source_(source) { text_.reserve(source.size()); }

  // Copies source[source_pos_, end) unchanged.
  void KeepUntil(std::size_t end);
  // Writes `replacement` in place of source[source_pos_, end).
  void ReplaceUntil(std::size_t end, std::string_view replacement);
  // Copies the rest of the source; call once, last.
  void Finish() { KeepUntil(source_.size()); }

  const std::string& text() const { return text_; }
  std::size_t source_pos() const { return source_pos_; }

  // Where the byte at `pos` in the copy came from: a replaced span maps to its first source byte.
  std::size_t MapBegin(std::size_t pos) const;
  // Where the span of the copy ending (exclusively) at `end` ends in the source: a replaced span
  // maps to the end of what it replaced.
  std::size_t MapEnd(std::size_t end) const;
  // Whether copy[begin, end) holds a replacement: the text there was not written as it reads now.
  bool Replaced(std::size_t begin, std::size_t end) const;

 private:
  struct Segment {
    std::size_t out_begin;
    std::size_t in_begin;
    std::size_t in_end;
    bool kept;  // copied unchanged, so positions inside map one to one
  };
  // The segment that holds copy position `pos` (pos < text_.size()).
  const Segment& SegmentAt(std::size_t pos) const;

  std::string_view source_;
  std::string text_;
  std::size_t source_pos_ = 0;
  std::vector<Segment> segments_;
};

// Positions in the text that was scanned, mapped back through zero, one or two rewrites.
class SourceMap {
 public:
  SourceMap(const Rewrite* fold, const Rewrite* refang) : fold_(fold), refang_(refang) {}
  std::size_t Begin(std::size_t pos) const;
  std::size_t End(std::size_t end) const;
  // Whether scanned[begin, end) was defanged in the original: such a name was marked by a person
  // as something on the network, which settles whether "invoice.zip" is a domain or a file.
  bool Defanged(std::size_t begin, std::size_t end) const {
    return refang_ != nullptr && refang_->Replaced(begin, end);
  }

 private:
  const Rewrite* fold_;
  const Rewrite* refang_;
};

// Whether `text` holds a full-width character that can be part of an observable or of a defanged
// form (a letter, a digit, '．', '＠', a bracket). Usually not, and then the text is scanned as it is.
bool NeedsFolding(std::string_view text);
// Writes `text` with full-width ASCII (U+FF01..U+FF5E) as ASCII into `out`, a Rewrite of `text`.
void FoldFullWidth(std::string_view text, Rewrite& out);

}  // namespace hikeshi::extract::detail
