#include "hikeshi/core/audit_verify.hpp"

#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/snapshot.hpp"

namespace hikeshi::core {

namespace {
constexpr int kBatch = 1000;

using nlohmann::ordered_json;

// The compact "report.aggregate" entries (WriteTx::UpdateAggregate) since a report's last full
// snapshot: what they changed, so that the full snapshot the report had before them can be
// rebuilt from the stored report and compared with the journal's.
struct AggregateChanges {
  ordered_json base;                           // the fold's keys in the last full snapshot
  ordered_json now;                            // the fold's keys after the last compact entry
  ordered_json added = ordered_json::array();  // observables appended since, in order
};

struct LastState {
  std::int64_t seq = 0;
  std::string after_sha256;                     // empty when the last entry deleted the object
  std::unique_ptr<AggregateChanges> aggregate;  // set when compact entries follow the full snapshot
};
using Key = std::pair<std::string, std::string>;  // object_type, object_id

// The fold's keys of an AggregateSnapshot or a report snapshot, in AggregateSnapshot's order.
ordered_json AggregateValues(const ordered_json& j) {
  ordered_json out = ordered_json::object();
  for (const auto key : kAggregateKeys) {
    const auto it = j.find(key);
    out[std::string(key)] = it == j.end() ? ordered_json(nullptr) : *it;
  }
  return out;
}

// The parsed entry text when `e` is a compact aggregate entry (no full "observables" list).
std::optional<ordered_json> CompactAggregate(const AuditEntry& e) {
  if (e.action != "report.aggregate" || e.object_type != "report") return std::nullopt;
  auto after = ordered_json::parse(e.after, nullptr, false);
  if (!after.is_object() || after.contains("observables")) return std::nullopt;  // a full snapshot
  return after;
}

// The report's full snapshot as it was before the compact entries, rebuilt from `snapshot` (the
// stored report's): nullopt when the stored report's fold keys or last observables are not what
// the compact entries left.
std::optional<std::string> SnapshotBeforeAggregates(const std::string& snapshot, const AggregateChanges& changes) {
  auto j = ordered_json::parse(snapshot);
  if (AggregateValues(j) != changes.now) return std::nullopt;
  auto& observables = j["observables"];
  const std::size_t added = changes.added.size();
  if (!observables.is_array() || observables.size() < added) return std::nullopt;
  for (std::size_t i = 0; i < added; ++i) {
    if (observables[observables.size() - added + i] != changes.added[i]) return std::nullopt;
  }
  observables.erase(observables.end() - static_cast<std::ptrdiff_t>(added), observables.end());
  for (const auto& [key, value] : changes.base.items()) j[key] = value;
  return j.dump(-1, ' ', true);  // the bytes Snapshot() writes (snapshot_test.cpp)
}

// Compares one stored object with what the journal last recorded for it.
void CheckObject(const std::map<Key, LastState>& last, std::map<Key, bool>& seen, const std::string& type,
                 const std::string& id, const std::string& snapshot, AuditVerdict& verdict) {
  ++verdict.objects_checked;
  const Key key{type, id};
  seen[key] = true;
  if (!verdict.ok()) return;
  const auto it = last.find(key);
  if (it == last.end()) {
    verdict.first_bad_seq = 0;
    verdict.problem =
        fmt::format("{} {} is in the store but no audit entry records it (added behind Hikeshi's back)", type, id);
    return;
  }
  std::optional<std::string> full = snapshot;
  if (it->second.aggregate) full = SnapshotBeforeAggregates(snapshot, *it->second.aggregate);
  if (!full || it->second.after_sha256 != common::Sha256Hex(*full)) {
    verdict.first_bad_seq = it->second.seq;
    verdict.problem = fmt::format("{} {} differs from what audit entry #{} recorded (changed behind Hikeshi's back)",
                                  type, id, it->second.seq);
  }
}
}  // namespace

Result<AuditVerdict> VerifyAudit(Store& store) {
  AuditVerdict verdict;
  std::map<Key, LastState> last;
  HIKESHI_CHECK(store.Read([&](StoreReader& r) -> Result<void> {
    // 1. The chain: consecutive sequence numbers, each prev_hash the hash before, each hash right.
    std::string prev_hash(kGenesisHash);
    std::int64_t expected_seq = 1;
    for (;;) {
      HIKESHI_TRY(const auto batch, r.ListAudit(expected_seq - 1, kBatch));
      for (const auto& e : batch) {
        ++verdict.entries_checked;
        std::string problem;
        if (e.seq != expected_seq) {
          problem = fmt::format("entry #{} follows #{}: entries are missing", e.seq, expected_seq - 1);
        } else if (e.prev_hash != prev_hash) {
          problem = fmt::format("entry #{} does not chain to the entry before it", e.seq);
        } else if (AuditHash(e) != e.hash) {
          problem = fmt::format("entry #{} ({} {} {}) was altered: its hash does not match its content", e.seq,
                                e.action, e.object_type, e.object_id);
        }
        if (!problem.empty()) {
          verdict.first_bad_seq = e.seq;
          verdict.problem = std::move(problem);
          return {};
        }
        prev_hash = e.hash;
        ++expected_seq;
        if (e.object_type == "session") {
          // not an object
        } else if (auto compact = CompactAggregate(e)) {
          // Applies to the report's last state, which must exist; consecutive compact entries
          // must follow on from each other (the first one's "before" is checked against the full
          // snapshot when the report is compared).
          auto& state = last[{e.object_type, e.object_id}];
          const auto before = ordered_json::parse(e.before, nullptr, false);
          if (state.after_sha256.empty() || !before.is_object() ||
              (state.aggregate && AggregateValues(before) != state.aggregate->now)) {
            verdict.first_bad_seq = e.seq;
            verdict.problem = fmt::format(
                "entry #{} (report.aggregate report {}) does not follow from its previous entry", e.seq, e.object_id);
            return {};
          }
          if (!state.aggregate) {
            state.aggregate = std::make_unique<AggregateChanges>();
            state.aggregate->base = AggregateValues(before);
          }
          state.aggregate->now = AggregateValues(*compact);
          if (const auto added = compact->find("observables_added"); added != compact->end() && added->is_array()) {
            for (const auto& o : *added) state.aggregate->added.push_back(o);
          }
          state.seq = e.seq;
        } else {
          last[{e.object_type, e.object_id}] = {e.seq, e.after.empty() ? "" : common::Sha256Hex(e.after), nullptr};
        }
      }
      if (static_cast<int>(batch.size()) < kBatch) break;
    }

    // 2. The data: every object is exactly what its last journal entry says it became.
    std::map<Key, bool> seen;
    const auto all = Scope::All();
    for (std::optional<std::int64_t> before;;) {
      IncidentQuery q;
      q.limit = 500;
      q.before_id = before;
      HIKESHI_TRY(const auto page, r.ListIncidents(all, q));
      for (const auto& i : page.items) CheckObject(last, seen, "incident", i.human_id, Snapshot(i), verdict);
      if (!page.next_before_id) break;
      before = page.next_before_id;
    }
    for (std::optional<std::int64_t> before;;) {
      ReportQuery q;
      q.limit = 500;
      q.before_id = before;
      HIKESHI_TRY(const auto page, r.ListReports(all, q));
      for (const auto& x : page.items) CheckObject(last, seen, "report", x.human_id, Snapshot(x), verdict);
      if (!page.next_before_id) break;
      before = page.next_before_id;
    }
    HIKESHI_TRY(const auto constituencies, r.ListConstituencies());
    for (const auto& c : constituencies) CheckObject(last, seen, "constituency", c.name, Snapshot(c), verdict);
    HIKESHI_TRY(const auto contacts, r.ListContacts());
    for (const auto& c : contacts) CheckObject(last, seen, "contact", std::to_string(c.id), Snapshot(c), verdict);
    HIKESHI_TRY(const auto users, r.ListUsers());
    for (const auto& u : users) CheckObject(last, seen, "user", u.username, Snapshot(u), verdict);
    HIKESHI_TRY(const auto tokens, r.ListApiTokens());
    for (const auto& t : tokens) CheckObject(last, seen, "api_token", std::to_string(t.id), Snapshot(t), verdict);

    for (std::int64_t after = 0;;) {
      HIKESHI_TRY(const auto runs, r.ListFeedRuns(after, 500));
      for (const auto& run : runs) {
        CheckObject(last, seen, "feed_run", std::to_string(run.id), Snapshot(run), verdict);
        after = run.id;
      }
      if (runs.size() < 500) break;
    }

    for (std::int64_t after = 0;;) {
      HIKESHI_TRY(const auto mail, r.ListMail(after, 500));
      for (const auto& m : mail) {
        CheckObject(last, seen, "mail", std::to_string(m.id), Snapshot(m), verdict);
        after = m.id;
      }
      if (mail.size() < 500) break;
    }

    for (std::int64_t after = 0;;) {
      HIKESHI_TRY(const auto records, r.ListRecords("", after, 500));
      for (const auto& rec : records) {
        CheckObject(last, seen, rec.kind, rec.key, Snapshot(rec), verdict);
        after = rec.id;
      }
      if (records.size() < 500) break;
    }

    // 3. Nothing the journal says exists may be missing.
    if (verdict.ok()) {
      for (const auto& [key, state] : last) {
        if (!state.after_sha256.empty() && !seen.contains(key)) {
          verdict.first_bad_seq = state.seq;
          verdict.problem = fmt::format("{} {} recorded by audit entry #{} is missing (deleted behind Hikeshi's back)",
                                        key.first, key.second, state.seq);
          break;
        }
      }
    }
    return {};
  }));
  return verdict;
}

}  // namespace hikeshi::core
