#pragma once
// Live updates across nodes sharing one PostgreSQL database. Every write transaction of the
// PostgreSQL store that appends to the audit journal sends NOTIFY hikeshi_changes with the seq of
// its last entry; PostgreSQL delivers it to every listening session at COMMIT (and drops it on
// ROLLBACK). WatchPostgresChanges keeps one connection LISTENing and publishes each seq it hears
// into a core::ChangeSignal, which wakes that node's live streams. After (re)connecting it also
// publishes the journal's end, so what was committed while it was away is not missed; a node
// should still run a core::JournalPoller as the fallback for a connection that dies silently.
//
// Thread-safety: the watch runs on a thread of its own; destroy it from any one thread.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/change_signal.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

namespace hikeshi::store::postgres {

// The channel the store notifies and the watch listens on.
inline constexpr std::string_view kChangeChannel = "hikeshi_changes";

struct ChangeWatchOptions {
  PostgresOptions connection;
  // Wait between attempts to open the LISTEN connection again after losing it.
  std::chrono::milliseconds reconnect_delay{1000};
  // Told when the connection is lost or cannot be opened again (the message names the server,
  // never the password). May be empty.
  std::function<void(std::string_view)> on_trouble;
};

// Opens the LISTEN connection, publishes the journal's end, and starts the watch. It runs until
// destroyed, reconnecting as needed. `signal` must outlive it.
// Errors: those of OpenPostgresStore's connection (kInvalidArgument, kUnavailable), for the first
// connection only.
[[nodiscard]] Result<std::unique_ptr<core::ChangeWatch>> WatchPostgresChanges(std::string conninfo,
                                                                              core::ChangeSignal& signal,
                                                                              ChangeWatchOptions options = {});

}  // namespace hikeshi::store::postgres
