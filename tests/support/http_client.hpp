#pragma once
// A small blocking HTTP/1.1 client on POSIX sockets, for tests that talk to a Hikeshi server
// in-process or as a real `hikeshi serve` process. It can also misbehave on purpose: send raw
// bytes verbatim, send slowly, half-close. Every read and write has a deadline, so a test that goes
// wrong fails instead of hanging.
//
// Thread-safety: one HttpConnection per thread; distinct connections are independent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::testing {

struct HttpClientRequest {
  std::string method = "GET";
  std::string target = "/";
  // Sent in order, after Host. Host and Content-Length are added unless present here.
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
};

struct HttpClientResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order, repeats kept
  std::string body;                                          // de-chunked

  // The first header with this name (case-insensitive), or "" when absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // Every header with this name, in order (e.g. each Set-Cookie).
  std::vector<std::string> Headers(std::string_view name) const;
};

// One TCP connection. Movable, not copyable; the destructor closes the socket.
class HttpConnection {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

  // Connects to host:port; host is an IPv4 or IPv6 literal. Errors: kUnavailable when refused or
  // unreachable, kDeadlineExceeded when the connect does not finish within `timeout`,
  // kInvalidArgument for a bad host.
  [[nodiscard]] static Result<HttpConnection> Connect(std::uint16_t port, std::string_view host = "127.0.0.1",
                                                      std::chrono::milliseconds timeout = kDefaultTimeout);

  HttpConnection(HttpConnection&& other) noexcept;
  HttpConnection& operator=(HttpConnection&& other) noexcept;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();

  // The deadline for each later Send*, ReadResponse or WaitForClose call as a whole (not per
  // syscall), so a server that trickles bytes cannot stall a test either.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  // Serialises and sends a request, adding Host and Content-Length unless the request has them.
  // Errors: kUnavailable when the peer closed or reset, kDeadlineExceeded on timeout.
  [[nodiscard]] Result<void> Send(const HttpClientRequest& request);
  // Sends bytes exactly as given (for malformed or oversize requests). Errors as Send().
  [[nodiscard]] Result<void> SendRaw(std::string_view bytes);
  // Sends `bytes` in pieces of `chunk` bytes with `pause` between them, like a slow client.
  // Errors as Send().
  [[nodiscard]] Result<void> SendSlowly(std::string_view bytes, std::size_t chunk, std::chrono::milliseconds pause);

  // Reads one response. A response to HEAD has no body even when it has a Content-Length, so pass
  // head_request for those. Interim 1xx responses are returned as they are.
  // Errors: kUnavailable when the connection closed before a complete response (the message says
  // how much arrived), kDeadlineExceeded on timeout, kInvalidArgument for an unparseable response.
  [[nodiscard]] Result<HttpClientResponse> ReadResponse(bool head_request = false);
  // Send() then ReadResponse(), skipping any interim 1xx responses. If the send fails part-way
  // (the server refused early and closed), a response that did arrive is still returned.
  [[nodiscard]] Result<HttpClientResponse> RoundTrip(const HttpClientRequest& request);

  // Waits until the server closes the connection. Returns true on orderly close or reset, false if
  // it is still open when `timeout` passes. Errors: kInvalidArgument when bytes arrive instead;
  // they are kept for a later ReadResponse().
  [[nodiscard]] Result<bool> WaitForClose(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for more bytes and appends them to pending(); false when the server has
  // closed the connection. For responses read as they arrive (server-sent events: sse_client.hpp).
  // Errors: kDeadlineExceeded when nothing arrives in time, kUnavailable on a reset.
  [[nodiscard]] Result<bool> ReadMore(std::chrono::milliseconds timeout);
  // Drops the first `n` bytes of pending(), which the caller has consumed.
  void Consume(std::size_t n) { buffer_.erase(0, n); }
  // Half-closes: tells the server we will send nothing more.
  void ShutdownWrite();
  // Bytes received but not yet consumed by ReadResponse().
  const std::string& pending() const { return buffer_; }

 private:
  explicit HttpConnection(int fd) : fd_(fd) {}
  using Deadline = std::chrono::steady_clock::time_point;
  Deadline NewDeadline() const { return std::chrono::steady_clock::now() + timeout_; }
  Result<void> SendAll(std::string_view bytes, Deadline deadline);
  // Appends at least one byte to buffer_. Returns false on EOF.
  Result<bool> Fill(Deadline deadline);
  Result<void> FillTo(std::size_t size, Deadline deadline);
  Result<std::size_t> FindInBuffer(std::string_view needle, std::size_t from, Deadline deadline);
  Result<HttpClientResponse> ReadHead(Deadline deadline);
  Result<std::string> ReadChunkedBody(Deadline deadline);

  int fd_ = -1;
  std::string host_header_;  // "127.0.0.1:8080", sent as Host
  std::string buffer_;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
};

// Connects, sends one request, reads one response. Errors as HttpConnection.
[[nodiscard]] Result<HttpClientResponse> Fetch(std::uint16_t port, const HttpClientRequest& request,
                                               std::chrono::milliseconds timeout = HttpConnection::kDefaultTimeout);

// Retries connecting until something listens on 127.0.0.1:port, e.g. a just-spawned server.
// Errors: kDeadlineExceeded when nothing accepts within `timeout`.
[[nodiscard]] Result<void> WaitUntilListening(std::uint16_t port, std::chrono::milliseconds timeout);

// A port that was free a moment ago on 127.0.0.1. Racy by nature: prefer letting the server bind
// port 0 and report what it got. Errors: kUnavailable.
[[nodiscard]] Result<std::uint16_t> PickFreePort();

}  // namespace hikeshi::testing
