// SLA clocks computed from hand-written audit journal entries: met, breached (stopped late and still
// running past the target), running, resolved before the target, reopened, acknowledged by mail,
// started by an earlier report, and the actors that do and do not count. Expected values are worked
// out by hand from docs/sla-and-statistics.md.

#include "hikeshi/core/sla.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hikeshi::core {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kId = "I-2026-000007";

Timestamp At(std::string_view text) {
  auto t = common::ParseRfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Timestamp{});
}

// The incident's snapshot as the journal writes it (the fields the clocks read, and a few more).
json IncidentSnapshot(int priority, std::string status = "open", std::string phase = "triage", bool exercise = false,
                      std::string category = "fraud/phishing") {
  return {{"id", kId},          {"category", category}, {"apt", false},
          {"impact", priority}, {"urgency", priority},  {"priority", priority},
          {"status", status},   {"phase", phase},       {"exercise", exercise}};
}

class Journal {
 public:
  // Appends an entry; `at` is RFC 3339.
  Journal& Add(std::string at, std::string actor, std::string action, std::string object_type, std::string object_id,
               std::string incident, const json& before, const json& after) {
    AuditEntry e;
    e.seq = static_cast<std::int64_t>(entries_.size()) + 1;
    e.at = At(at);
    e.actor = std::move(actor);
    e.action = std::move(action);
    e.object_type = std::move(object_type);
    e.object_id = std::move(object_id);
    e.incident = std::move(incident);
    e.before = before.is_null() ? "" : before.dump();
    e.after = after.is_null() ? "" : after.dump();
    entries_.push_back(std::move(e));
    return *this;
  }
  Journal& Create(std::string at, std::string actor, int priority, bool exercise = false) {
    current_ = IncidentSnapshot(priority, "open", "triage", exercise);
    return Add(std::move(at), std::move(actor), "incident.create", "incident", std::string(kId), std::string(kId),
               nullptr, current_);
  }
  // An incident.update (or resolve...) changing `changes` in the current snapshot.
  Journal& Change(std::string at, std::string actor, std::string action, const json& changes) {
    json before = current_;
    current_.update(changes);
    return Add(std::move(at), std::move(actor), std::move(action), "incident", std::string(kId), std::string(kId),
               before, current_);
  }
  const std::vector<AuditEntry>& entries() const { return entries_; }

 private:
  std::vector<AuditEntry> entries_;
  json current_;
};

const std::set<std::string, std::less<>> kPeople = {"alice", "bob"};

SlaReading Compute(const Journal& journal, std::string now, const SlaPolicy& policy = SlaPolicy::Defaults()) {
  auto reading = ComputeSlaClocks(kId, journal.entries(), policy, kPeople, At(now));
  EXPECT_TRUE(reading.has_value()) << reading.error().message();
  return reading.value_or(SlaReading{});
}

const SlaClock& ClockOf(const SlaReading& r, SlaClockKind kind) { return r.Clock(kind); }

TEST(SlaClocks, AllMetWhenAPersonOpensRespondsAndResolvesInTime) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "alice", 1)
      .Change("2026-07-01T11:00:00Z", "alice", "incident.update", {{"phase", "analysis"}})
      .Change("2026-07-01T20:00:00Z", "alice", "incident.resolve", {{"status", "resolved"}});
  const auto r = Compute(j, "2026-07-02T12:00:00Z");
  EXPECT_EQ(r.priority, 1);
  EXPECT_EQ(r.started_at, At("2026-07-01T10:00:00Z"));
  const auto& ack = ClockOf(r, SlaClockKind::kAcknowledge);
  EXPECT_EQ(ack.state, SlaState::kMet);
  EXPECT_EQ(ack.target, minutes(15));
  ASSERT_TRUE(ack.stop.has_value());
  EXPECT_EQ(ack.stop->action, "incident.create");
  EXPECT_EQ(ack.elapsed, microseconds(0));
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).state, SlaState::kMet);
  const auto& response = ClockOf(r, SlaClockKind::kFirstResponse);
  EXPECT_EQ(response.state, SlaState::kMet);
  EXPECT_EQ(response.elapsed, hours(1));
  EXPECT_EQ(response.stop->seq, 2);
  const auto& resolution = ClockOf(r, SlaClockKind::kResolution);
  EXPECT_EQ(resolution.state, SlaState::kMet);
  EXPECT_EQ(resolution.elapsed, hours(10));
  EXPECT_EQ(resolution.stop->action, "incident.resolve");
  EXPECT_EQ(resolution.Deadline(), At("2026-07-02T10:00:00Z"));
}

TEST(SlaClocks, AnEarlierReportStartsTheClocksAndItsAcknowledgementMailStopsOne) {
  Journal j;
  j.Add("2026-07-01T09:00:00Z", "mailgate", "report.create", "report", "R-2026-000003", "", nullptr,
        {{"id", "R-2026-000003"}, {"channel", "mail"}, {"status", "new"}, {"received_at", "2026-07-01T09:00:00Z"}})
      .Add("2026-07-01T09:00:05Z", "system", "mail.sent", "mail", "12", "", {{"status", "pending"}},
           {{"id", 12}, {"direction", "out"}, {"kind", "ack"}, {"report_id", 3}, {"status", "sent"}})
      .Create("2026-07-01T11:30:00Z", "alice", 1)
      .Add("2026-07-01T11:30:01Z", "alice", "report.link", "report", "R-2026-000003", std::string(kId),
           {{"id", "R-2026-000003"}, {"status", "new"}, {"received_at", "2026-07-01T09:00:00Z"}},
           {{"id", "R-2026-000003"}, {"status", "linked"}, {"received_at", "2026-07-01T09:00:00Z"}});

  // At 12:00: three hours since the report came in.
  auto r = Compute(j, "2026-07-01T12:00:00Z");
  EXPECT_EQ(r.started_at, At("2026-07-01T09:00:00Z"));
  EXPECT_EQ(r.created_at, At("2026-07-01T11:30:00Z"));
  const auto& ack = ClockOf(r, SlaClockKind::kAcknowledge);
  EXPECT_EQ(ack.state, SlaState::kMet);
  EXPECT_EQ(ack.stop->action, "mail.sent");
  EXPECT_EQ(ack.elapsed, seconds(5));
  const auto& triage = ClockOf(r, SlaClockKind::kTriage);
  EXPECT_EQ(triage.state, SlaState::kBreached);  // 2h30m against 1h, stopped late
  EXPECT_EQ(triage.elapsed, minutes(150));
  ASSERT_TRUE(triage.stop.has_value());
  const auto& response = ClockOf(r, SlaClockKind::kFirstResponse);
  EXPECT_EQ(response.state, SlaState::kRunning);  // 3h of 4h
  EXPECT_FALSE(response.stop.has_value());
  EXPECT_EQ(response.elapsed, hours(3));

  // At 13:30 the first response clock has run past its four hours without stopping.
  r = Compute(j, "2026-07-01T13:30:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kFirstResponse).state, SlaState::kBreached);
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kFirstResponse).stop.has_value());
  EXPECT_EQ(ClockOf(r, SlaClockKind::kFirstResponse).elapsed, minutes(270));
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).state, SlaState::kRunning);
}

TEST(SlaClocks, AReportThatIsNotLinkedDoesNotMoveTheStart) {
  Journal j;
  j.Add("2026-07-01T08:00:00Z", "alice", "report.create", "report", "R-2026-000001", "", nullptr,
        {{"id", "R-2026-000001"}, {"received_at", "2026-07-01T08:00:00Z"}})
      .Create("2026-07-01T10:00:00Z", "alice", 3);
  const auto r = Compute(j, "2026-07-01T10:00:00Z");
  EXPECT_EQ(r.started_at, At("2026-07-01T10:00:00Z"));
}

TEST(SlaClocks, MachinesNeitherAcknowledgeNorTriage) {
  SlaPolicy policy = SlaPolicy::Defaults();
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 2)
      // Threaded mail from the reporter, taken in under a person's name, is not the team acting.
      .Add("2026-07-01T10:10:00Z", "alice", "mail.receive", "mail", "5", std::string(kId), nullptr,
           {{"direction", "in"}, {"kind", "reply"}})
      .Change("2026-07-01T10:20:00Z", "feedbot", "incident.update", {{"impact", 1}, {"priority", 1}});
  auto r = Compute(j, "2026-07-01T10:30:00Z", policy);
  // feedbot is not a user in kPeople; raised to P1 by it: P1's targets, nothing stopped yet.
  EXPECT_EQ(r.priority, 1);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).state, SlaState::kBreached);  // 30m > 15m, still running
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kAcknowledge).stop.has_value());
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).state, SlaState::kRunning);
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kTriage).stop.has_value());

  // bob recategorises it: acknowledged and triaged at once.
  j.Change("2026-07-01T10:40:00Z", "bob", "incident.update", {{"category", "malicious-code/infected-system"}});
  r = Compute(j, "2026-07-01T11:00:00Z", policy);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).stop->actor, "bob");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).elapsed, minutes(40));
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).state, SlaState::kBreached);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).stop->seq, 4);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).state, SlaState::kMet);  // 40m of P1's 1h
}

TEST(SlaClocks, ATitleChangeByAPersonAcknowledgesButDoesNotTriage) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 3)
      .Change("2026-07-01T10:05:00Z", "alice", "incident.update", {{"title", "better title"}});
  const auto r = Compute(j, "2026-07-01T10:30:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).elapsed, minutes(5));
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kTriage).stop.has_value());
}

TEST(SlaClocks, ListedMachineAccountsDoNotCountAsPeople) {
  // The caller removes machine accounts from the people; an account absent from them is a machine.
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "mailbot", 2);
  const auto r = Compute(j, "2026-07-01T10:30:00Z");
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kAcknowledge).stop.has_value());
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kTriage).stop.has_value());
}

TEST(SlaClocks, TheTriageEngineTriagesButDoesNotAcknowledge) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", std::string(kTriageEngineActor), 2);
  auto r = Compute(j, "2026-07-01T10:30:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).state, SlaState::kMet);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).elapsed, microseconds(0));
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kAcknowledge).stop.has_value());

  Journal k;
  k.Create("2026-07-01T10:00:00Z", "cli", 2)
      .Add("2026-07-01T10:45:00Z", "system", "triage.override", "triage", "R-2026-000001", std::string(kId),
           {{"state", "decided"}}, {{"state", "overridden"}});
  r = Compute(k, "2026-07-01T11:00:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).elapsed, minutes(45));
}

TEST(SlaClocks, ResolvingBeforeTheTargetsStopsEveryClock) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 2)
      .Change("2026-07-01T10:30:00Z", "cli", "incident.resolve", {{"status", "resolved"}});
  const auto r = Compute(j, "2026-07-09T00:00:00Z");
  for (const auto kind : kSlaClockKinds) {
    const auto& clock = ClockOf(r, kind);
    EXPECT_EQ(clock.state, SlaState::kMet) << SlaClockName(kind);
    ASSERT_TRUE(clock.stop.has_value()) << SlaClockName(kind);
    EXPECT_EQ(clock.stop->action, "incident.resolve") << SlaClockName(kind);
    EXPECT_EQ(clock.elapsed, minutes(30)) << SlaClockName(kind);
  }
  EXPECT_EQ(r.status, IncidentStatus::kResolved);
}

TEST(SlaClocks, ReopeningRestartsOnlyTheResolutionClock) {
  Journal j;
  j.Create("2026-07-01T00:00:00Z", "alice", 1)
      .Change("2026-07-01T02:00:00Z", "alice", "incident.resolve", {{"status", "resolved"}})
      .Change("2026-07-01T03:00:00Z", "alice", "incident.reopen", {{"status", "open"}});
  auto r = Compute(j, "2026-07-01T20:00:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kFirstResponse).stop->seq, 2);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).state, SlaState::kRunning);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).elapsed, hours(20));

  r = Compute(j, "2026-07-02T01:00:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).state, SlaState::kBreached);

  j.Change("2026-07-02T06:00:00Z", "alice", "incident.resolve", {{"status", "resolved"}})
      .Change("2026-07-03T00:00:00Z", "alice", "incident.close", {{"status", "closed"}});
  r = Compute(j, "2026-07-05T00:00:00Z");
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).stop->seq, 4);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).elapsed, hours(30));
  EXPECT_EQ(ClockOf(r, SlaClockKind::kResolution).state, SlaState::kBreached);
  EXPECT_EQ(r.status, IncidentStatus::kClosed);
}

TEST(SlaClocks, FirstResponseIsTheFirstOfTaskDoneCountermeasureOrInvestigationMail) {
  const auto base = [] {
    Journal j;
    j.Create("2026-07-01T10:00:00Z", "alice", 2)
        .Add("2026-07-01T10:00:00Z", "alice", "task.create", "task", "T-2026-000001", std::string(kId), nullptr,
             {{"key", "T-2026-000001"}, {"state", "open"}});
    return j;
  };
  {
    auto j = base();
    auto r = Compute(j, "2026-07-01T12:00:00Z");
    EXPECT_FALSE(ClockOf(r, SlaClockKind::kFirstResponse).stop.has_value()) << "a new task is not a response";
    j.Add("2026-07-01T13:00:00Z", "bob", "task.done", "task", "T-2026-000001", std::string(kId),
          {{"key", "T-2026-000001"}, {"state", "open"}}, {{"key", "T-2026-000001"}, {"state", "done"}});
    r = Compute(j, "2026-07-01T14:00:00Z");
    EXPECT_EQ(ClockOf(r, SlaClockKind::kFirstResponse).elapsed, hours(3));
  }
  {
    auto j = base();
    j.Add("2026-07-01T10:20:00Z", "alice", "countermeasure.create", "countermeasure", "C-2026-000001", std::string(kId),
          nullptr, {{"state", "pending"}});
    EXPECT_EQ(ClockOf(Compute(j, "2026-07-01T14:00:00Z"), SlaClockKind::kFirstResponse).elapsed, minutes(20));
  }
  {
    auto j = base();
    j.Add("2026-07-01T10:40:00Z", "alice", "mail.queue", "mail", "9", std::string(kId), nullptr,
          {{"direction", "out"}, {"kind", "investigation"}, {"status", "pending"}});
    EXPECT_EQ(ClockOf(Compute(j, "2026-07-01T14:00:00Z"), SlaClockKind::kFirstResponse).elapsed, minutes(40));
  }
  {
    // A notice to the reporter is not a response; an acknowledgement mail is not either.
    auto j = base();
    j.Add("2026-07-01T10:40:00Z", "alice", "mail.queue", "mail", "9", std::string(kId), nullptr,
          {{"direction", "out"}, {"kind", "notice"}, {"status", "pending"}});
    EXPECT_FALSE(ClockOf(Compute(j, "2026-07-01T14:00:00Z"), SlaClockKind::kFirstResponse).stop.has_value());
  }
}

TEST(SlaClocks, EntriesMayComeInAnyOrder) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 2)
      .Change("2026-07-01T10:10:00Z", "bob", "incident.update", {{"owner_id", 2}})
      .Change("2026-07-01T10:20:00Z", "alice", "incident.update", {{"phase", "analysis"}})
      .Change("2026-07-01T11:00:00Z", "alice", "incident.resolve", {{"status", "resolved"}});
  const auto in_order = Compute(j, "2026-07-02T00:00:00Z");
  auto shuffled = j.entries();
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto r = ComputeSlaClocks(kId, shuffled, SlaPolicy::Defaults(), kPeople, At("2026-07-02T00:00:00Z"));
  ASSERT_TRUE(r.has_value());
  for (const auto kind : kSlaClockKinds) {
    EXPECT_EQ(ClockOf(*r, kind).elapsed, ClockOf(in_order, kind).elapsed) << SlaClockName(kind);
    EXPECT_EQ(ClockOf(*r, kind).stop->seq, ClockOf(in_order, kind).stop->seq) << SlaClockName(kind);
  }
  EXPECT_EQ(ClockOf(*r, SlaClockKind::kAcknowledge).stop->seq, 2);  // bob's change, the first by a person
  EXPECT_EQ(ClockOf(*r, SlaClockKind::kFirstResponse).stop->seq, 3);
}

TEST(SlaClocks, EntriesOfOtherIncidentsAreIgnored) {
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 2)
      .Add("2026-07-01T10:05:00Z", "alice", "incident.update", "incident", "I-2026-000008", "I-2026-000008",
           IncidentSnapshot(2), IncidentSnapshot(2, "resolved"));
  const auto r = Compute(j, "2026-07-01T10:30:00Z");
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kAcknowledge).stop.has_value());
  EXPECT_FALSE(ClockOf(r, SlaClockKind::kResolution).stop.has_value());
}

TEST(SlaClocks, ConfiguredTargetsAndTheExerciseFlagAreReported) {
  SlaPolicy policy = SlaPolicy::Defaults();
  policy.by_priority[3].For(SlaClockKind::kAcknowledge) = seconds(2);
  Journal j;
  j.Create("2026-07-01T10:00:00Z", "cli", 4, /*exercise=*/true);
  const auto r = Compute(j, "2026-07-01T10:00:03Z", policy);
  EXPECT_TRUE(r.exercise);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).target, seconds(2));
  EXPECT_EQ(ClockOf(r, SlaClockKind::kAcknowledge).state, SlaState::kBreached);
  EXPECT_EQ(ClockOf(r, SlaClockKind::kTriage).target, hours(72));
}

TEST(SlaClocks, WithoutTheCreationEntryThereIsNothingToTime) {
  Journal j;
  j.Add("2026-07-01T10:00:00Z", "alice", "incident.update", "incident", std::string(kId), std::string(kId),
        IncidentSnapshot(2), IncidentSnapshot(2, "resolved"));
  const auto r = ComputeSlaClocks(kId, j.entries(), SlaPolicy::Defaults(), kPeople, At("2026-07-01T11:00:00Z"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SlaPolicy, DefaultTargetsPerPriority) {
  const auto p = SlaPolicy::Defaults();
  EXPECT_EQ(p.For(1).For(SlaClockKind::kAcknowledge), minutes(15));
  EXPECT_EQ(p.For(1).For(SlaClockKind::kResolution), hours(24));
  EXPECT_EQ(p.For(2).For(SlaClockKind::kTriage), hours(4));
  EXPECT_EQ(p.For(3).For(SlaClockKind::kResolution), hours(14 * 24));
  EXPECT_EQ(p.For(4).For(SlaClockKind::kFirstResponse), hours(7 * 24));
  EXPECT_EQ(&p.For(9), &p.For(4));
}

TEST(SlaDuration, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseSlaDuration("90s").value(), seconds(90));
  EXPECT_EQ(ParseSlaDuration("90").value(), seconds(90));
  EXPECT_EQ(ParseSlaDuration("15m").value(), seconds(900));
  EXPECT_EQ(ParseSlaDuration("1h30m").value(), seconds(5400));
  EXPECT_EQ(ParseSlaDuration("3d").value(), seconds(259200));
  EXPECT_EQ(ParseSlaDuration("2w").value(), seconds(1209600));
  for (const std::string bad : {"", "m", "0s", "1x", "1h30", "-5m", "h1", "99999999999999999999s", "3651d"}) {
    const auto r = ParseSlaDuration(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  }
  EXPECT_EQ(FormatSlaDuration(seconds(5400)), "1h30m");
  EXPECT_EQ(FormatSlaDuration(seconds(259200)), "3d");
  EXPECT_EQ(FormatSlaDuration(seconds(90061)), "1d1h1m1s");
  EXPECT_EQ(FormatSlaDuration(seconds(0)), "0s");
}

TEST(SlaNames, ClockAndStateNames) {
  EXPECT_EQ(SlaClockName(SlaClockKind::kFirstResponse), "first-response");
  EXPECT_EQ(ParseSlaClock("resolution"), SlaClockKind::kResolution);
  EXPECT_FALSE(ParseSlaClock("first_response").has_value());
  EXPECT_EQ(SlaStateName(SlaState::kBreached), "breached");
}

}  // namespace
}  // namespace hikeshi::core
