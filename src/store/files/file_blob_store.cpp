#include "hikeshi/store/files/file_blob_store.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hikeshi/common/crypto.hpp"

namespace hikeshi::store::files {
namespace {

namespace fs = std::filesystem;

Error FromErrno(int err, const std::string& what) {
  const std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Error::ResourceExhausted(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return Error::PermissionDenied(message);
    case ENOENT:
      return Error::NotFound(message);
    case EINTR:
    case EAGAIN:
    case EIO:
      return Error::Unavailable(message);
    default:
      return Error::Internal(message);
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<void> WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(FromErrno(errno, "writing " + what));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<std::string> ReadAll(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Fail(FromErrno(errno, "opening " + path.string()));
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(FromErrno(errno, "reading " + path.string()));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> SyncDirectory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Fail(FromErrno(errno, "opening " + dir.string()));
  if (::fsync(fd.get()) != 0) return Fail(FromErrno(errno, "syncing " + dir.string()));
  return {};
}

// Creates `dir` (0700) when it is missing, and then syncs its parent: without that, a crash could
// lose the new directory's entry, and with it every blob already synced inside it. Returns whether
// it created the directory.
Result<bool> MakeDirectory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) return Fail(FromErrno(errno, "creating " + dir.string()));
    return false;
  }
  fs::path parent = (dir.has_filename() ? dir : dir.parent_path()).parent_path();
  HIKESHI_CHECK(SyncDirectory(parent.empty() ? fs::path(".") : parent));
  return true;
}

class FileBlobStore final : public core::BlobStore {
 public:
  FileBlobStore(fs::path dir, std::string key, bool sync_per_group)
      : dir_(std::move(dir)), key_(std::move(key)), sync_per_group_(sync_per_group) {}

  Result<std::string> Put(std::string_view content) override {
    HIKESHI_TRY(auto written, Write(content, /*sync=*/true));
    return std::move(written.sha256);
  }

  // The sealed file is written and renamed into place without waiting for the disk; SyncPending
  // makes it durable (syncfs(2) of the blob directory's file system: one flush for every blob
  // written before it, instead of a file and a directory flush each).
  Result<Pending> PutPending(std::string_view content) override { return Write(content, !sync_per_group_); }

  Result<void> SyncPending(std::uint64_t ticket) override {
    if (ticket == 0) return {};
    std::lock_guard lock(sync_mutex_);
    if (synced_ticket_ >= ticket) return {};  // a sync that began after that write is done
    // Every write stamped <= `target` had finished (renamed) before this load, so the syncfs
    // below, which starts after it, covers it.
    const std::uint64_t target = last_ticket_.load();
    if (!dir_fd_) {
      const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return Fail(FromErrno(errno, "opening " + dir_.string()));
      dir_fd_ = std::make_unique<Fd>(fd);
    }
    if (::syncfs(dir_fd_->get()) != 0) return Fail(FromErrno(errno, "syncing the file system of " + dir_.string()));
    synced_ticket_ = target;
    return {};
  }

  Result<std::string> Get(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256))
      return Fail(Error::InvalidArgument("not a SHA-256 blob name: " + std::string(sha256)));
    const std::string sha(sha256);
    auto sealed = ReadAll(dir_ / sha.substr(0, 2) / sha);
    if (!sealed) {
      if (sealed.error().code() == ErrorCode::kNotFound) return Fail(Error::NotFound("blob " + sha));
      return Fail(sealed.error());
    }
    return common::OpenBlob(key_, *sealed, sha);
  }

  Result<bool> Contains(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256)) return false;
    const std::string sha(sha256);
    return ::access((dir_ / sha.substr(0, 2) / sha).c_str(), F_OK) == 0;
  }

 private:
  // Whether the blob already stored under `path` is whole: a blob renamed into place by
  // PutPending and never synced may be damaged after a crash, and must then be written again
  // rather than skipped. Only duplicates pay this read.
  bool ExistingIsWhole(const fs::path& path, const std::string& sha) {
    auto sealed = ReadAll(path);
    if (!sealed) return false;
    return common::OpenBlob(key_, *sealed, sha).has_value();
  }

  Result<Pending> Write(std::string_view content, bool sync) {
    std::string sha = common::Sha256Hex(content);
    const fs::path shard = dir_ / sha.substr(0, 2);
    const fs::path path = shard / sha;
    if (::access(path.c_str(), F_OK) == 0 && ExistingIsWhole(path, sha)) {
      // It may come from a PutPending not yet synced: a fresh stamp, taken after it was seen,
      // asks for a sync that starts later and so covers it.
      std::uint64_t ticket = ++last_ticket_;
      if (sync) {
        HIKESHI_CHECK(SyncPending(ticket));
        ticket = 0;
      }
      return Pending{std::move(sha), ticket};
    }
    HIKESHI_CHECK(MakeDirectory(shard));
    HIKESHI_TRY(const std::string sealed, common::Seal(key_, content, sha));
    const fs::path temp = shard / ("." + sha + "." + common::RandomToken(6) + ".tmp");
    {
      Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (fd.get() < 0) return Fail(FromErrno(errno, "creating blob " + temp.string()));
      auto written = WriteAll(fd.get(), sealed, "blob " + temp.string());
      if (written && sync && ::fsync(fd.get()) != 0) {
        written = Fail(FromErrno(errno, "syncing blob " + temp.string()));
      }
      if (!written) {
        ::unlink(temp.c_str());
        return Fail(written.error());
      }
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return Fail(FromErrno(err, "storing blob " + path.string()));
    }
    if (sync) {
      HIKESHI_CHECK(SyncDirectory(shard));
      return Pending{std::move(sha), 0};
    }
    return Pending{std::move(sha), ++last_ticket_};
  }

  fs::path dir_;
  std::string key_;
  const bool sync_per_group_;
  std::atomic<std::uint64_t> last_ticket_{0};  // stamped on each unsynced write once renamed
  std::mutex sync_mutex_;
  std::uint64_t synced_ticket_ = 0;  // every write stamped <= this is durable
  std::unique_ptr<Fd> dir_fd_;
};

}  // namespace

Result<std::string> LoadBlobKey(const fs::path& key_file, bool create) {
  auto existing = ReadAll(key_file);
  if (existing) {
    if (existing->size() != common::kSecretKeyBytes) {
      return Fail(Error::DataLoss("blob key file " + key_file.string() + " does not hold a key"));
    }
    return std::move(*existing);
  }
  if (existing.error().code() != ErrorCode::kNotFound) return Fail(existing.error());
  if (!create) {
    return Fail(Error::NotFound("blob key file " + key_file.string() +
                                " (restore it from your backup: without it the stored mail cannot be read)"));
  }
  if (key_file.has_parent_path()) {
    HIKESHI_CHECK(MakeDirectory(key_file.parent_path()));
  }
  const std::string key = common::NewSecretKey();
  Fd fd(::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return LoadBlobKey(key_file, false);  // another process made it first
    return Fail(FromErrno(errno, "creating " + key_file.string()));
  }
  HIKESHI_CHECK(WriteAll(fd.get(), key, key_file.string()));
  if (::fsync(fd.get()) != 0) return Fail(FromErrno(errno, "syncing " + key_file.string()));
  if (key_file.has_parent_path()) {
    HIKESHI_CHECK(SyncDirectory(key_file.parent_path()));
  }
  return key;
}

Result<std::unique_ptr<core::BlobStore>> OpenFileBlobStore(const fs::path& dir, const fs::path& key_file,
                                                           bool create_key, bool sync_per_group) {
  HIKESHI_TRY(const bool created, MakeDirectory(dir));
  if (created) {
    // A new store gets its 256 shard directories at once, made durable with one sync, so that no
    // Put depends on a shard another thread or process has created but not yet synced.
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char high : std::string_view(kHex, 16)) {
      for (const char low : std::string_view(kHex, 16)) {
        const fs::path shard = dir / std::string{high, low};
        if (::mkdir(shard.c_str(), 0700) != 0 && errno != EEXIST) {
          return Fail(FromErrno(errno, "creating " + shard.string()));
        }
      }
    }
    HIKESHI_CHECK(SyncDirectory(dir));
  }
  HIKESHI_TRY(std::string key, LoadBlobKey(key_file, create_key));
  return std::make_unique<FileBlobStore>(dir, std::move(key), sync_per_group);
}

}  // namespace hikeshi::store::files
