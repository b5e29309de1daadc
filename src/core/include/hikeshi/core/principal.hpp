#pragma once
// Who is asking: the authenticated user and the constituencies they may see. Value type.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/model.hpp"
#include "hikeshi/core/tlp.hpp"

namespace hikeshi::core {

// The constituencies a query may touch, and the most restricted TLP label it may return. Every
// store read takes one.
struct Scope {
  bool all = false;
  std::vector<std::int64_t> constituency_ids;
  // Incidents and reports labelled above this are invisible (nullopt: no ceiling). Constituents
  // get TLP:AMBER+STRICT, so that TLP:RED material, meant for its named recipients only, never
  // reaches them.
  std::optional<Tlp> max_tlp;

  static Scope All() { return {true, {}, std::nullopt}; }
  // An object with no constituency (the coordination queue) is visible only with all.
  bool Allows(std::optional<std::int64_t> constituency_id) const;
  // An incident or report: its constituency is allowed and its label is at most max_tlp.
  bool Allows(std::optional<std::int64_t> constituency_id, Tlp tlp) const;
  bool AllowsTlp(Tlp tlp) const { return !max_tlp || tlp <= *max_tlp; }
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
