// Response records in the store contract: what every backend keeps of a core::Record, how it finds
// and lists them, that writes are journaled and `audit verify` covers them, and what it refuses
// (a second record of the same kind and key, a kind that another object type already uses).

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/snapshot.hpp"
#include "hikeshi/core/store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"
#include "run_sql_behind.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using core::Record;
using core::Timestamp;

const Timestamp kT0 = At(2026, 3, 14, 9, 30, 123456);
const Timestamp kT1 = At(2026, 3, 15, 17, 5, 42);

core::AuditContext Ctx(Timestamp at = kT0) { return {"alice", at}; }

Record NewRecord(std::string kind, std::string key, std::optional<std::int64_t> incident_id = std::nullopt) {
  Record r;
  r.kind = std::move(kind);
  r.key = std::move(key);
  r.incident_id = incident_id;
  r.state = "open";
  r.body = R"({"title":"遮断: 198.51.100.23","assignee":"alice","due":null,"steps":[1,2]})";
  r.created_at = kT0;
  r.updated_at = kT0;
  return r;
}

void ExpectSameRecord(const Record& actual, const Record& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.incident_id, expected.incident_id);
  EXPECT_EQ(actual.state, expected.state);
  EXPECT_EQ(actual.body, expected.body);
  EXPECT_EQ(common::ToMicros(actual.created_at), common::ToMicros(expected.created_at));
  EXPECT_EQ(common::ToMicros(actual.updated_at), common::ToMicros(expected.updated_at));
}

std::vector<std::string> Keys(const std::vector<Record>& records) {
  std::vector<std::string> keys;
  for (const auto& r : records) keys.push_back(r.key);
  return keys;
}

template <typename Backend>
class RecordContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened) << Describe(opened.error());
    store_ = std::move(*opened);
  }
  core::Store& TheStore() { return *store_; }

  core::Incident CreateIncident(std::string title) {
    auto created = WriteValue(TheStore(), [&](core::WriteTx& tx) {
      core::Incident i;
      i.title = std::move(title);
      i.category = core::Category{"intrusions", "system-compromise"};
      i.created_at = kT0;
      i.updated_at = kT0;
      return tx.CreateIncident(Ctx(), i);
    });
    EXPECT_TRUE(created) << Describe(created.error());
    return created ? *created : core::Incident{};
  }
  Result<Record> Create(Record record, std::string incident = "") {
    return WriteValue(TheStore(), [&](core::WriteTx& tx) { return tx.CreateRecord(Ctx(), record, incident); });
  }
  Result<std::optional<Record>> Find(std::string kind, std::string key) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.FindRecord(kind, key); });
  }
  Result<std::vector<Record>> ForIncident(std::int64_t incident_id, std::string kind) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.ListRecordsForIncident(incident_id, kind); });
  }
  Result<std::vector<Record>> List(std::string kind, std::int64_t after_id, int limit) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.ListRecords(kind, after_id, limit); });
  }
  Result<std::vector<core::AuditEntry>> Journal() {
    return ReadValue(TheStore(), [](core::StoreReader& r) { return r.ListAudit(0, 1000); });
  }
  void ExpectAuditVerifies() {
    auto verdict = core::VerifyAudit(TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  Backend backend_;
  std::unique_ptr<core::Store> store_;
};

TYPED_TEST_SUITE(RecordContractTest, StoreBackends, BackendNames);

TYPED_TEST(RecordContractTest, RecordRoundTripsEveryFieldAndIsFoundByKindAndKeyAfterReopening) {
  const core::Incident incident = this->CreateIncident("Compromised web server");
  Record task = NewRecord("task", "T-2026-000001", incident.id);
  ASSERT_OK_AND_ASSIGN(const Record stored, this->Create(task, incident.human_id));
  EXPECT_GT(stored.id, 0);
  task.id = stored.id;
  ExpectSameRecord(stored, task);

  this->store_.reset();
  ASSERT_OK_AND_ASSIGN(this->store_, this->backend_.Open());
  ASSERT_OK_AND_ASSIGN(const auto found, this->Find("task", "T-2026-000001"));
  ASSERT_TRUE(found.has_value());
  ExpectSameRecord(*found, task);
  // The key names a record within its kind only.
  ASSERT_OK_AND_ASSIGN(const auto other_kind, this->Find("countermeasure", "T-2026-000001"));
  EXPECT_FALSE(other_kind.has_value());
  ASSERT_OK_AND_ASSIGN(const auto other_key, this->Find("task", "T-2026-000002"));
  EXPECT_FALSE(other_key.has_value());

  // Journaled as "<kind>.create" on the incident's timeline.
  ASSERT_OK_AND_ASSIGN(const auto timeline, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListAuditForIncident(incident.human_id);
                       }));
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_EQ(timeline[1].action, "task.create");
  EXPECT_EQ(timeline[1].object_type, "task");
  EXPECT_EQ(timeline[1].object_id, "T-2026-000001");
  EXPECT_EQ(timeline[1].actor, "alice");
  EXPECT_EQ(timeline[1].before, "");
  EXPECT_THAT(timeline[1].after, HasSubstr("\"key\":\"T-2026-000001\""));
  this->ExpectAuditVerifies();
}

TYPED_TEST(RecordContractTest, RecordsOfAnIncidentAreListedOldestFirstWithOrWithoutAKind) {
  const core::Incident a = this->CreateIncident("A");
  const core::Incident b = this->CreateIncident("B");
  ASSERT_OK(this->Create(NewRecord("task", "T-1", a.id), a.human_id));
  ASSERT_OK(this->Create(NewRecord("countermeasure", "C-1", a.id), a.human_id));
  ASSERT_OK(this->Create(NewRecord("task", "T-2", b.id), b.human_id));
  ASSERT_OK(this->Create(NewRecord("review", "R-1")));
  ASSERT_OK(this->Create(NewRecord("task", "T-3", a.id), a.human_id));

  ASSERT_OK_AND_ASSIGN(const auto a_tasks, this->ForIncident(a.id, "task"));
  EXPECT_THAT(Keys(a_tasks), ElementsAre("T-1", "T-3"));
  ASSERT_OK_AND_ASSIGN(const auto a_all, this->ForIncident(a.id, ""));
  EXPECT_THAT(Keys(a_all), ElementsAre("T-1", "C-1", "T-3"));
  ASSERT_OK_AND_ASSIGN(const auto b_all, this->ForIncident(b.id, ""));
  EXPECT_THAT(Keys(b_all), ElementsAre("T-2"));
  ASSERT_OK_AND_ASSIGN(const auto b_countermeasures, this->ForIncident(b.id, "countermeasure"));
  EXPECT_THAT(b_countermeasures, IsEmpty());
  ASSERT_OK_AND_ASSIGN(const auto nowhere, this->ForIncident(b.id + 1000, ""));
  EXPECT_THAT(nowhere, IsEmpty());
}

// The queue's SLA view: the breach records of a page of incidents in one query, and the incident
// list narrowed to incidents holding a record of a kind, page by page.
TYPED_TEST(RecordContractTest, RecordsOfSeveralIncidentsAndIncidentsHoldingAKindAcrossPages) {
  const core::Incident a = this->CreateIncident("A");
  const core::Incident b = this->CreateIncident("B");
  const core::Incident c = this->CreateIncident("C");
  const core::Incident d = this->CreateIncident("D");
  ASSERT_OK(this->Create(NewRecord("sla-breach", a.human_id + "/triage", a.id), a.human_id));
  ASSERT_OK(this->Create(NewRecord("task", "T-1", b.id), b.human_id));
  ASSERT_OK(this->Create(NewRecord("sla-breach", c.human_id + "/acknowledge", c.id), c.human_id));
  ASSERT_OK(this->Create(NewRecord("sla-breach", a.human_id + "/resolution", a.id), a.human_id));
  ASSERT_OK(this->Create(NewRecord("sla-breach", d.human_id + "/triage", d.id), d.human_id));

  const std::vector<std::int64_t> ids = {a.id, b.id, c.id};
  ASSERT_OK_AND_ASSIGN(const auto breaches, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListRecordsForIncidents(ids, "sla-breach");
                       }));
  EXPECT_THAT(Keys(breaches),
              ElementsAre(a.human_id + "/triage", c.human_id + "/acknowledge", a.human_id + "/resolution"));
  ASSERT_OK_AND_ASSIGN(const auto none, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListRecordsForIncidents(std::vector<std::int64_t>{b.id}, "sla-breach");
                       }));
  EXPECT_THAT(none, IsEmpty());

  // Newest first, one per page: D, C, A; B (a task only) never shows.
  core::IncidentQuery query;
  query.with_record = "sla-breach";
  query.limit = 1;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    ASSERT_OK_AND_ASSIGN(const auto page, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                           return r.ListIncidents(core::Scope::All(), query);
                         }));
    for (const auto& i : page.items) seen.push_back(i.human_id);
    if (!page.next_before_id) break;
    query.before_id = page.next_before_id;
  }
  EXPECT_THAT(seen, ElementsAre(d.human_id, c.human_id, a.human_id));
}

TYPED_TEST(RecordContractTest, RecordsArePagedByKindInIdOrder) {
  std::vector<std::int64_t> ids;
  for (const auto& [kind, key] : std::vector<std::pair<std::string, std::string>>{
           {"task", "T-1"}, {"plan", "phishing@1"}, {"task", "T-2"}, {"task", "T-3"}, {"plan", "phishing@2"}}) {
    ASSERT_OK_AND_ASSIGN(const Record r, this->Create(NewRecord(kind, key)));
    ids.push_back(r.id);
  }
  ASSERT_OK_AND_ASSIGN(const auto first, this->List("task", 0, 2));
  EXPECT_THAT(Keys(first), ElementsAre("T-1", "T-2"));
  ASSERT_EQ(first.size(), 2u);
  ASSERT_OK_AND_ASSIGN(const auto second, this->List("task", first.back().id, 2));
  EXPECT_THAT(Keys(second), ElementsAre("T-3"));
  ASSERT_OK_AND_ASSIGN(const auto after_last, this->List("task", ids[3], 2));
  EXPECT_THAT(after_last, IsEmpty());
  ASSERT_OK_AND_ASSIGN(const auto plans, this->List("plan", 0, 10));
  EXPECT_THAT(Keys(plans), ElementsAre("phishing@1", "phishing@2"));
  ASSERT_OK_AND_ASSIGN(const auto every_kind, this->List("", ids[0], 3));
  EXPECT_THAT(Keys(every_kind), ElementsAre("phishing@1", "T-2", "T-3"));
  ASSERT_OK_AND_ASSIGN(const auto unknown, this->List("review", 0, 10));
  EXPECT_THAT(unknown, IsEmpty());
  EXPECT_ERROR(this->List("task", 0, 0), ErrorCode::kInvalidArgument);
}

TYPED_TEST(RecordContractTest, UpdateStoresStateBodyAndIncidentAndIsJournaledUnderItsAction) {
  const core::Incident incident = this->CreateIncident("Phishing wave");
  ASSERT_OK_AND_ASSIGN(const Record before, this->Create(NewRecord("task", "T-2026-000007")));
  Record after = before;
  after.state = "done";
  after.body = R"({"title":"遮断: 198.51.100.23","assignee":"bob","done_by":"bob"})";
  after.incident_id = incident.id;
  after.updated_at = kT1;
  ASSERT_OK(this->TheStore().Write(
      [&](core::WriteTx& tx) { return tx.UpdateRecord(Ctx(kT1), "task.done", before, after, incident.human_id); }));

  ASSERT_OK_AND_ASSIGN(const auto found, this->Find("task", "T-2026-000007"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, before.id);
  EXPECT_EQ(found->state, "done");
  EXPECT_EQ(found->body, R"({"title":"遮断: 198.51.100.23","assignee":"bob","done_by":"bob"})");
  EXPECT_EQ(found->incident_id, incident.id);
  EXPECT_EQ(common::ToMicros(found->created_at), common::ToMicros(kT0));
  EXPECT_EQ(common::ToMicros(found->updated_at), common::ToMicros(kT1));
  ASSERT_OK_AND_ASSIGN(const auto of_incident, this->ForIncident(incident.id, "task"));
  EXPECT_THAT(Keys(of_incident), ElementsAre("T-2026-000007"));

  ASSERT_OK_AND_ASSIGN(const auto journal, this->Journal());
  ASSERT_EQ(journal.size(), 3u);  // incident.create, task.create, task.done
  EXPECT_EQ(journal[2].action, "task.done");
  EXPECT_EQ(journal[2].object_type, "task");
  EXPECT_EQ(journal[2].object_id, "T-2026-000007");
  EXPECT_EQ(journal[2].incident, incident.human_id);
  EXPECT_EQ(journal[2].before, journal[1].after);
  EXPECT_THAT(journal[2].after, HasSubstr("\"state\":\"done\""));
  EXPECT_THAT(journal[2].after, HasSubstr("\"done_by\":\"bob\""));

  auto verdict = core::VerifyAudit(this->TheStore());
  ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
  EXPECT_TRUE(verdict->ok()) << verdict->problem;
  EXPECT_EQ(verdict->entries_checked, 3);
  EXPECT_EQ(verdict->objects_checked, 2);  // the incident and the task

  // A record that is not stored cannot be updated.
  Record ghost = after;
  ghost.id = before.id + 1000;
  EXPECT_ERROR(this->TheStore().Write(
                   [&](core::WriteTx& tx) { return tx.UpdateRecord(Ctx(kT1), "task.done", ghost, ghost, ""); }),
               ErrorCode::kNotFound);
}

TYPED_TEST(RecordContractTest, SecondRecordWithTheSameKindAndKeyIsAConflictAndRollsBackItsTransaction) {
  ASSERT_OK(this->Create(NewRecord("task", "T-1")));
  const auto status = this->TheStore().Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateRecord(Ctx(), NewRecord("task", "T-2"), ""));
    HIKESHI_CHECK(tx.CreateRecord(Ctx(), NewRecord("task", "T-1"), ""));
    return {};
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kConflict) << Describe(status.error());

  // Nothing of the failed transaction was kept: not T-2, not its journal entry.
  ASSERT_OK_AND_ASSIGN(const auto t2, this->Find("task", "T-2"));
  EXPECT_FALSE(t2.has_value());
  ASSERT_OK_AND_ASSIGN(const auto all, this->List("", 0, 10));
  EXPECT_THAT(Keys(all), ElementsAre("T-1"));
  ASSERT_OK_AND_ASSIGN(const auto journal, this->Journal());
  EXPECT_EQ(journal.size(), 1u);
  // The same key in another kind is another record.
  ASSERT_OK(this->Create(NewRecord("countermeasure", "T-1")));
  this->ExpectAuditVerifies();
}

TYPED_TEST(RecordContractTest, RecordEditedBehindHikeshisBackIsCaughtByAuditVerify) {
  ASSERT_OK(this->Create(NewRecord("task", "T-1")));
  ASSERT_OK(this->Create(NewRecord("task", "T-2")));
  this->ExpectAuditVerifies();

  ASSERT_OK(RunSqlBehind(this->backend_, R"(UPDATE records SET body = '{"title":"nothing to do"}' WHERE key = 'T-2')"));
  auto verdict = core::VerifyAudit(this->TheStore());
  ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
  EXPECT_FALSE(verdict->ok());
  EXPECT_THAT(verdict->problem, HasSubstr("task T-2 differs from what audit entry #2 recorded"));
  EXPECT_EQ(verdict->first_bad_seq, 2);
}

TYPED_TEST(RecordContractTest, RecordAddedBehindHikeshisBackIsCaughtByAuditVerify) {
  ASSERT_OK(this->Create(NewRecord("task", "T-1")));
  ASSERT_OK(RunSqlBehind(this->backend_,
                         "INSERT INTO records (kind, key, incident_id, state, body, created_at, updated_at) "
                         "VALUES ('task', 'T-9', NULL, 'done', '{}', 0, 0)"));
  auto verdict = core::VerifyAudit(this->TheStore());
  ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
  EXPECT_FALSE(verdict->ok());
  EXPECT_THAT(verdict->problem, HasSubstr("task T-9 is in the store but no audit entry records it"));
}

TYPED_TEST(RecordContractTest, KindThatAnotherObjectTypeUsesIsRefusedAndNothingIsWritten) {
  for (const std::string kind : {"incident", "mail", "report", "Task", ""}) {
    SCOPED_TRACE("kind \"" + kind + "\"");
    EXPECT_ERROR(this->Create(NewRecord(kind, "I-2026-000001")), ErrorCode::kInternal);
  }
  EXPECT_ERROR(this->Create(NewRecord("task", "")), ErrorCode::kInternal);
  ASSERT_OK_AND_ASSIGN(const auto all, this->List("", 0, 10));
  EXPECT_THAT(all, IsEmpty());
  ASSERT_OK_AND_ASSIGN(const auto journal, this->Journal());
  EXPECT_THAT(journal, IsEmpty());
}

}  // namespace
}  // namespace hikeshi::store_contract
