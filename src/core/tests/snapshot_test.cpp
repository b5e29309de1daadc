#include "hikeshi/core/snapshot.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/mail_codec.hpp"

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

// The journal's bytes must not change with how they are written: a report's snapshot and an
// entry's canonical bytes (and a mail message's snapshot, below) are written without a JSON
// document, and must be exactly what nlohmann's dump (as the journal has always used it) gives.
// Checked here against nlohmann itself, over text with every ASCII byte that needs escaping and
// with UTF-8 of one to four bytes a character.
nlohmann::ordered_json Nullable(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json Nullable(const std::optional<common::Timestamp>& v) {
  return v ? nlohmann::ordered_json(common::FormatRfc3339(*v)) : nlohmann::ordered_json(nullptr);
}

std::string DumpedByNlohmann(const Report& r) {
  nlohmann::ordered_json j;
  j["id"] = r.human_id;
  j["channel"] = ChannelName(r.channel);
  j["reporter"] = r.reporter;
  j["subject"] = r.subject;
  j["body_sha256"] = common::Sha256Hex(r.body);
  j["category"] = r.category ? nlohmann::ordered_json(r.category->ToString()) : nlohmann::ordered_json(nullptr);
  j["constituency_id"] = Nullable(r.constituency_id);
  j["tlp"] = TlpName(r.tlp);
  j["status"] = ReportStatusName(r.status);
  j["incident_id"] = Nullable(r.incident_id);
  j["reject_reason"] =
      r.reject_reason ? nlohmann::ordered_json(RejectReasonName(*r.reject_reason)) : nlohmann::ordered_json(nullptr);
  j["reject_comment"] = r.reject_comment;
  nlohmann::ordered_json observables = nlohmann::ordered_json::array();
  for (const auto& o : r.observables) observables.push_back({{"type", ObservableTypeName(o.type)}, {"value", o.value}});
  j["observables"] = observables;
  j["flags"] = r.flags;
  j["fingerprint"] = r.fingerprint;
  j["event_count"] = r.event_count;
  j["first_seen"] = Nullable(r.first_seen);
  j["last_seen"] = Nullable(r.last_seen);
  j["received_at"] = common::FormatRfc3339(r.received_at);
  j["updated_at"] = common::FormatRfc3339(r.updated_at);
  return j.dump(-1, ' ', true);
}

std::string DumpedByNlohmann(const AuditEntry& e) {
  nlohmann::ordered_json j;
  j["seq"] = e.seq;
  j["at"] = common::FormatRfc3339(e.at);
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["object_type"] = e.object_type;
  j["object_id"] = e.object_id;
  j["incident"] = e.incident;
  j["before"] = e.before;
  j["after"] = e.after;
  j["prev_hash"] = e.prev_hash;
  return j.dump(-1, ' ', true);
}

TEST(SnapshotTest, ReportSnapshotsAndAuditBytesAreNlohmannsBytes) {
  common::InitCrypto();
  std::mt19937 rng(11);
  // Every byte below 0x80 (controls, quotes, backslashes, DEL), and some UTF-8.
  const auto text = [&](bool ascii_only) {
    static const std::vector<std::string> kPieces = {"a",    "Z",         " ", "\"",           "\\",     "/", "\x7f",
                                                     "scan", "192.0.2.1", "é", "フィッシング", "\u2028", "😀"};
    std::string out;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      if (rng() % 3 == 0) {
        out += static_cast<char>(rng() % 0x80);
      } else {
        out += kPieces[rng() % (ascii_only ? 9 : kPieces.size())];
      }
    }
    return out;
  };
  for (int i = 0; i < 3000; ++i) {
    const bool ascii = i % 3 != 0;
    Report r;
    r.human_id = "R-2026-" + std::to_string(i);
    r.channel = i % 2 ? Channel::kFeed : Channel::kMail;
    r.reporter = text(ascii);
    r.subject = text(ascii);
    r.body = text(false);
    if (i % 4 != 0) r.category = Category{"information-gathering", "scanner"};
    if (i % 5 != 0) r.constituency_id = i * 7 - 3;
    r.tlp = Tlp::kAmber;
    r.status = i % 2 ? ReportStatus::kNew : ReportStatus::kRejected;
    if (i % 2 == 0) r.reject_reason = RejectReason::kOutOfScope;
    if (i % 7 == 0) r.incident_id = 42;
    r.reject_comment = text(ascii);
    for (int k = 0, n = static_cast<int>(rng() % 6); k < n; ++k) {
      r.observables.push_back({k % 2 ? ObservableType::kIpv4 : ObservableType::kDomain, text(ascii)});
    }
    for (int k = 0, n = static_cast<int>(rng() % 3); k < n; ++k) r.flags.push_back(text(ascii));
    r.fingerprint = text(ascii);
    r.event_count = static_cast<std::int64_t>(rng()) - (1LL << 31);
    if (i % 3 != 0) r.first_seen = common::FromMicros(1'795'765'396'000'000LL + i);
    if (i % 6 != 0) r.last_seen = common::FromMicros(1'795'765'396'123'456LL + i);
    r.received_at = r.updated_at = common::FromMicros(1'795'765'396'000'000LL);
    const std::string snapshot = Snapshot(r);
    ASSERT_EQ(snapshot, DumpedByNlohmann(r)) << i;
    // What `audit verify` relies on for compact "report.aggregate" entries: a report snapshot
    // parsed and dumped again is the same bytes, and AggregateSnapshot spells its keys (and the
    // added observables) exactly as the report snapshot does.
    const auto parsed = nlohmann::ordered_json::parse(snapshot);
    ASSERT_EQ(parsed.dump(-1, ' ', true), snapshot) << i;
    nlohmann::ordered_json aggregate;
    for (const char* key : {"event_count", "first_seen", "last_seen", "updated_at"}) aggregate[key] = parsed[key];
    if (!r.observables.empty()) aggregate["observables_added"] = parsed["observables"];
    ASSERT_EQ(AggregateSnapshot(r, r.observables), aggregate.dump(-1, ' ', true)) << i;

    AuditEntry e;
    e.seq = i + 1;
    e.at = common::FromMicros(1'795'765'396'000'000LL + i);
    e.actor = text(ascii);
    e.action = "report.create";
    e.object_type = "report";
    e.object_id = r.human_id;
    e.incident = text(ascii);
    e.before = i % 2 ? "" : text(ascii);
    e.after = snapshot;
    e.prev_hash = std::string(kGenesisHash);
    ASSERT_EQ(CanonicalAuditBytes(e), DumpedByNlohmann(e)) << i;
  }
}

std::string DumpedByNlohmann(const MailMessage& m) {
  nlohmann::ordered_json j;
  j["id"] = m.id;
  j["direction"] = MailDirectionName(m.direction);
  j["kind"] = m.kind;
  j["message_id"] = m.message_id;
  j["report_id"] = Nullable(m.report_id);
  j["incident_id"] = Nullable(m.incident_id);
  j["from_address"] = m.from_address;
  j["from_name"] = m.from_name;
  j["subject"] = m.subject;
  j["text_sha256"] = common::Sha256Hex(m.text);
  j["in_reply_to"] = m.in_reply_to;
  j["raw_sha256"] = m.raw_sha256;
  j["raw_size"] = m.raw_size;
  j["encrypted"] = m.encrypted;
  j["decrypted"] = m.decrypted;
  j["auto_reason"] = m.auto_reason;
  j["spam"] = m.spam;
  j["details_sha256"] = common::Sha256Hex(EncodeMailDetails(m));
  j["status"] = m.status;
  j["language"] = m.language;
  j["attempts"] = m.attempts;
  j["last_error"] = m.last_error;
  j["next_attempt_at"] = Nullable(m.next_attempt_at);
  j["at"] = common::FormatRfc3339(m.at);
  j["sent_at"] = Nullable(m.sent_at);
  return j.dump(-1, ' ', true);
}

TEST(SnapshotTest, MailSnapshotsAreNlohmannsBytes) {
  common::InitCrypto();
  std::mt19937 rng(23);
  // ASCII that needs escaping, C1 controls, the last code points before each UTF-8 length changes,
  // and characters above U+FFFF (a surrogate pair each).
  static const std::vector<std::string> kPieces = {
      "a",  "\"", "\\", "\x7f", "\x1f", "\n",           "\xc2\x80",         "\xc2\x9f", "\xdf\xbf", "\xe0\xa0\x80",
      "受", "付", "\uffff", "\ufeff", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "😀",       "ｱ"};
  const auto text = [&] {
    std::string out;
    for (int i = 0, n = static_cast<int>(rng() % 10); i < n; ++i) {
      out += rng() % 4 == 0 ? std::string(1, static_cast<char>(rng() % 0x80)) : kPieces[rng() % kPieces.size()];
    }
    return out;
  };
  for (int i = 0; i < 2000; ++i) {
    MailMessage m;
    m.id = i * 131 - 7;
    m.direction = i % 2 ? MailDirection::kIn : MailDirection::kOut;
    m.kind = i % 3 ? "report" : "ack";
    m.message_id = text() + "@example.jp";
    if (i % 4 != 0) m.report_id = i;
    if (i % 5 == 0) m.incident_id = 7;
    m.from_address = text();
    m.from_name = text();
    m.to = {text()};
    m.subject = text();
    m.text = text();
    m.in_reply_to = text();
    m.raw_sha256 = i % 2 ? std::string(64, 'a') : "";
    m.raw_size = static_cast<std::int64_t>(rng());
    m.encrypted = i % 3 == 0;
    m.decrypted = i % 5 == 0;
    m.auto_reason = text();
    m.spam = i % 7 == 0;
    m.status = text();
    m.language = i % 2 ? "ja" : "en";
    m.attempts = static_cast<int>(rng() % 9);
    m.last_error = text();
    if (i % 3 == 1) m.next_attempt_at = common::FromMicros(1'795'765'396'000'000LL + i);
    m.at = common::FromMicros(1'795'765'396'123'456LL - i);
    if (i % 4 == 1) m.sent_at = common::FromMicros(1'795'765'396'654'321LL + i);
    ASSERT_EQ(Snapshot(m), DumpedByNlohmann(m)) << i;
  }
}

TEST(SnapshotTest, MalformedUtf8IsRejectedAsNlohmannRejectsIt) {
  common::InitCrypto();
  // Overlong forms, a surrogate, above U+10FFFF, a lone continuation byte, a cut-off sequence.
  for (const std::string bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xe3\x81",
                                "\xf5\x80\x80\x80", "\xff"}) {
    Report r;
    r.subject = "ok " + bad;
    EXPECT_THROW(DumpedByNlohmann(r), nlohmann::json::exception);
    EXPECT_THROW(Snapshot(r), nlohmann::json::exception);
    MailMessage m;
    m.subject = bad + " ok";
    EXPECT_THROW(Snapshot(m), nlohmann::json::exception);
    AuditEntry e;
    e.actor = bad;
    EXPECT_THROW(CanonicalAuditBytes(e), nlohmann::json::exception);
  }
}

}  // namespace
}  // namespace hikeshi::core
