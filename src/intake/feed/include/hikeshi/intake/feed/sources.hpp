#pragma once
// ByteSources over the places a feed comes from: an open file descriptor (stdin), a file by path,
// or bytes already in memory. Each is used from one thread at a time.

#include <cstddef>
#include <filesystem>
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

 private:
  explicit FileSource(int fd) : fd_(fd) {}
  int fd_ = -1;  // owned; -1 once moved from
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
