#include "hikeshi/core/bulk_actions.hpp"

#include "detail/response_records.hpp"

namespace hikeshi::core {

namespace {
Result<void> CheckRequest(const Principal& actor, std::size_t items, const std::string& field) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not take bulk actions"));
  }
  if (items == 0) return Fail(Error::InvalidArgument("name at least one item", field));
  if (items > kMaxBulkItems) {
    return Fail(Error::TooLarge("at most " + std::to_string(kMaxBulkItems) + " items at once", field));
  }
  return {};
}

template <typename Action>
std::vector<BulkOutcome> ForEach(const std::vector<std::string>& ids, const Action& action) {
  std::vector<BulkOutcome> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto result = action(id);
    out.push_back({id, result ? std::nullopt : std::optional<Error>(std::move(result).error())});
  }
  return out;
}
}  // namespace

Result<std::vector<BulkOutcome>> BulkActions::RejectReports(const Principal& actor,
                                                            const std::vector<std::string>& reports,
                                                            std::string_view reason, std::string_view comment) {
  HIKESHI_CHECK(CheckRequest(actor, reports.size(), "/reports"));
  if (!ParseRejectReason(reason)) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(reason) + "' is not a reason (not-incident, out-of-scope, spam, duplicate)", "/reason"));
  }
  return ForEach(reports, [&](const std::string& id) { return reports_.Reject(actor, id, reason, comment); });
}

Result<std::vector<BulkOutcome>> BulkActions::LinkReports(const Principal& actor,
                                                          const std::vector<std::string>& reports,
                                                          std::string_view incident) {
  HIKESHI_CHECK(CheckRequest(actor, reports.size(), "/reports"));
  // An incident the caller cannot see fails the request once rather than each item.
  HIKESHI_CHECK(detail::Discard(AtField(incidents_.Get(actor, incident), "/incident")));
  return ForEach(reports, [&](const std::string& id) { return reports_.Link(actor, id, incident); });
}

Result<std::vector<BulkOutcome>> BulkActions::AssignIncidents(const Principal& actor,
                                                              const std::vector<std::string>& incidents,
                                                              const std::optional<std::string>& owner) {
  HIKESHI_CHECK(CheckRequest(actor, incidents.size(), "/incidents"));
  IncidentPatch patch;
  patch.owner.emplace(owner);
  return ForEach(incidents, [&](const std::string& id) { return incidents_.Update(actor, id, patch); });
}

}  // namespace hikeshi::core
