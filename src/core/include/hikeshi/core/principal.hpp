#pragma once
// Who is asking: the authenticated user and the constituencies they may see. Value type.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/model.hpp"

namespace hikeshi::core {

// The constituencies a query may touch. Every store read takes one.
struct Scope {
  bool all = false;
  std::vector<std::int64_t> constituency_ids;

  static Scope All() { return {true, {}}; }
  // An object with no constituency (the coordination queue) is visible only with All().
  bool Allows(std::optional<std::int64_t> constituency_id) const;
};

struct Principal {
  std::int64_t user_id = 0;  // 0 for the CLI acting locally
  std::string username;      // recorded as the audit actor
  Role role = Role::kViewer;
  Scope scope;

  static Principal ForUser(const User& user);
  // The local operator running a CLI command on the data directory: admin over everything.
  static Principal LocalOperator();
};

}  // namespace hikeshi::core
