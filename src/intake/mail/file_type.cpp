#include "detail/file_type.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>

#include <magic.h>

namespace hikeshi::intake::mail::detail {
namespace {

struct MagicClose {
  void operator()(magic_t cookie) const { magic_close(cookie); }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicClose>;

// Enough for every signature libmagic's default database reads; more only costs time.
constexpr std::size_t kSniffBytes = 256 * 1024;

Magic Open() {
  // No decompression (a zip bomb stays closed) and no ELF section walk.
  Magic cookie(magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_ERROR));
  if (cookie && magic_load(cookie.get(), nullptr) != 0) cookie.reset();
  return cookie;
}

}  // namespace

std::string SniffMimeType(std::string_view content) {
  thread_local const Magic cookie = Open();
  if (!cookie) return "application/octet-stream";
  if (content.empty()) return "application/x-empty";
  const char* type = magic_buffer(cookie.get(), content.data(), std::min(content.size(), kSniffBytes));
  if (type == nullptr || *type == '\0') return "application/octet-stream";
  return type;
}

}  // namespace hikeshi::intake::mail::detail
