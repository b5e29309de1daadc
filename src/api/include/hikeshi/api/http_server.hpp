#pragma once
// An HTTP/1.1 server on Boost.Beast, kept behind plain types so no Boost header leaks out.
// It enforces the transport limits (header and body size, slow clients), runs the handler on its
// worker threads and shuts down gracefully. Protocol failures become hikeshi::Error values that
// the ErrorResponder turns into responses, so the one error-to-status mapping lives in api/problem.
//
// Thread-safety: the handler and error responder are called concurrently from worker threads.
// Stop() may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::api {

// The body of a request that the server hands to its handler as it arrives instead of whole
// (HttpServerOptions::stream_body): a feed of any size, in constant memory. The handler reads it on
// a thread of its own; the connection reads from the client only as the handler asks for more, so a
// slow consumer slows the client down instead of filling memory. A client that sent
// `Expect: 100-continue` is told to go on at the first Read(), so a handler that refuses the
// request before reading (not logged in, a bad parameter) is answered before any of the body is sent.
class RequestBodyStream {
 public:
  virtual ~RequestBodyStream() = default;
  // Blocks until more of the body has arrived, then copies up to `size` bytes of it into `buffer`;
  // returns 0 at the end of the body.
  // Errors: kDeadlineExceeded when the client sent nothing for streamed_body_idle_timeout; kTooLarge (field
  // "/body") past max_streamed_body_bytes; kInvalidArgument for malformed chunked framing;
  // kUnavailable when the client went away or the server is stopping.
  virtual Result<std::size_t> Read(char* buffer, std::size_t size) = 0;
  // Waits up to `timeout` for more of the body and says whether Read() would now return without
  // waiting (bytes, the end or an error are there).
  virtual bool WaitReady(std::chrono::milliseconds timeout) {
    static_cast<void>(timeout);
    return true;
  }
};

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as received: "/api/v1/incidents?status=open"
  std::string path;                                          // percent-decoded path, no query: "/api/v1/incidents"
  std::vector<std::pair<std::string, std::string>> query;    // percent-decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in order
  std::string body;                                          // empty when body_stream is set
  std::string remote_address;                                // "127.0.0.1" or "::1"
  // Set, instead of `body`, for a request the server streams (HttpServerOptions::stream_body).
  std::shared_ptr<RequestBodyStream> body_stream = nullptr;

  // The first header with this lower-case name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const;
  // The first query parameter with this name, or nullptr when absent.
  const std::string* Query(std::string_view name) const;
};

// A response body produced over time (server-sent events). The server sends the status line and
// headers at once, then `body`, then every piece Next() returns, each as soon as it is returned
// (chunked for HTTP/1.1, close-delimited for HTTP/1.0), and closes the connection when the stream
// ends. Next() runs on a thread of the stream's own, so it may block; the server's I/O threads never
// wait for it.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Blocks until there is something to send and returns it (an empty string sends nothing), or
  // returns nullopt to end the stream. `stop` is requested when the client has gone away or the
  // server is shutting down; Next() must then return soon.
  virtual std::optional<std::string> Next(std::stop_token stop) = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added by the server
  std::string body;
  // When set, the body goes on with this stream (see ResponseStream); ignored for HEAD. Shared so
  // that a response stays copyable.
  std::shared_ptr<ResponseStream> stream = nullptr;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Builds the response for a request the server refused before it reached the handler:
//   kTooLarge with field "/body"    - body over max_body_bytes (HTTP 413)
//   kTooLarge with field "/headers" - header block over max_header_bytes (HTTP 431)
//   kDeadlineExceeded               - request not complete within request_timeout (HTTP 408)
//   kInvalidArgument                - unparseable HTTP (HTTP 400)
using ErrorResponder = std::function<HttpResponse(const Error&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // "host:port"; port 0 picks a free one
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{15'000};  // from first byte to complete request
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds shutdown_grace{10'000};   // how long in-flight requests may finish
  int threads = 4;
  bool stop_on_signals = true;  // SIGTERM and SIGINT start a graceful Stop()
  // Streamed responses open at once (each holds a thread); past this, a stream is refused with
  // kUnavailable (HTTP 503, Retry-After).
  int max_streams = 256;
  // Decides, on the request head (method, path, query, headers; no body yet), whether the handler
  // reads the body as it arrives (HttpRequest::body_stream) instead of whole: for uploads that may
  // be far larger than max_body_bytes, such as feeds. Such a request's handler runs on a thread of
  // its own and takes one of the max_streams slots while it runs. Unset: every body is read whole.
  std::function<bool(const HttpRequest& head)> stream_body;
  // The largest streamed body accepted (a declared Content-Length over it is refused at once with
  // 413); 0 means no limit, since a streamed body is never held in memory.
  std::uint64_t max_streamed_body_bytes = 0;
  // How long a streamed body may pause before the upload is cut off (a sensor streaming its alerts
  // as they happen may be quiet for minutes). Only an authenticated caller gets this far: the
  // handler reads nothing before it has checked the request.
  std::chrono::milliseconds streamed_body_idle_timeout{300'000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, ErrorResponder error_responder);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Errors: kInvalidArgument for a malformed listen address, kUnavailable when
  // it cannot be bound (in use, no permission).
  [[nodiscard]] Result<void> Start();
  // The bound port; valid after Start().
  std::uint16_t port() const;
  // Serves until Stop() (or a signal) and the graceful shutdown have completed.
  void Run();
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  // connections, asks open streams to end, then makes Run() return. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hikeshi::api
