// The HTTP/1.1 transport. This is the only translation unit in Hikeshi that includes Boost.Beast or
// Boost.Asio: both are heavy to compile, and keeping them here keeps every other file fast to build
// and free of Boost types.
//
// Per connection the life cycle is:
//   wait for the first byte (request_timeout on a fresh connection, idle_timeout on keep-alive)
//   -> read the request under one deadline covering header and body (request_timeout)
//   -> run the handler -> write the response -> loop (keep-alive) or close.
// Requests refused by the transport (too large, too slow, malformed) get a response from the
// ErrorResponder and a lingering close, so the client reads the status instead of a reset.
//
// A streamed response (HttpResponse::stream, for server-sent events) takes a thread of its own that
// calls ResponseStream::Next() and posts each piece to the connection's strand, which writes it
// (chunked) with a write deadline and a bound on unread bytes. A read kept pending on the socket
// notices the client hanging up; that, Stop() and the server's end all request the stream's
// stop_token, so no thread outlives Run().

#include "hikeshi/api/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/core.h>

#include "hikeshi/common/listen_address.hpp"

namespace hikeshi::api {

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

const std::string* HttpRequest::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// How much a lingering close reads and discards before giving up on the client, and for how long.
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr std::chrono::milliseconds kLingerTimeout{1'000};
// A response must be drained by the client within this, or request_timeout if that is longer.
constexpr std::chrono::milliseconds kMinWriteTimeout{10'000};
// Pause before accepting again after an accept error such as EMFILE, so it cannot spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::size_t kReadChunk = 4096;
// A stream's client that leaves this much unread is cut off (it can reconnect and resume).
constexpr std::size_t kMaxStreamBacklog = 1 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A streamed request body is read in pieces of at most kBodyChunk (whatever one read brings), and
// at most kBodyReadAhead ahead of its handler.
constexpr std::size_t kBodyChunk = 64 << 10;
constexpr std::size_t kBodyReadAhead = 1 << 20;
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return LowerAscii(x) == LowerAscii(y); });
}

// True when a comma-separated header value lists `token` (case-insensitive), e.g. "keep-alive, close".
bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 9110 token characters: what a header name may contain.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Control characters other than HTAB would let a header value split the response.
bool IsSafeHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as space in query components). A broken escape or a NUL byte is
// refused: later layers treat these strings as C-safe text and route on them.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = in.size() - i >= 3 ? HexValue(in[i + 1]) : -1;
      int lo = in.size() - i >= 3 ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Fail(Error::InvalidArgument(fmt::format("invalid percent-escape in {}", what)));
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return Fail(Error::InvalidArgument(fmt::format("NUL byte in {}", what)));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out.push_back(c);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      HIKESHI_TRY(std::string name, PercentDecode(pair.substr(0, eq), true, "query"));
      std::string value;
      if (eq != std::string_view::npos) {
        HIKESHI_TRY(value, PercentDecode(pair.substr(eq + 1), true, "query"));
      }
      out.emplace_back(std::move(name), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

// Splits a request target into its path and query. Origin-form ("/a?b") is what clients send;
// absolute-form ("http://host/a?b") must be accepted too (RFC 9112 section 3.2.2).
Result<std::pair<std::string_view, std::string_view>> SplitTarget(std::string_view target) {
  std::string_view query;
  if (std::size_t q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && EqualsIgnoreCase(target.substr(0, scheme.size()), scheme)) {
      std::size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  if (target.empty() || (target.front() != '/' && target != "*")) {
    return Fail(Error::InvalidArgument("request target must be an absolute path"));
  }
  return std::pair{target, query};
}

Result<HttpRequest> BuildRequest(http::request<http::string_body>& wire, const std::string& remote_address) {
  HttpRequest request;
  request.method = std::string(ToStd(wire.method_string()));
  request.target = std::string(ToStd(wire.target()));
  HIKESHI_TRY(auto parts, SplitTarget(request.target));
  HIKESHI_TRY(request.path, PercentDecode(parts.first, false, "path"));
  HIKESHI_TRY(request.query, ParseQuery(parts.second));
  for (const auto& field : wire) {
    request.headers.emplace_back(Lower(ToStd(field.name_string())), std::string(ToStd(field.value())));
  }
  request.body = std::move(wire.body());
  request.remote_address = remote_address;
  return request;
}

// IMF-fixdate (RFC 9110 section 5.6.7), built by hand so the C locale cannot change day names.
std::string HttpDate() {
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                     kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

using WireResponse = http::response<http::string_body>;

// Turns a handler's response into the bytes we send. The server owns message framing
// (Content-Length, Transfer-Encoding, Connection); everything else passes through unchanged.
// Errors: kInternal when the handler produced something that cannot be sent safely.
Result<WireResponse> ToWire(HttpResponse&& response, unsigned version, bool keep_alive, bool head) {
  if (response.status < 200 || response.status > 599) {
    return Fail(Error::Internal(fmt::format("handler returned HTTP status {}", response.status)));
  }
  WireResponse wire;
  wire.version(version);
  wire.result(static_cast<unsigned>(response.status));
  wire.set(http::field::server, "hikeshi");
  bool has_date = false;
  for (const auto& [name, value] : response.headers) {
    if (!IsToken(name) || !IsSafeHeaderValue(value)) {
      return Fail(Error::Internal(fmt::format("handler returned an invalid header '{}'", name)));
    }
    std::string lower = Lower(name);
    if (lower == "content-length" || lower == "transfer-encoding") continue;
    if (lower == "connection") {
      if (ListsToken(value, "close")) keep_alive = false;
      continue;
    }
    if (lower == "server") {
      wire.set(http::field::server, value);
      continue;
    }
    if (lower == "date") has_date = true;
    wire.insert(name, value);
  }
  if (!has_date) wire.set(http::field::date, HttpDate());
  // 204 and 304 responses carry no body and no meaningful length (RFC 9110 sections 8.6, 15.4.5).
  bool bodiless = response.status == 204 || response.status == 304;
  if (!bodiless) wire.content_length(response.body.size());
  // HEAD gets the Content-Length of the body it would have received, and no body.
  if (!bodiless && !head) wire.body() = std::move(response.body);
  wire.keep_alive(keep_alive);
  return wire;
}

const boost::system::error_category& HttpErrorCategory() {
  return http::make_error_code(http::error::bad_method).category();
}

// "host:port" (common::ParseListenAddress) as an Asio endpoint.
Result<tcp::endpoint> ParseListen(std::string_view listen) {
  HIKESHI_TRY(const auto parsed, common::ParseListenAddress(listen, "listen address"));
  boost::system::error_code parse_error;
  const auto address = asio::ip::make_address(parsed.host, parse_error);
  if (parse_error || (parsed.bracketed && !address.is_v6())) {
    return Fail(
        Error::InvalidArgument(fmt::format("listen address '{}': host must be an IP address or localhost", listen)));
  }
  return tcp::endpoint(address, parsed.port);
}

std::string AddressText(const asio::ip::address& address) {
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; report them as plain IPv4.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// Hands a streamed request body from its connection (which reads it, on the connection's strand)
// to the handler (which reads it on a thread of its own). The connection goes on reading while less
// than kBodyReadAhead waits for the handler, and stops when that much does; the handler asks it to
// go on as soon as it takes a piece. So memory stays at kBodyReadAhead whatever the body's size, a
// slow handler slows the client down (TCP flow control) instead of growing a queue, and a handler
// that keeps up rarely waits for the network.
class BodyPipe final : public RequestBodyStream {
 public:
  // `want_more` asks the connection to read (it must not block); `stop` ends every wait (the
  // connection closed, the server is stopping).
  BodyPipe(std::function<void()> want_more, std::stop_token stop)
      : want_more_(std::move(want_more)), stop_(std::move(stop)) {}

  Result<std::size_t> Read(char* buffer, std::size_t size) override {
    std::unique_lock lock(mutex_);
    while (offset_ == current_.size()) {
      if (!queue_.empty()) {
        if (spares_.size() < kBodyReadAhead / kBodyChunk + 2) {
          current_.clear();
          spares_.push_back(std::move(current_));
        }
        current_ = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= current_.size();
        offset_ = 0;
        Ask(lock);  // there is room again
        continue;
      }
      if (failure_) return Fail(*failure_);
      if (ended_) return std::size_t{0};
      Ask(lock);
      if (!changed_.wait(lock, stop_, [&] { return !queue_.empty() || failure_.has_value() || ended_; })) {
        return Fail(Error::Unavailable("the connection closed before the request body was read"));
      }
    }
    const std::size_t n = std::min(size, current_.size() - offset_);
    std::memcpy(buffer, current_.data() + offset_, n);
    offset_ += n;
    return n;
  }

  bool WaitReady(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    const auto ready = [&] { return offset_ < current_.size() || !queue_.empty() || failure_.has_value() || ended_; };
    if (ready()) return true;
    Ask(lock);
    // A stop also counts as ready: Read() then reports it at once.
    changed_.wait_for(lock, stop_, timeout, ready);
    return ready() || stop_.stop_requested();
  }

  // From the connection: the next piece (possibly empty), and whether the body ends with it.
  // Returns whether to read on; if not, the handler asks again once it has taken a piece.
  bool Push(std::string piece, bool last) {
    bool more = false;
    {
      std::lock_guard lock(mutex_);
      queued_ += piece.size();
      if (!piece.empty()) queue_.push_back(std::move(piece));
      ended_ = last;
      more = !last && queued_ < kBodyReadAhead;
      reading_ = more;
    }
    changed_.notify_all();
    return more;
  }

  // From the connection: a string to copy the next piece into, with the room of one the handler
  // is done with when there is one (so that a long upload does not allocate and free each piece).
  std::string TakeSpare() {
    std::lock_guard lock(mutex_);
    if (spares_.empty()) return {};
    std::string spare = std::move(spares_.back());
    spares_.pop_back();
    return spare;
  }

  // From the connection: the body cannot be read to its end.
  void Abort(Error error) {
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      if (!failure_) failure_ = std::move(error);
    }
    changed_.notify_all();
  }

 private:
  // Has the connection read on, unless it is reading, the body has ended or failed, or the queue
  // is full.
  void Ask(std::unique_lock<std::mutex>& lock) {
    if (reading_ || ended_ || failure_ || queued_ >= kBodyReadAhead) return;
    reading_ = true;
    lock.unlock();
    want_more_();
    lock.lock();
  }

  const std::function<void()> want_more_;
  const std::stop_token stop_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::string current_;  // the handler's thread only
  std::size_t offset_ = 0;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;           // bytes in queue_
  std::vector<std::string> spares_;  // emptied pieces, keeping their room
  std::optional<Error> failure_;
  bool reading_ = false;  // the connection reads on (or was asked to)
  bool ended_ = false;
};

// Why a streamed request body could not be read to its end, as the handler's Read() reports it.
Error BodyReadError(const boost::system::error_code& ec, const HttpServerOptions& options) {
  if (ec == beast::error::timeout) {
    return Error::DeadlineExceeded(
        fmt::format("no more of the request body arrived within {} ms", options.streamed_body_idle_timeout.count()));
  }
  if (ec == http::error::body_limit) {
    return Error::TooLarge(fmt::format("request body exceeds {} bytes", options.max_streamed_body_bytes), "/body");
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return Error::Unavailable("the client closed the connection before the end of the request body");
  }
  if (ec.category() == HttpErrorCategory()) {
    return Error::InvalidArgument(fmt::format("malformed request body: {}", ec.message()), "/body");
  }
  return Error::Unavailable(fmt::format("reading the request body: {}", ec.message()));
}

class Session;

// Everything the connections share: options, callbacks, the acceptor and the shutdown state.
class Server {
 public:
  Server(HttpServerOptions options, HttpHandler handler, ErrorResponder error_responder)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        error_responder_(std::move(error_responder)),
        io_context_(std::max(options_.threads, 1)),
        strand_(asio::make_strand(io_context_)),
        acceptor_(strand_),
        accept_retry_timer_(strand_),
        grace_timer_(strand_) {}

  ~Server() {
    JoinStreams();  // Run() has joined them already, unless it never ran
    // From here on the io_context destroys sessions; none of them may post to it any more.
    std::lock_guard lock(sessions_mutex_);
    finished_ = true;
  }

  Result<void> Start();
  std::uint16_t BoundPort() const { return port_.load(); }
  void Run();
  void Stop();

  const HttpServerOptions& Options() const { return options_; }
  bool Stopping() const { return stop_requested_.load(); }
  // Runs the handler; an exception becomes an Internal error response, never a dead server.
  HttpResponse Handle(const HttpRequest& request) const;
  // Asks the error responder for the response to a refused request. Never throws.
  HttpResponse Respond(const Error& error) const;
  void Register(Session* session);
  void Unregister(Session* session);
  // Takes one of the max_streams slots; false when all are taken.
  bool TryOpenStream();
  // Runs `stream` on a thread of its own, handing what it produces to `session`, until it ends or
  // `stop` is requested; the slot is given back when the thread ends. False (slot given back) when
  // no thread could be started.
  bool StartStream(std::shared_ptr<Session> session, std::shared_ptr<ResponseStream> stream, std::stop_source stop);
  // Whether the handler reads this request's body as it arrives (HttpServerOptions::stream_body).
  bool StreamsBody(const HttpRequest& head) const;
  // Runs the handler for a request with a streamed body on a thread of its own (holding a slot
  // taken with TryOpenStream) and hands its response to `session`. False (slot given back) when no
  // thread could be started.
  bool StartBodyHandler(std::shared_ptr<Session> session, HttpRequest request, std::stop_source stop);

 private:
  void Accept();
  void OnAccept(const boost::system::error_code& ec, tcp::socket socket);
  void WaitForSignal();
  void BeginShutdown();
  void Finish();
  void RunWorker();
  std::vector<std::shared_ptr<Session>> LiveSessions();
  // Asks every stream to end and waits for its thread.
  void JoinStreams();
  // Joins the threads of streams that have ended. Called with streams_mutex_ held.
  void ReapStreamsLocked();
  // Runs `run` on a thread of its own, listed with the streams so that Stop() and Run()'s end ask
  // it to end and wait for it; gives the slot back when it returns. False when no thread started.
  bool StartThread(std::stop_source stop, std::function<void(std::stop_token)> run);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const ErrorResponder error_responder_;

  // Declared before io_context_: sessions still owned by pending handlers are destroyed with the
  // io_context and unregister themselves here on the way out.
  std::mutex sessions_mutex_;
  std::unordered_set<Session*> sessions_;  // guarded by sessions_mutex_
  bool draining_ = false;                  // guarded by sessions_mutex_
  bool finished_ = false;                  // guarded by sessions_mutex_

  // One thread per open stream (ResponseStream::Next may block, and must not block an I/O thread).
  struct StreamThread {
    std::stop_source stop;
    std::thread thread;
    bool done = false;  // guarded by streams_mutex_
  };
  std::mutex streams_mutex_;
  std::list<StreamThread> streams_;  // guarded by streams_mutex_; a list: entries never move
  int open_streams_ = 0;             // guarded by streams_mutex_: slots taken, threads not yet ended

  std::atomic<bool> stop_requested_{false};
  std::atomic<std::uint16_t> port_{0};
  bool started_ = false;
  std::atomic<bool> run_called_{false};

  asio::io_context io_context_;
  // Serialises the acceptor, the signal set and the shutdown sequence.
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  asio::steady_timer grace_timer_;
  std::optional<asio::signal_set> signals_;
};

// One TCP connection. Owned through shared_ptr because that is how Asio keeps an object alive for
// as long as any of its operations is pending: each completion handler holds a reference, and the
// session dies when the last one has run. No single owner could know when that is.
// All member functions except CloseNow() run on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, tcp::socket socket, std::string remote_address)
      : server_(server),
        stream_(std::move(socket)),
        request_timer_(stream_.get_executor()),
        remote_address_(std::move(remote_address)) {
    server_.Register(this);
  }
  ~Session() { server_.Unregister(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Begin() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(true); });
  }

  void NotifyStopping() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->OnServerStopping(); });
  }

  // Only for when no thread runs the io_context any more (after Run()'s workers have joined).
  void CloseNow() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
  }

  // From the stream's thread: more of the body, and its end.
  void PostStreamData(std::string data) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), data = std::move(data)]() mutable {
      self->QueueStreamBytes(std::move(data), true);
      self->WriteStream();
    });
  }
  void PostStreamEnd() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->EndStream(); });
  }

  // From the handler's thread: its response to a request with a streamed body.
  void PostReceivedResponse(HttpResponse response) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
      if (self->phase_ != Phase::kReceiving) return;  // the connection closed meanwhile
      self->received_response_ = std::move(response);
      self->response_waiting_ = true;
      // A read or a 100 Continue in flight finishes first, then sends it.
      if (!self->body_reading_ && !self->continue_writing_) self->FinishReceiving();
    });
  }

 private:
  enum class Phase { kIdle, kReading, kReceiving, kHandling, kWriting, kStreaming, kLingering, kClosed };

  const HttpServerOptions& Options() const { return server_.Options(); }

  // Completions are member functions bound to a shared_ptr to this session: the pending operation
  // is what keeps the session alive (see the class comment).
  using IoCompletion = void (Session::*)(const boost::system::error_code&, std::size_t);
  auto Bind(IoCompletion completion) { return beast::bind_front_handler(completion, shared_from_this()); }

  void WaitForRequest(bool fresh_connection) {
    if (server_stopping_ || server_.Stopping()) return Close();
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) return ReadRequest();  // pipelined: the next request is already here
    // Until the first byte arrives nothing is owed to the client, so these timeouts close silently
    // (tcp_stream closes the socket when its deadline passes).
    stream_.expires_after(fresh_connection ? Options().request_timeout : Options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), Bind(&Session::OnFirstBytes));
  }

  void OnFirstBytes(const boost::system::error_code& ec, std::size_t n) {
    if (ec) return Close();
    buffer_.commit(n);
    ReadRequest();
  }

  void ReadRequest() {
    phase_ = Phase::kReading;
    request_timed_out_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(Options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // No limit while the head is read: whether max_body_bytes applies depends on the route
    // (HttpServerOptions::stream_body), so OnHeader applies it. (Not boost::none: Boost 1.74's
    // parser compares a Content-Length with an empty limit as over it.)
    parser_->body_limit(kNoBodyLimit);
    // One deadline for the whole request, not per read: a client trickling a byte at a time
    // (slowloris) must not be able to hold the connection longer than request_timeout.
    stream_.expires_never();
    request_timer_.expires_after(Options().request_timeout);
    request_timer_.async_wait(beast::bind_front_handler(&Session::OnRequestDeadline, shared_from_this()));
    http::async_read_header(stream_, buffer_, *parser_, Bind(&Session::OnHeader));
  }

  void OnRequestDeadline(const boost::system::error_code& ec) {
    // The expiry check skips a stale expiry that was already queued when its request completed and
    // the timer was re-armed for the next one.
    if (ec || phase_ != Phase::kReading || request_timer_.expiry() > Clock::now()) return;
    request_timed_out_ = true;
    stream_.cancel();
  }

  void OnHeader(const boost::system::error_code& ec, std::size_t) {
    if (ec) return OnReadError(ec);
    if (request_timed_out_) return RefuseTimedOut();
    const auto& wire = parser_->get();
    if (wire.version() != 10 && wire.version() != 11) {
      return Refuse(Error::InvalidArgument("unsupported HTTP version"));
    }
    // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
    const auto [first_host, end_host] = wire.equal_range(http::field::host);
    const auto hosts = std::distance(first_host, end_host);
    if (hosts > 1 || (wire.version() == 11 && hosts == 0)) {
      return Refuse(Error::InvalidArgument("an HTTP/1.1 request needs exactly one Host header"));
    }
    if (Options().stream_body && !parser_->is_done() && wire.method() != http::verb::head) {
      if (Result<HttpRequest> head = BuildRequest(parser_->get(), remote_address_);
          head && server_.StreamsBody(*head)) {
        return BeginReceiving(*std::move(head));
      }
    }
    const auto declared = parser_->content_length();
    if (declared && *declared > Options().max_body_bytes) {
      return Refuse(Error::TooLarge(fmt::format("request body exceeds {} bytes", Options().max_body_bytes), "/body"));
    }
    // Before any of the body is parsed; a chunked body is held to it as it arrives.
    parser_->body_limit(static_cast<std::uint64_t>(Options().max_body_bytes));
    if (parser_->is_done()) return OnRequestComplete();
    if (wire.version() == 11 && EqualsIgnoreCase(ToStd(wire[http::field::expect]), "100-continue")) {
      // The client holds the body back until told to go on; the limits have already passed.
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()), Bind(&Session::OnContinueSent));
      return;
    }
    ReadBody();
  }

  void OnContinueSent(const boost::system::error_code& ec, std::size_t) {
    if (ec) return Close();  // includes the request deadline cutting the write short
    ReadBody();
  }

  void ReadBody() { http::async_read(stream_, buffer_, *parser_, Bind(&Session::OnBody)); }

  void OnBody(const boost::system::error_code& ec, std::size_t) {
    if (ec) return OnReadError(ec);
    if (request_timed_out_) return RefuseTimedOut();
    OnRequestComplete();
  }

  void OnReadError(const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted && request_timed_out_) return RefuseTimedOut();
    if (ec == http::error::header_limit) {
      return Refuse(Error::TooLarge(fmt::format("request header block exceeds {} bytes", Options().max_header_bytes),
                                    "/headers"));
    }
    if (ec == http::error::body_limit) {
      return Refuse(Error::TooLarge(fmt::format("request body exceeds {} bytes", Options().max_body_bytes), "/body"));
    }
    // The client went away mid-request; there is nobody to answer.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    if (ec.category() == HttpErrorCategory()) {
      return Refuse(Error::InvalidArgument(fmt::format("malformed HTTP request: {}", ec.message())));
    }
    Close();  // reset, aborted by shutdown, ...
  }

  void RefuseTimedOut() {
    Refuse(
        Error::DeadlineExceeded(fmt::format("request not received within {} ms", Options().request_timeout.count())));
  }

  void OnRequestComplete() {
    request_timer_.cancel();
    phase_ = Phase::kHandling;
    auto& wire = parser_->get();
    const bool head = wire.method() == http::verb::head;
    const unsigned version = wire.version();
    const bool keep_alive = wire.keep_alive();
    Result<HttpRequest> request = BuildRequest(wire, remote_address_);
    parser_.reset();
    // A bad escape leaves the message framing intact, so such a request keeps its connection.
    HttpResponse response = request ? server_.Handle(*request) : server_.Respond(request.error());
    if (response.stream && !head && !server_stopping_ && !server_.Stopping()) {
      return BeginStream(std::move(response), version);
    }
    response.stream.reset();
    Send(std::move(response), version, keep_alive, head, /*linger=*/false);
  }

  // A request whose handler reads the body as it arrives (HttpServerOptions::stream_body): the
  // handler runs on a thread of its own at once, and the body is read piece by piece as it asks
  // (BodyPipe), each read under its own deadline (streamed_body_idle_timeout without a byte is a timeout; a
  // long upload that keeps coming is not). The response goes out once the handler returns; the
  // connection is kept only if the whole body was read.
  void BeginReceiving(HttpRequest request) {
    request_timer_.cancel();
    const auto& wire = parser_->get();
    receive_version_ = wire.version();
    receive_keep_alive_ = wire.keep_alive();
    expect_continue_ = wire.version() == 11 && EqualsIgnoreCase(ToStd(wire[http::field::expect]), "100-continue");
    const std::uint64_t limit = Options().max_streamed_body_bytes;
    const auto declared = parser_->content_length();
    if (limit > 0 && declared && *declared > limit) {
      return Refuse(Error::TooLarge(fmt::format("request body exceeds {} bytes", limit), "/body"));
    }
    body_parser_.emplace(std::move(*parser_));
    parser_.reset();
    body_parser_->body_limit(limit > 0 ? limit : kNoBodyLimit);
    receive_failed_ = false;
    if (!server_.TryOpenStream()) return RefuseReceiving("too many uploads and live streams are open; try again later");
    pipe_ = std::make_shared<BodyPipe>(
        // Holds no executor: a handler may keep the pipe after the server is gone.
        [weak = weak_from_this()] {
          if (auto self = weak.lock()) {
            asio::post(self->stream_.get_executor(), [self] { self->ReceiveBody(); });
          }
        },
        stream_stop_.get_token());
    request.body_stream = pipe_;
    phase_ = Phase::kReceiving;
    stream_.expires_never();
    if (!server_.StartBodyHandler(shared_from_this(), std::move(request), stream_stop_)) {
      pipe_.reset();
      return RefuseReceiving("cannot take an upload now; try again later");
    }
  }

  void RefuseReceiving(std::string_view why) {
    body_parser_.reset();
    HttpResponse busy = server_.Respond(Error::Unavailable(std::string(why)));
    busy.headers.emplace_back("Retry-After", "5");
    Send(std::move(busy), receive_version_, /*keep_alive=*/false, /*head=*/false, /*linger=*/true);
  }

  // Asked by the pipe: reads the next piece of the body (after a 100 Continue, if the client waits
  // for one), or tells the pipe the body has ended.
  void ReceiveBody() {
    if (phase_ != Phase::kReceiving || !body_parser_ || body_reading_ || continue_writing_ || response_waiting_) {
      return;
    }
    if (expect_continue_) {
      expect_continue_ = false;
      continue_writing_ = true;
      stream_.expires_after(std::max(Options().request_timeout, kMinWriteTimeout));
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()), Bind(&Session::OnReceiveContinue));
      return;
    }
    if (body_parser_->is_done()) {
      pipe_->Push({}, /*last=*/true);
      return;
    }
    body_reading_ = true;
    if (read_buffer_.empty()) read_buffer_.resize(kBodyChunk);
    auto& body = body_parser_->get().body();
    body.data = read_buffer_.data();
    body.size = read_buffer_.size();
    body.more = true;
    stream_.expires_after(Options().streamed_body_idle_timeout);
    http::async_read_some(stream_, buffer_, *body_parser_, Bind(&Session::OnBodyPiece));
  }

  void OnReceiveContinue(const boost::system::error_code& ec, std::size_t) {
    continue_writing_ = false;
    if (phase_ != Phase::kReceiving) return;
    if (ec) {
      receive_failed_ = true;
      pipe_->Abort(BodyReadError(ec, Options()));
    }
    if (response_waiting_) return FinishReceiving();
    if (!ec) ReceiveBody();
  }

  void OnBodyPiece(const boost::system::error_code& result, std::size_t) {
    body_reading_ = false;
    if (phase_ != Phase::kReceiving) return;
    const boost::system::error_code ec = result == http::error::need_buffer ? boost::system::error_code{} : result;
    if (ec) {
      receive_failed_ = true;
      pipe_->Abort(BodyReadError(ec, Options()));
    } else {
      // Copied out at its own size: the read buffer is reused, and a piece is often far smaller.
      const std::size_t got = read_buffer_.size() - body_parser_->get().body().size;
      const bool last = body_parser_->is_done();
      if (got == 0 && !last && !response_waiting_) return ReceiveBody();  // chunk framing only
      std::string piece = pipe_->TakeSpare();
      piece.assign(read_buffer_.data(), got);
      if (pipe_->Push(std::move(piece), last) && !response_waiting_) return ReceiveBody();
    }
    if (response_waiting_) FinishReceiving();
  }

  void FinishReceiving() {
    const bool whole = body_parser_ && body_parser_->is_done() && !receive_failed_;
    HttpResponse response = std::move(received_response_);
    received_response_ = {};
    response_waiting_ = false;
    response.stream.reset();
    body_parser_.reset();
    pipe_.reset();
    // A body the handler did not read to its end is drained (bounded) before the close, so the
    // client reads the response instead of a reset.
    Send(std::move(response), receive_version_, receive_keep_alive_ && whole, /*head=*/false, /*linger=*/!whole);
  }

  // A streamed response: the head now, then whatever the stream's thread produces (PostStreamData),
  // until it ends (PostStreamEnd), the client goes away (WatchForHangUp) or is too slow to read.
  // The connection is not reused afterwards.
  void BeginStream(HttpResponse response, unsigned version) {
    std::shared_ptr<ResponseStream> stream = std::move(response.stream);
    std::string first = std::move(response.body);
    response.body.clear();
    Result<WireResponse> wire = ToWire(std::move(response), version, /*keep_alive=*/false, /*head=*/false);
    if (!wire) {
      fmt::print(stderr, "hikeshi http: dropping a response: {}\n", wire.error().message());
      return Send(server_.Respond(Error::Internal("internal error")), version, false, false, false);
    }
    if (!server_.TryOpenStream()) {
      HttpResponse busy = server_.Respond(Error::Unavailable("too many live streams are open; try again later"));
      busy.headers.emplace_back("Retry-After", "5");
      return Send(std::move(busy), version, /*keep_alive=*/false, /*head=*/false, /*linger=*/false);
    }
    stream_chunked_ = version == 11;
    if (stream_chunked_) {
      wire->chunked(true);
    } else {
      wire->content_length(boost::none);  // HTTP/1.0: the body ends when the connection does
    }
    if (!server_.StartStream(shared_from_this(), std::move(stream), stream_stop_)) {
      HttpResponse busy = server_.Respond(Error::Unavailable("cannot open a live stream now; try again later"));
      busy.headers.emplace_back("Retry-After", "5");
      return Send(std::move(busy), version, /*keep_alive=*/false, /*head=*/false, /*linger=*/false);
    }
    // Runs before anything the stream's thread posts: both are on this connection's strand.
    phase_ = Phase::kStreaming;
    stream_.expires_never();  // the stream uses the socket directly, with its own write deadline
    std::ostringstream head;
    head << wire->base();
    QueueStreamBytes(std::move(head).str(), /*frame=*/false);
    if (!first.empty()) QueueStreamBytes(std::move(first), /*frame=*/true);
    WriteStream();
    WatchForHangUp();
  }

  void QueueStreamBytes(std::string data, bool frame) {
    if (phase_ != Phase::kStreaming || data.empty()) return;
    if (frame && stream_chunked_) data = fmt::format("{:x}\r\n", data.size()) + data + "\r\n";
    stream_backlog_ += data.size();
    if (stream_backlog_ > kMaxStreamBacklog) {
      // The client reads slower than the stream produces; it may reconnect and resume.
      fmt::print(stderr, "hikeshi http: closing a stream to {}: over {} bytes unread\n", remote_address_,
                 kMaxStreamBacklog);
      return Close();
    }
    outbox_.push_back(std::move(data));
  }

  void WriteStream() {
    if (phase_ != Phase::kStreaming || stream_writing_) return;
    if (outbox_.empty()) {
      if (stream_ended_) Close();
      return;
    }
    stream_writing_ = true;
    request_timer_.expires_after(std::max(Options().request_timeout, kMinWriteTimeout));
    request_timer_.async_wait(beast::bind_front_handler(&Session::OnStreamWriteDeadline, shared_from_this()));
    asio::async_write(stream_.socket(), asio::buffer(outbox_.front()), Bind(&Session::OnStreamWritten));
  }

  void OnStreamWritten(const boost::system::error_code& ec, std::size_t) {
    stream_writing_ = false;
    request_timer_.cancel();
    if (ec || phase_ != Phase::kStreaming) return Close();
    stream_backlog_ -= outbox_.front().size();
    outbox_.pop_front();
    WriteStream();
  }

  void OnStreamWriteDeadline(const boost::system::error_code& ec) {
    if (ec || phase_ != Phase::kStreaming || !stream_writing_ || request_timer_.expiry() > Clock::now()) return;
    Close();  // the client stopped reading
  }

  void EndStream() {
    if (phase_ != Phase::kStreaming || stream_ended_) return;
    stream_ended_ = true;
    if (stream_chunked_) QueueStreamBytes("0\r\n\r\n", /*frame=*/false);
    WriteStream();
  }

  // A client that hangs up is noticed by a read failing; anything it sends meanwhile is discarded.
  void WatchForHangUp() {
    buffer_.clear();
    stream_.socket().async_read_some(buffer_.prepare(kReadChunk), Bind(&Session::OnStreamInput));
  }

  void OnStreamInput(const boost::system::error_code& ec, std::size_t n) {
    if (phase_ != Phase::kStreaming) return;
    lingered_bytes_ += n;
    if (ec || lingered_bytes_ > kLingerMaxBytes) return Close();
    WatchForHangUp();
  }

  // Answers a request the transport refused, then closes: after a framing error the rest of the
  // byte stream cannot be trusted.
  void Refuse(const Error& error) {
    request_timer_.cancel();
    const bool head = parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head;
    parser_.reset();
    Send(server_.Respond(error), 11, /*keep_alive=*/false, head, /*linger=*/true);
  }

  void Send(HttpResponse response, unsigned version, bool keep_alive, bool head, bool linger) {
    keep_alive = keep_alive && !server_stopping_ && !server_.Stopping();
    Result<WireResponse> wire = ToWire(std::move(response), version, keep_alive, head);
    if (!wire) {
      fmt::print(stderr, "hikeshi http: dropping a response: {}\n", wire.error().message());
      wire = ToWire(server_.Respond(Error::Internal("internal error")), version, keep_alive, head);
    }
    if (!wire) {
      WireResponse fallback{http::status::internal_server_error, version};
      fallback.set(http::field::server, "hikeshi");
      fallback.content_length(0);
      fallback.keep_alive(false);
      wire = std::move(fallback);
    }
    response_.emplace(*std::move(wire));
    phase_ = Phase::kWriting;
    stream_.expires_after(std::max(Options().request_timeout, kMinWriteTimeout));
    linger_after_write_ = linger;
    http::async_write(stream_, *response_, Bind(&Session::OnWritten));
  }

  void OnWritten(const boost::system::error_code& ec, std::size_t) {
    const bool keep_alive = response_->keep_alive();
    response_.reset();
    if (ec) return Close();
    if (linger_after_write_) return Linger();
    if (!keep_alive) return Close();
    WaitForRequest(false);
  }

  // Closing a socket with unread input makes the kernel send a reset, which can destroy the
  // response before the client reads it. So stop sending, then read and discard what the client is
  // still sending (bounded in bytes and time), and only then close.
  void Linger() {
    phase_ = Phase::kLingering;
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    stream_.expires_after(kLingerTimeout);
    Discard();
  }

  void Discard() { stream_.async_read_some(buffer_.prepare(kReadChunk), Bind(&Session::OnDiscarded)); }

  void OnDiscarded(const boost::system::error_code& ec, std::size_t n) {
    lingered_bytes_ += n;
    if (ec || lingered_bytes_ > kLingerMaxBytes) return Close();
    Discard();
  }

  void OnServerStopping() {
    server_stopping_ = true;
    // Idle connections go now; one that is mid-request finishes and then closes (see Send()); a
    // stream is asked to end, and closes once what it sent is written.
    if (phase_ == Phase::kIdle) Close();
    if (phase_ == Phase::kStreaming) stream_stop_.request_stop();
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    stream_stop_.request_stop();
    request_timer_.cancel();
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Server& server_;
  beast::tcp_stream stream_;
  asio::steady_timer request_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<WireResponse> response_;
  const std::string remote_address_;
  Phase phase_ = Phase::kIdle;
  bool request_timed_out_ = false;
  bool linger_after_write_ = false;
  bool server_stopping_ = false;
  std::size_t lingered_bytes_ = 0;
  // A request with a streamed body (phase kReceiving).
  std::optional<http::request_parser<http::buffer_body>> body_parser_;
  std::shared_ptr<BodyPipe> pipe_;
  std::vector<char> read_buffer_;  // what the piece being read is read into
  HttpResponse received_response_;
  unsigned receive_version_ = 11;
  bool receive_keep_alive_ = false;
  bool expect_continue_ = false;
  bool continue_writing_ = false;
  bool body_reading_ = false;
  bool receive_failed_ = false;
  bool response_waiting_ = false;
  // Streaming (phase kStreaming), and the handler's thread of a streamed request body.
  std::stop_source stream_stop_;    // asks the stream's thread to end
  std::deque<std::string> outbox_;  // bytes to write, framed
  std::size_t stream_backlog_ = 0;  // bytes in outbox_
  bool stream_writing_ = false;
  bool stream_ended_ = false;
  bool stream_chunked_ = false;
};

Result<void> Server::Start() {
  if (started_) throw std::logic_error("HttpServer::Start() called twice");
  if (options_.threads < 1) return Fail(Error::InvalidArgument("threads must be at least 1"));
  HIKESHI_TRY(tcp::endpoint endpoint, ParseListen(options_.listen));
  boost::system::error_code ec;
  auto fail = [&](std::string_view step) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Fail(Error::Unavailable(fmt::format("cannot listen on {} ({}): {}", options_.listen, step, ec.message())));
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return fail("socket");
  // Lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it does not let
  // two listeners share a port, so "address in use" is still reported.
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor_.bind(endpoint, ec)) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("getsockname");
  port_.store(bound.port());
  if (options_.stop_on_signals) {
    // Registered here rather than in Run() so that a signal arriving between the two is not lost.
    signals_.emplace(strand_);
    if (signals_->add(SIGINT, ec) || signals_->add(SIGTERM, ec)) {
      signals_.reset();
      return fail("signal handler");
    }
    WaitForSignal();
  }
  started_ = true;
  Accept();
  return {};
}

void Server::WaitForSignal() {
  signals_->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!Stopping()) {
      Stop();
      WaitForSignal();
    } else {
      // A second signal means "now": skip the rest of the grace period.
      Finish();
    }
  });
}

void Server::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_context_),
      [this](const boost::system::error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void Server::OnAccept(const boost::system::error_code& ec, tcp::socket socket) {
  if (Stopping() || ec == asio::error::operation_aborted) return;
  if (ec) {
    fmt::print(stderr, "hikeshi http: accept failed: {}\n", ec.message());
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec && !Stopping()) Accept();
    });
    return;
  }
  boost::system::error_code endpoint_ec;
  tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
  if (!endpoint_ec) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // responses are small and written whole
    std::make_shared<Session>(*this, std::move(socket), AddressText(remote.address()))->Begin();
  }
  Accept();
}

void Server::Run() {
  if (!started_) throw std::logic_error("HttpServer::Run() without a successful Start()");
  if (run_called_.exchange(true)) throw std::logic_error("HttpServer::Run() called twice");
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(options_.threads - 1));
  try {
    for (int i = 1; i < options_.threads; ++i) workers.emplace_back([this] { RunWorker(); });
  } catch (...) {
    // Out of threads: stop the ones already started rather than std::terminate on their destructors.
    io_context_.stop();
    for (auto& worker : workers) worker.join();
    throw;
  }
  RunWorker();
  for (auto& worker : workers) worker.join();
  // Whatever outlived the grace period is cut off here. No thread runs the io_context any more,
  // so touching the sockets directly is safe.
  for (const auto& session : LiveSessions()) session->CloseNow();
  JoinStreams();
}

void Server::RunWorker() {
  for (;;) {
    try {
      io_context_.run();
      return;
    } catch (const std::exception& e) {
      // Handlers catch what they expect; anything else is a bug, but one connection's bug must not
      // take the server down.
      fmt::print(stderr, "hikeshi http: unexpected exception in I/O thread: {}\n", e.what());
    }
  }
}

void Server::Stop() {
  if (stop_requested_.exchange(true)) return;
  asio::post(strand_, [this] { BeginShutdown(); });
}

void Server::BeginShutdown() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  std::vector<std::shared_ptr<Session>> live = LiveSessions();
  bool none_left = false;
  {
    std::lock_guard lock(sessions_mutex_);
    draining_ = true;
    none_left = sessions_.empty();
  }
  for (const auto& session : live) session->NotifyStopping();
  if (none_left) return Finish();
  grace_timer_.expires_after(options_.shutdown_grace);
  grace_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Finish();
  });
}

// Makes every Run() thread return. Sessions still alive are closed by Run() after the join.
void Server::Finish() {
  {
    std::lock_guard lock(sessions_mutex_);
    if (finished_) return;
    finished_ = true;
  }
  grace_timer_.cancel();
  accept_retry_timer_.cancel();
  if (signals_) {
    boost::system::error_code ignored;
    signals_->cancel(ignored);
  }
  io_context_.stop();
}

std::vector<std::shared_ptr<Session>> Server::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(sessions_mutex_);
  live.reserve(sessions_.size());
  for (Session* session : sessions_) {
    // Empty when that session's destructor is already waiting for the mutex.
    if (auto alive = session->weak_from_this().lock()) live.push_back(std::move(alive));
  }
  return live;
}

bool Server::TryOpenStream() {
  std::lock_guard lock(streams_mutex_);
  ReapStreamsLocked();
  if (open_streams_ >= options_.max_streams) return false;
  ++open_streams_;
  return true;
}

bool Server::StartStream(std::shared_ptr<Session> session, std::shared_ptr<ResponseStream> stream,
                         std::stop_source stop) {
  return StartThread(std::move(stop),
                     [session = std::move(session), stream = std::move(stream)](std::stop_token token) {
                       try {
                         while (!token.stop_requested()) {
                           std::optional<std::string> data = stream->Next(token);
                           if (!data) break;
                           session->PostStreamData(std::move(*data));
                         }
                       } catch (const std::exception& e) {
                         fmt::print(stderr, "hikeshi http: a response stream threw: {}\n", e.what());
                       } catch (...) {
                         fmt::print(stderr, "hikeshi http: a response stream threw a non-standard exception\n");
                       }
                       session->PostStreamEnd();
                     });
}

bool Server::StreamsBody(const HttpRequest& head) const {
  if (!options_.stream_body) return false;
  try {
    return options_.stream_body(head);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hikeshi http: stream_body threw: {}\n", e.what());
    return false;
  }
}

bool Server::StartBodyHandler(std::shared_ptr<Session> session, HttpRequest request, std::stop_source stop) {
  return StartThread(std::move(stop),
                     [this, session = std::move(session), request = std::move(request)](std::stop_token) mutable {
                       // Handle() never throws; the pipe ends its waits when the token is requested.
                       HttpResponse response = Handle(request);
                       request.body_stream.reset();
                       session->PostReceivedResponse(std::move(response));
                     });
}

bool Server::StartThread(std::stop_source stop, std::function<void(std::stop_token)> run) {
  std::lock_guard lock(streams_mutex_);
  auto& entry = streams_.emplace_back();
  entry.stop = stop;
  try {
    entry.thread = std::thread([this, &entry, run = std::move(run), token = stop.get_token()] {
      run(token);
      std::lock_guard done_lock(streams_mutex_);
      entry.done = true;
      --open_streams_;
    });
  } catch (const std::system_error& e) {
    fmt::print(stderr, "hikeshi http: cannot start a stream thread: {}\n", e.what());
    streams_.pop_back();
    --open_streams_;
    return false;
  }
  return true;
}

void Server::ReapStreamsLocked() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->done) {
      it->thread.join();  // it has returned from its function, or is about to
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::JoinStreams() {
  std::list<StreamThread> all;
  {
    std::lock_guard lock(streams_mutex_);
    for (auto& entry : streams_) entry.stop.request_stop();
    all.splice(all.end(), streams_);
  }
  // Joined without the mutex: a thread takes it on its way out. Its entry stays valid meanwhile,
  // since list splicing moves no element.
  for (auto& entry : all) {
    if (entry.thread.joinable()) entry.thread.join();
  }
}

void Server::Register(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.insert(session);
}

void Server::Unregister(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
  if (draining_ && !finished_ && sessions_.empty()) asio::post(strand_, [this] { Finish(); });
}

HttpResponse Server::Handle(const HttpRequest& request) const {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hikeshi http: handler for {} {} threw: {}\n", request.method, request.path, e.what());
  } catch (...) {
    fmt::print(stderr, "hikeshi http: handler for {} {} threw a non-standard exception\n", request.method,
               request.path);
  }
  // The client learns only that something failed; the details stay in the log.
  return Respond(Error::Internal("internal error"));
}

HttpResponse Server::Respond(const Error& error) const {
  try {
    return error_responder_(error);
  } catch (const std::exception& e) {
    fmt::print(stderr, "hikeshi http: error responder threw: {}\n", e.what());
  } catch (...) {
    fmt::print(stderr, "hikeshi http: error responder threw a non-standard exception\n");
  }
  return HttpResponse{.status = 500, .headers = {}, .body = {}};
}

}  // namespace

class HttpServer::Impl : public Server {
 public:
  using Server::Server;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, ErrorResponder error_responder)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(error_responder))) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::Start() { return impl_->Start(); }

std::uint16_t HttpServer::port() const { return impl_->BoundPort(); }

void HttpServer::Run() { impl_->Run(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace hikeshi::api
