// Mail intake end to end, through the real `hikeshi` binary: the MTA pipe (`hikeshi mailgate`), the
// LMTP listener of `hikeshi serve --lmtp`, and `hikeshi ingest mail`. Acknowledgements leave through
// real SMTP to an SMTP server on loopback (tests/support/smtp_sink) and are checked as a reporter's
// mail client would see them; PGP mail is made by an outside party's real gpg.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "e2e_fixture.hpp"
#include "support/gpg_home.hpp"
#include "support/smtp_sink.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kTeam = "csirt@example.net";

std::string Write(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A plain report as a person's mail client sends it.
std::string PlainMail(const std::string& message_id, const std::string& from, const std::string& subject,
                      const std::string& body, const std::string& extra_headers = "") {
  return "From: Reporter <" + from + ">\r\nTo: " + kTeam + "\r\nSubject: " + subject +
         "\r\nDate: Fri, 27 Nov 2026 09:00:00 +0900\r\nMessage-ID: <" + message_id +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n" +
         extra_headers + "\r\n" + body;
}

class MailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink) << sink.error().message();
    sink_ = std::move(*sink);
    data_ = dir_.path() / "data";
    // The configuration first: init names the team's PGP key after the team address.
    Write(data_ / "hikeshi.toml", "[mail]\nteam_address = \"" + kTeam +
                                      "\"\nteam_name = \"Example CSIRT\"\nsmtp_url = \"" + sink_->url() +
                                      "\"\ndelivery_interval_ms = 100\nacks_per_sender = 3\n");
    const auto init = RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
    ASSERT_TRUE(token.status.Succeeded()) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));
  }
  void TearDown() override {
    server_.reset();
    // The team keyring's gpg-agent, started by decryption, must not outlive the test.
    testing::ChildProcessOptions kill;
    kill.program = "gpgconf";
    kill.args = {"--homedir", (data_ / "gnupg").string(), "--kill", "all"};
    if (auto child = testing::ChildProcess::Spawn(kill)) (void)child->Wait(seconds(10));
  }

  testing::ExitStatus Mailgate(const std::string& raw, const std::filesystem::path& data) {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--data", data.string()};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    EXPECT_TRUE(child) << child.error().message();
    if (!child) return {};
    auto status = child->Wait(seconds(60));
    EXPECT_TRUE(status) << "mailgate did not finish";
    last_err_ = child->Stderr();
    return status ? *status : testing::ExitStatus{};
  }
  testing::ExitStatus Mailgate(const std::string& raw) { return Mailgate(raw, data_); }

  void Serve(std::vector<std::string> flags = {}) {
    server_ = Server::Start(data_, flags);
    ASSERT_NE(server_, nullptr);
  }
  json Get(const std::string& target) {
    const auto response = server_->Call("GET", target, token_);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return Body(response);
  }
  // Every report, newest first.
  json Reports(const std::string& query = "") { return Get("/api/v1/reports" + query)["items"]; }
  json MailOf(const std::string& report) { return Get("/api/v1/reports/" + report + "/mail")["items"]; }
  // The team's public key, as the team would publish it.
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
  void ImportIntoTeamKeyring(const std::string& armoured) {
    testing::ChildProcessOptions options;
    options.program = "gpg";
    options.args = {"--batch", "--homedir", (data_ / "gnupg").string(), "--import"};
    options.stdin_data = armoured;
    auto child = testing::ChildProcess::Spawn(options);
    ASSERT_TRUE(child);
    auto status = child->Wait(seconds(30));
    ASSERT_TRUE(status && status->Succeeded()) << child->Stderr();
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<Server> server_;
  std::string token_;
  std::string last_err_;
};

TEST_F(MailTest, MailgateStoresOnceAndTheReporterGetsOneSignedAcknowledgement) {
  const std::string raw = PlainMail("first@reporter.example", "alice@reporter.example",
                                    "Phishing site at hxxp://login-bank[.]example/verify",
                                    "Our users got mail pointing to http://login-bank.example/verify from "
                                    "198.51.100.23.\r\n");
  EXPECT_TRUE(Mailgate(raw).Succeeded()) << last_err_;
  EXPECT_TRUE(Mailgate(raw).Succeeded()) << "a redelivery is accepted too: " << last_err_;
  EXPECT_THAT(last_err_, HasSubstr("duplicate"));

  Serve();
  auto acks = sink_->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(acks) << acks.error().message();
  const json reports = Reports();
  ASSERT_EQ(reports.size(), 1u) << "the redelivery made no second report";
  const std::string id = reports[0]["id"];
  EXPECT_EQ(reports[0]["channel"], "mail");
  std::vector<std::string> values;
  for (const auto& o : reports[0]["observables"]) values.push_back(o["value"]);
  EXPECT_THAT(values, ::testing::IsSupersetOf({"198.51.100.23", "http://login-bank.example/verify"}));

  const auto& ack = (*acks)[0];
  EXPECT_EQ(ack.mail_from, "") << "automatic replies go out with a null sender (RFC 3834)";
  EXPECT_THAT(ack.recipients, ::testing::ElementsAre("alice@reporter.example"));
  EXPECT_THAT(ack.data, HasSubstr("Auto-Submitted: auto-replied"));
  EXPECT_THAT(ack.data, HasSubstr("[Hikeshi " + id + "]"));
  EXPECT_THAT(ack.data, HasSubstr("In-Reply-To: <first@reporter.example>"));
  EXPECT_THAT(ack.data, HasSubstr("multipart/signed"));

  // The reporter's gpg, holding our published key, finds the signature good.
  auto reporter = testing::TestGpgHome::Create();
  ASSERT_TRUE(reporter);
  ASSERT_TRUE(reporter->ImportKeys(TeamPublicKey()));
  const std::string boundary_marker = "boundary=\"";
  const auto b = ack.data.find(boundary_marker);
  ASSERT_NE(b, std::string::npos);
  const std::string boundary = ack.data.substr(
      b + boundary_marker.size(), ack.data.find('"', b + boundary_marker.size()) - b - boundary_marker.size());
  const std::string delimiter = "\r\n--" + boundary + "\r\n";
  const auto first = ack.data.find(delimiter);
  const auto second = ack.data.find(delimiter, first + delimiter.size());
  ASSERT_NE(second, std::string::npos);
  const std::string signed_part = ack.data.substr(first + delimiter.size(), second - first - delimiter.size());
  const auto sig_start = ack.data.find("-----BEGIN PGP SIGNATURE-----", second);
  const auto sig_end = ack.data.find("-----END PGP SIGNATURE-----", sig_start);
  ASSERT_NE(sig_end, std::string::npos);
  const std::string signature = ack.data.substr(sig_start, sig_end - sig_start + 27) + "\r\n";
  auto verified = reporter->VerifyDetached(signed_part, signature);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->succeeded && verified->HasStatus("GOODSIG")) << verified->err;
  EXPECT_THAT(signed_part, HasSubstr(id));

  // The API shows the message that opened the report and the acknowledgement, sent.
  const json mail = MailOf(id);
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_EQ(mail[0]["direction"], "in");
  EXPECT_EQ(mail[0]["message_id"], "first@reporter.example");
  EXPECT_EQ(mail[0]["status"], "queued");
  EXPECT_EQ(mail[1]["direction"], "out");
  EXPECT_EQ(mail[1]["kind"], "ack");
  for (int i = 0; i < 50 && Get("/api/v1/reports/" + id + "/mail")["items"][1]["status"] != "sent"; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(MailOf(id)[1]["status"], "sent");
  EXPECT_EQ(sink_->Messages().size(), 1u) << "one acknowledgement, not one per delivery";
  const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.err;
}

TEST_F(MailTest, SpamAutomaticMailAndOurOwnMailAreStoredButNeverAnswered) {
  const std::vector<std::string> quiet = {
      PlainMail("spam@x.example", "seller@x.example", "Cheap watches", "buy\r\n", "X-Spam-Flag: YES\r\n"),
      PlainMail("auto@x.example", "bob@x.example", "Out of office", "away\r\n", "Auto-Submitted: auto-replied\r\n"),
      PlainMail("list@x.example", "list@x.example", "Digest", "news\r\n", "Precedence: bulk\r\n"),
      "From: MAILER-DAEMON@x.example\r\nTo: " + kTeam +
          "\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@x.example>\r\n"
          "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
          "--b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
          "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n"
          "Final-Recipient: rfc822; nobody@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n",
      PlainMail("own@example.net", kTeam, "Our own message", "loop?\r\n"),
  };
  for (const auto& raw : quiet) EXPECT_TRUE(Mailgate(raw).Succeeded()) << last_err_;
  // One ordinary report last: once its acknowledgement is in, any other would have been too.
  EXPECT_TRUE(Mailgate(PlainMail("real@y.example", "carol@y.example", "Scan", "from 203.0.113.9\r\n")).Succeeded());
  Serve();
  auto acks = sink_->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(acks) << acks.error().message();
  std::this_thread::sleep_for(milliseconds(500));
  const auto all = sink_->Messages();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_THAT(all[0].recipients, ::testing::ElementsAre("carol@y.example"));
  EXPECT_EQ(Reports().size(), 6u) << "nothing received is lost";
  const json spam = Reports("?flag=spam");
  ASSERT_EQ(spam.size(), 1u);
  EXPECT_EQ(MailOf(spam[0]["id"])[0]["status"], "suppressed: spam");
}

TEST_F(MailTest, AStoreThatCannotBeOpenedMakesTheMtaRetry) {
  const std::string raw = PlainMail("m@x.example", "a@x.example", "Hello", "text\r\n");
  EXPECT_EQ(Mailgate(raw, dir_.path() / "no-such-data").code, 75) << last_err_;
  // A store file that is not a database.
  const auto broken = dir_.path() / "broken";
  const auto init = RunCli({"init", "--data", broken.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.err;
  Write(broken / "hikeshi.db", std::string(8192, 'x'));
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(broken / (std::string("hikeshi.db") + suffix));
  const auto status = Mailgate(raw, broken);
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 75) << last_err_;
  EXPECT_THAT(last_err_, HasSubstr("try again later"));
  // The blob key gone: mail could not be stored readable, so it is not accepted.
  std::filesystem::remove(data_ / "keys" / "blob.key");
  EXPECT_EQ(Mailgate(raw).code, 75) << last_err_;
}

TEST_F(MailTest, RepliesThreadIntoTheReportInsteadOfOpeningNewOnes) {
  ASSERT_TRUE(Mailgate(PlainMail("orig@r.example", "dave@r.example", "Defacement", "our site\r\n")).Succeeded());
  Serve();
  auto acks = sink_->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(acks) << acks.error().message();
  const std::string id = Reports()[0]["id"];
  // The reporter answers our acknowledgement: the subject keeps the tag, References name our mail.
  const auto ack_id_at = (*acks)[0].data.find("Message-ID: <");
  ASSERT_NE(ack_id_at, std::string::npos);
  const std::string ack_id =
      (*acks)[0].data.substr(ack_id_at + 13, (*acks)[0].data.find('>', ack_id_at) - ack_id_at - 13);
  ASSERT_TRUE(Mailgate(PlainMail("reply@r.example", "dave@r.example", "Re: [Hikeshi " + id + "] Received: Defacement",
                                 "More: the attacker used 192.0.2.44\r\n",
                                 "In-Reply-To: <" + ack_id + ">\r\nReferences: <orig@r.example> <" + ack_id + ">\r\n"))
                  .Succeeded());
  EXPECT_THAT(last_err_, HasSubstr("threaded"));
  EXPECT_EQ(Reports().size(), 1u);
  const json mail = MailOf(id);
  ASSERT_EQ(mail.size(), 3u);
  EXPECT_EQ(mail[2]["kind"], "reply");
  EXPECT_THAT(mail[2]["text"].get<std::string>(), HasSubstr("192.0.2.44"));
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(sink_->Messages().size(), 1u) << "replies are not acknowledged";
}

TEST_F(MailTest, PgpMailIsDecryptedAndItsSignatureRecorded) {
  auto reporter = testing::TestGpgHome::Create();
  ASSERT_TRUE(reporter);
  auto reporter_fpr = reporter->GenerateKey("Peer CSIRT <peer@csirt.example>");
  ASSERT_TRUE(reporter_fpr) << reporter_fpr.error().message();
  ASSERT_TRUE(reporter->ImportKeys(TeamPublicKey()));
  auto team_list = reporter->Run({"--with-colons", "--list-keys", kTeam});
  ASSERT_TRUE(team_list && team_list->succeeded) << (team_list ? team_list->err : "");
  auto peer_key = reporter->ExportPublicKey(*reporter_fpr);
  ASSERT_TRUE(peer_key);
  ImportIntoTeamKeyring(*peer_key);

  // PGP/MIME (RFC 3156): the inner entity signed and encrypted to the team.
  const std::string inner =
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      "機密: 203.0.113.77 が侵害されています。\r\n";
  auto armoured = reporter->EncryptAndSign(inner, {kTeam}, *reporter_fpr);
  ASSERT_TRUE(armoured) << armoured.error().message();
  const std::string encrypted =
      "From: Peer <peer@csirt.example>\r\nTo: " + kTeam +
      "\r\nSubject: Encrypted Walrus\r\nMessage-ID: <enc@csirt.example>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n"
      "--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
      "--enc\r\nContent-Type: application/octet-stream\r\n\r\n" +
      *armoured + "\r\n--enc--\r\n";
  ASSERT_TRUE(Mailgate(encrypted).Succeeded()) << last_err_;

  // Clear-signed by a key the team does not have, and clear-signed then altered.
  auto stranger = testing::TestGpgHome::Create();
  ASSERT_TRUE(stranger);
  auto stranger_fpr = stranger->GenerateKey("Stranger <s@stranger.example>");
  ASSERT_TRUE(stranger_fpr);
  auto unknown = stranger->ClearSign("Unknown signer: 192.0.2.200\n", *stranger_fpr);
  ASSERT_TRUE(unknown);
  ASSERT_TRUE(
      Mailgate(PlainMail("unknown@stranger.example", "s@stranger.example", "Zebra note", *unknown)).Succeeded());
  auto good = reporter->ClearSign("Amount: 100\n", *reporter_fpr);
  ASSERT_TRUE(good);
  std::string altered = *good;
  altered.replace(altered.find("100"), 3, "900");
  ASSERT_TRUE(Mailgate(PlainMail("bad@csirt.example", "peer@csirt.example", "Quokka note", altered)).Succeeded());
  // Encrypted to someone else: kept, flagged, not lost.
  auto other = stranger->Encrypt("for the stranger only", {*stranger_fpr});
  ASSERT_TRUE(other);
  ASSERT_TRUE(Mailgate(PlainMail("other@csirt.example", "peer@csirt.example", "Not for you", *other)).Succeeded());

  Serve();
  const json enc = Reports("?q=" + UrlEncode("Walrus"));
  ASSERT_EQ(enc.size(), 1u) << Reports().dump(1);
  const json enc_mail = MailOf(enc[0]["id"])[0];
  EXPECT_EQ(enc_mail["pgp"]["encrypted"], true);
  EXPECT_EQ(enc_mail["pgp"]["decrypted"], true);
  ASSERT_EQ(enc_mail["pgp"]["signatures"].size(), 1u);
  EXPECT_EQ(enc_mail["pgp"]["signatures"][0]["validity"], "good");
  EXPECT_EQ(enc_mail["pgp"]["signatures"][0]["fingerprint"], *reporter_fpr);
  EXPECT_THAT(enc_mail["text"].get<std::string>(), HasSubstr("203.0.113.77 が侵害"));
  std::vector<std::string> values;
  for (const auto& o : enc[0]["observables"]) values.push_back(o["value"]);
  EXPECT_THAT(values, ::testing::Contains("203.0.113.77")) << "observables come from the decrypted text";

  auto validity_of = [&](const std::string& subject) -> std::string {
    const json found = Reports("?q=" + UrlEncode(subject));
    if (found.size() != 1u) return "report not found: " + subject;
    const json sigs = MailOf(found[0]["id"])[0]["pgp"]["signatures"];
    return sigs.empty() ? "unsigned" : sigs[0]["validity"].get<std::string>();
  };
  EXPECT_EQ(validity_of("Zebra"), "unknown-key");
  EXPECT_EQ(validity_of("Quokka"), "bad");
  const json failed = Reports("?flag=decrypt_failed");
  ASSERT_EQ(failed.size(), 1u) << Reports().dump(1);
  EXPECT_EQ(failed[0]["subject"], "Not for you");
  EXPECT_EQ(MailOf(failed[0]["id"])[0]["pgp"]["decrypted"], false);
}

TEST_F(MailTest, LmtpAnswersEachRecipientAfterTheCommit) {
  Serve({"--lmtp", "127.0.0.1:0"});
  const auto port_text = ReadText(dir_.path() / "data.port.lmtp");
  ASSERT_FALSE(port_text.empty());
  const int port = std::stoi(port_text);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto read_reply = [fd] {
    std::string all;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      all.append(buffer, static_cast<std::size_t>(n));
      // A reply ends with a line whose code is followed by a space.
      const auto last = all.rfind("\r\n", all.size() - 3);
      const std::string last_line = last == std::string::npos ? all : all.substr(last + 2);
      if (all.ends_with("\r\n") && last_line.size() > 3 && last_line[3] == ' ') break;
    }
    return all;
  };
  auto send = [fd](const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), 0), (ssize_t)text.size());
  };
  EXPECT_THAT(read_reply(), ::testing::StartsWith("220"));
  send("LHLO mta.example\r\n");
  EXPECT_THAT(read_reply(), HasSubstr("250"));
  send("MAIL FROM:<erin@e.example>\r\n");
  EXPECT_THAT(read_reply(), ::testing::StartsWith("250"));
  send("RCPT TO:<csirt@example.net>\r\n");
  EXPECT_THAT(read_reply(), ::testing::StartsWith("250"));
  send("RCPT TO:<abuse@example.net>\r\n");
  EXPECT_THAT(read_reply(), ::testing::StartsWith("250"));
  send("DATA\r\n");
  EXPECT_THAT(read_reply(), ::testing::StartsWith("354"));
  send(PlainMail("lmtp@e.example", "erin@e.example", "Via LMTP", "..dot-stuffed line and 192.0.2.66\r\n") + ".\r\n");
  std::string replies = read_reply();
  if (std::count(replies.begin(), replies.end(), '\n') < 2) replies += read_reply();
  EXPECT_EQ(std::count(replies.begin(), replies.end(), '\n'), 2) << replies;
  EXPECT_THAT(replies, ::testing::StartsWith("250"));
  EXPECT_THAT(replies, Not(HasSubstr("451")));
  send("QUIT\r\n");
  ::close(fd);
  const json reports = Reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["subject"], "Via LMTP");
  EXPECT_THAT(MailOf(reports[0]["id"])[0]["text"].get<std::string>(), HasSubstr(".dot-stuffed line"));
}

TEST_F(MailTest, MailgateCanHandMessagesToARunningServer) {
  Serve();
  const std::string url = "http://127.0.0.1:" + std::to_string(server_->port());
  auto remote = [&](const std::string& raw, const std::string& token) {
    testing::ChildProcessOptions options;
    options.program = HIKESHI_BINARY;
    options.args = {"mailgate", "--url", url};
    options.env = {{"HIKESHI_TOKEN", token}};
    options.stdin_data = raw;
    auto child = testing::ChildProcess::Spawn(options);
    EXPECT_TRUE(child);
    auto status = child->Wait(seconds(60));
    last_err_ = child->Stderr();
    return status ? *status : testing::ExitStatus{};
  };
  const std::string raw = PlainMail("remote@r.example", "frank@r.example", "Remote gate", "192.0.2.81\r\n");
  EXPECT_TRUE(remote(raw, token_).Succeeded()) << last_err_;
  EXPECT_THAT(last_err_, HasSubstr("\"outcome\":\"stored\""));
  EXPECT_TRUE(remote(raw, token_).Succeeded()) << last_err_;
  EXPECT_THAT(last_err_, HasSubstr("duplicate"));
  EXPECT_EQ(remote(PlainMail("r2@r.example", "frank@r.example", "Other", "x\r\n"), "hks_wrong").code, 75)
      << "a bad token is an operator's mistake: the MTA keeps the mail until it is fixed";
  EXPECT_EQ(Reports().size(), 1u);
  server_->Stop();
  EXPECT_EQ(remote(PlainMail("r3@r.example", "frank@r.example", "Later", "x\r\n"), token_).code, 75) << last_err_;
}

TEST_F(MailTest, RawMessagesAndAttachmentsDownloadOnlyForThoseWhoMaySeeTheReport) {
  const std::string raw =
      "From: g@a.example\r\nTo: " + kTeam +
      "\r\nSubject: Log attached\r\nMessage-ID: <att@a.example>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsee the log\r\n"
      "--m\r\nContent-Type: text/plain; name=\"auth.log\"\r\nContent-Disposition: attachment; filename=\"auth.log\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nRmFpbGVkIHBhc3N3b3JkIGZyb20gMTkyLjAuMi45OQo=\r\n--m--\r\n";
  ASSERT_TRUE(Mailgate(raw).Succeeded()) << last_err_;
  ASSERT_TRUE(
      RunCli({"constituency", "add", "--data", data_.string(), "other", "--cidr", "10.9.0.0/16"}).status.Succeeded());
  ASSERT_TRUE(
      RunCli({"user", "add", "--data", data_.string(), "outsider", "--role", "handler", "--constituency", "other"},
             {{"HIKESHI_PASSWORD", kUserPassword}})
          .status.Succeeded());
  const auto other_token = RunCli({"token", "create", "--data", data_.string(), "--user", "outsider"});
  ASSERT_TRUE(other_token.status.Succeeded());
  const std::string outsider = other_token.out.substr(0, other_token.out.find('\n'));
  Serve();
  const std::string id = Reports()[0]["id"];
  const json mail = MailOf(id)[0];
  ASSERT_EQ(mail["attachments"].size(), 1u);
  EXPECT_EQ(mail["attachments"][0]["filename"], "auth.log");
  const std::string base = "/api/v1/reports/" + id + "/mail/" + std::to_string(mail["id"].get<int>());
  const auto raw_back = server_->Call("GET", base + "/raw", token_);
  EXPECT_EQ(raw_back.status, 200);
  EXPECT_EQ(raw_back.body, raw) << "the raw message comes back byte for byte";
  const auto file =
      server_->Call("GET", base + "/attachments/" + mail["attachments"][0]["sha256"].get<std::string>(), token_);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "Failed password from 192.0.2.99\n");
  EXPECT_EQ(file.Header("content-disposition"), "attachment; filename*=UTF-8''auth.log");
  EXPECT_EQ(file.Header("content-type"), "application/octet-stream") << "downloaded, never rendered";
  // A handler of another constituency cannot tell the report exists.
  EXPECT_EQ(server_->Call("GET", base + "/raw", outsider).status, 404);
  EXPECT_EQ(server_->Call("GET", base + "/attachments/" + std::string(64, '0'), token_).status, 404);
}

TEST_F(MailTest, IngestMailReadsMaildirsAndMboxesAndAddsUp) {
  const auto maildir = dir_.path() / "Maildir";
  Write(maildir / "cur" / "1.eml", PlainMail("md1@m.example", "f@m.example", "One", "a\r\n"));
  Write(maildir / "new" / "2.eml", PlainMail("md2@m.example", "g@m.example", "Two", "b\r\n"));
  Write(maildir / "new" / "3.eml", std::string("\x01\x02\xff\xfe not a mail at all \x00 \x80", 26));
  Write(maildir / "tmp" / "4.eml", PlainMail("md4@m.example", "h@m.example", "Being delivered", "c\r\n"));
  auto first = RunCli({"ingest", "mail", "--data", data_.string(), maildir.string()});
  EXPECT_TRUE(first.status.Succeeded()) << first.err;
  EXPECT_THAT(first.out, HasSubstr("3 messages"));
  EXPECT_THAT(first.out, HasSubstr("3 stored, 0 threaded, 0 duplicate, 0 failed"));
  auto again = RunCli({"ingest", "mail", "--data", data_.string(), maildir.string()});
  EXPECT_THAT(again.out, HasSubstr("0 stored, 0 threaded, 3 duplicate, 0 failed"));

  const std::string mbox = "From f@m.example Fri Nov 27 09:00:00 2026\n" +
                           PlainMail("mb1@m.example", "i@m.example", "Mbox one", "line\n>From the start\n") +
                           "\nFrom g@m.example Fri Nov 27 09:01:00 2026\n" +
                           PlainMail("mb2@m.example", "j@m.example", "Mbox two", "other\n") + "\n";
  const auto box = Write(dir_.path() / "box.mbox", mbox);
  auto boxed = RunCli({"ingest", "mail", "--data", data_.string(), box});
  EXPECT_TRUE(boxed.status.Succeeded()) << boxed.err;
  EXPECT_THAT(boxed.out, HasSubstr("2 messages"));
  EXPECT_THAT(boxed.out, HasSubstr("2 stored"));

  Serve();
  EXPECT_EQ(Reports().size(), 5u);
  const json one = Reports("?q=" + UrlEncode("Mbox one"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_THAT(MailOf(one[0]["id"])[0]["text"].get<std::string>(), HasSubstr("\nFrom the start"));
}

TEST_F(MailTest, TriageRulesSeeTheSenderAndSignatureAndDecideAsMailArrives) {
  // The team's rules, loaded from DATA/triage.toml when the server starts.
  Write(data_ / "triage.toml", R"([[rule]]
id = "peer-unsigned"
stop = false
[rule.match]
channel = ["mail"]
source = ["@jpcert.or.jp"]
pgp = ["unsigned", "bad", "unknown-key"]
[rule.set]
flag = ["peer-unverified"]

[[rule]]
id = "ads"
[rule.match]
keyword = ["未承諾広告"]
[rule.set]
disposition = "spam"

[[rule]]
id = "phishing"
[rule.match]
channel = ["mail"]
keyword = ["phishing", "フィッシング"]
[rule.set]
category = "fraud/phishing"
impact = 2
urgency = 2
)");
  Serve();
  const int version = Get("/api/v1/triage/rules")["version"];
  EXPECT_EQ(Get("/api/v1/triage/rules")["source"], "file");

  ASSERT_TRUE(Mailgate(PlainMail("phish@reporter.example", "alice@reporter.example", "Phishing site seen",
                                 "A phishing page at http://login-bank.example/verify\r\n"))
                  .Succeeded())
      << last_err_;
  ASSERT_TRUE(Mailgate(PlainMail("kit@jpcert.or.jp", "info@jpcert.or.jp", "フィッシングキットの設置について",
                                 "貴組織のサーバにフィッシングキットが設置されています。\r\n"))
                  .Succeeded())
      << last_err_;
  ASSERT_TRUE(
      Mailgate(PlainMail("ad@shop.example", "sales@shop.example", "【未承諾広告※】冬のセール", "今だけ半額!\r\n"))
          .Succeeded())
      << last_err_;

  std::map<std::string, json> by_subject;
  for (const auto& r : Reports()) by_subject[r["subject"]] = r;
  ASSERT_EQ(by_subject.size(), 3u);

  const json& phishing = by_subject["Phishing site seen"];
  EXPECT_EQ(phishing["status"], "linked");
  ASSERT_TRUE(phishing["incident"].is_string()) << phishing.dump();
  EXPECT_EQ(Get("/api/v1/incidents/" + phishing["incident"].get<std::string>())["priority"], "P2");
  // The message that opened the incident is on the incident's page, and downloads from there.
  const std::string incident = phishing["incident"];
  const json incident_mail = Get("/api/v1/incidents/" + incident + "/mail")["items"];
  const auto inbound = std::find_if(incident_mail.begin(), incident_mail.end(), [](const json& m) {
    return m["direction"] == "in" && m["subject"] == "Phishing site seen";
  });
  ASSERT_NE(inbound, incident_mail.end()) << incident_mail.dump();
  const auto raw = server_->Call(
      "GET", "/api/v1/incidents/" + incident + "/mail/" + std::to_string((*inbound)["id"].get<int>()) + "/raw", token_);
  EXPECT_EQ(raw.status, 200);
  EXPECT_NE(raw.body.find("login-bank.example"), std::string::npos) << raw.body;
  // The advertisement's mail belongs to no incident.
  for (const auto& m : incident_mail) EXPECT_NE(m["subject"], "【未承諾広告※】冬のセール");
  const json decided = Get("/api/v1/reports/" + phishing["id"].get<std::string>() + "/triage");
  EXPECT_EQ(decided["rule_id"], "phishing");
  EXPECT_EQ(decided["rule_set_version"], version);

  // An unsigned message claiming to be from a peer CSIRT: flagged, then triaged by the next rule.
  const json& peer = by_subject["フィッシングキットの設置について"];
  EXPECT_THAT(peer["flags"], ::testing::Contains("peer-unverified"));
  EXPECT_EQ(peer["status"], "linked");
  EXPECT_EQ(Get("/api/v1/reports/" + peer["id"].get<std::string>() + "/triage")["matched_rules"],
            json::array({"peer-unsigned", "phishing"}));
  EXPECT_EQ(phishing["flags"].size(), 0u) << "alice is not at jpcert.or.jp";

  // Spam by rule: rejected, and never answered.
  const json& ad = by_subject["【未承諾広告※】冬のセール"];
  EXPECT_EQ(ad["status"], "rejected");
  EXPECT_EQ(ad["reject_reason"], "spam");
  const json ad_mail = MailOf(ad["id"]);
  ASSERT_EQ(ad_mail.size(), 1u) << "no acknowledgement queued: " << ad_mail.dump();
  EXPECT_EQ(ad_mail[0]["status"], "suppressed: spam (triage rule 'ads')");

  // The two real reports are acknowledged, the advertisement is not.
  auto acks = sink_->WaitForMessages(2, seconds(30));
  ASSERT_TRUE(acks) << acks.error().message();
  std::set<std::string> answered;
  for (const auto& m : sink_->Messages()) answered.insert(m.recipients.at(0));
  EXPECT_EQ(answered, (std::set<std::string>{"alice@reporter.example", "info@jpcert.or.jp"}));
}

}  // namespace
}  // namespace hikeshi::e2e
