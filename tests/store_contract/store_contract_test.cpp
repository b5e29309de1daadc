// The store contract: what every core::Store backend must do, checked through the port alone.
// Expected values are written out by hand from the port's documentation (store.hpp, model.hpp),
// never computed by the backend under test.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/snapshot.hpp"
#include "hikeshi/core/store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"
#include "run_sql_behind.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using core::Incident;
using core::Observable;
using core::ObservableType;
using core::Report;
using core::Scope;
using core::Timestamp;
using core::Tlp;

// ---------------------------------------------------------------------------------------------
// Helpers

// 2026-03-14 09:30 UTC (+ micros), the kind of timestamp every fixture uses.
const Timestamp kT0 = At(2026, 3, 14, 9, 30, 123456);

core::AuditContext Ctx(std::string actor = "alice", Timestamp at = kT0) { return {std::move(actor), at}; }

Incident NewIncident(std::string title, Timestamp created = kT0) {
  Incident incident;
  incident.title = std::move(title);
  incident.category = core::Category{"intrusions", "system-compromise"};
  incident.created_at = created;
  incident.updated_at = created;
  return incident;
}

Report NewReport(std::string subject, Timestamp received = kT0) {
  Report report;
  report.channel = core::Channel::kMail;
  report.reporter = "abuse@example.net";
  report.subject = std::move(subject);
  report.received_at = received;
  report.updated_at = received;
  return report;
}

core::Constituency NewConstituency(std::string name) {
  core::Constituency constituency;
  constituency.name = std::move(name);
  constituency.created_at = kT0;
  return constituency;
}

core::User NewUser(std::string username) {
  core::User user;
  user.username = std::move(username);
  user.display_name = "Some One";
  user.role = core::Role::kHandler;
  user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
  user.created_at = kT0;
  return user;
}

std::vector<std::string> HumanIds(const std::vector<Incident>& incidents) {
  std::vector<std::string> ids;
  for (const auto& incident : incidents) ids.push_back(incident.human_id);
  return ids;
}

std::vector<std::string> HumanIds(const std::vector<Report>& reports) {
  std::vector<std::string> ids;
  for (const auto& report : reports) ids.push_back(report.human_id);
  return ids;
}

std::optional<std::int64_t> Micros(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return common::ToMicros(*t);
}

void ExpectSameIncident(const Incident& actual, const Incident& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.human_id, expected.human_id);
  EXPECT_EQ(actual.title, expected.title);
  EXPECT_EQ(actual.description, expected.description);
  EXPECT_EQ(actual.category, expected.category);
  EXPECT_EQ(actual.apt, expected.apt);
  EXPECT_EQ(actual.constituency_id, expected.constituency_id);
  EXPECT_EQ(actual.impact, expected.impact);
  EXPECT_EQ(actual.urgency, expected.urgency);
  EXPECT_EQ(actual.priority, expected.priority);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(actual.phase, expected.phase);
  EXPECT_EQ(actual.owner_id, expected.owner_id);
  EXPECT_EQ(actual.tlp, expected.tlp);
  EXPECT_EQ(actual.exercise, expected.exercise);
  EXPECT_EQ(actual.merged_into, expected.merged_into);
  EXPECT_EQ(actual.observables, expected.observables);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
  EXPECT_EQ(common::ToMicros(actual.updated_at), common::ToMicros(expected.updated_at));
  EXPECT_EQ(Micros(actual.resolved_at), Micros(expected.resolved_at));
  EXPECT_EQ(Micros(actual.closed_at), Micros(expected.closed_at));
}

void ExpectSameReport(const Report& actual, const Report& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.human_id, expected.human_id);
  EXPECT_EQ(actual.channel, expected.channel);
  EXPECT_EQ(actual.reporter, expected.reporter);
  EXPECT_EQ(actual.subject, expected.subject);
  EXPECT_EQ(actual.body, expected.body);
  EXPECT_EQ(actual.category, expected.category);
  EXPECT_EQ(actual.constituency_id, expected.constituency_id);
  EXPECT_EQ(actual.tlp, expected.tlp);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(actual.incident_id, expected.incident_id);
  EXPECT_EQ(actual.reject_reason, expected.reject_reason);
  EXPECT_EQ(actual.reject_comment, expected.reject_comment);
  EXPECT_EQ(actual.observables, expected.observables);
  EXPECT_EQ(actual.flags, expected.flags);
  EXPECT_EQ(actual.fingerprint, expected.fingerprint);
  EXPECT_EQ(actual.event_count, expected.event_count);
  EXPECT_EQ(Micros(actual.first_seen), Micros(expected.first_seen));
  EXPECT_EQ(Micros(actual.last_seen), Micros(expected.last_seen));
  EXPECT_EQ(common::ToMicros(actual.received_at), common::ToMicros(expected.received_at));
  EXPECT_EQ(common::ToMicros(actual.updated_at), common::ToMicros(expected.updated_at));
}

void ExpectSameConstituency(const core::Constituency& actual, const core::Constituency& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.description, expected.description);
  EXPECT_EQ(actual.cidrs, expected.cidrs);
  EXPECT_EQ(actual.asns, expected.asns);
  EXPECT_EQ(actual.domains, expected.domains);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
}

void ExpectSameContact(const core::Contact& actual, const core::Contact& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.email, expected.email);
  EXPECT_EQ(actual.organisation, expected.organisation);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.pgp_fingerprint, expected.pgp_fingerprint);
  EXPECT_EQ(actual.tlp_clearance, expected.tlp_clearance);
  EXPECT_EQ(actual.constituency_id, expected.constituency_id);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
  EXPECT_EQ(actual.trust, expected.trust);
  EXPECT_EQ(actual.introduced_by, expected.introduced_by);
}

void ExpectSameUser(const core::User& actual, const core::User& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.username, expected.username);
  EXPECT_EQ(actual.display_name, expected.display_name);
  EXPECT_EQ(actual.role, expected.role);
  EXPECT_EQ(actual.scope_all, expected.scope_all);
  EXPECT_EQ(actual.constituency_ids, expected.constituency_ids);
  EXPECT_EQ(actual.password_hash, expected.password_hash);
  EXPECT_EQ(actual.disabled, expected.disabled);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
}

void ExpectSameToken(const core::ApiToken& actual, const core::ApiToken& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.secret_sha256, expected.secret_sha256);
  EXPECT_EQ(actual.revoked, expected.revoked);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
}

void ExpectSameSession(const core::Session& actual, const core::Session& expected) {
  EXPECT_EQ(actual.secret_sha256, expected.secret_sha256);
  EXPECT_EQ(actual.user_id, expected.user_id);
  EXPECT_EQ(actual.csrf_token, expected.csrf_token);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
  EXPECT_EQ(common::ToMicros(actual.expires_at), common::ToMicros(expected.expires_at));
}

// ---------------------------------------------------------------------------------------------
// The suite

template <typename Backend>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Drops the store and opens the same data again, as a restarted process would.
  void Reopen() {
    store_.reset();
    auto opened = backend_.Open();
    ASSERT_TRUE(opened.has_value()) << Describe(opened.error());
    store_ = std::move(*opened);
  }

  core::Store& TheStore() { return *store_; }

  Result<core::Constituency> AddConstituency(std::string name) {
    return WriteValue(TheStore(),
                      [&](core::WriteTx& tx) { return tx.CreateConstituency(Ctx(), NewConstituency(name)); });
  }
  Result<Incident> AddIncident(Incident incident) {
    return WriteValue(TheStore(), [&](core::WriteTx& tx) { return tx.CreateIncident(Ctx(), incident); });
  }
  Result<Report> AddReport(Report report) {
    return WriteValue(TheStore(), [&](core::WriteTx& tx) { return tx.CreateReport(Ctx(), report); });
  }
  Result<std::vector<core::AuditEntry>> Audit() {
    return ReadValue(TheStore(), [](core::StoreReader& r) { return r.ListAudit(0, 10000); });
  }
  Result<core::Page<Incident>> Incidents(const Scope& scope, core::IncidentQuery query) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.ListIncidents(scope, query); });
  }
  Result<core::Page<Report>> Reports(const Scope& scope, core::ReportQuery query) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.ListReports(scope, query); });
  }
  // Human ids of the incidents matching `query` under Scope::All(), newest first.
  std::vector<std::string> IncidentIds(core::IncidentQuery query, const Scope& scope = Scope::All()) {
    auto page = Incidents(scope, std::move(query));
    EXPECT_TRUE(page.has_value()) << Describe(page.error());
    return page ? HumanIds(page->items) : std::vector<std::string>{};
  }
  std::vector<std::string> ReportIds(core::ReportQuery query, const Scope& scope = Scope::All()) {
    auto page = Reports(scope, std::move(query));
    EXPECT_TRUE(page.has_value()) << Describe(page.error());
    return page ? HumanIds(page->items) : std::vector<std::string>{};
  }
  std::vector<std::string> SearchIncidents(std::string text, const Scope& scope = Scope::All()) {
    core::IncidentQuery query;
    query.text = std::move(text);
    return IncidentIds(std::move(query), scope);
  }
  std::vector<std::string> SearchReports(std::string text, const Scope& scope = Scope::All()) {
    core::ReportQuery query;
    query.text = std::move(text);
    return ReportIds(std::move(query), scope);
  }

  Backend backend_;
  std::unique_ptr<core::Store> store_;
};

TYPED_TEST_SUITE(StoreContractTest, StoreBackends, BackendNames);

// --- A new store --------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, NewStoreIsEmpty) {
  ASSERT_OK(this->TheStore().Read([](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto constituencies, r.ListConstituencies());
    EXPECT_THAT(constituencies, IsEmpty());
    HIKESHI_TRY(const auto users, r.ListUsers());
    EXPECT_THAT(users, IsEmpty());
    HIKESHI_TRY(const auto contacts, r.ListContacts());
    EXPECT_THAT(contacts, IsEmpty());
    HIKESHI_TRY(const auto tokens, r.ListApiTokens());
    EXPECT_THAT(tokens, IsEmpty());
    HIKESHI_TRY(const auto incidents, r.ListIncidents(Scope::All(), {}));
    EXPECT_THAT(incidents.items, IsEmpty());
    EXPECT_EQ(incidents.next_before_id, std::nullopt);
    HIKESHI_TRY(const auto reports, r.ListReports(Scope::All(), {}));
    EXPECT_THAT(reports.items, IsEmpty());
    HIKESHI_TRY(const auto audit, r.ListAudit(0, 100));
    EXPECT_THAT(audit, IsEmpty());
    HIKESHI_TRY(const auto missing, r.FindIncident(Scope::All(), "I-2026-000001"));
    EXPECT_EQ(missing, std::nullopt);
    HIKESHI_TRY(const auto runs, r.ListFeedRuns(0, 500));
    EXPECT_THAT(runs, IsEmpty());
    return {};
  }));
}

// --- Round trips --------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, ConstituencyRoundTripsEveryField) {
  core::Constituency wanted;
  wanted.name = "example-university";
  wanted.description = "例大学 情報基盤センター";
  wanted.cidrs = {"198.51.100.0/24", "192.0.2.0/24", "2001:db8::/32"};  // deliberately unsorted
  wanted.asns = {64501, 64500, 4294967295U};
  wanted.domains = {"example.ac.jp", "example.org"};
  wanted.created_at = kT0;

  ASSERT_OK_AND_ASSIGN(const auto created, WriteValue(this->TheStore(), [&](core::WriteTx& tx) {
                         return tx.CreateConstituency(Ctx(), wanted);
                       }));
  EXPECT_GT(created.id, 0);
  wanted.id = created.id;
  ExpectSameConstituency(created, wanted);

  ASSERT_OK_AND_ASSIGN(const auto by_name, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindConstituency("example-university");
                       }));
  ASSERT_TRUE(by_name.has_value());
  ExpectSameConstituency(*by_name, wanted);
  ASSERT_OK_AND_ASSIGN(const auto by_id, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindConstituencyById(created.id);
                       }));
  ASSERT_TRUE(by_id.has_value());
  ExpectSameConstituency(*by_id, wanted);

  core::Constituency changed = wanted;
  changed.name = "example-univ";
  changed.description = "";
  changed.cidrs = {"203.0.113.0/24"};
  changed.asns = {};
  changed.domains = {"example.org", "example.ac.jp", "example.net"};
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateConstituency(Ctx(), wanted, changed); }));

  ASSERT_OK_AND_ASSIGN(const auto all,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListConstituencies(); }));
  ASSERT_EQ(all.size(), 1U);
  ExpectSameConstituency(all[0], changed);
  ASSERT_OK_AND_ASSIGN(const auto old_name, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindConstituency("example-university");
                       }));
  EXPECT_EQ(old_name, std::nullopt);
}

TYPED_TEST(StoreContractTest, ListsReturnObjectsInCreationOrder) {
  for (const char* name : {"zeta", "alpha", "mu"}) ASSERT_OK(this->AddConstituency(name));
  ASSERT_OK_AND_ASSIGN(const auto all,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListConstituencies(); }));
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0].name, "zeta");
  EXPECT_EQ(all[1].name, "alpha");
  EXPECT_EQ(all[2].name, "mu");
  EXPECT_LT(all[0].id, all[1].id);
  EXPECT_LT(all[1].id, all[2].id);
}

TYPED_TEST(StoreContractTest, ContactRoundTripsEveryField) {
  ASSERT_OK_AND_ASSIGN(const auto constituency, this->AddConstituency("example-isp"));
  core::Contact peer;
  peer.name = "JPCERT/CC";
  peer.email = "info@jpcert.or.jp";
  peer.organisation = "一般社団法人JPCERTコーディネーションセンター";
  peer.kind = core::ContactKind::kCsirt;
  peer.pgp_fingerprint = "FC89AE0B00E5F4D3A87F0D3F4A3E8A1E3C1BB2EA";
  peer.tlp_clearance = core::Tlp::kAmberStrict;
  peer.created_at = kT0;
  core::Contact poc;
  poc.name = "NOC";
  poc.email = "noc@example.net";
  poc.kind = core::ContactKind::kIsp;
  poc.tlp_clearance = core::Tlp::kGreen;
  poc.constituency_id = constituency.id;
  poc.created_at = At(2026, 3, 15);

  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto first, tx.CreateContact(Ctx(), peer));
    peer.id = first.id;
    HIKESHI_TRY(const auto second, tx.CreateContact(Ctx(), poc));
    poc.id = second.id;
    return {};
  }));
  EXPECT_GT(peer.id, 0);
  EXPECT_GT(poc.id, peer.id);

  ASSERT_OK_AND_ASSIGN(const auto contacts,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListContacts(); }));
  ASSERT_EQ(contacts.size(), 2U);
  ExpectSameContact(contacts[0], peer);
  ExpectSameContact(contacts[1], poc);
}

// The trust circle: a contact introduced by another keeps both the introducer and its trust
// level; the change is journaled as contact.update and audit verify still agrees with the store.
TYPED_TEST(StoreContractTest, ContactUpdateKeepsTrustAndIntroducerAndIsJournaled) {
  core::Contact peer;
  peer.name = "JPCERT/CC";
  peer.email = "info@jpcert.or.jp";
  peer.kind = core::ContactKind::kCsirt;
  peer.created_at = kT0;
  core::Contact noc = peer;
  noc.name = "NOC";
  noc.email = "noc@example.net";
  noc.kind = core::ContactKind::kIsp;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(peer, tx.CreateContact(Ctx(), peer));
    HIKESHI_TRY(noc, tx.CreateContact(Ctx(), noc));
    return {};
  }));
  EXPECT_EQ(noc.trust, core::ContactTrust::kUnvetted);

  core::Contact changed = noc;
  changed.trust = core::ContactTrust::kIntroduced;
  changed.introduced_by = peer.id;
  changed.tlp_clearance = core::Tlp::kAmber;
  changed.organisation = "Example ISP";
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) { return tx.UpdateContact(Ctx("bob", kT0 + std::chrono::hours(1)), noc, changed); }));

  ASSERT_OK_AND_ASSIGN(const auto contacts,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListContacts(); }));
  ASSERT_EQ(contacts.size(), 2U);
  ExpectSameContact(contacts[0], peer);
  ExpectSameContact(contacts[1], changed);

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  ASSERT_EQ(audit.size(), 3U);
  EXPECT_EQ(audit[2].action, "contact.update");
  EXPECT_EQ(audit[2].actor, "bob");
  EXPECT_EQ(audit[2].object_type, "contact");
  EXPECT_EQ(audit[2].object_id, std::to_string(noc.id));
  EXPECT_EQ(audit[2].before, audit[1].after);
  EXPECT_THAT(audit[2].after, HasSubstr("\"trust\":\"introduced\""));
  EXPECT_THAT(audit[2].after, HasSubstr("\"introduced_by\":" + std::to_string(peer.id)));
  ASSERT_OK_AND_ASSIGN(const auto verdict, core::VerifyAudit(this->TheStore()));
  EXPECT_TRUE(verdict.ok()) << verdict.problem;
  EXPECT_EQ(verdict.objects_checked, 2);

  // Back to nobody: the introducer is cleared, not kept.
  core::Contact cleared = changed;
  cleared.introduced_by.reset();
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) { return tx.UpdateContact(Ctx(), changed, cleared); }));
  ASSERT_OK_AND_ASSIGN(const auto again,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListContacts(); }));
  ASSERT_EQ(again.size(), 2U);
  EXPECT_EQ(again[1].introduced_by, std::nullopt);
  EXPECT_EQ(again[1].trust, core::ContactTrust::kIntroduced);

  // A contact that is not stored cannot be updated.
  core::Contact ghost = cleared;
  ghost.id = noc.id + 1000;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) { return tx.UpdateContact(Ctx(), ghost, ghost); }),
               ErrorCode::kNotFound);
}

TYPED_TEST(StoreContractTest, UserRoundTripsEveryField) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  core::User wanted = NewUser("hanako");
  wanted.display_name = "山田 花子";
  wanted.role = core::Role::kConstituent;
  wanted.scope_all = false;
  wanted.constituency_ids = {b.id, a.id};  // order is kept
  wanted.disabled = false;

  ASSERT_OK_AND_ASSIGN(const auto created,
                       WriteValue(this->TheStore(), [&](core::WriteTx& tx) { return tx.CreateUser(Ctx(), wanted); }));
  EXPECT_GT(created.id, 0);
  wanted.id = created.id;

  ASSERT_OK_AND_ASSIGN(const auto by_name,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.FindUser("hanako"); }));
  ASSERT_TRUE(by_name.has_value());
  ExpectSameUser(*by_name, wanted);
  ASSERT_OK_AND_ASSIGN(const auto by_id,
                       ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.FindUserById(created.id); }));
  ASSERT_TRUE(by_id.has_value());
  ExpectSameUser(*by_id, wanted);

  core::User changed = wanted;
  changed.role = core::Role::kAdmin;
  changed.scope_all = true;
  changed.constituency_ids = {};
  changed.disabled = true;
  changed.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2g";
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateUser(Ctx(), "user.update", wanted, changed); }));
  ASSERT_OK_AND_ASSIGN(const auto users,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListUsers(); }));
  ASSERT_EQ(users.size(), 1U);
  ExpectSameUser(users[0], changed);

  ASSERT_OK_AND_ASSIGN(const auto missing,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.FindUser("Hanako"); }));
  EXPECT_EQ(missing, std::nullopt) << "usernames are compared exactly";
}

TYPED_TEST(StoreContractTest, ApiTokenRoundTripAndRevocation) {
  ASSERT_OK_AND_ASSIGN(const auto user, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateUser(Ctx(), NewUser("bot"));
                       }));
  core::ApiToken wanted;
  wanted.user_id = user.id;
  wanted.name = "shadowserver feed";
  wanted.secret_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  wanted.created_at = kT0;
  ASSERT_OK_AND_ASSIGN(const auto created, WriteValue(this->TheStore(), [&](core::WriteTx& tx) {
                         return tx.CreateApiToken(Ctx(), wanted);
                       }));
  EXPECT_GT(created.id, 0);
  wanted.id = created.id;

  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindApiToken(wanted.secret_sha256);
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameToken(*found, wanted);

  core::ApiToken revoked = wanted;
  revoked.revoked = true;
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateApiToken(Ctx(), wanted, revoked); }));
  ASSERT_OK_AND_ASSIGN(const auto tokens,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListApiTokens(); }));
  ASSERT_EQ(tokens.size(), 1U);
  ExpectSameToken(tokens[0], revoked);

  ASSERT_OK_AND_ASSIGN(const auto unknown, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindApiToken("0000000000000000000000000000000000000000000000000000000000000000");
                       }));
  EXPECT_EQ(unknown, std::nullopt);

  core::ApiToken same_secret = wanted;
  same_secret.name = "copy";
  EXPECT_ERROR(WriteValue(this->TheStore(), [&](core::WriteTx& tx) { return tx.CreateApiToken(Ctx(), same_secret); }),
               ErrorCode::kConflict);
}

TYPED_TEST(StoreContractTest, SessionsAreCreatedFoundDeletedAndPurged) {
  ASSERT_OK_AND_ASSIGN(const auto user, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateUser(Ctx(), NewUser("taro"));
                       }));
  const Timestamp now = At(2026, 3, 14, 12, 0);
  const core::Session kept{"1111111111111111111111111111111111111111111111111111111111111111", user.id, "csrf-kept",
                           kT0, now + std::chrono::hours(1)};
  const core::Session expired{"2222222222222222222222222222222222222222222222222222222222222222", user.id,
                              "csrf-expired", kT0, now - std::chrono::microseconds(1)};
  const core::Session at_the_limit{"3333333333333333333333333333333333333333333333333333333333333333", user.id,
                                   "csrf-limit", kT0, now};
  const core::Session logged_out{"4444444444444444444444444444444444444444444444444444444444444444", user.id,
                                 "csrf-out", kT0, now + std::chrono::hours(2)};
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    for (const auto* session : {&kept, &expired, &at_the_limit, &logged_out}) {
      HIKESHI_CHECK(tx.CreateSession(Ctx(), *session, "taro"));
    }
    return {};
  }));

  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindSession(kept.secret_sha256);
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameSession(*found, kept);

  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.DeleteSession(Ctx(), logged_out, "taro"); }));
  ASSERT_OK_AND_ASSIGN(const auto audit_before_purge, this->Audit());
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> { return tx.PurgeExpiredSessions(now); }));

  // "drops sessions that expired before `now`": the one expiring exactly at `now` stays.
  const std::vector<std::pair<const core::Session*, bool>> expected_presence = {
      {&kept, true}, {&expired, false}, {&at_the_limit, true}, {&logged_out, false}};
  for (const auto& entry : expected_presence) {
    const core::Session& session = *entry.first;
    ASSERT_OK_AND_ASSIGN(const auto lookup, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                           return r.FindSession(session.secret_sha256);
                         }));
    EXPECT_EQ(lookup.has_value(), entry.second) << session.csrf_token;
  }

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  EXPECT_EQ(audit.size(), audit_before_purge.size()) << "purging is housekeeping, not audited";
  ASSERT_EQ(audit.size(), 6U);  // user.create, 4 x session.login, session.logout
  EXPECT_EQ(audit[1].action, "session.login");
  EXPECT_EQ(audit[1].object_id, "taro");
  EXPECT_EQ(audit[5].action, "session.logout");
  for (const auto& entry : audit) {
    EXPECT_THAT(entry.after + entry.before, ::testing::Not(HasSubstr("1111111111111111")))
        << "no secret in the journal";
  }
}

TYPED_TEST(StoreContractTest, IncidentRoundTripsEveryField) {
  ASSERT_OK_AND_ASSIGN(const auto constituency, this->AddConstituency("example-university"));
  ASSERT_OK_AND_ASSIGN(const auto owner, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateUser(Ctx(), NewUser("hanako"));
                       }));
  ASSERT_OK_AND_ASSIGN(const auto target, this->AddIncident(NewIncident("merge target")));
  ASSERT_EQ(target.human_id, "I-2026-000001");

  Incident full = NewIncident("Webサーバへの不正アクセス \"quoted\" 'single' \\ 🔥");
  full.description = "line 1\nline 2\ttab\n管理画面から侵入された形跡";
  full.category = core::Category{"information-content-security", "data-leak"};
  full.apt = true;
  full.constituency_id = constituency.id;
  full.impact = 1;
  full.urgency = 2;
  full.priority = 1;
  full.status = core::IncidentStatus::kMerged;
  full.phase = core::Phase::kContainment;
  full.owner_id = owner.id;
  full.tlp = core::Tlp::kRed;
  full.exercise = true;
  full.merged_into = target.id;
  full.observables = {
      {ObservableType::kDomain, "evil.example"},
      {ObservableType::kIpv4, "192.0.2.7"},
      {ObservableType::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {ObservableType::kIpv4, "192.0.2.1"},  // after .7: stored order, not sorted
      {ObservableType::kUrl, "https://evil.example/login?a=1&b=2"},
  };
  full.created_at = At(2026, 5, 1, 8, 0, 1);
  full.updated_at = At(2026, 5, 2, 9, 0, 999999);
  full.resolved_at = At(2026, 5, 3, 10, 0, 42);
  full.closed_at = At(2026, 5, 4, 11, 0, 7);

  ASSERT_OK_AND_ASSIGN(const auto created, this->AddIncident(full));
  full.id = created.id;
  full.human_id = "I-2026-000002";
  EXPECT_GT(created.id, target.id);
  ExpectSameIncident(created, full);

  ASSERT_OK_AND_ASSIGN(const auto by_human_id, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindIncident(Scope::All(), "I-2026-000002");
                       }));
  ASSERT_TRUE(by_human_id.has_value());
  ExpectSameIncident(*by_human_id, full);
  ASSERT_OK_AND_ASSIGN(const auto by_id, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindIncidentById(Scope::All(), full.id);
                       }));
  ASSERT_TRUE(by_id.has_value());
  ExpectSameIncident(*by_id, full);

  // The minimal incident: every optional empty, no observables.
  ASSERT_OK_AND_ASSIGN(const auto found_target, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindIncident(Scope::All(), "I-2026-000001");
                       }));
  ASSERT_TRUE(found_target.has_value());
  Incident minimal = NewIncident("merge target");
  minimal.id = target.id;
  minimal.human_id = "I-2026-000001";
  ExpectSameIncident(*found_target, minimal);
}

TYPED_TEST(StoreContractTest, IncidentUpdateReplacesEveryField) {
  ASSERT_OK_AND_ASSIGN(const auto owner, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateUser(Ctx(), NewUser("hanako"));
                       }));
  Incident before = NewIncident("初報");
  before.owner_id = owner.id;
  before.resolved_at = At(2026, 3, 20);
  before.observables = {{ObservableType::kIpv4, "192.0.2.1"}, {ObservableType::kDomain, "a.example"}};
  ASSERT_OK_AND_ASSIGN(before, this->AddIncident(before));

  Incident after = before;
  after.title = "続報: 侵入を確認";
  after.description = "詳細";
  after.category = core::Category{"malicious-code", "infected-system"};
  after.impact = 2;
  after.urgency = 1;
  after.priority = 1;
  after.status = core::IncidentStatus::kResolved;
  after.phase = core::Phase::kRecovery;
  after.owner_id = std::nullopt;
  after.tlp = core::Tlp::kGreen;
  after.resolved_at = std::nullopt;
  after.closed_at = At(2026, 3, 21);
  after.updated_at = At(2026, 3, 21, 1);
  after.observables = {{ObservableType::kDomain, "a.example"},
                       {ObservableType::kCve, "CVE-2024-12345"},
                       {ObservableType::kIpv4, "192.0.2.1"}};
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateIncident(Ctx(), "incident.update", before, after); }));

  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindIncident(Scope::All(), before.human_id);
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameIncident(*found, after);

  Incident emptied = after;
  emptied.observables = {};
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateIncident(Ctx(), "incident.update", after, emptied); }));
  ASSERT_OK_AND_ASSIGN(const auto found_again, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindIncidentById(Scope::All(), before.id);
                       }));
  ASSERT_TRUE(found_again.has_value());
  EXPECT_THAT(found_again->observables, IsEmpty());
}

TYPED_TEST(StoreContractTest, ReportRoundTripsEveryField) {
  ASSERT_OK_AND_ASSIGN(const auto constituency, this->AddConstituency("example-isp"));
  ASSERT_OK_AND_ASSIGN(const auto incident, this->AddIncident(NewIncident("phishing wave")));

  Report linked = NewReport("【至急】フィッシングサイトの報告");
  linked.channel = core::Channel::kWeb;
  linked.reporter = "山田 <yamada@example.jp>";
  linked.body = std::string("本文\r\n") + std::string(100000, 'x') + "\n終わり";
  linked.category = core::Category{"fraud", "phishing"};
  linked.constituency_id = constituency.id;
  linked.tlp = core::Tlp::kClear;
  linked.status = core::ReportStatus::kLinked;
  linked.incident_id = incident.id;
  linked.observables = {{ObservableType::kUrl, "http://phish.example/"},
                        {ObservableType::kEmail, "victim@example.jp"},
                        {ObservableType::kDomain, "phish.example"}};
  linked.flags = {"pgp_verified", "html_only"};
  linked.received_at = At(2026, 12, 31, 23, 59, 999999);
  linked.updated_at = At(2027, 1, 1, 0, 0, 1);

  Report rejected = NewReport("");
  rejected.channel = core::Channel::kFeed;
  rejected.status = core::ReportStatus::kRejected;
  rejected.reject_reason = core::RejectReason::kOutOfScope;
  rejected.reject_comment = "not our network";
  rejected.flags = {"parse_failed"};

  ASSERT_OK_AND_ASSIGN(const auto created_linked, this->AddReport(linked));
  ASSERT_OK_AND_ASSIGN(const auto created_rejected, this->AddReport(rejected));
  linked.id = created_linked.id;
  linked.human_id = "R-2026-000001";
  rejected.id = created_rejected.id;
  rejected.human_id = "R-2026-000002";
  ExpectSameReport(created_linked, linked);
  ExpectSameReport(created_rejected, rejected);

  for (const Report* wanted : {&linked, &rejected}) {
    ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                           return r.FindReport(Scope::All(), wanted->human_id);
                         }));
    ASSERT_TRUE(found.has_value()) << wanted->human_id;
    ExpectSameReport(*found, *wanted);
  }

  Report updated = rejected;
  updated.status = core::ReportStatus::kLinked;
  updated.reject_reason = std::nullopt;
  updated.reject_comment = "";
  updated.incident_id = incident.id;
  updated.category = core::Category{"fraud", "phishing"};
  updated.flags = {"reviewed", "parse_failed"};
  updated.observables = {{ObservableType::kIpv6, "2001:db8::1"}};
  updated.subject = "re-parsed";
  updated.body = "parsed body";
  updated.updated_at = At(2026, 4, 1);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.link", rejected, updated, incident.human_id);
  }));
  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), "R-2026-000002");
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameReport(*found, updated);
}

TYPED_TEST(StoreContractTest, SharedObservablesStayWithEachOwner) {
  const Observable shared{ObservableType::kIpv4, "203.0.113.9"};
  Incident incident = NewIncident("scan");
  incident.observables = {shared, {ObservableType::kAsn, "AS64500"}};
  Report report = NewReport("scan report");
  report.observables = {{ObservableType::kDomain, "x.example"}, shared};
  ASSERT_OK_AND_ASSIGN(incident, this->AddIncident(incident));
  ASSERT_OK_AND_ASSIGN(report, this->AddReport(report));

  Report changed = report;
  changed.observables = {shared};
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateReport(Ctx(), "report.update", report, changed, ""); }));

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto found_incident, r.FindIncident(Scope::All(), incident.human_id));
    EXPECT_TRUE(found_incident.has_value());
    if (found_incident) {
      EXPECT_THAT(found_incident->observables, ElementsAre(shared, Observable{ObservableType::kAsn, "AS64500"}));
    }
    HIKESHI_TRY(const auto found_report, r.FindReport(Scope::All(), report.human_id));
    EXPECT_TRUE(found_report.has_value());
    if (found_report) {
      EXPECT_THAT(found_report->observables, ElementsAre(shared));
    }
    return {};
  }));
}

// Values with the characters a list literal gives meaning to (PostgreSQL sends a report's
// observables as two text arrays in one statement) come back as they went in, in order, and a
// pivot finds them; the same value twice in one list keeps both positions.
TYPED_TEST(StoreContractTest, ObservablesWithQuotesBracesAndBackslashesComeBackIntact) {
  const std::vector<Observable> odd = {
      {ObservableType::kUrl, R"(https://x.example/a?q="1",{2}\3 NULL)"},
      {ObservableType::kEmail, R"("odd,one"@example.org)"},
      {ObservableType::kDomain, "ドメイン.example"},
      {ObservableType::kUrl, "https://x.example/{}"},
      {ObservableType::kDomain, "ドメイン.example"},
  };
  Report report = NewReport("odd values");
  report.observables = odd;
  ASSERT_OK_AND_ASSIGN(report, this->AddReport(report));
  Incident incident = NewIncident("odd values");
  incident.observables = {odd[0], odd[1]};
  ASSERT_OK_AND_ASSIGN(incident, this->AddIncident(incident));
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto found_report, r.FindReport(Scope::All(), report.human_id));
    EXPECT_TRUE(found_report.has_value());
    if (found_report) {
      EXPECT_EQ(found_report->observables, odd);
    }
    HIKESHI_TRY(const auto found_incident, r.FindIncident(Scope::All(), incident.human_id));
    EXPECT_TRUE(found_incident.has_value());
    if (found_incident) {
      EXPECT_THAT(found_incident->observables, ElementsAre(odd[0], odd[1]));
    }
    HIKESHI_TRY(const auto sightings, r.FindSightings(Scope::All(), odd[1], 10));
    EXPECT_EQ(sightings.reports.size(), 1u);
    EXPECT_EQ(sightings.incidents.size(), 1u);
    return {};
  }));
}

// A page of incidents carries each incident's own observables, in its order (PostgreSQL loads a
// page's observables in one query and must hand each row back to its incident).
TYPED_TEST(StoreContractTest, APageOfIncidentsKeepsEachIncidentsObservablesInOrder) {
  const Observable shared{ObservableType::kIpv4, "203.0.113.9"};
  const Observable domain{ObservableType::kDomain, "c2.example"};
  const Observable asn{ObservableType::kAsn, "AS64500"};
  Incident first = NewIncident("first");
  first.observables = {domain, shared};
  Incident bare = NewIncident("no observables");
  Incident third = NewIncident("third");
  third.observables = {shared, asn, domain};
  ASSERT_OK_AND_ASSIGN(first, this->AddIncident(first));
  ASSERT_OK_AND_ASSIGN(bare, this->AddIncident(bare));
  ASSERT_OK_AND_ASSIGN(third, this->AddIncident(third));

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    core::IncidentQuery query;
    HIKESHI_TRY(const auto page, r.ListIncidents(Scope::All(), query));
    EXPECT_EQ(page.items.size(), 3u);
    if (page.items.size() == 3) {  // newest first
      EXPECT_EQ(page.items[0].human_id, third.human_id);
      EXPECT_THAT(page.items[0].observables, ElementsAre(shared, asn, domain));
      EXPECT_TRUE(page.items[1].observables.empty());
      EXPECT_THAT(page.items[2].observables, ElementsAre(domain, shared));
    }
    return {};
  }));
}

TYPED_TEST(StoreContractTest, TextRoundTripsByteForByte) {
  std::string long_body;
  for (int i = 0; i < 20000; ++i) long_body += "行" + std::to_string(i) + "\n";  // about 170 KB
  Report report = NewReport("  leading and trailing spaces  ");
  report.body = long_body;
  report.reporter = "\"Quoted, Name\" <a@b.example>; DROP TABLE reports; --";
  ASSERT_OK_AND_ASSIGN(const auto created, this->AddReport(report));
  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), created.human_id);
                       }));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->subject, "  leading and trailing spaces  ");
  EXPECT_EQ(found->body, long_body);
  EXPECT_EQ(found->reporter, "\"Quoted, Name\" <a@b.example>; DROP TABLE reports; --");
}

// --- Human ids ----------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, HumanIdsCountPerKindAndPerYear) {
  const Timestamp in_2026 = At(2026, 6, 1);
  const Timestamp in_2027 = At(2027, 1, 1, 0, 0, 0);
  const Timestamp last_moment_of_2026 = At(2026, 12, 31, 23, 59, 59999999);
  std::vector<std::string> ids;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto i1, tx.CreateIncident(Ctx(), NewIncident("a", in_2026)));
    HIKESHI_TRY(const auto r1, tx.CreateReport(Ctx(), NewReport("a", in_2026)));
    HIKESHI_TRY(const auto i2, tx.CreateIncident(Ctx(), NewIncident("b", in_2026)));
    HIKESHI_TRY(const auto i3, tx.CreateIncident(Ctx(), NewIncident("c", in_2027)));
    HIKESHI_TRY(const auto r2, tx.CreateReport(Ctx(), NewReport("b", last_moment_of_2026)));
    HIKESHI_TRY(const auto r3, tx.CreateReport(Ctx(), NewReport("c", in_2027)));
    ids = {i1.human_id, r1.human_id, i2.human_id, i3.human_id, r2.human_id, r3.human_id};
    return {};
  }));
  EXPECT_THAT(ids, ElementsAre("I-2026-000001", "R-2026-000001", "I-2026-000002", "I-2027-000001", "R-2026-000002",
                               "R-2027-000001"));

  // A later transaction continues each sequence.
  ASSERT_OK_AND_ASSIGN(const auto next_2026, this->AddIncident(NewIncident("d", in_2026)));
  EXPECT_EQ(next_2026.human_id, "I-2026-000003");
  ASSERT_OK_AND_ASSIGN(const auto next_2027, this->AddReport(NewReport("d", in_2027)));
  EXPECT_EQ(next_2027.human_id, "R-2027-000002");
}

// --- Transactions -------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, CallbackErrorRollsBackEveryWriteAndTheCounter) {
  const auto result = this->TheStore().Write([](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateConstituency(Ctx(), NewConstituency("example-university")));
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident("never stored")));
    HIKESHI_CHECK(tx.CreateReport(Ctx(), NewReport("never stored")));
    return Fail(Error::InvalidArgument("stop here", "/title"));
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "stop here");
  EXPECT_EQ(result.error().field(), "/title");

  ASSERT_OK(this->TheStore().Read([](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto constituency, r.FindConstituency("example-university"));
    EXPECT_EQ(constituency, std::nullopt);
    HIKESHI_TRY(const auto incidents, r.ListIncidents(Scope::All(), {}));
    EXPECT_THAT(incidents.items, IsEmpty());
    HIKESHI_TRY(const auto reports, r.ListReports(Scope::All(), {}));
    EXPECT_THAT(reports.items, IsEmpty());
    HIKESHI_TRY(const auto audit, r.ListAudit(0, 100));
    EXPECT_THAT(audit, IsEmpty());
    return {};
  }));

  // Counters are part of the transaction: human ids have no gaps.
  ASSERT_OK_AND_ASSIGN(const auto incident, this->AddIncident(NewIncident("first for real")));
  EXPECT_EQ(incident.human_id, "I-2026-000001");
  ASSERT_OK_AND_ASSIGN(const auto report, this->AddReport(NewReport("first for real")));
  EXPECT_EQ(report.human_id, "R-2026-000001");
}

TYPED_TEST(StoreContractTest, UniqueClashIsConflictAndRollsBackTheWholeTransaction) {
  ASSERT_OK(this->AddConstituency("example-university"));

  const auto clash = this->TheStore().Write([](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateConstituency(Ctx(), NewConstituency("written-first")));
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident("written-first")));
    HIKESHI_CHECK(tx.CreateConstituency(Ctx(), NewConstituency("example-university")));
    return {};
  });
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(clash.error().message(), HasSubstr("example-university"));

  ASSERT_OK(this->TheStore().Read([](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto all, r.ListConstituencies());
    EXPECT_EQ(all.size(), 1U);
    HIKESHI_TRY(const auto incidents, r.ListIncidents(Scope::All(), {}));
    EXPECT_THAT(incidents.items, IsEmpty());
    HIKESHI_TRY(const auto audit, r.ListAudit(0, 100));
    EXPECT_EQ(audit.size(), 1U) << "only the first, committed creation is journaled";
    return {};
  }));

  // Renaming onto an existing name clashes too, and so do usernames.
  ASSERT_OK_AND_ASSIGN(const auto other, this->AddConstituency("other"));
  core::Constituency renamed = other;
  renamed.name = "example-university";
  EXPECT_ERROR(this->TheStore().Write(
                   [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateConstituency(Ctx(), other, renamed); }),
               ErrorCode::kConflict);
  ASSERT_OK(WriteValue(this->TheStore(), [](core::WriteTx& tx) { return tx.CreateUser(Ctx(), NewUser("hanako")); }));
  const auto user_clash =
      WriteValue(this->TheStore(), [](core::WriteTx& tx) { return tx.CreateUser(Ctx(), NewUser("hanako")); });
  ASSERT_FALSE(user_clash.has_value());
  EXPECT_EQ(user_clash.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(user_clash.error().message(), HasSubstr("hanako"));
  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  EXPECT_EQ(audit.size(), 3U);  // two constituencies, one user
}

TYPED_TEST(StoreContractTest, UpdatingSomethingThatDoesNotExistIsNotFound) {
  Incident ghost = NewIncident("ghost");
  ghost.id = 424242;
  ghost.human_id = "I-2026-424242";
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateIncident(Ctx(), "incident.update", ghost, ghost);
  }),
               ErrorCode::kNotFound);
  Report ghost_report = NewReport("ghost");
  ghost_report.id = 424242;
  ghost_report.human_id = "R-2026-424242";
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.update", ghost_report, ghost_report, "");
  }),
               ErrorCode::kNotFound);
  core::Constituency ghost_constituency = NewConstituency("ghost");
  ghost_constituency.id = 424242;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateConstituency(Ctx(), ghost_constituency, ghost_constituency);
  }),
               ErrorCode::kNotFound);
  core::User ghost_user = NewUser("ghost");
  ghost_user.id = 424242;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateUser(Ctx(), "user.update", ghost_user, ghost_user);
  }),
               ErrorCode::kNotFound);
  core::ApiToken ghost_token;
  ghost_token.id = 424242;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateApiToken(Ctx(), ghost_token, ghost_token);
  }),
               ErrorCode::kNotFound);
  const core::Session ghost_session{"5555555555555555555555555555555555555555555555555555555555555555", 1, "x", kT0,
                                    kT0};
  EXPECT_ERROR(this->TheStore().Write(
                   [&](core::WriteTx& tx) -> Result<void> { return tx.DeleteSession(Ctx(), ghost_session, "ghost"); }),
               ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  EXPECT_THAT(audit, IsEmpty());
}

TYPED_TEST(StoreContractTest, ReadsInsideAWriteSeeItsOwnChanges) {
  ASSERT_OK(this->TheStore().Write([](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto incident, tx.CreateIncident(Ctx(), NewIncident("侵入の疑い")));
    HIKESHI_TRY(const auto found, tx.FindIncident(Scope::All(), incident.human_id));
    EXPECT_TRUE(found.has_value());
    core::IncidentQuery query;
    query.text = "侵入";
    HIKESHI_TRY(const auto page, tx.ListIncidents(Scope::All(), query));
    EXPECT_THAT(HumanIds(page.items), ElementsAre("I-2026-000001"));
    HIKESHI_TRY(const auto audit, tx.ListAudit(0, 10));
    EXPECT_EQ(audit.size(), 1U);
    return {};
  }));
}

TYPED_TEST(StoreContractTest, AReadSeesOneSnapshotWhileAWriteCommits) {
  ASSERT_OK(this->AddIncident(NewIncident("before")));
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto first, r.ListIncidents(Scope::All(), {}));
    EXPECT_EQ(first.items.size(), 1U);
    // A write from another thread commits while this read is open; it must neither wait for the
    // read nor show up in it.
    Result<Incident> written = Fail(Error::Internal("not run"));
    std::thread writer([&] { written = this->AddIncident(NewIncident("during")); });
    writer.join();
    EXPECT_TRUE(written.has_value()) << Describe(written.error());
    HIKESHI_TRY(const auto second, r.ListIncidents(Scope::All(), {}));
    EXPECT_EQ(second.items.size(), 1U);
    return {};
  }));
  EXPECT_THAT(this->IncidentIds({}), ElementsAre("I-2026-000002", "I-2026-000001"));
}

TYPED_TEST(StoreContractTest, ConcurrentWritersAreSerialised) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto incident = this->AddIncident(NewIncident("thread " + std::to_string(t)));
        if (incident) {
          ids[static_cast<std::size_t>(t)].push_back(incident->human_id);
        } else {
          ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0);
    all.insert(ids[static_cast<std::size_t>(t)].begin(), ids[static_cast<std::size_t>(t)].end());
  }
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), "I-2026-000001");
  EXPECT_EQ(*all.rbegin(), "I-2026-000040");

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  ASSERT_EQ(audit.size(), static_cast<std::size_t>(kThreads * kEach));
  for (std::size_t i = 1; i < audit.size(); ++i) {
    EXPECT_EQ(audit[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(audit[i].prev_hash, audit[i - 1].hash);
  }
}

TYPED_TEST(StoreContractTest, DataSurvivesReopening) {
  ASSERT_OK(this->AddConstituency("example-university"));
  Incident incident = NewIncident("情報漏えいの疑い");
  incident.observables = {{ObservableType::kDomain, "leak.example"}};
  ASSERT_OK(this->AddIncident(incident));

  this->Reopen();

  ASSERT_OK(this->TheStore().Read([](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto constituency, r.FindConstituency("example-university"));
    EXPECT_TRUE(constituency.has_value());
    HIKESHI_TRY(const auto found, r.FindIncident(Scope::All(), "I-2026-000001"));
    EXPECT_TRUE(found.has_value());
    if (found) {
      EXPECT_THAT(found->observables, ElementsAre(Observable{ObservableType::kDomain, "leak.example"}));
    }
    HIKESHI_TRY(const auto audit, r.ListAudit(0, 100));
    EXPECT_EQ(audit.size(), 2U);
    return {};
  }));
  EXPECT_THAT(this->SearchIncidents("漏えい"), ElementsAre("I-2026-000001"));
  ASSERT_OK_AND_ASSIGN(const auto next, this->AddIncident(NewIncident("next")));
  EXPECT_EQ(next.human_id, "I-2026-000002");
}

// --- Audit journal ------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, EveryMutationAppendsOneChainedAuditEntry) {
  const Timestamp t1 = At(2026, 3, 14, 10, 0, 1);
  const Timestamp t2 = At(2026, 3, 14, 10, 5, 2);
  core::Constituency constituency;
  core::User user;
  Incident incident;
  Incident incident_after;
  Report report;
  Report report_after;
  core::Session session{"6666666666666666666666666666666666666666666666666666666666666666", 0, "csrf", t1,
                        t1 + std::chrono::hours(8)};

  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(constituency, tx.CreateConstituency(Ctx("cli", t1), NewConstituency("example-university")));
    HIKESHI_TRY(user, tx.CreateUser(Ctx("cli", t1), NewUser("hanako")));
    return {};
  }));
  session.user_id = user.id;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(incident, tx.CreateIncident(Ctx("hanako", t2), NewIncident("侵入")));
    incident_after = incident;
    incident_after.status = core::IncidentStatus::kResolved;
    HIKESHI_CHECK(tx.UpdateIncident(Ctx("hanako", t2), "incident.resolve", incident, incident_after));
    HIKESHI_TRY(report, tx.CreateReport(Ctx("system", t2), NewReport("侵入の報告")));
    report_after = report;
    report_after.status = core::ReportStatus::kLinked;
    report_after.incident_id = incident.id;
    HIKESHI_CHECK(tx.UpdateReport(Ctx("hanako", t2), "report.link", report, report_after, incident.human_id));
    HIKESHI_CHECK(tx.CreateSession(Ctx("hanako", t2), session, "hanako"));
    return {};
  }));

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  ASSERT_EQ(audit.size(), 7U);

  struct Expected {
    std::string actor, action, object_type, object_id, incident, before, after;
    Timestamp at;
  };
  const std::vector<Expected> expected = {
      {"cli", "constituency.create", "constituency", "example-university", "", "", core::Snapshot(constituency), t1},
      {"cli", "user.create", "user", "hanako", "", "", core::Snapshot(user), t1},
      {"hanako", "incident.create", "incident", "I-2026-000001", "I-2026-000001", "", core::Snapshot(incident), t2},
      {"hanako", "incident.resolve", "incident", "I-2026-000001", "I-2026-000001", core::Snapshot(incident),
       core::Snapshot(incident_after), t2},
      {"system", "report.create", "report", "R-2026-000001", "", "", core::Snapshot(report), t2},
      {"hanako", "report.link", "report", "R-2026-000001", "I-2026-000001", core::Snapshot(report),
       core::Snapshot(report_after), t2},
      {"hanako", "session.login", "session", "hanako", "", "", audit[6].after, t2},
  };
  for (std::size_t i = 0; i < audit.size(); ++i) {
    SCOPED_TRACE("audit entry " + std::to_string(i + 1));
    const auto& entry = audit[i];
    EXPECT_EQ(entry.seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(common::ToMicros(entry.at), common::ToMicros(expected[i].at));
    EXPECT_EQ(entry.actor, expected[i].actor);
    EXPECT_EQ(entry.action, expected[i].action);
    EXPECT_EQ(entry.object_type, expected[i].object_type);
    EXPECT_EQ(entry.object_id, expected[i].object_id);
    EXPECT_EQ(entry.incident, expected[i].incident);
    EXPECT_EQ(entry.before, expected[i].before);
    EXPECT_EQ(entry.after, expected[i].after);
    EXPECT_EQ(entry.prev_hash, i == 0 ? std::string(core::kGenesisHash) : audit[i - 1].hash);
    EXPECT_EQ(entry.hash, core::AuditHash(entry));
    EXPECT_EQ(entry.hash.size(), 64U);
  }
  EXPECT_THAT(audit[6].after, HasSubstr("hanako"));
  EXPECT_THAT(audit[6].after, ::testing::Not(HasSubstr("6666666666")));

  // Paging through the journal.
  ASSERT_OK_AND_ASSIGN(const auto middle,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListAudit(2, 3); }));
  ASSERT_EQ(middle.size(), 3U);
  EXPECT_EQ(middle[0].seq, 3);
  EXPECT_EQ(middle[2].seq, 5);
  ASSERT_OK_AND_ASSIGN(const auto past_end,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListAudit(7, 10); }));
  EXPECT_THAT(past_end, IsEmpty());
}

TYPED_TEST(StoreContractTest, ListAuditForIncidentReturnsItsTimelineInOrder) {
  ASSERT_OK_AND_ASSIGN(const auto first, this->AddIncident(NewIncident("first")));
  ASSERT_OK_AND_ASSIGN(const auto second, this->AddIncident(NewIncident("second")));
  ASSERT_OK_AND_ASSIGN(const auto report, this->AddReport(NewReport("about the first")));
  Incident first_after = first;
  first_after.phase = core::Phase::kAnalysis;
  Incident second_after = second;
  second_after.priority = 1;
  Report report_after = report;
  report_after.status = core::ReportStatus::kLinked;
  report_after.incident_id = first.id;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.UpdateIncident(Ctx(), "incident.phase", first, first_after));
    HIKESHI_CHECK(tx.UpdateIncident(Ctx(), "incident.priority", second, second_after));
    return tx.UpdateReport(Ctx(), "report.link", report, report_after, "I-2026-000001");
  }));

  ASSERT_OK_AND_ASSIGN(const auto timeline, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.ListAuditForIncident("I-2026-000001");
                       }));
  // seq 1 incident.create (first), 2 (second), 3 report.create, 4 incident.phase, 5 (second), 6 report.link
  ASSERT_EQ(timeline.size(), 3U);
  EXPECT_EQ(timeline[0].seq, 1);
  EXPECT_EQ(timeline[0].action, "incident.create");
  EXPECT_EQ(timeline[1].seq, 4);
  EXPECT_EQ(timeline[1].action, "incident.phase");
  EXPECT_EQ(timeline[2].seq, 6);
  EXPECT_EQ(timeline[2].action, "report.link");

  ASSERT_OK_AND_ASSIGN(const auto none, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.ListAuditForIncident("I-2026-999999");
                       }));
  EXPECT_THAT(none, IsEmpty());
}

// --- Scope --------------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, ScopeHidesOtherConstituenciesAndTheUnassignedQueue) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  Incident in_a = NewIncident("侵入 in A");
  in_a.constituency_id = a.id;
  Incident in_b = NewIncident("侵入 in B");
  in_b.constituency_id = b.id;
  Incident unassigned = NewIncident("侵入 unassigned");
  ASSERT_OK_AND_ASSIGN(in_a, this->AddIncident(in_a));              // I-2026-000001
  ASSERT_OK_AND_ASSIGN(in_b, this->AddIncident(in_b));              // I-2026-000002
  ASSERT_OK_AND_ASSIGN(unassigned, this->AddIncident(unassigned));  // I-2026-000003
  Report report_a = NewReport("侵入 report A");
  report_a.constituency_id = a.id;
  Report report_b = NewReport("侵入 report B");
  report_b.constituency_id = b.id;
  ASSERT_OK(this->AddReport(report_a));                       // R-2026-000001
  ASSERT_OK(this->AddReport(report_b));                       // R-2026-000002
  ASSERT_OK(this->AddReport(NewReport("侵入 report none")));  // R-2026-000003

  const Scope only_a{false, {a.id}, std::nullopt};
  const Scope a_and_b{false, {a.id, b.id}, std::nullopt};
  const Scope nothing{false, {}, std::nullopt};

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto own, r.FindIncident(only_a, "I-2026-000001"));
    EXPECT_TRUE(own.has_value());
    HIKESHI_TRY(const auto other, r.FindIncident(only_a, "I-2026-000002"));
    EXPECT_EQ(other, std::nullopt);
    HIKESHI_TRY(const auto queue, r.FindIncident(only_a, "I-2026-000003"));
    EXPECT_EQ(queue, std::nullopt);
    HIKESHI_TRY(const auto other_by_id, r.FindIncidentById(only_a, in_b.id));
    EXPECT_EQ(other_by_id, std::nullopt);
    HIKESHI_TRY(const auto queue_by_id, r.FindIncidentById(a_and_b, unassigned.id));
    EXPECT_EQ(queue_by_id, std::nullopt);
    HIKESHI_TRY(const auto queue_for_all, r.FindIncidentById(Scope::All(), unassigned.id));
    EXPECT_TRUE(queue_for_all.has_value());
    HIKESHI_TRY(const auto other_report, r.FindReport(only_a, "R-2026-000002"));
    EXPECT_EQ(other_report, std::nullopt);
    HIKESHI_TRY(const auto queue_report, r.FindReport(a_and_b, "R-2026-000003"));
    EXPECT_EQ(queue_report, std::nullopt);
    HIKESHI_TRY(const auto own_report, r.FindReport(only_a, "R-2026-000001"));
    EXPECT_TRUE(own_report.has_value());
    return {};
  }));

  EXPECT_THAT(this->IncidentIds({}, only_a), ElementsAre("I-2026-000001"));
  EXPECT_THAT(this->IncidentIds({}, a_and_b), ElementsAre("I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(this->IncidentIds({}, nothing), IsEmpty());
  EXPECT_THAT(this->IncidentIds({}, Scope::All()), ElementsAre("I-2026-000003", "I-2026-000002", "I-2026-000001"));
  core::IncidentQuery asking_for_b;
  asking_for_b.constituency_id = b.id;
  EXPECT_THAT(this->IncidentIds(asking_for_b, only_a), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("侵入", only_a), ElementsAre("I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("侵入", nothing), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("侵入"), ElementsAre("I-2026-000003", "I-2026-000002", "I-2026-000001"));

  EXPECT_THAT(this->ReportIds({}, only_a), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->ReportIds({}, a_and_b), ElementsAre("R-2026-000002", "R-2026-000001"));
  EXPECT_THAT(this->ReportIds({}, nothing), IsEmpty());
  EXPECT_THAT(this->SearchReports("侵入", only_a), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("report", a_and_b), ElementsAre("R-2026-000002", "R-2026-000001"));
  EXPECT_THAT(this->SearchReports("侵入"), ElementsAre("R-2026-000003", "R-2026-000002", "R-2026-000001"));
}

// A constituent's scope carries a TLP ceiling (AMBER+STRICT): TLP:RED incidents and reports of its
// own constituency are as invisible as another constituency's, in every scoped read.
TYPED_TEST(StoreContractTest, TlpCeilingHidesRedIncidentsAndReportsOfTheOwnConstituency) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  const Observable value{ObservableType::kIpv4, "198.51.100.7"};
  const auto incident = [&](Tlp tlp) {
    Incident i = NewIncident("侵入 labelled");
    i.constituency_id = a.id;
    i.tlp = tlp;
    i.observables = {value};
    return i;
  };
  const auto report = [&](Tlp tlp) {
    Report r = NewReport("侵入 labelled");
    r.constituency_id = a.id;
    r.tlp = tlp;
    r.observables = {value};
    return r;
  };
  Incident red_incident;
  Incident amber_later_red;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(Tlp::kClear)));                 // I-1
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(Tlp::kAmber)));                 // I-2
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(Tlp::kAmberStrict)));           // I-3
    HIKESHI_TRY(red_incident, tx.CreateIncident(Ctx(), incident(Tlp::kRed)));       // I-4
    HIKESHI_TRY(amber_later_red, tx.CreateIncident(Ctx(), incident(Tlp::kAmber)));  // I-5
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(Tlp::kGreen)));                     // R-1
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(Tlp::kRed)));                       // R-2
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(Tlp::kAmberStrict)));               // R-3
    return {};
  }));

  const Scope constituent{false, {a.id}, Tlp::kAmberStrict};
  const Scope handler{false, {a.id}, std::nullopt};
  const Scope everything_up_to_amber{true, {}, Tlp::kAmber};

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto red, r.FindIncident(constituent, "I-2026-000004"));
    EXPECT_EQ(red, std::nullopt);
    HIKESHI_TRY(const auto red_by_id, r.FindIncidentById(constituent, red_incident.id));
    EXPECT_EQ(red_by_id, std::nullopt);
    HIKESHI_TRY(const auto strict, r.FindIncident(constituent, "I-2026-000003"));
    EXPECT_TRUE(strict.has_value());
    HIKESHI_TRY(const auto red_for_handler, r.FindIncident(handler, "I-2026-000004"));
    EXPECT_TRUE(red_for_handler.has_value());
    HIKESHI_TRY(const auto red_report, r.FindReport(constituent, "R-2026-000002"));
    EXPECT_EQ(red_report, std::nullopt);
    HIKESHI_TRY(const auto strict_report, r.FindReport(constituent, "R-2026-000003"));
    EXPECT_TRUE(strict_report.has_value());
    HIKESHI_TRY(const auto red_report_for_handler, r.FindReport(handler, "R-2026-000002"));
    EXPECT_TRUE(red_report_for_handler.has_value());
    return {};
  }));

  const std::vector<std::string> every_incident{"I-2026-000005", "I-2026-000004", "I-2026-000003", "I-2026-000002",
                                                "I-2026-000001"};
  const std::vector<std::string> every_report{"R-2026-000003", "R-2026-000002", "R-2026-000001"};
  EXPECT_THAT(this->IncidentIds({}, constituent),
              ElementsAre("I-2026-000005", "I-2026-000003", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(this->IncidentIds({}, handler), ElementsAreArray(every_incident));
  EXPECT_THAT(this->IncidentIds({}, everything_up_to_amber),
              ElementsAre("I-2026-000005", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("侵入", constituent),
              ElementsAre("I-2026-000005", "I-2026-000003", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("侵入", handler), ElementsAreArray(every_incident));
  EXPECT_THAT(this->ReportIds({}, constituent), ElementsAre("R-2026-000003", "R-2026-000001"));
  EXPECT_THAT(this->ReportIds({}, handler), ElementsAreArray(every_report));
  EXPECT_THAT(this->ReportIds({}, everything_up_to_amber), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("侵入", constituent), ElementsAre("R-2026-000003", "R-2026-000001"));

  const auto pivot = [&](const Scope& scope) {
    return ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.FindSightings(scope, value, 500); });
  };
  ASSERT_OK_AND_ASSIGN(const auto seen, pivot(constituent));
  EXPECT_THAT(HumanIds(seen.incidents),
              ElementsAre("I-2026-000005", "I-2026-000003", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(HumanIds(seen.reports), ElementsAre("R-2026-000003", "R-2026-000001"));
  ASSERT_OK_AND_ASSIGN(const auto seen_by_handler, pivot(handler));
  EXPECT_THAT(HumanIds(seen_by_handler.incidents), ElementsAreArray(every_incident));
  EXPECT_THAT(HumanIds(seen_by_handler.reports), ElementsAreArray(every_report));

  // Raising an incident's label to RED takes it out of the constituent's view at once.
  Incident raised = amber_later_red;
  raised.tlp = Tlp::kRed;
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) { return tx.UpdateIncident(Ctx(), "incident.update", amber_later_red, raised); }));
  EXPECT_THAT(this->IncidentIds({}, constituent), ElementsAre("I-2026-000003", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("侵入", constituent),
              ElementsAre("I-2026-000003", "I-2026-000002", "I-2026-000001"));
}

// --- Filters ------------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, IncidentFiltersSelectExactlyTheMatchingRows) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  ASSERT_OK_AND_ASSIGN(const auto owner, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateUser(Ctx(), NewUser("o"));
                       }));

  struct Row {
    core::IncidentStatus status;
    core::Category category;
    std::optional<std::int64_t> constituency;
    int priority;
    std::optional<std::int64_t> owner;
  };
  const core::Category phishing{"fraud", "phishing"};
  const core::Category masquerade{"fraud", "masquerade"};
  const core::Category ddos{"availability", "ddos"};
  const std::vector<Row> rows = {
      {core::IncidentStatus::kOpen, phishing, a.id, 1, owner.id},            // I-2026-000001
      {core::IncidentStatus::kOpen, masquerade, b.id, 2, std::nullopt},      // I-2026-000002
      {core::IncidentStatus::kResolved, ddos, a.id, 1, std::nullopt},        // I-2026-000003
      {core::IncidentStatus::kClosed, phishing, std::nullopt, 3, owner.id},  // I-2026-000004
      {core::IncidentStatus::kOpen, ddos, b.id, 4, owner.id},                // I-2026-000005
  };
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    for (const Row& row : rows) {
      Incident incident = NewIncident("row");
      incident.status = row.status;
      incident.category = row.category;
      incident.constituency_id = row.constituency;
      incident.priority = row.priority;
      incident.owner_id = row.owner;
      HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident));
    }
    return {};
  }));

  core::IncidentQuery open;
  open.status = core::IncidentStatus::kOpen;
  EXPECT_THAT(this->IncidentIds(open), ElementsAre("I-2026-000005", "I-2026-000002", "I-2026-000001"));

  core::IncidentQuery fraud;
  fraud.rsit_class = "fraud";  // the whole class: phishing and masquerade
  EXPECT_THAT(this->IncidentIds(fraud), ElementsAre("I-2026-000004", "I-2026-000002", "I-2026-000001"));

  core::IncidentQuery fraud_phishing;
  fraud_phishing.rsit_class = "fraud";
  fraud_phishing.rsit_type = "phishing";
  EXPECT_THAT(this->IncidentIds(fraud_phishing), ElementsAre("I-2026-000004", "I-2026-000001"));

  core::IncidentQuery in_a;
  in_a.constituency_id = a.id;
  EXPECT_THAT(this->IncidentIds(in_a), ElementsAre("I-2026-000003", "I-2026-000001"));

  core::IncidentQuery p1;
  p1.priority = 1;
  EXPECT_THAT(this->IncidentIds(p1), ElementsAre("I-2026-000003", "I-2026-000001"));

  core::IncidentQuery owned;
  owned.owner_id = owner.id;
  EXPECT_THAT(this->IncidentIds(owned), ElementsAre("I-2026-000005", "I-2026-000004", "I-2026-000001"));

  core::IncidentQuery combined;
  combined.status = core::IncidentStatus::kOpen;
  combined.owner_id = owner.id;
  combined.rsit_class = "availability";
  EXPECT_THAT(this->IncidentIds(combined), ElementsAre("I-2026-000005"));

  core::IncidentQuery merged;
  merged.status = core::IncidentStatus::kMerged;
  EXPECT_THAT(this->IncidentIds(merged), IsEmpty());
}

TYPED_TEST(StoreContractTest, ReportFiltersSelectExactlyTheMatchingRows) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto incident, this->AddIncident(NewIncident("target")));
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    Report r1 = NewReport("r1");  // R-2026-000001: new, in A, parse_failed
    r1.constituency_id = a.id;
    r1.flags = {"parse_failed"};
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r1));
    Report r2 = NewReport("r2");  // R-2026-000002: linked, in A
    r2.constituency_id = a.id;
    r2.status = core::ReportStatus::kLinked;
    r2.incident_id = incident.id;
    r2.flags = {"pgp_verified"};
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r2));
    Report r3 = NewReport("r3");  // R-2026-000003: rejected, unassigned, two flags
    r3.status = core::ReportStatus::kRejected;
    r3.reject_reason = core::RejectReason::kSpam;
    r3.flags = {"pgp_verified", "parse_failed"};
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r3));
    Report r4 = NewReport("r4");  // R-2026-000004: linked, unassigned, no flags
    r4.status = core::ReportStatus::kLinked;
    r4.incident_id = incident.id;
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r4));
    return {};
  }));

  core::ReportQuery fresh;
  fresh.status = core::ReportStatus::kNew;
  EXPECT_THAT(this->ReportIds(fresh), ElementsAre("R-2026-000001"));
  core::ReportQuery in_a;
  in_a.constituency_id = a.id;
  EXPECT_THAT(this->ReportIds(in_a), ElementsAre("R-2026-000002", "R-2026-000001"));
  core::ReportQuery of_incident;
  of_incident.incident_id = incident.id;
  EXPECT_THAT(this->ReportIds(of_incident), ElementsAre("R-2026-000004", "R-2026-000002"));
  core::ReportQuery failed;
  failed.flag = "parse_failed";
  EXPECT_THAT(this->ReportIds(failed), ElementsAre("R-2026-000003", "R-2026-000001"));
  core::ReportQuery unknown_flag;
  unknown_flag.flag = "parse";  // flags match whole, not by prefix
  EXPECT_THAT(this->ReportIds(unknown_flag), IsEmpty());
  core::ReportQuery combined;
  combined.flag = "pgp_verified";
  combined.status = core::ReportStatus::kLinked;
  EXPECT_THAT(this->ReportIds(combined), ElementsAre("R-2026-000002"));
}

// --- Pagination ---------------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, KeysetPaginationVisitsEveryRowOnceNewestFirst) {
  std::set<std::int64_t> created_ids;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    for (int i = 0; i < 120; ++i) {
      HIKESHI_TRY(const auto incident, tx.CreateIncident(Ctx(), NewIncident("row " + std::to_string(i))));
      created_ids.insert(incident.id);
    }
    return {};
  }));

  std::vector<std::int64_t> seen;
  std::vector<std::size_t> page_sizes;
  core::IncidentQuery query;
  query.limit = 50;
  for (int guard = 0; guard < 10; ++guard) {
    ASSERT_OK_AND_ASSIGN(const auto page, this->Incidents(Scope::All(), query));
    page_sizes.push_back(page.items.size());
    if (guard == 0) {
      ASSERT_FALSE(page.items.empty());
      EXPECT_EQ(page.items.front().human_id, "I-2026-000120");
    }
    for (const auto& incident : page.items) seen.push_back(incident.id);
    if (!page.next_before_id) break;
    EXPECT_EQ(*page.next_before_id, page.items.back().id);
    query.before_id = page.next_before_id;
  }
  EXPECT_THAT(page_sizes, ElementsAre(50U, 50U, 20U));
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()), created_ids);
  EXPECT_EQ(seen.size(), 120U);
}

TYPED_TEST(StoreContractTest, LastFullPageHasNoNextCursor) {
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    for (int i = 0; i < 100; ++i) HIKESHI_CHECK(tx.CreateReport(Ctx(), NewReport("row")));
    return {};
  }));
  core::ReportQuery query;
  query.limit = 50;
  ASSERT_OK_AND_ASSIGN(const auto first, this->Reports(Scope::All(), query));
  ASSERT_EQ(first.items.size(), 50U);
  ASSERT_TRUE(first.next_before_id.has_value());
  EXPECT_EQ(first.items.front().human_id, "R-2026-000100");
  EXPECT_EQ(first.items.back().human_id, "R-2026-000051");
  query.before_id = first.next_before_id;
  ASSERT_OK_AND_ASSIGN(const auto second, this->Reports(Scope::All(), query));
  ASSERT_EQ(second.items.size(), 50U);
  EXPECT_EQ(second.items.front().human_id, "R-2026-000050");
  EXPECT_EQ(second.items.back().human_id, "R-2026-000001");
  EXPECT_EQ(second.next_before_id, std::nullopt);

  query.limit = 1;
  query.before_id = std::nullopt;
  ASSERT_OK_AND_ASSIGN(const auto single, this->Reports(Scope::All(), query));
  EXPECT_THAT(HumanIds(single.items), ElementsAre("R-2026-000100"));
}

TYPED_TEST(StoreContractTest, PageLimitOutsideOneToFiveHundredIsInvalid) {
  for (const int limit : {0, -1, 501}) {
    core::IncidentQuery incidents;
    incidents.limit = limit;
    EXPECT_ERROR(this->Incidents(Scope::All(), incidents), ErrorCode::kInvalidArgument);
    core::ReportQuery reports;
    reports.limit = limit;
    EXPECT_ERROR(this->Reports(Scope::All(), reports), ErrorCode::kInvalidArgument);
  }
  core::IncidentQuery largest;
  largest.limit = 500;
  ASSERT_OK(this->Incidents(Scope::All(), largest));
}

// --- Full-text search ---------------------------------------------------------------------------

TYPED_TEST(StoreContractTest, IncidentTextSearchFindsJapaneseAndEnglishWords) {
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"不正アクセスによる情報漏えい", "顧客データが外部に送信された"},        // I-2026-000001
      {"Webサーバへの侵入", "管理画面から侵入された形跡"},                     // I-2026-000002
      {"Phishing site impersonating Example Bank", "Reported by a customer"},  // I-2026-000003
      {"報と告の字", "報道と告知"},                                            // I-2026-000004
      {"月次報告", "no incident this month"},                                  // I-2026-000005
  };
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    for (const auto& [title, description] : texts) {
      Incident incident = NewIncident(title);
      incident.description = description;
      HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident));
    }
    return {};
  }));

  EXPECT_THAT(this->SearchIncidents("報告"), ElementsAre("I-2026-000005"));
  EXPECT_THAT(this->SearchIncidents("侵入"), ElementsAre("I-2026-000002"));
  EXPECT_THAT(this->SearchIncidents("漏えい"), ElementsAre("I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("不正アクセス"), ElementsAre("I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("送信"), ElementsAre("I-2026-000001"));  // in the description
  EXPECT_THAT(this->SearchIncidents("phishing"), ElementsAre("I-2026-000003"));
  EXPECT_THAT(this->SearchIncidents("PHISHING"), ElementsAre("I-2026-000003"));
  EXPECT_THAT(this->SearchIncidents("example BANK"), ElementsAre("I-2026-000003"));
  EXPECT_THAT(this->SearchIncidents("customer"), ElementsAre("I-2026-000003"));
  EXPECT_THAT(this->SearchIncidents("侵入　管理画面"), ElementsAre("I-2026-000002"));  // ideographic space
  EXPECT_THAT(this->SearchIncidents("侵入 漏えい"), IsEmpty());                        // terms are ANDed
  EXPECT_THAT(this->SearchIncidents("ransomware"), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("\"報告\" OR 侵入"), IsEmpty()) << "query syntax is taken literally";
  EXPECT_THAT(this->SearchIncidents("!!!"), IsEmpty()) << "nothing searchable matches nothing";
  EXPECT_EQ(this->SearchIncidents("  ").size(), 5U) << "blank text is no filter";

  core::IncidentQuery with_filter;
  with_filter.text = "報告";
  with_filter.status = core::IncidentStatus::kResolved;
  EXPECT_THAT(this->IncidentIds(with_filter), IsEmpty());
}

TYPED_TEST(StoreContractTest, IncidentTextSearchFollowsUpdates) {
  Incident incident = NewIncident("Webサーバへの侵入");
  incident.description = "管理画面";
  ASSERT_OK_AND_ASSIGN(incident, this->AddIncident(incident));
  Incident after = incident;
  after.title = "DDoS攻撃";
  after.description = "大量の通信";
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) -> Result<void> { return tx.UpdateIncident(Ctx(), "incident.update", incident, after); }));
  EXPECT_THAT(this->SearchIncidents("侵入"), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("管理画面"), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("攻撃"), ElementsAre("I-2026-000001"));
  EXPECT_THAT(this->SearchIncidents("ddos 通信"), ElementsAre("I-2026-000001"));

  // An update that leaves the text alone keeps it searchable.
  Incident resolved = after;
  resolved.status = core::IncidentStatus::kResolved;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateIncident(Ctx(), "incident.resolve", after, resolved);
  }));
  EXPECT_THAT(this->SearchIncidents("攻撃"), ElementsAre("I-2026-000001"));
}

TYPED_TEST(StoreContractTest, ReportTextSearchCoversSubjectAndBody) {
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    Report r1 = NewReport("フィッシングサイトの報告");  // R-2026-000001
    r1.body = "偽のログインページを確認しました。";
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r1));
    Report r2 = NewReport("Abuse report: SSH brute force");  // R-2026-000002
    r2.body = std::string(5000, '.') + " from 192.0.2.44, 情報漏えいの可能性 " + std::string(5000, '.');
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r2));
    Report r3 = NewReport("報と告");  // R-2026-000003
    HIKESHI_CHECK(tx.CreateReport(Ctx(), r3));
    return {};
  }));
  EXPECT_THAT(this->SearchReports("報告"), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("ログイン"), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("漏えい"), ElementsAre("R-2026-000002"));
  EXPECT_THAT(this->SearchReports("ssh BRUTE"), ElementsAre("R-2026-000002"));
  EXPECT_THAT(this->SearchReports("192.0.2.44"), ElementsAre("R-2026-000002"));
  EXPECT_THAT(this->SearchReports("report"), ElementsAre("R-2026-000002"));
  // One character finds it inside longer words too: 報告 (1), 情報 (2), 報と告 (3).
  EXPECT_THAT(this->SearchReports("報"), ElementsAre("R-2026-000003", "R-2026-000002", "R-2026-000001"));

  core::ReportQuery with_filter;
  with_filter.text = "漏えい";
  with_filter.status = core::ReportStatus::kNew;
  EXPECT_THAT(this->ReportIds(with_filter), ElementsAre("R-2026-000002"));

  // Re-parsing a report replaces what its text search finds.
  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), "R-2026-000001");
                       }));
  ASSERT_TRUE(found.has_value());
  Report reparsed = *found;
  reparsed.subject = "Malware distribution";
  reparsed.body = "マルウェア配布サイト";
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.reparse", *found, reparsed, "");
  }));
  EXPECT_THAT(this->SearchReports("ログイン"), IsEmpty());
  EXPECT_THAT(this->SearchReports("フィッシング"), IsEmpty());
  EXPECT_THAT(this->SearchReports("マルウェア distribution"), ElementsAre("R-2026-000001"));
}

// The SQLite store writes a transaction's full-text rows just before its COMMIT (one FTS5 flush
// per transaction): what a transaction wrote must still be searchable right after it, inside it,
// and gone with it when it rolls back.
TYPED_TEST(StoreContractTest, ReportTextFromOneTransactionIsSearchableAfterCommitAndGoneAfterRollback) {
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    Report english = NewReport("Credential phishing kit");  // R-2026-000001
    english.body = "Hosted on a compromised WordPress site.";
    HIKESHI_TRY(const auto first, tx.CreateReport(Ctx(), english));
    Report japanese = NewReport("ランサムウェア感染の報告");  // R-2026-000002
    japanese.body = "ファイルサーバが暗号化された";
    HIKESHI_CHECK(tx.CreateReport(Ctx(), japanese));
    // Rewritten in the same transaction: only the last text may be found.
    Report reworded = first;
    reworded.subject = "Credential harvesting kit";
    HIKESHI_CHECK(tx.UpdateReport(Ctx(), "report.reparse", first, reworded, ""));
    // More writes after the text (as mail intake stores the mail rows after the report).
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident("不正送金")));
    // A search inside the transaction sees its own rows.
    core::ReportQuery inside;
    inside.text = "暗号化";
    HIKESHI_TRY(const auto page, tx.ListReports(Scope::All(), inside));
    if (page.items.size() != 1 || page.items.front().human_id != "R-2026-000002") {
      return Fail(Error::Internal("a search inside the transaction missed its own report"));
    }
    return {};
  }));
  EXPECT_THAT(this->SearchReports("harvesting"), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("WordPress"), ElementsAre("R-2026-000001"));
  EXPECT_THAT(this->SearchReports("phishing"), IsEmpty()) << "the subject was rewritten in the transaction";
  EXPECT_THAT(this->SearchReports("ランサムウェア"), ElementsAre("R-2026-000002"));
  EXPECT_THAT(this->SearchReports("暗号化"), ElementsAre("R-2026-000002"));
  EXPECT_THAT(this->SearchIncidents("送金"), ElementsAre("I-2026-000001"));

  // A transaction that fails after writing reports leaves nothing searchable, also when it
  // searched (and so wrote its text) before failing.
  const auto failed = this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    Report report = NewReport("Botnet controller takedown");
    report.body = "標的型攻撃メール";
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report));
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), NewIncident("Botnet 対応")));
    return Fail(Error::InvalidArgument("stop here", "/subject"));
  });
  ASSERT_FALSE(failed.has_value());
  const auto searched_then_failed = this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    Report report = NewReport("Skimmer on a web shop");
    report.body = "クレジットカード情報";
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report));
    core::ReportQuery inside;
    inside.text = "skimmer";
    HIKESHI_TRY(const auto page, tx.ListReports(Scope::All(), inside));
    if (page.items.size() != 1) return Fail(Error::Internal("a search inside the transaction missed its own report"));
    return Fail(Error::InvalidArgument("stop here", "/subject"));
  });
  ASSERT_FALSE(searched_then_failed.has_value());
  // The next transaction commits only its own text.
  ASSERT_OK(this->AddReport(NewReport("Defacement of a school site")));
  EXPECT_THAT(this->SearchReports("botnet"), IsEmpty());
  EXPECT_THAT(this->SearchReports("標的型攻撃"), IsEmpty());
  EXPECT_THAT(this->SearchIncidents("botnet"), IsEmpty());
  EXPECT_THAT(this->SearchReports("skimmer"), IsEmpty());
  EXPECT_THAT(this->SearchReports("クレジットカード"), IsEmpty());
  EXPECT_EQ(this->SearchReports("defacement").size(), 1U);
  EXPECT_EQ(this->SearchReports("kit").size(), 1U);
}

// --- Feed intake: aggregate reports ------------------------------------------------------------

TYPED_TEST(StoreContractTest, ReportAggregateFieldsRoundTripAndAreFoundByFingerprint) {
  const std::string fingerprint = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-14";
  Report aggregate = NewReport("suricata-eve: ET EXPLOIT 192.0.2.7 on 2026-03-14");
  aggregate.channel = core::Channel::kFeed;
  aggregate.reporter = "suricata-eve:eve.json";
  aggregate.observables = {{ObservableType::kIpv4, "192.0.2.7"}};
  aggregate.fingerprint = fingerprint;
  aggregate.event_count = 42;
  aggregate.first_seen = At(2026, 3, 14, 0, 0, 1);
  aggregate.last_seen = At(2026, 3, 14, 23, 59, 999999);

  ASSERT_OK(this->AddReport(NewReport("a plain mail report")));  // R-2026-000001, no fingerprint
  ASSERT_OK_AND_ASSIGN(const auto created, this->AddReport(aggregate));
  aggregate.id = created.id;
  aggregate.human_id = "R-2026-000002";
  ExpectSameReport(created, aggregate);

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto by_id, r.FindReport(Scope::All(), "R-2026-000002"));
    EXPECT_TRUE(by_id.has_value());
    if (by_id) ExpectSameReport(*by_id, aggregate);
    HIKESHI_TRY(const auto by_fingerprint, r.FindReportByFingerprint(fingerprint));
    EXPECT_TRUE(by_fingerprint.has_value());
    if (by_fingerprint) ExpectSameReport(*by_fingerprint, aggregate);
    HIKESHI_TRY(const auto next_day,
                r.FindReportByFingerprint("suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-15"));
    EXPECT_EQ(next_day, std::nullopt);
    HIKESHI_TRY(const auto empty, r.FindReportByFingerprint(""));
    EXPECT_EQ(empty, std::nullopt) << "reports that are not aggregates have no fingerprint to be found by";
    HIKESHI_TRY(const auto plain, r.FindReport(Scope::All(), "R-2026-000001"));
    EXPECT_TRUE(plain.has_value());
    if (plain) {
      EXPECT_EQ(plain->fingerprint, "");
      EXPECT_EQ(plain->event_count, 0);
      EXPECT_EQ(plain->first_seen, std::nullopt);
      EXPECT_EQ(plain->last_seen, std::nullopt);
    }
    return {};
  }));

  Report grown = aggregate;
  grown.event_count = 45;
  grown.first_seen = At(2026, 3, 13, 23, 0);
  grown.last_seen = At(2026, 3, 15, 0, 30);
  grown.updated_at = At(2026, 3, 15, 1, 0);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.aggregate", aggregate, grown, "");
  }));
  this->Reopen();
  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindReportByFingerprint(fingerprint);
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameReport(*found, grown);
}

// A fold's update of an aggregate report (WriteTx::UpdateAggregate) writes the counters and the
// appended observables, leaves everything else as it was, journals one compact entry with only
// what changed, and `audit verify` still accepts the store, and still catches a row edited behind
// its back. Anything but a fold's change is refused, writing nothing.
TYPED_TEST(StoreContractTest, AggregateUpdateWritesOnlyWhatAFoldChanges) {
  ASSERT_OK_AND_ASSIGN(const auto constituency, this->AddConstituency("example-isp"));
  Report aggregate = NewReport("suricata-eve: ET SCAN Potential SSH Scan 192.0.2.7 on 2026-03-14");
  aggregate.channel = core::Channel::kFeed;
  aggregate.reporter = "suricata-eve:sensor-1";
  aggregate.body = "ET SCAN Potential SSH Scan";
  aggregate.category = core::Category{"information-gathering", "scanner"};
  aggregate.tlp = Tlp::kGreen;
  aggregate.fingerprint = "suricata-eve|information-gathering/scanner|ipv4:192.0.2.7|2026-03-14";
  aggregate.event_count = 3;
  aggregate.first_seen = At(2026, 3, 14, 8, 0);
  aggregate.last_seen = At(2026, 3, 14, 9, 0);
  aggregate.observables = {{ObservableType::kIpv4, "192.0.2.7"}, {ObservableType::kIpv4, "198.51.100.20"}};
  ASSERT_OK_AND_ASSIGN(const auto created, this->AddReport(aggregate));  // R-2026-000001

  // A handler routes it and flags it (a full update), so that those columns hold non-defaults.
  Report handled = created;
  handled.constituency_id = constituency.id;
  handled.status = core::ReportStatus::kRejected;
  handled.reject_reason = core::RejectReason::kDuplicate;
  handled.reject_comment = "known scanner";
  handled.flags = {"reviewed"};
  handled.updated_at = At(2026, 3, 14, 9, 10);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.update", created, handled, "");
  }));
  ASSERT_OK_AND_ASSIGN(const auto journal_before, this->Audit());

  Report grown = handled;
  grown.event_count = 7;
  grown.first_seen = At(2026, 3, 14, 7, 45);
  grown.last_seen = At(2026, 3, 14, 9, 40, 5);  // 5 microseconds past 09:40
  grown.updated_at = At(2026, 3, 14, 9, 45);
  grown.observables.push_back({ObservableType::kIpv4, "203.0.113.9"});
  grown.observables.push_back({ObservableType::kDomain, "scanner.example"});
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateAggregate(Ctx("feed", At(2026, 3, 14, 9, 45)), handled, grown);
  }));
  this->Reopen();

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto found, r.FindReport(Scope::All(), "R-2026-000001"));
    EXPECT_TRUE(found.has_value());
    if (found) ExpectSameReport(*found, grown);  // every column: the handler's ones are kept
    HIKESHI_TRY(const auto by_fingerprint, r.FindReportByFingerprint(aggregate.fingerprint));
    EXPECT_TRUE(by_fingerprint.has_value());
    if (by_fingerprint) {
      EXPECT_EQ(by_fingerprint->event_count, 7);
      EXPECT_THAT(by_fingerprint->observables, ElementsAreArray(grown.observables));
    }
    core::ReportQuery in_constituency;
    in_constituency.constituency_id = constituency.id;
    HIKESHI_TRY(const auto page, r.ListReports(Scope{false, {constituency.id}, std::nullopt}, in_constituency));
    EXPECT_THAT(HumanIds(page.items), ElementsAre("R-2026-000001"));
    // The appended observables lead to the report, and so do the ones it had.
    for (const auto& value :
         {Observable{ObservableType::kIpv4, "203.0.113.9"}, Observable{ObservableType::kDomain, "scanner.example"},
          Observable{ObservableType::kIpv4, "192.0.2.7"}}) {
      HIKESHI_TRY(const auto sightings, r.FindSightings(Scope::All(), value, 10));
      EXPECT_THAT(HumanIds(sightings.reports), ElementsAre("R-2026-000001")) << value.value;
    }
    return {};
  }));

  ASSERT_OK_AND_ASSIGN(const auto journal, this->Audit());
  ASSERT_EQ(journal.size(), journal_before.size() + 1) << "one entry for the aggregate update";
  const auto& entry = journal.back();
  EXPECT_EQ(entry.action, "report.aggregate");
  EXPECT_EQ(entry.actor, "feed");
  EXPECT_EQ(entry.object_type, "report");
  EXPECT_EQ(entry.object_id, "R-2026-000001");
  EXPECT_EQ(entry.incident, "");
  EXPECT_EQ(entry.before,
            R"({"event_count":3,"first_seen":"2026-03-14T08:00:00.000000Z","last_seen":"2026-03-14T09:00:00.000000Z",)"
            R"("updated_at":"2026-03-14T09:10:00.000000Z"})");
  EXPECT_EQ(entry.after,
            R"({"event_count":7,"first_seen":"2026-03-14T07:45:00.000000Z","last_seen":"2026-03-14T09:40:00.000005Z",)"
            R"("updated_at":"2026-03-14T09:45:00.000000Z","observables_added":[{"type":"ipv4","value":"203.0.113.9"},)"
            R"({"type":"domain","value":"scanner.example"}]})");
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  // A second fold that only counts events: no "observables_added"; the journal still verifies.
  Report counted = grown;
  counted.event_count = 9;
  counted.updated_at = At(2026, 3, 14, 10, 0);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateAggregate(Ctx("feed", At(2026, 3, 14, 10, 0)), grown, counted);
  }));
  ASSERT_OK_AND_ASSIGN(const auto journal2, this->Audit());
  ASSERT_EQ(journal2.size(), journal.size() + 1);
  EXPECT_EQ(journal2.back().after,
            R"({"event_count":9,"first_seen":"2026-03-14T07:45:00.000000Z","last_seen":"2026-03-14T09:40:00.000005Z",)"
            R"("updated_at":"2026-03-14T10:00:00.000000Z"})");
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  // Not a fold's change: refused, and nothing is written.
  Report reopened = counted;
  reopened.status = core::ReportStatus::kNew;
  reopened.event_count = 10;
  Report dropped = counted;
  dropped.observables.erase(dropped.observables.begin() + 1);  // 198.51.100.20 removed
  Report reordered = counted;
  std::swap(reordered.observables[0], reordered.observables[1]);
  Report moved = counted;
  moved.constituency_id = std::nullopt;
  for (const Report* bad : {&reopened, &dropped, &reordered, &moved}) {
    EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
      return tx.UpdateAggregate(Ctx("feed", At(2026, 3, 14, 11, 0)), counted, *bad);
    }),
                 ErrorCode::kInternal);
  }
  ASSERT_OK_AND_ASSIGN(const auto journal3, this->Audit());
  EXPECT_EQ(journal3.size(), journal2.size());
  ASSERT_OK_AND_ASSIGN(const auto unchanged, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), "R-2026-000001");
                       }));
  ASSERT_TRUE(unchanged.has_value());
  ExpectSameReport(*unchanged, counted);

  // A count edited behind Hikeshi's back is still found, and so is a dropped appended link.
  ASSERT_OK(RunSqlBehind(this->backend_, "UPDATE reports SET event_count = 8 WHERE human_id = 'R-2026-000001'"));
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_FALSE(verdict->ok());
    EXPECT_EQ(verdict->first_bad_seq, journal2.back().seq);
    EXPECT_THAT(verdict->problem, HasSubstr("report R-2026-000001 differs"));
  }
  ASSERT_OK(RunSqlBehind(this->backend_, "UPDATE reports SET event_count = 9 WHERE human_id = 'R-2026-000001'"));
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }
  ASSERT_OK(RunSqlBehind(this->backend_, "DELETE FROM report_observables WHERE position = 3"));
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_FALSE(verdict->ok());
    EXPECT_THAT(verdict->problem, HasSubstr("report R-2026-000001 differs"));
  }
}

// Compact aggregate entries must follow on from one another, so the store refuses a fold that
// works from a stale state (here, what the report was before the previous fold) and writes
// nothing. (A row edited by hand, which a fold then starts from, is what `audit verify` names:
// sqlite_store_test.cpp, AFoldOntoARowEditedByHandIsNamedByAuditVerify.)
TYPED_TEST(StoreContractTest, AStaleAggregateUpdateIsRefusedAndNothingIsWritten) {
  Report aggregate = NewReport("suricata-eve: ET SCAN Potential SSH Scan 192.0.2.8 on 2026-03-14");
  aggregate.channel = core::Channel::kFeed;
  aggregate.fingerprint = "suricata-eve|information-gathering/scanner|ipv4:192.0.2.8|2026-03-14";
  aggregate.event_count = 3;
  aggregate.first_seen = At(2026, 3, 14, 8, 0);
  aggregate.last_seen = At(2026, 3, 14, 9, 0);
  aggregate.observables = {{ObservableType::kIpv4, "192.0.2.8"}};
  ASSERT_OK_AND_ASSIGN(const auto created, this->AddReport(aggregate));

  Report first = created;
  first.event_count = 7;
  first.updated_at = At(2026, 3, 14, 9, 45);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateAggregate(Ctx("feed", At(2026, 3, 14, 9, 45)), created, first);
  }));
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }
  // A second fold that starts from `created`, not from `first` (3 events become 5, where the row
  // and the journal say 7), is refused, and nothing is written.
  Report stale = created;
  stale.event_count = 5;
  stale.updated_at = At(2026, 3, 14, 10, 0);
  ASSERT_OK_AND_ASSIGN(const auto entries_before, this->Audit());
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateAggregate(Ctx("feed", At(2026, 3, 14, 10, 0)), created, stale);
  }),
               ErrorCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(const auto unchanged, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), created.human_id);
                       }));
  ASSERT_TRUE(unchanged.has_value());
  EXPECT_EQ(unchanged->event_count, 7);
  ASSERT_OK_AND_ASSIGN(const auto entries_after, this->Audit());
  EXPECT_EQ(entries_after.size(), entries_before.size());
  {
    auto verdict = core::VerifyAudit(this->TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }
}

TYPED_TEST(StoreContractTest, ReportFingerprintIsUniqueWhenSet) {
  const std::string fingerprint = "shadowserver|vulnerable/vulnerable-system|ipv4:198.51.100.1|2026-03-14";
  Report first = NewReport("first aggregate");
  first.fingerprint = fingerprint;
  first.event_count = 1;
  ASSERT_OK(this->AddReport(first));                               // R-2026-000001
  ASSERT_OK(this->AddReport(NewReport("no fingerprint")));         // R-2026-000002
  ASSERT_OK(this->AddReport(NewReport("no fingerprint either")));  // R-2026-000003: '' never clashes

  Report clash = NewReport("second aggregate, same fingerprint");
  clash.fingerprint = fingerprint;
  EXPECT_ERROR(this->AddReport(clash), ErrorCode::kConflict);

  ASSERT_OK_AND_ASSIGN(const auto plain, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindReport(Scope::All(), "R-2026-000002");
                       }));
  ASSERT_TRUE(plain.has_value());
  Report taking = *plain;
  taking.fingerprint = fingerprint;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    return tx.UpdateReport(Ctx(), "report.update", *plain, taking, "");
  }),
               ErrorCode::kConflict);

  // Neither failed write left anything: no number used, no journal entry, R-2 unchanged.
  ASSERT_OK_AND_ASSIGN(const auto next, this->AddReport(NewReport("next")));
  EXPECT_EQ(next.human_id, "R-2026-000004");
  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  EXPECT_EQ(audit.size(), 4U);
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto owner, r.FindReportByFingerprint(fingerprint));
    EXPECT_TRUE(owner.has_value());
    if (owner) {
      EXPECT_EQ(owner->human_id, "R-2026-000001");
    }
    HIKESHI_TRY(const auto unchanged, r.FindReport(Scope::All(), "R-2026-000002"));
    EXPECT_TRUE(unchanged.has_value());
    if (unchanged) {
      EXPECT_EQ(unchanged->fingerprint, "");
    }
    return {};
  }));
}

// --- Feed intake: events, rejects, correlations -------------------------------------------------

// An intake key: 32 lower-case hex digits, here zeros followed by `tail`.
std::string Key(const std::string& tail) { return std::string(32 - tail.size(), '0') + tail; }

core::FeedRun NewFeedRun(std::string source, Timestamp started = kT0) {
  core::FeedRun run;
  run.format = "suricata-eve";
  run.source = std::move(source);
  run.started_at = started;
  return run;
}

void ExpectSameFeedRun(const core::FeedRun& actual, const core::FeedRun& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.format, expected.format);
  EXPECT_EQ(actual.source, expected.source);
  EXPECT_EQ(actual.records, expected.records);
  EXPECT_EQ(actual.events_new, expected.events_new);
  EXPECT_EQ(actual.duplicates, expected.duplicates);
  EXPECT_EQ(actual.rejects, expected.rejects);
  EXPECT_EQ(actual.reports_created, expected.reports_created);
  EXPECT_EQ(actual.reports_updated, expected.reports_updated);
  EXPECT_EQ(actual.correlations, expected.correlations);
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(common::ToMicros(actual.started_at), common::ToMicros(expected.started_at));
  EXPECT_EQ(Micros(actual.finished_at), Micros(expected.finished_at));
}

void ExpectSameReject(const core::FeedReject& actual, const core::FeedReject& expected) {
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.run_id, expected.run_id);
  EXPECT_EQ(actual.record, expected.record);
  EXPECT_EQ(actual.reason, expected.reason);
  EXPECT_EQ(actual.raw, expected.raw);
  EXPECT_EQ(common::ToMicros(actual.at), common::ToMicros(expected.at));
}

// "report incident type:value micros", to compare correlations whole.
std::vector<std::string> CorrelationRows(const std::vector<core::Correlation>& correlations) {
  std::vector<std::string> rows;
  for (const auto& c : correlations) {
    rows.push_back(std::to_string(c.report_id) + " " + std::to_string(c.incident_id) + " " +
                   std::string(core::ObservableTypeName(c.observable.type)) + ":" + c.observable.value + " " +
                   std::to_string(common::ToMicros(c.at)));
  }
  return rows;
}

std::string CorrelationRow(std::int64_t report, std::int64_t incident, const std::string& observable, Timestamp at) {
  return std::to_string(report) + " " + std::to_string(incident) + " " + observable + " " +
         std::to_string(common::ToMicros(at));
}

std::vector<std::int64_t> Records(const std::vector<core::FeedReject>& rejects) {
  std::vector<std::int64_t> records;
  for (const auto& reject : rejects) records.push_back(reject.record);
  return records;
}

TYPED_TEST(StoreContractTest, IntakeRecordsAreStoredOnceAndADuplicateWritesNothing) {
  const Observable ip{ObservableType::kIpv4, "192.0.2.7"};
  const std::string fingerprint = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-14";
  const std::string other_fingerprint = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.8|2026-03-14";
  Incident holding = NewIncident("exploit attempts");
  holding.observables = {ip};
  ASSERT_OK_AND_ASSIGN(const auto incident, this->AddIncident(holding));
  ASSERT_OK_AND_ASSIGN(const auto report, this->AddReport(NewReport("aggregate")));

  core::StoredEvent event{Key("e1"), 0, 1, fingerprint, At(2026, 3, 14, 9, 0), R"({"event_type":"alert"})"};
  core::FeedReject reject{Key("f1"), 0, 2, "not JSON: unterminated object", "{\"event_type\":", kT0};
  core::FeedRun run;
  std::vector<bool> stored;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(run, tx.CreateFeedRun(Ctx(), NewFeedRun("eve.json")));
    event.run_id = run.id;
    reject.run_id = run.id;
    HIKESHI_TRY(const bool event_stored, tx.InsertEvent(event));
    HIKESHI_TRY(const bool reject_stored, tx.InsertFeedReject(reject));
    HIKESHI_TRY(const bool correlation_stored, tx.InsertCorrelation({report.id, incident.id, ip, kT0}));
    // Again in the same transaction, with everything but the key different.
    core::StoredEvent event_again{event.key, run.id, 9, other_fingerprint, std::nullopt, "other raw"};
    HIKESHI_TRY(const bool event_twice, tx.InsertEvent(event_again));
    HIKESHI_TRY(const bool reject_twice, tx.InsertFeedReject({reject.key, run.id, 9, "other", "other raw", kT0}));
    HIKESHI_TRY(const bool correlation_twice, tx.InsertCorrelation({report.id, incident.id, ip, At(2026, 3, 15)}));
    stored = {event_stored, reject_stored, correlation_stored, event_twice, reject_twice, correlation_twice};
    return {};
  }));
  EXPECT_THAT(stored, ElementsAre(true, true, true, false, false, false));

  // A rerun in a later transaction (and run) is recognised as well.
  core::FeedRun rerun;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(rerun, tx.CreateFeedRun(Ctx(), NewFeedRun("eve.json")));
    HIKESHI_TRY(const bool event_stored, tx.InsertEvent({event.key, rerun.id, 1, other_fingerprint, {}, "x"}));
    HIKESHI_TRY(const bool reject_stored, tx.InsertFeedReject({reject.key, rerun.id, 2, "again", "x", kT0}));
    const Observable other{ObservableType::kDomain, "other.example"};
    HIKESHI_TRY(const bool correlation_stored, tx.InsertCorrelation({report.id, incident.id, other, kT0}));
    stored = {event_stored, reject_stored, correlation_stored};
    return {};
  }));
  EXPECT_THAT(stored, ElementsAre(false, false, false));

  this->Reopen();
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto events, r.CountEvents(fingerprint));
    EXPECT_EQ(events, 1);
    HIKESHI_TRY(const auto other_events, r.CountEvents(other_fingerprint));
    EXPECT_EQ(other_events, 0);
    HIKESHI_TRY(const auto rejects, r.ListFeedRejects(run.id, 0, 500));
    EXPECT_EQ(rejects.size(), 1U);
    if (!rejects.empty()) ExpectSameReject(rejects[0], reject);
    HIKESHI_TRY(const auto rerun_rejects, r.ListFeedRejects(rerun.id, 0, 500));
    EXPECT_THAT(rerun_rejects, IsEmpty());
    HIKESHI_TRY(const auto correlations, r.ListCorrelations(report.id));
    EXPECT_THAT(CorrelationRows(correlations),
                ElementsAre(CorrelationRow(report.id, incident.id, "ipv4:192.0.2.7", kT0)));
    return {};
  }));
}

TYPED_TEST(StoreContractTest, RollingBackRemovesIntakeRecords) {
  const Observable ip{ObservableType::kIpv4, "192.0.2.7"};
  const std::string fingerprint = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-14";
  Incident holding = NewIncident("exploit attempts");
  holding.observables = {ip};
  ASSERT_OK_AND_ASSIGN(const auto incident, this->AddIncident(holding));
  ASSERT_OK_AND_ASSIGN(const auto report, this->AddReport(NewReport("aggregate")));
  ASSERT_OK_AND_ASSIGN(const auto run, WriteValue(this->TheStore(), [](core::WriteTx& tx) {
                         return tx.CreateFeedRun(Ctx(), NewFeedRun("eve.json"));
                       }));

  const auto batch = [&](core::WriteTx& tx, std::vector<bool>& stored) -> Result<void> {
    HIKESHI_TRY(const bool event_stored, tx.InsertEvent({Key("e1"), run.id, 1, fingerprint, {}, "{}"}));
    HIKESHI_TRY(const bool reject_stored, tx.InsertFeedReject({Key("f1"), run.id, 2, "not JSON", "{", kT0}));
    HIKESHI_TRY(const bool correlation_stored, tx.InsertCorrelation({report.id, incident.id, ip, kT0}));
    core::FeedRun counted = run;
    counted.records = 2;
    HIKESHI_CHECK(tx.UpdateFeedRun(Ctx(), run, counted));
    stored = {event_stored, reject_stored, correlation_stored};
    return {};
  };
  std::vector<bool> stored;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(batch(tx, stored));
    return Fail(Error::Unavailable("the process died before the commit"));
  }),
               ErrorCode::kUnavailable);
  EXPECT_THAT(stored, ElementsAre(true, true, true));

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto events, r.CountEvents(fingerprint));
    EXPECT_EQ(events, 0);
    HIKESHI_TRY(const auto rejects, r.ListFeedRejects(run.id, 0, 500));
    EXPECT_THAT(rejects, IsEmpty());
    HIKESHI_TRY(const auto correlations, r.ListCorrelations(report.id));
    EXPECT_THAT(correlations, IsEmpty());
    HIKESHI_TRY(const auto found, r.FindFeedRun(run.id));
    EXPECT_TRUE(found.has_value());
    if (found) {
      EXPECT_EQ(found->records, 0);
    }
    return {};
  }));
  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  EXPECT_EQ(audit.size(), 3U) << "incident, report and run creation; the batch's entry is gone";

  // The same batch committed afterwards is new in every part.
  stored.clear();
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) { return batch(tx, stored); }));
  EXPECT_THAT(stored, ElementsAre(true, true, true));
  ASSERT_OK_AND_ASSIGN(const auto events,
                       ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.CountEvents(fingerprint); }));
  EXPECT_EQ(events, 1);
}

TYPED_TEST(StoreContractTest, CountEventsCountsTheEventsOfOneFingerprint) {
  const std::string a = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-14";
  const std::string b = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-15";
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto run, tx.CreateFeedRun(Ctx(), NewFeedRun("day-1.json")));
    HIKESHI_CHECK(tx.InsertEvent({Key("01"), run.id, 1, a, {}, "1"}));
    HIKESHI_CHECK(tx.InsertEvent({Key("02"), run.id, 2, a, {}, "2"}));
    HIKESHI_CHECK(tx.InsertEvent({Key("03"), run.id, 3, b, {}, "3"}));
    HIKESHI_CHECK(tx.InsertEvent({Key("04"), run.id, 4, a, {}, "4"}));
    HIKESHI_CHECK(tx.InsertEvent({Key("01"), run.id, 5, a, {}, "1"}));  // a duplicate: not counted
    HIKESHI_TRY(const auto second, tx.CreateFeedRun(Ctx(), NewFeedRun("day-2.json")));
    HIKESHI_CHECK(tx.InsertEvent({Key("05"), second.id, 1, a, {}, "5"}));
    return {};
  }));
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto in_a, r.CountEvents(a));
    EXPECT_EQ(in_a, 4);
    HIKESHI_TRY(const auto in_b, r.CountEvents(b));
    EXPECT_EQ(in_b, 1);
    HIKESHI_TRY(const auto prefix, r.CountEvents("suricata-eve|intrusion-attempts/exploit"));
    EXPECT_EQ(prefix, 0);
    HIKESHI_TRY(const auto empty, r.CountEvents(""));
    EXPECT_EQ(empty, 0);
    return {};
  }));
}

TYPED_TEST(StoreContractTest, InsertEventsStoresAListAsInsertEventWouldOneByOne) {
  // Fingerprints and raw records with the bytes a bulk format must escape (tab, newline, backslash,
  // NUL, bytes that are no UTF-8).
  const std::string a = "csv|scan\tx|ipv4:192.0.2.7\\|2026-03-14\n";
  const std::string b = "csv|scan|ipv4:192.0.2.8|2026-03-14";
  static constexpr char kRaw[] = "line\twith\\N\r\n\0\xff\xfe end";
  const std::string raw(kRaw, sizeof kRaw - 1);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto run, tx.CreateFeedRun(Ctx(), NewFeedRun("day-1.csv")));
    HIKESHI_CHECK(tx.InsertEvent({Key("03"), run.id, 1, b, {}, "stored before"}));
    const std::vector<core::StoredEvent> events = {
        {Key("01"), run.id, 2, a, At(2026, 3, 14, 9, 0), raw},
        {Key("02"), run.id, 3, a, {}, ""},
        {Key("01"), run.id, 4, a, {}, raw},  // again in the list: a duplicate
        {Key("03"), run.id, 5, b, {}, "x"},  // stored before: a duplicate
        {Key("04"), run.id, 6, b, {}, raw},
    };
    HIKESHI_TRY(const std::int64_t stored, tx.InsertEvents(events));
    EXPECT_EQ(stored, 3);
    HIKESHI_TRY(const std::int64_t none, tx.InsertEvents(std::span<const core::StoredEvent>()));
    EXPECT_EQ(none, 0);
    // Seen inside the transaction too, and by a later InsertEvent.
    HIKESHI_TRY(const auto in_a, tx.CountEvents(a));
    EXPECT_EQ(in_a, 2);
    HIKESHI_TRY(const bool again, tx.InsertEvent({Key("04"), run.id, 7, b, {}, raw}));
    EXPECT_FALSE(again);
    return {};
  }));
  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto in_a, r.CountEvents(a));
    EXPECT_EQ(in_a, 2);
    HIKESHI_TRY(const auto in_b, r.CountEvents(b));
    EXPECT_EQ(in_b, 2);
    return {};
  }));
  // A bad key anywhere in the list stores nothing of it (the transaction fails).
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    const std::vector<core::StoredEvent> events = {{Key("05"), 1, 8, b, {}, "x"}, {"not-a-key", 1, 9, b, {}, "x"}};
    HIKESHI_CHECK(tx.InsertEvents(events));
    return {};
  }),
               ErrorCode::kInvalidArgument);
}

TYPED_TEST(StoreContractTest, FeedRunsAreCreatedUpdatedFoundAndListedEachWithAnAuditEntry) {
  const Timestamp t1 = At(2026, 3, 14, 10, 0, 1);
  const Timestamp t2 = At(2026, 3, 14, 10, 5, 2);
  core::FeedRun first;
  core::FeedRun second;
  core::FeedRun third;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(first, tx.CreateFeedRun(Ctx("hanako", t1), NewFeedRun("eve-1.json", t1)));
    HIKESHI_TRY(second, tx.CreateFeedRun(Ctx("hanako", t1), NewFeedRun("-", t1)));
    core::FeedRun shadowserver = NewFeedRun("2026-03-14-scan_ssh.csv", t1);
    shadowserver.format = "shadowserver";
    HIKESHI_TRY(third, tx.CreateFeedRun(Ctx("cli", t1), shadowserver));
    return {};
  }));
  EXPECT_GT(first.id, 0);
  EXPECT_GT(second.id, first.id);
  EXPECT_GT(third.id, second.id);
  EXPECT_EQ(first.status, "running");
  EXPECT_EQ(first.source, "eve-1.json");

  core::FeedRun first_batch = first;
  first_batch.records = 10;
  first_batch.events_new = 6;
  first_batch.duplicates = 1;
  first_batch.rejects = 3;
  first_batch.reports_created = 2;
  first_batch.reports_updated = 4;
  first_batch.correlations = 5;
  core::FeedRun first_done = first_batch;
  first_done.status = "finished";
  first_done.finished_at = t2;
  core::FeedRun second_failed = second;
  second_failed.status = "failed";
  second_failed.finished_at = t2;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.UpdateFeedRun(Ctx("hanako", t2), first, first_batch));
    HIKESHI_CHECK(tx.UpdateFeedRun(Ctx("hanako", t2), first_batch, first_done));
    return tx.UpdateFeedRun(Ctx("hanako", t2), second, second_failed);
  }));

  core::FeedRun missing = third;
  missing.id = third.id + 1000;
  EXPECT_ERROR(this->TheStore().Write([&](core::WriteTx& tx) { return tx.UpdateFeedRun(Ctx(), third, missing); }),
               ErrorCode::kNotFound);

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto found, r.FindFeedRun(first.id));
    EXPECT_TRUE(found.has_value());
    if (found) ExpectSameFeedRun(*found, first_done);
    HIKESHI_TRY(const auto none, r.FindFeedRun(third.id + 1000));
    EXPECT_EQ(none, std::nullopt);

    HIKESHI_TRY(const auto all, r.ListFeedRuns(0, 500));
    EXPECT_EQ(all.size(), 3U);
    if (all.size() == 3) {
      ExpectSameFeedRun(all[0], first_done);
      ExpectSameFeedRun(all[1], second_failed);
      ExpectSameFeedRun(all[2], third);
    }
    HIKESHI_TRY(const auto page1, r.ListFeedRuns(0, 2));
    HIKESHI_TRY(const auto page2, r.ListFeedRuns(page1.empty() ? 0 : page1.back().id, 2));
    HIKESHI_TRY(const auto past_end, r.ListFeedRuns(third.id, 2));
    std::vector<std::int64_t> ids;
    for (const auto& run : page1) ids.push_back(run.id);
    ids.push_back(-1);  // page break
    for (const auto& run : page2) ids.push_back(run.id);
    EXPECT_THAT(ids, ElementsAre(first.id, second.id, -1, third.id));
    EXPECT_THAT(past_end, IsEmpty());

    // Newest first, for a page of recent runs: then the ones before the last id shown.
    HIKESHI_TRY(const auto recent, r.ListRecentFeedRuns(0, 2));
    HIKESHI_TRY(const auto older, r.ListRecentFeedRuns(recent.empty() ? 0 : recent.back().id, 2));
    HIKESHI_TRY(const auto oldest, r.ListRecentFeedRuns(first.id, 2));
    std::vector<std::int64_t> newest_first;
    for (const auto& run : recent) newest_first.push_back(run.id);
    newest_first.push_back(-1);
    for (const auto& run : older) newest_first.push_back(run.id);
    EXPECT_THAT(newest_first, ElementsAre(third.id, second.id, -1, first.id));
    if (!older.empty()) ExpectSameFeedRun(older[0], first_done);
    EXPECT_THAT(oldest, IsEmpty());
    return {};
  }));
  for (const int limit : {0, -1, 501}) {
    EXPECT_ERROR(ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.ListFeedRuns(0, limit); }),
                 ErrorCode::kInvalidArgument);
    EXPECT_ERROR(ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.ListRecentFeedRuns(0, limit); }),
                 ErrorCode::kInvalidArgument);
  }

  ASSERT_OK_AND_ASSIGN(const auto audit, this->Audit());
  ASSERT_EQ(audit.size(), 6U);
  struct Expected {
    std::string actor, action, object_id, before, after;
  };
  const std::vector<Expected> expected = {
      {"hanako", "feed_run.start", std::to_string(first.id), "", core::Snapshot(first)},
      {"hanako", "feed_run.start", std::to_string(second.id), "", core::Snapshot(second)},
      {"cli", "feed_run.start", std::to_string(third.id), "", core::Snapshot(third)},
      {"hanako", "feed_run.batch", std::to_string(first.id), core::Snapshot(first), core::Snapshot(first_batch)},
      {"hanako", "feed_run.finished", std::to_string(first.id), core::Snapshot(first_batch),
       core::Snapshot(first_done)},
      {"hanako", "feed_run.failed", std::to_string(second.id), core::Snapshot(second), core::Snapshot(second_failed)},
  };
  for (std::size_t i = 0; i < audit.size(); ++i) {
    SCOPED_TRACE("audit entry " + std::to_string(i + 1));
    EXPECT_EQ(audit[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(audit[i].actor, expected[i].actor);
    EXPECT_EQ(audit[i].action, expected[i].action);
    EXPECT_EQ(audit[i].object_type, "feed_run");
    EXPECT_EQ(audit[i].object_id, expected[i].object_id);
    EXPECT_EQ(audit[i].incident, "");
    EXPECT_EQ(audit[i].before, expected[i].before);
    EXPECT_EQ(audit[i].after, expected[i].after);
    EXPECT_EQ(audit[i].prev_hash, i == 0 ? std::string(core::kGenesisHash) : audit[i - 1].hash);
    EXPECT_EQ(audit[i].hash, core::AuditHash(audit[i]));
  }
  ASSERT_OK_AND_ASSIGN(const auto verdict, core::VerifyAudit(this->TheStore()));
  EXPECT_TRUE(verdict.ok()) << verdict.problem;
  EXPECT_EQ(verdict.entries_checked, 6);
  EXPECT_EQ(verdict.objects_checked, 3);
}

TYPED_TEST(StoreContractTest, ListFeedRejectsPagesThroughARunInRecordOrder) {
  core::FeedRun run;
  core::FeedRun other;
  const core::FeedReject seventh{Key("a7"), 0, 7, "unterminated string", "{\"alert\": \"ET", At(2026, 3, 14, 9, 7)};
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(run, tx.CreateFeedRun(Ctx(), NewFeedRun("eve.json")));
    HIKESHI_TRY(other, tx.CreateFeedRun(Ctx(), NewFeedRun("other.json")));
    core::FeedReject in_run = seventh;
    in_run.run_id = run.id;
    HIKESHI_CHECK(tx.InsertFeedReject(in_run));  // stored out of record order on purpose
    HIKESHI_CHECK(tx.InsertFeedReject({Key("a2"), run.id, 2, "not JSON", "garbage", kT0}));
    HIKESHI_CHECK(tx.InsertFeedReject({Key("b3"), other.id, 3, "not JSON", "garbage", kT0}));
    HIKESHI_CHECK(tx.InsertFeedReject({Key("a11"), run.id, 11, "no event_type", "{}", kT0}));
    HIKESHI_CHECK(tx.InsertFeedReject({Key("a5"), run.id, 5, "not JSON", "", kT0}));
    return {};
  }));
  const auto rejects = [&](std::int64_t run_id, std::int64_t after, int limit) {
    return ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.ListFeedRejects(run_id, after, limit); });
  };
  ASSERT_OK_AND_ASSIGN(const auto all, rejects(run.id, 0, 500));
  EXPECT_THAT(Records(all), ElementsAre(2, 5, 7, 11));
  if (all.size() == 4) {
    core::FeedReject expected = seventh;
    expected.run_id = run.id;
    ExpectSameReject(all[2], expected);
  }
  ASSERT_OK_AND_ASSIGN(const auto page1, rejects(run.id, 0, 2));
  EXPECT_THAT(Records(page1), ElementsAre(2, 5));
  ASSERT_OK_AND_ASSIGN(const auto page2, rejects(run.id, 5, 2));
  EXPECT_THAT(Records(page2), ElementsAre(7, 11));
  ASSERT_OK_AND_ASSIGN(const auto page3, rejects(run.id, 11, 2));
  EXPECT_THAT(page3, IsEmpty());
  ASSERT_OK_AND_ASSIGN(const auto from_six, rejects(run.id, 6, 500));
  EXPECT_THAT(Records(from_six), ElementsAre(7, 11));
  ASSERT_OK_AND_ASSIGN(const auto of_other, rejects(other.id, 0, 500));
  EXPECT_THAT(Records(of_other), ElementsAre(3));
  ASSERT_OK_AND_ASSIGN(const auto of_nothing, rejects(other.id + 1000, 0, 500));
  EXPECT_THAT(of_nothing, IsEmpty());
  for (const int limit : {0, 501}) EXPECT_ERROR(rejects(run.id, 0, limit), ErrorCode::kInvalidArgument);
}

TYPED_TEST(StoreContractTest, ListCorrelationsReturnsAReportsCandidatesOldestFirst) {
  const Observable ip{ObservableType::kIpv4, "192.0.2.7"};
  const Observable domain{ObservableType::kDomain, "c2.example"};
  Incident with_ip = NewIncident("with ip");
  with_ip.observables = {ip};
  Incident with_domain = NewIncident("with domain");
  with_domain.observables = {domain};
  ASSERT_OK_AND_ASSIGN(const auto i1, this->AddIncident(with_ip));
  ASSERT_OK_AND_ASSIGN(const auto i2, this->AddIncident(with_domain));
  ASSERT_OK_AND_ASSIGN(const auto i3, this->AddIncident(NewIncident("holding nothing")));
  ASSERT_OK_AND_ASSIGN(const auto r1, this->AddReport(NewReport("first aggregate")));
  ASSERT_OK_AND_ASSIGN(const auto r2, this->AddReport(NewReport("second aggregate")));
  const Timestamp t1 = At(2026, 3, 14, 10, 0);
  const Timestamp t2 = At(2026, 3, 14, 11, 0);
  const Timestamp t3 = At(2026, 3, 14, 12, 0);
  const Timestamp t4 = At(2026, 3, 14, 13, 0);
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.InsertCorrelation({r1.id, i2.id, domain, t2}));
    HIKESHI_CHECK(tx.InsertCorrelation({r2.id, i1.id, ip, t3}));
    HIKESHI_CHECK(tx.InsertCorrelation({r1.id, i1.id, ip, t1}));
    // An observable that nothing else holds yet is kept all the same.
    HIKESHI_CHECK(tx.InsertCorrelation({r1.id, i3.id, {ObservableType::kSha256, std::string(64, 'a')}, t4}));
    return {};
  }));
  const auto correlations = [&](std::int64_t report_id) {
    return ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.ListCorrelations(report_id); });
  };
  ASSERT_OK_AND_ASSIGN(const auto of_r1, correlations(r1.id));
  EXPECT_THAT(CorrelationRows(of_r1), ElementsAre(CorrelationRow(r1.id, i1.id, "ipv4:192.0.2.7", t1),
                                                  CorrelationRow(r1.id, i2.id, "domain:c2.example", t2),
                                                  CorrelationRow(r1.id, i3.id, "sha256:" + std::string(64, 'a'), t4)));
  ASSERT_OK_AND_ASSIGN(const auto of_r2, correlations(r2.id));
  EXPECT_THAT(CorrelationRows(of_r2), ElementsAre(CorrelationRow(r2.id, i1.id, "ipv4:192.0.2.7", t3)));
  ASSERT_OK_AND_ASSIGN(const auto of_nothing, correlations(r2.id + 1000));
  EXPECT_THAT(of_nothing, IsEmpty());
}

// --- Feed intake: the observable pivot ----------------------------------------------------------

TYPED_TEST(StoreContractTest, FindSightingsReturnsHoldersOfAValueNewestFirstWithinScope) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  const Observable value{ObservableType::kIpv4, "203.0.113.5"};
  const Observable other{ObservableType::kDomain, "unrelated.example"};
  const Observable same_text{ObservableType::kFilename, "203.0.113.5"};  // another type: not the value
  const auto incident = [](std::optional<std::int64_t> constituency, std::vector<Observable> observables,
                           core::IncidentStatus status = core::IncidentStatus::kOpen) {
    Incident i = NewIncident("holder");
    i.constituency_id = constituency;
    i.observables = std::move(observables);
    i.status = status;
    return i;
  };
  const auto report = [](std::optional<std::int64_t> constituency, std::vector<Observable> observables) {
    Report r = NewReport("holder");
    r.constituency_id = constituency;
    r.observables = std::move(observables);
    return r;
  };
  Report dropping;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(a.id, {value})));                                 // I-1
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(b.id, {other, value})));                          // I-2
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(std::nullopt, {value})));                         // I-3
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(a.id, {other})));                                 // I-4
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(a.id, {value, other, value})));                   // I-5: twice
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(a.id, {value}, core::IncidentStatus::kClosed)));  // I-6
    HIKESHI_CHECK(tx.CreateIncident(Ctx(), incident(a.id, {same_text})));                             // I-7
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(a.id, {value})));                                     // R-1
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(b.id, {value})));                                     // R-2
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(std::nullopt, {value, other})));                      // R-3
    HIKESHI_CHECK(tx.CreateReport(Ctx(), report(a.id, {other})));                                     // R-4
    HIKESHI_TRY(dropping, tx.CreateReport(Ctx(), report(a.id, {value})));                             // R-5, then not
    Report dropped = dropping;
    dropped.observables = {other};
    return tx.UpdateReport(Ctx(), "report.update", dropping, dropped, "");
  }));

  struct Seen {
    std::vector<std::string> incidents;
    std::vector<std::string> reports;
  };
  const auto sightings = [&](const Scope& scope, const Observable& observable, int limit = 500) {
    auto found =
        ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.FindSightings(scope, observable, limit); });
    EXPECT_TRUE(found.has_value()) << Describe(found.error());
    return found ? Seen{HumanIds(found->incidents), HumanIds(found->reports)} : Seen{};
  };
  const Scope only_a{false, {a.id}, std::nullopt};
  const Scope a_and_b{false, {a.id, b.id}, std::nullopt};
  const Scope nothing{false, {}, std::nullopt};

  Seen all = sightings(Scope::All(), value);
  EXPECT_THAT(all.incidents,
              ElementsAre("I-2026-000006", "I-2026-000005", "I-2026-000003", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(all.reports, ElementsAre("R-2026-000003", "R-2026-000002", "R-2026-000001"));
  Seen in_a = sightings(only_a, value);
  EXPECT_THAT(in_a.incidents, ElementsAre("I-2026-000006", "I-2026-000005", "I-2026-000001"));
  EXPECT_THAT(in_a.reports, ElementsAre("R-2026-000001"));
  Seen in_a_and_b = sightings(a_and_b, value);
  EXPECT_THAT(in_a_and_b.incidents, ElementsAre("I-2026-000006", "I-2026-000005", "I-2026-000002", "I-2026-000001"));
  EXPECT_THAT(in_a_and_b.reports, ElementsAre("R-2026-000002", "R-2026-000001"));
  Seen in_nothing = sightings(nothing, value);
  EXPECT_THAT(in_nothing.incidents, IsEmpty());
  EXPECT_THAT(in_nothing.reports, IsEmpty());

  Seen first_two = sightings(Scope::All(), value, 2);
  EXPECT_THAT(first_two.incidents, ElementsAre("I-2026-000006", "I-2026-000005"));
  EXPECT_THAT(first_two.reports, ElementsAre("R-2026-000003", "R-2026-000002"));
  Seen newest_in_a = sightings(only_a, value, 1);
  EXPECT_THAT(newest_in_a.incidents, ElementsAre("I-2026-000006"));
  EXPECT_THAT(newest_in_a.reports, ElementsAre("R-2026-000001"));

  Seen other_in_a = sightings(only_a, other);
  EXPECT_THAT(other_in_a.incidents, ElementsAre("I-2026-000005", "I-2026-000004"));
  EXPECT_THAT(other_in_a.reports, ElementsAre("R-2026-000005", "R-2026-000004"));
  Seen by_filename = sightings(Scope::All(), same_text);
  EXPECT_THAT(by_filename.incidents, ElementsAre("I-2026-000007"));
  EXPECT_THAT(by_filename.reports, IsEmpty());
  Seen unknown = sightings(Scope::All(), {ObservableType::kIpv4, "203.0.113.6"});
  EXPECT_THAT(unknown.incidents, IsEmpty());
  EXPECT_THAT(unknown.reports, IsEmpty());

  // The objects come whole.
  ASSERT_OK_AND_ASSIGN(const auto whole, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.FindSightings(Scope{false, {b.id}, std::nullopt}, value, 500);
                       }));
  ASSERT_EQ(whole.incidents.size(), 1U);
  EXPECT_EQ(whole.incidents[0].constituency_id, b.id);
  EXPECT_THAT(whole.incidents[0].observables, ElementsAre(other, value));
  ASSERT_EQ(whole.reports.size(), 1U);
  EXPECT_EQ(whole.reports[0].human_id, "R-2026-000002");
  EXPECT_THAT(whole.reports[0].observables, ElementsAre(value));

  for (const int limit : {0, -1, 501}) {
    EXPECT_ERROR(
        ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.FindSightings(Scope::All(), value, limit); }),
        ErrorCode::kInvalidArgument);
  }
}

TYPED_TEST(StoreContractTest, OpenIncidentsWithFindsOnlyOpenIncidentsOfThatConstituency) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  const Observable value{ObservableType::kIpv4, "198.51.100.23"};
  const Observable other{ObservableType::kAsn, "AS64500"};
  std::vector<std::int64_t> ids;
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    const auto add = [&](std::optional<std::int64_t> constituency, core::IncidentStatus status,
                         std::vector<Observable> observables) -> Result<void> {
      Incident incident = NewIncident("candidate");
      incident.constituency_id = constituency;
      incident.status = status;
      incident.observables = std::move(observables);
      HIKESHI_TRY(const auto created, tx.CreateIncident(Ctx(), incident));
      ids.push_back(created.id);
      return {};
    };
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kOpen, {value}));              // [0]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kResolved, {value}));          // [1]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kClosed, {value}));            // [2]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kMerged, {value}));            // [3]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kRejected, {value}));          // [4]
    HIKESHI_CHECK(add(b.id, core::IncidentStatus::kOpen, {value}));              // [5]
    HIKESHI_CHECK(add(std::nullopt, core::IncidentStatus::kOpen, {value}));      // [6]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kOpen, {other}));              // [7]
    HIKESHI_CHECK(add(a.id, core::IncidentStatus::kOpen, {other, value}));       // [8]
    HIKESHI_CHECK(add(std::nullopt, core::IncidentStatus::kResolved, {value}));  // [9]
    Report holding = NewReport("a report is no incident");
    holding.constituency_id = a.id;
    holding.observables = {value};
    HIKESHI_CHECK(tx.CreateReport(Ctx(), holding));
    return {};
  }));
  const auto open_with = [&](std::optional<std::int64_t> constituency, const Observable& observable) {
    auto found = ReadValue(this->TheStore(),
                           [&](core::StoreReader& r) { return r.OpenIncidentsWith(constituency, observable); });
    EXPECT_TRUE(found.has_value()) << Describe(found.error());
    return found.value_or(std::vector<std::int64_t>{});
  };
  EXPECT_THAT(open_with(a.id, value), UnorderedElementsAre(ids[0], ids[8]));
  EXPECT_THAT(open_with(b.id, value), UnorderedElementsAre(ids[5]));
  EXPECT_THAT(open_with(std::nullopt, value), UnorderedElementsAre(ids[6]));
  EXPECT_THAT(open_with(a.id, other), UnorderedElementsAre(ids[7], ids[8]));
  EXPECT_THAT(open_with(b.id, other), IsEmpty());
  EXPECT_THAT(open_with(a.id, {ObservableType::kIpv4, "198.51.100.24"}), IsEmpty());

  // Inside a write, a change of status counts at once.
  ASSERT_OK(this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto before, tx.FindIncidentById(Scope::All(), ids[0]));
    if (!before) return Fail(Error::NotFound("incident"));
    Incident resolved = *before;
    resolved.status = core::IncidentStatus::kResolved;
    HIKESHI_CHECK(tx.UpdateIncident(Ctx(), "incident.resolve", *before, resolved));
    HIKESHI_TRY(const auto still_open, tx.OpenIncidentsWith(a.id, value));
    EXPECT_THAT(still_open, UnorderedElementsAre(ids[8]));
    return {};
  }));
}

}  // namespace
}  // namespace hikeshi::store_contract
