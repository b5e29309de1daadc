#pragma once
// Router: the RoutingTable in force, replaced whole when the constituencies change.
// Thread-safe: any number of threads may look up while another publishes a new table. A lookup
// sees exactly one table, never a mix of the old and the new, and never waits for a table to be
// built: building happens before the swap, outside any lock.

#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/observable.hpp"
#include "hikeshi/routing/routing_table.hpp"

namespace hikeshi::routing {

class Router {
 public:
  // Starts with `initial` in force; by default an empty table, which routes everything by the
  // default RoutingOptions (to the coordination queue).
  explicit Router(RoutingTable initial = RoutingTable());

  // Not copyable or movable: threads share one Router by reference.
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The table in force now. For a batch of lookups, take it once and look up in it: every answer
  // then comes from the same table, and the batch pays for one lock instead of one per lookup. The
  // table stays valid for as long as the caller holds it, even after a newer one is published.
  std::shared_ptr<const RoutingTable> Current() const;

  // Puts `table` in force. Lookups already running finish on the table they started with. Publish
  // and Rebuild from one thread at a time (or serialise them): when two race, the last one wins.
  void Publish(RoutingTable table);

  // Builds a table from `constituencies` (read only during the call) and publishes it. The first
  // form keeps the options of the table in force. Errors: as RoutingTable::Build, in which case the
  // table in force stays.
  [[nodiscard]] Result<void> Rebuild(std::span<const core::Constituency> constituencies);
  [[nodiscard]] Result<void> Rebuild(std::span<const core::Constituency> constituencies, RoutingOptions options);

  // RoutingTable's lookups, on the table in force at the call.
  std::optional<Match> Lookup(const core::Observable& observable) const;
  Decision Route(const core::Observable& observable) const;
  Decision Route(std::span<const core::Observable> observables) const;

 private:
  mutable std::mutex mutex_;
  // shared_ptr because a reader must keep the table it loaded alive after a writer has replaced
  // it; the last holder frees it. Guarded by a mutex rather than std::atomic<std::shared_ptr>:
  // libstdc++ 12 has the latter, but it is not lock-free either (it spins on a lock bit), and its
  // load() releases that lock with a relaxed store, which ThreadSanitizer reports as a data race
  // (google/sanitizers#1558), so the swap could not be checked under TSan. The mutex guards only a
  // pointer copy or swap; the old table is freed after it is released.
  std::shared_ptr<const RoutingTable> current_;
};

}  // namespace hikeshi::routing
