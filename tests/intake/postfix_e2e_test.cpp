// A real MTA in front of Hikeshi: a private instance of Debian's Postfix on loopback relays mail for
// the team's domain by LMTP to `hikeshi serve --lmtp`, and swaks hands it mail the way a reporter's
// mail server would. What is checked is what the team and its postmaster would look at: the reports
// in the API, Postfix's queue, and Postfix's log.
//
// Postfix and swaks are required (Debian packages postfix and swaks): without them these tests fail.
// Starting Postfix needs root, as CI runs; the instance never touches /etc/postfix or the system's
// queue.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

#include "e2e_fixture.hpp"
#include "support/smtp_sink.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kTeam = "csirt@example.net";
const std::string kTeamDomain = "example.net";
const std::string kReporter = "reporter@outside.example";
// Where Debian's postfix package installs its commands; /usr/sbin is not on every PATH.
const std::string kPostfix = "/usr/sbin/postfix";
const std::string kPostqueue = "/usr/sbin/postqueue";

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void Write(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// Runs a command to completion (`timeout` at most); a program that cannot be run is a test failure.
CliResult RunTool(const std::string& program, const std::vector<std::string>& args, seconds timeout = seconds(60)) {
  testing::ChildProcessOptions options;
  options.program = program;
  options.args = args;
  auto child = testing::ChildProcess::Spawn(options);
  if (!child) {
    ADD_FAILURE() << "cannot run " << program << ": " << child.error().message();
    return {};
  }
  auto status = child->Wait(timeout);
  if (!status) {
    ADD_FAILURE() << program << " did not finish: " << status.error().message();
    return {child->Kill(), child->Stdout(), child->Stderr()};
  }
  return {*status, child->Stdout(), child->Stderr()};
}

// Polls `done` every 200 ms until it holds or `timeout` passes; returns whether it held.
template <typename Predicate>
bool WaitFor(Predicate done, seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return true;
}

// One Postfix instance of its own under `root`: main.cf and master.cf in root/conf, the queue in
// root/queue, data_directory root/data, the log in root/maillog. smtpd listens on 127.0.0.1 only,
// on a free high port; mail for the team's domain is relayed by LMTP to 127.0.0.1:<lmtp_port>;
// nothing else is accepted or delivered.
//
// `postfix -c DIR` and `postqueue -c DIR` accept any configuration directory from root: the
// alternate_config_directories list in the default main.cf is consulted only for unprivileged
// callers. Starting Postfix needs root anyway, so nothing under /etc/postfix is changed or needed.
class PostfixInstance {
 public:
  explicit PostfixInstance(std::filesystem::path root) : root_(std::move(root)) {}
  PostfixInstance(const PostfixInstance&) = delete;
  PostfixInstance& operator=(const PostfixInstance&) = delete;
  ~PostfixInstance() { Stop(); }

  // Writes the configuration, has `postfix check` approve it, and starts the master. A port taken
  // between choosing it and binding it makes the master fail at start-up; another port is tried.
  // Failures are recorded as gtest failures; returns whether Postfix runs.
  bool Start(std::uint16_t lmtp_port) {
    const passwd* owner = ::getpwnam("postfix");
    if (owner == nullptr) {
      ADD_FAILURE() << "the postfix system user is missing (Debian package postfix)";
      return false;
    }
    std::filesystem::create_directories(root_ / "queue");
    std::filesystem::create_directories(root_ / "data");
    // data_directory belongs to mail_owner; postfix check warns otherwise.
    if (::chown((root_ / "data").c_str(), owner->pw_uid, owner->pw_gid) != 0) {
      ADD_FAILURE() << "cannot chown the data directory to postfix";
      return false;
    }
    Write(conf() / "main.cf", MainCf(lmtp_port));
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto port = testing::PickFreePort();
      if (!port) {
        ADD_FAILURE() << port.error().message();
        return false;
      }
      smtpd_port_ = *port;
      Write(conf() / "master.cf", MasterCf(smtpd_port_));
      if (attempt == 0) {
        const auto check = RunTool(kPostfix, {"-c", conf().string(), "check"});
        // Postfix writes to stderr only on a terminal; what it has to say is in the log file.
        if (!check.status.Succeeded() || Log().find("warning:") != std::string::npos) {
          ADD_FAILURE() << "postfix check: " << check.status.ToString() << "\n" << check.err << Log();
          return false;
        }
      }
      const auto start = RunTool(kPostfix, {"-c", conf().string(), "start"});
      if (start.status.Succeeded()) {
        started_ = true;
        return Watch();
      }
    }
    ADD_FAILURE() << "postfix did not start; its log:\n" << Log();
    return false;
  }

  // Stops the master and waits for it (postfix stop waits up to 5 s). Idempotent.
  void Stop() {
    if (!started_) return;
    started_ = false;
    const auto stop = RunTool(kPostfix, {"-c", conf().string(), "stop"});
    EXPECT_TRUE(stop.status.Succeeded()) << "postfix stop: " << stop.status.ToString() << "\n" << Log();
    watchdog_.reset();  // kills it: nothing is left to clean up
  }

  std::uint16_t smtpd_port() const { return smtpd_port_; }
  std::string Log() const { return ReadText(root_ / "maillog"); }

  // `postqueue -p` as the postmaster reads it.
  std::string QueueListing() const { return RunTool(kPostqueue, {"-c", conf().string(), "-p"}).out; }
  // `postqueue -j`: one JSON object per queued message.
  std::vector<json> Queue() const {
    const auto listing = RunTool(kPostqueue, {"-c", conf().string(), "-j"});
    EXPECT_TRUE(listing.status.Succeeded()) << listing.err;
    std::vector<json> messages;
    std::istringstream lines(listing.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) messages.push_back(json::parse(line, nullptr, false));
    }
    return messages;
  }
  // `postqueue -f`: try every deferred message now.
  void Flush() const {
    const auto flush = RunTool(kPostqueue, {"-c", conf().string(), "-f"});
    EXPECT_TRUE(flush.status.Succeeded()) << flush.err << Log();
  }

  // The queue id Postfix's cleanup gave the message with this Message-ID, or "" (not logged yet).
  std::string QueueIdOf(const std::string& message_id) const {
    const std::string log = Log();
    const auto at = log.find(": message-id=<" + message_id + ">");
    if (at == std::string::npos) return "";
    const auto start = log.rfind(' ', at);
    return log.substr(start + 1, at - start - 1);
  }
  // Every log line about `queue_id` that contains `needle`.
  std::vector<std::string> LogLines(const std::string& queue_id, const std::string& needle) const {
    std::vector<std::string> found;
    std::istringstream lines(Log());
    for (std::string line; std::getline(lines, line);) {
      if (line.find(": " + queue_id + ": ") != std::string::npos && line.find(needle) != std::string::npos) {
        found.push_back(line);
      }
    }
    return found;
  }

 private:
  std::filesystem::path conf() const { return root_ / "conf"; }

  // Placeholders are @NAME@, since Postfix's own syntax uses $name.
  std::string MainCf(std::uint16_t lmtp_port) const {
    std::string text = R"(compatibility_level = 3.6
queue_directory = @ROOT@/queue
data_directory = @ROOT@/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.hikeshi-test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
# Nothing is delivered locally: mail for the team's domain goes to Hikeshi, the rest is refused.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = @DOMAIN@
transport_maps = inline:{ @DOMAIN@=lmtp:inet:127.0.0.1:@LMTP_PORT@ }
smtputf8_enable = no
# No DNS in a sandbox: the SMTP client's name is not looked up.
smtpd_peername_lookup = no
# A log file of its own, written by postlogd (master.cf), instead of the system's syslog.
maillog_file = @ROOT@/maillog
maillog_file_prefixes = @ROOT@
syslog_name = postfix-hikeshi-test
)";
    Substitute(text, "@ROOT@", root_.string());
    Substitute(text, "@DOMAIN@", kTeamDomain);
    Substitute(text, "@LMTP_PORT@", std::to_string(lmtp_port));
    return text;
  }

  // Only the services this relay uses; no chroot (the chroot jail would need copies of system files).
  static std::string MasterCf(std::uint16_t smtpd_port) {
    std::string text = R"(127.0.0.1:@SMTPD_PORT@ inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
lmtp      unix  - - n -     - lmtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
)";
    Substitute(text, "@SMTPD_PORT@", std::to_string(smtpd_port));
    return text;
  }

  static void Substitute(std::string& text, const std::string& placeholder, const std::string& value) {
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }

  // The master is a daemon, not our child: a test binary that crashes (or is killed by ctest's
  // timeout) skips TearDown and would leave it running. A watchdog outside our process group, not
  // tied to our life, waits for this process to end, then stops Postfix and removes `root`.
  // Stop() kills the watchdog once Postfix has stopped.
  bool Watch() {
    testing::ChildProcessOptions options;
    options.program = "/bin/sh";
    options.args = {"-c",
                    "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \"$2\" -c \"$3\" stop; rm -rf \"$4\"",
                    "postfix-watchdog",
                    std::to_string(::getpid()),
                    kPostfix,
                    conf().string(),
                    root_.string()};
    options.kill_with_parent = false;
    auto child = testing::ChildProcess::Spawn(options);
    if (!child) {
      ADD_FAILURE() << "cannot start the Postfix watchdog: " << child.error().message();
      return false;
    }
    watchdog_.emplace(std::move(*child));
    return true;
  }

  std::filesystem::path root_;
  std::uint16_t smtpd_port_ = 0;
  bool started_ = false;
  std::optional<testing::ChildProcess> watchdog_;
};

// What swaks reported for one message.
struct Sent {
  std::string message_id;  // the Message-Id swaks sent, without angle brackets
  std::string transcript;  // swaks's stdout
};

class PostfixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "these tests start a Postfix instance, which needs root";
    ASSERT_TRUE(std::filesystem::exists(kPostfix) && std::filesystem::exists(kPostqueue))
        << "Postfix is required (Debian package postfix)";
    const auto swaks = RunTool("swaks", {"--version"});
    ASSERT_TRUE(swaks.status.Succeeded()) << "swaks is required (Debian package swaks)";

    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink) << sink.error().message();
    sink_ = std::move(*sink);  // acknowledgements to the reporter go here, not through Postfix
    data_ = dir_.path() / "data";
    // The configuration first: init names the team's PGP key after the team address.
    Write(data_ / "hikeshi.toml", "[mail]\nteam_address = \"" + kTeam + "\"\nsmtp_url = \"" + sink_->url() +
                                      "\"\ndelivery_interval_ms = 100\n");
    const auto init = RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
    ASSERT_TRUE(token.status.Succeeded()) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));

    ASSERT_NO_FATAL_FAILURE(Serve("127.0.0.1:0"));
    const auto port_text = ReadText(dir_.path() / "data.port.lmtp");
    ASSERT_FALSE(port_text.empty()) << "hikeshi serve wrote no LMTP port";
    lmtp_port_ = static_cast<std::uint16_t>(std::stoi(port_text));
    postfix_ = std::make_unique<PostfixInstance>(dir_.path() / "postfix");
    ASSERT_TRUE(postfix_->Start(lmtp_port_));
  }

  void TearDown() override {
    if (postfix_) {
      if (HasFailure()) std::cerr << "---- postfix log ----\n" << postfix_->Log() << "---- end ----\n";
      postfix_->Stop();
    }
    if (server_ && HasFailure()) std::cerr << "---- hikeshi serve ----\n" << server_->process().Stderr();
    server_.reset();
    // init and signing start the team keyring's gpg-agent; it must not outlive the test.
    if (!data_.empty() && std::filesystem::exists(data_ / "gnupg")) {
      RunTool("gpgconf", {"--homedir", (data_ / "gnupg").string(), "--kill", "all"}, seconds(10));
    }
  }

  void Serve(const std::string& lmtp_listen) {
    server_ = Server::Start(data_, {"--lmtp", lmtp_listen});
    ASSERT_NE(server_, nullptr);
  }

  // swaks, as the reporter's mail server, hands one message to Postfix; `extra` are more swaks flags.
  Sent Send(const std::string& subject, const std::string& body, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--server", "127.0.0.1:" + std::to_string(postfix_->smtpd_port()),
                                     "--helo",   "mail.outside.example",
                                     "--from",   kReporter,
                                     "--to",     kTeam,
                                     "--header", "Subject: " + subject,
                                     "--body",   body};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto swaks = RunTool("swaks", args);
    EXPECT_TRUE(swaks.status.Succeeded()) << "swaks: " << swaks.status.ToString() << "\n" << swaks.out << swaks.err;
    EXPECT_THAT(swaks.out, HasSubstr("<-  250 2.0.0 Ok: queued as ")) << "Postfix accepted the message";
    Sent sent{"", swaks.out};
    const std::string marker = " -> Message-Id: <";
    const auto at = swaks.out.find(marker);
    EXPECT_NE(at, std::string::npos) << swaks.out;
    if (at != std::string::npos) {
      const auto start = at + marker.size();
      sent.message_id = swaks.out.substr(start, swaks.out.find('>', start) - start);
    }
    return sent;
  }

  json Get(const std::string& target) {
    const auto response = server_->Call("GET", target, token_);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return Body(response);
  }
  json Reports() { return Get("/api/v1/reports")["items"]; }
  // The mail that came in for a report (its acknowledgement going out is left aside).
  json IncomingMailOf(const std::string& report) {
    const json all = Get("/api/v1/reports/" + report + "/mail");
    json incoming = json::array();
    for (const auto& mail : all["items"]) {
      if (mail["direction"] == "in") incoming.push_back(mail);
    }
    return incoming;
  }

  // Waits (60 s at most) until the API lists at least `count` reports, and returns them all.
  json WaitForReports(std::size_t count) {
    json reports;
    const bool arrived = WaitFor(
        [&] {
          reports = Reports();
          return reports.is_array() && reports.size() >= count;
        },
        seconds(60));
    EXPECT_TRUE(arrived) << "reports after 60 s: " << reports.dump(1);
    return reports.is_array() ? reports : json::array();
  }
  static std::map<std::string, json> BySubject(const json& reports) {
    std::map<std::string, json> by_subject;
    for (const auto& report : reports) by_subject[report["subject"].get<std::string>()] = report;
    return by_subject;
  }

  // Waits until Postfix holds no message any more; returns what `postqueue -p` said last.
  std::string WaitForEmptyQueue() {
    std::string listing;
    WaitFor(
        [&] {
          listing = postfix_->QueueListing();
          return listing.find("Mail queue is empty") != std::string::npos;
        },
        seconds(30));
    return listing;
  }

  // The log line saying Postfix handed the message to Hikeshi's LMTP port and Hikeshi took it.
  void ExpectSentToHikeshi(const std::string& message_id) {
    const std::string queue_id = postfix_->QueueIdOf(message_id);
    ASSERT_FALSE(queue_id.empty()) << "Postfix never logged <" << message_id << ">";
    const std::string relay = "relay=127.0.0.1[127.0.0.1]:" + std::to_string(lmtp_port_) + ",";
    std::vector<std::string> sent;
    WaitFor(
        [&] {
          sent = postfix_->LogLines(queue_id, "status=sent");
          return !sent.empty();
        },
        seconds(10));
    ASSERT_EQ(sent.size(), 1u) << "delivered once: <" << message_id << "> (" << queue_id << ")";
    EXPECT_THAT(sent[0], HasSubstr("to=<" + kTeam + ">, " + relay));
    EXPECT_THAT(sent[0], HasSubstr("dsn=2.0.0"));
    EXPECT_THAT(sent[0], HasSubstr("Message stored")) << "Hikeshi's own LMTP reply, as Postfix logged it";
  }

  TempDir dir_;  // declared first: removed only after Postfix and Hikeshi have stopped
  std::filesystem::path data_;
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<PostfixInstance> postfix_;
  std::uint16_t lmtp_port_ = 0;
  std::string token_;
};

TEST_F(PostfixTest, MailRelayedByPostfixBecomesReportsAndLeavesNothingQueued) {
  // An English report; swaks makes the Message-Id up itself.
  const Sent plain = Send("Port scan from 203.0.113.45", "Our IDS saw a scan from 203.0.113.45 against our hosts.");
  // A Japanese one: the subject an RFC 2047 encoded-word, the body raw UTF-8 over 8BITMIME.
  const std::string japanese_subject = "フィッシングサイトの報告";
  const Sent japanese =
      Send("=?UTF-8?B?44OV44Kj44OD44K344Oz44Kw44K144Kk44OI44Gu5aCx5ZGK?=",
           "不審なメールのリンク先は hxxp://phish-bank[.]example/login でした。",
           {"--header", "Message-Id: <jp-report-1@outside.example>", "--header", "MIME-Version: 1.0", "--header",
            "Content-Type: text/plain; charset=utf-8", "--header", "Content-Transfer-Encoding: 8bit"});
  // A scan log attached as a CSV file.
  const std::string csv = "time,src_ip,dst_port\n2026-11-27T09:00:00Z,203.0.113.45,22\n";
  Write(dir_.path() / "scan-log.csv", csv);
  const Sent attached =
      Send("Scan log attached", "The log of the scan is attached.",
           {"--header", "Message-Id: <attach-1@outside.example>", "--attach-type", "text/csv", "--attach-name",
            "scan-log.csv", "--attach", "@" + (dir_.path() / "scan-log.csv").string()});
  EXPECT_THAT(plain.message_id, HasSubstr("@")) << plain.transcript;
  EXPECT_EQ(japanese.message_id, "jp-report-1@outside.example");
  EXPECT_EQ(attached.message_id, "attach-1@outside.example");

  const json listed = WaitForReports(3);
  ASSERT_EQ(listed.size(), 3u);
  auto reports = BySubject(listed);
  ASSERT_TRUE(reports.contains("Port scan from 203.0.113.45"));
  ASSERT_TRUE(reports.contains(japanese_subject)) << "the encoded-word is decoded";
  ASSERT_TRUE(reports.contains("Scan log attached"));

  const json plain_mail = IncomingMailOf(reports["Port scan from 203.0.113.45"]["id"]);
  ASSERT_EQ(plain_mail.size(), 1u);
  EXPECT_EQ(plain_mail[0]["message_id"], plain.message_id) << "the Message-Id swaks generated";
  EXPECT_EQ(plain_mail[0]["from"]["address"], kReporter);
  std::vector<std::string> values;
  for (const auto& o : reports["Port scan from 203.0.113.45"]["observables"]) values.push_back(o["value"]);
  EXPECT_THAT(values, ::testing::Contains("203.0.113.45"));

  const json japanese_mail = IncomingMailOf(reports[japanese_subject]["id"]);
  ASSERT_EQ(japanese_mail.size(), 1u);
  EXPECT_EQ(japanese_mail[0]["message_id"], "jp-report-1@outside.example");
  EXPECT_EQ(japanese_mail[0]["subject"], japanese_subject);
  EXPECT_THAT(japanese_mail[0]["text"].get<std::string>(), HasSubstr("不審なメールのリンク先は"));
  values.clear();
  for (const auto& o : reports[japanese_subject]["observables"]) values.push_back(o["value"]);
  EXPECT_THAT(values, ::testing::Contains("http://phish-bank.example/login"));

  const json attached_mail = IncomingMailOf(reports["Scan log attached"]["id"]);
  ASSERT_EQ(attached_mail.size(), 1u);
  EXPECT_EQ(attached_mail[0]["message_id"], "attach-1@outside.example");
  EXPECT_THAT(attached_mail[0]["text"].get<std::string>(), HasSubstr("The log of the scan is attached."));
  ASSERT_EQ(attached_mail[0]["attachments"].size(), 1u) << attached_mail.dump(1);
  const json& attachment = attached_mail[0]["attachments"][0];
  EXPECT_EQ(attachment["filename"], "scan-log.csv");
  EXPECT_EQ(attachment["content_type"], "text/csv");
  EXPECT_EQ(attachment["size"], csv.size());
  // sha256sum of the file above, computed outside Hikeshi.
  EXPECT_EQ(attachment["sha256"], "508ee9733ec035ebc75492e4d64241f3f1efc7419db342dee27d71b426d3c08b");

  // Postfix keeps nothing and logs each message as handed to Hikeshi's LMTP port.
  EXPECT_THAT(WaitForEmptyQueue(), HasSubstr("Mail queue is empty"));
  for (const auto& id : {plain.message_id, japanese.message_id, attached.message_id}) {
    ExpectSentToHikeshi(id);
  }
  const std::string log = postfix_->Log();
  EXPECT_THAT(log, Not(HasSubstr("status=deferred")));
  EXPECT_THAT(log, Not(HasSubstr("status=bounced")));
}

TEST_F(PostfixTest, PostfixKeepsMailWhileHikeshiIsDownAndDeliversItOnceWhenItIsBack) {
  const Sent before =
      Send("Before the outage", "Delivered at once.", {"--header", "Message-Id: <before-outage@outside.example>"});
  ASSERT_EQ(WaitForReports(1).size(), 1u);
  EXPECT_THAT(WaitForEmptyQueue(), HasSubstr("Mail queue is empty"));

  // Hikeshi stops: its LMTP port refuses connections, so Postfix must keep the message.
  server_->Stop();
  const Sent during = Send("Sent during the outage", "Defacement of www.victim.example seen at 09:00.",
                           {"--header", "Message-Id: <during-outage@outside.example>"});
  json queued;
  const bool deferred = WaitFor(
      [&] {
        const auto queue = postfix_->Queue();
        if (queue.size() != 1u) return false;
        queued = queue[0];
        return queued["queue_name"] == "deferred";
      },
      seconds(30));
  ASSERT_TRUE(deferred) << "Postfix's queue: " << postfix_->QueueListing();
  EXPECT_EQ(queued["sender"], kReporter);
  ASSERT_EQ(queued["recipients"].size(), 1u);
  EXPECT_EQ(queued["recipients"][0]["address"], kTeam);
  EXPECT_THAT(queued["recipients"][0]["delay_reason"].get<std::string>(),
              HasSubstr("connect to 127.0.0.1[127.0.0.1]:" + std::to_string(lmtp_port_) + ": Connection refused"));
  EXPECT_THAT(postfix_->QueueListing(), HasSubstr(queued["queue_id"].get<std::string>()));

  // Hikeshi is back on the same port; the postmaster flushes the queue.
  ASSERT_NO_FATAL_FAILURE(Serve("127.0.0.1:" + std::to_string(lmtp_port_)));
  EXPECT_EQ(Reports().size(), 1u) << "nothing arrived while Hikeshi was down";
  postfix_->Flush();
  (void)WaitForReports(2);
  EXPECT_THAT(WaitForEmptyQueue(), HasSubstr("Mail queue is empty"));
  // Settled: Postfix holds nothing more, so no second copy can still arrive.
  const json listed = Reports();
  ASSERT_EQ(listed.size(), 2u) << "the deferred message arrived exactly once: " << listed.dump(1);
  auto reports = BySubject(listed);
  ASSERT_TRUE(reports.contains("Sent during the outage"));
  const json mail = IncomingMailOf(reports["Sent during the outage"]["id"]);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0]["message_id"], "during-outage@outside.example");

  const std::string queue_id = postfix_->QueueIdOf(during.message_id);
  EXPECT_EQ(queue_id, queued["queue_id"]);
  EXPECT_FALSE(postfix_->LogLines(queue_id, "status=deferred (connect to 127.0.0.1[127.0.0.1]").empty());
  ExpectSentToHikeshi(during.message_id);
  ExpectSentToHikeshi(before.message_id);
}

}  // namespace
}  // namespace hikeshi::e2e
