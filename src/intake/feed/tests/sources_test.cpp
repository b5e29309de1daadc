#include "hikeshi/intake/feed/sources.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace hikeshi::intake::feed
