#pragma once
// The response loop's writes that other use cases make inside their own transactions: Incidents
// gives an opened or recategorised incident its playbook's tasks, and merges and splits move
// records and link incidents. Defined in playbooks.cpp and response.cpp. Not a public header.

#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/playbooks.hpp"
#include "hikeshi/core/response.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core::detail {

// A result's success without its value (std::expected::transform is not in every standard library
// we build with).
template <typename T>
Result<void> Discard(Result<T> result) {
  if (!result) return Fail(std::move(result).error());
  return {};
}

// The current version of every playbook, by name.
Result<std::vector<Playbook>> CurrentPlaybooks(StoreReader& reader);

// Gives `incident` the tasks of the playbook named `name` (its current version; kNotFound with
// field "/playbook" when there is none), or without a name of the playbook SelectPlaybook picks
// for its category (none: nothing happens). An incident that already has tasks of that playbook
// revision does not get them twice.
Result<void> ApplyPlaybook(WriteTx& tx, const AuditContext& ctx, const Incident& incident,
                           const std::optional<std::string>& name);

// Stores `task` on `incident` under a new key ("T-<year of ctx.at>-NNNNNN") and returns it.
Result<Task> CreateTask(WriteTx& tx, const AuditContext& ctx, const Incident& incident, Task task);

// Links `a` and `b` on both incidents: `a_to_b` is what a is to b (a merged-into b). With
// `replace`, a link that already joins the two takes the new relation; without, it is kConflict.
Result<void> LinkIncidents(WriteTx& tx, const AuditContext& ctx, const Incident& a, const Incident& b,
                           LinkRelation a_to_b, bool replace);

// What merging `from` into `into` moves to `into`: the reports of `from`, its observables (a
// union), its tasks, countermeasures and investigations; and it links the two (merged-into /
// merged-from). `from` itself is left to the caller, which marks it merged.
Result<void> MoveIntoMerged(WriteTx& tx, const AuditContext& ctx, const Incident& from, const Incident& into);

// The human ids of the incidents merged into `incident_id`, directly.
Result<std::vector<std::string>> MergedFrom(StoreReader& reader, std::int64_t incident_id);

}  // namespace hikeshi::core::detail
