// The response loop's use cases (core::Playbooks, core::Incidents' playbook tasks, merge and split,
// core::ResponseLoop) against each real store backend. It lives here rather than in core_tests
// because core cannot link a store backend. Expected values are written out by hand from
// playbooks.hpp, response.hpp and incidents.hpp.

#include "hikeshi/core/response.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/playbooks.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/reports.hpp"
#include "hikeshi/core/store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using core::Incident;
using core::IncidentDraft;
using core::Observable;
using core::ObservableType;
using core::Principal;
using core::Role;
using core::Timestamp;

class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(Timestamp now) : micros_(common::ToMicros(now)) {}
  Timestamp Now() const override { return common::FromMicros(micros_.load()); }
  void Advance(std::chrono::minutes by) {
    micros_ += std::chrono::duration_cast<std::chrono::microseconds>(by).count();
  }

 private:
  std::atomic<std::int64_t> micros_;
};

const Timestamp kStart = At(2026, 5, 11, 9, 0);

core::PlaybookDraft PhishingPlaybook() {
  core::PlaybookDraft p;
  p.name = "phishing";
  p.category = "Phishing";  // the guide's name for fraud/phishing
  p.title = {"フィッシング対応", "Phishing"};
  p.tasks = {{{"サイトの稼働を確認する", "Check whether the site is live"}, "handler", 4},
             {{"", "Ask the host to take it down"}, "", std::nullopt}};
  p.notify = {"JPCERT/CC"};
  p.templates = {{"takedown", "en", "[{{incident}}] takedown", "Please take down {{title}}."}};
  p.change_note = "first";
  return p;
}

core::PlaybookDraft FraudPlaybook() {
  core::PlaybookDraft p;
  p.name = "fraud";
  p.category = "fraud";
  p.title = {"", "Other fraud"};
  p.tasks = {{{"被害の有無を確認する", ""}, "", 24}};
  return p;
}

template <typename Backend>
class ResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened.has_value()) << Describe(opened.error());
    store_ = std::move(*opened);
    playbooks_.emplace(*store_, clock_);
    incidents_.emplace(*store_, clock_);
    reports_.emplace(*store_, clock_);
    response_.emplace(*store_, clock_);
    for (const char* name : {"alpha", "beta"}) {
      core::Constituency c;
      c.name = name;
      c.created_at = kStart;
      ASSERT_OK_AND_ASSIGN(const auto stored, WriteValue(*store_, [&](core::WriteTx& tx) {
                             return tx.CreateConstituency({"cli", kStart}, c);
                           }));
      (name == std::string("alpha") ? alpha_ : beta_) = stored.id;
    }
    alice_ = Handler("alice", alpha_);
    bob_ = Handler("bob", beta_);
  }

  // A handler scoped to one constituency, stored as a user (tasks can be given to users only).
  Principal Handler(const std::string& username, std::int64_t constituency) {
    core::User user;
    user.username = username;
    user.role = Role::kHandler;
    user.constituency_ids = {constituency};
    user.password_hash = "x";
    user.created_at = kStart;
    auto stored = WriteValue(*store_, [&](core::WriteTx& tx) { return tx.CreateUser({"cli", kStart}, user); });
    EXPECT_TRUE(stored.has_value());
    return stored ? Principal::ForUser(*stored) : Principal{};
  }

  static Principal Admin() { return Principal::LocalOperator(); }

  IncidentDraft Draft(std::string title, std::string category, std::vector<core::RawObservable> observables = {}) {
    IncidentDraft draft;
    draft.title = std::move(title);
    draft.category = std::move(category);
    draft.constituency = "alpha";
    draft.observables = std::move(observables);
    return draft;
  }

  core::Report FileReport(const std::string& subject, const std::string& ip, const std::string& incident) {
    core::ReportDraft draft;
    draft.subject = subject;
    draft.constituency = "alpha";
    draft.observables = {{"ipv4", ip}};
    auto report = reports_->Create(alice_, draft);
    EXPECT_TRUE(report.has_value()) << Describe(report.error());
    auto linked = reports_->Link(alice_, report->human_id, incident);
    EXPECT_TRUE(linked.has_value()) << Describe(linked.error());
    return *linked;
  }

  std::vector<std::string> TaskTitles(const std::string& incident) {
    auto tasks = response_->Tasks(alice_, incident);
    EXPECT_TRUE(tasks.has_value()) << Describe(tasks.error());
    std::vector<std::string> out;
    for (const auto& t : *tasks) out.push_back(t.title + " (" + t.playbook + ")");
    return out;
  }

  core::Report ReportOf(const std::string& id) {
    auto report = reports_->Get(Admin(), id);
    EXPECT_TRUE(report.has_value());
    return *report;
  }

  void ExpectJournalIntact() {
    auto verdict = core::VerifyAudit(*store_);
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  Backend backend_;
  std::unique_ptr<core::Store> store_;
  FixedClock clock_{kStart};
  std::int64_t alpha_ = 0;
  std::int64_t beta_ = 0;
  Principal alice_;
  Principal bob_;
  std::optional<core::Playbooks> playbooks_;
  std::optional<core::Incidents> incidents_;
  std::optional<core::Reports> reports_;
  std::optional<core::ResponseLoop> response_;
};

TYPED_TEST_SUITE(ResponseTest, StoreBackends, BackendNames);

TYPED_TEST(ResponseTest, AnOpenedIncidentGetsThePlaybookOfItsCategory) {
  ASSERT_OK(this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  ASSERT_OK(this->playbooks_->Put(this->alice_, FraudPlaybook()));

  ASSERT_OK_AND_ASSIGN(const Incident phishing,
                       this->incidents_->Create(this->alice_, this->Draft("偽サイト", "fraud/phishing")));
  ASSERT_OK_AND_ASSIGN(const auto tasks, this->response_->Tasks(this->alice_, phishing.human_id));
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].title, "サイトの稼働を確認する");
  EXPECT_EQ(tasks[0].title_en, "Check whether the site is live");
  EXPECT_EQ(tasks[0].role, "handler");
  EXPECT_EQ(tasks[0].due, kStart + std::chrono::hours(4));
  EXPECT_EQ(tasks[0].playbook, "phishing@1");
  EXPECT_FALSE(tasks[0].done);
  // A task given only in English keeps that as its title.
  EXPECT_EQ(tasks[1].title, "Ask the host to take it down");
  EXPECT_EQ(tasks[1].title_en, "");
  EXPECT_EQ(tasks[1].due, std::nullopt);

  // Another type of the fraud class gets the class's playbook; a category with none gets nothing.
  ASSERT_OK_AND_ASSIGN(const Incident masquerade,
                       this->incidents_->Create(this->alice_, this->Draft("なりすまし", "fraud/masquerade")));
  EXPECT_THAT(this->TaskTitles(masquerade.human_id), ElementsAre("被害の有無を確認する (fraud@1)"));
  ASSERT_OK_AND_ASSIGN(const Incident scan, this->incidents_->Create(this->alice_, this->Draft("scan", "Scan")));
  EXPECT_THAT(this->TaskTitles(scan.human_id), IsEmpty());

  // The tasks are on the incident's timeline, created with it.
  ASSERT_OK_AND_ASSIGN(const auto timeline, this->incidents_->Timeline(this->alice_, phishing.human_id));
  std::vector<std::string> actions;
  for (const auto& e : timeline) actions.push_back(e.action);
  EXPECT_THAT(actions, ElementsAre("incident.create", "task.create", "task.create"));
  this->ExpectJournalIntact();
}

TYPED_TEST(ResponseTest, ANamedPlaybookWinsAndAnUnknownOneOpensNothing) {
  ASSERT_OK(this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  auto draft = this->Draft("phishing mail with malware", "malicious-code/malware-distribution");
  draft.playbook = "phishing";
  ASSERT_OK_AND_ASSIGN(const Incident named, this->incidents_->Create(this->alice_, draft));
  EXPECT_EQ(this->TaskTitles(named.human_id).size(), 2u);

  draft.playbook = "no-such-playbook";
  const auto refused = this->incidents_->Create(this->alice_, draft);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(refused.error().field(), "/playbook");
  ASSERT_OK_AND_ASSIGN(const auto all, this->incidents_->List(this->alice_, {}));
  EXPECT_EQ(all.items.size(), 1u) << "the incident must not be opened without its playbook";
}

TYPED_TEST(ResponseTest, ARecategorisedIncidentGetsTheNewCategorysTasksOnce) {
  ASSERT_OK(this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  ASSERT_OK_AND_ASSIGN(const Incident incident,
                       this->incidents_->Create(this->alice_, this->Draft("?", "other/undetermined")));
  EXPECT_THAT(this->TaskTitles(incident.human_id), IsEmpty());

  core::IncidentPatch to_phishing;
  to_phishing.category = "fraud/phishing";
  ASSERT_OK(this->incidents_->Update(this->alice_, incident.human_id, to_phishing));
  EXPECT_EQ(this->TaskTitles(incident.human_id).size(), 2u);

  // Away and back again: the same playbook revision is not applied twice.
  core::IncidentPatch away;
  away.category = "other/undetermined";
  ASSERT_OK(this->incidents_->Update(this->alice_, incident.human_id, away));
  ASSERT_OK(this->incidents_->Update(this->alice_, incident.human_id, to_phishing));
  EXPECT_EQ(this->TaskTitles(incident.human_id).size(), 2u);

  // A revised playbook brings its tasks to an incident recategorised after the revision.
  auto revised = PhishingPlaybook();
  revised.tasks.push_back({{"ブランド所有者に連絡する", "Notify the brand owner"}, "handler", 24});
  ASSERT_OK(this->playbooks_->Put(this->alice_, revised));
  ASSERT_OK(this->incidents_->Update(this->alice_, incident.human_id, away));
  ASSERT_OK(this->incidents_->Update(this->alice_, incident.human_id, to_phishing));
  const auto titles = this->TaskTitles(incident.human_id);
  ASSERT_EQ(titles.size(), 5u);
  EXPECT_EQ(titles.back(), "ブランド所有者に連絡する (phishing@2)");
}

TYPED_TEST(ResponseTest, PlaybookVersionsAreKeptAndOneCategoryHasOnePlaybook) {
  ASSERT_OK_AND_ASSIGN(const auto first, this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.category, "fraud/phishing");
  EXPECT_EQ(first.changed_by, "alice");
  this->clock_.Advance(std::chrono::minutes(30));
  auto second_draft = PhishingPlaybook();
  second_draft.title.en = "Phishing (revised after I-2026-000001)";
  second_draft.change_note = "lessons learned";
  ASSERT_OK_AND_ASSIGN(const auto second, this->playbooks_->Put(this->alice_, second_draft));
  EXPECT_EQ(second.version, 2);

  ASSERT_OK_AND_ASSIGN(const auto current, this->playbooks_->Get(this->alice_, "phishing"));
  EXPECT_EQ(current.version, 2);
  EXPECT_EQ(current.title.en, "Phishing (revised after I-2026-000001)");
  EXPECT_EQ(current.templates, PhishingPlaybook().templates);
  ASSERT_OK_AND_ASSIGN(const auto old, this->playbooks_->GetVersion(this->alice_, "phishing", 1));
  EXPECT_EQ(old.title.en, "Phishing");
  EXPECT_FALSE(old.current);
  EXPECT_EQ(old.changed_at, kStart);
  ASSERT_OK_AND_ASSIGN(const auto history, this->playbooks_->History(this->alice_, "phishing"));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].change_note, "first");
  EXPECT_EQ(history[1].change_note, "lessons learned");
  ASSERT_OK_AND_ASSIGN(const auto list, this->playbooks_->List(this->alice_));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].Revision(), "phishing@2");

  // A second playbook for fraud/phishing under another name is refused.
  auto rival = PhishingPlaybook();
  rival.name = "phishing-2";
  EXPECT_ERROR(this->playbooks_->Put(this->alice_, rival), ErrorCode::kConflict);
  EXPECT_ERROR(this->playbooks_->GetVersion(this->alice_, "phishing", 3), ErrorCode::kNotFound);

  // Viewers read but do not write; constituents do neither.
  Principal viewer = this->alice_;
  viewer.role = Role::kViewer;
  EXPECT_ERROR(this->playbooks_->Put(viewer, PhishingPlaybook()), ErrorCode::kPermissionDenied);
  ASSERT_OK(this->playbooks_->Get(viewer, "phishing"));
  Principal constituent = this->alice_;
  constituent.role = Role::kConstituent;
  EXPECT_ERROR(this->playbooks_->List(constituent), ErrorCode::kPermissionDenied);
  this->ExpectJournalIntact();
}

TYPED_TEST(ResponseTest, MergeMovesReportsObservablesRecordsAndTimeline) {
  ASSERT_OK(this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  ASSERT_OK_AND_ASSIGN(
      const Incident from,
      this->incidents_->Create(this->alice_, this->Draft("first sighting", "fraud/phishing",
                                                         {{"ipv4", "192.0.2.10"}, {"domain", "portal.example.com"}})));
  ASSERT_OK_AND_ASSIGN(
      const Incident into,
      this->incidents_->Create(this->alice_, this->Draft("the campaign", "fraud/phishing",
                                                         {{"ipv4", "192.0.2.20"}, {"domain", "portal.example.com"}})));
  const auto report = this->FileReport("偽ログインページ", "192.0.2.10", from.human_id);
  core::NewCountermeasure block;
  block.kind = "block-ip";
  block.target = "192.0.2.10";
  ASSERT_OK_AND_ASSIGN(const auto countermeasure,
                       this->response_->AddCountermeasure(this->alice_, from.human_id, block));
  ASSERT_OK(this->response_->RevisePlan(this->alice_, from.human_id, "block, then take down"));

  this->clock_.Advance(std::chrono::minutes(5));
  ASSERT_OK_AND_ASSIGN(const Incident merged, this->incidents_->Merge(this->alice_, from.human_id, into.human_id));
  EXPECT_EQ(merged.status, core::IncidentStatus::kMerged);
  EXPECT_EQ(merged.merged_into, into.id);

  // The report now belongs to the target.
  EXPECT_EQ(this->ReportOf(report.human_id).incident_id, into.id);
  // The target holds the union of the observables, its own first.
  ASSERT_OK_AND_ASSIGN(const Incident target, this->incidents_->Get(this->alice_, into.human_id));
  EXPECT_THAT(target.observables, ElementsAre(Observable{ObservableType::kIpv4, "192.0.2.20"},
                                              Observable{ObservableType::kDomain, "portal.example.com"},
                                              Observable{ObservableType::kIpv4, "192.0.2.10"}));
  // Tasks and countermeasures moved; the merged incident has none left.
  EXPECT_EQ(this->TaskTitles(into.human_id).size(), 4u);
  EXPECT_THAT(this->TaskTitles(from.human_id), IsEmpty());
  ASSERT_OK_AND_ASSIGN(const auto moved, this->response_->Countermeasures(this->alice_, into.human_id));
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].id, countermeasure.id);
  EXPECT_EQ(moved[0].incident, into.human_id);
  // The two are linked, each seeing the other's side.
  ASSERT_OK_AND_ASSIGN(const auto from_links, this->response_->Links(this->alice_, from.human_id));
  ASSERT_EQ(from_links.size(), 1u);
  EXPECT_EQ(from_links[0].other, into.human_id);
  EXPECT_EQ(from_links[0].relation, core::LinkRelation::kMergedInto);
  ASSERT_OK_AND_ASSIGN(const auto into_links, this->response_->Links(this->alice_, into.human_id));
  ASSERT_EQ(into_links.size(), 1u);
  EXPECT_EQ(into_links[0].relation, core::LinkRelation::kMergedFrom);

  // The target's timeline shows the merged incident's history too, in journal order.
  ASSERT_OK_AND_ASSIGN(const auto timeline, this->incidents_->Timeline(this->alice_, into.human_id));
  std::vector<std::string> created;
  std::int64_t last_seq = 0;
  for (const auto& e : timeline) {
    EXPECT_GT(e.seq, last_seq);
    last_seq = e.seq;
    if (e.action == "incident.create") created.push_back(e.object_id);
  }
  EXPECT_THAT(created, ElementsAre(from.human_id, into.human_id));
  EXPECT_TRUE(std::any_of(timeline.begin(), timeline.end(), [&](const core::AuditEntry& e) {
    return e.action == "report.link" && e.object_id == report.human_id;
  })) << "the report's link to the merged incident belongs to the history";

  // Work continues on the target; the merged incident takes no more, and cannot be merged again.
  core::NewTask task;
  task.title = "late task";
  EXPECT_ERROR(this->response_->AddTask(this->alice_, from.human_id, task), ErrorCode::kFailedPrecondition);
  EXPECT_ERROR(this->incidents_->Merge(this->alice_, from.human_id, into.human_id), ErrorCode::kFailedPrecondition);
  const auto self = this->incidents_->Merge(this->alice_, into.human_id, into.human_id);
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().field(), "/into");
  this->ExpectJournalIntact();
}

TYPED_TEST(ResponseTest, MergeNeedsBothIncidentsInTheScope) {
  ASSERT_OK_AND_ASSIGN(const Incident a, this->incidents_->Create(this->alice_, this->Draft("a", "Scan")));
  ASSERT_OK_AND_ASSIGN(const Incident b, this->incidents_->Create(this->alice_, this->Draft("b", "Scan")));
  auto beta_draft = this->Draft("beta's", "Scan");
  beta_draft.constituency = "beta";
  ASSERT_OK_AND_ASSIGN(const Incident theirs, this->incidents_->Create(this->bob_, beta_draft));

  // Bob cannot see alpha's incidents: not found, as if they did not exist.
  EXPECT_ERROR(this->incidents_->Merge(this->bob_, a.human_id, b.human_id), ErrorCode::kNotFound);
  const auto into_hidden = this->incidents_->Merge(this->alice_, a.human_id, theirs.human_id);
  ASSERT_FALSE(into_hidden);
  EXPECT_EQ(into_hidden.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(into_hidden.error().field(), "/into");
  ASSERT_OK_AND_ASSIGN(const Incident unchanged, this->incidents_->Get(this->alice_, a.human_id));
  EXPECT_EQ(unchanged.status, core::IncidentStatus::kOpen);
  // Links need both too.
  EXPECT_ERROR(this->response_->AddLink(this->alice_, a.human_id, theirs.human_id, "related"), ErrorCode::kNotFound);
  EXPECT_ERROR(this->response_->Links(this->bob_, a.human_id), ErrorCode::kNotFound);
}

TYPED_TEST(ResponseTest, SplitOpensANewIncidentWithTheChosenReports) {
  ASSERT_OK(this->playbooks_->Put(this->alice_, PhishingPlaybook()));
  auto draft = this->Draft("two campaigns in one", "fraud/phishing");
  draft.tlp = "TLP:AMBER+STRICT";
  draft.impact = 2;
  draft.urgency = 1;
  draft.owner = "alice";
  ASSERT_OK_AND_ASSIGN(const Incident source, this->incidents_->Create(this->alice_, draft));
  const auto r1 = this->FileReport("campaign one", "192.0.2.1", source.human_id);
  const auto r2 = this->FileReport("campaign two", "192.0.2.2", source.human_id);
  const auto r3 = this->FileReport("campaign two again", "192.0.2.3", source.human_id);

  this->clock_.Advance(std::chrono::minutes(10));
  ASSERT_OK_AND_ASSIGN(
      const Incident split,
      this->incidents_->Split(this->alice_, source.human_id, {r2.human_id, r3.human_id, r2.human_id}, "campaign two"));
  EXPECT_NE(split.human_id, source.human_id);
  EXPECT_EQ(split.title, "campaign two");
  EXPECT_EQ(split.category, source.category);
  EXPECT_EQ(split.constituency_id, this->alpha_);
  EXPECT_EQ(split.tlp, core::Tlp::kAmberStrict);
  EXPECT_EQ(split.priority, source.priority);
  EXPECT_EQ(split.owner_id, source.owner_id);
  EXPECT_EQ(split.status, core::IncidentStatus::kOpen);
  EXPECT_THAT(split.observables, UnorderedElementsAre(Observable{ObservableType::kIpv4, "192.0.2.2"},
                                                      Observable{ObservableType::kIpv4, "192.0.2.3"}));
  EXPECT_EQ(this->ReportOf(r1.human_id).incident_id, source.id);
  EXPECT_EQ(this->ReportOf(r2.human_id).incident_id, split.id);
  EXPECT_EQ(this->ReportOf(r3.human_id).incident_id, split.id);
  // Opened, so it gets its category's tasks.
  EXPECT_EQ(this->TaskTitles(split.human_id).size(), 2u);
  ASSERT_OK_AND_ASSIGN(const auto links, this->response_->Links(this->alice_, split.human_id));
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].other, source.human_id);
  EXPECT_EQ(links[0].relation, core::LinkRelation::kSplitFrom);
  ASSERT_OK_AND_ASSIGN(const auto back, this->response_->Links(this->alice_, source.human_id));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].relation, core::LinkRelation::kSplitInto);
  this->ExpectJournalIntact();
}

TYPED_TEST(ResponseTest, SplitRefusesReportsOfAnotherIncidentAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(const Incident source, this->incidents_->Create(this->alice_, this->Draft("a", "Scan")));
  ASSERT_OK_AND_ASSIGN(const Incident other, this->incidents_->Create(this->alice_, this->Draft("b", "Scan")));
  const auto mine = this->FileReport("mine", "192.0.2.1", source.human_id);
  const auto theirs = this->FileReport("theirs", "192.0.2.2", other.human_id);

  const auto refused = this->incidents_->Split(this->alice_, source.human_id, {mine.human_id, theirs.human_id}, "x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().field(), "/reports/1");
  const auto missing = this->incidents_->Split(this->alice_, source.human_id, {"R-2026-999999"}, "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().field(), "/reports/0");
  EXPECT_ERROR(this->incidents_->Split(this->alice_, source.human_id, {}, "x"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(this->incidents_->Split(this->bob_, source.human_id, {mine.human_id}, "x"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(const auto all, this->incidents_->List(this->alice_, {}));
  EXPECT_EQ(all.items.size(), 2u);
  EXPECT_EQ(this->ReportOf(mine.human_id).incident_id, source.id);

  // Only an open incident can be split.
  core::IncidentPatch resolve;
  resolve.status = "resolved";
  ASSERT_OK(this->incidents_->Update(this->alice_, source.human_id, resolve));
  EXPECT_ERROR(this->incidents_->Split(this->alice_, source.human_id, {mine.human_id}, "x"),
               ErrorCode::kFailedPrecondition);
}

TYPED_TEST(ResponseTest, TheAptDecisionIsRecordedAndALaterOneSupersedesIt) {
  ASSERT_OK_AND_ASSIGN(const Incident apt, this->incidents_->Create(this->alice_, this->Draft("標的型攻撃", "APT")));
  ASSERT_OK_AND_ASSIGN(const Incident plain, this->incidents_->Create(this->alice_, this->Draft("侵入", "Intrusion")));
  EXPECT_ERROR(this->response_->DecideApt(this->alice_, plain.human_id, "scope-first", "why"),
               ErrorCode::kFailedPrecondition);

  ASSERT_OK(
      this->response_->DecideApt(this->alice_, apt.human_id, "scope-first", "攻撃者に気付かれずに範囲を特定する"));
  this->clock_.Advance(std::chrono::minutes(90));
  ASSERT_OK_AND_ASSIGN(const auto plan,
                       this->response_->DecideApt(this->alice_, apt.human_id, "eradicate-now", "exfiltration started"));
  ASSERT_EQ(plan.decisions.size(), 2u);
  EXPECT_EQ(plan.decisions[0].decision, core::AptDecision::kScopeFirst);
  EXPECT_EQ(plan.decisions[1].decision, core::AptDecision::kEradicateNow);
  EXPECT_EQ(plan.decisions[1].decider, "alice");
  EXPECT_EQ(plan.decisions[1].at, kStart + std::chrono::minutes(90));
  // Read back from the store, the same.
  ASSERT_OK_AND_ASSIGN(const auto stored, this->response_->Plan(this->alice_, apt.human_id));
  ASSERT_EQ(stored.decisions.size(), 2u);
  EXPECT_EQ(stored.decisions[0].rationale, "攻撃者に気付かれずに範囲を特定する");
  EXPECT_ERROR(this->response_->Plan(this->bob_, apt.human_id), ErrorCode::kNotFound);
  this->ExpectJournalIntact();
}

}  // namespace
}  // namespace hikeshi::store_contract
