#pragma once
// Bulk actions: reject or link many reports, assign many incidents, in one request. Each item is
// its own change (its own transaction and audit entry, through Reports and Incidents), so one bad
// item does not hold back the others; the answer says for each item whether it worked or why not.
// Thread-safe; the use cases it drives must outlive it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/reports.hpp"

namespace hikeshi::core {

inline constexpr std::size_t kMaxBulkItems = 500;

struct BulkOutcome {
  std::string id;              // as the caller gave it
  std::optional<Error> error;  // absent: done
};

class BulkActions {
 public:
  BulkActions(Reports& reports, Incidents& incidents) : reports_(reports), incidents_(incidents) {}

  // Each call checks the request as a whole first: kPermissionDenied for viewers and
  // constituents, kInvalidArgument for no items or more than kMaxBulkItems (field `list_field`
  // given below) or a bad reason. Then every item is tried, in order; its outcome holds its error.

  // list field "/reports"
  [[nodiscard]] Result<std::vector<BulkOutcome>> RejectReports(const Principal& actor,
                                                               const std::vector<std::string>& reports,
                                                               std::string_view reason, std::string_view comment);
  // list field "/reports"
  [[nodiscard]] Result<std::vector<BulkOutcome>> LinkReports(const Principal& actor,
                                                             const std::vector<std::string>& reports,
                                                             std::string_view incident);
  // list field "/incidents"; `owner` nullopt clears the owner.
  [[nodiscard]] Result<std::vector<BulkOutcome>> AssignIncidents(const Principal& actor,
                                                                 const std::vector<std::string>& incidents,
                                                                 const std::optional<std::string>& owner);

 private:
  Reports& reports_;
  Incidents& incidents_;
};

}  // namespace hikeshi::core
