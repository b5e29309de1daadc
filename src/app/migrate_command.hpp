#pragma once
// `hikeshi migrate --from DIR --to postgresql://...`: copies a SQLite store (DIR/hikeshi.db with
// its small blobs, and the larger blobs in DIR/blobs) into an empty PostgreSQL database, with everything in it: every table's rows
// with their ids, the audit journal entry by entry (so it still verifies), counters, events, mail
// and the blobs. Interrupted, it can be run again: it resumes where it stopped, copying nothing
// twice. Progress goes to stderr, a summary and the copy's audit verification to stdout.

#include <string>

#include "hikeshi/common/error.hpp"

namespace CLI {
class App;
}

namespace hikeshi::app {

struct MigrateOptions {
  std::string from;  // the SQLite data directory
  std::string to;    // a postgres:// or postgresql:// URL (shown only redacted)
  int batch_rows = 1000;
  bool quiet = false;
};

// Adds `migrate` to `app`.
CLI::App* AddMigrateCommand(CLI::App& app, MigrateOptions& options);

// Errors: kInvalidArgument (field "--to") for a target that is no PostgreSQL URL; kNotFound when
// DIR holds no store; kFailedPrecondition when the target already holds other data; kDataLoss when
// a blob fails its check; those of the stores (kUnavailable: try again, it resumes).
Result<int> Migrate(const MigrateOptions& options);

}  // namespace hikeshi::app
