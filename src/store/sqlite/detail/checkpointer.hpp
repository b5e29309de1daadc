#pragma once
// Checkpoints the WAL on a thread of its own, so that the writer never does.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, on the writing
// thread: during a feed run the writer stops for the time it takes to copy 80 MiB of WAL into the
// database file and sync it, while the parsing thread waits for it. Here the writer's WAL hook only
// wakes a thread with its own connection, which runs a PASSIVE checkpoint: it copies what it can
// without blocking the writer or any reader, and the writer starts the WAL over at its next
// transaction once everything has been copied. Durability is unchanged: each COMMIT still syncs
// the WAL itself.

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "hikeshi/common/error.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "connection.hpp"

namespace hikeshi::store::sqlite::detail {

class Checkpointer {
 public:
  // Opens a connection of its own to `path`, starts the thread and installs the WAL hook on
  // `writer` (replacing SQLite's automatic checkpoint): a checkpoint starts once the WAL holds
  // `pages` pages. `writer` must outlive the Checkpointer.
  [[nodiscard]] static Result<std::unique_ptr<Checkpointer>> Start(const std::filesystem::path& path,
                                                                   const SqliteOptions& options, Connection& writer,
                                                                   int pages);
  // Removes the hook and stops the thread (after the checkpoint it may be running).
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  struct Tag {};
  Checkpointer(Tag, std::unique_ptr<Connection> own, Connection& writer, int pages);

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Run();

  std::unique_ptr<Connection> own_;
  Connection& writer_;
  const int pages_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace hikeshi::store::sqlite::detail
