#include "hikeshi/core/snapshot.hpp"

#include <gtest/gtest.h>

#include "hikeshi/common/crypto.hpp"

namespace hikeshi::core {
namespace {

Incident SampleIncident() {
  Incident i;
  i.human_id = "I-2026-000001";
  i.title = "フィッシングサイト報告";
  i.category = {"fraud", "phishing"};
  i.impact = 2;
  i.urgency = 2;
  i.priority = 2;
  i.created_at = i.updated_at = common::FromMicros(1'795'765'396'000'000LL);
  return i;
}

TEST(SnapshotTest, IsDeterministicAndSensitiveToEveryChange) {
  const Incident a = SampleIncident();
  EXPECT_EQ(Snapshot(a), Snapshot(SampleIncident()));
  Incident b = a;
  b.title += "!";
  EXPECT_NE(Snapshot(a), Snapshot(b));
  b = a;
  b.owner_id = 7;
  EXPECT_NE(Snapshot(a), Snapshot(b));
  b = a;
  b.observables.push_back({ObservableType::kIpv4, "192.0.2.1"});
  EXPECT_NE(Snapshot(a), Snapshot(b));
}

TEST(SnapshotTest, NeverContainsAPasswordHash) {
  common::InitCrypto();
  User u;
  u.username = "alice";
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  const std::string snapshot = Snapshot(u);
  EXPECT_EQ(snapshot.find("argon2id"), std::string::npos);
  EXPECT_NE(snapshot.find(common::Sha256Hex(u.password_hash)), std::string::npos);
}

TEST(SnapshotTest, AuditHashCoversEveryFieldAndThePreviousHash) {
  common::InitCrypto();
  AuditEntry e;
  e.seq = 1;
  e.at = common::FromMicros(1'795'765'396'000'000LL);
  e.actor = "alice";
  e.action = "incident.create";
  e.object_type = "incident";
  e.object_id = "I-2026-000001";
  e.incident = "I-2026-000001";
  e.after = Snapshot(SampleIncident());
  e.prev_hash = std::string(kGenesisHash);
  const std::string h = AuditHash(e);
  EXPECT_EQ(h.size(), 64u);
  AuditEntry changed = e;
  changed.actor = "mallory";
  EXPECT_NE(AuditHash(changed), h);
  changed = e;
  changed.prev_hash[0] = '1';
  EXPECT_NE(AuditHash(changed), h);
  changed = e;
  changed.seq = 2;
  EXPECT_NE(AuditHash(changed), h);
  changed = e;
  changed.hash = "anything";  // the hash field itself is not hashed
  EXPECT_EQ(AuditHash(changed), h);
}

}  // namespace
}  // namespace hikeshi::core
