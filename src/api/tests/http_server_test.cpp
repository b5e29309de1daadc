// The HTTP server as a client sees it: requests reach the handler decoded, responses come back
// framed, and the transport limits (sizes, slow clients, malformed input) are enforced before the
// handler runs. Shutdown is graceful. Every test drives a real server over loopback TCP.

#include "hikeshi/api/http_server.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace hikeshi::api {
namespace {

using std::chrono::milliseconds;
using testing::HttpClientRequest;
using testing::HttpClientResponse;
using testing::HttpConnection;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kClientTimeout{5'000};
constexpr milliseconds kRunReturnTimeout{10'000};

HttpServerOptions TestOptions() {
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  options.request_timeout = milliseconds(2'000);
  options.idle_timeout = milliseconds(2'000);
  options.shutdown_grace = milliseconds(2'000);
  options.threads = 2;
  options.stop_on_signals = false;  // a stray signal handler would outlive the test
  return options;
}

// Stands in for api/problem: the real mapping lives there, this one only has to be distinguishable.
int StatusFor(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kTooLarge:
      return error.field() == "/headers" ? 431 : 413;
    case ErrorCode::kDeadlineExceeded:
      return 408;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!condition()) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// What reached the handler and the error responder, shared with the server's worker threads.
class Calls {
 public:
  void Request(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  void Refusal(const Error& error) {
    std::lock_guard lock(mutex_);
    errors_.push_back(error);
  }
  std::vector<HttpRequest> Requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<Error> Errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::size_t HandlerCalls() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  std::vector<Error> errors_;
};

// An HttpServer whose Run() happens on a background thread.
class ServerThread {
 public:
  ServerThread(HttpServerOptions options, HttpHandler handler, ErrorResponder responder)
      : server_(std::move(options), std::move(handler), std::move(responder)) {}

  ~ServerThread() {
    if (!thread_.joinable()) return;
    server_.Stop();
    if (!WaitForRun(kRunReturnTimeout)) {
      // Better a crashed test binary with a message than a hung CI job.
      std::fprintf(stderr, "HttpServer::Run() did not return after Stop(); aborting\n");
      std::abort();
    }
    thread_.join();
  }

  Result<void> Start() {
    HIKESHI_CHECK(server_.Start());
    RunInBackground();
    return {};
  }

  // For tests that need to act between HttpServer::Start() and Run().
  void RunInBackground() {
    thread_ = std::thread([this] {
      server_.Run();
      run_returned_.set_value();
    });
  }

  bool WaitForRun(milliseconds timeout) { return run_done_.wait_for(timeout) == std::future_status::ready; }
  HttpServer& Server() { return server_; }
  std::uint16_t Port() const { return server_.port(); }

 private:
  HttpServer server_;
  std::promise<void> run_returned_;
  std::future<void> run_done_ = run_returned_.get_future();
  std::thread thread_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts a server; with no handler, an echo handler answers 200 with the request body (or the
  // path when there is none).
  void StartServer(HttpServerOptions options = TestOptions(), HttpHandler handler = nullptr) {
    if (!handler) {
      handler = [](const HttpRequest& request) {
        return HttpResponse{.status = 200,
                            .headers = {{"Content-Type", "text/plain"}},
                            .body = request.body.empty() ? request.path : request.body};
      };
    }
    server_ = std::make_unique<ServerThread>(
        std::move(options),
        [this, handler = std::move(handler)](const HttpRequest& request) {
          calls_.Request(request);
          return handler(request);
        },
        [this](const Error& error) {
          calls_.Refusal(error);
          return HttpResponse{.status = StatusFor(error),
                              .headers = {{"Content-Type", "text/plain"}},
                              .body = std::string(ErrorCodeName(error.code())) + " " + error.message()};
        });
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message();
  }

  HttpConnection Connect() {
    auto connection = HttpConnection::Connect(server_->Port());
    EXPECT_TRUE(connection.has_value()) << connection.error().message();
    connection->set_timeout(kClientTimeout);
    return std::move(connection).value();
  }

  // Sends raw bytes on a new connection and reads one response.
  Result<HttpClientResponse> SendRaw(std::string_view bytes, HttpConnection* keep = nullptr) {
    HttpConnection connection = Connect();
    // A refused request may be cut off by the server mid-send; the response is what matters.
    (void)connection.SendRaw(bytes);
    auto response = connection.ReadResponse();
    if (keep != nullptr) *keep = std::move(connection);
    return response;
  }

  Calls calls_;
  std::unique_ptr<ServerThread> server_;
};

// --- Requests and responses -------------------------------------------------------------------

TEST_F(HttpServerTest, GetReachesTheHandlerAndItsResponseComesBack) {
  StartServer();
  auto connection = Connect();
  auto response = connection.RoundTrip({.method = "GET", .target = "/hello", .headers = {{"X-Trace-ID", "abc"}}});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "/hello");
  EXPECT_EQ(response->Header("content-length"), "6");
  EXPECT_EQ(response->Header("server"), "hikeshi");
  EXPECT_EQ(response->Header("content-type"), "text/plain");
  EXPECT_TRUE(response->HasHeader("date"));

  auto requests = calls_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/hello");
  EXPECT_EQ(requests[0].path, "/hello");
  EXPECT_EQ(requests[0].remote_address, "127.0.0.1");
  EXPECT_EQ(requests[0].Header("x-trace-id"), "abc") << "header names must arrive lower-cased";
  EXPECT_EQ(requests[0].Header("X-Trace-ID"), "");
  EXPECT_FALSE(requests[0].Header("host").empty());
}

TEST_F(HttpServerTest, PostBodyReachesTheHandler) {
  StartServer();
  auto connection = Connect();
  std::string body = R"({"title":"phishing wave","tlp":"amber"})";
  auto response = connection.RoundTrip(
      {.method = "POST", .target = "/api/v1/reports", .headers = {{"Content-Type", "application/json"}}, .body = body});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, body);
  auto requests = calls_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsReassembled) {
  StartServer();
  auto response = SendRaw(
      "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world");
}

TEST_F(HttpServerTest, PathAndQueryArriveDecoded) {
  StartServer();
  auto connection = Connect();
  auto response = connection.RoundTrip(
      {.target =
           "/api/v1/incidents/I%2D2026%2D000123/a%20b?status=open&q=phishing+wave&amp=%26%3D%2B&flag&status=new&"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  ASSERT_EQ(response->status, 200);
  auto requests = calls_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.target,
            "/api/v1/incidents/I%2D2026%2D000123/a%20b?status=open&q=phishing+wave&amp=%26%3D%2B&flag&status=new&");
  EXPECT_EQ(request.path, "/api/v1/incidents/I-2026-000123/a b");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(request.query,
            (Pairs{{"status", "open"}, {"q", "phishing wave"}, {"amp", "&=+"}, {"flag", ""}, {"status", "new"}}));
  ASSERT_NE(request.Query("status"), nullptr);
  EXPECT_EQ(*request.Query("status"), "open") << "Query() returns the first value";
  EXPECT_EQ(request.Query("missing"), nullptr);
}

TEST_F(HttpServerTest, PlusInThePathIsNotASpace) {
  StartServer();
  auto response = HttpConnection::Connect(server_->Port()).value().RoundTrip({.target = "/a+b"});
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "/a+b");
}

TEST_F(HttpServerTest, AbsoluteFormTargetIsAccepted) {
  StartServer();
  auto response = SendRaw("GET http://hikeshi.example/api/v1/ping?x=1 HTTP/1.1\r\nHost: hikeshi.example\r\n\r\n");
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "/api/v1/ping");
}

TEST_F(HttpServerTest, BadEscapesAndNulBytesAre400AndNeverReachTheHandler) {
  StartServer();
  auto connection = Connect();
  for (std::string target : {"/a%zz", "/a%2", "/a%", "/a%00b", "/ok?q=%0", "/ok?q=a%00", "/ok?%GG=1", "no-slash"}) {
    SCOPED_TRACE(target);
    auto response = connection.RoundTrip({.target = target});
    ASSERT_TRUE(response.has_value()) << response.error().message();
    EXPECT_EQ(response->status, 400);
  }
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  for (const Error& error : calls_.Errors()) EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  // The framing was fine, so the connection is still good for the next request.
  auto response = connection.RoundTrip({.target = "/after"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  auto connection = Connect();
  for (std::string path : {"/one", "/two", "/three"}) {
    auto response = connection.RoundTrip({.target = path});
    ASSERT_TRUE(response.has_value()) << path << ": " << response.error().message();
    EXPECT_EQ(response->body, path);
    EXPECT_NE(response->Header("connection"), "close");
  }
  auto still_open = connection.WaitForClose(milliseconds(100));
  ASSERT_TRUE(still_open.has_value()) << still_open.error().message();
  EXPECT_FALSE(*still_open);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto connection = Connect();
  ASSERT_TRUE(connection
                  .SendRaw("GET /first HTTP/1.1\r\nHost: t\r\n\r\n"
                           "POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody"
                           "GET /third HTTP/1.1\r\nHost: t\r\n\r\n")
                  .has_value());
  for (std::string expected : {"/first", "body", "/third"}) {
    auto response = connection.ReadResponse();
    ASSERT_TRUE(response.has_value()) << response.error().message();
    EXPECT_EQ(response->body, expected);
  }
}

TEST_F(HttpServerTest, ConnectionCloseRequestIsAnsweredThenClosed) {
  StartServer();
  auto connection = Connect();
  auto response = connection.RoundTrip({.target = "/bye", .headers = {{"Connection", "close"}}});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "close");
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  StartServer();
  HttpConnection connection = Connect();
  auto response = SendRaw("GET /old HTTP/1.0\r\n\r\n", &connection);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->version, "HTTP/1.0");
  EXPECT_EQ(response->body, "/old");
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, HeadGetsTheContentLengthButNoBody) {
  StartServer(TestOptions(),
              [](const HttpRequest&) { return HttpResponse{.status = 200, .headers = {}, .body = "0123456789"}; });
  auto connection = Connect();
  auto head = connection.RoundTrip({.method = "HEAD", .target = "/doc"});
  ASSERT_TRUE(head.has_value()) << head.error().message();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "10");
  EXPECT_EQ(head->body, "");
  // Had the server sent the body anyway, these bytes would now corrupt the next response.
  auto get = connection.RoundTrip({.method = "GET", .target = "/doc"});
  ASSERT_TRUE(get.has_value()) << get.error().message();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "0123456789");
  EXPECT_EQ(calls_.Requests().at(0).method, "HEAD");
}

TEST_F(HttpServerTest, HandlerResponsePassesThroughButTheServerOwnsFraming) {
  StartServer(TestOptions(), [](const HttpRequest&) {
    return HttpResponse{.status = 201,
                        .headers = {{"Location", "/api/v1/incidents/I-2026-000001"},
                                    {"Set-Cookie", "session=abc; HttpOnly"},
                                    {"Set-Cookie", "csrf=def"},
                                    {"Content-Length", "9999"},
                                    {"Transfer-Encoding", "chunked"}},
                        .body = "created"};
  });
  auto connection = Connect();
  auto response = connection.RoundTrip({.method = "POST", .target = "/api/v1/incidents", .body = "{}"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->Header("location"), "/api/v1/incidents/I-2026-000001");
  EXPECT_EQ(response->Headers("set-cookie"), (std::vector<std::string>{"session=abc; HttpOnly", "csrf=def"}));
  EXPECT_EQ(response->Headers("content-length"), std::vector<std::string>{"7"});
  EXPECT_FALSE(response->HasHeader("transfer-encoding"));
  EXPECT_EQ(response->body, "created");
  // Framing is intact: the connection carries another exchange.
  EXPECT_TRUE(connection.RoundTrip({.target = "/"}).has_value());
}

TEST_F(HttpServerTest, NoContentResponseHasNoBody) {
  StartServer(TestOptions(),
              [](const HttpRequest&) { return HttpResponse{.status = 204, .headers = {}, .body = "x"}; });
  auto connection = Connect();
  auto response = connection.RoundTrip({.method = "DELETE", .target = "/api/v1/tokens/1"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 204);
  EXPECT_FALSE(response->HasHeader("content-length"));
  auto again = connection.RoundTrip({.method = "DELETE", .target = "/api/v1/tokens/2"});
  ASSERT_TRUE(again.has_value()) << "a stray body byte would break the next response";
  EXPECT_EQ(again->status, 204);
}

TEST_F(HttpServerTest, HandlerCanAskToCloseTheConnection) {
  StartServer(TestOptions(), [](const HttpRequest&) {
    return HttpResponse{.status = 200, .headers = {{"Connection", "close"}}, .body = "bye"};
  });
  auto connection = Connect();
  auto response = connection.RoundTrip({.target = "/"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->Header("connection"), "close");
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value());
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, HeaderInjectionFromTheHandlerBecomes500) {
  StartServer(TestOptions(), [](const HttpRequest& request) {
    // e.g. a redirect target copied from user input without validation
    return HttpResponse{
        .status = 302, .headers = {{"Location", request.Query("next") ? *request.Query("next") : ""}}, .body = {}};
  });
  auto response = Connect().RoundTrip({.target = "/login?next=/x%0D%0ASet-Cookie:%20admin=1"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 500);
  EXPECT_FALSE(response->HasHeader("set-cookie"));
  ASSERT_EQ(calls_.Errors().size(), 1u);
  EXPECT_EQ(calls_.Errors()[0].code(), ErrorCode::kInternal);
}

// Sends "METHOD /upload" with `Expect: 100-continue` and a 5-byte body, which goes only once the
// interim response has come, and returns the final response.
Result<HttpClientResponse> SendAfterContinue(HttpConnection& connection, std::string_view method) {
  HIKESHI_CHECK(connection.SendRaw(std::string(method) + " /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                                                         "Expect: 100-continue\r\n\r\n"));
  HIKESHI_TRY(const auto interim, connection.ReadResponse());
  if (interim.status != 100) return Fail(Error::Internal(fmt::format("got {} instead of 100", interim.status)));
  HIKESHI_CHECK(connection.SendRaw("hello"));
  return connection.ReadResponse();
}

TEST_F(HttpServerTest, Expect100ContinueGetsTheInterimResponse) {
  StartServer();
  auto connection = Connect();
  auto response = SendAfterContinue(connection, "PUT");
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
}

// --- Transport limits ---------------------------------------------------------------------------

TEST_F(HttpServerTest, OversizeHeaderIsRefusedWith431BeforeTheHandler) {
  StartServer();  // max_header_bytes = 2048
  HttpConnection connection = Connect();
  auto response = SendRaw("GET / HTTP/1.1\r\nHost: t\r\nCookie: " + std::string(8'000, 'c') + "\r\n\r\n", &connection);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  auto errors = calls_.Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code(), ErrorCode::kTooLarge);
  EXPECT_EQ(errors[0].field(), "/headers");
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);

  // A header far larger than the limit, sent in one go by an ordinary client, gets the same answer.
  auto huge = testing::Fetch(server_->Port(), {.target = "/", .headers = {{"X-Padding", std::string(200'000, 'x')}}},
                             kClientTimeout);
  ASSERT_TRUE(huge.has_value()) << huge.error().message();
  EXPECT_EQ(huge->status, 431);
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
}

TEST_F(HttpServerTest, HeaderJustUnderTheLimitIsAccepted) {
  StartServer();
  auto response = Connect().RoundTrip({.target = "/", .headers = {{"X-Pad", std::string(1'500, 'p')}}});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, DeclaredBodyOverTheLimitIsRefusedBeforeTheBodyIsSent) {
  StartServer();  // max_body_bytes = 1024
  HttpConnection connection = Connect();
  // Only the header is sent. If the server waited for the 10 MB body, this read would time out.
  auto response = SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10485760\r\n\r\n", &connection);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  auto errors = calls_.Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code(), ErrorCode::kTooLarge);
  EXPECT_EQ(errors[0].field(), "/body");
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, RefusedUploadIsDrainedSoTheClientIsNotReset) {
  StartServer();
  HttpConnection connection = Connect();
  // A client that streams its body without waiting: part of it is already on the wire when the
  // server refuses. Closing with unread input would make the kernel answer with a reset, failing
  // the client's upload with ECONNRESET (and, off loopback, destroying the 413 in flight).
  auto response = SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n" + std::string(4096, 'x'),
                          &connection);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 413);
  auto rest = connection.SendRaw(std::string(65536 - 4096, 'x'));
  EXPECT_TRUE(rest.has_value()) << "the server reset the connection: " << rest.error().message();
  connection.ShutdownWrite();
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIsRefusedWith413) {
  StartServer();
  std::string chunk = "200\r\n" + std::string(0x200, 'x') + "\r\n";  // 512 bytes each
  auto response = SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
                          chunk + "0\r\n\r\n");
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  auto errors = calls_.Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field(), "/body");
}

TEST_F(HttpServerTest, BodyLimitIsInclusive) {
  StartServer();
  auto at_limit = Connect().RoundTrip({.method = "POST", .target = "/", .body = std::string(1024, 'a')});
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().message();
  EXPECT_EQ(at_limit->status, 200);
  EXPECT_EQ(at_limit->body.size(), 1024u);
  auto over = Connect().RoundTrip({.method = "POST", .target = "/", .body = std::string(1025, 'a')});
  ASSERT_TRUE(over.has_value()) << over.error().message();
  EXPECT_EQ(over->status, 413);
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndCloseTheConnection) {
  StartServer();
  for (std::string raw : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n"),
           std::string("GET / HTTP/9.9\r\nHost: t\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host
           std::string("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n"),
           std::string("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
           std::string("GET /\0 HTTP/1.1\r\nHost: t\r\n\r\n", 28),
       }) {
    SCOPED_TRACE(raw);
    HttpConnection connection = Connect();
    auto response = SendRaw(raw, &connection);
    ASSERT_TRUE(response.has_value()) << response.error().message();
    EXPECT_EQ(response->status, 400);
    auto closed = connection.WaitForClose(kClientTimeout);
    ASSERT_TRUE(closed.has_value()) << closed.error().message();
    EXPECT_TRUE(*closed);
  }
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  for (const Error& error : calls_.Errors()) EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
}

// --- Slow and idle clients ----------------------------------------------------------------------

TEST_F(HttpServerTest, SlowClientGets408AfterTheRequestTimeout) {
  HttpServerOptions options = TestOptions();
  options.request_timeout = milliseconds(300);
  StartServer(options);
  HttpConnection connection = Connect();
  ASSERT_TRUE(connection.SendRaw("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf").has_value());
  auto sent = SteadyClock::now();
  auto response = connection.ReadResponse();
  auto waited = SteadyClock::now() - sent;
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 408);
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LE(waited, milliseconds(2'000));
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  ASSERT_EQ(calls_.Errors().size(), 1u);
  EXPECT_EQ(calls_.Errors()[0].code(), ErrorCode::kDeadlineExceeded);
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, TricklingBytesDoesNotExtendTheRequestDeadline) {
  HttpServerOptions options = TestOptions();
  options.request_timeout = milliseconds(300);
  StartServer(options);
  HttpConnection connection = Connect();
  // One byte every 20 ms: a per-read timeout would never fire, and this header would take 40 s.
  std::string header = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(2'000, 's');
  auto started = SteadyClock::now();
  bool answered = false;
  for (char c : header) {
    if (!connection.SendRaw(std::string_view(&c, 1))) break;
    auto waited = connection.WaitForClose(milliseconds(20));
    if (!waited.has_value() || *waited) {  // bytes arrived (the response) or the server closed
      answered = true;
      break;
    }
    ASSERT_LT(SteadyClock::now() - started, milliseconds(3'000)) << "the server is still waiting";
  }
  ASSERT_TRUE(answered);
  EXPECT_LE(SteadyClock::now() - started, milliseconds(2'000));
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 408);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedSilently) {
  HttpServerOptions options = TestOptions();
  options.idle_timeout = milliseconds(200);
  StartServer(options);
  HttpConnection connection = Connect();
  ASSERT_TRUE(connection.RoundTrip({.target = "/"}).has_value());
  auto idle_since = SteadyClock::now();
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << "expected a silent close: " << closed.error().message();
  EXPECT_TRUE(*closed);
  EXPECT_GE(SteadyClock::now() - idle_since, milliseconds(150));
  EXPECT_TRUE(calls_.Errors().empty()) << "an idle close is not a refused request";
}

TEST_F(HttpServerTest, ConnectionThatNeverSendsIsClosedSilently) {
  HttpServerOptions options = TestOptions();
  options.request_timeout = milliseconds(300);
  StartServer(options);
  HttpConnection connection = Connect();
  auto closed = connection.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << "expected a silent close: " << closed.error().message();
  EXPECT_TRUE(*closed);
  EXPECT_TRUE(calls_.Errors().empty());
}

// --- Handler failures ---------------------------------------------------------------------------

TEST_F(HttpServerTest, ThrowingHandlerGets500WithoutDetailsAndTheServerKeepsServing) {
  StartServer(TestOptions(), [](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("secret: /var/lib/hikeshi/db password=hunter2");
    if (request.path == "/throw-int") throw 42;
    return HttpResponse{.status = 200, .headers = {}, .body = "fine"};
  });
  auto connection = Connect();
  for (std::string path : {"/throw", "/throw-int"}) {
    auto response = connection.RoundTrip({.target = path});
    ASSERT_TRUE(response.has_value()) << response.error().message();
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(response->body.find("hunter2"), std::string::npos);
  }
  auto errors = calls_.Errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code(), ErrorCode::kInternal);
  EXPECT_EQ(errors[0].message(), "internal error");
  // Same connection, and a fresh one: both still served.
  auto same = connection.RoundTrip({.target = "/ok"});
  ASSERT_TRUE(same.has_value()) << same.error().message();
  EXPECT_EQ(same->body, "fine");
  auto fresh = Connect().RoundTrip({.target = "/ok"});
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
  EXPECT_EQ(fresh->body, "fine");
}

TEST(HttpServerFailureTest, ThrowingErrorResponderStillYieldsA500) {
  ServerThread server(
      TestOptions(), [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("handler"); },
      [](const Error&) -> HttpResponse { throw std::runtime_error("responder"); });
  ASSERT_TRUE(server.Start().has_value());
  auto response = testing::Fetch(server.Port(), {.target = "/"}, kClientTimeout);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 500);
}

// --- Start-up -----------------------------------------------------------------------------------

TEST(HttpServerStartTest, RejectsMalformedListenAddresses) {
  for (std::string listen :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536", "127.0.0.1:-1", ":8080", "::1:8080", "[::1",
        "[::1]8080", "[127.0.0.1]:80", "hikeshi.example:80", "300.1.1.1:80"}) {
    SCOPED_TRACE(listen);
    HttpServerOptions options = TestOptions();
    options.listen = listen;
    HttpServer server(options, nullptr, nullptr);
    auto started = server.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code(), ErrorCode::kInvalidArgument) << started.error().message();
  }
}

TEST(HttpServerStartTest, ReportsAPortInUseAsUnavailable) {
  HttpServerOptions options = TestOptions();
  HttpServer first(options, nullptr, nullptr);
  ASSERT_TRUE(first.Start().has_value());
  ASSERT_NE(first.port(), 0);
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(options, nullptr, nullptr);
  auto started = second.Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kUnavailable) << started.error().message();
}

TEST_F(HttpServerTest, LocalhostMeansTheIpv4Loopback) {
  HttpServerOptions options = TestOptions();
  options.listen = "localhost:0";
  StartServer(options);
  auto response = testing::Fetch(server_->Port(), {.target = "/"}, kClientTimeout);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, ListensOnTheIpv6Loopback) {
  HttpServerOptions options = TestOptions();
  options.listen = "[::1]:0";
  {
    HttpServer probe(options, nullptr, nullptr);
    if (auto started = probe.Start(); !started) GTEST_SKIP() << "no IPv6 loopback here: " << started.error().message();
  }
  StartServer(options);
  auto connection = HttpConnection::Connect(server_->Port(), "::1", kClientTimeout);
  ASSERT_TRUE(connection.has_value()) << connection.error().message();
  auto response = connection->RoundTrip({.target = "/v6"});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(calls_.Requests().size(), 1u);
  EXPECT_EQ(calls_.Requests()[0].remote_address, "::1");
}

// --- Shutdown -----------------------------------------------------------------------------------

TEST_F(HttpServerTest, StopLetsAnInFlightRequestFinishAndRefusesNewConnections) {
  std::atomic<bool> handler_entered{false};
  StartServer(TestOptions(), [&](const HttpRequest&) {
    handler_entered = true;
    std::this_thread::sleep_for(milliseconds(400));
    return HttpResponse{.status = 200, .headers = {}, .body = "finished"};
  });
  const std::uint16_t port = server_->Port();
  HttpConnection in_flight = Connect();
  ASSERT_TRUE(in_flight.Send({.target = "/slow"}).has_value());
  ASSERT_TRUE(WaitUntil([&] { return handler_entered.load(); }, kClientTimeout));

  server_->Server().Stop();
  // The listener goes away at once, long before the in-flight handler returns.
  bool refused =
      WaitUntil([&] { return !HttpConnection::Connect(port, "127.0.0.1", milliseconds(100)); }, milliseconds(300));
  EXPECT_TRUE(refused) << "new connections were still accepted after Stop()";

  auto response = in_flight.ReadResponse();
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_EQ(response->Header("connection"), "close");
  auto closed = in_flight.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
  EXPECT_TRUE(server_->WaitForRun(kClientTimeout));
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsWithoutWaitingForTheGracePeriod) {
  HttpServerOptions options = TestOptions();
  options.shutdown_grace = milliseconds(30'000);
  options.idle_timeout = milliseconds(30'000);
  StartServer(options);
  HttpConnection idle = Connect();
  ASSERT_TRUE(idle.RoundTrip({.target = "/"}).has_value());
  // Give the server time to finish the exchange and start waiting for the next request, so what
  // is tested is closing a waiting connection, not one that notices the stop on its way back.
  std::this_thread::sleep_for(milliseconds(100));
  auto stopped_at = SteadyClock::now();
  server_->Server().Stop();
  auto closed = idle.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
  EXPECT_TRUE(server_->WaitForRun(kClientTimeout));
  EXPECT_LT(SteadyClock::now() - stopped_at, milliseconds(3'000));
}

TEST_F(HttpServerTest, GracePeriodCutsOffARequestThatNeverCompletes) {
  HttpServerOptions options = TestOptions();
  options.shutdown_grace = milliseconds(200);
  options.request_timeout = milliseconds(30'000);
  StartServer(options);
  HttpConnection partial = Connect();
  ASSERT_TRUE(partial.SendRaw("GET / HTTP/1.1\r\nHost: t\r\n").has_value());
  std::this_thread::sleep_for(milliseconds(50));  // let the server start reading it
  auto stopped_at = SteadyClock::now();
  server_->Server().Stop();
  EXPECT_TRUE(server_->WaitForRun(milliseconds(3'000)));
  EXPECT_GE(SteadyClock::now() - stopped_at, milliseconds(150)) << "a request in progress was not given its grace";
  auto closed = partial.WaitForClose(kClientTimeout);
  ASSERT_TRUE(closed.has_value()) << closed.error().message();
  EXPECT_TRUE(*closed);
}

TEST_F(HttpServerTest, StopIsIdempotentAndSafeFromManyThreads) {
  StartServer();
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 8; ++i) {
    stoppers.emplace_back([this] {
      for (int j = 0; j < 10; ++j) server_->Server().Stop();
    });
  }
  for (auto& stopper : stoppers) stopper.join();
  EXPECT_TRUE(server_->WaitForRun(kClientTimeout));
  server_->Server().Stop();  // after Run() returned: still harmless
}

TEST(HttpServerStopTest, StopBeforeRunMakesRunReturnPromptly) {
  ServerThread server(TestOptions(), nullptr, nullptr);
  ASSERT_TRUE(server.Server().Start().has_value());
  server.Server().Stop();
  server.RunInBackground();
  EXPECT_TRUE(server.WaitForRun(kClientTimeout));
  server.Server().Stop();
}

// Runs in a forked child (see below): the SIGTERM handler and the signal itself stay there.
[[noreturn]] void ServeUntilSigterm() {
  std::atomic<bool> handler_entered{false};
  HttpServerOptions options = TestOptions();
  options.stop_on_signals = true;
  HttpServer server(
      options,
      [&](const HttpRequest&) {
        handler_entered = true;
        std::this_thread::sleep_for(milliseconds(300));
        return HttpResponse{.status = 200, .headers = {}, .body = "done"};
      },
      [](const Error&) { return HttpResponse{.status = 500, .headers = {}, .body = {}}; });
  if (!server.Start()) std::_Exit(10);
  std::promise<void> run_returned;
  auto run_done = run_returned.get_future();
  std::thread runner([&] {
    server.Run();
    run_returned.set_value();
  });
  auto connection = HttpConnection::Connect(server.port(), "127.0.0.1", kClientTimeout);
  if (!connection || !connection->Send({.target = "/"})) std::_Exit(11);
  if (!WaitUntil([&] { return handler_entered.load(); }, kClientTimeout)) std::_Exit(12);
  std::raise(SIGTERM);
  auto response = connection->ReadResponse();
  if (!response || response->status != 200 || response->body != "done") std::_Exit(13);
  if (run_done.wait_for(kRunReturnTimeout) != std::future_status::ready) std::_Exit(14);
  runner.join();
  std::_Exit(0);
}

// gtest runs every test in one process, so the signal test gets a process of its own: a death
// test. Without the server's handler SIGTERM would kill the child and the expected exit code 0
// (in-flight request answered, Run() returned) would not be seen.
TEST(HttpServerDeathTest, SigtermStopsTheServerGracefully) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(ServeUntilSigterm(), ::testing::ExitedWithCode(0), "");
}

// --- Streamed responses (server-sent events) ---------------------------------------------------

// A stream the test feeds: Next() hands out what Push() queued, and ends after Finish() or when the
// server requests its stop (which it records).
class ScriptedStream final : public ResponseStream {
 public:
  std::optional<std::string> Next(std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    token_ = stop;
    waiting_ = true;
    ready_.wait(lock, stop, [&] { return !queue_.empty() || finished_; });
    waiting_ = false;
    if (stop.stop_requested()) {
      stopped_ = true;
      return std::nullopt;
    }
    if (queue_.empty()) return std::nullopt;
    std::string next = std::move(queue_.front());
    queue_.pop_front();
    return next;
  }
  void Push(std::string piece) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(piece));
    }
    ready_.notify_all();
  }
  void Finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    ready_.notify_all();
  }
  // Whether the server's thread is inside Next(), waiting for something to hand out.
  bool Waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }
  // Whether the server has asked the stream to stop (seen in Next(), or on the token it last got).
  bool Stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_ || token_.stop_requested();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<std::string> queue_;
  bool finished_ = false;
  bool stopped_ = false;
  bool waiting_ = false;
  std::stop_token token_;
};

// Answers /stream/N with the N-th scripted stream (made on demand) and anything else with "plain".
class StreamingHandler {
 public:
  std::shared_ptr<ScriptedStream> Stream(std::size_t n) {
    std::lock_guard lock(mutex_);
    while (streams_.size() <= n) streams_.push_back(std::make_shared<ScriptedStream>());
    return streams_[n];
  }
  HttpHandler Handler() {
    return [this](const HttpRequest& request) {
      if (!request.path.starts_with("/stream/")) {
        return HttpResponse{.status = 200, .headers = {}, .body = "plain"};
      }
      HttpResponse response{
          .status = 200, .headers = {{"Content-Type", "text/event-stream"}}, .body = "data: hello\n\n"};
      response.stream = Stream(std::stoul(request.path.substr(8)));
      return response;
    };
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<ScriptedStream>> streams_;
};

Result<testing::SseStream> OpenStream(std::uint16_t port, std::size_t n) {
  return testing::SseStream::Open(port, "/stream/" + std::to_string(n), {}, kClientTimeout);
}

TEST_F(HttpServerTest, AStreamArrivesPieceByPieceWithoutHoldingAnIoThread) {
  StreamingHandler streams;
  HttpServerOptions options = TestOptions();
  options.threads = 1;  // three open streams, and the one I/O thread still serves everyone
  StartServer(options, streams.Handler());
  std::vector<testing::SseStream> open;
  for (std::size_t i = 0; i < 3; ++i) {
    auto stream = OpenStream(server_->Port(), i);
    ASSERT_TRUE(stream) << stream.error().message();
    ASSERT_EQ(stream->head().status, 200);
    EXPECT_EQ(stream->head().Header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(stream->head().Header("Connection"), "close");
    EXPECT_FALSE(stream->head().HasHeader("Content-Length"));
    // The body given with the head comes at once.
    auto hello = stream->Next(kClientTimeout);
    ASSERT_TRUE(hello) << hello.error().message();
    EXPECT_EQ(hello->data, "hello");
    open.push_back(std::move(*stream));
  }
  auto plain = testing::Fetch(server_->Port(), {.target = "/other"}, kClientTimeout);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->body, "plain");

  // Each piece is written as soon as the stream returns it, to its own client only.
  streams.Stream(1)->Push("data: one\n\n");
  auto one = open[1].Next(kClientTimeout);
  ASSERT_TRUE(one) << one.error().message();
  EXPECT_EQ(one->data, "one");
  streams.Stream(2)->Push("data: two\n\ndata: three\n\n");
  auto two = open[2].Next(kClientTimeout);
  auto three = open[2].Next(kClientTimeout);
  ASSERT_TRUE(two && three);
  EXPECT_EQ(two->data, "two");
  EXPECT_EQ(three->data, "three");
  EXPECT_FALSE(open[0].Next(milliseconds(200))) << open[0].text();

  // A stream that ends closes its connection after the last chunk.
  streams.Stream(0)->Finish();
  auto ended = open[0].WaitForEnd(kClientTimeout);
  ASSERT_TRUE(ended) << ended.error().message();
  EXPECT_TRUE(*ended);
  EXPECT_EQ(open[0].text(), "data: hello\n\n");
}

TEST_F(HttpServerTest, AClientHangingUpStopsItsStream) {
  StreamingHandler streams;
  StartServer(TestOptions(), streams.Handler());
  {
    auto stream = OpenStream(server_->Port(), 0);
    ASSERT_TRUE(stream) << stream.error().message();
    ASSERT_TRUE(stream->Next(kClientTimeout));
    ASSERT_TRUE(WaitUntil([&] { return streams.Stream(0)->Waiting(); }, kClientTimeout));
  }  // the client closes its socket here
  EXPECT_TRUE(WaitUntil([&] { return streams.Stream(0)->Stopped(); }, kClientTimeout));
}

TEST_F(HttpServerTest, StreamsPastTheCapAreRefusedUntilOneEnds) {
  StreamingHandler streams;
  HttpServerOptions options = TestOptions();
  options.max_streams = 2;
  StartServer(options, streams.Handler());
  auto first = OpenStream(server_->Port(), 0);
  auto second = OpenStream(server_->Port(), 1);
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->head().status, 200);
  ASSERT_EQ(second->head().status, 200);
  auto third = testing::Fetch(server_->Port(), {.target = "/stream/2"}, kClientTimeout);
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(third->Header("Retry-After"), "5");
  ASSERT_FALSE(calls_.Errors().empty());
  EXPECT_EQ(calls_.Errors().back().code(), ErrorCode::kUnavailable);

  streams.Stream(0)->Finish();
  ASSERT_TRUE(first->WaitForEnd(kClientTimeout).value_or(false));
  // The slot comes back once the ended stream's thread is gone.
  int status = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto again = OpenStream(server_->Port(), 3);
        status = again ? again->head().status : 0;
        return status == 200;
      },
      kClientTimeout))
      << status;
}

TEST_F(HttpServerTest, AClientThatStopsReadingIsCutOff) {
  StreamingHandler streams;
  StartServer(TestOptions(), streams.Handler());
  auto connection = Connect();
  ASSERT_TRUE(connection.Send({.target = "/stream/0"}));
  // The client reads nothing while the stream produces far more than socket buffers hold.
  const std::string piece(64 << 10, 'x');
  auto stream = streams.Stream(0);
  const bool cut_off = WaitUntil(
      [&] {
        stream->Push(piece);
        return stream->Stopped();
      },
      milliseconds(20'000));
  EXPECT_TRUE(cut_off) << "the server kept buffering for a client that reads nothing";
}

TEST_F(HttpServerTest, StopEndsOpenStreamsWithoutWaitingForTheGracePeriod) {
  StreamingHandler streams;
  HttpServerOptions options = TestOptions();
  options.shutdown_grace = milliseconds(20'000);
  StartServer(options, streams.Handler());
  auto first = OpenStream(server_->Port(), 0);
  auto second = OpenStream(server_->Port(), 1);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->Next(kClientTimeout) && second->Next(kClientTimeout));
  ASSERT_TRUE(WaitUntil([&] { return streams.Stream(0)->Waiting() && streams.Stream(1)->Waiting(); }, kClientTimeout));
  const auto start = SteadyClock::now();
  server_->Server().Stop();
  ASSERT_TRUE(server_->WaitForRun(milliseconds(5'000))) << "Run() waited for the open streams";
  EXPECT_LT(SteadyClock::now() - start, milliseconds(5'000));
  EXPECT_TRUE(streams.Stream(0)->Stopped());
  EXPECT_TRUE(streams.Stream(1)->Stopped());
  // Each client got a properly ended body.
  EXPECT_TRUE(first->WaitForEnd(kClientTimeout).value_or(false)) << first->text();
  EXPECT_TRUE(second->WaitForEnd(kClientTimeout).value_or(false)) << second->text();
}

TEST_F(HttpServerTest, HeadOfAStreamedResourceGetsNoStream) {
  StreamingHandler streams;
  StartServer(TestOptions(), streams.Handler());
  auto connection = Connect();
  ASSERT_TRUE(connection.Send({.method = "HEAD", .target = "/stream/0"}));
  auto response = connection.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Type"), "text/event-stream");
  EXPECT_FALSE(streams.Stream(0)->Stopped());  // never started
}

// --- Request bodies streamed to their handler -----------------------------------------------------

// A handler for streamed bodies on /upload: reads the body (4 KiB at a time) once `Release()` lets
// it, and answers with how many bytes came and their FNV-1a hash, or with the error its Read()
// returned. GET /refuse answers 401 without reading anything.
class UploadHandler {
 public:
  explicit UploadHandler(bool held = false) : held_(held) {}

  static HttpServerOptions Options(HttpServerOptions options = TestOptions()) {
    options.stream_body = [](const HttpRequest& head) { return head.path == "/upload" || head.path == "/refuse"; };
    return options;
  }

  HttpHandler Handler() {
    return [this](const HttpRequest& request) {
      if (request.body_stream == nullptr) {
        return HttpResponse{.status = 200, .headers = {}, .body = "whole:" + std::to_string(request.body.size())};
      }
      if (request.path == "/refuse") return HttpResponse{.status = 401, .headers = {}, .body = "log in first"};
      {
        std::unique_lock lock(mutex_);
        released_.wait(lock, [&] { return !held_; });
      }
      std::uint64_t hash = 1469598103934665603ULL;
      std::uint64_t bytes = 0;
      std::string buffer(4096, '\0');
      for (;;) {
        auto n = request.body_stream->Read(buffer.data(), buffer.size());
        if (!n) {
          std::lock_guard lock(mutex_);
          failure_ = n.error();
          return HttpResponse{.status = 400, .headers = {}, .body = std::string(ErrorCodeName(n.error().code()))};
        }
        if (*n == 0) break;
        for (std::size_t i = 0; i < *n; ++i) hash = (hash ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ULL;
        bytes += *n;
        read_.store(bytes);
      }
      return HttpResponse{.status = 200, .headers = {}, .body = fmt::format("{} {:x}", bytes, hash)};
    };
  }

  void Release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  std::uint64_t BytesRead() const { return read_.load(); }
  std::optional<Error> Failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
  }

  static std::string Expected(std::string_view body) {
    std::uint64_t hash = 1469598103934665603ULL;
    for (const char c : body) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return fmt::format("{} {:x}", body.size(), hash);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool held_;
  std::atomic<std::uint64_t> read_{0};
  std::optional<Error> failure_;
};

// Not a repeating pattern, so a lost or repeated piece changes the hash.
std::string UploadBody(std::size_t size) {
  std::string body(size, '\0');
  std::uint32_t x = 2463534242u;
  for (char& c : body) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return body;
}

TEST_F(HttpServerTest, AStreamedBodyFarOverMaxBodyBytesReachesItsHandlerWhole) {
  UploadHandler uploads;
  StartServer(UploadHandler::Options(), uploads.Handler());  // max_body_bytes = 1024
  const std::string body = UploadBody(8 << 20);
  auto connection = Connect();
  auto response = connection.RoundTrip({.method = "POST", .target = "/upload", .body = body});
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, UploadHandler::Expected(body));

  // The same connection goes on: the body was read to its end.
  std::string chunked;
  const std::string small = body.substr(0, 3 << 20);
  for (std::size_t at = 0; at < small.size(); at += 10'000) {
    const std::string piece = small.substr(at, 10'000);
    chunked += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
  }
  ASSERT_TRUE(
      connection
          .SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n")
          .has_value());
  auto second = connection.ReadResponse();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, UploadHandler::Expected(small));

  // Every other route keeps the limit.
  auto other = connection.RoundTrip({.method = "POST", .target = "/other", .body = std::string(2'000, 'x')});
  ASSERT_TRUE(other.has_value()) << other.error().message();
  EXPECT_EQ(other->status, 413);
}

TEST_F(HttpServerTest, AnUploadWaitsForItsHandlerInsteadOfFillingMemory) {
  UploadHandler uploads(/*held=*/true);
  StartServer(UploadHandler::Options(), uploads.Handler());
  const std::string body = UploadBody(48 << 20);
  std::atomic<bool> sent{false};
  Result<HttpClientResponse> response = Fail(Error::Internal("no response"));
  std::thread client([&] {
    auto connection = Connect();
    connection.set_timeout(milliseconds(60'000));
    response = connection.RoundTrip({.method = "POST", .target = "/upload", .body = body});
    sent = true;
  });
  // While the handler reads nothing, the server reads no more than its two pieces: the rest stays
  // with the client (socket buffers hold a few MB at most), so the upload cannot finish.
  std::this_thread::sleep_for(milliseconds(1'500));
  EXPECT_FALSE(sent.load()) << "the server took a 48 MiB body its handler had not read";
  EXPECT_EQ(uploads.BytesRead(), 0u);
  uploads.Release();
  client.join();
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, UploadHandler::Expected(body));
}

TEST_F(HttpServerTest, AHandlerThatRefusesBeforeReadingIsAnsweredBeforeTheBodyIsSent) {
  UploadHandler uploads;
  StartServer(UploadHandler::Options(), uploads.Handler());
  auto connection = Connect();
  // A client that waits for 100 Continue: the refusal comes instead, and the 10 GB stay unsent.
  ASSERT_TRUE(connection
                  .SendRaw("POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 10737418240\r\n"
                           "Expect: 100-continue\r\n\r\n")
                  .has_value());
  auto response = connection.ReadResponse();
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->Header("connection"), "close");

  // One that reads gets the interim response, then its body is read.
  auto reader = Connect();
  auto done = SendAfterContinue(reader, "POST");
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->status, 200);
  EXPECT_EQ(done->body, UploadHandler::Expected("hello"));
}

TEST_F(HttpServerTest, AStalledOrAbandonedUploadEndsItsHandlersRead) {
  HttpServerOptions options = UploadHandler::Options();
  options.streamed_body_idle_timeout = milliseconds(300);
  // 5,000 of 100,000 bytes, then nothing (past the idle timeout), or the client gives up half-way.
  for (const auto& [hang_up, expected] :
       {std::pair{false, ErrorCode::kDeadlineExceeded}, std::pair{true, ErrorCode::kUnavailable}}) {
    SCOPED_TRACE(hang_up ? "hang-up" : "stall");
    UploadHandler uploads;
    StartServer(options, uploads.Handler());
    auto connection = Connect();
    ASSERT_TRUE(
        connection
            .SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + std::string(5'000, 'x'))
            .has_value());
    if (hang_up) connection.ShutdownWrite();
    ASSERT_TRUE(WaitUntil([&] { return uploads.Failure().has_value(); }, kClientTimeout));
    EXPECT_EQ(uploads.Failure()->code(), expected);
    EXPECT_EQ(uploads.BytesRead(), 5'000u);
    server_.reset();
  }
}

TEST_F(HttpServerTest, AStreamedBodyOverItsOwnLimitIsRefused) {
  HttpServerOptions options = UploadHandler::Options();
  options.max_streamed_body_bytes = 100'000;
  UploadHandler uploads;
  StartServer(options, uploads.Handler());
  // Declared: refused before the handler runs.
  auto declared = SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100001\r\n\r\n");
  ASSERT_TRUE(declared.has_value()) << declared.error().message();
  EXPECT_EQ(declared->status, 413);
  EXPECT_EQ(calls_.HandlerCalls(), 0u);
  // Chunked: the handler's Read() fails once the body passes the limit.
  std::string chunked;
  for (int i = 0; i < 30; ++i) chunked += fmt::format("{:x}\r\n{}\r\n", 5'000, std::string(5'000, 'y'));
  auto response =
      SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n");
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, "too-large");
  ASSERT_TRUE(uploads.Failure().has_value());
  EXPECT_EQ(uploads.Failure()->field(), "/body");
  EXPECT_LE(uploads.BytesRead(), 100'000u);
}

TEST_F(HttpServerTest, StopEndsAnUploadThatNeverCompletes) {
  HttpServerOptions options = UploadHandler::Options();
  options.shutdown_grace = milliseconds(200);
  options.request_timeout = milliseconds(30'000);
  UploadHandler uploads;
  StartServer(options, uploads.Handler());
  auto connection = Connect();
  ASSERT_TRUE(connection.SendRaw("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc").has_value());
  ASSERT_TRUE(WaitUntil([&] { return uploads.BytesRead() == 3; }, kClientTimeout));
  server_->Server().Stop();
  EXPECT_TRUE(server_->WaitForRun(milliseconds(5'000)));
  ASSERT_TRUE(uploads.Failure().has_value());
  EXPECT_EQ(uploads.Failure()->code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace hikeshi::api
