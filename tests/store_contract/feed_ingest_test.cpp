// Feed intake's use case (core::FeedIngest) against a real store: events fold into one aggregate
// report per fingerprint, a rerun after a crash neither loses nor duplicates anything, rejects are
// kept once, and events on an open incident's observables become correlations (or links). It lives
// here rather than in core_tests because core cannot link a store backend.
// Expected values are written out by hand from feed_ingest.hpp.

#include "hikeshi/core/feed_ingest.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/snapshot.hpp"
#include "hikeshi/core/store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using core::FeedIngest;
using core::FeedRun;
using core::MachineEvent;
using core::Observable;
using core::ObservableType;
using core::Report;
using core::Scope;
using core::Timestamp;

// The time the use case stamps on what it writes; tests move it between batches.
class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(Timestamp now) : micros_(common::ToMicros(now)) {}
  Timestamp Now() const override { return common::FromMicros(micros_.load()); }
  void Set(Timestamp now) { micros_.store(common::ToMicros(now)); }

 private:
  std::atomic<std::int64_t> micros_;
};

const core::Category kExploit{"intrusion-attempts", "exploit"};
const Observable kIp7{ObservableType::kIpv4, "192.0.2.7"};
const Observable kIp8{ObservableType::kIpv4, "192.0.2.8"};
// The fingerprints Fingerprint() gives for the events below: format|category|subject|UTC day.
const std::string kFp7 = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-14";
const std::string kFp8 = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.8|2026-03-14";
const std::string kFp7NextDay = "suricata-eve|intrusion-attempts/exploit|ipv4:192.0.2.7|2026-03-15";

MachineEvent Event(std::int64_t record, std::string event_id, Timestamp time, const Observable& subject,
                   std::optional<std::int64_t> constituency = std::nullopt) {
  MachineEvent event;
  event.record = record;
  event.event_id = event_id;
  event.raw = R"({"event_type":"alert","flow_id":)" + event_id + "}";
  event.time = time;
  event.category = kExploit;
  event.description = "ET EXPLOIT attempt";
  event.subject = subject;
  event.constituency_id = constituency;
  return event;
}

// Six events: three on .7 and two on .8 on 2026-03-14, one on .7 the next day.
std::vector<MachineEvent> SixEvents(std::optional<std::int64_t> constituency = std::nullopt) {
  return {
      Event(1, "1001", At(2026, 3, 14, 9, 0), kIp7, constituency),
      Event(2, "1002", At(2026, 3, 14, 8, 30), kIp7, constituency),
      Event(3, "1003", At(2026, 3, 14, 10, 15), kIp7, constituency),
      Event(4, "1004", At(2026, 3, 14, 9, 10), kIp8, constituency),
      Event(5, "1005", At(2026, 3, 15, 0, 5), kIp7, constituency),
      Event(6, "1006", At(2026, 3, 14, 11, 0), kIp8, constituency),
  };
}

struct Counts {
  std::int64_t records, events_new, duplicates, rejects, reports_created, reports_updated, correlations;
  bool operator==(const Counts&) const = default;
};
Counts CountsOf(const FeedRun& run) {
  return {run.records,         run.events_new,      run.duplicates,  run.rejects,
          run.reports_created, run.reports_updated, run.correlations};
}
void PrintTo(const Counts& c, std::ostream* os) {
  *os << "{records " << c.records << ", new " << c.events_new << ", duplicates " << c.duplicates << ", rejects "
      << c.rejects << ", created " << c.reports_created << ", updated " << c.reports_updated << ", correlations "
      << c.correlations << "}";
}

template <typename Backend>
class FeedIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened.has_value()) << Describe(opened.error());
    store_ = std::move(*opened);
  }

  core::Store& TheStore() { return *store_; }
  FeedIngest Ingest(core::FeedIngestOptions options = {}) { return FeedIngest(*store_, clock_, options); }

  Result<std::optional<Report>> ReportWith(const std::string& fingerprint) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.FindReportByFingerprint(fingerprint); });
  }
  Result<std::int64_t> EventsOf(const std::string& fingerprint) {
    return ReadValue(TheStore(), [&](core::StoreReader& r) { return r.CountEvents(fingerprint); });
  }
  Result<std::vector<Report>> AllReports() {
    return ReadValue(TheStore(), [](core::StoreReader& r) -> Result<std::vector<Report>> {
      HIKESHI_TRY(auto page, r.ListReports(Scope::All(), {}));
      return std::move(page.items);
    });
  }
  Result<core::Incident> AddIncident(std::optional<std::int64_t> constituency, core::IncidentStatus status,
                                     std::vector<Observable> observables) {
    core::Incident incident;
    incident.title = "exploitation of 192.0.2.7";
    incident.category = kExploit;
    incident.constituency_id = constituency;
    incident.status = status;
    incident.observables = std::move(observables);
    incident.created_at = incident.updated_at = At(2026, 3, 13);
    return WriteValue(TheStore(), [&](core::WriteTx& tx) {
      return tx.CreateIncident({"alice", At(2026, 3, 13)}, incident);
    });
  }
  Result<std::int64_t> AddConstituency(std::string name) {
    core::Constituency constituency;
    constituency.name = std::move(name);
    constituency.created_at = At(2026, 3, 1);
    auto created = WriteValue(TheStore(), [&](core::WriteTx& tx) {
      return tx.CreateConstituency({"cli", At(2026, 3, 1)}, constituency);
    });
    if (!created) return Fail(created.error());
    return created->id;
  }
  void ExpectAuditVerifies() {
    auto verdict = core::VerifyAudit(TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  const core::Principal operator_ = core::Principal::LocalOperator();
  const Timestamp now_ = At(2026, 3, 15, 12, 0);
  FixedClock clock_{now_};
  Backend backend_;
  std::unique_ptr<core::Store> store_;
};

TYPED_TEST_SUITE(FeedIngestTest, StoreBackends, BackendNames);

TYPED_TEST(FeedIngestTest, ABatchFoldsEventsIntoOneAggregateReportPerFingerprint) {
  FeedIngest ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(FeedRun run, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, run, SixEvents(), {}));
  ASSERT_OK(ingest.Finish(this->operator_, run, false));
  EXPECT_EQ(CountsOf(run), (Counts{6, 6, 0, 0, 3, 0, 0}));
  EXPECT_EQ(run.status, "finished");

  struct Expected {
    std::string fingerprint, human_id;
    std::int64_t events;
    Timestamp first_seen, last_seen;
    Observable subject;
  };
  // Human ids follow the order in which each fingerprint first appears in the batch.
  const std::vector<Expected> expected = {
      {kFp7, "R-2026-000001", 3, At(2026, 3, 14, 8, 30), At(2026, 3, 14, 10, 15), kIp7},
      {kFp8, "R-2026-000002", 2, At(2026, 3, 14, 9, 10), At(2026, 3, 14, 11, 0), kIp8},
      {kFp7NextDay, "R-2026-000003", 1, At(2026, 3, 15, 0, 5), At(2026, 3, 15, 0, 5), kIp7},
  };
  for (const auto& want : expected) {
    SCOPED_TRACE(want.fingerprint);
    ASSERT_OK_AND_ASSIGN(const auto report, this->ReportWith(want.fingerprint));
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->human_id, want.human_id);
    EXPECT_EQ(report->channel, core::Channel::kFeed);
    EXPECT_EQ(report->reporter, "suricata-eve:eve.json");
    EXPECT_EQ(report->category, kExploit);
    EXPECT_EQ(report->status, core::ReportStatus::kNew);
    EXPECT_EQ(report->event_count, want.events);
    EXPECT_EQ(report->first_seen, want.first_seen);
    EXPECT_EQ(report->last_seen, want.last_seen);
    EXPECT_THAT(report->observables, ElementsAre(want.subject));
    EXPECT_EQ(report->received_at, this->now_);
    ASSERT_OK_AND_ASSIGN(const auto stored, this->EventsOf(want.fingerprint));
    EXPECT_EQ(stored, want.events);
  }
  ASSERT_OK_AND_ASSIGN(const auto reports, this->AllReports());
  EXPECT_EQ(reports.size(), 3U);
  this->ExpectAuditVerifies();
}

TYPED_TEST(FeedIngestTest, ASourcesTlpLabelRaisesItsReportsLabelAndNeverLowersIt) {
  FeedIngest ingest = this->Ingest();  // the ingest's own label: TLP:AMBER
  ASSERT_OK_AND_ASSIGN(FeedRun run, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  std::vector<MachineEvent> first = {Event(1, "1", At(2026, 3, 14, 8, 0), kIp7),
                                     Event(2, "2", At(2026, 3, 14, 8, 5), kIp8)};
  first[0].tlp = core::Tlp::kGreen;  // looser than the ingest's label: the report stays AMBER
  first[1].tlp = core::Tlp::kRed;
  ASSERT_OK(ingest.Commit(this->operator_, run, first, {}));
  ASSERT_OK_AND_ASSIGN(auto seven, this->ReportWith(kFp7));
  ASSERT_OK_AND_ASSIGN(auto eight, this->ReportWith(kFp8));
  ASSERT_TRUE(seven.has_value() && eight.has_value());
  EXPECT_EQ(seven->tlp, core::Tlp::kAmber);
  EXPECT_EQ(eight->tlp, core::Tlp::kRed);

  // A later event on .7 labelled AMBER+STRICT raises the report it folds into, and counts in it.
  std::vector<MachineEvent> second = {Event(3, "3", At(2026, 3, 14, 9, 0), kIp7),
                                      Event(4, "4", At(2026, 3, 14, 9, 5), kIp8)};
  second[0].tlp = core::Tlp::kAmberStrict;
  second[1].tlp = core::Tlp::kClear;  // cannot loosen the RED report
  ASSERT_OK(ingest.Commit(this->operator_, run, second, {}));
  ASSERT_OK(ingest.Finish(this->operator_, run, false));
  ASSERT_OK_AND_ASSIGN(seven, this->ReportWith(kFp7));
  ASSERT_OK_AND_ASSIGN(eight, this->ReportWith(kFp8));
  EXPECT_EQ(seven->tlp, core::Tlp::kAmberStrict);
  EXPECT_EQ(seven->event_count, 2);
  EXPECT_EQ(seven->last_seen, At(2026, 3, 14, 9, 0));
  EXPECT_EQ(eight->tlp, core::Tlp::kRed);
  EXPECT_EQ(eight->event_count, 2);

  // The raise is a journal entry of its own, before the fold's.
  ASSERT_OK_AND_ASSIGN(const auto journal,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListAudit(0, 1000); }));
  std::vector<std::string> about_seven;
  for (const auto& entry : journal) {
    if (entry.object_id == seven->human_id) about_seven.push_back(entry.action);
  }
  EXPECT_THAT(about_seven, ElementsAre("report.create", "report.tlp", "report.aggregate"));
  this->ExpectAuditVerifies();

  // A feed ingested as RED makes RED reports whatever its records say.
  core::FeedIngestOptions red;
  red.tlp = core::Tlp::kRed;
  FeedIngest strict = this->Ingest(red);
  ASSERT_OK_AND_ASSIGN(FeedRun other, strict.Start(this->operator_, "misp", "red.json"));
  std::vector<MachineEvent> third = {Event(5, "5", At(2026, 3, 15, 1, 0), kIp8)};
  third[0].tlp = core::Tlp::kGreen;
  ASSERT_OK(strict.Commit(this->operator_, other, third, {}));
  ASSERT_OK_AND_ASSIGN(const auto misp_day,
                       this->ReportWith("misp|intrusion-attempts/exploit|ipv4:192.0.2.8|2026-03-15"));
  ASSERT_TRUE(misp_day.has_value());
  EXPECT_EQ(misp_day->tlp, core::Tlp::kRed);
}

TYPED_TEST(FeedIngestTest, ARerunAfterACrashNeitherLosesNorDuplicatesAnything) {
  const auto events = SixEvents();
  const std::vector<MachineEvent> first_half(events.begin(), events.begin() + 3);
  const std::vector<MachineEvent> second_half(events.begin() + 3, events.end());
  FeedIngest ingest = this->Ingest();

  // The first process commits one batch and dies: its run stays "running".
  ASSERT_OK_AND_ASSIGN(FeedRun crashed, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, crashed, first_half, {}));
  EXPECT_EQ(CountsOf(crashed), (Counts{3, 3, 0, 0, 1, 0, 0}));
  ASSERT_OK_AND_ASSIGN(const auto before_rerun, this->ReportWith(kFp7));
  ASSERT_TRUE(before_rerun.has_value());

  // The same command again, an hour later: the first batch is all duplicates, the second is new.
  this->clock_.Set(this->now_ + std::chrono::hours(1));
  ASSERT_OK_AND_ASSIGN(FeedRun rerun, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, rerun, first_half, {}));
  EXPECT_EQ(CountsOf(rerun), (Counts{3, 0, 3, 0, 0, 0, 0}));
  ASSERT_OK_AND_ASSIGN(const auto after_duplicates, this->ReportWith(kFp7));
  ASSERT_TRUE(after_duplicates.has_value());
  EXPECT_EQ(core::Snapshot(*after_duplicates), core::Snapshot(*before_rerun)) << "a duplicate changes no report";
  ASSERT_OK(ingest.Commit(this->operator_, rerun, second_half, {}));
  ASSERT_OK(ingest.Finish(this->operator_, rerun, false));
  EXPECT_EQ(CountsOf(rerun), (Counts{6, 3, 3, 0, 2, 0, 0}));

  // Everything is there exactly once, as if the feed had been read in one go.
  ASSERT_OK_AND_ASSIGN(const auto reports, this->AllReports());
  EXPECT_EQ(reports.size(), 3U);
  for (const auto& [fingerprint, count] :
       std::vector<std::pair<std::string, std::int64_t>>{{kFp7, 3}, {kFp8, 2}, {kFp7NextDay, 1}}) {
    SCOPED_TRACE(fingerprint);
    ASSERT_OK_AND_ASSIGN(const auto report, this->ReportWith(fingerprint));
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->event_count, count);
    ASSERT_OK_AND_ASSIGN(const auto stored, this->EventsOf(fingerprint));
    EXPECT_EQ(stored, count);
  }

  // Committing the whole feed once more adds nothing and leaves every report as it was.
  ASSERT_OK_AND_ASSIGN(const auto audit_before,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListAudit(0, 10000); }));
  ASSERT_OK_AND_ASSIGN(FeedRun third, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, third, events, {}));
  EXPECT_EQ(CountsOf(third), (Counts{6, 0, 6, 0, 0, 0, 0}));
  ASSERT_OK_AND_ASSIGN(const auto reports_again, this->AllReports());
  ASSERT_EQ(reports_again.size(), reports.size());
  for (std::size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(core::Snapshot(reports_again[i]), core::Snapshot(reports[i])) << reports[i].human_id;
  }
  ASSERT_OK_AND_ASSIGN(const auto audit_after,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListAudit(0, 10000); }));
  ASSERT_EQ(audit_after.size(), audit_before.size() + 2);
  EXPECT_EQ(audit_after[audit_before.size()].action, "feed_run.start");
  EXPECT_EQ(audit_after[audit_before.size() + 1].action, "feed_run.batch");
  this->ExpectAuditVerifies();
}

// The pipeline stores batches and folds them into reports later. A process that dies after
// storing events but before folding them leaves reports behind; the rerun sees those events only
// as duplicates, yet the reports it folds count them, because counts come from the stored events.
TYPED_TEST(FeedIngestTest, EventsStoredButNotYetFoldedAreCountedByTheRerun) {
  const auto events = SixEvents();
  {
    FeedIngest dying = this->Ingest();
    ASSERT_OK_AND_ASSIGN(FeedRun crashed, dying.Start(this->operator_, "suricata-eve", "eve.json"));
    ASSERT_OK(dying.StoreBatch(this->operator_, crashed, events, {}));
    // ...and the process is killed here, before any Fold.
  }
  ASSERT_OK_AND_ASSIGN(const auto nothing_yet, this->AllReports());
  EXPECT_TRUE(nothing_yet.empty());

  FeedIngest ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(FeedRun rerun, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.StoreBatch(this->operator_, rerun, events, {}));
  ASSERT_OK(ingest.Finish(this->operator_, rerun, false));
  EXPECT_EQ(CountsOf(rerun), (Counts{6, 0, 6, 0, 3, 0, 0}));
  for (const auto& [fingerprint, count] :
       std::vector<std::pair<std::string, std::int64_t>>{{kFp7, 3}, {kFp8, 2}, {kFp7NextDay, 1}}) {
    SCOPED_TRACE(fingerprint);
    ASSERT_OK_AND_ASSIGN(const auto report, this->ReportWith(fingerprint));
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->event_count, count);
  }
  this->ExpectAuditVerifies();
}

// Each run keeps the list of its own rejects (a rerun lists them again, so a run's summary and its
// list agree); storing one batch twice within a run keeps one copy.
TYPED_TEST(FeedIngestTest, RejectsAreCountedPerRunAndStoredOnce) {
  const std::vector<core::RejectedRecord> rejects = {
      {3, "not JSON: unterminated object", R"({"event_type":"alert")"},
      {9, "no event_type", "{}"},
  };
  FeedIngest ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(FeedRun run, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, run, {Event(1, "1001", At(2026, 3, 14, 9, 0), kIp7)}, rejects));
  EXPECT_EQ(CountsOf(run), (Counts{3, 1, 0, 2, 1, 0, 0}));

  ASSERT_OK_AND_ASSIGN(FeedRun rerun, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, rerun, {}, rejects));
  EXPECT_EQ(CountsOf(rerun), (Counts{2, 0, 0, 2, 0, 0, 0})) << "the rerun's summary still counts its rejects";

  ASSERT_OK(this->TheStore().Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const auto kept, r.ListFeedRejects(run.id, 0, 500));
    EXPECT_EQ(kept.size(), 2U);
    if (kept.size() == 2) {
      EXPECT_EQ(kept[0].record, 3);
      EXPECT_EQ(kept[0].reason, "not JSON: unterminated object");
      EXPECT_EQ(kept[0].raw, R"({"event_type":"alert")");
      EXPECT_EQ(kept[0].at, this->now_);
      EXPECT_EQ(kept[1].record, 9);
      EXPECT_EQ(kept[1].reason, "no event_type");
    }
    HIKESHI_TRY(const auto listed, r.ListFeedRejects(rerun.id, 0, 500));
    EXPECT_EQ(listed.size(), 2U) << "the rerun lists its own rejects";
    HIKESHI_TRY(const auto stored_run, r.FindFeedRun(rerun.id));
    EXPECT_TRUE(stored_run.has_value());
    if (stored_run) {
      EXPECT_EQ(stored_run->rejects, 2);
    }
    return {};
  }));
  this->ExpectAuditVerifies();
}

TYPED_TEST(FeedIngestTest, AnEventOnAnOpenIncidentsObservableIsACorrelationCandidate) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto b, this->AddConstituency("b"));
  ASSERT_OK_AND_ASSIGN(const auto open, this->AddIncident(a, core::IncidentStatus::kOpen, {kIp7}));
  ASSERT_OK(this->AddIncident(a, core::IncidentStatus::kResolved, {kIp7}));
  ASSERT_OK(this->AddIncident(b, core::IncidentStatus::kOpen, {kIp7}));
  ASSERT_OK(this->AddIncident(a, core::IncidentStatus::kOpen, {kIp8}));

  FeedIngest ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(FeedRun run, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(this->operator_, run, {Event(1, "1001", At(2026, 3, 14, 9, 0), kIp7, a)}, {}));
  EXPECT_EQ(CountsOf(run), (Counts{1, 1, 0, 0, 1, 0, 1}));
  // A later event of the same report finds the same candidate, which is not counted twice.
  ASSERT_OK(ingest.Commit(this->operator_, run, {Event(2, "1002", At(2026, 3, 14, 9, 5), kIp7, a)}, {}));
  EXPECT_EQ(CountsOf(run), (Counts{2, 2, 0, 0, 1, 1, 1}));

  ASSERT_OK_AND_ASSIGN(const auto report, this->ReportWith(kFp7));
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->constituency_id, a);
  EXPECT_EQ(report->status, core::ReportStatus::kNew) << "without auto_link a candidate is only shown";
  EXPECT_EQ(report->incident_id, std::nullopt);
  ASSERT_OK_AND_ASSIGN(const auto correlations, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListCorrelations(report->id);
                       }));
  ASSERT_EQ(correlations.size(), 1U);
  EXPECT_EQ(correlations[0].incident_id, open.id);
  EXPECT_EQ(correlations[0].observable, kIp7);
  EXPECT_EQ(correlations[0].at, this->now_);
  this->ExpectAuditVerifies();
}

TYPED_TEST(FeedIngestTest, AutoLinkLinksANewReportToItsOnlyCandidate) {
  ASSERT_OK_AND_ASSIGN(const auto a, this->AddConstituency("a"));
  ASSERT_OK_AND_ASSIGN(const auto open, this->AddIncident(a, core::IncidentStatus::kOpen, {kIp7}));
  ASSERT_OK(this->AddIncident(a, core::IncidentStatus::kOpen, {kIp8}));
  ASSERT_OK(this->AddIncident(a, core::IncidentStatus::kOpen, {kIp8}));

  FeedIngest ingest = this->Ingest(core::FeedIngestOptions{.auto_link = true});
  ASSERT_OK_AND_ASSIGN(FeedRun run, ingest.Start(this->operator_, "suricata-eve", "eve.json"));
  ASSERT_OK(ingest.Commit(
      this->operator_, run,
      {Event(1, "1001", At(2026, 3, 14, 9, 0), kIp7, a), Event(2, "1002", At(2026, 3, 14, 9, 0), kIp8, a)}, {}));
  EXPECT_EQ(CountsOf(run), (Counts{2, 2, 0, 0, 2, 0, 3}));

  ASSERT_OK_AND_ASSIGN(const auto linked, this->ReportWith(kFp7));
  ASSERT_TRUE(linked.has_value());
  EXPECT_EQ(linked->status, core::ReportStatus::kLinked);
  EXPECT_EQ(linked->incident_id, open.id);
  ASSERT_OK_AND_ASSIGN(const auto ambiguous, this->ReportWith(kFp8));
  ASSERT_TRUE(ambiguous.has_value());
  EXPECT_EQ(ambiguous->status, core::ReportStatus::kNew) << "two candidates: a handler decides";
  EXPECT_EQ(ambiguous->incident_id, std::nullopt);

  // The link is on the incident's timeline.
  ASSERT_OK_AND_ASSIGN(const auto timeline, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListAuditForIncident(open.human_id);
                       }));
  std::vector<std::string> actions;
  for (const auto& entry : timeline) actions.push_back(entry.action + " " + entry.object_id);
  EXPECT_THAT(actions, ElementsAre("incident.create " + open.human_id, "report.link " + linked->human_id));
  this->ExpectAuditVerifies();
}

}  // namespace
}  // namespace hikeshi::store_contract
