#pragma once
// The data directory's triage rule file, DATA/triage.toml: written with sensible defaults by
// `hikeshi init`, and stored as a new rule set version at `init` and `serve` when it changed
// (core::TriageService::LoadFile says exactly when).

#include <filesystem>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/triage_service.hpp"

namespace hikeshi::app {

// DATA/triage.toml.
std::filesystem::path TriageFile(const std::filesystem::path& data_dir);

// Writes the default rule file unless one exists. Errors: kInternal when it cannot be written.
Result<void> WriteDefaultTriageRules(const std::filesystem::path& data_dir);

// Stores DATA/triage.toml as a new version when it differs (nothing when the file is absent) and
// says so on the log. Errors: kInvalidArgument naming the file, line, rule and key; kTooLarge;
// storage errors.
Result<core::RuleSetPut> LoadTriageRules(const core::TriageService& triage, const core::Principal& actor,
                                         const std::filesystem::path& data_dir);

}  // namespace hikeshi::app
