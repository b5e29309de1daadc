#pragma once
// The mail of an incident as its readers see it. Defined in incidents.cpp. Not a public header.

#include <vector>

#include "hikeshi/core/store.hpp"

namespace hikeshi::core::detail {

// The messages filed on `incident` itself (sent to coordination partners, replies to them) and
// those of the reports linked to it that `scope` may see (the report as it came in, its
// acknowledgement, the reporter's replies), oldest first, each once. Triage and a handler's link
// attach a report, not its mail, to an incident: this is where the two meet.
Result<std::vector<MailMessage>> IncidentMail(StoreReader& reader, const Scope& scope, const Incident& incident);

}  // namespace hikeshi::core::detail
