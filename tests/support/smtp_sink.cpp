#include "support/smtp_sink.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hikeshi::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kPollMs = 50;                          // how often blocked threads look at the stop flag
constexpr std::size_t kMaxCommandLine = 64 << 10;    // a longer command line ends the connection
constexpr std::size_t kMaxMessageBytes = 256 << 20;  // so a runaway client cannot eat the test's memory
constexpr std::string_view kHostname = "hikeshi-sink";

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(),
                                                    [](char a, char b) { return LowerAscii(a) == LowerAscii(b); });
}

std::string_view StripLineEnd(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// The address between '<' and '>' after "MAIL FROM:" or "RCPT TO:", or nullopt when there is none.
std::optional<std::string> PathArgument(std::string_view rest) {
  std::size_t open = rest.find('<');
  std::size_t close = rest.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  return std::string(rest.substr(open + 1, close - open - 1));
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Base64Decode(std::string_view text) {
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    int value = Base64Value(c);
    if (value < 0) continue;  // padding and blanks
    bits = (bits << 6) | static_cast<unsigned>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

}  // namespace

class SmtpSink::Impl {
 public:
  explicit Impl(SmtpSinkOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  Result<void> Listen();
  std::uint16_t port() const { return port_; }
  void RefuseAt(SmtpStage stage, std::string reply) {
    std::lock_guard lock(mutex_);
    refusals_[static_cast<std::size_t>(stage)] = std::move(reply);
  }
  void AcceptAll() {
    std::lock_guard lock(mutex_);
    for (auto& refusal : refusals_) refusal.reset();
  }
  std::vector<SinkMessage> Messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  Result<std::vector<SinkMessage>> WaitForMessages(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, timeout, [&] { return messages_.size() >= count; })) {
      return Fail(Error::DeadlineExceeded("SMTP sink: " + std::to_string(messages_.size()) + " of " +
                                          std::to_string(count) + " messages arrived in time"));
    }
    return messages_;
  }
  void Stop();

 private:
  // One client connection, served on its own thread.
  class Connection {
   public:
    Connection(Impl& sink, int fd) : sink_(sink), fd_(fd) {}
    ~Connection() { ::close(fd_); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    void Serve();

   private:
    // The next line with its terminator; nullopt when the client went away or the sink stops.
    std::optional<std::string> ReadLine(std::size_t limit);
    bool Reply(std::string_view text);  // appends CRLF
    bool ReceiveData();
    void ResetTransaction() {
      transaction_ = SinkMessage{.helo = transaction_.helo,
                                 .auth_user = transaction_.auth_user,
                                 .auth_password = transaction_.auth_password,
                                 .mail_from = {},
                                 .recipients = {},
                                 .data = {}};
      in_transaction_ = false;
    }

    Impl& sink_;
    int fd_;
    std::string buffer_;
    SinkMessage transaction_;
    bool in_transaction_ = false;
  };

  void AcceptLoop();
  std::optional<std::string> Refusal(SmtpStage stage) const {
    std::lock_guard lock(mutex_);
    return refusals_[static_cast<std::size_t>(stage)];
  }
  void Store(SinkMessage message) {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
    }
    arrived_.notify_all();
    if (options_.on_message) options_.on_message(message);
  }

  const SmtpSinkOptions options_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<SinkMessage> messages_;                   // guarded by mutex_
  std::array<std::optional<std::string>, 5> refusals_;  // guarded by mutex_
  std::vector<std::thread> connections_;                // guarded by mutex_
};

Result<void> SmtpSink::Impl::Listen() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Fail(Error::Unavailable(std::string("SMTP sink: socket: ") + std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Fail(Error::Unavailable(std::string("SMTP sink: listen on 127.0.0.1: ") + std::strerror(errno)));
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return {};
}

void SmtpSink::Impl::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    if (stopping_.load()) {
      ::close(fd);
      break;
    }
    connections_.emplace_back([this, fd] { Connection(*this, fd).Serve(); });
  }
}

void SmtpSink::Impl::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection.join();  // each sees stopping_ within kPollMs
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::optional<std::string> SmtpSink::Impl::Connection::ReadLine(std::size_t limit) {
  for (;;) {
    std::size_t eol = buffer_.find('\n');
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol + 1);
      buffer_.erase(0, eol + 1);
      return line;
    }
    if (buffer_.size() > limit) return std::nullopt;
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    int ready = ::poll(&p, 1, kPollMs);
    if (sink_.stopping_.load()) return std::nullopt;
    if (ready <= 0) continue;
    std::array<char, 16384> chunk;
    ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

bool SmtpSink::Impl::Connection::Reply(std::string_view text) {
  std::string wire = std::string(text) + "\r\n";
  std::string_view rest = wire;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool SmtpSink::Impl::Connection::ReceiveData() {
  std::string& data = transaction_.data;
  for (;;) {
    auto line = ReadLine(kMaxMessageBytes);
    if (!line) return false;
    std::string_view text = *line;
    if (text == ".\r\n" || text == ".\n") return true;
    if (text.starts_with('.')) text.remove_prefix(1);  // dot-unstuffing (RFC 5321 section 4.5.2)
    if (data.size() + text.size() > kMaxMessageBytes) return false;
    data.append(text);
  }
}

void SmtpSink::Impl::Connection::Serve() {
  if (auto refusal = sink_.Refusal(SmtpStage::kGreeting)) {
    Reply(*refusal);
    ::shutdown(fd_, SHUT_RDWR);
    return;
  }
  if (!Reply("220 " + std::string(kHostname) + " ESMTP test sink")) return;
  for (;;) {
    auto line = ReadLine(kMaxCommandLine);
    if (!line) break;
    std::string_view command = StripLineEnd(*line);
    bool ok = true;
    if (StartsWithIgnoreCase(command, "EHLO")) {
      transaction_.helo = std::string(command.substr(std::min<std::size_t>(5, command.size())));
      ResetTransaction();
      std::string reply = "250-" + std::string(kHostname) + "\r\n250-PIPELINING\r\n250-8BITMIME\r\n";
      if (sink_.options_.offer_auth) reply += "250-AUTH PLAIN\r\n";
      reply += "250 SIZE " + std::to_string(kMaxMessageBytes);
      ok = Reply(reply);
    } else if (StartsWithIgnoreCase(command, "HELO")) {
      transaction_.helo = std::string(command.substr(std::min<std::size_t>(5, command.size())));
      ResetTransaction();
      ok = Reply("250 " + std::string(kHostname));
    } else if (StartsWithIgnoreCase(command, "AUTH PLAIN")) {
      std::string response(command.substr(std::min<std::size_t>(11, command.size())));
      if (response.empty()) {
        if (!Reply("334 ")) break;
        auto continuation = ReadLine(kMaxCommandLine);
        if (!continuation) break;
        response = std::string(StripLineEnd(*continuation));
      }
      // authzid NUL authcid NUL password (RFC 4616)
      std::string decoded = Base64Decode(response);
      std::size_t first = decoded.find('\0');
      std::size_t second = first == std::string::npos ? std::string::npos : decoded.find('\0', first + 1);
      if (second == std::string::npos) {
        ok = Reply("501 5.5.2 malformed AUTH PLAIN response");
      } else {
        transaction_.auth_user = decoded.substr(first + 1, second - first - 1);
        transaction_.auth_password = decoded.substr(second + 1);
        ok = Reply("235 2.7.0 Authentication successful");
      }
    } else if (StartsWithIgnoreCase(command, "MAIL FROM:")) {
      auto path = PathArgument(command.substr(10));
      if (!path) {
        ok = Reply("501 5.1.7 bad sender address syntax");
      } else if (auto refusal = sink_.Refusal(SmtpStage::kMail)) {
        ok = Reply(*refusal);
      } else {
        ResetTransaction();
        transaction_.mail_from = *path;
        in_transaction_ = true;
        ok = Reply("250 2.1.0 OK");
      }
    } else if (StartsWithIgnoreCase(command, "RCPT TO:")) {
      auto path = PathArgument(command.substr(8));
      if (!in_transaction_) {
        ok = Reply("503 5.5.1 need MAIL first");
      } else if (!path || path->empty()) {
        ok = Reply("501 5.1.3 bad recipient address syntax");
      } else if (auto refusal = sink_.Refusal(SmtpStage::kRcpt)) {
        ok = Reply(*refusal);
      } else {
        transaction_.recipients.push_back(*path);
        ok = Reply("250 2.1.5 OK");
      }
    } else if (StartsWithIgnoreCase(command, "DATA")) {
      if (!in_transaction_ || transaction_.recipients.empty()) {
        ok = Reply("503 5.5.1 need MAIL and RCPT first");
      } else if (auto refusal = sink_.Refusal(SmtpStage::kData)) {
        ok = Reply(*refusal);
      } else {
        if (!Reply("354 End data with <CR><LF>.<CR><LF>") || !ReceiveData()) break;
        if (auto final_refusal = sink_.Refusal(SmtpStage::kMessage)) {
          ok = Reply(*final_refusal);
        } else {
          sink_.Store(transaction_);
          ok = Reply("250 2.0.0 OK queued");
        }
        ResetTransaction();
      }
    } else if (StartsWithIgnoreCase(command, "RSET")) {
      ResetTransaction();
      ok = Reply("250 2.0.0 OK");
    } else if (StartsWithIgnoreCase(command, "NOOP")) {
      ok = Reply("250 2.0.0 OK");
    } else if (StartsWithIgnoreCase(command, "VRFY")) {
      ok = Reply("252 2.5.2 Cannot VRFY user");
    } else if (StartsWithIgnoreCase(command, "QUIT")) {
      Reply("221 2.0.0 Bye");
      break;
    } else {
      ok = Reply("502 5.5.2 command not implemented");
    }
    if (!ok) break;
  }
  ::shutdown(fd_, SHUT_RDWR);
}

SmtpSink::SmtpSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmtpSink::~SmtpSink() { Stop(); }

Result<std::unique_ptr<SmtpSink>> SmtpSink::Start(SmtpSinkOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  HIKESHI_CHECK(impl->Listen());
  return std::make_unique<SmtpSink>(std::move(impl));
}

std::uint16_t SmtpSink::port() const { return impl_->port(); }
std::string SmtpSink::url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
void SmtpSink::RefuseAt(SmtpStage stage, std::string reply) { impl_->RefuseAt(stage, std::move(reply)); }
void SmtpSink::AcceptAll() { impl_->AcceptAll(); }
std::vector<SinkMessage> SmtpSink::Messages() const { return impl_->Messages(); }
Result<std::vector<SinkMessage>> SmtpSink::WaitForMessages(std::size_t count, std::chrono::milliseconds timeout) const {
  return impl_->WaitForMessages(count, timeout);
}
void SmtpSink::Stop() { impl_->Stop(); }

}  // namespace hikeshi::testing
