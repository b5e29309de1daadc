#pragma once
// `audit verify`: proves the journal is intact (every hash chains) and that the stored data is
// exactly what the journal says it became. Thread-safe; reads only.

#include <cstdint>
#include <optional>
#include <string>

#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct AuditVerdict {
  std::int64_t entries_checked = 0;
  std::int64_t objects_checked = 0;
  // Set when something is wrong: the first bad journal entry (0 when the problem is an object
  // that no entry records) and what is wrong with it.
  std::optional<std::int64_t> first_bad_seq;
  std::string problem;
  bool ok() const { return problem.empty(); }
};

// Errors: only storage failures; a broken journal is a verdict, not an error.
[[nodiscard]] Result<AuditVerdict> VerifyAudit(Store& store);

}  // namespace hikeshi::core
