// The LMTP server over a real loopback socket, driven by a small hand-written LMTP client.

#include "hikeshi/intake/lmtp/lmtp_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hikeshi::intake::lmtp {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kTimeout{10'000};

// A blocking LMTP client: sends bytes as given, reads whole (multi-line) replies.
class LmtpClient {
 public:
  explicit LmtpClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~LmtpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  LmtpClient(const LmtpClient&) = delete;
  LmtpClient& operator=(const LmtpClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One reply, all its lines joined by "\n" without CRLF; "" when the connection closed or the
  // timeout passed first.
  std::string Reply(milliseconds timeout = kTimeout) {
    auto deadline = SteadyClock::now() + timeout;
    std::string reply;
    for (;;) {
      std::size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        reply += reply.empty() ? line : "\n" + line;
        if (line.size() < 4 || line[3] != '-') return reply;
        continue;
      }
      if (!Fill(deadline)) return {};
    }
  }

  // The 3-digit codes of the next `count` replies.
  std::vector<std::string> Codes(std::size_t count) {
    std::vector<std::string> codes;
    for (std::size_t i = 0; i < count; ++i) codes.push_back(Reply().substr(0, 3));
    return codes;
  }

  // True when the server closes within `timeout` (bytes arriving before that are kept).
  bool WaitForClose(milliseconds timeout) {
    auto deadline = SteadyClock::now() + timeout;
    while (Fill(deadline)) {
    }
    return closed_;
  }

 private:
  bool Fill(SteadyClock::time_point deadline) {
    if (closed_) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return false;
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    std::array<char, 65536> chunk;
    ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

struct Delivery {
  LmtpEnvelope envelope;
  std::string raw;
};

// Records deliveries; answers with `results` (or all ok when empty).
class Recorder {
 public:
  std::function<std::vector<Result<void>>(const LmtpEnvelope&)> answer;

  LmtpDeliver Callback() {
    return [this](const LmtpEnvelope& envelope, std::string raw) {
      {
        std::lock_guard lock(mutex_);
        deliveries_.push_back({envelope, std::move(raw)});
      }
      changed_.notify_all();
      if (answer) return answer(envelope);
      return std::vector<Result<void>>(envelope.recipients.size());
    };
  }
  std::vector<Delivery> deliveries() {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }
  bool WaitFor(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kTimeout, [&] { return deliveries_.size() >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Delivery> deliveries_;
};

std::unique_ptr<LmtpServer> StartServer(Recorder& recorder, LmtpOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = LmtpServer::Start(std::move(options), recorder.Callback());
  EXPECT_TRUE(server.has_value()) << server.error().message();
  return server ? std::move(*server) : nullptr;
}

// Connects, reads the greeting and says LHLO.
void Greet(LmtpClient& client) {
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.Reply().substr(0, 4), "220 ");
  ASSERT_TRUE(client.Send("LHLO mta.example\r\n"));
  ASSERT_EQ(client.Reply().substr(0, 3), "250");
}

TEST(LmtpServerTest, LhloAdvertisesTheExtensions) {
  Recorder recorder;
  auto server = StartServer(recorder, {.listen = {}, .max_message_bytes = 12345});
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.Reply().substr(0, 12), "220 hikeshi ");
  ASSERT_TRUE(client.Send("LHLO mta.example\r\n"));
  EXPECT_EQ(client.Reply(), "250-hikeshi\n250-PIPELINING\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250 SIZE 12345");
}

TEST(LmtpServerTest, EachRecipientIsAnsweredAfterDelivery) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  const std::string message = "From: reporter@example.org\r\nSubject: phish\r\n\r\nbody line\r\n";
  ASSERT_TRUE(client.Send("MAIL FROM:<reporter@example.org>\r\n"));
  EXPECT_EQ(client.Reply(), "250 2.1.0 Sender OK");
  ASSERT_TRUE(client.Send("RCPT TO:<abuse@csirt.example>\r\n"));
  EXPECT_EQ(client.Reply(), "250 2.1.5 Recipient OK");
  ASSERT_TRUE(client.Send("RCPT TO:<incident@csirt.example>\r\n"));
  EXPECT_EQ(client.Reply(), "250 2.1.5 Recipient OK");
  ASSERT_TRUE(client.Send("DATA\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 4), "354 ");
  ASSERT_TRUE(client.Send(message + ".\r\n"));
  EXPECT_EQ(client.Reply(), "250 2.0.0 <abuse@csirt.example> Message stored");
  EXPECT_EQ(client.Reply(), "250 2.0.0 <incident@csirt.example> Message stored");
  auto deliveries = recorder.deliveries();
  ASSERT_EQ(deliveries.size(), 1U);
  EXPECT_EQ(deliveries[0].envelope.mail_from, "reporter@example.org");
  EXPECT_EQ(deliveries[0].envelope.recipients,
            (std::vector<std::string>{"abuse@csirt.example", "incident@csirt.example"}));
  EXPECT_EQ(deliveries[0].envelope.client_address, "127.0.0.1");
  EXPECT_EQ(deliveries[0].raw, message);
  ASSERT_TRUE(client.Send("QUIT\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 4), "221 ");
  EXPECT_TRUE(client.WaitForClose(kTimeout));
}

TEST(LmtpServerTest, DeliveryErrorsMapToTemporaryOrSizeRepliesPerRecipient) {
  Recorder recorder;
  recorder.answer = [](const LmtpEnvelope&) {
    std::vector<Result<void>> results;
    results.emplace_back();
    results.emplace_back(Fail(Error::Unavailable("database is locked")));
    results.emplace_back(Fail(Error::TooLarge("too big")));
    results.emplace_back(Fail(Error::Internal("bug")));
    results.emplace_back(Fail(Error::ResourceExhausted("rate")));
    results.emplace_back(Fail(Error::InvalidArgument("our parser disliked it")));
    return results;
  };
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(client.Send("MAIL FROM:<>\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(client.Send("RCPT TO:<r" + std::to_string(i) + "@csirt.example>\r\n"));
    EXPECT_EQ(client.Reply().substr(0, 3), "250");
  }
  ASSERT_TRUE(client.Send("DATA\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "354");
  ASSERT_TRUE(client.Send("Subject: x\r\n\r\ny\r\n.\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 10), "250 2.0.0 ");
  std::string unavailable = client.Reply();
  EXPECT_EQ(unavailable.substr(0, 10), "451 4.3.0 ") << unavailable;
  EXPECT_EQ(unavailable.find("locked"), std::string::npos) << "internal details must not reach the MTA";
  EXPECT_EQ(client.Reply().substr(0, 10), "552 5.3.4 ");
  EXPECT_EQ(client.Reply().substr(0, 10), "451 4.3.0 ");
  EXPECT_EQ(client.Reply().substr(0, 10), "451 4.3.0 ");
  EXPECT_EQ(client.Reply().substr(0, 10), "451 4.3.0 ") << "never bounce mail because of our own failure";
  EXPECT_EQ(recorder.deliveries()[0].envelope.mail_from, "");
}

TEST(LmtpServerTest, ACallbackThatThrowsOrMiscountsGetsATemporaryFailure) {
  Recorder recorder;
  std::atomic<int> calls{0};
  recorder.answer = [&](const LmtpEnvelope&) -> std::vector<Result<void>> {
    if (calls++ == 0) throw std::runtime_error("boom");
    return {};  // one result for two recipients
  };
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(
        client.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"));
    EXPECT_EQ(client.Codes(4), (std::vector<std::string>{"250", "250", "250", "354"}));
    ASSERT_TRUE(client.Send("x\r\n.\r\n"));
    EXPECT_EQ(client.Codes(2), (std::vector<std::string>{"451", "451"})) << "round " << round;
  }
}

TEST(LmtpServerTest, DeclaredSizeOverTheLimitIsRefusedUpFront) {
  Recorder recorder;
  auto server = StartServer(recorder, {.listen = {}, .max_message_bytes = 1000});
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org> SIZE=5000\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 10), "552 5.3.4 ");
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org> SIZE=99999999999999999999999\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 10), "552 5.3.4 ");
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org> SIZE=900 BODY=8BITMIME\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
}

TEST(LmtpServerTest, OversizeMessageGets552PerRecipientAndTheSessionGoesOn) {
  Recorder recorder;
  auto server = StartServer(recorder, {.listen = {}, .max_message_bytes = 1000});
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(
      client.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(4), (std::vector<std::string>{"250", "250", "250", "354"}));
  std::string big;
  for (int i = 0; i < 200; ++i) big += "0123456789012345678901234567890123456789\r\n";  // 8400 bytes
  ASSERT_TRUE(client.Send(big + ".\r\n"));
  std::string first = client.Reply();
  EXPECT_EQ(first.substr(0, 10), "552 5.3.4 ") << first;
  EXPECT_NE(first.find("<b@example.org>"), std::string::npos) << first;
  EXPECT_EQ(client.Reply().substr(0, 10), "552 5.3.4 ");
  EXPECT_TRUE(recorder.deliveries().empty());
  // Exactly at the limit is fine.
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  std::string exact(998, 'x');
  exact += "\r\n";
  ASSERT_TRUE(client.Send(exact + ".\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
  ASSERT_EQ(recorder.deliveries().size(), 1U);
  EXPECT_EQ(recorder.deliveries()[0].raw, exact);
}

TEST(LmtpServerTest, PipelinedCommandsInOneWriteAreAnsweredInOrder) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  ASSERT_EQ(client.Reply().substr(0, 3), "220");
  ASSERT_TRUE(
      client.Send("LHLO mta.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<>\r\n"
                  "RCPT TO:<c@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(6), (std::vector<std::string>{"250", "250", "250", "501", "250", "354"}));
  // The message, a second transaction and QUIT in one more write.
  ASSERT_TRUE(
      client.Send("Subject: one\r\n\r\n1\r\n.\r\nMAIL FROM:<d@example.org>\r\nRCPT TO:<e@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(5), (std::vector<std::string>{"250", "250", "250", "250", "354"}));
  ASSERT_TRUE(client.Send("Subject: two\r\n\r\n2\r\n.\r\nNOOP\r\nQUIT\r\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"250", "250", "221"}));
  EXPECT_TRUE(client.WaitForClose(kTimeout));
  auto deliveries = recorder.deliveries();
  ASSERT_EQ(deliveries.size(), 2U);
  EXPECT_EQ(deliveries[0].raw, "Subject: one\r\n\r\n1\r\n");
  EXPECT_EQ(deliveries[0].envelope.recipients, (std::vector<std::string>{"b@example.org", "c@example.org"}));
  EXPECT_EQ(deliveries[1].raw, "Subject: two\r\n\r\n2\r\n");
  EXPECT_EQ(deliveries[1].envelope.mail_from, "d@example.org");
}

TEST(LmtpServerTest, DotStuffedLinesAreUnstuffedWithCrlfOrBareLf) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  // On the wire: ".." for ".", "..." for "..", and ".x" (not stuffed by a sloppy client).
  ASSERT_TRUE(client.Send("Subject: dots\r\n\r\n..\r\n...\r\n..hidden\r\n.x\r\nmid . dot\r\n.\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  ASSERT_TRUE(client.Send("Subject: bare\n\n..\nline\r\n.\n"));
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
  auto deliveries = recorder.deliveries();
  ASSERT_EQ(deliveries.size(), 2U);
  EXPECT_EQ(deliveries[0].raw, "Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nx\r\nmid . dot\r\n");
  EXPECT_EQ(deliveries[1].raw, "Subject: bare\n\n.\nline\r\n");
}

TEST(LmtpServerTest, MessageSplitAcrossManySmallWritesArrivesWhole) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  const std::string wire = "A: b\r\n\r\n..x\r\n.\r\r\n.\r\n";
  for (char c : wire) {
    ASSERT_TRUE(client.Send(std::string(1, c)));
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ(client.Reply().substr(0, 3), "250");
  ASSERT_EQ(recorder.deliveries().size(), 1U);
  EXPECT_EQ(recorder.deliveries()[0].raw, "A: b\r\n\r\n.x\r\n\r\r\n");
}

TEST(LmtpServerTest, OverlongLineGets500AndTheSessionGoesOn) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  Greet(client);
  ASSERT_TRUE(client.Send("NOOP " + std::string(100'000, 'x') + "\r\n"));
  EXPECT_EQ(client.Reply().substr(0, 10), "500 5.5.2 ");
  ASSERT_TRUE(client.Send("MAIL FROM:<" + std::string(3000, 'a') + "@example.org>\r\nNOOP\r\n"));
  EXPECT_EQ(client.Codes(2), (std::vector<std::string>{"500", "250"}));
}

TEST(LmtpServerTest, CommandsOutOfOrderOrUnknownAreRefused) {
  Recorder recorder;
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient client(server->Port());
  ASSERT_EQ(client.Reply().substr(0, 3), "220");
  ASSERT_TRUE(client.Send("MAIL FROM:<a@example.org>\r\nHELO x\r\nEHLO x\r\nLHLO\r\nLHLO x\r\n"));
  EXPECT_EQ(client.Codes(5), (std::vector<std::string>{"503", "500", "500", "501", "250"}));
  ASSERT_TRUE(client.Send("RCPT TO:<b@example.org>\r\nDATA\r\nMAIL FROM:<a@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(client.Codes(4), (std::vector<std::string>{"503", "503", "250", "503"}));
  ASSERT_TRUE(client.Send("MAIL FROM:<x@example.org>\r\nRSET\r\nRCPT TO:<b@example.org>\r\n"));
  EXPECT_EQ(client.Codes(3), (std::vector<std::string>{"503", "250", "503"}));
  ASSERT_TRUE(client.Send("VRFY someone\r\nXYZZY\r\nMAIL FROM:<a@example.org> NOTIFY=NEVER\r\nMAIL FROM:a@b\r\n"));
  EXPECT_EQ(client.Codes(4), (std::vector<std::string>{"252", "500", "555", "501"}));
  EXPECT_TRUE(recorder.deliveries().empty());
}

TEST(LmtpServerTest, AStalledClientIsCutAfterTheIdleTimeout) {
  Recorder recorder;
  auto server = StartServer(
      recorder, {.listen = {}, .max_message_bytes = 1 << 20, .threads = 2, .idle_timeout = std::chrono::seconds(1)});
  ASSERT_NE(server, nullptr);
  LmtpClient idle(server->Port());
  Greet(idle);
  LmtpClient mid_data(server->Port());
  Greet(mid_data);
  ASSERT_TRUE(mid_data.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(mid_data.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  ASSERT_TRUE(mid_data.Send("Subject: never finished\r\n"));
  auto started = SteadyClock::now();
  EXPECT_EQ(idle.Reply(milliseconds(5000)).substr(0, 10), "421 4.4.2 ");
  EXPECT_TRUE(idle.WaitForClose(milliseconds(5000)));
  EXPECT_EQ(mid_data.Reply(milliseconds(5000)).substr(0, 10), "421 4.4.2 ");
  EXPECT_TRUE(mid_data.WaitForClose(milliseconds(5000)));
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(4));
  EXPECT_TRUE(recorder.deliveries().empty());
}

TEST(LmtpServerTest, TwentyConcurrentClientsAreAllServed) {
  Recorder recorder;
  recorder.answer = [](const LmtpEnvelope& envelope) {
    std::this_thread::sleep_for(milliseconds(20));  // a store that takes a moment
    return std::vector<Result<void>>(envelope.recipients.size());
  };
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 20;
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      LmtpClient client(server->Port());
      if (!client.connected() || client.Reply().substr(0, 3) != "220") return;
      std::string id = std::to_string(i);
      client.Send("LHLO c" + id + "\r\nMAIL FROM:<s" + id + "@example.org>\r\nRCPT TO:<r" + id +
                  "@example.org>\r\nDATA\r\n");
      if (client.Codes(4) != std::vector<std::string>{"250", "250", "250", "354"}) return;
      client.Send("Subject: " + id + "\r\n\r\n" + std::string(10'000, 'a' + static_cast<char>(i)) +
                  "\r\n.\r\nQUIT\r\n");
      if (client.Reply().substr(0, 3) == "250" && client.Reply().substr(0, 3) == "221") ++stored;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), kClients);
  auto deliveries = recorder.deliveries();
  ASSERT_EQ(deliveries.size(), static_cast<std::size_t>(kClients));
  for (const auto& delivery : deliveries) {
    ASSERT_EQ(delivery.envelope.recipients.size(), 1U);
    std::string id = delivery.envelope.recipients[0].substr(1, delivery.envelope.recipients[0].find('@') - 1);
    EXPECT_EQ(delivery.envelope.mail_from, "s" + id + "@example.org");
    EXPECT_EQ(delivery.raw,
              "Subject: " + id + "\r\n\r\n" + std::string(10'000, 'a' + static_cast<char>(std::stoi(id))) + "\r\n");
  }
}

// How many deliveries the server lets run at once, with `clients` clients each sending one message
// while every delivery waits (up to `hold`) for the others to arrive.
int MostDeliveriesAtOnce(LmtpOptions options, int clients, std::chrono::milliseconds hold) {
  Recorder recorder;
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int most = 0;
  recorder.answer = [&](const LmtpEnvelope& envelope) {
    std::unique_lock lock(mutex);
    most = std::max(most, ++running);
    changed.notify_all();
    // Held until every client's delivery runs at once, or the server lets no more in.
    changed.wait_for(lock, hold, [&] { return running >= clients; });
    --running;
    return std::vector<Result<void>>(envelope.recipients.size());
  };
  auto server = StartServer(recorder, std::move(options));
  if (server == nullptr) return -1;
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      LmtpClient client(server->Port());
      if (!client.connected() || client.Reply().substr(0, 3) != "220") return;
      const std::string id = std::to_string(i);
      client.Send("LHLO c" + id + "\r\nMAIL FROM:<s" + id + "@example.org>\r\nRCPT TO:<r@example.org>\r\nDATA\r\n");
      if (client.Codes(4) != std::vector<std::string>{"250", "250", "250", "354"}) return;
      client.Send("Subject: " + id + "\r\n\r\nbody\r\n.\r\n");
      if (client.Reply(std::chrono::seconds(30)).substr(0, 3) == "250") ++stored;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), clients) << "every message is still stored";
  std::lock_guard lock(mutex);
  return most;
}

TEST(LmtpServerTest, SixteenDeliveriesAreStoredAtOnceByDefault) {
  // Concurrent deliveries share a commit, so the rate an MTA gets grows with them (group commit);
  // a pool as small as the network threads would hold an MTA's 20 connections to two at a time.
  EXPECT_EQ(MostDeliveriesAtOnce({}, 16, std::chrono::seconds(5)), 16);
}

TEST(LmtpServerTest, DeliveriesAtOnceFollowTheOption) {
  LmtpOptions options;
  options.delivery_threads = 3;
  EXPECT_EQ(MostDeliveriesAtOnce(options, 6, std::chrono::seconds(1)), 3);
  Recorder recorder;
  auto none = LmtpServer::Start({.listen = "127.0.0.1:0", .delivery_threads = 0}, recorder.Callback());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
}

TEST(LmtpServerTest, StopAnswersADeliveryInProgressThenSays421) {
  Recorder recorder;
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool open = false;
  std::atomic<bool> delivering{false};
  recorder.answer = [&](const LmtpEnvelope& envelope) {
    delivering = true;
    std::unique_lock lock(gate_mutex);
    gate_changed.wait(lock, [&] { return open; });
    return std::vector<Result<void>>(envelope.recipients.size());
  };
  auto server = StartServer(recorder);
  ASSERT_NE(server, nullptr);
  LmtpClient idle(server->Port());
  Greet(idle);
  LmtpClient busy(server->Port());
  Greet(busy);
  ASSERT_TRUE(busy.Send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"));
  EXPECT_EQ(busy.Codes(3), (std::vector<std::string>{"250", "250", "354"}));
  ASSERT_TRUE(busy.Send("Subject: x\r\n\r\ny\r\n.\r\n"));
  for (int i = 0; i < 500 && !delivering; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(delivering.load());

  std::thread stopper([&] { server->Stop(); });
  EXPECT_EQ(idle.Reply().substr(0, 10), "421 4.3.2 ");
  EXPECT_TRUE(idle.WaitForClose(kTimeout));
  {
    std::lock_guard lock(gate_mutex);
    open = true;
  }
  gate_changed.notify_all();
  EXPECT_EQ(busy.Reply().substr(0, 3), "250");
  EXPECT_EQ(busy.Reply().substr(0, 10), "421 4.3.2 ");
  EXPECT_TRUE(busy.WaitForClose(kTimeout));
  stopper.join();
  LmtpClient late(server->Port());
  EXPECT_FALSE(late.connected() && !late.Reply(milliseconds(500)).empty()) << "no longer accepting";
}

TEST(LmtpServerTest, BadOptionsAreRefused) {
  Recorder recorder;
  auto bad_listen = LmtpServer::Start({.listen = "nonsense"}, recorder.Callback());
  ASSERT_FALSE(bad_listen.has_value());
  EXPECT_EQ(bad_listen.error().code(), ErrorCode::kInvalidArgument);
  auto bad_host = LmtpServer::Start({.listen = "127.0.0.1:0", .hostname = "evil\r\n250 ok"}, recorder.Callback());
  ASSERT_FALSE(bad_host.has_value());
  EXPECT_EQ(bad_host.error().code(), ErrorCode::kInvalidArgument);
  auto first = StartServer(recorder);
  ASSERT_NE(first, nullptr);
  auto taken = LmtpServer::Start({.listen = "127.0.0.1:" + std::to_string(first->Port())}, recorder.Callback());
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace hikeshi::intake::lmtp
