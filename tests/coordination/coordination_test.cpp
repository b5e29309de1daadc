// Coordination with outside parties, in core, over each real store (SQLite, and PostgreSQL on the
// test server) and the team's real keyring
// (GPGME over a gpg home of its own), with contacts whose keys an outside party's gpg made: the
// contact directory, investigations and the TLP rule for what they may be sent, replies threading
// back into an investigation, and the notice to reporters when an incident is resolved.
// The end-to-end path (the real binary, SMTP, the contact's gpg decrypting) is in
// coordination_e2e_test.cpp.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/investigations.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/reporter_notices.hpp"
#include "hikeshi/core/reports.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/pgp/gpg_keyring.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

#include "support/gpg_home.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::coordination {
namespace {

using core::InvestigationState;
using core::MailDirection;
using core::MailMessage;
using core::Principal;
using core::Timestamp;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using testing::TestGpgHome;

std::string Describe(const Error& e) { return std::string(ErrorCodeName(e.code())) + ": " + e.message(); }

#define CO_CONCAT_INNER(a, b) a##b
#define CO_CONCAT(a, b) CO_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, CO_CONCAT(result_, __LINE__))
#define ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, tmp)        \
  auto tmp = (expr);                                     \
  ASSERT_TRUE(tmp.has_value()) << Describe(tmp.error()); \
  lhs = std::move(tmp).value()
#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    const auto co_result = (expr);                                     \
    ASSERT_TRUE(co_result.has_value()) << Describe(co_result.error()); \
  } while (0)

class SettableClock final : public core::Clock {
 public:
  explicit SettableClock(Timestamp now) : micros_(common::ToMicros(now)) {}
  Timestamp Now() const override { return common::FromMicros(micros_.load()); }
  void Advance(std::chrono::seconds by) {
    micros_ += std::chrono::duration_cast<std::chrono::microseconds>(by).count();
  }

 private:
  std::atomic<std::int64_t> micros_;
};

const core::TeamMailOptions kTeam{"csirt@example.net", "Example CSIRT", "Hikeshi"};

Principal Scoped(std::string name, core::Role role, std::vector<std::int64_t> constituencies) {
  Principal p;
  p.user_id = 7;
  p.username = std::move(name);
  p.role = role;
  p.scope.constituency_ids = std::move(constituencies);
  return p;
}

core::NewConstituency Constituency(std::string name) {
  core::NewConstituency c;
  c.name = std::move(name);
  return c;
}

core::IncidentDraft IncidentOf(std::string title, std::string category, bool exercise = false) {
  core::IncidentDraft d;
  d.title = std::move(title);
  d.category = std::move(category);
  d.constituency = "univ-a";
  d.tlp = "TLP:AMBER";
  d.exercise = exercise;
  return d;
}

core::IncidentPatch StatusTo(std::string status) {
  core::IncidentPatch p;
  p.status = std::move(status);
  return p;
}

core::ContactDraft ContactOf(std::string name, std::string email, std::string kind,
                             std::optional<std::string> constituency = std::nullopt) {
  core::ContactDraft d;
  d.name = std::move(name);
  d.email = std::move(email);
  d.kind = std::move(kind);
  d.constituency = std::move(constituency);
  return d;
}

core::NewInvestigation With(std::int64_t contact, std::string title) {
  core::NewInvestigation n;
  n.contact_id = contact;
  n.title = std::move(title);
  return n;
}

core::InvestigationMessage Message(std::string subject, std::string body,
                                   std::optional<std::string> tlp = std::nullopt) {
  core::InvestigationMessage m;
  m.subject = std::move(subject);
  m.body = std::move(body);
  m.tlp = std::move(tlp);
  return m;
}

core::InvestigationPatch DueAt(Timestamp due) {
  core::InvestigationPatch p;
  p.due = std::optional<Timestamp>(due);
  return p;
}

core::IncidentPatch Retitled(std::string title) {
  core::IncidentPatch p;
  p.title = std::move(title);
  return p;
}

core::InvestigationPatch StateTo(std::string state) {
  core::InvestigationPatch p;
  p.state = std::move(state);
  return p;
}

// The parameter names the store: "sqlite" or "postgres" (a database of its own on the test server).
class CoordinationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "hikeshi-coord-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    if (GetParam() == "postgres") {
      ASSERT_OK_AND_ASSIGN(auto database, testing::TestDatabase::Create());
      database_ = std::make_unique<testing::TestDatabase>(std::move(database));
      ASSERT_OK_AND_ASSIGN(store_, store::postgres::OpenPostgresStore(database_->Conninfo()));
    } else {
      ASSERT_OK_AND_ASSIGN(store_, store::sqlite::OpenSqliteStore(dir_ / "hikeshi.db", {}));
    }

    ASSERT_OK_AND_ASSIGN(auto team, TestGpgHome::Create());
    team_home_ = std::make_unique<TestGpgHome>(std::move(team));
    ASSERT_OK_AND_ASSIGN(team_fpr_, pgp::CreateTeamKey(team_home_->path(), "Example CSIRT <csirt@example.net>"));
    ASSERT_OK_AND_ASSIGN(keyring_, pgp::OpenGpgKeyRing(team_home_->path()));
    ASSERT_OK_AND_ASSIGN(auto peer, TestGpgHome::Create());
    peer_ = std::make_unique<TestGpgHome>(std::move(peer));
    ASSERT_OK_AND_ASSIGN(peer_fpr_, peer_->GenerateKey("Hosting Abuse <abuse@hosting.example>"));

    incidents_ = std::make_unique<core::Incidents>(*store_, clock_);
    incidents_->SetReporterNotices(&notices_);
    reports_ = std::make_unique<core::Reports>(*store_, clock_);
    contacts_ = std::make_unique<core::Contacts>(*store_, clock_, keyring_.get());
    investigations_ = std::make_unique<core::Investigations>(*store_, clock_, keyring_.get(), kTeam);
    core::MailIngestOptions ingest;
    ingest.team_address = kTeam.team_address;
    ingest.team_name = kTeam.team_name;
    ingest_ = std::make_unique<core::MailIngest>(*store_, clock_, ingest);

    core::Constituencies constituencies(*store_, clock_);
    ASSERT_OK_AND_ASSIGN(const auto a, constituencies.Add(admin_, Constituency("univ-a")));
    ASSERT_OK_AND_ASSIGN(const auto b, constituencies.Add(admin_, Constituency("univ-b")));
    univ_a_ = a.id;
    univ_b_ = b.id;
    ASSERT_OK_AND_ASSIGN(
        incident_, incidents_->Create(admin_, IncidentOf("Phishing site on a customer's server", "fraud/phishing")));
  }

  void TearDown() override {
    for (TestGpgHome* home : {team_home_.get(), peer_.get()}) {
      if (home == nullptr) continue;
      ASSERT_OK(pgp::StopAgent(home->path()));
      ASSERT_OK(home->StopAgent());
    }
    store_.reset();
    database_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string PeerKey() {
    auto armour = peer_->ExportPublicKey(peer_fpr_);
    EXPECT_TRUE(armour) << Describe(armour.error());
    return armour ? *armour : "";
  }

  core::Contact AddContact(const std::string& email, const std::string& clearance, bool with_key) {
    core::ContactDraft draft;
    draft.name = "Abuse desk " + email;
    draft.email = email;
    draft.organisation = "Hosting Example";
    draft.kind = "hosting";
    draft.tlp_clearance = clearance;
    if (with_key) draft.pgp_key = PeerKey();
    auto created = contacts_->Create(admin_, draft);
    EXPECT_TRUE(created) << Describe(created.error());
    return created ? *created : core::Contact{};
  }

  core::Investigation Open(const core::Contact& contact, const std::string& title = "Take the site down") {
    auto opened = investigations_->Open(admin_, incident_.human_id, With(contact.id, title));
    EXPECT_TRUE(opened) << Describe(opened.error());
    return opened ? *opened : core::Investigation{};
  }

  std::vector<MailMessage> IncidentMail(std::int64_t incident_id) {
    std::vector<MailMessage> out;
    EXPECT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(out, r.ListMailForIncident(incident_id));
      return {};
    }));
    return out;
  }

  std::vector<core::AuditEntry> Timeline(const std::string& incident) {
    std::vector<core::AuditEntry> out;
    EXPECT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(out, r.ListAuditForIncident(incident));
      return {};
    }));
    return out;
  }

  std::int64_t JournalLength() {
    std::int64_t n = 0;
    EXPECT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto all, r.ListAudit(0, 100000));
      n = static_cast<std::int64_t>(all.size());
      return {};
    }));
    return n;
  }

  // A message from outside, as the intake pipeline hands it over after parsing.
  Result<core::MailReceipt> Receive(const std::string& message_id, const std::string& from, const std::string& subject,
                                    const std::string& text, const std::string& in_reply_to = "", bool spam = false,
                                    bool automatic = false) {
    core::ReceivedMail received;
    received.mail.message_id = message_id;
    received.mail.from_address = from;
    received.mail.from_name = "Sender";
    received.mail.to = {kTeam.team_address};
    received.mail.subject = subject;
    received.mail.text = text;
    received.mail.in_reply_to = in_reply_to;
    if (!in_reply_to.empty()) received.mail.references = {in_reply_to};
    received.mail.spam = spam;
    received.mail.auto_generated = automatic;
    if (automatic) received.mail.auto_reason = "auto-submitted: auto-replied";
    received.raw_sha256 = common::Sha256Hex(message_id);
    received.raw_size = static_cast<std::int64_t>(text.size());
    received.constituency_id = univ_a_;
    return ingest_->Receive(Principal::LocalOperator(), received);
  }

  std::filesystem::path dir_;
  SettableClock clock_{common::FromMicros(1'795'000'000'000'000)};  // 2026-11-18
  std::unique_ptr<testing::TestDatabase> database_;
  std::unique_ptr<core::Store> store_;
  std::unique_ptr<TestGpgHome> team_home_;
  std::unique_ptr<TestGpgHome> peer_;
  std::string team_fpr_;
  std::string peer_fpr_;
  std::unique_ptr<core::KeyRing> keyring_;
  core::ReporterNotices notices_{kTeam};
  std::unique_ptr<core::Incidents> incidents_;
  std::unique_ptr<core::Reports> reports_;
  std::unique_ptr<core::Contacts> contacts_;
  std::unique_ptr<core::Investigations> investigations_;
  std::unique_ptr<core::MailIngest> ingest_;
  Principal admin_ = Principal::LocalOperator();
  std::int64_t univ_a_ = 0;
  std::int64_t univ_b_ = 0;
  core::Incident incident_;
};

// --- contacts ---

TEST_P(CoordinationTest, AContactsKeyIsImportedAndItsFingerprintKept) {
  const core::Contact contact = AddContact("abuse@hosting.example", "TLP:GREEN", true);
  EXPECT_EQ(contact.pgp_fingerprint, peer_fpr_);
  EXPECT_EQ(contact.tlp_clearance, core::Tlp::kGreen);
  EXPECT_EQ(contact.kind, core::ContactKind::kHosting);
  const core::ContactKey key = contacts_->KeyOf(contact);
  EXPECT_TRUE(key.usable) << key.problem;
  ASSERT_TRUE(key.key.has_value());
  EXPECT_THAT(key.key->user_ids, ElementsAre("Hosting Abuse <abuse@hosting.example>"));
  // The key is in the team's keyring now: gpg itself lists it there.
  ASSERT_OK_AND_ASSIGN(const auto listed, team_home_->Run({"--with-colons", "--list-keys", peer_fpr_}));
  EXPECT_TRUE(listed.succeeded) << listed.err;

  const core::Contact plain = AddContact("noc@isp.example", "TLP:CLEAR", false);
  EXPECT_EQ(plain.pgp_fingerprint, "");
  EXPECT_FALSE(contacts_->KeyOf(plain).usable);
  EXPECT_THAT(contacts_->KeyOf(plain).problem, HasSubstr("no PGP key"));
}

TEST_P(CoordinationTest, UnusableKeysAndBadFieldsAreRefusedAndNothingIsStored) {
  core::ContactDraft draft;
  draft.name = "Old CERT";
  draft.email = "cert@old.example";
  draft.kind = "csirt";

  // A key that expired years ago: mail could never be encrypted to it.
  ASSERT_OK_AND_ASSIGN(TestGpgHome old_party, TestGpgHome::Create());
  old_party.SetFakedSystemTime("20200101T000000");
  ASSERT_OK_AND_ASSIGN(const std::string old_fpr, old_party.GenerateKey("Old <cert@old.example>", {.expire = "1y"}));
  old_party.SetFakedSystemTime("");
  ASSERT_OK_AND_ASSIGN(draft.pgp_key, old_party.ExportPublicKey(old_fpr));
  auto expired = contacts_->Create(admin_, draft);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(expired.error().field(), "/pgp_key");
  EXPECT_THAT(expired.error().message(), HasSubstr("expired"));

  // Two keys in one block: which one is the contact's?
  ASSERT_OK_AND_ASSIGN(const std::string second, old_party.GenerateKey("Second <second@old.example>"));
  ASSERT_OK_AND_ASSIGN(const auto both, old_party.Run({"--armor", "--export", second, peer_fpr_}));
  ASSERT_OK_AND_ASSIGN(const std::string peer_armour, peer_->ExportPublicKey(peer_fpr_));
  draft.pgp_key = both.out + peer_armour;
  auto two = contacts_->Create(admin_, draft);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code(), ErrorCode::kInvalidArgument) << Describe(two.error());
  EXPECT_EQ(two.error().field(), "/pgp_key");

  // A secret key is never taken.
  ASSERT_OK_AND_ASSIGN(const auto secret, old_party.Run({"--armor", "--export-secret-keys", second}));
  draft.pgp_key = secret.out;
  auto refused = contacts_->Create(admin_, draft);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);

  draft.pgp_key.reset();
  draft.email = "not an address";
  auto bad_email = contacts_->Create(admin_, draft);
  ASSERT_FALSE(bad_email);
  EXPECT_EQ(bad_email.error().field(), "/email");
  draft.email = "cert@old.example";
  draft.tlp_clearance = "TLP:PURPLE";
  auto bad_tlp = contacts_->Create(admin_, draft);
  ASSERT_FALSE(bad_tlp);
  EXPECT_EQ(bad_tlp.error().field(), "/tlp_clearance");
  draft.tlp_clearance = "TLP:CLEAR";
  draft.kind = "friend";
  auto bad_kind = contacts_->Create(admin_, draft);
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().field(), "/kind");
  draft.kind = "csirt";
  auto viewer = contacts_->Create(Scoped("vic", core::Role::kViewer, {univ_a_}), draft);
  ASSERT_FALSE(viewer);
  EXPECT_EQ(viewer.error().code(), ErrorCode::kPermissionDenied);

  ASSERT_OK_AND_ASSIGN(const auto all, contacts_->List(admin_));
  EXPECT_THAT(all, IsEmpty());
  ASSERT_OK(old_party.StopAgent());
}

TEST_P(CoordinationTest, ContactsOfAnotherConstituencyAreInvisible) {
  core::ContactDraft shared = ContactOf("Peer CERT", "cert@peer.example", "csirt");
  ASSERT_OK_AND_ASSIGN(const auto peer, contacts_->Create(admin_, shared));
  core::ContactDraft theirs = ContactOf("B's PoC", "poc@b.example", "constituent", "univ-b");
  ASSERT_OK_AND_ASSIGN(const auto b_contact, contacts_->Create(admin_, theirs));

  const Principal hana = Scoped("hana", core::Role::kHandler, {univ_a_});
  core::ContactDraft mine = ContactOf("A's PoC", "poc@a.example", "constituent");
  ASSERT_OK_AND_ASSIGN(const auto a_contact, contacts_->Create(hana, mine));
  EXPECT_EQ(a_contact.constituency_id, univ_a_) << "a scoped handler's contact belongs to their constituency";

  ASSERT_OK_AND_ASSIGN(const auto seen, contacts_->List(hana));
  std::vector<std::string> emails;
  for (const auto& c : seen) emails.push_back(c.email);
  EXPECT_THAT(emails, ElementsAre("cert@peer.example", "poc@a.example"));
  auto hidden = contacts_->Get(hana, b_contact.id);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code(), ErrorCode::kNotFound);
  ASSERT_OK(contacts_->Get(hana, peer.id));

  // Nor can hana open an investigation with it, or name univ-b.
  auto open = investigations_->Open(hana, incident_.human_id, With(b_contact.id, "x"));
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(open.error().field(), "/contact");
  theirs.name = "Another";
  auto foreign = contacts_->Create(hana, theirs);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code(), ErrorCode::kNotFound);
}

// --- investigations and the TLP rule ---

TEST_P(CoordinationTest, AboveTheClearanceInClearTextIsRefusedAndNothingIsQueued) {
  const core::Contact isp = AddContact("noc@isp.example", "TLP:AMBER", false);
  const core::Investigation v = Open(isp);
  EXPECT_THAT(v.id, StartsWith("V-2026-"));
  const auto journal_before = JournalLength();

  auto red = investigations_->Send(admin_, incident_.human_id, v.id,
                                   Message("Customer data", "The leaked table is attached.", "TLP:RED"));
  ASSERT_FALSE(red);
  EXPECT_EQ(red.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(red.error().field(), "/tlp");
  EXPECT_THAT(red.error().message(), HasSubstr("TLP:RED"));
  EXPECT_THAT(red.error().message(), HasSubstr("clear text"));
  EXPECT_THAT(red.error().message(), HasSubstr("TLP:AMBER"));
  EXPECT_THAT(IncidentMail(incident_.id), IsEmpty());
  EXPECT_EQ(JournalLength(), journal_before) << "a refusal writes nothing, not even a journal entry";
  ASSERT_OK_AND_ASSIGN(const auto still, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(still.investigation.state, InvestigationState::kOpen);
  EXPECT_EQ(still.investigation.sent, 0);

  // AMBER+STRICT is above AMBER too; the incident's own TLP (AMBER) is within the clearance.
  auto strict = investigations_->Send(admin_, incident_.human_id, v.id, Message("s", "b", "amber+strict"));
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(const MailMessage clear,
                       investigations_->Send(admin_, incident_.human_id, v.id,
                                             Message("Please take down a phishing page",
                                                     "hxxp://login-bank[.]example/ is hosted at 198.51.100.23.")));
  EXPECT_FALSE(clear.encrypted);
  EXPECT_THAT(core::EncryptionRecipients(clear), IsEmpty());
  EXPECT_THAT(clear.flags, Contains("tlp:AMBER"));
  EXPECT_THAT(clear.text, StartsWith("TLP:AMBER\n\n"));
  EXPECT_EQ(clear.to, std::vector<std::string>{"noc@isp.example"});
  EXPECT_EQ(clear.status, "pending");
  ASSERT_OK_AND_ASSIGN(const auto after, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(after.investigation.state, InvestigationState::kWaiting);
  EXPECT_EQ(after.investigation.sent, 1);
  EXPECT_FALSE(after.key.usable);
}

TEST_P(CoordinationTest, MailToAContactWithAKeyIsEncryptedWhateverItsTlp) {
  const core::Contact hosting = AddContact("abuse@hosting.example", "TLP:CLEAR", true);
  const core::Investigation v = Open(hosting);
  ASSERT_OK_AND_ASSIGN(const MailMessage first, investigations_->Send(admin_, incident_.human_id, v.id,
                                                                      Message("Server logs", "See below.", "TLP:RED")));
  EXPECT_TRUE(first.encrypted);
  EXPECT_THAT(core::EncryptionRecipients(first), ElementsAre(peer_fpr_));
  EXPECT_EQ(first.subject, "[Hikeshi " + incident_.human_id + " " + v.id + "] Server logs");
  EXPECT_EQ(core::MailIngest::TaggedId(first.subject, "Hikeshi"), incident_.human_id);
  EXPECT_EQ(core::TaggedInvestigationId("Re: " + first.subject, "Hikeshi"), v.id);
  EXPECT_THAT(first.text, StartsWith("TLP:RED\n\n"));
  EXPECT_EQ(first.from_address, "csirt@example.net");
  EXPECT_EQ(first.kind, "investigation");
  EXPECT_EQ(first.incident_id, incident_.id);

  // The second message continues the thread.
  ASSERT_OK_AND_ASSIGN(const MailMessage second,
                       investigations_->Send(admin_, incident_.human_id, v.id, Message("Any news?", "Ping.")));
  EXPECT_EQ(second.in_reply_to, first.message_id);
  EXPECT_THAT(second.references, ElementsAre(first.message_id));
  EXPECT_NE(second.message_id, first.message_id);

  // Once the contact's key is revoked, nothing above the clearance goes out; CLEAR still does, in clear.
  ASSERT_OK(peer_->Revoke(peer_fpr_));
  ASSERT_OK_AND_ASSIGN(const std::string revoked, peer_->ExportPublicKey(peer_fpr_));
  ASSERT_OK(keyring_->ImportKeys(revoked));
  ASSERT_OK_AND_ASSIGN(const auto detail, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_FALSE(detail.key.usable);
  EXPECT_THAT(detail.key.problem, HasSubstr("revoked"));
  auto green = investigations_->Send(admin_, incident_.human_id, v.id, Message("s", "b", "GREEN"));
  ASSERT_FALSE(green);
  EXPECT_EQ(green.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(green.error().message(), HasSubstr("revoked"));
  ASSERT_OK_AND_ASSIGN(const MailMessage clear,
                       investigations_->Send(admin_, incident_.human_id, v.id, Message("s", "b", "CLEAR")));
  EXPECT_FALSE(clear.encrypted);
  EXPECT_THAT(core::EncryptionRecipients(clear), IsEmpty());
}

TEST_P(CoordinationTest, StateDueAndWhoMayChangeThem) {
  const core::Contact isp = AddContact("noc@isp.example", "TLP:AMBER", false);
  const core::Investigation v = Open(isp);
  const Timestamp due = clock_.Now() + std::chrono::hours(72);
  ASSERT_OK_AND_ASSIGN(const auto with_due, investigations_->Update(admin_, incident_.human_id, v.id, DueAt(due)));
  EXPECT_EQ(with_due.due, due);
  ASSERT_OK_AND_ASSIGN(const auto closed, investigations_->Update(admin_, incident_.human_id, v.id, StateTo("closed")));
  EXPECT_EQ(closed.state, InvestigationState::kClosed);
  auto send = investigations_->Send(admin_, incident_.human_id, v.id, Message("s", "b"));
  ASSERT_FALSE(send);
  EXPECT_EQ(send.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(send.error().message(), HasSubstr("closed"));

  auto bad = investigations_->Update(admin_, incident_.human_id, v.id, StateTo("pending"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field(), "/state");
  auto viewer =
      investigations_->Update(Scoped("vic", core::Role::kViewer, {univ_a_}), incident_.human_id, v.id, StateTo("open"));
  ASSERT_FALSE(viewer);
  EXPECT_EQ(viewer.error().code(), ErrorCode::kPermissionDenied);
  // A viewer of the constituency may read it; a handler of another may not even find it.
  ASSERT_OK(investigations_->Get(Scoped("vic", core::Role::kViewer, {univ_a_}), incident_.human_id, v.id));
  auto outside = investigations_->List(Scoped("bob", core::Role::kHandler, {univ_b_}), incident_.human_id);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), ErrorCode::kNotFound);
  // An investigation looked up under another incident is not there.
  ASSERT_OK_AND_ASSIGN(const auto other, incidents_->Create(admin_, IncidentOf("Other", "fraud/phishing")));
  auto elsewhere = investigations_->Get(admin_, other.human_id, v.id);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code(), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const auto reopened, investigations_->Update(admin_, incident_.human_id, v.id, StateTo("open")));
  EXPECT_EQ(reopened.state, InvestigationState::kOpen);
  std::vector<std::string> actions;
  for (const auto& e : Timeline(incident_.human_id)) actions.push_back(e.action);
  EXPECT_THAT(actions, Contains("investigation.create"));
  EXPECT_THAT(actions, Contains("investigation.update"));
  EXPECT_THAT(actions, Contains("investigation.close"));
  EXPECT_THAT(actions, Contains("investigation.reopen"));
}

// --- replies ---

TEST_P(CoordinationTest, RepliesThreadIntoTheInvestigationByReferenceOrByTag) {
  const core::Contact hosting = AddContact("abuse@hosting.example", "TLP:AMBER", false);
  const core::Investigation v = Open(hosting);
  ASSERT_OK_AND_ASSIGN(const MailMessage sent,
                       investigations_->Send(admin_, incident_.human_id, v.id, Message("Takedown", "Please.")));
  clock_.Advance(std::chrono::seconds(3600));

  // Their mail client answers with In-Reply-To, and a subject its user rewrote.
  ASSERT_OK_AND_ASSIGN(const auto by_ref, Receive("r1@hosting.example", "abuse@hosting.example", "Ticket #4711 opened",
                                                  "We are looking into it.", sent.message_id));
  EXPECT_EQ(by_ref.outcome, core::MailOutcome::kThreaded);
  EXPECT_EQ(by_ref.incident, incident_.human_id);
  ASSERT_OK_AND_ASSIGN(const auto detail, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(detail.investigation.state, InvestigationState::kAnswered);
  EXPECT_EQ(detail.investigation.replies, 1);
  EXPECT_EQ(detail.investigation.last_reply_at, clock_.Now());
  ASSERT_EQ(detail.mail.size(), 2u);
  EXPECT_EQ(detail.mail[0].message_id, sent.message_id);
  EXPECT_EQ(detail.mail[1].message_id, "r1@hosting.example");
  EXPECT_EQ(detail.mail[1].direction, MailDirection::kIn);

  // A new message with only the tag in its subject (no references) threads too.
  ASSERT_OK_AND_ASSIGN(const auto by_tag,
                       Receive("r2@hosting.example", "other-person@hosting.example",
                               "Re: [Hikeshi " + incident_.human_id + " " + v.id + "] Takedown", "Done."));
  EXPECT_EQ(by_tag.outcome, core::MailOutcome::kThreaded);
  ASSERT_OK_AND_ASSIGN(const auto later, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(later.investigation.replies, 2);
  ASSERT_EQ(later.mail.size(), 3u);
  EXPECT_EQ(later.mail[2].message_id, "r2@hosting.example");

  // A reply to the reply (their colleague's, referencing the first reply) stays in the thread.
  ASSERT_OK_AND_ASSIGN(const auto chained, Receive("r3@hosting.example", "abuse@hosting.example", "Re: Ticket #4711",
                                                   "Closed on our side.", "r1@hosting.example"));
  EXPECT_EQ(chained.outcome, core::MailOutcome::kThreaded);
  ASSERT_OK_AND_ASSIGN(const auto last, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(last.investigation.replies, 3);

  // The incident's timeline shows each reply received and the investigation answered.
  int received = 0;
  int answered = 0;
  for (const auto& e : Timeline(incident_.human_id)) {
    received += e.action == "mail.receive" ? 1 : 0;
    answered += e.action == "investigation.reply" ? 1 : 0;
  }
  EXPECT_EQ(received, 3);
  EXPECT_EQ(answered, 3);

  // A tag naming an investigation that does not exist is threaded by its incident id alone.
  ASSERT_OK_AND_ASSIGN(const auto unknown,
                       Receive("r4@hosting.example", "abuse@hosting.example",
                               "Re: [Hikeshi " + incident_.human_id + " V-2026-999999] ?", "Hello"));
  EXPECT_EQ(unknown.outcome, core::MailOutcome::kThreaded);
  EXPECT_EQ(unknown.incident, incident_.human_id);
  ASSERT_OK_AND_ASSIGN(const auto unchanged, investigations_->Get(admin_, incident_.human_id, v.id));
  EXPECT_EQ(unchanged.investigation.replies, 3);
}

// --- notices to reporters ---

TEST_P(CoordinationTest, ResolvingTellsEachReporterOnceInTheirLanguageAndNeverSpam) {
  ASSERT_OK_AND_ASSIGN(const auto ja,
                       Receive("ja@reporter.example", "taro@reporter.example", "フィッシングサイトの報告",
                               "偽のログインページを見つけました。確認をお願いします。"));
  ASSERT_OK_AND_ASSIGN(const auto again, Receive("ja2@reporter.example", "Taro@Reporter.example", "追加の報告",
                                                 "同じサイトが別のURLでも動いています。"));
  ASSERT_OK_AND_ASSIGN(const auto en, Receive("en@other.example", "alice@other.example", "Phishing page",
                                              "Found a fake login page on your network."));
  ASSERT_OK_AND_ASSIGN(const auto spam,
                       Receive("spam@x.example", "spammer@x.example", "Cheap pills", "Buy now.", "", /*spam=*/true));
  ASSERT_OK_AND_ASSIGN(const auto bot, Receive("bot@y.example", "noreply@y.example", "Automatic report",
                                               "Detected phishing.", "", false, /*automatic=*/true));
  for (const auto& r : {ja, again, en, spam, bot}) {
    ASSERT_OK(reports_->Link(admin_, r.report, incident_.human_id));
  }
  const auto before_resolution = IncidentMail(incident_.id).size();
  ASSERT_OK(incidents_->Update(admin_, incident_.human_id, StatusTo("resolved")));

  std::vector<MailMessage> notices;
  for (auto& m : IncidentMail(incident_.id)) {
    if (m.kind == "notice") notices.push_back(m);
  }
  EXPECT_EQ(IncidentMail(incident_.id).size(), before_resolution + 2);
  ASSERT_EQ(notices.size(), 2u) << "one for taro (two reports), one for alice; none for spam or the bot";
  const MailMessage& to_taro = notices[0];
  EXPECT_EQ(to_taro.to, std::vector<std::string>{"taro@reporter.example"});
  EXPECT_EQ(to_taro.language, "ja");
  EXPECT_EQ(to_taro.subject, "[Hikeshi " + ja.report + "] 対応完了: フィッシングサイトの報告");
  EXPECT_THAT(to_taro.text, HasSubstr("対応を完了しました"));
  EXPECT_THAT(to_taro.text, HasSubstr(incident_.human_id));
  EXPECT_THAT(to_taro.text, Not(HasSubstr(incident_.title))) << "no detail of the incident leaves with a notice";
  EXPECT_EQ(to_taro.in_reply_to, "ja@reporter.example");
  EXPECT_EQ(to_taro.status, "pending");
  const MailMessage& to_alice = notices[1];
  EXPECT_EQ(to_alice.to, std::vector<std::string>{"alice@other.example"});
  EXPECT_EQ(to_alice.language, "en");
  EXPECT_EQ(to_alice.subject, "[Hikeshi " + en.report + "] Resolved: Phishing page");
  EXPECT_THAT(to_alice.text, HasSubstr("has been resolved"));
  EXPECT_EQ(to_alice.from_address, "csirt@example.net");

  // Changing a resolved incident again sends nothing; reopening and resolving again does.
  ASSERT_OK(incidents_->Update(admin_, incident_.human_id, Retitled("Phishing site (taken down)")));
  ASSERT_OK(incidents_->Update(admin_, incident_.human_id, StatusTo("open")));
  EXPECT_EQ(IncidentMail(incident_.id).size(), before_resolution + 2);
  ASSERT_OK(incidents_->Update(admin_, incident_.human_id, StatusTo("resolved")));
  EXPECT_EQ(IncidentMail(incident_.id).size(), before_resolution + 4);
}

TEST_P(CoordinationTest, AnExerciseMailsNoReporter) {
  ASSERT_OK_AND_ASSIGN(
      const auto drill,
      incidents_->Create(admin_, IncidentOf("Drill: ransomware", "malicious-code/infected-system", true)));
  ASSERT_OK_AND_ASSIGN(const auto report, Receive("drill@staff.example", "staff@staff.example", "訓練: 感染報告",
                                                  "訓練です。端末が暗号化されました。"));
  ASSERT_OK(reports_->Link(admin_, report.report, drill.human_id));
  ASSERT_OK(incidents_->Update(admin_, drill.human_id, StatusTo("resolved")));
  std::vector<MailMessage> notices;
  for (auto& m : IncidentMail(drill.id)) {
    if (m.kind == "notice") notices.push_back(m);
  }
  ASSERT_EQ(notices.size(), 1u) << "kept, as what would have been sent";
  EXPECT_EQ(notices[0].status, "suppressed: exercise");
  EXPECT_EQ(notices[0].to, std::vector<std::string>{"staff@staff.example"});

  // The delivery queue never takes it (only the acknowledgement of the report is due).
  std::vector<MailMessage> due;
  ASSERT_OK(store_->Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(due, tx.ClaimOutgoingMail(clock_.Now() + std::chrono::hours(1), "test",
                                          clock_.Now() + std::chrono::hours(2), 100));
    return {};
  }));
  for (const auto& m : due) EXPECT_NE(m.kind, "notice") << m.subject;
}

TEST_P(CoordinationTest, AnExerciseSendsNoInvestigationMail) {
  ASSERT_OK_AND_ASSIGN(const auto drill,
                       incidents_->Create(admin_, IncidentOf("Drill: phishing site", "fraud/phishing", true)));
  const core::Contact hosting = AddContact("abuse@hosting.example", "TLP:AMBER", true);
  ASSERT_OK_AND_ASSIGN(const core::Investigation v,
                       investigations_->Open(admin_, drill.human_id, With(hosting.id, "Take the drill site down")));
  ASSERT_OK_AND_ASSIGN(
      const MailMessage kept,
      investigations_->Send(admin_, drill.human_id, v.id, Message("Drill: please take it down", "訓練です。")));
  EXPECT_EQ(kept.status, "suppressed: exercise");
  EXPECT_EQ(kept.to, std::vector<std::string>{"abuse@hosting.example"}) << "kept as what would have been sent";

  // The same message on a real incident is queued.
  const core::Investigation real = Open(hosting);
  ASSERT_OK_AND_ASSIGN(const MailMessage queued, investigations_->Send(admin_, incident_.human_id, real.id,
                                                                       Message("Please take it down", "Now.")));
  EXPECT_EQ(queued.status, "pending");

  // The delivery queue takes the real one only.
  std::vector<MailMessage> due;
  ASSERT_OK(store_->Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(due, tx.ClaimOutgoingMail(clock_.Now() + std::chrono::hours(1), "test",
                                          clock_.Now() + std::chrono::hours(2), 100));
    return {};
  }));
  std::vector<std::string> subjects;
  for (const auto& m : due) {
    if (m.kind == "investigation") subjects.push_back(m.subject);
  }
  EXPECT_EQ(subjects, std::vector<std::string>{queued.subject});
}

INSTANTIATE_TEST_SUITE_P(Stores, CoordinationTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& store) { return store.param; });

}  // namespace
}  // namespace hikeshi::coordination
