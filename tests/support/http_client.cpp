#include "support/http_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hikeshi::testing {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxHeadBytes = 1 << 20;

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return LowerAscii(x) == LowerAscii(y); });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return LowerAscii(x) == LowerAscii(y); }) != haystack.end();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error SystemError(std::string_view what, int err) {
  return Error::Unavailable(std::string(what) + ": " + std::strerror(err));
}

// Milliseconds left until `deadline` for poll(), at least 0.
int RemainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

// Waits for `events` on fd. Returns false on timeout.
Result<bool> PollFor(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{.fd = fd, .events = events, .revents = 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return Fail(SystemError("poll", errno));
  }
}

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

Result<SocketAddress> MakeAddress(std::string_view host, std::uint16_t port) {
  SocketAddress out;
  std::string text(host);
  if (!text.empty() && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
  } else {
    return Fail(Error::InvalidArgument("not an IP address: " + text));
  }
  return out;
}

std::string HostHeader(std::string_view host, std::uint16_t port) {
  std::string h(host);
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

// Parses "HTTP/1.1 200 OK" and the header lines that follow, up to (not including) the blank line.
Result<HttpClientResponse> ParseHead(std::string_view head) {
  HttpClientResponse response;
  std::size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  auto bad = [&](std::string_view why) {
    return Fail(Error::InvalidArgument(std::string(why) + " in status line '" + std::string(status_line) + "'"));
  };
  std::size_t sp1 = status_line.find(' ');
  if (sp1 == std::string_view::npos || !status_line.starts_with("HTTP/")) return bad("no HTTP version");
  response.version = std::string(status_line.substr(0, sp1));
  std::string_view code = status_line.substr(sp1 + 1, 3);
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), response.status);
  if (ec != std::errc() || end != code.data() + code.size() || code.size() != 3) return bad("bad status code");
  if (status_line.size() > sp1 + 4) response.reason = std::string(status_line.substr(sp1 + 5));
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    if (line.empty()) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(Error::InvalidArgument("bad header line '" + std::string(line) + "'"));
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
  }
  return response;
}

Result<std::size_t> ParseSize(std::string_view text, int base, std::string_view what) {
  text = Trim(text);
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Fail(Error::InvalidArgument("bad " + std::string(what) + " '" + std::string(text) + "'"));
  }
  return value;
}

}  // namespace

std::string_view HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

bool HttpClientResponse::HasHeader(std::string_view name) const { return testing::HasHeader(headers, name); }

std::vector<std::string> HttpClientResponse::Headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) out.push_back(value);
  }
  return out;
}

Result<HttpConnection> HttpConnection::Connect(std::uint16_t port, std::string_view host,
                                               std::chrono::milliseconds timeout) {
  HIKESHI_TRY(SocketAddress address, MakeAddress(host, port));
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Fail(SystemError("socket", errno));
  HttpConnection connection(fd);  // owns fd from here on
  connection.host_header_ = HostHeader(host, port);
  // Without this, the pieces of a deliberately slow send would be coalesced by Nagle.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto deadline = SteadyClock::now() + timeout;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0) {
    if (errno != EINPROGRESS) return Fail(SystemError("connect to " + connection.host_header_, errno));
    HIKESHI_TRY(bool ready, PollFor(fd, POLLOUT, deadline));
    if (!ready) return Fail(Error::DeadlineExceeded("connect to " + connection.host_header_ + " timed out"));
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Fail(SystemError("connect to " + connection.host_header_, err));
  }
  return connection;
}

HttpConnection::HttpConnection(HttpConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      host_header_(std::move(other.host_header_)),
      buffer_(std::move(other.buffer_)),
      timeout_(other.timeout_) {}

HttpConnection& HttpConnection::operator=(HttpConnection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    host_header_ = std::move(other.host_header_);
    buffer_ = std::move(other.buffer_);
    timeout_ = other.timeout_;
  }
  return *this;
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> HttpConnection::SendAll(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that closes on us must fail the send, not kill the test with SIGPIPE.
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      HIKESHI_TRY(bool ready, PollFor(fd_, POLLOUT, deadline));
      if (!ready) {
        return Fail(Error::DeadlineExceeded("send timed out with " + std::to_string(bytes.size()) + " bytes left"));
      }
      continue;
    }
    return Fail(SystemError("send", errno));
  }
  return {};
}

Result<void> HttpConnection::Send(const HttpClientRequest& request) {
  std::string wire = request.method + " " + request.target + " HTTP/1.1\r\n";
  if (!testing::HasHeader(request.headers, "host")) wire += "Host: " + host_header_ + "\r\n";
  for (const auto& [name, value] : request.headers) wire += name + ": " + value + "\r\n";
  bool chunked = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "transfer-encoding") && ContainsIgnoreCase(value, "chunked")) chunked = true;
  }
  bool bodyless_method = request.method == "GET" || request.method == "HEAD" || request.method == "DELETE";
  if (!chunked && !testing::HasHeader(request.headers, "content-length") &&
      (!request.body.empty() || !bodyless_method)) {
    wire += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  wire += "\r\n";
  wire += request.body;
  return SendAll(wire, NewDeadline());
}

Result<void> HttpConnection::SendRaw(std::string_view bytes) { return SendAll(bytes, NewDeadline()); }

Result<void> HttpConnection::SendSlowly(std::string_view bytes, std::size_t chunk, std::chrono::milliseconds pause) {
  chunk = std::max<std::size_t>(chunk, 1);
  while (!bytes.empty()) {
    std::size_t n = std::min(chunk, bytes.size());
    HIKESHI_CHECK(SendAll(bytes.substr(0, n), NewDeadline()));
    bytes.remove_prefix(n);
    if (!bytes.empty()) std::this_thread::sleep_for(pause);
  }
  return {};
}

Result<bool> HttpConnection::Fill(Deadline deadline) {
  std::array<char, 16384> chunk;
  for (;;) {
    ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n > 0) {
      buffer_.append(chunk.data(), static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      HIKESHI_TRY(bool ready, PollFor(fd_, POLLIN, deadline));
      if (!ready) {
        return Fail(Error::DeadlineExceeded(
            "no response within the timeout; received so far: " + std::to_string(buffer_.size()) + " bytes"));
      }
      continue;
    }
    return Fail(SystemError("recv after " + std::to_string(buffer_.size()) + " bytes", errno));
  }
}

Result<void> HttpConnection::FillTo(std::size_t size, Deadline deadline) {
  while (buffer_.size() < size) {
    HIKESHI_TRY(bool more, Fill(deadline));
    if (!more) {
      return Fail(Error::Unavailable("connection closed after " + std::to_string(buffer_.size()) + " of " +
                                     std::to_string(size) + " expected bytes"));
    }
  }
  return {};
}

Result<std::size_t> HttpConnection::FindInBuffer(std::string_view needle, std::size_t from, Deadline deadline) {
  for (;;) {
    std::size_t pos = buffer_.find(needle, from);
    if (pos != std::string::npos) return pos;
    if (buffer_.size() > kMaxHeadBytes) return Fail(Error::InvalidArgument("response head too large"));
    HIKESHI_TRY(bool more, Fill(deadline));
    if (!more) {
      return Fail(Error::Unavailable(buffer_.empty() ? std::string("connection closed before a response")
                                                     : "connection closed mid-response after " +
                                                           std::to_string(buffer_.size()) + " bytes"));
    }
  }
}

Result<HttpClientResponse> HttpConnection::ReadHead(Deadline deadline) {
  HIKESHI_TRY(std::size_t end, FindInBuffer("\r\n\r\n", 0, deadline));
  auto response = ParseHead(std::string_view(buffer_).substr(0, end));
  buffer_.erase(0, end + 4);
  return response;
}

Result<std::string> HttpConnection::ReadChunkedBody(Deadline deadline) {
  std::string body;
  for (;;) {
    HIKESHI_TRY(std::size_t eol, FindInBuffer("\r\n", 0, deadline));
    std::string_view line = std::string_view(buffer_).substr(0, eol);
    line = line.substr(0, line.find(';'));  // chunk extensions
    HIKESHI_TRY(std::size_t size, ParseSize(line, 16, "chunk size"));
    buffer_.erase(0, eol + 2);
    if (size == 0) {
      // Trailer fields, then the blank line that ends the message.
      for (;;) {
        HIKESHI_TRY(std::size_t trailer_end, FindInBuffer("\r\n", 0, deadline));
        buffer_.erase(0, trailer_end + 2);
        if (trailer_end == 0) return body;
      }
    }
    HIKESHI_CHECK(FillTo(size + 2, deadline));
    if (buffer_.compare(size, 2, "\r\n") != 0) return Fail(Error::InvalidArgument("chunk not followed by CRLF"));
    body.append(buffer_, 0, size);
    buffer_.erase(0, size + 2);
  }
}

Result<HttpClientResponse> HttpConnection::ReadResponse(bool head_request) {
  Deadline deadline = NewDeadline();
  HIKESHI_TRY(HttpClientResponse response, ReadHead(deadline));
  const int status = response.status;
  if (head_request || status / 100 == 1 || status == 204 || status == 304) return response;
  if (ContainsIgnoreCase(response.Header("transfer-encoding"), "chunked")) {
    HIKESHI_TRY(response.body, ReadChunkedBody(deadline));
    return response;
  }
  if (response.HasHeader("content-length")) {
    HIKESHI_TRY(std::size_t length, ParseSize(response.Header("content-length"), 10, "Content-Length"));
    HIKESHI_CHECK(FillTo(length, deadline));
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }
  // No framing: the body runs to the end of the connection.
  for (;;) {
    HIKESHI_TRY(bool more, Fill(deadline));
    if (!more) break;
  }
  response.body = std::move(buffer_);
  buffer_.clear();
  return response;
}

Result<HttpClientResponse> HttpConnection::RoundTrip(const HttpClientRequest& request) {
  // A server may refuse a request before reading all of it (413, 431) and close; the send then
  // fails, but the response is already here. Real clients read it, and so do we.
  Result<void> sent = Send(request);
  for (;;) {
    Result<HttpClientResponse> response = ReadResponse(request.method == "HEAD");
    if (!response) return sent ? std::move(response) : Fail(std::move(sent).error());
    if (response->status / 100 != 1) return response;
  }
}

Result<bool> HttpConnection::WaitForClose(std::chrono::milliseconds timeout) {
  auto unexpected = [this] {
    return Fail(Error::InvalidArgument("expected the server to close, but it sent: " + buffer_.substr(0, 200)));
  };
  if (!buffer_.empty()) return unexpected();
  Deadline deadline = SteadyClock::now() + timeout;
  std::array<char, 4096> chunk;
  for (;;) {
    ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n == 0) return true;
    if (n > 0) {
      buffer_.append(chunk.data(), static_cast<std::size_t>(n));
      return unexpected();
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return true;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Fail(SystemError("recv", errno));
    HIKESHI_TRY(bool ready, PollFor(fd_, POLLIN, deadline));
    if (!ready) return false;
  }
}

Result<bool> HttpConnection::ReadMore(std::chrono::milliseconds timeout) { return Fill(SteadyClock::now() + timeout); }

void HttpConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

Result<HttpClientResponse> Fetch(std::uint16_t port, const HttpClientRequest& request,
                                 std::chrono::milliseconds timeout) {
  HIKESHI_TRY(HttpConnection connection, HttpConnection::Connect(port, "127.0.0.1", timeout));
  connection.set_timeout(timeout);
  return connection.RoundTrip(request);
}

Result<void> WaitUntilListening(std::uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    auto connection = HttpConnection::Connect(port, "127.0.0.1", std::max(left, milliseconds(1)));
    if (connection) return {};
    if (SteadyClock::now() >= deadline) {
      return Fail(Error::DeadlineExceeded("nothing listening on 127.0.0.1:" + std::to_string(port) + ": " +
                                          connection.error().message()));
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

Result<std::uint16_t> PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(SystemError("socket", errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(SystemError("bind 127.0.0.1:0", err));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace hikeshi::testing
