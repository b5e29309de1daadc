#include "hikeshi/intake/feed/sources.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

namespace hikeshi::intake::feed {
namespace {

std::string ReadAll(ByteSource& source, std::size_t chunk = 3) {
  std::string out;
  std::string buffer(chunk, '\0');
  for (;;) {
    auto read = source.Read(buffer.data(), buffer.size());
    EXPECT_TRUE(read.has_value());
    if (!read || *read == 0) return out;
    out.append(buffer.data(), *read);
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = std::filesystem::temp_directory_path() /
            ("hikeshi_feed_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(FileSource, ReadsTheFileByteForByte) {
  constexpr char kBytes[] = "line one\r\nline two\n\0binary\xff";
  const std::string content(kBytes, sizeof kBytes - 1);
  TempFile file(content);
  auto source = FileSource::Open(file.path());
  ASSERT_TRUE(source.has_value()) << source.error().message();
  EXPECT_EQ(ReadAll(*source), content);
}

TEST(FileSource, MovedSourceKeepsReading) {
  TempFile file("abcdef");
  auto opened = FileSource::Open(file.path());
  ASSERT_TRUE(opened.has_value());
  FileSource moved = std::move(*opened);
  EXPECT_EQ(ReadAll(moved), "abcdef");
}

TEST(FileSource, MissingFileIsNotFound) {
  auto source = FileSource::Open("/nonexistent/hikeshi/feed.csv");
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error().code(), ErrorCode::kNotFound);
}

TEST(FileSource, DirectoryIsRefused) {
  auto source = FileSource::Open(std::filesystem::temp_directory_path());
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error().code(), ErrorCode::kInvalidArgument);
}

TEST(FdSource, ReadsAPipeToItsEnd) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string content = "{\"a\":1}\n{\"a\":2}\n";
  ASSERT_EQ(::write(fds[1], content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fds[1]);
  FdSource source(fds[0]);
  EXPECT_EQ(ReadAll(source, 5), content);
  ::close(fds[0]);
}

TEST(FdSource, ReadErrorIsUnavailable) {
  FdSource source(-1);
  char buffer[4];
  auto read = source.Read(buffer, sizeof buffer);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kUnavailable);
}

TEST(StringSource, HandsOutTheStringThenEnds) {
  StringSource source("hello world");
  EXPECT_EQ(ReadAll(source, 4), "hello world");
  char buffer[4];
  EXPECT_EQ(source.Read(buffer, sizeof buffer).value(), 0u);
}

// gzip with zlib directly (the code under test only inflates), as `gzip` writes it.
std::string Gzip(const std::string& plain) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Hands out its string at most `step` bytes per read, as a pipe may.
class TrickleSource final : public ByteSource {
 public:
  TrickleSource(std::string data, std::size_t step) : data_(std::move(data)), step_(step) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, step_, data_.size() - at_});
    std::memcpy(buffer, data_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t step_;
  std::size_t at_ = 0;
};

std::string Eve(int lines) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    out += R"({"timestamp":"2026-11-27T01:00:00.000000+0000","event_type":"alert","src_ip":"192.0.2.)" +
           std::to_string(i % 250) + "\"}\n";
  }
  return out;
}

TEST(DecompressingSource, AGzipFeedReadsAsThePlainFeedInAnyChunking) {
  const std::string plain = Eve(5000);
  const std::string packed = Gzip(plain);
  ASSERT_LT(packed.size(), plain.size() / 5);
  for (const std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
    SCOPED_TRACE(step);
    TrickleSource inner(packed, step);
    DecompressingSource source(inner);
    EXPECT_EQ(ReadAll(source, 4096), plain);
  }
}

TEST(DecompressingSource, EveryMemberOfAMultiMemberFileIsRead) {
  // `cat monday.gz tuesday.gz`, as log rotation leaves them; gzip -d reads both.
  const std::string monday = Eve(10);
  const std::string tuesday = "{\"event_type\":\"alert\",\"src_ip\":\"198.51.100.1\"}\n";
  TrickleSource inner(Gzip(monday) + Gzip(tuesday), 100);
  DecompressingSource source(inner);
  EXPECT_EQ(ReadAll(source, 64), monday + tuesday);
}

TEST(DecompressingSource, PlainInputOfAnyLengthPassesThroughUnchanged) {
  for (const std::string& plain : {std::string(), std::string("a"), std::string("PK"), std::string("\x1f"), Eve(3)}) {
    TrickleSource inner(plain, 2);
    DecompressingSource source(inner);
    EXPECT_EQ(ReadAll(source, 5), plain);
  }
}

TEST(DecompressingSource, TruncatedOrCorruptGzipIsAClearErrorAfterWhatCouldBeRead) {
  const std::string plain = Eve(20000);
  const std::string packed = Gzip(plain);

  TrickleSource cut(packed.substr(0, packed.size() / 2), 4096);
  DecompressingSource truncated(cut);
  std::string got;
  std::string buffer(4096, '\0');
  Result<std::size_t> read = std::size_t{0};
  while ((read = truncated.Read(buffer.data(), buffer.size())) && *read > 0) got.append(buffer.data(), *read);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(read.error().message().find("truncated"), std::string::npos) << read.error().message();
  // What came before the cut is the feed's beginning, byte for byte.
  EXPECT_GT(got.size(), 0u);
  EXPECT_EQ(got, plain.substr(0, got.size()));

  std::string damaged = packed;
  for (std::size_t i = damaged.size() / 3; i < damaged.size() / 3 + 64; ++i)
    damaged[i] = static_cast<char>(~damaged[i]);
  TrickleSource bad(damaged, 4096);
  DecompressingSource corrupt(bad);
  while ((read = corrupt.Read(buffer.data(), buffer.size())) && *read > 0) {
  }
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(read.error().message().find("corrupt"), std::string::npos) << read.error().message();
}

TEST(DecompressingSource, ArchivesAndOtherCompressorsAreRefusedWithHowToExtractThem) {
  const std::pair<std::string, std::string> cases[] = {
      {std::string("PK\x03\x04\x14\x00\x00\x00", 8), "unzip -p"},
      {"BZh91AY&SY", "bzip2 -dc"},
      {std::string("\xFD"
                   "7zXZ\0\0\x04",
                   8),
       "xz -dc"},
      {"\x28\xB5\x2F\xFD\x00\x58", "zstd -dc"},
  };
  for (const auto& [head, command] : cases) {
    TrickleSource inner(head + std::string(100, 'x'), 3);
    DecompressingSource source(inner);
    char buffer[16];
    const auto read = source.Read(buffer, sizeof buffer);
    ASSERT_FALSE(read.has_value()) << command;
    EXPECT_EQ(read.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(read.error().message().find(command), std::string::npos) << read.error().message();
  }
}

TEST(DecompressingSource, AGzipBombIsReadInConstantMemoryAndItsSizeIsWhatItHolds) {
  // 64 MiB of one byte compress to about 64 KiB; reading it holds one 64 KiB chunk at a time.
  const std::string plain(64u << 20, 'A');
  const std::string packed = Gzip(plain);
  ASSERT_LT(packed.size(), 100u * 1024);
  TrickleSource inner(packed, 1 << 16);
  DecompressingSource source(inner);
  std::string buffer(1 << 16, '\0');
  std::size_t total = 0;
  bool only_a = true;
  for (;;) {
    const auto read = source.Read(buffer.data(), buffer.size());
    ASSERT_TRUE(read.has_value()) << read.error().message();
    if (*read == 0) break;
    total += *read;
    only_a = only_a && std::string_view(buffer.data(), *read).find_first_not_of('A') == std::string_view::npos;
  }
  EXPECT_EQ(total, plain.size());
  EXPECT_TRUE(only_a);
}

}  // namespace
}  // namespace hikeshi::intake::feed
