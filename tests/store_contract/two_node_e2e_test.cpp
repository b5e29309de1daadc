// Two `hikeshi serve --store URL` nodes on one PostgreSQL database (issue 7): clients write through
// both while one node is killed with SIGKILL mid-load. Afterwards every write a client saw
// acknowledged (201) is stored exactly once, nothing is stored twice, the audit chain verifies, and
// the surviving node has sent the acknowledgement mail the dead node had leased, once its lease
// ([mail] delivery_lease_seconds) ran out.

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "../api/e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/pg_server.hpp"
#include "support/smtp_sink.hpp"

namespace hikeshi::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A TCP port on 127.0.0.1 that takes connections (the kernel completes them) and never says a word:
// an SMTP relay that hangs, so that a node sending to it holds its lease until it dies.
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      port_ = 0;
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

void WriteConfig(const std::filesystem::path& data, const std::string& smtp_url) {
  std::ofstream(data / "hikeshi.toml", std::ios::trunc)
      << "[mail]\nteam_address = \"csirt@example.net\"\nsmtp_url = \"" << smtp_url
      << "\"\ndelivery_interval_ms = 100\ndelivery_lease_seconds = 3\n";
}

std::string Value(const std::string& url, const std::string& sql) {
  auto value = testing::QueryValue(url, sql);
  return value ? *value : "(error: " + value.error().message() + ")";
}

TEST(TwoNodeTest, ANodeKilledMidLoadLosesNothingAndItsLeasedMailIsSentByTheOther) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.has_value()) << database.error().message();
  const std::string url = database->Conninfo();
  auto sink = testing::SmtpSink::Start();
  ASSERT_TRUE(sink) << sink.error().message();
  SilentPort silent;
  ASSERT_NE(silent.port(), 0);

  // Node A's relay hangs; node B's works. Each node has its own data directory (configuration), with
  // the same blob key and team keyring copied from the first.
  TempDir dir;
  const auto data_a = dir.path() / "a";
  const auto data_b = dir.path() / "b";
  std::filesystem::create_directories(data_a);
  WriteConfig(data_a, "smtp://127.0.0.1:" + std::to_string(silent.port()));
  ASSERT_TRUE(RunCli({"init", "--data", data_a.string(), "--store", url}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}})
                  .status.Succeeded());
  std::filesystem::copy(data_a, data_b, std::filesystem::copy_options::recursive);
  for (const auto& socket : {"S.gpg-agent", "S.gpg-agent.browser", "S.gpg-agent.extra", "S.gpg-agent.ssh"}) {
    std::filesystem::remove(data_b / "gnupg" / socket);
  }
  WriteConfig(data_b, (*sink)->url());
  const auto token = RunCli({"token", "create", "--data", data_a.string(), "--store", url, "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  const std::string secret = token.out.substr(0, token.out.find('\n'));

  // A report by mail: its acknowledgement is queued.
  testing::ChildProcessOptions mailgate;
  mailgate.program = HIKESHI_BINARY;
  mailgate.args = {"mailgate", "--data", data_a.string(), "--store", url};
  mailgate.stdin_data =
      "From: r@reporter.example\r\nTo: csirt@example.net\r\nSubject: Scan from 192.0.2.44\r\n"
      "Message-ID: <two-node@reporter.example>\r\n\r\n192.0.2.44 scans us.\r\n";
  {
    auto child = testing::ChildProcess::Spawn(mailgate);
    ASSERT_TRUE(child);
    const auto status = child->Wait(seconds(60));
    ASSERT_TRUE(status && status->Succeeded()) << child->Stderr();
  }

  // Node A starts first and leases the acknowledgement; its relay never answers.
  auto node_a = Server::Start(data_a, {"--store", url});
  ASSERT_NE(node_a, nullptr);
  std::string holder;
  for (int i = 0; i < 100 && holder.empty(); ++i) {
    holder = Value(url, "SELECT claimed_by FROM mail_messages WHERE direction = 'out'");
    if (holder.empty()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(holder, "pid-" + std::to_string(node_a->process().pid())) << "node A holds the lease";
  auto node_b = Server::Start(data_b, {"--store", url});
  ASSERT_NE(node_b, nullptr);

  // Clients write through both nodes; A is killed while they do.
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int> attempts{0};
  std::atomic<int> done_a{0};
  const std::uint16_t port_a = node_a->port();
  const std::uint16_t port_b = node_b->port();
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; n < 25; ++n) {
        const std::string title = "write " + std::to_string(c) + "-" + std::to_string(n);
        testing::HttpClientRequest request;
        request.method = "POST";
        request.target = "/api/v1/incidents";
        request.headers = {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/json"}};
        request.body =
            nlohmann::json({{"title", title}, {"category", "fraud/phishing"}, {"impact", 3}, {"urgency", 3}}).dump();
        const bool to_a = n % 2 == 0;
        ++attempts;
        auto response = testing::Fetch(to_a ? port_a : port_b, request, milliseconds(30'000));
        if (response && response->status == 201) {
          std::lock_guard lock(mutex);
          acknowledged.push_back(title);
          if (to_a) ++done_a;
        }
      }
    });
  }
  while (done_a.load() < 10) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(node_a->process().Kill().KilledBy(SIGKILL));
  for (auto& client : clients) client.join();

  ASSERT_GE(acknowledged.size(), 10U);
  EXPECT_LT(acknowledged.size(), static_cast<std::size_t>(attempts.load())) << "some writes went to the dead node";
  for (const std::string& title : acknowledged) {
    EXPECT_EQ(Value(url, "SELECT count(*) FROM incidents WHERE title = '" + title + "'"), "1") << title;
  }
  EXPECT_EQ(Value(url, "SELECT count(*) FROM (SELECT title FROM incidents GROUP BY title HAVING count(*) > 1) t"), "0")
      << "nothing stored twice";
  EXPECT_EQ(Value(url, "SELECT count(DISTINCT human_id) = count(*) FROM incidents"), "t") << "ids unique across nodes";

  // After A's lease runs out, B takes the acknowledgement over and sends it, once.
  auto sent = (*sink)->WaitForMessages(1, seconds(30));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_THAT((*sent)[0].recipients, ::testing::ElementsAre("r@reporter.example"));
  for (int i = 0; i < 50 && Value(url, "SELECT status FROM mail_messages WHERE direction = 'out'") != "sent"; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(Value(url, "SELECT status || '/' || attempts FROM mail_messages WHERE direction = 'out'"), "sent/1");
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ((*sink)->Messages().size(), 1U);
  EXPECT_TRUE(node_b->Stop().Succeeded());

  const CliResult verify = RunCli({"audit", "verify", "--data", data_b.string(), "--store", url});
  EXPECT_EQ(verify.status.code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace hikeshi::e2e
