#pragma once
// Canonical JSON snapshots of domain objects: the before/after of every audit entry, and what
// `audit verify` compares the stored data against. Deterministic: same object, same bytes.
// Secrets never appear: a user's password hash is represented by its SHA-256 only.

#include <string>

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

// The bytes hashed into the chain for `entry` (all fields except `hash`).
std::string CanonicalAuditBytes(const AuditEntry& entry);
// SHA-256 hex of prev_hash and CanonicalAuditBytes(entry).
std::string AuditHash(const AuditEntry& entry);
// The prev_hash of the first entry.
inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace hikeshi::core
