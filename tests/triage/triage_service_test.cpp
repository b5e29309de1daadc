// core::TriageService over a real SQLite store with the real TOML codec: rule set versions (each
// edit a new one, the data directory's file loaded without undoing API edits), the compiled cache
// (swapped when this process stores a version, refreshed when another process did), the decision
// applied at intake inside the report's transaction, and overrides with a reason.

#include "hikeshi/core/triage_service.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/feed_ingest.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/reports.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"
#include "hikeshi/triage/rules_toml.hpp"

namespace hikeshi::core {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SettableClock final : public Clock {
 public:
  Timestamp Now() const override { return common::FromMicros(micros_.load()); }
  void Advance(std::chrono::microseconds by) { micros_ += by.count(); }

 private:
  std::atomic<std::int64_t> micros_{common::ToMicros(*common::ParseRfc3339("2026-11-27T09:00:00Z"))};
};

constexpr std::string_view kPhishingP2 = R"([[rule]]
id = "unsolicited-ads"
[rule.match]
keyword = ["未承諾広告"]
[rule.set]
disposition = "spam"

[[rule]]
id = "phishing"
[rule.match]
keyword = ["フィッシング", "phishing"]
[rule.set]
category = "fraud/phishing"
impact = 2
urgency = 2
playbook = "phishing"
owner = "hanako"
tlp = "amber+strict"
)";

// The same rules, but phishing is now P1.
constexpr std::string_view kPhishingP1 = R"([[rule]]
id = "phishing"
[rule.match]
keyword = ["フィッシング", "phishing"]
[rule.set]
category = "fraud/phishing"
impact = 1
urgency = 1
)";

Principal Admin() {
  Principal p;
  p.user_id = 1;
  p.username = "admin";
  p.role = Role::kAdmin;
  p.scope = Scope::All();
  return p;
}

Principal WithRole(Role role, std::string name) {
  Principal p = Admin();
  p.username = std::move(name);
  p.role = role;
  return p;
}

// One process's view of a store: its own connection, services and cache.
struct Node {
  Node(const std::filesystem::path& db, const Clock& clock) {
    auto opened = store::sqlite::OpenSqliteStore(db, store::sqlite::SqliteOptions{});
    EXPECT_TRUE(opened) << opened.error().message();
    store = std::move(*opened);
    incidents = std::make_unique<Incidents>(*store, clock);
    triage = std::make_unique<TriageService>(*store, clock, *incidents, codec,
                                             TriageServiceOptions{std::chrono::milliseconds(2000)});
    reports = std::make_unique<Reports>(*store, clock, triage.get());
  }
  ::hikeshi::triage::TomlRuleSetCodec codec;
  std::unique_ptr<Store> store;
  std::unique_ptr<Incidents> incidents;
  std::unique_ptr<TriageService> triage;
  std::unique_ptr<Reports> reports;
};

class TriageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "hikeshi-triage-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    node_ = std::make_unique<Node>(dir_ / "hikeshi.db", clock_);
    // hanako: a handler who may own incidents.
    ASSERT_TRUE(node_->store->Write([&](WriteTx& tx) -> Result<void> {
      User hanako;
      hanako.username = "hanako";
      hanako.role = Role::kHandler;
      hanako.scope_all = true;
      HIKESHI_CHECK(tx.CreateUser({"test", clock_.Now()}, hanako));
      return {};
    }));
  }
  void TearDown() override {
    node_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Report File(Node& node, const std::string& subject, const std::string& body = "") {
    ReportDraft draft;
    draft.subject = subject;
    draft.body = body;
    auto report = node.reports->Create(Admin(), draft);
    EXPECT_TRUE(report) << report.error().message();
    return report ? *report : Report{};
  }
  Incident IncidentOf(const Report& report) {
    EXPECT_TRUE(report.incident_id) << report.human_id << " has no incident";
    Incident incident;
    EXPECT_TRUE(node_->store->Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto found, r.FindIncidentById(Scope::All(), report.incident_id.value_or(0)));
      if (found) incident = *found;
      return {};
    }));
    return incident;
  }
  std::vector<std::string> JournalActions() {
    std::vector<std::string> actions;
    EXPECT_TRUE(node_->store->Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto entries, r.ListAudit(0, 10'000));
      for (const auto& e : entries) actions.push_back(e.action + " " + e.actor + " " + e.object_id);
      return {};
    }));
    return actions;
  }

  SettableClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(TriageServiceTest, EachEditIsANewVersionAndTheSameTextIsNone) {
  const auto first = node_->triage->Put(Admin(), kPhishingP2, "first rules");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->stored.version, 1);
  EXPECT_EQ(first->stored.rules.rules.size(), 2u);

  const auto again = node_->triage->Put(Admin(), kPhishingP2, "no change");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created) << "the current version's text again is not an edit";
  EXPECT_EQ(again->stored.version, 1);

  clock_.Advance(seconds(60));
  const auto second = node_->triage->Put(WithRole(Role::kHandler, "taro"), kPhishingP1, "phishing is P1 now");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->stored.version, 2);

  const auto versions = node_->triage->Versions(WithRole(Role::kViewer, "vic"));
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[0].by, "admin");
  EXPECT_EQ((*versions)[0].note, "first rules");
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_EQ((*versions)[1].by, "taro");
  EXPECT_EQ(common::FormatRfc3339((*versions)[1].at), "2026-11-27T09:01:00.000000Z");

  const auto old = node_->triage->Version(Admin(), 1);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->toml, kPhishingP2) << "a version keeps the text as it was given";
  const auto current = node_->triage->Current(Admin());
  ASSERT_TRUE(current);
  EXPECT_EQ(current->version, 2);
  EXPECT_EQ(node_->triage->Version(Admin(), 3).error().code(), ErrorCode::kNotFound);

  // Stored as records, one per version, keyed v00000001...; the journal has each edit.
  EXPECT_THAT(JournalActions(),
              ::testing::IsSupersetOf({"ruleset.create admin v00000001", "ruleset.create taro v00000002"}));
  const auto verdict = VerifyAudit(*node_->store);
  ASSERT_TRUE(verdict);
  EXPECT_TRUE(verdict->ok()) << verdict->problem;
}

TEST_F(TriageServiceTest, AnInvalidRuleSetIsRefusedNamingTheRuleAndKeyAndNothingIsStored) {
  const auto bad = node_->triage->Put(Admin(),
                                      "[[rule]]\nid = \"phish\"\n[rule.match]\nkeyword = [\"x\"]\n"
                                      "[rule.set]\nimpact = 7\nurgency = 1\n",
                                      "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("rule 'phish'"));
  EXPECT_THAT(bad.error().message(), HasSubstr("set.impact"));
  EXPECT_EQ(node_->triage->Current(Admin())->version, 0);
  EXPECT_TRUE(node_->triage->Versions(Admin())->empty());

  EXPECT_EQ(node_->triage->Put(WithRole(Role::kViewer, "vic"), kPhishingP2, "").error().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(node_->triage->Current(WithRole(Role::kConstituent, "con")).error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(TriageServiceTest, IntakeOpensAnIncidentRejectsSpamAndLeavesTheRestUntriaged) {
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, ""));

  const Report phishing = File(*node_, "Suspicious mail", "フィッシングサイトへのリンクがありました");
  EXPECT_EQ(phishing.status, ReportStatus::kLinked);
  ASSERT_TRUE(phishing.category);
  EXPECT_EQ(phishing.category->ToString(), "fraud/phishing");
  EXPECT_EQ(phishing.tlp, Tlp::kAmberStrict);
  const Incident incident = IncidentOf(phishing);
  EXPECT_EQ(incident.title, "Suspicious mail");
  EXPECT_EQ(incident.priority, 2);
  EXPECT_EQ(incident.impact, 2);
  EXPECT_EQ(incident.urgency, 2);
  EXPECT_EQ(incident.tlp, Tlp::kAmberStrict);
  EXPECT_EQ(incident.category.ToString(), "fraud/phishing");
  EXPECT_TRUE(incident.owner_id) << "hanako, a handler, owns it";

  const auto record = node_->triage->Get(Admin(), phishing.human_id);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->state, "auto");
  ASSERT_TRUE(record->decision);
  EXPECT_EQ(record->decision->rule_id, "phishing");
  EXPECT_EQ(record->decision->rule_set_version, 1);
  EXPECT_EQ(record->incident, incident.human_id);
  EXPECT_THAT(record->decision->explanation, HasSubstr("フィッシング"));
  // No stored playbook is named "phishing": the incident is opened all the same, and the record
  // says what could not be applied.
  EXPECT_THAT(record->notes, ElementsAre(HasSubstr("playbook 'phishing' not found")));

  const Report spam = File(*node_, "【未承諾広告※】格安セール");
  EXPECT_EQ(spam.status, ReportStatus::kRejected);
  EXPECT_EQ(spam.reject_reason, RejectReason::kSpam);
  EXPECT_THAT(spam.reject_comment, HasSubstr("unsolicited-ads"));
  EXPECT_FALSE(spam.incident_id);

  const Report other = File(*node_, "Printer on fire");
  EXPECT_EQ(other.status, ReportStatus::kNew) << "no rule matched: it stays in the untriaged queue";
  const auto untriaged = node_->triage->Get(Admin(), other.human_id);
  ASSERT_TRUE(untriaged);
  EXPECT_EQ(untriaged->state, "untriaged");
  EXPECT_FALSE(untriaged->decision);

  // One transaction per report, journaled as the triage actor's changes after the report's creation.
  const auto actions = JournalActions();
  const auto created = std::find(actions.begin(), actions.end(), "report.create admin " + phishing.human_id);
  ASSERT_NE(created, actions.end());
  EXPECT_EQ(*(created + 1), "incident.create triage " + incident.human_id);
  EXPECT_EQ(*(created + 2), "report.link triage " + phishing.human_id);
  EXPECT_EQ(*(created + 3), "triage.create triage " + phishing.human_id);
  const auto verdict = VerifyAudit(*node_->store);
  ASSERT_TRUE(verdict);
  EXPECT_TRUE(verdict->ok()) << verdict->problem;
}

TEST_F(TriageServiceTest, AnOwnerWhoCannotOwnTheIncidentLeavesItUnassignedNotTheReportLost) {
  ASSERT_TRUE(node_->triage->Put(Admin(), std::string(kPhishingP1) + "owner = \"nobody\"\n", ""));
  const Report report = File(*node_, "phishing again");
  const Incident incident = IncidentOf(report);
  EXPECT_EQ(incident.priority, 1);
  EXPECT_FALSE(incident.owner_id);
  EXPECT_THAT(node_->triage->Get(Admin(), report.human_id)->notes,
              ElementsAre(HasSubstr("owner 'nobody' cannot own this incident")));
}

TEST_F(TriageServiceTest, ANewVersionIsUsedAtOnceByTheProcessThatStoredIt) {
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, ""));
  EXPECT_EQ(IncidentOf(File(*node_, "phishing 1")).priority, 2);
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP1, ""));
  const Report second = File(*node_, "phishing 2");
  EXPECT_EQ(IncidentOf(second).priority, 1);
  EXPECT_EQ(node_->triage->Get(Admin(), second.human_id)->decision->rule_set_version, 2);
}

TEST_F(TriageServiceTest, AVersionAnotherProcessStoredIsPickedUpWithinTheRefreshInterval) {
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, ""));
  Node other(dir_ / "hikeshi.db", clock_);
  EXPECT_EQ(IncidentOf(File(other, "phishing 1")).priority, 2) << "the other node reads version 1 from the store";

  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP1, "stored by the first node"));
  // Within the refresh interval the other node still decides with the version it has...
  clock_.Advance(seconds(1));
  const Report stale = File(other, "phishing 2");
  EXPECT_EQ(other.triage->Get(Admin(), stale.human_id)->decision->rule_set_version, 1);
  // ...and once it has passed, it looks, finds version 2 and swaps it in.
  clock_.Advance(seconds(2));
  const Report fresh = File(other, "phishing 3");
  EXPECT_EQ(other.triage->Get(Admin(), fresh.human_id)->decision->rule_set_version, 2);
  EXPECT_EQ(IncidentOf(fresh).priority, 1);
  // Reading the rules always looks.
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, "back to P2"));
  EXPECT_EQ(other.triage->Current(Admin())->version, 3);
}

TEST_F(TriageServiceTest, TheDataDirectoryFileIsLoadedWhenChangedWithoutUndoingApiEdits) {
  const auto operator_ = Principal::LocalOperator();
  const auto loaded = node_->triage->LoadFile(operator_, kPhishingP2);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->created);
  EXPECT_EQ(loaded->stored.note, "loaded from triage.toml");
  EXPECT_EQ(loaded->stored.source, "file");
  EXPECT_FALSE(node_->triage->LoadFile(operator_, kPhishingP2)->created) << "a restart with the same file";

  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP1, "edited in the UI"));
  const auto restart = node_->triage->LoadFile(operator_, kPhishingP2);
  ASSERT_TRUE(restart);
  EXPECT_FALSE(restart->created) << "the file did not change since it was loaded: the API's edit stays";
  EXPECT_EQ(node_->triage->Current(Admin())->version, 2);

  const auto edited = node_->triage->LoadFile(operator_, std::string(kPhishingP2) + "# edited\n");
  ASSERT_TRUE(edited);
  EXPECT_TRUE(edited->created) << "an edited file is a new version";
  EXPECT_EQ(edited->stored.version, 3);
}

TEST_F(TriageServiceTest, AnOverrideNeedsAReasonChangesTheIncidentAndIsJournaled) {
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, ""));
  const Report report = File(*node_, "phishing");
  const auto handler = WithRole(Role::kHandler, "hanako");

  TriageOverride change;
  change.impact = 1;
  change.urgency = 1;
  const auto refused = node_->triage->Override(handler, report.human_id, change);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().field(), "/reason");

  change.reason = "the login page harvested staff passwords: urgent";
  const auto overridden = node_->triage->Override(handler, report.human_id, change);
  ASSERT_TRUE(overridden) << overridden.error().message();
  EXPECT_EQ(overridden->state, "overridden");
  ASSERT_EQ(overridden->overrides.size(), 1u);
  const auto& entry = overridden->overrides[0];
  EXPECT_EQ(entry.by, "hanako");
  EXPECT_EQ(entry.reason, change.reason);
  ASSERT_EQ(entry.changes.size(), 2u);
  EXPECT_EQ(entry.changes[0].field, "impact");
  EXPECT_EQ(entry.changes[0].from, "2");
  EXPECT_EQ(entry.changes[0].to, "1");
  EXPECT_EQ(IncidentOf(report).priority, 1);
  EXPECT_EQ(overridden->decision->rule_id, "phishing") << "the automatic decision is kept beside the override";
  EXPECT_THAT(JournalActions(), ::testing::Contains("triage.override hanako " + report.human_id));

  TriageOverride viewer_change;
  viewer_change.reason = "x";
  viewer_change.category = "Scan";
  EXPECT_EQ(node_->triage->Override(WithRole(Role::kViewer, "vic"), report.human_id, viewer_change).error().code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(TriageServiceTest, OverridingAnUntriagedReportOpensTheIncidentAndUndoingSpamReopens) {
  ASSERT_TRUE(node_->triage->Put(Admin(), kPhishingP2, ""));
  const Report plain = File(*node_, "Printer on fire");
  TriageOverride open;
  open.impact = 3;
  open.urgency = 2;
  open.reason = "a fire is an incident";
  const auto opened = node_->triage->Override(Admin(), plain.human_id, open);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->state, "manual");
  ASSERT_FALSE(opened->incident.empty());
  EXPECT_THAT(JournalActions(), ::testing::IsSupersetOf({"triage.create admin " + plain.human_id,
                                                         "triage.override admin " + plain.human_id,
                                                         "report.link admin " + plain.human_id}));

  const Report spam = File(*node_, "未承諾広告 but really a breach notice");
  ASSERT_EQ(spam.status, ReportStatus::kRejected);
  TriageOverride undo;
  undo.disposition = "none";
  undo.reason = "a customer's breach notice, not an advertisement";
  const auto undone = node_->triage->Override(Admin(), spam.human_id, undo);
  ASSERT_TRUE(undone) << undone.error().message();
  ASSERT_EQ(undone->overrides.size(), 1u);
  EXPECT_EQ(undone->overrides[0].changes[0].from, "spam");
  EXPECT_EQ(undone->overrides[0].changes[0].to, "none");
  const auto reopened = node_->reports->Get(Admin(), spam.human_id);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->status, ReportStatus::kNew);

  TriageOverride owner_only;
  owner_only.owner = "hanako";
  owner_only.reason = "hers";
  EXPECT_EQ(node_->triage->Override(Admin(), spam.human_id, owner_only).error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(TriageServiceTest, AFeedAggregateIsTriagedWhenFirstOpenedNotEachTimeItGrows) {
  ASSERT_TRUE(node_->triage->Put(Admin(), R"([[rule]]
id = "eve-scans"
[rule.match]
channel = ["feed"]
format = ["suricata-eve"]
category = ["Scan"]
[rule.set]
impact = 4
urgency = 4
)",
                                 ""));
  FeedIngestOptions options;
  options.triage = node_->triage.get();
  FeedIngest feeds(*node_->store, clock_, options);
  auto run = feeds.Start(Admin(), "suricata-eve", "eve.json");
  ASSERT_TRUE(run) << run.error().message();
  const auto scan = [](std::int64_t record) {
    MachineEvent e;
    e.record = record;
    e.raw = "{\"record\":" + std::to_string(record) + "}";
    e.category = ParseCategory("information-gathering/scanner")->category;
    e.report_type = "scan";
    e.subject = Observable{ObservableType::kIpv4, "203.0.113.7"};
    return e;
  };
  ASSERT_TRUE(feeds.Commit(Admin(), *run, {scan(1), scan(2)}, {}));
  ASSERT_TRUE(feeds.Commit(Admin(), *run, {scan(3)}, {}));  // the same aggregate grows

  ReportQuery query;
  Page<Report> reports;
  Page<Incident> incidents;
  ASSERT_TRUE(node_->store->Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(reports, r.ListReports(Scope::All(), query));
    HIKESHI_TRY(incidents, r.ListIncidents(Scope::All(), IncidentQuery{}));
    return {};
  }));
  ASSERT_EQ(reports.items.size(), 1u);
  EXPECT_EQ(reports.items[0].event_count, 3);
  EXPECT_EQ(reports.items[0].status, ReportStatus::kLinked);
  ASSERT_EQ(incidents.items.size(), 1u) << "one incident for the aggregate, however often it grows";
  EXPECT_EQ(incidents.items[0].priority, 4);
  const auto record = node_->triage->Get(Admin(), reports.items[0].human_id);
  ASSERT_TRUE(record);
  ASSERT_TRUE(record->decision);
  EXPECT_EQ(record->decision->rule_id, "eve-scans");
  EXPECT_THAT(record->decision->explanation, HasSubstr("suricata-eve"));
}

}  // namespace
}  // namespace hikeshi::core
