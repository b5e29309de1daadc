#pragma once
// The change feed's wake-up. Every change appends one entry to the audit journal, in seq order, so
// "what changed since seq N" is ListAudit(N). Live-update streams (GET /api/v1/stream) wait on a
// ChangeSignal for the journal to pass the last seq they sent, instead of polling the store.
// Whoever learns that entries were committed publishes the highest seq:
//   - SignallingStore, after each of this process's own write transactions commits;
//   - a backend's ChangeWatch, for commits by other processes (PostgreSQL: LISTEN hikeshi_changes,
//     to which every write transaction sends NOTIFY, delivered at its commit);
//   - JournalPoller, which reads the journal's end every interval: the fallback that bounds the
//     delay when a notification is missed (a lost LISTEN connection, a CLI writing to the same
//     SQLite file).
//
// Thread-safety: ChangeSignal, SignallingStore and JournalPoller may be used from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

class ChangeSignal {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  ChangeSignal() = default;
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;

  // Records that the journal holds committed entries up to `seq`, and wakes the waiters behind it.
  // A seq lower than one already published changes nothing. Publish only committed seqs: a waiter
  // told of an entry it cannot read yet waits for the next publication.
  void Publish(std::int64_t seq);
  // The highest seq published so far (0 before any).
  std::int64_t Latest() const;
  // Blocks until Latest() > after_seq, `deadline` passes or `stop` is requested; returns Latest().
  std::int64_t WaitForChange(std::int64_t after_seq, Deadline deadline, std::stop_token stop) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable_any published_;
  std::int64_t latest_ = 0;  // guarded by mutex_
};

// A backend's watch for commits made by other processes, publishing into the ChangeSignal it was
// opened with until it is destroyed. The PostgreSQL backend has one (LISTEN); a single SQLite node
// needs none, since all of its writes go through SignallingStore.
class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
};

// A Store that publishes the last journal seq of each write transaction once it has committed.
// Reads and writes are otherwise those of `inner`. Not copyable or movable.
class SignallingStore final : public Store {
 public:
  // `signal` must outlive this store.
  SignallingStore(std::unique_ptr<Store> inner, ChangeSignal& signal);
  SignallingStore(const SignallingStore&) = delete;
  SignallingStore& operator=(const SignallingStore&) = delete;

  Result<void> Write(const std::function<Result<void>(WriteTx&)>& body) override;
  Result<void> Read(const std::function<Result<void>(StoreReader&)>& body) override;

 private:
  std::unique_ptr<Store> inner_;
  ChangeSignal& signal_;
};

// The seq of the journal's last entry (0 when it is empty), found with about 2*log2(seq) one-row
// reads in one snapshot (the Store port has no "last entry" read). Errors: the store's.
[[nodiscard]] Result<std::int64_t> FindJournalEnd(Store& store);

// Reads the end of the journal every `interval` and publishes it. Its thread starts in the
// constructor and stops (promptly) in the destructor; a read that fails is retried at the next
// interval. `store` and `signal` must outlive the poller.
class JournalPoller {
 public:
  JournalPoller(Store& store, ChangeSignal& signal, std::chrono::milliseconds interval);
  ~JournalPoller();
  JournalPoller(const JournalPoller&) = delete;
  JournalPoller& operator=(const JournalPoller&) = delete;

 private:
  void Run(std::stop_token stop);

  Store& store_;
  ChangeSignal& signal_;
  const std::chrono::milliseconds interval_;
  std::jthread thread_;  // last: it starts after every member it uses exists
};

}  // namespace hikeshi::core
