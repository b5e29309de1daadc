#include "detail/file_type.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>

#include <magic.h>

#include "hikeshi/common/utf8.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

struct MagicClose {
  void operator()(magic_t cookie) const { magic_close(cookie); }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicClose>;

// Enough for every signature libmagic's default database reads; more only costs time.
constexpr std::size_t kSniffBytes = 256 * 1024;

// No decompression (a zip bomb stays closed) and no ELF section walk.
constexpr int kFlags = MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_ERROR;

Magic Open(int flags) {
  Magic cookie(magic_open(flags));
  if (cookie && magic_load(cookie.get(), nullptr) != 0) cookie.reset();
  return cookie;
}

bool IsTextByte(unsigned char c) {
  // ESC is part of ISO-2022-JP text; the other C0 controls (and DEL) are left to libmagic.
  return c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1B);
}

// The first line starts with "Name:" (a letter, then letters, digits or '-'): a mail or news
// header, a diff's "Index:", a vCard's "BEGIN:" and the like, which soft magic recognises.
bool StartsWithFieldName(std::string_view text) {
  if (text.empty() || !((text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z'))) return false;
  for (std::size_t i = 1; i < text.size() && i < 80; ++i) {
    const char c = text[i];
    if (c == ':') return true;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return false;
}

// True for content that is plainly text with no format of its own: no NUL or other control byte
// (but tab, line ends, form feed and ESC), 7-bit or valid UTF-8, and not opening with what a
// text format's signature starts with (markup '<', '#' of scripts and C, '%' of PDF and
// PostScript, '{' and '[' of RTF, JSON and shortcuts, '-' of PEM/PGP armour and diffs, '@' of batch
// files, a header-like "Name:" line). libmagic's soft tests, regular expressions included, cost
// about a millisecond on such text only to answer text/plain, so for it they are skipped; the
// builtin tests (JSON, CSV, the text encodings) still run.
bool PlainlyText(std::string_view content) {
  bool seven_bit = true;
  for (const char c : content) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      seven_bit = false;
    } else if (!IsTextByte(byte)) {
      return false;
    }
  }
  if (!seven_bit && !common::IsValidUtf8(content)) return false;
  std::string_view text = content;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  const std::size_t start = text.find_first_not_of(" \t\r\n\f");
  if (start == std::string_view::npos) return true;
  text.remove_prefix(start);
  if (std::string_view("<#%{[-@").find(text[0]) != std::string_view::npos) return false;
  return !StartsWithFieldName(text);
}

}  // namespace

std::string SniffMimeType(std::string_view content) {
  thread_local const Magic full = Open(kFlags);
  thread_local const Magic builtin_only = Open(kFlags | MAGIC_NO_CHECK_SOFT);
  if (!full) return "application/octet-stream";
  if (content.empty()) return "application/x-empty";
  const std::string_view window = content.substr(0, kSniffBytes);
  const Magic& cookie = builtin_only && PlainlyText(window) ? builtin_only : full;
  const char* type = magic_buffer(cookie.get(), window.data(), window.size());
  if (type == nullptr || *type == '\0') return "application/octet-stream";
  return type;
}

}  // namespace hikeshi::intake::mail::detail
