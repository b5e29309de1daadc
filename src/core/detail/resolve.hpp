#pragma once
// Name-to-id resolution shared by the incident and report use cases, always within the
// principal's scope. Not a public header.

#include <optional>
#include <string>

#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core::detail {

// A constituency named by the caller, which must be in the caller's scope (else kNotFound, so a
// scoped user cannot probe for other constituencies). Without a name: none for users who see
// everything (the coordination queue), the only one for users scoped to exactly one, and an
// error for users scoped to several.
inline Result<std::optional<std::int64_t>> ResolveConstituency(StoreReader& reader, const Principal& actor,
                                                               const std::optional<std::string>& name,
                                                               const std::string& field) {
  if (!name) {
    if (actor.scope.all) return std::optional<std::int64_t>();
    if (actor.scope.constituency_ids.size() == 1) return std::optional<std::int64_t>(actor.scope.constituency_ids[0]);
    return Fail(Error::InvalidArgument("you work for several constituencies: say which one this is for", field));
  }
  HIKESHI_TRY(const auto c, reader.FindConstituency(*name));
  if (!c || !actor.scope.Allows(c->id)) {
    return Fail(Error{ErrorCode::kNotFound, "constituency '" + *name + "' not found", field});
  }
  return std::optional<std::int64_t>(c->id);
}

}  // namespace hikeshi::core::detail
