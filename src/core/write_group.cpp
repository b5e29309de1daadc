#include "hikeshi/core/write_group.hpp"

#include <algorithm>

namespace hikeshi::core {

struct WriteGroup::Member {
  const std::function<Result<void>(WriteTx&)>* body;
  const std::function<Result<void>()>* before_commit;
  Result<void> result;
  bool done = false;
};

WriteGroup::WriteGroup(Store& store, std::size_t max_group)
    : store_(store), max_group_(std::max<std::size_t>(1, max_group)) {}

Result<void> WriteGroup::Write(const std::function<Result<void>(WriteTx&)>& body,
                               const std::function<Result<void>()>& before_commit) {
  Member me{&body, &before_commit, {}, false};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&me);
  changed_.wait(lock, [&] { return me.done || !leading_; });
  if (me.done) return me.result;
  // This caller leads the next group: itself, then whoever waits longest, up to max_group_.
  leading_ = true;
  std::erase(waiting_, &me);
  const auto others = static_cast<std::ptrdiff_t>(std::min(waiting_.size(), max_group_ - 1));
  std::vector<Member*> group{&me};
  group.insert(group.end(), waiting_.begin(), waiting_.begin() + others);
  waiting_.erase(waiting_.begin(), waiting_.begin() + others);
  lock.unlock();
  try {
    Commit(group);
  } catch (...) {
    // Store::Write turns a body's exception into an error; this is our own bookkeeping failing. The
    // group must still be released, or every later writer would wait forever.
    for (Member* m : group) m->result = Fail(Error::Internal("group commit failed unexpectedly"));
  }
  lock.lock();
  for (Member* m : group) m->done = true;
  leading_ = false;
  lock.unlock();
  changed_.notify_all();
  return me.result;
}

void WriteGroup::Commit(const std::vector<Member*>& group) {
  const auto alone = [&](Member& m) {
    m.result = store_.Write([&](WriteTx& tx) -> Result<void> {
      HIKESHI_CHECK((*m.body)(tx));
      if (*m.before_commit) {
        HIKESHI_CHECK((*m.before_commit)());
      }
      return {};
    });
  };
  if (group.size() == 1) {
    alone(*group.front());
    return;
  }
  const Result<void> shared = store_.Write([&](WriteTx& tx) -> Result<void> {
    for (Member* m : group) {
      HIKESHI_CHECK((*m->body)(tx));
    }
    for (Member* m : group) {
      if (*m->before_commit) {
        HIKESHI_CHECK((*m->before_commit)());
      }
    }
    return {};
  });
  if (shared) {
    for (Member* m : group) m->result = {};
    return;
  }
  // Rolled back: which change failed is not known (nor whether a failed commit was caused by one),
  // so each is tried again alone and gets its own verdict.
  for (Member* m : group) alone(*m);
}

}  // namespace hikeshi::core
