// Feeds often arrive compressed: Shadowserver and abuse feeds as .csv.gz, Suricata's rotated EVE
// logs as eve.json.gz. A gzip input is inflated as it is read, in constant memory (zlib's 32 KiB
// window and one input chunk), every member of a multi-member file in turn, as `gzip -d` does.
// Archives and other compressors are named in a clear error instead of being read as garbage
// records. zlib stays in this file.
#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include <zlib.h>

#include "hikeshi/intake/feed/sources.hpp"

namespace hikeshi::intake::feed {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

// What a compressed or archived input starts with, and what to do instead.
struct Magic {
  std::string_view bytes;
  std::string_view what;
  std::string_view command;  // extracts it to standard output
};
constexpr std::array<Magic, 4> kRefused = {{
    {"PK\x03\x04", "a ZIP archive", "unzip -p FILE"},
    {"BZh", "bzip2-compressed", "bzip2 -dc FILE"},
    {std::string_view("\xFD"
                      "7zXZ\0",
                      6),
     "xz-compressed", "xz -dc FILE"},
    {"\x28\xB5\x2F\xFD", "zstd-compressed", "zstd -dc FILE"},
}};

bool StartsWith(std::string_view data, std::string_view prefix) {
  return data.size() >= prefix.size() && data.substr(0, prefix.size()) == prefix;
}

}  // namespace

struct DecompressingSource::Inflater {
  z_stream stream{};
  bool open = false;
  ~Inflater() {
    if (open) inflateEnd(&stream);
  }
};

DecompressingSource::DecompressingSource(ByteSource& inner) : inner_(inner) {}
DecompressingSource::~DecompressingSource() = default;

Result<void> DecompressingSource::Start() {
  started_ = true;
  // Enough of the input to recognise it: a short read (a pipe) is retried until six bytes or the end.
  buffer_.resize(kChunk);
  while (filled_ < 6) {
    HIKESHI_TRY(const std::size_t n, inner_.Read(buffer_.data() + filled_, buffer_.size() - filled_));
    if (n == 0) {
      inner_done_ = true;
      break;
    }
    filled_ += n;
  }
  const std::string_view head(buffer_.data(), filled_);
  for (const Magic& magic : kRefused) {
    if (StartsWith(head, magic.bytes)) {
      return Fail(Error::InvalidArgument(std::string("the input is ") + std::string(magic.what) +
                                         "; Hikeshi reads plain and gzip-compressed feeds: extract it first, for "
                                         "example `" +
                                         std::string(magic.command) + " | hikeshi ingest feed --format F -`"));
    }
  }
  if (!StartsWith(head, "\x1F\x8B")) return {};  // plain: passed through as it is
  inflater_ = std::make_unique<Inflater>();
  // 15 + 16: a gzip wrapper (not zlib's), with the largest window.
  if (inflateInit2(&inflater_->stream, 15 + 16) != Z_OK) {
    return Fail(Error::Internal("zlib could not start inflating the gzip input"));
  }
  inflater_->open = true;
  inflater_->stream.next_in = reinterpret_cast<Bytef*>(buffer_.data());
  inflater_->stream.avail_in = static_cast<uInt>(filled_);
  return {};
}

Result<std::size_t> DecompressingSource::Read(char* out, std::size_t size) {
  if (!started_) HIKESHI_CHECK(Start());
  if (!inflater_) {
    // Plain input: first what Start() read, then straight from the inner source.
    if (offset_ < filled_) {
      const std::size_t n = std::min(size, filled_ - offset_);
      std::memcpy(out, buffer_.data() + offset_, n);
      offset_ += n;
      return n;
    }
    if (inner_done_) return std::size_t{0};
    return inner_.Read(out, size);
  }
  z_stream& z = inflater_->stream;
  while (true) {
    if (z.avail_in == 0 && !inner_done_) {
      compressed_ += filled_;
      HIKESHI_TRY(filled_, inner_.Read(buffer_.data(), buffer_.size()));
      if (filled_ == 0) inner_done_ = true;
      z.next_in = reinterpret_cast<Bytef*>(buffer_.data());
      z.avail_in = static_cast<uInt>(filled_);
    }
    if (z.avail_in == 0 && inner_done_) {
      if (member_open_) {
        return Fail(Error::InvalidArgument("the gzip input ends in the middle of its data (truncated after " +
                                           std::to_string(compressed_) + " compressed bytes)"));
      }
      return std::size_t{0};
    }
    z.next_out = reinterpret_cast<Bytef*>(out);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(size, 1U << 30));
    member_open_ = true;
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = std::min<std::size_t>(size, 1U << 30) - z.avail_out;
    if (rc == Z_STREAM_END) {
      // One member done; another may follow (cat a.gz b.gz). Trailing zero bytes (tape padding) end it.
      member_open_ = false;
      std::size_t skip = 0;
      while (skip < z.avail_in && z.next_in[skip] == 0) ++skip;
      z.next_in += skip;
      z.avail_in -= static_cast<uInt>(skip);
      if (inflateReset(&z) != Z_OK) return Fail(Error::Internal("zlib could not start the next gzip member"));
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::size_t at = compressed_ + (filled_ - z.avail_in);
      return Fail(Error::InvalidArgument("the gzip input is corrupt near compressed byte " + std::to_string(at) + ": " +
                                         (z.msg != nullptr ? z.msg : "inflate failed")));
    }
    if (produced > 0) return produced;
  }
}

}  // namespace hikeshi::intake::feed
