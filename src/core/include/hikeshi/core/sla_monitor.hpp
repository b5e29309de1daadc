#pragma once
// The SLA use case: an incident's clocks (GET /incidents/{id}/sla), the breaches recorded so far
// (GET /sla/breaches), and the background check that records a breach, once, as an "sla-breach"
// record on the incident's timeline.
//
// The clocks come from the audit journal only (ComputeSlaClocks). The journal is indexed by
// object for the incident's timeline alone, so the monitor keeps a small index of its own, built by
// reading the journal once and then only the entries appended since: where each report's
// "report.create" entry is, and each report's first sent acknowledgement. Every node builds its
// own; the journal is the same for all.
//
// Thread-safe: every method may be called from several threads at once. Store and Clock must
// outlive the monitor.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/sla.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// The record kind of a breach; its key is "<incident>/<clock>", so each is recorded once.
inline constexpr std::string_view kSlaBreachKind = "sla-breach";
// The audit actor of the background check.
inline constexpr std::string_view kSlaActor = "system";

// A breach as recorded.
struct SlaBreach {
  std::int64_t record_id = 0;
  std::string incident;  // human id
  SlaClockKind clock = SlaClockKind::kAcknowledge;
  int priority = 3;  // when it was recorded
  std::chrono::seconds target{};
  Timestamp started_at{};
  Timestamp deadline{};
  std::optional<Timestamp> stopped_at;  // the clock had stopped, late, before the check saw it
  Timestamp recorded_at{};
};

struct SlaBreachQuery {
  std::optional<std::string> incident;  // a human id
  std::optional<std::string> clock;     // a clock name
  std::optional<std::int64_t> after_id;
  int limit = 100;  // 1..500
};

struct SlaBreachPage {
  std::vector<SlaBreach> items;               // oldest first
  std::optional<std::int64_t> next_after_id;  // absent when nothing more can follow
};

class SlaMonitor {
 public:
  SlaMonitor(Store& store, const Clock& clock, SlaPolicy policy);
  ~SlaMonitor();
  SlaMonitor(const SlaMonitor&) = delete;
  SlaMonitor& operator=(const SlaMonitor&) = delete;

  const SlaPolicy& policy() const { return policy_; }

  // The clocks of one incident now. Errors: kNotFound (also outside the scope).
  [[nodiscard]] Result<SlaReading> Clocks(const Principal& actor, std::string_view incident_id);
  // The clocks of incidents the caller has already found visible, in their order, read from one
  // snapshot of the store. `incidents` is borrowed for the call.
  [[nodiscard]] Result<std::vector<SlaReading>> ClocksOf(std::span<const Incident> incidents);

  // Recorded breaches of incidents in the actor's scope, oldest first.
  // Errors: kInvalidArgument for a bad clock name ("/clock") or limit ("/limit"), kNotFound for an
  // ?incident outside the scope.
  [[nodiscard]] Result<SlaBreachPage> Breaches(const Principal& actor, const SlaBreachQuery& query);

  // One pass of the background check: every clock of an open incident that has run past its
  // target, and every clock that stopped late on an incident changed since the previous pass, gets
  // an "sla-breach" record unless it has one. Exercises and merged incidents are left alone. Two
  // nodes checking at once record a breach once (the record's key is unique). Returns how many
  // breaches this pass recorded.
  [[nodiscard]] Result<int> RecordBreaches();

 private:
  class JournalIndex;

  Result<std::vector<AuditEntry>> Gather(StoreReader& reader, const Incident& incident);
  Result<SlaReading> Read(StoreReader& reader, const Incident& incident,
                          const std::set<std::string, std::less<>>& people, Timestamp now);
  Result<std::set<std::string, std::less<>>> People(StoreReader& reader) const;

  Store& store_;
  const Clock& clock_;
  const SlaPolicy policy_;
  std::unique_ptr<JournalIndex> index_;
  std::atomic<bool> first_pass_{true};
};

}  // namespace hikeshi::core
