#include "hikeshi/core/change_signal.hpp"

#include <utility>
#include <vector>

namespace hikeshi::core {

void ChangeSignal::Publish(std::int64_t seq) {
  {
    std::lock_guard lock(mutex_);
    if (seq <= latest_) return;
    latest_ = seq;
  }
  published_.notify_all();
}

std::int64_t ChangeSignal::Latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::int64_t ChangeSignal::WaitForChange(std::int64_t after_seq, Deadline deadline, std::stop_token stop) const {
  std::unique_lock lock(mutex_);
  published_.wait_until(lock, stop, deadline, [&] { return latest_ > after_seq; });
  return latest_;
}

SignallingStore::SignallingStore(std::unique_ptr<Store> inner, ChangeSignal& signal)
    : inner_(std::move(inner)), signal_(signal) {}

Result<void> SignallingStore::Write(const std::function<Result<void>(WriteTx&)>& body) {
  std::int64_t seq = 0;
  HIKESHI_CHECK(inner_->Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(body(tx));
    seq = tx.last_audit_seq();
    return {};
  }));
  // Only now: before the commit, a woken stream could not read the entry yet.
  if (seq > 0) signal_.Publish(seq);
  return {};
}

Result<void> SignallingStore::Read(const std::function<Result<void>(StoreReader&)>& body) { return inner_->Read(body); }

Result<std::int64_t> FindJournalEnd(Store& store) {
  std::int64_t end = 0;
  HIKESHI_CHECK(store.Read([&](StoreReader& reader) -> Result<void> {
    // Seqs have no gaps, so ListAudit(after, 1) is empty exactly when after >= end.
    const auto beyond = [&](std::int64_t after) -> Result<bool> {
      HIKESHI_TRY(const auto entries, reader.ListAudit(after, 1));
      return entries.empty();
    };
    HIKESHI_TRY(const bool empty, beyond(0));
    if (empty) return {};
    std::int64_t low = 0;   // end > low
    std::int64_t high = 1;  // end <= high once `beyond(high)`
    for (;;) {
      HIKESHI_TRY(const bool found, beyond(high));
      if (found) break;
      low = high;
      high *= 2;
    }
    while (high - low > 1) {
      const std::int64_t middle = low + (high - low) / 2;
      HIKESHI_TRY(const bool found, beyond(middle));
      if (found) {
        high = middle;
      } else {
        low = middle;
      }
    }
    end = high;
    return {};
  }));
  return end;
}

JournalPoller::JournalPoller(Store& store, ChangeSignal& signal, std::chrono::milliseconds interval)
    : store_(store), signal_(signal), interval_(interval), thread_([this](std::stop_token stop) { Run(stop); }) {}

JournalPoller::~JournalPoller() = default;  // the jthread requests stop and joins

void JournalPoller::Run(std::stop_token stop) {
  constexpr int kPage = 256;
  std::mutex mutex;
  std::condition_variable_any never_notified;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex);
      never_notified.wait_for(lock, stop, interval_, [] { return false; });
    }
    if (stop.stop_requested()) break;
    std::int64_t known = signal_.Latest();
    for (;;) {
      std::vector<AuditEntry> entries;
      const auto read = store_.Read([&](StoreReader& reader) -> Result<void> {
        HIKESHI_TRY(entries, reader.ListAudit(known, kPage));
        return {};
      });
      if (!read || entries.empty()) break;
      known = entries.back().seq;
      signal_.Publish(known);
      if (static_cast<int>(entries.size()) < kPage) break;
    }
  }
}

}  // namespace hikeshi::core
