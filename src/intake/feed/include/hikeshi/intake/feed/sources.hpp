#pragma once
// ByteSources over the places a feed comes from: an open file descriptor (stdin), a file by path,
// or bytes already in memory. Each is used from one thread at a time.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/intake/feed/event.hpp"

namespace hikeshi::intake::feed {

// Reads a descriptor it does not own (stdin, a pipe, a socket); the caller closes it after the
// source is done. Retries reads interrupted by signals.
class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  // Errors: kUnavailable when read(2) fails (the message carries errno's text).
  Result<std::size_t> Read(char* buffer, std::size_t size) override;
  // poll(2): a pipe or socket may wait; a regular file never does.
  bool WaitReady(std::chrono::milliseconds timeout) override;

 private:
  int fd_;
};

// Reads a file it opened and owns; closes it on destruction. Move-only.
class FileSource final : public ByteSource {
 public:
  // Errors: kNotFound (no such file), kPermissionDenied, kInvalidArgument (a directory),
  // kUnavailable (any other open failure).
  [[nodiscard]] static Result<FileSource> Open(const std::filesystem::path& path);

  FileSource(FileSource&& other) noexcept;
  FileSource& operator=(FileSource&& other) noexcept;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override;

  // Errors: kUnavailable when read(2) fails.
  Result<std::size_t> Read(char* buffer, std::size_t size) override;
  // As FdSource's (the path may name a FIFO).
  bool WaitReady(std::chrono::milliseconds timeout) override;

 private:
  explicit FileSource(int fd) : fd_(fd) {}
  int fd_ = -1;  // owned; -1 once moved from
};

// Reads `inner` (which must outlive it) and inflates it when it is gzip-compressed (it starts with
// gzip's magic bytes; every member of a multi-member file, as `gzip -d`), in constant memory.
// Anything else passes through unchanged. FeedPipeline reads every feed through one, so a
// .csv.gz, an eve.json.gz or a gzip request body needs no option.
// Errors: kInvalidArgument when the input is a ZIP archive or bzip2-, xz- or zstd-compressed (the
// message says how to extract it), or when the gzip data is corrupt or truncated (naming the
// compressed byte offset); the inner source's errors.
class DecompressingSource final : public ByteSource {
 public:
  explicit DecompressingSource(ByteSource& inner);
  DecompressingSource(const DecompressingSource&) = delete;
  DecompressingSource& operator=(const DecompressingSource&) = delete;
  ~DecompressingSource() override;

  Result<std::size_t> Read(char* buffer, std::size_t size) override;

 private:
  struct Inflater;  // zlib's state, kept out of this header
  Result<void> Start();

  ByteSource& inner_;
  std::string buffer_;          // input read from `inner_`
  std::size_t filled_ = 0;      // bytes of buffer_ holding input
  std::size_t offset_ = 0;      // plain input: how much of buffer_ has been handed out
  std::size_t compressed_ = 0;  // gzip input consumed before buffer_'s, for error messages
  bool started_ = false;
  bool inner_done_ = false;
  bool member_open_ = false;            // inside a gzip member, so the end of input would truncate it
  std::unique_ptr<Inflater> inflater_;  // null for plain input
};

// Reads bytes held by the caller, who keeps them alive while the source is in use (an HTTP body,
// a test's sample).
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override;

 private:
  std::string_view data_;
};

}  // namespace hikeshi::intake::feed
