#pragma once
// Group commit over a Store: concurrent Write() calls are coalesced so that one write transaction
// (one commit, one flush of the log) holds several callers' changes. Each caller still returns
// only after the commit that holds its change, with its own result: when the shared transaction
// fails (one body returns an error, or a before-commit step or the commit fails), it is rolled
// back and every body of the group is run again alone, in a transaction of its own, so that one
// bad change never fails the others.
//
// No timer: whoever arrives while a group is committing waits and joins the next one, so a lone
// caller pays nothing and N concurrent callers share about one commit in N.
//
// Thread-safety: Write() may be called from any number of threads. Bodies run on whichever thread
// leads the group, one after another; a body may be run twice (shared, then alone) and must
// therefore reset whatever it fills in when it starts.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

class WriteGroup {
 public:
  // `store` must outlive this. At most `max_group` callers share a transaction.
  explicit WriteGroup(Store& store, std::size_t max_group = 64);
  WriteGroup(const WriteGroup&) = delete;
  WriteGroup& operator=(const WriteGroup&) = delete;

  // Runs `body` in a write transaction, shared or alone. `before_commit` (may be empty) runs after
  // the body and before the commit of the transaction that holds it: for what must be durable
  // before rows naming it are (blobs). Errors: those of `body`, of `before_commit`, and of
  // Store::Write; the same as if the caller had called Store::Write alone.
  Result<void> Write(const std::function<Result<void>(WriteTx&)>& body,
                     const std::function<Result<void>()>& before_commit = {});

 private:
  struct Member;
  void Commit(const std::vector<Member*>& group);

  Store& store_;
  const std::size_t max_group_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Member*> waiting_;
  bool leading_ = false;  // a group is being committed
};

}  // namespace hikeshi::core
