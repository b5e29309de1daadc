#pragma once
// `hikeshi rules test --rules FILE [--limit N]`: replays stored reports through a triage rule file
// and prints what would change. Reads only; nothing is written.

#include <filesystem>
#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/triage.hpp"

namespace CLI {
class App;
}

namespace hikeshi::app {

struct RulesTestOptions {
  std::string rules_file;
  int limit = 0;  // newest N reports; 0 replays all of them
  bool explain = false;
};

// Adds `rules` and its `test` subcommand to `app`; returns `rules test` (for --data and --store).
CLI::App* AddRulesCommands(CLI::App& app, RulesTestOptions& options);

// Reads and checks a rule file. Errors: kNotFound (no such file), kTooLarge, kInvalidArgument (the
// message names the file, the line and the key).
Result<core::RuleSet> LoadRuleFile(const std::filesystem::path& path);

// Replays the newest reports of `store` through `rules`, printing a table and a summary to stdout.
// Errors: those of the store's reads.
Result<int> ReplayReports(core::Store& store, const core::RuleSet& rules, const RulesTestOptions& options);

// The whole command: the rule file is checked before the store is opened (exit 65 for an invalid
// one). `store_option` is --store (empty: $HIKESHI_STORE, then SQLite in `data_dir`).
Result<int> RulesTest(const std::filesystem::path& data_dir, const std::string& store_option,
                      const RulesTestOptions& options);

}  // namespace hikeshi::app
