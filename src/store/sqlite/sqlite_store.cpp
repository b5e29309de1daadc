#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "detail/checkpointer.hpp"
#include "detail/connection.hpp"
#include "detail/schema.hpp"
#include "detail/transactions.hpp"

namespace hikeshi::store::sqlite {
namespace {

using detail::Connection;
using detail::ConnectionRole;

// Runs a callback written by someone else: whatever it throws becomes an error value, so that the
// transaction is still ended and nothing escapes the Store boundary.
template <typename Body, typename Arg>
Result<void> RunCallback(const Body& body, Arg& arg) {
  try {
    return body(arg);
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("store callback threw: {}", e.what())));
  } catch (...) {
    return Fail(Error::Internal("store callback threw a non-standard exception"));
  }
}

class SqliteStore final : public core::Store {
 public:
  SqliteStore(std::filesystem::path path, const SqliteOptions& options, std::unique_ptr<Connection> writer,
              std::unique_ptr<detail::Checkpointer> checkpointer)
      : path_(std::move(path)),
        options_(options),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {
    idle_readers_.reserve(static_cast<std::size_t>(options_.max_readers));
  }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<void> Write(const std::function<Result<void>(core::WriteTx&)>& body) override {
    std::unique_lock lock(writer_mutex_, std::defer_lock);
    // A Write inside a Write on the same thread would wait for itself forever.
    if (writer_thread_ == std::this_thread::get_id()) {
      return Fail(Error::Internal("Store::Write called inside a Write callback"));
    }
    lock.lock();
    writer_thread_ = std::this_thread::get_id();
    Result<void> result;
    try {
      result = WriteLocked(body);
    } catch (const std::bad_alloc&) {
      // Our own bookkeeping ran out of memory (the callback's exceptions are caught inside).
      writer_->DeferText(false);
      writer_->RollbackQuietly();
      result = Fail(Error::Internal("out of memory in Store::Write"));
    }
    writer_thread_ = std::thread::id();
    return result;
  }

  Result<void> Read(const std::function<Result<void>(core::StoreReader&)>& body) override {
    try {
      HIKESHI_TRY(ReaderLease lease, AcquireReader());
      return ReadOn(lease.Get(), body);
    } catch (const std::bad_alloc&) {
      return Fail(Error::Internal("out of memory in Store::Read"));
    }
  }

 private:
  Result<void> WriteLocked(const std::function<Result<void>(core::WriteTx&)>& body) {
    // IMMEDIATE takes the write lock now, so that a busy file is reported before any work is done
    // and a transaction never fails half-way for want of an upgrade.
    HIKESHI_CHECK(writer_->Execute("BEGIN IMMEDIATE"));
    writer_->KnownObservables().clear();  // what a rolled-back transaction learnt is void
    writer_->DeferText(true);              // full-text rows are written once, before COMMIT
    Result<void> result = [&]() -> Result<void> {
      detail::SqliteWriteTx tx(*writer_);
      HIKESHI_CHECK(RunCallback(body, static_cast<core::WriteTx&>(tx)));
      HIKESHI_CHECK(tx.FlushEventCounts());
      return detail::FlushDeferredText(*writer_);
    }();
    writer_->DeferText(false);  // drops whatever a failed transaction left queued
    if (result) result = writer_->Execute("COMMIT");
    if (!result) writer_->RollbackQuietly();
    return result;
  }

  Result<void> ReadOn(Connection& connection, const std::function<Result<void>(core::StoreReader&)>& body) {
    // A deferred transaction: the snapshot is taken at the first read and held to the end, so every
    // query in `body` sees the same committed state.
    HIKESHI_CHECK(connection.Execute("BEGIN"));
    Result<void> result = [&]() -> Result<void> {
      detail::SqliteReader reader(connection);
      return RunCallback(body, static_cast<core::StoreReader&>(reader));
    }();
    if (result) result = connection.Execute("COMMIT");
    if (!result) connection.RollbackQuietly();
    return result;
  }

  // A reader connection lent out of the pool; it goes back however the Read ends.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore& store, std::unique_ptr<Connection> connection)
        : store_(&store), connection_(std::move(connection)) {}
    ReaderLease(ReaderLease&& other) noexcept : store_(other.store_), connection_(std::move(other.connection_)) {}
    ReaderLease& operator=(ReaderLease&&) = delete;
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ~ReaderLease() {
      if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
    }
    Connection& Get() { return *connection_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<Connection> connection_;
  };

  Result<ReaderLease> AcquireReader() {
    std::unique_lock lock(readers_mutex_);
    // Bounded wait: a Read nested in a Read with every connection taken must fail, not hang.
    const bool available = reader_released_.wait_for(
        lock, options_.busy_timeout, [&] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!available) return Fail(Error::Unavailable("every reader connection is busy"));
    if (!idle_readers_.empty()) {
      auto connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(*this, std::move(connection));
    }
    ++open_readers_;
    lock.unlock();
    auto opened = Connection::Open(path_, options_, ConnectionRole::kReader);
    if (!opened) {
      lock.lock();
      --open_readers_;
      reader_released_.notify_one();
      return Fail(opened.error());
    }
    return ReaderLease(*this, std::move(*opened));
  }

  // noexcept in effect: idle_readers_ has room for every connection (reserved at construction).
  void ReleaseReader(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(readers_mutex_);
      idle_readers_.push_back(std::move(connection));
    }
    reader_released_.notify_one();
  }

  const std::filesystem::path path_;
  const SqliteOptions options_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;
  // After writer_, so that it stops (and unhooks itself from the writer) first. Null when
  // wal_checkpoint_pages is 0: then the writer checkpoints as SQLite does by default.
  std::unique_ptr<detail::Checkpointer> checkpointer_;
  // The thread inside Write(), read without the lock only to compare with the caller's own id.
  std::atomic<std::thread::id> writer_thread_{};

  std::mutex readers_mutex_;
  std::condition_variable reader_released_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  int open_readers_ = 0;  // idle plus lent out
};

}  // namespace

int LatestSchemaVersion() { return detail::Migrations().back().version; }

void ConfigureSqliteLibrary() { detail::ConfigureLibrary(); }

Result<std::unique_ptr<core::Store>> OpenSqliteStore(const std::filesystem::path& db_file,
                                                     const SqliteOptions& options) {
  if (options.max_readers < 1 || options.max_readers > 64) {
    return Fail(Error::InvalidArgument("max_readers must be between 1 and 64", "/max_readers"));
  }
  if (options.wal_checkpoint_pages < 0) {
    return Fail(Error::InvalidArgument("wal_checkpoint_pages must not be negative", "/wal_checkpoint_pages"));
  }
  if (options.busy_timeout.count() < 0 || options.busy_timeout > std::chrono::hours(1)) {
    return Fail(Error::InvalidArgument("busy_timeout must be between 0 and 1 hour", "/busy_timeout"));
  }
  try {
    HIKESHI_TRY(auto writer, Connection::Open(db_file, options, ConnectionRole::kWriter));
    HIKESHI_CHECK(detail::Migrate(*writer));
    std::unique_ptr<detail::Checkpointer> checkpointer;
    if (options.wal_checkpoint_pages > 0) {
      HIKESHI_TRY(checkpointer, detail::Checkpointer::Start(db_file, options, *writer, options.wal_checkpoint_pages));
    }
    return std::make_unique<SqliteStore>(db_file, options, std::move(writer), std::move(checkpointer));
  } catch (const std::bad_alloc&) {
    return Fail(Error::Internal("out of memory opening the store"));
  }
}

}  // namespace hikeshi::store::sqlite
