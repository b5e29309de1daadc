#include "detail/raw_mime.hpp"

#include <algorithm>
#include <optional>

#include <gmime/gmime.h>

#include "detail/text.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

struct Line {
  std::string_view text;  // without its line break
  std::size_t begin = 0;
  std::size_t next = 0;  // the start of the following line
};

std::optional<Line> LineAt(std::string_view source, std::size_t pos) {
  if (pos >= source.size()) return std::nullopt;
  const std::size_t newline = source.find('\n', pos);
  const std::size_t end = newline == std::string_view::npos ? source.size() : newline;
  std::string_view text = source.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{text, pos, newline == std::string_view::npos ? source.size() : newline + 1};
}

bool AllSpace(std::string_view text) { return Trim(text).empty(); }

bool IsOctalMode(std::string_view mode) {
  if (mode.size() < 3 || mode.size() > 4) return false;
  for (const char c : mode) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

}  // namespace

std::size_t HeaderBlockEnd(std::string_view source, std::size_t offset) {
  for (std::optional<Line> line = LineAt(source, offset); line; line = LineAt(source, line->next)) {
    if (line->text.empty()) return line->next;
  }
  return source.size();
}

std::vector<std::string_view> RawBodyParts(std::string_view source, std::size_t header_offset,
                                           std::string_view boundary) {
  std::vector<std::string_view> parts;
  if (boundary.empty() || header_offset >= source.size()) return parts;
  std::optional<std::size_t> part_begin;
  for (std::optional<Line> line = LineAt(source, HeaderBlockEnd(source, header_offset)); line;
       line = LineAt(source, line->next)) {
    if (!line->text.starts_with("--") || line->text.substr(2, boundary.size()) != boundary) continue;
    std::string_view rest = line->text.substr(2 + boundary.size());
    const bool closing = rest.starts_with("--");
    if (closing) rest.remove_prefix(2);
    if (!AllSpace(rest)) continue;
    if (part_begin) {
      // The line break before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
      std::size_t end = line->begin;
      if (end > *part_begin && source[end - 1] == '\n') --end;
      if (end > *part_begin && source[end - 1] == '\r') --end;
      parts.push_back(source.substr(*part_begin, end - *part_begin));
    }
    if (closing) break;
    part_begin = line->next;
  }
  return parts;
}

std::vector<TextBlock> FindTextBlocks(std::string_view text) {
  std::vector<TextBlock> blocks;
  std::optional<TextBlock> open;
  for (std::optional<Line> line = LineAt(text, 0); line; line = LineAt(text, line->next)) {
    const std::string_view content = Trim(line->text);
    if (!open) {
      if (content == "-----BEGIN PGP MESSAGE-----") {
        open = TextBlock{BlockKind::kPgpMessage, line->begin, 0, {}};
      } else if (content == "-----BEGIN PGP SIGNED MESSAGE-----") {
        open = TextBlock{BlockKind::kPgpSigned, line->begin, 0, {}};
      } else if (line->text.starts_with("begin ")) {
        // "begin 644 name": the mode is three or four octal digits.
        const std::string_view rest = line->text.substr(6);
        const std::size_t space = rest.find(' ');
        if (space != std::string_view::npos && IsOctalMode(rest.substr(0, space)) &&
            !Trim(rest.substr(space + 1)).empty()) {
          open = TextBlock{BlockKind::kUuencode, line->begin, 0, std::string(Trim(rest.substr(space + 1)))};
        }
      }
      continue;
    }
    const bool closes = (open->kind == BlockKind::kPgpMessage && content == "-----END PGP MESSAGE-----") ||
                        (open->kind == BlockKind::kPgpSigned && content == "-----END PGP SIGNATURE-----") ||
                        (open->kind == BlockKind::kUuencode && line->text == "end");
    if (closes) {
      open->end = line->next;
      blocks.push_back(std::move(*open));
      open.reset();
    }
  }
  return blocks;
}

std::string UudecodeBlock(std::string_view block) {
  // Skip the "begin" line; GMime's decoder then reads the lines up to "end".
  const std::size_t first = block.find('\n');
  if (first == std::string_view::npos) return {};
  const std::string_view body = block.substr(first + 1);
  std::string out(body.size(), '\0');
  int state = GMIME_UUDECODE_STATE_BEGIN;
  guint32 save = 0;
  const std::size_t written =
      g_mime_encoding_uudecode_step(reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                                    reinterpret_cast<unsigned char*>(out.data()), &state, &save);
  out.resize(std::min(written, out.size()));
  return out;
}

}  // namespace hikeshi::intake::mail::detail
