#include "checkpointer.hpp"

#include <utility>

#include <sqlite3.h>

namespace hikeshi::store::sqlite::detail {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::filesystem::path& path,
                                                          const SqliteOptions& options, Connection& writer, int pages) {
  HIKESHI_TRY(auto own, Connection::Open(path, options, ConnectionRole::kCheckpointer));
  return std::make_unique<Checkpointer>(Tag{}, std::move(own), writer, pages);
}

Checkpointer::Checkpointer(Tag, std::unique_ptr<Connection> own, Connection& writer, int pages)
    : own_(std::move(own)), writer_(writer), pages_(pages), thread_([this] { Run(); }) {
  sqlite3_wal_hook(writer_.Handle(), &Checkpointer::OnCommit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.Handle(), nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// On the writer's thread, after each commit, with the number of pages in the WAL: only a flag and
// a wake-up, and only once the WAL is large.
int Checkpointer::OnCommit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (pages < checkpointer->pages_) return SQLITE_OK;
  {
    std::lock_guard lock(checkpointer->mutex_);
    if (checkpointer->requested_) return SQLITE_OK;
    checkpointer->requested_ = true;
  }
  checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;  // a commit while this one runs asks for the next
    lock.unlock();
    // PASSIVE: copies every frame no reader still needs, waits for nobody. A busy result (another
    // process checkpointing) leaves the frames for the next request or for the next process.
    sqlite3_wal_checkpoint_v2(own_->Handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

}  // namespace hikeshi::store::sqlite::detail
