// Coordination with outside parties end to end, through the real `hikeshi` binary: a contact is
// added over the API with a key made by the contact's own gpg; an investigation mail leaves through
// real SMTP to a sink on loopback, PGP/MIME-encrypted, and the contact's gpg decrypts it and finds
// the team's signature good; the contact's reply comes back through `hikeshi mailgate` and threads
// into the investigation. TLP:RED to a contact without a key is refused and nothing leaves. On
// resolution the reporter is told, and an exercise tells nobody. The last test is issue 5's whole
// scenario, from a mail report through triage, playbook, investigation and countermeasure to the
// statistics and SLA clocks.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e_fixture.hpp"
#include "support/gpg_home.hpp"
#include "support/smtp_sink.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kTeam = "csirt@example.net";
const std::string kReporter = "yamada@example.org";
const std::string kProvider = "abuse@hosting.example";

std::string PlainMail(const std::string& message_id, const std::string& from, const std::string& subject,
                      const std::string& body, const std::string& extra_headers = "") {
  return "From: Sender <" + from + ">\r\nTo: " + kTeam + "\r\nSubject: " + subject +
         "\r\nDate: Fri, 27 Nov 2026 09:00:00 +0900\r\nMessage-ID: <" + message_id +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n" +
         extra_headers + "\r\n" + body;
}

// The value of header `name` in a raw message's header block, unfolded ("" when absent).
std::string HeaderOf(const std::string& raw, const std::string& name) {
  std::string head = "\r\n" + raw.substr(0, raw.find("\r\n\r\n"));
  for (std::size_t at;
       (at = head.find("\r\n ")) != std::string::npos || (at = head.find("\r\n\t")) != std::string::npos;) {
    head.erase(at, 2);
  }
  const std::string key = "\r\n" + name + ": ";
  const auto at = head.find(key);
  if (at == std::string::npos) return "";
  const auto start = at + key.size();
  return head.substr(start, head.find("\r\n", start) - start);
}

class CoordinationE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink) << sink.error().message();
    sink_ = std::move(*sink);
    data_ = dir_.path() / "data";
    std::filesystem::create_directories(data_);
    std::ofstream(data_ / "hikeshi.toml")
        << "[mail]\nteam_address = \"" << kTeam << "\"\nteam_name = \"Example CSIRT\"\nsmtp_url = \"" << sink_->url()
        << "\"\ndelivery_interval_ms = 100\n";
    const auto init = RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
    ASSERT_TRUE(token.status.Succeeded()) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));
    server_ = Server::Start(data_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_.reset();
    testing::ChildProcessOptions kill;
    kill.program = "gpgconf";
    kill.args = {"--homedir", (data_ / "gnupg").string(), "--kill", "all"};
    if (auto child = testing::ChildProcess::Spawn(kill)) (void)child->Wait(seconds(10));
  }

  json Call(const std::string& method, const std::string& target, const json& body, int expected) {
    const auto response = server_->Call(method, target, token_, body.is_null() ? "" : body.dump());
    EXPECT_EQ(response.status, expected) << method << " " << target << ": " << response.body;
    return Body(response);
  }
  json Get(const std::string& target) { return Call("GET", target, nullptr, 200); }

  bool Mailgate(const std::string& raw) {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--data", data_.string()};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    if (!child) return false;
    auto status = child->Wait(seconds(60));
    last_err_ = child->Stderr();
    return status && status->Succeeded();
  }

  std::string TeamPublicKey() {
    testing::ChildProcessOptions options;
    options.program = "gpg";
    options.args = {"--batch", "--homedir", (data_ / "gnupg").string(), "--armor", "--export"};
    auto child = testing::ChildProcess::Spawn(options);
    EXPECT_TRUE(child);
    if (!child) return "";
    EXPECT_TRUE(child->Wait(seconds(30)));
    return child->Stdout();
  }

  std::string NewIncident(const std::string& title, bool exercise = false) {
    const json incident =
        Call("POST", "/api/v1/incidents",
             {{"title", title}, {"category", "fraud/phishing"}, {"tlp", "TLP:AMBER"}, {"exercise", exercise}}, 201);
    return incident.value("id", "");
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<Server> server_;
  std::string token_;
  std::string last_err_;
};

TEST_F(CoordinationE2E, InvestigationMailIsEncryptedToTheContactSignedByTheTeamAndTheReplyThreadsBack) {
  auto contact_gpg = testing::TestGpgHome::Create();
  ASSERT_TRUE(contact_gpg);
  auto contact_fpr = contact_gpg->GenerateKey("Hosting Abuse <abuse@hosting.example>");
  ASSERT_TRUE(contact_fpr) << contact_fpr.error().message();
  ASSERT_TRUE(contact_gpg->ImportKeys(TeamPublicKey()));
  auto team_listed = contact_gpg->Run({"--with-colons", "--list-keys", kTeam});
  ASSERT_TRUE(team_listed && team_listed->succeeded);
  const auto fpr_at = team_listed->out.find("\nfpr:::::::::");
  ASSERT_NE(fpr_at, std::string::npos);
  const std::string team_fpr = team_listed->out.substr(fpr_at + 13, 40);
  auto armour = contact_gpg->ExportPublicKey(*contact_fpr);
  ASSERT_TRUE(armour);

  const json contact = Call("POST", "/api/v1/contacts",
                            {{"name", "Abuse desk"},
                             {"email", "abuse@hosting.example"},
                             {"organisation", "Hosting Example KK"},
                             {"kind", "hosting"},
                             {"tlp_clearance", "TLP:GREEN"},
                             {"pgp_key", *armour}},
                            201);
  EXPECT_EQ(contact["pgp_fingerprint"], *contact_fpr);
  EXPECT_EQ(contact["pgp"]["usable"], true);
  EXPECT_EQ(contact["tlp_clearance"], "TLP:GREEN");
  const json listed = Get("/api/v1/contacts")["items"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["email"], "abuse@hosting.example");

  const std::string incident = NewIncident("Phishing kit on a hosted server");
  const json opened =
      Call("POST", "/api/v1/incidents/" + incident + "/investigations",
           {{"contact", contact["id"]}, {"title", "Takedown"}, {"due", "2026-12-01T09:00:00+09:00"}}, 201);
  const std::string v = opened.value("id", "");
  ASSERT_THAT(v, StartsWith("V-"));
  EXPECT_EQ(opened["encryption"], "pgp");
  EXPECT_EQ(opened["contact_tlp_clearance"], "TLP:GREEN");
  EXPECT_EQ(opened["due"], "2026-12-01T00:00:00.000000Z");
  const std::string base = "/api/v1/incidents/" + incident + "/investigations/" + v;

  // TLP:AMBER (the incident's) is above the contact's clearance, and goes because it is encrypted.
  const std::string marker = "kit at hxxp://login-bank[.]example/ on 198.51.100.23, marker 7f3a";
  const json queued =
      Call("POST", base + "/messages", {{"subject", "Phishing kit on your network"}, {"body", marker}}, 202);
  EXPECT_EQ(queued["kind"], "investigation");
  EXPECT_EQ(queued["status"], "pending");
  auto arrived = sink_->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(arrived) << arrived.error().message();
  const auto& sent = (*arrived)[0];
  EXPECT_THAT(sent.recipients, ElementsAre("abuse@hosting.example"));
  EXPECT_EQ(sent.mail_from, kTeam);
  EXPECT_THAT(HeaderOf(sent.data, "Subject"), HasSubstr("[Hikeshi " + incident + " " + v + "]"));
  EXPECT_THAT(HeaderOf(sent.data, "Content-Type"), HasSubstr("multipart/encrypted"));
  EXPECT_THAT(HeaderOf(sent.data, "Content-Type"), HasSubstr("application/pgp-encrypted"));
  EXPECT_THAT(sent.data, Not(HasSubstr("marker 7f3a"))) << "nothing of the text in clear";
  EXPECT_THAT(sent.data, Not(HasSubstr("198.51.100.23")));

  // The contact's own gpg decrypts it and finds it signed by the team's key.
  const auto begin = sent.data.find("-----BEGIN PGP MESSAGE-----");
  const auto end = sent.data.find("-----END PGP MESSAGE-----");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  auto decrypted = contact_gpg->Decrypt(sent.data.substr(begin, end + 25 - begin));
  ASSERT_TRUE(decrypted);
  EXPECT_TRUE(decrypted->succeeded) << decrypted->err;
  EXPECT_TRUE(decrypted->HasStatus("DECRYPTION_OKAY")) << decrypted->err;
  EXPECT_TRUE(decrypted->HasStatus("GOODSIG")) << decrypted->err;
  EXPECT_TRUE(decrypted->HasStatus("VALIDSIG", team_fpr)) << decrypted->err;
  EXPECT_THAT(decrypted->out, HasSubstr("TLP:AMBER"));
  EXPECT_THAT(decrypted->out, HasSubstr("marker 7f3a"));
  // And nobody else can: a stranger's gpg cannot read it.
  auto stranger = testing::TestGpgHome::Create();
  ASSERT_TRUE(stranger);
  ASSERT_TRUE(stranger->GenerateKey("Stranger <s@stranger.example>"));
  auto not_for_them = stranger->Decrypt(sent.data.substr(begin, end + 25 - begin));
  ASSERT_TRUE(not_for_them);
  EXPECT_FALSE(not_for_them->succeeded);

  // The contact answers; their client sets In-Reply-To to our Message-ID.
  const std::string our_id = HeaderOf(sent.data, "Message-ID");
  ASSERT_THAT(our_id, StartsWith("<inv." + v + "."));
  ASSERT_TRUE(Mailgate(PlainMail("ticket-4711@hosting.example", "abuse@hosting.example", "Ticket #4711: taken down",
                                 "We removed the kit at 10:12 JST.\r\n",
                                 "In-Reply-To: " + our_id + "\r\nReferences: " + our_id + "\r\n")))
      << last_err_;
  EXPECT_THAT(last_err_, HasSubstr("threaded"));

  // The delivery worker records the send just after the relay took it.
  for (int i = 0; i < 100 && Get(base)["mail"][0]["status"] != "sent"; ++i)
    std::this_thread::sleep_for(milliseconds(100));
  const json after = Get(base);
  EXPECT_EQ(after["state"], "answered");
  EXPECT_EQ(after["mail"][0]["status"], "sent");
  EXPECT_EQ(after["sent"], 1);
  EXPECT_EQ(after["replies"], 1);
  ASSERT_EQ(after["mail"].size(), 2u);
  EXPECT_EQ(after["mail"][0]["direction"], "out");
  EXPECT_EQ(after["mail"][0]["pgp"]["encrypted"], true);
  EXPECT_EQ(after["mail"][1]["direction"], "in");
  EXPECT_EQ(after["mail"][1]["message_id"], "ticket-4711@hosting.example");
  EXPECT_THAT(after["mail"][1]["text"].get<std::string>(), HasSubstr("removed the kit"));
  EXPECT_EQ(Get("/api/v1/reports")["items"].size(), 0u) << "a reply opens no report";

  std::vector<std::string> actions;
  const json timeline = Get("/api/v1/incidents/" + incident + "/timeline")["items"];
  for (const auto& e : timeline) actions.push_back(e["action"]);
  EXPECT_THAT(actions, ::testing::IsSupersetOf({"investigation.create", "mail.queue", "investigation.send", "mail.sent",
                                                "mail.receive", "investigation.reply"}));
  const json list = Get("/api/v1/incidents/" + incident + "/investigations")["items"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["contact"]["email"], "abuse@hosting.example");
  EXPECT_EQ(list[0]["state"], "answered");

  // Closed, it takes no more messages.
  EXPECT_EQ(Call("PATCH", base, {{"state", "closed"}, {"due", nullptr}}, 200)["due"], nullptr);
  Call("POST", base + "/messages", {{"subject", "s"}, {"body", "b"}}, 409);
  server_.reset();
  const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.err;
  ASSERT_TRUE(contact_gpg->StopAgent());
  ASSERT_TRUE(stranger->StopAgent());
}

TEST_F(CoordinationE2E, RedToAContactWithoutAKeyIsRefusedAndNothingLeaves) {
  const json isp =
      Call("POST", "/api/v1/contacts",
           {{"name", "NOC"}, {"email", "noc@isp.example"}, {"kind", "isp"}, {"tlp_clearance", "TLP:AMBER"}}, 201);
  EXPECT_EQ(isp["pgp_fingerprint"], nullptr);
  EXPECT_EQ(isp["pgp"]["usable"], false);
  const std::string incident = NewIncident("Scanning from a customer line");
  const json opened = Call("POST", "/api/v1/incidents/" + incident + "/investigations",
                           {{"contact", isp["id"]}, {"title", "Who?"}}, 201);
  EXPECT_EQ(opened["encryption"], "none");
  EXPECT_THAT(opened["encryption_problem"].get<std::string>(), HasSubstr("no PGP key"));
  EXPECT_EQ(opened["contact_tlp_clearance"], "TLP:AMBER");
  const std::string base = "/api/v1/incidents/" + incident + "/investigations/" + opened.value("id", "");

  const json refused =
      Call("POST", base + "/messages",
           {{"subject", "Victim list"}, {"body", "Names of the victims: ..."}, {"tlp", "TLP:RED"}}, 409);
  EXPECT_THAT(refused.value("detail", ""), HasSubstr("clear text"));
  EXPECT_EQ(refused.value("status", 0), 409);
  const json unchanged = Get(base);
  EXPECT_EQ(unchanged["mail"].size(), 0u);
  EXPECT_EQ(unchanged["sent"], 0);
  EXPECT_EQ(unchanged["state"], "open");
  EXPECT_EQ(Get("/api/v1/incidents/" + incident + "/mail")["items"].size(), 0u);

  // What the clearance allows goes out, in clear: so the worker was running all along, and the
  // refused message really never left.
  Call("POST", base + "/messages",
       {{"subject", "Scanning from 203.0.113.50"}, {"body", "Please check the line."}, {"tlp", "TLP:GREEN"}}, 202);
  auto arrived = sink_->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(arrived) << arrived.error().message();
  std::this_thread::sleep_for(milliseconds(500));
  const auto all = sink_->Messages();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_THAT(all[0].data, HasSubstr("Please check the line."));
  EXPECT_THAT(all[0].data, HasSubstr("TLP:GREEN"));
  EXPECT_THAT(all[0].data, Not(HasSubstr("Victim")));
  EXPECT_THAT(HeaderOf(all[0].data, "Content-Type"), HasSubstr("multipart/signed"));
}

TEST_F(CoordinationE2E, OnResolutionTheReporterIsToldButAnExerciseTellsNobody) {
  ASSERT_TRUE(Mailgate(PlainMail("r1@reporter.example", "alice@reporter.example", "Phishing page",
                                 "A fake bank login at http://login-bank.example/\r\n")))
      << last_err_;
  ASSERT_TRUE(
      Mailgate(PlainMail("r2@drill.example", "staff@drill.example", "Drill: infected PC", "This is a drill.\r\n")))
      << last_err_;
  auto acks = sink_->WaitForMessages(2, seconds(30));
  ASSERT_TRUE(acks) << acks.error().message();
  std::string alice_report;
  std::string drill_report;
  const json reports = Get("/api/v1/reports")["items"];
  for (const auto& r : reports) {
    (r["subject"] == "Phishing page" ? alice_report : drill_report) = r["id"].get<std::string>();
  }
  // The incident each report belongs to: the one triage opened for it at intake, or a new one.
  auto incident_of = [&](const std::string& report, const std::string& title, bool exercise) {
    const json found = Get("/api/v1/reports/" + report);
    if (found["incident"].is_string()) {
      const std::string id = found["incident"];
      if (exercise) Call("PATCH", "/api/v1/incidents/" + id, {{"exercise", true}}, 200);
      return id;
    }
    const std::string id = NewIncident(title, exercise);
    Call("POST", "/api/v1/reports/" + report + "/link", {{"incident", id}}, 200);
    return id;
  };
  const std::string real = incident_of(alice_report, "Phishing", false);
  const std::string drill = incident_of(drill_report, "Drill", true);
  ASSERT_NE(real, drill);

  Call("PATCH", "/api/v1/incidents/" + drill, {{"status", "resolved"}}, 200);
  Call("PATCH", "/api/v1/incidents/" + real, {{"status", "resolved"}}, 200);
  auto all = sink_->WaitForMessages(3, seconds(30));
  ASSERT_TRUE(all) << all.error().message();
  std::this_thread::sleep_for(milliseconds(800));
  const auto messages = sink_->Messages();
  ASSERT_EQ(messages.size(), 3u) << "two acknowledgements and one notice";
  const auto& notice = messages[2];
  EXPECT_THAT(notice.recipients, ElementsAre("alice@reporter.example"));
  EXPECT_THAT(HeaderOf(notice.data, "Subject"), HasSubstr("[Hikeshi " + alice_report + "] Resolved: Phishing page"));
  EXPECT_EQ(HeaderOf(notice.data, "In-Reply-To"), "<r1@reporter.example>");
  EXPECT_EQ(HeaderOf(notice.data, "Auto-Submitted"), "auto-generated");
  EXPECT_THAT(notice.data, HasSubstr(real));

  // The drill's notice is on record, as never sent.
  std::vector<json> drill_notices;
  const json drill_mail = Get("/api/v1/incidents/" + drill + "/mail")["items"];
  for (const auto& m : drill_mail) {
    if (m["kind"] == "notice") drill_notices.push_back(m);
  }
  ASSERT_EQ(drill_notices.size(), 1u);
  EXPECT_EQ(drill_notices[0]["status"], "suppressed: exercise");
  EXPECT_THAT(drill_notices[0]["to"], ElementsAre("staff@drill.example"));
}

// The messages the sink has received to `recipient`, waiting up to 30 s for `at_least` of them.
std::vector<testing::SinkMessage> MailTo(const testing::SmtpSink& sink, const std::string& recipient,
                                         std::size_t at_least) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  for (;;) {
    std::vector<testing::SinkMessage> out;
    for (const auto& m : sink.Messages()) {
      for (const auto& r : m.recipients) {
        if (r == recipient) out.push_back(m);
      }
    }
    if (out.size() >= at_least || std::chrono::steady_clock::now() > deadline) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Issue 5's scenario, with nothing but what `hikeshi init` sets up (its default triage rules and
// playbooks): a phishing report arrives by mail; the default "phishing" rule triages it to P2 with
// the phishing playbook, whose tasks appear; an investigation mail goes to the hosting provider,
// encrypted to its key, which decrypts it; the provider's reply threads back; a countermeasure is
// activated; the incident is resolved and the reporter told; the statistics count it, and its SLA
// clocks stopped at the journal entries that really did it.
TEST_F(CoordinationE2E, APhishingReportByMailIsTriagedWorkedWithAProviderResolvedAndCounted) {
  // 1. The report arrives by mail.
  ASSERT_TRUE(
      Mailgate("From: Taro Yamada <" + kReporter + ">\r\nTo: " + kTeam +
               "\r\nSubject: =?UTF-8?B?44OV44Kj44OD44K344Oz44Kw44K144Kk44OI44Gu5aCx5ZGK?="  // フィッシングサイトの報告
               "\r\nDate: Fri, 27 Nov 2026 09:00:00 +0900\r\nMessage-ID: <report-1@example.org>\r\nMIME-Version: 1.0"
               "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "銀行を装ったフィッシングサイトを見つけました: hxxp://login-bank[.]example/ (198.51.100.23)\r\n"))
      << last_err_;
  const json reports = Get("/api/v1/reports")["items"];
  ASSERT_EQ(reports.size(), 1u);
  const std::string report = reports[0]["id"];
  EXPECT_EQ(reports[0]["channel"], "mail");

  // The reporter gets an acknowledgement naming the tracking id.
  const auto acks = MailTo(*sink_, kReporter, 1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_THAT(acks[0].data, HasSubstr(report));

  // 2. Triaged by the default "phishing" rule: P2, an incident opened with the phishing playbook.
  const json triage = Get("/api/v1/reports/" + report + "/triage");
  EXPECT_EQ(triage["rule_id"], "phishing");
  EXPECT_EQ(triage["rule_set_version"], 1);
  ASSERT_TRUE(triage["incident"].is_string()) << triage.dump();
  const std::string incident = triage["incident"];
  const json opened = Get("/api/v1/incidents/" + incident);
  EXPECT_EQ(opened["priority"], "P2");
  EXPECT_EQ(opened["category"], "fraud/phishing");
  EXPECT_EQ(Get("/api/v1/reports/" + report)["status"], "linked");
  const json tasks = Get("/api/v1/incidents/" + incident + "/tasks")["items"];
  ASSERT_FALSE(tasks.empty());
  for (const auto& t : tasks) EXPECT_THAT(t["playbook"].get<std::string>(), StartsWith("phishing@"));

  // 3. An investigation with the hosting provider, whose key we hold.
  auto provider_gpg = testing::TestGpgHome::Create();
  ASSERT_TRUE(provider_gpg);
  auto provider_fpr = provider_gpg->GenerateKey("Hosting Abuse <" + kProvider + ">");
  ASSERT_TRUE(provider_fpr) << provider_fpr.error().message();
  auto armour = provider_gpg->ExportPublicKey(*provider_fpr);
  ASSERT_TRUE(armour);
  const json contact = Call("POST", "/api/v1/contacts",
                            {{"name", "Abuse desk"},
                             {"email", kProvider},
                             {"organisation", "Hosting Example KK"},
                             {"kind", "hosting"},
                             {"tlp_clearance", "TLP:GREEN"},
                             {"pgp_key", *armour}},
                            201);
  const json investigation = Call("POST", "/api/v1/incidents/" + incident + "/investigations",
                                  {{"contact", contact["id"]}, {"title", "Takedown request"}}, 201);
  const std::string v = investigation["id"];
  EXPECT_EQ(investigation["encryption"], "pgp");
  const std::string base = "/api/v1/incidents/" + incident + "/investigations/" + v;
  Call("POST", base + "/messages",
       {{"subject", "Phishing site on your network"}, {"body", "Please take down 198.51.100.23, ref 5c1e"}}, 202);
  const auto to_provider = MailTo(*sink_, kProvider, 1);
  ASSERT_EQ(to_provider.size(), 1u);
  const auto& sent = to_provider[0];
  EXPECT_THAT(HeaderOf(sent.data, "Content-Type"), HasSubstr("multipart/encrypted"));
  EXPECT_THAT(sent.data, Not(HasSubstr("ref 5c1e")));
  const auto begin = sent.data.find("-----BEGIN PGP MESSAGE-----");
  const auto end = sent.data.find("-----END PGP MESSAGE-----");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  auto decrypted = provider_gpg->Decrypt(sent.data.substr(begin, end + 25 - begin));
  ASSERT_TRUE(decrypted);
  EXPECT_TRUE(decrypted->HasStatus("DECRYPTION_OKAY")) << decrypted->err;
  EXPECT_THAT(decrypted->out, HasSubstr("ref 5c1e"));

  // 4. The provider's reply threads back into the investigation.
  const std::string sent_id = HeaderOf(sent.data, "Message-ID");
  ASSERT_FALSE(sent_id.empty());
  ASSERT_TRUE(
      Mailgate("From: Hosting Abuse <" + kProvider + ">\r\nTo: " + kTeam +
               "\r\nSubject: Re: Phishing site on your network\r\nDate: Fri, 27 Nov 2026 10:00:00 +0900"
               "\r\nMessage-ID: <reply-1@hosting.example>\r\nIn-Reply-To: " +
               sent_id + "\r\nReferences: " + sent_id +
               "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe site is down now.\r\n"))
      << last_err_;
  const json answered = Get(base);
  EXPECT_EQ(answered["state"], "answered");
  EXPECT_THAT(answered["mail"].dump(), HasSubstr("The site is down now."));
  EXPECT_EQ(Get("/api/v1/reports")["items"].size(), 1u) << "the reply opened no report of its own";

  // 5. A countermeasure, activated.
  const json cm = Call("POST", "/api/v1/incidents/" + incident + "/countermeasures",
                       {{"kind", "block-domain"}, {"target", "login-bank.example"}, {"where", "resolver RPZ"}}, 201);
  const json active = Call("PATCH", "/api/v1/incidents/" + incident + "/countermeasures/" + cm["id"].get<std::string>(),
                           {{"state", "active"}}, 200);
  EXPECT_EQ(active["state"], "active");

  // 6. Resolved, and the reporter is told.
  Call("PATCH", "/api/v1/incidents/" + incident, {{"status", "resolved"}}, 200);
  const auto to_reporter = MailTo(*sink_, kReporter, 2);
  ASSERT_EQ(to_reporter.size(), 2u) << "the acknowledgement, then the resolution notice";
  EXPECT_THAT(to_reporter[1].data, HasSubstr(report));

  // 7. Counted in the statistics, and the clocks stopped where the journal says.
  const json stats = Get("/api/v1/stats?group=rsit");
  EXPECT_EQ(stats["incidents"], 1);
  EXPECT_EQ(stats["categories"]["fraud/phishing"], 1);
  EXPECT_EQ(stats["channels"]["mail"], 1);
  EXPECT_EQ(stats["status"]["resolved"], 1);
  const json sla = Get("/api/v1/incidents/" + incident + "/sla");
  EXPECT_EQ(sla["priority"], 2);
  std::map<std::string, json> clocks;
  for (const auto& c : sla["clocks"]) clocks[c["clock"]] = c;
  ASSERT_EQ(clocks.size(), 4u);
  for (const auto& [name, c] : clocks) EXPECT_EQ(c["state"], "met") << name << ": " << c.dump();
  EXPECT_EQ(clocks["acknowledge"]["stopped_by"]["action"], "mail.sent");
  EXPECT_THAT(clocks["triage"]["stopped_by"]["action"].get<std::string>(), StartsWith("incident.create"));
  EXPECT_EQ(clocks["first-response"]["stopped_by"]["action"], "mail.queue") << clocks["first-response"].dump();
  EXPECT_EQ(clocks["resolution"]["stopped_by"]["action"].get<std::string>().substr(0, 9), "incident.");
  EXPECT_EQ(stats["sla"]["all"]["breached"], 0);

  // And the journal behind all of it verifies.
  const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.out << verify.err;
}

}  // namespace
}  // namespace hikeshi::e2e
