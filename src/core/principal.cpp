#include "hikeshi/core/principal.hpp"

#include <algorithm>

namespace hikeshi::core {

bool Scope::Allows(std::optional<std::int64_t> constituency_id) const {
  if (all) return true;
  if (!constituency_id) return false;
  return std::find(constituency_ids.begin(), constituency_ids.end(), *constituency_id) != constituency_ids.end();
}

bool Scope::Allows(std::optional<std::int64_t> constituency_id, Tlp tlp) const {
  return AllowsTlp(tlp) && Allows(constituency_id);
}

Principal Principal::ForUser(const User& user) {
  Principal p;
  p.user_id = user.id;
  p.username = user.username;
  p.role = user.role;
  if (user.role == Role::kAdmin || user.scope_all) {
    p.scope = Scope::All();
  } else {
    p.scope.constituency_ids = user.constituency_ids;
  }
  // A constituent is an outside party: TLP:RED stays with the team that received it.
  if (user.role == Role::kConstituent) p.scope.max_tlp = Tlp::kAmberStrict;
  return p;
}

Principal Principal::LocalOperator() {
  Principal p;
  p.username = "cli";
  p.role = Role::kAdmin;
  p.scope = Scope::All();
  return p;
}

}  // namespace hikeshi::core
