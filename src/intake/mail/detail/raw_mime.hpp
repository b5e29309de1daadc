#pragma once
// Byte-level views of a message that GMime's tree does not give: the exact bytes of each body part
// of a multipart (what a PGP/MIME signature covers), and the inline blocks found in text (PGP
// armour, uuencoded files). Linear scans; pure; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hikeshi::intake::mail::detail {

// Where the header block that contains `offset` ends: the index just past its empty line, or
// source.size() when there is none.
std::size_t HeaderBlockEnd(std::string_view source, std::size_t offset);

// The body parts of the multipart whose header block contains `header_offset`, delimited by
// "--boundary" lines: each part's bytes (its headers and body) exactly as in `source`, without the
// line break that belongs to the next delimiter. Empty when no delimiter is found.
std::vector<std::string_view> RawBodyParts(std::string_view source, std::size_t header_offset,
                                           std::string_view boundary);

enum class BlockKind { kPgpMessage, kPgpSigned, kUuencode };

struct TextBlock {
  BlockKind kind;
  std::size_t begin = 0;  // first byte of the opening line
  std::size_t end = 0;    // one past the closing line (and its line break)
  std::string name;       // kUuencode: the file name on the "begin" line
};

// Inline PGP blocks ("-----BEGIN PGP MESSAGE-----" .. "-----END PGP MESSAGE-----", and
// "-----BEGIN PGP SIGNED MESSAGE-----" .. "-----END PGP SIGNATURE-----") and uuencoded files
// ("begin 644 name" .. "end"), in order, not overlapping. An unclosed block is not a block.
std::vector<TextBlock> FindTextBlocks(std::string_view text);

// The lines between "begin" and "end" of a uuencoded block, decoded.
std::string UudecodeBlock(std::string_view block);

}  // namespace hikeshi::intake::mail::detail
