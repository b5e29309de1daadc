#pragma once
// Canonical JSON snapshots of domain objects: the before/after of every audit entry, and what
// `audit verify` compares the stored data against. Deterministic: same object, same bytes.
// Secrets never appear: a user's password hash is represented by its SHA-256 only.

#include <span>
#include <string>
#include <string_view>

#include "hikeshi/core/model.hpp"

namespace hikeshi::core {

std::string Snapshot(const Incident& incident);
std::string Snapshot(const Report& report);
std::string Snapshot(const Constituency& constituency);
std::string Snapshot(const Contact& contact);
std::string Snapshot(const User& user);
std::string Snapshot(const ApiToken& token);
std::string Snapshot(const FeedRun& run);
std::string Snapshot(const MailMessage& mail);
std::string Snapshot(const Record& record);

// The compact before/after of a "report.aggregate" entry (WriteTx::UpdateAggregate): the report's
// event_count, first_seen, last_seen and updated_at, spelt as Snapshot(Report) spells them, then
// "observables_added" (type and value, in list order) when `added` is not empty.
std::string AggregateSnapshot(const Report& report, std::span<const Observable> added = {});
// The keys an AggregateSnapshot holds besides "observables_added", in its order.
inline constexpr std::string_view kAggregateKeys[] = {"event_count", "first_seen", "last_seen", "updated_at"};

// The bytes hashed into the chain for `entry` (all fields except `hash`).
std::string CanonicalAuditBytes(const AuditEntry& entry);
// SHA-256 hex of prev_hash and CanonicalAuditBytes(entry).
std::string AuditHash(const AuditEntry& entry);
// The prev_hash of the first entry.
inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace hikeshi::core
