// Mail in the store contract: what every backend keeps of a message, the outgoing queue with its
// leases, and core::MailIngest / core::MailDelivery over each backend (deduplication, threading,
// acknowledgements with their suppression rules, retries).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/mail_delivery.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using core::MailDirection;
using core::MailMessage;
using core::Timestamp;

class SettableClock final : public core::Clock {
 public:
  explicit SettableClock(Timestamp now) : micros_(common::ToMicros(now)) {}
  Timestamp Now() const override { return common::FromMicros(micros_.load()); }
  void Set(Timestamp now) { micros_.store(common::ToMicros(now)); }

 private:
  std::atomic<std::int64_t> micros_;
};

MailMessage Incoming(std::string message_id, Timestamp at) {
  MailMessage m;
  m.direction = MailDirection::kIn;
  m.kind = "report";
  m.message_id = std::move(message_id);
  m.from_address = "reporter@example.org";
  m.from_name = "山田 太郎";
  m.to = {"csirt@example.net", "cc@example.net"};
  m.subject = "不正アクセスの報告";
  m.text = "198.51.100.23 から攻撃を受けました。";
  m.in_reply_to = "older@example.org";
  m.references = {"first@example.org", "older@example.org"};
  m.raw_sha256 = std::string(64, 'a');
  m.raw_size = 1234;
  m.attachments = {{std::string(64, 'b'), "ログ.txt", "text/plain", "text/plain", 42}};
  m.encrypted = true;
  m.decrypted = true;
  m.signatures = {{core::SignatureValidity::kGood, "0123456789ABCDEF0123456789ABCDEF01234567",
                   "Reporter <r@example.org>", At(2026, 3, 14, 9, 0)}};
  core::AbuseReport abuse;
  abuse.format = "arf";
  abuse.report_type = "abuse";
  abuse.source_ip = "192.0.2.9";
  abuse.source_port = 25;
  abuse.reported_uri = "http://bad.example/x";
  abuse.reported_domain = "bad.example";
  abuse.user_agent = "SomeGenerator/1.0";
  abuse.arrival_date = At(2026, 3, 14, 8, 0);
  abuse.original_message = "Received: from ...\r\n";
  abuse.category = core::Category{"abusive-content", "spam"};
  m.abuse = abuse;
  m.auto_reason = "";
  m.spam = false;
  m.flags = {"truncated"};
  m.problems = {"truncated: larger than 64 MiB"};
  m.status = "queued";
  m.language = "ja";
  m.at = at;
  return m;
}

MailMessage Outgoing(std::string message_id, std::string to, Timestamp at) {
  MailMessage m;
  m.direction = MailDirection::kOut;
  m.kind = "ack";
  m.message_id = std::move(message_id);
  m.from_address = "csirt@example.net";
  m.to = {std::move(to)};
  m.subject = "[Hikeshi R-2026-000001] Received";
  m.text = "Thank you";
  m.status = "pending";
  m.language = "en";
  m.at = at;
  return m;
}

void ExpectSameMail(const MailMessage& a, const MailMessage& e) {
  EXPECT_EQ(a.id, e.id);
  EXPECT_EQ(a.direction, e.direction);
  EXPECT_EQ(a.kind, e.kind);
  EXPECT_EQ(a.message_id, e.message_id);
  EXPECT_EQ(a.report_id, e.report_id);
  EXPECT_EQ(a.incident_id, e.incident_id);
  EXPECT_EQ(a.from_address, e.from_address);
  EXPECT_EQ(a.from_name, e.from_name);
  EXPECT_EQ(a.to, e.to);
  EXPECT_EQ(a.subject, e.subject);
  EXPECT_EQ(a.text, e.text);
  EXPECT_EQ(a.in_reply_to, e.in_reply_to);
  EXPECT_EQ(a.references, e.references);
  EXPECT_EQ(a.raw_sha256, e.raw_sha256);
  EXPECT_EQ(a.raw_size, e.raw_size);
  ASSERT_EQ(a.attachments.size(), e.attachments.size());
  for (std::size_t i = 0; i < a.attachments.size(); ++i) {
    EXPECT_EQ(a.attachments[i].sha256, e.attachments[i].sha256);
    EXPECT_EQ(a.attachments[i].filename, e.attachments[i].filename);
    EXPECT_EQ(a.attachments[i].content_type, e.attachments[i].content_type);
    EXPECT_EQ(a.attachments[i].magic_type, e.attachments[i].magic_type);
    EXPECT_EQ(a.attachments[i].size, e.attachments[i].size);
  }
  EXPECT_EQ(a.encrypted, e.encrypted);
  EXPECT_EQ(a.decrypted, e.decrypted);
  ASSERT_EQ(a.signatures.size(), e.signatures.size());
  for (std::size_t i = 0; i < a.signatures.size(); ++i) {
    EXPECT_EQ(a.signatures[i].validity, e.signatures[i].validity);
    EXPECT_EQ(a.signatures[i].fingerprint, e.signatures[i].fingerprint);
    EXPECT_EQ(a.signatures[i].signer, e.signatures[i].signer);
    EXPECT_EQ(a.signatures[i].signed_at.has_value(), e.signatures[i].signed_at.has_value());
  }
  ASSERT_EQ(a.abuse.has_value(), e.abuse.has_value());
  if (a.abuse) {
    EXPECT_EQ(a.abuse->format, e.abuse->format);
    EXPECT_EQ(a.abuse->report_type, e.abuse->report_type);
    EXPECT_EQ(a.abuse->source_ip, e.abuse->source_ip);
    EXPECT_EQ(a.abuse->source_port, e.abuse->source_port);
    EXPECT_EQ(a.abuse->reported_uri, e.abuse->reported_uri);
    EXPECT_EQ(a.abuse->reported_domain, e.abuse->reported_domain);
    EXPECT_EQ(a.abuse->user_agent, e.abuse->user_agent);
    EXPECT_EQ(a.abuse->original_message, e.abuse->original_message);
    EXPECT_EQ(a.abuse->category, e.abuse->category);
  }
  EXPECT_EQ(a.auto_reason, e.auto_reason);
  EXPECT_EQ(a.spam, e.spam);
  EXPECT_EQ(a.flags, e.flags);
  EXPECT_EQ(a.problems, e.problems);
  EXPECT_EQ(a.status, e.status);
  EXPECT_EQ(a.language, e.language);
  EXPECT_EQ(a.attempts, e.attempts);
  EXPECT_EQ(a.last_error, e.last_error);
  EXPECT_EQ(common::ToMicros(a.at), common::ToMicros(e.at));
}

// An MTA stand-in for the retry policy: answers each send with the next scripted result. (Real
// SMTP delivery is tested end to end against an SMTP server on loopback.)
class ScriptedMailer final : public core::Mailer {
 public:
  Result<void> Send(const core::OutgoingMail& mail) override {
    sent.push_back(mail);
    if (answers.empty()) return {};
    auto answer = answers.front();
    answers.erase(answers.begin());
    return answer;
  }
  std::vector<Result<void>> answers;
  std::vector<core::OutgoingMail> sent;
};

class PlainComposer final : public core::MailComposer {
 public:
  Result<core::OutgoingMail> Compose(const MailMessage& mail) override {
    return core::OutgoingMail{mail.from_address, mail.to, "Subject: " + mail.subject + "\r\n\r\n" + mail.text};
  }
};

template <typename Backend>
class MailContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened) << Describe(opened.error());
    store_ = std::move(*opened);
  }
  core::Store& TheStore() { return *store_; }

  Result<MailMessage> Create(MailMessage mail, std::string incident = "") {
    return WriteValue(TheStore(), [&](core::WriteTx& tx) { return tx.CreateMail({"alice", kNow}, mail, incident); });
  }
  core::MailIngest Ingest(core::MailIngestOptions options = {}) {
    if (options.team_address == "csirt@localhost") options.team_address = "csirt@example.net";
    return core::MailIngest(TheStore(), clock_, std::move(options));
  }
  static core::ReceivedMail Received(std::string message_id, std::string from, std::string subject,
                                     std::string text = "We saw 203.0.113.5 scanning us.") {
    core::ReceivedMail r;
    r.mail.message_id = std::move(message_id);
    r.mail.from_address = std::move(from);
    r.mail.from_name = "Reporter";
    r.mail.to = {"csirt@example.net"};
    r.mail.subject = std::move(subject);
    r.mail.text = std::move(text);
    r.raw_sha256 = common::Sha256Hex(r.mail.message_id + r.mail.subject);
    r.raw_size = 100;
    r.observables = {core::Observable{core::ObservableType::kIpv4, "203.0.113.5"}};
    return r;
  }
  std::vector<MailMessage> OutgoingForReport(std::int64_t report_id) {
    auto all = ReadValue(TheStore(), [&](core::StoreReader& r) { return r.ListMailForReport(report_id); });
    EXPECT_TRUE(all) << Describe(all.error());
    std::vector<MailMessage> out;
    if (all) {
      for (auto& m : *all) {
        if (m.direction == MailDirection::kOut) out.push_back(std::move(m));
      }
    }
    return out;
  }
  core::Report ReportNamed(const std::string& human_id) {
    auto found =
        ReadValue(TheStore(), [&](core::StoreReader& r) { return r.FindReport(core::Scope::All(), human_id); });
    EXPECT_TRUE(found && *found) << "report " << human_id;
    return found && *found ? **found : core::Report{};
  }
  void ExpectAuditVerifies() {
    auto verdict = core::VerifyAudit(TheStore());
    ASSERT_TRUE(verdict.has_value()) << Describe(verdict.error());
    EXPECT_TRUE(verdict->ok()) << verdict->problem;
  }

  const Timestamp kNow = At(2026, 3, 14, 10, 0);
  const core::Principal operator_ = core::Principal::LocalOperator();
  SettableClock clock_{kNow};
  Backend backend_;
  std::unique_ptr<core::Store> store_;
};

TYPED_TEST_SUITE(MailContractTest, StoreBackends, BackendNames);

TYPED_TEST(MailContractTest, MessageRoundTripsEveryFieldAndIsFoundByDirectionAndMessageId) {
  MailMessage in = Incoming("abc@example.org", this->kNow);
  ASSERT_OK_AND_ASSIGN(const MailMessage stored, this->Create(in));
  EXPECT_GT(stored.id, 0);
  in.id = stored.id;

  ASSERT_OK_AND_ASSIGN(const auto by_id,
                       ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.FindMailById(stored.id); }));
  ASSERT_TRUE(by_id.has_value());
  ExpectSameMail(*by_id, in);
  ASSERT_OK_AND_ASSIGN(const auto found, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindMail(MailDirection::kIn, "abc@example.org");
                       }));
  ASSERT_TRUE(found.has_value());
  ExpectSameMail(*found, in);
  // The same Message-ID going the other way is another message.
  ASSERT_OK_AND_ASSIGN(const auto other_way, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.FindMail(MailDirection::kOut, "abc@example.org");
                       }));
  EXPECT_FALSE(other_way.has_value());
  ASSERT_OK(this->Create(Outgoing("abc@example.org", "x@example.org", this->kNow)));
  // ... but twice in one direction is a clash.
  EXPECT_ERROR(this->Create(Incoming("abc@example.org", this->kNow)), ErrorCode::kConflict);
  this->ExpectAuditVerifies();
}

TYPED_TEST(MailContractTest, MessagesAreListedPerReportAndIncidentOldestFirst) {
  auto report = WriteValue(this->TheStore(), [&](core::WriteTx& tx) {
    core::Report r;
    r.subject = "s";
    r.received_at = this->kNow;
    r.updated_at = this->kNow;
    return tx.CreateReport({"alice", this->kNow}, r);
  });
  ASSERT_TRUE(report) << Describe(report.error());
  auto incident = WriteValue(this->TheStore(), [&](core::WriteTx& tx) {
    core::Incident i;
    i.title = "t";
    i.category = core::Category{"fraud", "phishing"};
    i.created_at = this->kNow;
    i.updated_at = this->kNow;
    return tx.CreateIncident({"alice", this->kNow}, i);
  });
  ASSERT_TRUE(incident) << Describe(incident.error());
  MailMessage a = Incoming("a@x", this->kNow);
  a.report_id = report->id;
  MailMessage b = Incoming("b@x", this->kNow);
  b.report_id = report->id;
  b.incident_id = incident->id;
  MailMessage c = Incoming("c@x", this->kNow);
  c.incident_id = incident->id;
  ASSERT_OK_AND_ASSIGN(const auto sa, this->Create(a));
  ASSERT_OK_AND_ASSIGN(const auto sb, this->Create(b, incident->human_id));
  ASSERT_OK_AND_ASSIGN(const auto sc, this->Create(c, incident->human_id));
  ASSERT_OK_AND_ASSIGN(const auto for_report, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListMailForReport(report->id);
                       }));
  ASSERT_EQ(for_report.size(), 2u);
  EXPECT_EQ(for_report[0].id, sa.id);
  EXPECT_EQ(for_report[1].id, sb.id);
  ASSERT_OK_AND_ASSIGN(const auto for_incident, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListMailForIncident(incident->id);
                       }));
  ASSERT_EQ(for_incident.size(), 2u);
  EXPECT_EQ(for_incident[0].id, sb.id);
  EXPECT_EQ(for_incident[1].id, sc.id);
  // The incident's timeline (its journal entries) shows the two messages.
  ASSERT_OK_AND_ASSIGN(const auto timeline, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListAuditForIncident(incident->human_id);
                       }));
  int mail_entries = 0;
  for (const auto& e : timeline) mail_entries += e.action == "mail.receive";
  EXPECT_EQ(mail_entries, 2);
  ASSERT_OK_AND_ASSIGN(const auto all,
                       ReadValue(this->TheStore(), [&](core::StoreReader& r) { return r.ListMail(sa.id, 10); }));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, sb.id);
}

TYPED_TEST(MailContractTest, OutgoingQueueLeasesEachMessageToOneWorkerUntilTheLeaseRunsOut) {
  ASSERT_OK_AND_ASSIGN(const auto first, this->Create(Outgoing("o1@x", "a@example.org", this->kNow)));
  ASSERT_OK_AND_ASSIGN(const auto second, this->Create(Outgoing("o2@x", "b@example.org", this->kNow)));
  MailMessage later = Outgoing("o3@x", "c@example.org", this->kNow);
  later.next_attempt_at = this->kNow + std::chrono::hours(1);
  ASSERT_OK(this->Create(later));
  MailMessage sent = Outgoing("o4@x", "d@example.org", this->kNow);
  sent.status = "sent";
  ASSERT_OK(this->Create(sent));

  const Timestamp lease = this->kNow + std::chrono::minutes(5);
  auto claim = [&](Timestamp now, std::string worker) {
    return WriteValue(this->TheStore(),
                      [&](core::WriteTx& tx) { return tx.ClaimOutgoingMail(now, worker, lease, 10); });
  };
  ASSERT_OK_AND_ASSIGN(const auto a, claim(this->kNow, "node-a"));
  ASSERT_EQ(a.size(), 2u) << "only pending messages that are due";
  EXPECT_EQ(a[0].id, first.id);
  EXPECT_EQ(a[1].id, second.id);
  ASSERT_OK_AND_ASSIGN(const auto b, claim(this->kNow + std::chrono::minutes(1), "node-b"));
  EXPECT_THAT(b, IsEmpty()) << "leased to node-a";
  // node-a dies; after its lease another worker takes over, and the delayed one is due by then.
  ASSERT_OK_AND_ASSIGN(const auto c, claim(this->kNow + std::chrono::hours(2), "node-b"));
  EXPECT_EQ(c.size(), 3u);
}

TYPED_TEST(MailContractTest, CountsAcknowledgementsPerRecipientWithinAWindow) {
  ASSERT_OK(this->Create(Outgoing("k1@x", "Same@Example.org", this->kNow - std::chrono::hours(2))));
  ASSERT_OK(this->Create(Outgoing("k2@x", "same@example.org", this->kNow)));
  ASSERT_OK(this->Create(Outgoing("k3@x", "same@example.org", this->kNow)));
  ASSERT_OK(this->Create(Outgoing("k4@x", "other@example.org", this->kNow)));
  ASSERT_OK_AND_ASSIGN(const auto n, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.CountMailTo("ack", "same@example.org", this->kNow - std::chrono::hours(1));
                       }));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(const auto all_day, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.CountMailTo("ack", "same@example.org", this->kNow - std::chrono::hours(24));
                       }));
  EXPECT_EQ(all_day, 3) << "recipients compare without case";
}

// --- core::MailIngest over the backend.

TYPED_TEST(MailContractTest, ANewReportIsStoredOnceAndAcknowledgedOnce) {
  auto ingest = this->Ingest();
  const auto mail = this->Received("m1@example.org", "Reporter@Example.org", "Scan from 203.0.113.5");
  ASSERT_OK_AND_ASSIGN(const auto first, ingest.Receive(this->operator_, mail));
  EXPECT_EQ(first.outcome, core::MailOutcome::kStored);
  EXPECT_THAT(first.report, StartsWith("R-2026-"));
  EXPECT_EQ(first.ack, "queued");
  const core::Report report = this->ReportNamed(first.report);
  EXPECT_EQ(report.channel, core::Channel::kMail);
  EXPECT_EQ(report.subject, "Scan from 203.0.113.5");
  EXPECT_THAT(report.reporter, HasSubstr("reporter@example.org"));
  EXPECT_THAT(report.observables, ElementsAre(core::Observable{core::ObservableType::kIpv4, "203.0.113.5"}));

  const auto acks = this->OutgoingForReport(report.id);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].kind, "ack");
  EXPECT_EQ(acks[0].status, "pending");
  EXPECT_THAT(acks[0].to, ElementsAre("reporter@example.org"));
  EXPECT_THAT(acks[0].subject, HasSubstr("[Hikeshi " + first.report + "]"));
  EXPECT_THAT(acks[0].text, HasSubstr(first.report));
  EXPECT_EQ(acks[0].in_reply_to, "m1@example.org");
  EXPECT_EQ(acks[0].language, "en");

  // Redelivery: the same Message-ID makes nothing new.
  ASSERT_OK_AND_ASSIGN(const auto again, ingest.Receive(this->operator_, mail));
  EXPECT_EQ(again.outcome, core::MailOutcome::kDuplicate);
  EXPECT_EQ(again.mail_id, first.mail_id);
  EXPECT_EQ(this->OutgoingForReport(report.id).size(), 1u);
  this->ExpectAuditVerifies();
}

TYPED_TEST(MailContractTest, AJapaneseReportIsAcknowledgedInJapanese) {
  auto ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(
      const auto r,
      ingest.Receive(this->operator_, this->Received("ja@example.jp", "taro@example.jp", "不正アクセスの報告",
                                                     "弊社サーバへの不正なアクセスがありました。")));
  const auto acks = this->OutgoingForReport(this->ReportNamed(r.report).id);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].language, "ja");
  EXPECT_THAT(acks[0].text, HasSubstr("受付番号は " + r.report));
}

TYPED_TEST(MailContractTest, NoAcknowledgementForSpamAutomaticMailOwnAddressOrBeyondTheRateLimit) {
  core::MailIngestOptions options;
  options.acks_per_sender = 2;
  auto ingest = this->Ingest(options);
  auto spam = this->Received("s@x", "spammer@example.org", "Cheap pills");
  spam.mail.spam = true;
  auto bounce = this->Received("b@x", "mailer-daemon@example.org", "Undelivered Mail Returned to Sender");
  bounce.mail.auto_generated = true;
  bounce.mail.auto_reason = "bounce";
  auto own = this->Received("own@x", "CSIRT@example.net", "Loop?");
  auto nobody = this->Received("n@x", "", "No sender");
  struct Case {
    core::ReceivedMail mail;
    std::string ack;
  };
  for (const auto& [mail, expected] : std::vector<Case>{{spam, "suppressed: spam"},
                                                        {bounce, "suppressed: automatic mail (bounce)"},
                                                        {own, "suppressed: from Hikeshi's own address"},
                                                        {nobody, "suppressed: no usable sender address"}}) {
    ASSERT_OK_AND_ASSIGN(const auto r, ingest.Receive(this->operator_, mail));
    EXPECT_EQ(r.outcome, core::MailOutcome::kStored) << "still a report: nothing received is lost";
    EXPECT_EQ(r.ack, expected);
    EXPECT_THAT(this->OutgoingForReport(this->ReportNamed(r.report).id), IsEmpty());
  }
  EXPECT_THAT(this->ReportNamed("R-2026-000001").flags, ElementsAre("spam"));

  std::vector<std::string> acks;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(const auto r,
                         ingest.Receive(this->operator_, this->Received("flood" + std::to_string(i) + "@x",
                                                                        "flood@example.org", "Report")));
    acks.push_back(r.ack);
  }
  EXPECT_EQ(acks[0], "queued");
  EXPECT_EQ(acks[1], "queued");
  EXPECT_THAT(acks[2], StartsWith("suppressed: rate limit"));
  // An hour later the sender is answered again.
  this->clock_.Set(this->kNow + std::chrono::minutes(61));
  ASSERT_OK_AND_ASSIGN(const auto later,
                       ingest.Receive(this->operator_, this->Received("flood9@x", "flood@example.org", "Report")));
  EXPECT_EQ(later.ack, "queued");
}

TYPED_TEST(MailContractTest, RepliesThreadByTagOrReferencesInsteadOfOpeningReports) {
  auto ingest = this->Ingest();
  ASSERT_OK_AND_ASSIGN(const auto opened,
                       ingest.Receive(this->operator_, this->Received("orig@example.org", "r@example.org", "Phish")));
  const core::Report report = this->ReportNamed(opened.report);
  const auto acks = this->OutgoingForReport(report.id);
  ASSERT_EQ(acks.size(), 1u);

  // 1. A reply to our acknowledgement (References), with a changed subject.
  auto reply = this->Received("reply1@example.org", "r@example.org", "More details");
  reply.mail.in_reply_to = acks[0].message_id;
  reply.mail.references = {"orig@example.org", acks[0].message_id};
  ASSERT_OK_AND_ASSIGN(const auto r1, ingest.Receive(this->operator_, reply));
  EXPECT_EQ(r1.outcome, core::MailOutcome::kThreaded);
  EXPECT_EQ(r1.ack, "not acknowledged: reply");

  // 2. An incident's tag in the subject, no references.
  auto incident = WriteValue(this->TheStore(), [&](core::WriteTx& tx) {
    core::Incident i;
    i.title = "Phishing campaign";
    i.category = core::Category{"fraud", "phishing"};
    i.created_at = this->kNow;
    i.updated_at = this->kNow;
    return tx.CreateIncident({"alice", this->kNow}, i);
  });
  ASSERT_TRUE(incident) << Describe(incident.error());
  auto tagged = this->Received("reply2@example.org", "isp@example.com",
                               "Re: [Hikeshi " + incident->human_id + "] takedown request");
  ASSERT_OK_AND_ASSIGN(const auto r2, ingest.Receive(this->operator_, tagged));
  EXPECT_EQ(r2.outcome, core::MailOutcome::kThreaded);
  EXPECT_EQ(r2.incident, incident->human_id);
  ASSERT_OK_AND_ASSIGN(const auto timeline, ReadValue(this->TheStore(), [&](core::StoreReader& r) {
                         return r.ListAuditForIncident(incident->human_id);
                       }));
  EXPECT_EQ(timeline.back().action, "mail.receive");

  // A tag naming something that does not exist opens a report, as any new mail does.
  ASSERT_OK_AND_ASSIGN(const auto r3,
                       ingest.Receive(this->operator_, this->Received("reply3@example.org", "r@example.org",
                                                                      "[Hikeshi I-2026-999999] ?")));
  EXPECT_EQ(r3.outcome, core::MailOutcome::kStored);

  ASSERT_OK_AND_ASSIGN(const auto page, ReadValue(this->TheStore(), [](core::StoreReader& r) {
                         return r.ListReports(core::Scope::All(), core::ReportQuery{});
                       }));
  EXPECT_EQ(page.items.size(), 2u) << "the replies made no reports";
  this->ExpectAuditVerifies();
}

TYPED_TEST(MailContractTest, DeliverySendsRetriesWithBackOffAndGivesUpOnPermanentErrors) {
  auto ingest = this->Ingest();
  ASSERT_OK(ingest.Receive(this->operator_, this->Received("d1@x", "one@example.org", "A")));
  ASSERT_OK(ingest.Receive(this->operator_, this->Received("d2@x", "two@example.org", "B")));
  ASSERT_OK(ingest.Receive(this->operator_, this->Received("d3@x", "three@example.org", "C")));
  ScriptedMailer mailer;
  mailer.answers = {Result<void>{}, Fail(Error::Unavailable("421 try later")),
                    Fail(Error::InvalidArgument("550 no such user"))};
  PlainComposer composer;
  core::MailDeliveryOptions options;
  options.first_retry = std::chrono::seconds(60);
  core::MailDelivery delivery(this->TheStore(), this->clock_, composer, mailer, nullptr, options);
  ASSERT_OK_AND_ASSIGN(const auto stats, delivery.RunOnce());
  EXPECT_EQ(stats.sent, 1);
  EXPECT_EQ(stats.retried, 1);
  EXPECT_EQ(stats.failed, 1);
  ASSERT_EQ(mailer.sent.size(), 3u);
  EXPECT_THAT(mailer.sent[0].recipients, ElementsAre("one@example.org"));

  // Nothing is due again until the back-off has passed.
  ASSERT_OK_AND_ASSIGN(const auto idle, delivery.RunOnce());
  EXPECT_EQ(idle.sent + idle.retried + idle.failed, 0);
  this->clock_.Set(this->kNow + std::chrono::seconds(61));
  ASSERT_OK_AND_ASSIGN(const auto retry, delivery.RunOnce());
  EXPECT_EQ(retry.sent, 1);
  ASSERT_EQ(mailer.sent.size(), 4u);
  EXPECT_THAT(mailer.sent[3].recipients, ElementsAre("two@example.org"));

  std::map<std::string, std::string> status_by_recipient;
  ASSERT_OK_AND_ASSIGN(const auto all,
                       ReadValue(this->TheStore(), [](core::StoreReader& r) { return r.ListMail(0, 100); }));
  for (const auto& m : all) {
    if (m.direction == MailDirection::kOut)
      status_by_recipient[m.to.front()] = m.status + "/" + std::to_string(m.attempts);
  }
  EXPECT_EQ(status_by_recipient["one@example.org"], "sent/1");
  EXPECT_EQ(status_by_recipient["two@example.org"], "sent/2");
  EXPECT_EQ(status_by_recipient["three@example.org"], "failed/1");
  this->ExpectAuditVerifies();
}

}  // namespace
}  // namespace hikeshi::store_contract
