#include "hikeshi/intake/feed/sources.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hikeshi::intake::feed {

namespace {

Result<std::size_t> ReadFd(int fd, char* buffer, std::size_t size) {
  for (;;) {
    const ssize_t read = ::read(fd, buffer, size);
    if (read >= 0) return static_cast<std::size_t>(read);
    if (errno == EINTR) continue;
    return Fail(Error::Unavailable(std::string("reading the feed failed: ") + std::strerror(errno)));
  }
}

// True when a read would not wait, or poll(2) itself fails (the read then reports the error).
bool PollReady(int fd, std::chrono::milliseconds timeout) {
  pollfd watched{.fd = fd, .events = POLLIN, .revents = 0};
  const int ready = ::poll(&watched, 1, static_cast<int>(std::clamp<std::int64_t>(timeout.count(), 0, 1 << 30)));
  return ready != 0;
}

}  // namespace

Result<std::size_t> FdSource::Read(char* buffer, std::size_t size) { return ReadFd(fd_, buffer, size); }

bool FdSource::WaitReady(std::chrono::milliseconds timeout) { return PollReady(fd_, timeout); }

Result<FileSource> FileSource::Open(const std::filesystem::path& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int error = errno;
    const std::string what = "feed file '" + path.string() + "'";
    if (error == ENOENT || error == ENOTDIR) return Fail(Error::NotFound(what));
    if (error == EACCES || error == EPERM)
      return Fail(Error::PermissionDenied("cannot open " + what + ": " + std::strerror(error)));
    return Fail(Error::Unavailable("cannot open " + what + ": " + std::strerror(error)));
  }
  FileSource source(fd);  // owns fd from here on
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    return Fail(Error::InvalidArgument("'" + path.string() + "' is a directory, not a feed file"));
  }
  return source;
}

FileSource::FileSource(FileSource&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileSource& FileSource::operator=(FileSource&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> FileSource::Read(char* buffer, std::size_t size) { return ReadFd(fd_, buffer, size); }

bool FileSource::WaitReady(std::chrono::milliseconds timeout) { return PollReady(fd_, timeout); }

Result<std::size_t> StringSource::Read(char* buffer, std::size_t size) {
  const std::size_t count = std::min(size, data_.size());
  std::memcpy(buffer, data_.data(), count);
  data_.remove_prefix(count);
  return count;
}

}  // namespace hikeshi::intake::feed
