#include "hikeshi/routing/router.hpp"

#include <utility>

namespace hikeshi::routing {

Router::Router(RoutingTable initial) : current_(std::make_shared<const RoutingTable>(std::move(initial))) {}

std::shared_ptr<const RoutingTable> Router::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void Router::Publish(RoutingTable table) {
  std::shared_ptr<const RoutingTable> replacement = std::make_shared<const RoutingTable>(std::move(table));
  {
    std::lock_guard lock(mutex_);
    current_.swap(replacement);
  }
  // `replacement` now holds the old table. If no reader still holds it, it is freed here, after the
  // lock is released, so that readers never wait while a large table is torn down.
}

Result<void> Router::Rebuild(std::span<const core::Constituency> constituencies) {
  return Rebuild(constituencies, Current()->options());
}

Result<void> Router::Rebuild(std::span<const core::Constituency> constituencies, RoutingOptions options) {
  HIKESHI_TRY(RoutingTable table, RoutingTable::Build(constituencies, options));
  Publish(std::move(table));
  return {};
}

std::optional<Match> Router::Lookup(const core::Observable& observable) const { return Current()->Lookup(observable); }

Decision Router::Route(const core::Observable& observable) const { return Current()->Route(observable); }

Decision Router::Route(std::span<const core::Observable> observables) const { return Current()->Route(observables); }

}  // namespace hikeshi::routing
