#pragma once
// The guide's last step of handling: the requester hears how it ended. When an incident becomes
// resolved, each person whose mail report is linked to it gets a notice (MailMessage kind
// "notice"), in Japanese or English as their report was written, threaded to their report
// ("[Hikeshi R-2026-000001]") and saying only that the incident is resolved: no detail of the
// incident leaves with it. Nobody hears twice for one resolution, and spam, automatic mail and
// Hikeshi's own address are never answered. An exercise (予行演習) mails no outsider: its notices
// are recorded with status "suppressed: exercise" and never sent.
//
// Incidents calls AfterIncidentChange inside the write transaction that changes the incident.
// Thread-safe (immutable after construction).

#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/investigations.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

class ReporterNotices {
 public:
  explicit ReporterNotices(TeamMailOptions options);

  // Queues the notices when `after` is resolved and `before` was not; does nothing otherwise.
  // Errors: storage errors only (the caller's transaction then fails).
  [[nodiscard]] Result<void> AfterIncidentChange(WriteTx& tx, const AuditContext& ctx, const Incident& before,
                                                 const Incident& after) const;

 private:
  TeamMailOptions options_;
};

}  // namespace hikeshi::core
