// The LMTP transport (RFC 2033 over RFC 5321's command set). The only file of this component that
// includes Boost.Asio.
//
// Per connection: greet, then read -> process every complete line in the buffer (pipelining) ->
// write the replies -> read again. Nothing is read while replies are unwritten or a delivery is
// running, so a client that sends without reading cannot make us buffer without bound. A message is
// streamed through a dot-unstuffing state machine into a buffer capped at max_message_bytes; past
// the cap the rest is only counted and discarded, and each recipient gets 552 after the final dot.
// The deliver callback runs on a separate pool, so a slow store never stalls the network threads.

#include "hikeshi/intake/lmtp/lmtp_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hikeshi/common/listen_address.hpp"

namespace hikeshi::intake::lmtp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCodeAsio = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// RFC 5321 section 4.5.3.1: a command line is at most 512 octets and a text line 1000; long
// addresses and parameters get some tolerance before a line counts as overlong.
constexpr std::size_t kMaxCommandLine = 2048;
constexpr std::size_t kReadChunk = 64 << 10;
constexpr std::size_t kMaxRecipients = 1000;
constexpr std::size_t kMaxPathLength = 512;
constexpr int kMaxBadCommands = 20;
constexpr std::chrono::seconds kFarewellTimeout{5};          // for writing a 421 before closing
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};  // after EMFILE and the like

char UpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return UpperAscii(x) == UpperAscii(y); });
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "host:port" (common::ParseListenAddress) as an Asio endpoint.
Result<tcp::endpoint> ParseListen(std::string_view listen) {
  auto parsed = common::ParseListenAddress(listen, "LMTP listen address");
  if (!parsed) return Fail(Error(parsed.error().code(), parsed.error().message(), "/lmtp/listen"));
  ErrorCodeAsio parse_error;
  const auto address = asio::ip::make_address(parsed->host, parse_error);
  if (parse_error || (parsed->bracketed && !address.is_v6())) {
    return Fail(Error::InvalidArgument(
        fmt::format("LMTP listen address '{}': host must be an IP address or localhost", listen), "/lmtp/listen"));
  }
  return tcp::endpoint(address, parsed->port);
}

std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// A path argument: "<addr>" followed by optional parameters. Quoted local parts may hold '>'.
struct PathArgument {
  std::string address;
  std::vector<std::string_view> parameters;
};

std::optional<PathArgument> ParsePath(std::string_view text) {
  text = TrimBlanks(text);
  if (!text.starts_with('<')) return std::nullopt;
  bool quoted = false;
  std::size_t close = std::string_view::npos;
  for (std::size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) return std::nullopt;
  PathArgument path{.address = std::string(text.substr(1, close - 1)), .parameters = {}};
  if (path.address.size() > kMaxPathLength) return std::nullopt;
  if (std::any_of(path.address.begin(), path.address.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(close + 1);
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  while (!rest.empty()) {
    rest = TrimBlanks(rest);
    std::size_t space = rest.find(' ');
    if (!rest.empty()) path.parameters.push_back(rest.substr(0, space));
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space);
  }
  return path;
}

class Session;

class Server {
 public:
  Server(LmtpOptions options, LmtpDeliver deliver)
      : options_(std::move(options)),
        deliver_(std::move(deliver)),
        io_context_(options_.threads),
        work_(io_context_.get_executor()),
        acceptor_strand_(asio::make_strand(io_context_)),
        acceptor_(acceptor_strand_),
        accept_retry_timer_(acceptor_strand_),
        delivery_pool_(static_cast<std::size_t>(options_.delivery_threads)) {}

  ~Server() { Stop(); }

  Result<void> Start();
  std::uint16_t Port() const { return port_; }
  void Stop();

  const LmtpOptions& Options() const { return options_; }
  bool Stopping() const { return stopping_.load(); }
  // Runs the deliver callback on the delivery pool, then `done` on the session's strand.
  template <typename Done>
  void Deliver(LmtpEnvelope envelope, std::string raw, asio::strand<asio::io_context::executor_type> strand,
               Done done) {
    asio::post(delivery_pool_,
               [this, envelope = std::move(envelope), raw = std::move(raw), strand, done = std::move(done)]() mutable {
                 std::vector<Result<void>> results = CallDeliver(envelope, std::move(raw));
                 asio::post(strand, [done = std::move(done), results = std::move(results)]() mutable {
                   done(std::move(results));
                 });
               });
  }
  void Register(Session* session);
  void Unregister(Session* session);

 private:
  std::vector<Result<void>> CallDeliver(const LmtpEnvelope& envelope, std::string raw) const;
  void Accept();
  std::vector<std::shared_ptr<Session>> LiveSessions();

  const LmtpOptions options_;
  const LmtpDeliver deliver_;

  // Before io_context_: sessions still held by queued handlers are destroyed with the io_context
  // and unregister themselves here on the way out.
  std::mutex sessions_mutex_;
  std::condition_variable sessions_gone_;
  std::unordered_set<Session*> sessions_;  // guarded by sessions_mutex_

  std::atomic<bool> stopping_{false};
  std::uint16_t port_ = 0;

  asio::io_context io_context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::strand<asio::io_context::executor_type> acceptor_strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  std::vector<std::thread> threads_;
  // After io_context_: destroyed (joined) first, while the sessions its tasks hold can still close.
  asio::thread_pool delivery_pool_;
};

// One LMTP connection. Owned through shared_ptr because every pending Asio operation must keep it
// alive until its handler has run. Everything runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, tcp::socket socket, asio::strand<asio::io_context::executor_type> strand,
          std::string client_address)
      : server_(server),
        strand_(std::move(strand)),
        socket_(std::move(socket)),
        timer_(strand_),
        client_address_(std::move(client_address)) {
    server_.Register(this);
  }
  ~Session() { server_.Unregister(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Begin() {
    asio::post(strand_, [self = shared_from_this()] {
      self->Queue(fmt::format("220 {} LMTP server ready", self->Options().hostname));
      self->Flush();
    });
  }

  void NotifyStopping() {
    asio::post(strand_, [self = shared_from_this()] {
      self->stopping_ = true;
      // Waiting for the next command: leave now. Receiving or delivering a message: finish first.
      if (self->mode_ == Mode::kCommand && self->reading_) self->socket_.cancel();
    });
  }

  void CloseNow() {  // only once no thread runs the io_context any more
    ErrorCodeAsio ignored;
    socket_.close(ignored);
  }

 private:
  enum class Mode { kCommand, kData, kDelivering, kClosing, kClosed };
  enum class DataState { kLineStart, kMidLine, kDot, kDotCr };

  const LmtpOptions& Options() const { return server_.Options(); }

  void Queue(std::string_view reply) {
    out_ += reply;
    out_ += "\r\n";
  }

  void ArmTimer(std::chrono::steady_clock::duration timeout) {
    timed_out_ = false;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](const ErrorCodeAsio& ec) { self->OnTimer(ec); });
  }

  void OnTimer(const ErrorCodeAsio& ec) {
    // A stale expiry, queued before the timer was re-armed, must not cut the next operation short.
    if (ec || timer_.expiry() > SteadyClock::now()) return;
    if (!reading_ && !writing_) return;
    timed_out_ = true;
    socket_.cancel();
  }

  void Read() {
    if (mode_ == Mode::kClosed || reading_) return;
    if (stopping_ && mode_ == Mode::kCommand) return Farewell("421 4.3.2 Service shutting down");
    reading_ = true;
    ArmTimer(Options().idle_timeout);
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](const ErrorCodeAsio& ec, std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const ErrorCodeAsio& ec, std::size_t n) {
    reading_ = false;
    timer_.cancel();
    if (mode_ == Mode::kClosed) return;
    if (ec == asio::error::operation_aborted && timed_out_) {
      return Farewell(fmt::format("421 4.4.2 {} idle for {} s, closing connection", Options().hostname,
                                  Options().idle_timeout.count()));
    }
    if (ec == asio::error::operation_aborted && stopping_) return Farewell("421 4.3.2 Service shutting down");
    if (ec) return Close();  // the client went away; an unfinished transaction is simply dropped
    input_.append(read_buffer_.data(), n);
    Process();
  }

  // Sends a final 421 and closes: for shutdown, idle clients and clients that misbehave.
  void Farewell(std::string_view reply) {
    if (mode_ == Mode::kData) ResetTransaction();
    Queue(reply);
    mode_ = Mode::kClosing;
    Flush();
  }

  // Writes the queued replies, then reads, or closes when closing.
  void Flush() {
    if (mode_ == Mode::kClosed || writing_) return;  // OnWritten() flushes again
    if (out_.empty()) {
      if (mode_ == Mode::kClosing) return Close();
      if (mode_ != Mode::kDelivering) Read();
      return;
    }
    writing_buffer_ = std::move(out_);
    out_.clear();
    writing_ = true;
    ArmTimer(mode_ == Mode::kClosing ? std::chrono::steady_clock::duration(kFarewellTimeout)
                                     : std::chrono::steady_clock::duration(Options().idle_timeout));
    asio::async_write(socket_, asio::buffer(writing_buffer_),
                      [self = shared_from_this()](const ErrorCodeAsio& ec, std::size_t) { self->OnWritten(ec); });
  }

  void OnWritten(const ErrorCodeAsio& ec) {
    writing_ = false;
    timer_.cancel();
    writing_buffer_.clear();
    if (ec || mode_ == Mode::kClosed) return Close();
    Flush();
  }

  // Handles everything complete in input_, then flushes. Stops early while a delivery runs; the
  // rest of the input waits for it.
  void Process() {
    while (position_ < input_.size() && (mode_ == Mode::kCommand || mode_ == Mode::kData)) {
      if (mode_ == Mode::kData) {
        if (ConsumeData()) FinishData();
        continue;
      }
      std::size_t eol = input_.find('\n', position_);
      if (eol == std::string::npos) {
        if (input_.size() - position_ > kMaxCommandLine) {
          discarding_line_ = true;  // the rest of this line is dropped as it arrives
          position_ = input_.size();
        }
        break;
      }
      std::string_view line(input_.data() + position_, eol - position_);
      position_ = eol + 1;
      if (discarding_line_ || line.size() > kMaxCommandLine) {
        discarding_line_ = false;
        BadCommand("500 5.5.2 Line too long");
        continue;
      }
      if (line.ends_with('\r')) line.remove_suffix(1);
      HandleCommand(line);
    }
    input_.erase(0, position_);
    position_ = 0;
    Flush();
  }

  void BadCommand(std::string_view reply) {
    if (++bad_commands_ > kMaxBadCommands) return Farewell("421 4.7.0 Too many errors, closing connection");
    Queue(reply);
  }

  void ResetTransaction() {
    in_transaction_ = false;
    envelope_ = LmtpEnvelope{.mail_from = {}, .recipients = {}, .client_address = client_address_};
    message_.clear();
    message_.shrink_to_fit();
    message_bytes_ = 0;
    too_large_ = false;
  }

  void HandleCommand(std::string_view line) {
    std::string_view verb = line.substr(0, line.find(' '));
    std::string_view argument = line.size() > verb.size() ? TrimBlanks(line.substr(verb.size() + 1)) : "";
    if (EqualsIgnoreCase(verb, "LHLO")) {
      if (argument.empty()) return BadCommand("501 5.5.4 LHLO needs a domain or address literal");
      greeted_ = true;
      ResetTransaction();
      return Queue(fmt::format("250-{}\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE {}",
                               Options().hostname, Options().max_message_bytes));
    }
    if (EqualsIgnoreCase(verb, "HELO") || EqualsIgnoreCase(verb, "EHLO")) {
      return BadCommand("500 5.5.1 This is an LMTP server: use LHLO");
    }
    if (EqualsIgnoreCase(verb, "MAIL")) return HandleMail(line.substr(verb.size()));
    if (EqualsIgnoreCase(verb, "RCPT")) return HandleRcpt(line.substr(verb.size()));
    if (EqualsIgnoreCase(verb, "DATA")) {
      if (!in_transaction_) return BadCommand("503 5.5.1 Send MAIL first");
      if (envelope_.recipients.empty()) return BadCommand("503 5.5.1 No valid recipients");
      mode_ = Mode::kData;
      data_state_ = DataState::kLineStart;
      return Queue("354 Start mail input; end with <CRLF>.<CRLF>");
    }
    if (EqualsIgnoreCase(verb, "RSET")) {
      ResetTransaction();
      return Queue("250 2.0.0 OK");
    }
    if (EqualsIgnoreCase(verb, "NOOP")) return Queue("250 2.0.0 OK");
    if (EqualsIgnoreCase(verb, "VRFY")) return Queue("252 2.5.2 Cannot VRFY user, but will accept message");
    if (EqualsIgnoreCase(verb, "QUIT")) {
      Queue(fmt::format("221 2.0.0 {} closing connection", Options().hostname));
      mode_ = Mode::kClosing;
      return;
    }
    if (line.empty()) return BadCommand("500 5.5.2 Empty command");
    BadCommand("500 5.5.1 Command unrecognized");
  }

  void HandleMail(std::string_view rest) {
    if (!StartsWithIgnoreCase(rest, " FROM:")) return BadCommand("501 5.5.4 Syntax: MAIL FROM:<address>");
    if (!greeted_) return BadCommand("503 5.5.1 Send LHLO first");
    if (in_transaction_) return BadCommand("503 5.5.1 Nested MAIL command");
    auto path = ParsePath(rest.substr(6));
    if (!path) return BadCommand("501 5.1.7 Bad sender address syntax");
    for (std::string_view parameter : path->parameters) {
      if (StartsWithIgnoreCase(parameter, "SIZE=")) {
        std::string_view digits = parameter.substr(5);
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
        if (digits.empty() || end != digits.data() + digits.size() || ec == std::errc::invalid_argument) {
          return BadCommand("501 5.5.4 Bad SIZE parameter");
        }
        if (ec == std::errc::result_out_of_range || size > Options().max_message_bytes) {
          return Queue(
              fmt::format("552 5.3.4 Message size exceeds fixed limit of {} bytes", Options().max_message_bytes));
        }
      } else if (!EqualsIgnoreCase(parameter, "BODY=7BIT") && !EqualsIgnoreCase(parameter, "BODY=8BITMIME")) {
        return BadCommand(fmt::format("555 5.5.4 Unsupported parameter {}", parameter.substr(0, 64)));
      }
    }
    ResetTransaction();
    in_transaction_ = true;
    envelope_.mail_from = std::move(path->address);
    Queue("250 2.1.0 Sender OK");
  }

  void HandleRcpt(std::string_view rest) {
    if (!StartsWithIgnoreCase(rest, " TO:")) return BadCommand("501 5.5.4 Syntax: RCPT TO:<address>");
    if (!in_transaction_) return BadCommand("503 5.5.1 Send MAIL first");
    auto path = ParsePath(rest.substr(4));
    if (!path || path->address.empty()) return BadCommand("501 5.1.3 Bad recipient address syntax");
    if (!path->parameters.empty()) {
      return BadCommand(fmt::format("555 5.5.4 Unsupported parameter {}", path->parameters[0].substr(0, 64)));
    }
    if (envelope_.recipients.size() >= kMaxRecipients) return Queue("452 4.5.3 Too many recipients");
    envelope_.recipients.push_back(std::move(path->address));
    Queue("250 2.1.5 Recipient OK");
  }

  void Append(std::string_view bytes) {
    message_bytes_ += bytes.size();
    if (too_large_) return;
    if (message_.size() + bytes.size() > Options().max_message_bytes) {
      too_large_ = true;  // keep reading to the final dot, but keep nothing
      message_.clear();
      message_.shrink_to_fit();
      return;
    }
    message_.append(bytes);
  }

  // Feeds message bytes from input_ through dot-unstuffing (CRLF or bare LF). Returns true at the
  // final ".", having consumed it.
  bool ConsumeData() {
    while (position_ < input_.size()) {
      char c = input_[position_];
      switch (data_state_) {
        case DataState::kMidLine: {
          std::size_t eol = input_.find('\n', position_);
          std::size_t end = eol == std::string::npos ? input_.size() : eol + 1;
          Append(std::string_view(input_).substr(position_, end - position_));
          position_ = end;
          if (eol != std::string::npos) data_state_ = DataState::kLineStart;
          break;
        }
        case DataState::kLineStart:
          if (c == '.') {
            data_state_ = DataState::kDot;
            ++position_;
          } else {
            data_state_ = DataState::kMidLine;
          }
          break;
        case DataState::kDot:
          if (c == '\n') {
            ++position_;
            return true;
          }
          if (c == '\r') {
            data_state_ = DataState::kDotCr;
            ++position_;
          } else {
            data_state_ = DataState::kMidLine;  // a stuffed dot: dropped
          }
          break;
        case DataState::kDotCr:
          if (c == '\n') {
            ++position_;
            return true;
          }
          Append("\r");
          data_state_ = DataState::kMidLine;
          break;
      }
    }
    return false;
  }

  void FinishData() {
    if (too_large_) {
      for (const auto& recipient : envelope_.recipients) {
        Queue(fmt::format("552 5.3.4 <{}> Message exceeds the size limit of {} bytes", recipient,
                          Options().max_message_bytes));
      }
      spdlog::warn("lmtp: refused a {}-byte message from {} over the limit of {} bytes", message_bytes_,
                   client_address_, Options().max_message_bytes);
      ResetTransaction();
      mode_ = Mode::kCommand;
      return;
    }
    mode_ = Mode::kDelivering;
    std::string raw = std::move(message_);
    message_.clear();
    server_.Deliver(envelope_, std::move(raw), strand_, [self = shared_from_this()](std::vector<Result<void>> results) {
      self->OnDelivered(std::move(results));
    });
  }

  void OnDelivered(std::vector<Result<void>> results) {
    if (mode_ == Mode::kClosed) return;
    for (std::size_t i = 0; i < envelope_.recipients.size(); ++i) {
      const std::string& recipient = envelope_.recipients[i];
      const Result<void>& result = results[i];
      if (result) {
        Queue(fmt::format("250 2.0.0 <{}> Message stored", recipient));
      } else if (result.error().code() == ErrorCode::kTooLarge) {
        Queue(fmt::format("552 5.3.4 <{}> Message too large", recipient));
      } else {
        Queue(fmt::format("451 4.3.0 <{}> Temporarily unable to store the message, try again later", recipient));
      }
    }
    ResetTransaction();
    mode_ = Mode::kCommand;
    if (stopping_) return Farewell("421 4.3.2 Service shutting down");
    Process();  // pipelined input that arrived with the final dot
  }

  void Close() {
    if (mode_ == Mode::kClosed) return;
    mode_ = Mode::kClosed;
    timer_.cancel();
    ErrorCodeAsio ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Server& server_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  const std::string client_address_;

  std::array<char, kReadChunk> read_buffer_{};
  std::string input_;  // received, not yet handled from position_ on
  std::size_t position_ = 0;
  std::string out_;             // replies not yet written
  std::string writing_buffer_;  // the replies being written
  Mode mode_ = Mode::kCommand;
  bool reading_ = false;
  bool writing_ = false;
  bool timed_out_ = false;
  bool stopping_ = false;
  bool greeted_ = false;
  bool discarding_line_ = false;
  int bad_commands_ = 0;

  bool in_transaction_ = false;
  LmtpEnvelope envelope_{.mail_from = {}, .recipients = {}, .client_address = client_address_};
  DataState data_state_ = DataState::kLineStart;
  std::string message_;
  std::size_t message_bytes_ = 0;  // as received, including what was dropped over the limit
  bool too_large_ = false;
};

Result<void> Server::Start() {
  HIKESHI_TRY(tcp::endpoint endpoint, ParseListen(options_.listen));
  ErrorCodeAsio ec;
  auto fail = [&](std::string_view step) {
    ErrorCodeAsio ignored;
    acceptor_.close(ignored);
    return Fail(
        Error::Unavailable(fmt::format("LMTP: cannot listen on {} ({}): {}", options_.listen, step, ec.message())));
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return fail("socket");
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor_.bind(endpoint, ec)) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("getsockname");
  port_ = bound.port();
  asio::post(acceptor_strand_, [this] { Accept(); });
  threads_.reserve(static_cast<std::size_t>(options_.threads));
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          io_context_.run();
          return;
        } catch (const std::exception& e) {
          // One connection's bug must not take the listener down.
          spdlog::error("lmtp: unexpected exception in a network thread: {}", e.what());
        }
      }
    });
  }
  return {};
}

void Server::Accept() {
  auto strand = asio::make_strand(io_context_);
  acceptor_.async_accept(strand, [this, strand](const ErrorCodeAsio& ec, tcp::socket socket) {
    if (Stopping() || ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("lmtp: accept failed: {}", ec.message());
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      accept_retry_timer_.async_wait([this](const ErrorCodeAsio& wait_ec) {
        if (!wait_ec && !Stopping()) Accept();
      });
      return;
    }
    ErrorCodeAsio endpoint_ec;
    tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
    if (!endpoint_ec) {
      ErrorCodeAsio ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(*this, std::move(socket), strand, AddressText(remote.address()))->Begin();
    }
    Accept();
  });
}

std::vector<Result<void>> Server::CallDeliver(const LmtpEnvelope& envelope, std::string raw) const {
  std::size_t expected = envelope.recipients.size();
  auto all = [&](const Error& error) { return std::vector<Result<void>>(expected, Fail(error)); };
  try {
    std::vector<Result<void>> results = deliver_(envelope, std::move(raw));
    if (results.size() != expected) {
      spdlog::error("lmtp: the deliver callback returned {} results for {} recipients", results.size(), expected);
      return all(Error::Internal("wrong number of delivery results"));
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i]) {
        spdlog::warn("lmtp: message from {} for <{}> not stored: {}: {}", envelope.client_address,
                     envelope.recipients[i], ErrorCodeName(results[i].error().code()), results[i].error().message());
      }
    }
    return results;
  } catch (const std::exception& e) {
    spdlog::error("lmtp: the deliver callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("lmtp: the deliver callback threw a non-standard exception");
  }
  return all(Error::Internal("delivery failed"));
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_strand_, [this] {
    ErrorCodeAsio ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
  });
  for (const auto& session : LiveSessions()) session->NotifyStopping();
  {
    std::unique_lock lock(sessions_mutex_);
    sessions_gone_.wait_for(lock, options_.shutdown_grace, [this] { return sessions_.empty(); });
  }
  work_.reset();
  io_context_.stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  delivery_pool_.join();
  // Whatever outlived the grace period is cut off here; no thread touches the sockets any more.
  for (const auto& session : LiveSessions()) session->CloseNow();
}

std::vector<std::shared_ptr<Session>> Server::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(sessions_mutex_);
  live.reserve(sessions_.size());
  for (Session* session : sessions_) {
    if (auto alive = session->weak_from_this().lock()) live.push_back(std::move(alive));
  }
  return live;
}

void Server::Register(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.insert(session);
}

void Server::Unregister(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_gone_.notify_all();
}

}  // namespace

class LmtpServer::Impl : public Server {
 public:
  using Server::Server;
};

LmtpServer::LmtpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LmtpServer::~LmtpServer() { Stop(); }

Result<std::unique_ptr<LmtpServer>> LmtpServer::Start(LmtpOptions options, LmtpDeliver deliver) {
  if (options.threads < 1) return Fail(Error::InvalidArgument("LMTP threads must be at least 1", "/lmtp/threads"));
  if (options.delivery_threads < 1 || options.delivery_threads > 256) {
    return Fail(Error::InvalidArgument("LMTP delivery threads must be between 1 and 256", "/lmtp/delivery_threads"));
  }
  if (options.max_message_bytes == 0) {
    return Fail(Error::InvalidArgument("LMTP max_message_bytes must be positive", "/lmtp/max_message_bytes"));
  }
  if (options.idle_timeout.count() <= 0) {
    return Fail(Error::InvalidArgument("LMTP idle_timeout must be positive", "/lmtp/idle_timeout"));
  }
  const std::string& host = options.hostname;
  if (host.empty() || host.size() > 255 || !std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
      })) {
    return Fail(Error::InvalidArgument("LMTP hostname must be a domain name", "/lmtp/hostname"));
  }
  if (!deliver) return Fail(Error::InvalidArgument("LMTP needs a deliver callback"));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(deliver));
  HIKESHI_CHECK(impl->Start());
  return std::make_unique<LmtpServer>(std::move(impl));
}

std::uint16_t LmtpServer::Port() const { return impl_->Port(); }

void LmtpServer::Stop() { impl_->Stop(); }

}  // namespace hikeshi::intake::lmtp
