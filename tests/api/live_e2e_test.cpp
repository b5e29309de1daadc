// Live updates end to end on SQLite (GET /api/v1/stream, server-sent events): the real `hikeshi
// serve`, one client holding a stream while another changes things through the API. A change shows
// up within a second, carries names but no field values, and a user scoped to one constituency
// never hears of another's incidents. Also: resuming after a seq, the reset for a resume too far
// back, keep-alives, the end of a stream on logout, the cap on open streams, and a shutdown that
// does not wait for open streams.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_fixture.hpp"
#include "support/sse_client.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::SseEvent;
using testing::SseStream;
using SteadyClock = std::chrono::steady_clock;

class LiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string data = dir_->path().string();
    const auto init = RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
    ASSERT_TRUE(init.status.Succeeded()) << init.err;
    for (const auto& [name, cidr] : {std::pair{"alpha", "192.0.2.0/24"}, std::pair{"beta", "198.51.100.0/24"}}) {
      const auto r = RunCli({"constituency", "add", "--data", data, name, "--cidr", cidr});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    for (const auto& [user, constituency] :
         {std::pair{"alice", "alpha"}, std::pair{"tess", "alpha"}, std::pair{"bob", "beta"}}) {
      const auto r = RunCli({"user", "add", "--data", data, user, "--role", "handler", "--constituency", constituency},
                            {{"HIKESHI_PASSWORD", kUserPassword}});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    for (const std::string user : {"admin", "alice", "tess", "bob"}) {
      const auto r = RunCli({"token", "create", "--data", data, "--user", user});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
      (*tokens_)[user] = r.out.substr(0, r.out.find('\n'));
    }
    // A short keep-alive so that the test can see one (the default is 15 s), and no journal poll:
    // only the committing write itself can wake a stream, as it must on a single node.
    server_ = Server::Start(dir_->path(), {"--stream-heartbeat-ms", "400", "--change-poll-ms", "0"}).release();
    ASSERT_NE(server_, nullptr);
  }

  static void TearDownTestSuite() {
    if (server_) {
      const auto status = server_->Stop();
      EXPECT_TRUE(status.Succeeded()) << status.ToString();
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Token(const std::string& user) { return tokens_->at(user); }
  static Server& S() { return *server_; }

  static SseStream Open(const std::string& user, const std::string& target = "/api/v1/stream",
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + Token(user));
    auto stream = SseStream::Open(S().port(), target, std::move(headers));
    EXPECT_TRUE(stream) << stream.error().message();
    EXPECT_EQ(stream->head().status, 200);
    return std::move(*stream);
  }

  // Creates an incident in `constituency` through the API; returns its id.
  static std::string CreateIncident(const std::string& user, const std::string& constituency,
                                    const std::string& title) {
    const json body = {{"title", title}, {"category", "intrusion-attempts/exploit"}, {"constituency", constituency}};
    const auto r = S().Call("POST", "/api/v1/incidents", Token(user), body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  }

  // Events until one about `object_id` arrives (or the timeout); all of them, that one last.
  static std::vector<SseEvent> EventsUntil(SseStream& stream, const std::string& object_id,
                                           milliseconds timeout = milliseconds(5000)) {
    std::vector<SseEvent> seen;
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      auto event = stream.Next(std::max(left, milliseconds(1)));
      if (!event) {
        ADD_FAILURE() << "no event about " << object_id << ": " << event.error().message() << "\nreceived:\n"
                      << stream.text();
        return seen;
      }
      seen.push_back(*event);
      if (event->type == "change" && json::parse(event->data, nullptr, false).value("object_id", "") == object_id) {
        return seen;
      }
    }
  }

  static TempDir* dir_;
  static Server* server_;
  static std::map<std::string, std::string>* tokens_;
};

TempDir* LiveTest::dir_ = nullptr;
Server* LiveTest::server_ = nullptr;
std::map<std::string, std::string>* LiveTest::tokens_ = new std::map<std::string, std::string>();

TEST_F(LiveTest, AnIncidentCreatedByAnotherClientArrivesWithinASecondWithoutItsFields) {
  SseStream stream = Open("alice");
  EXPECT_EQ(stream.head().Header("Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(stream.head().Header("Cache-Control"), "no-store");

  const std::string title = "Webshell on the library server";
  const json body = {{"title", title}, {"category", "intrusion-attempts/exploit"}, {"constituency", "alpha"}};
  const auto created = S().Call("POST", "/api/v1/incidents", Token("tess"), body.dump());
  const auto written = SteadyClock::now();
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Body(created)["id"];

  auto event = stream.Next(milliseconds(1000));
  const auto arrived = SteadyClock::now();
  ASSERT_TRUE(event) << event.error().message() << "\nreceived:\n" << stream.text();
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(arrived - written).count(), 1000);
  EXPECT_EQ(event->type, "change");
  const json data = json::parse(event->data);
  EXPECT_EQ(data["object_type"], "incident");
  EXPECT_EQ(data["object_id"], id);
  EXPECT_EQ(data["action"], "incident.create");
  EXPECT_EQ(data["incident"], id);
  EXPECT_EQ(event->id, std::to_string(data["seq"].get<std::int64_t>()));
  // Names only: which fields the event has, and none of the incident's values.
  std::set<std::string> keys;
  for (const auto& [key, value] : data.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"seq", "object_type", "object_id", "action", "incident"}));
  EXPECT_EQ(stream.text().find(title), std::string::npos);
  EXPECT_EQ(stream.text().find("alpha"), std::string::npos);

  // A change to the incident (here, its phase) arrives too.
  const auto patched = S().Call("PATCH", "/api/v1/incidents/" + id, Token("tess"), R"({"phase":"analysis"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  bool saw_update = false;
  while (!saw_update) {
    const auto next = stream.Next(milliseconds(1000));
    ASSERT_TRUE(next) << next.error().message() << "\nreceived:\n" << stream.text();
    const json change = json::parse(next->data);
    saw_update =
        change["object_type"] == "incident" && change["object_id"] == id && change["action"] != "incident.create";
  }
}

TEST_F(LiveTest, AScopedUserNeverHearsOfAnotherConstituencysIncident) {
  SseStream alice = Open("alice");
  SseStream admin = Open("admin");
  const std::string hidden = CreateIncident("bob", "beta", "Ransomware at the beta campus");
  const std::string marker = CreateIncident("tess", "alpha", "Phishing wave at alpha");

  // Alice's next event is the alpha incident: the beta one, written before it, was skipped.
  const auto seen = EventsUntil(alice, marker);
  for (const auto& event : seen) EXPECT_EQ(event.data.find(hidden), std::string::npos) << event.data;
  EXPECT_EQ(alice.text().find(hidden), std::string::npos);
  // The admin, who sees every constituency, hears of both, in journal order.
  const auto admin_seen = EventsUntil(admin, marker);
  bool saw_hidden = false;
  for (const auto& event : admin_seen) saw_hidden = saw_hidden || event.data.find(hidden) != std::string::npos;
  EXPECT_TRUE(saw_hidden) << admin.text();

  // Bob, resuming from just before his incident, hears of it, and not of the alpha one.
  std::int64_t hidden_seq = 0;
  for (const auto& event : admin_seen) {
    const json change = json::parse(event.data);
    if (change["object_id"] == hidden && change["action"] == "incident.create") hidden_seq = change["seq"];
  }
  ASSERT_GT(hidden_seq, 0) << admin.text();
  SseStream bob = Open("bob", "/api/v1/stream?after=" + std::to_string(hidden_seq - 1));
  const auto bob_seen = EventsUntil(bob, hidden);
  ASSERT_FALSE(bob_seen.empty());
  // Let bob's stream read past the alpha incident (its keep-alive carries the id it reached).
  const auto deadline = SteadyClock::now() + milliseconds(3000);
  while (std::stoll(bob.last_id().empty() ? "0" : bob.last_id()) <= hidden_seq && SteadyClock::now() < deadline) {
    (void)bob.Next(milliseconds(200));
  }
  EXPECT_EQ(bob.text().find(marker), std::string::npos) << bob.text();
}

TEST_F(LiveTest, AStreamStartsAtTheEndAndResumesAfterTheLastEventId) {
  const std::string before = CreateIncident("tess", "alpha", "Written before the stream opened");
  SseStream fresh = Open("alice");
  const std::string after = CreateIncident("tess", "alpha", "Written while the stream is open");
  // The first event is the new incident: nothing from before the connection is replayed.
  const auto first = fresh.Next(milliseconds(2000));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(json::parse(first->data)["object_id"], after);
  const std::string after_seq = first->id;

  // Reconnecting with Last-Event-ID one before that event gets it again, and not the older one;
  // the header wins over ?after= (which the browser keeps in the URL from the first connection).
  const std::string previous = std::to_string(std::stoll(after_seq) - 1);
  SseStream resumed = Open("alice", "/api/v1/stream?after=0", {{"Last-Event-ID", previous}});
  const auto again = resumed.Next(milliseconds(2000));
  ASSERT_TRUE(again) << again.error().message() << "\n" << resumed.text();
  EXPECT_EQ(again->type, "change");
  EXPECT_EQ(again->id, after_seq);
  EXPECT_EQ(resumed.text().find(before), std::string::npos);

  // A seq this journal has never reached cannot be resumed: the client is told to reload.
  SseStream future = Open("alice", "/api/v1/stream?after=999999999");
  const auto reset = future.Next(milliseconds(2000));
  ASSERT_TRUE(reset) << reset.error().message();
  EXPECT_EQ(reset->type, "reset");
  EXPECT_GE(std::stoll(reset->id), std::stoll(after_seq));  // the journal's end, where it goes on
  EXPECT_LT(std::stoll(reset->id), 999999999);
}

TEST_F(LiveTest, AnIdleStreamSendsKeepAlivesThatMoveItsIdPastHiddenChanges) {
  SseStream alice = Open("alice");
  const std::string hidden = CreateIncident("bob", "beta", "Only for beta");
  // Nothing to show alice, but within a few keep-alives her Last-Event-ID moves past that change,
  // so that a reconnect does not read it again.
  const auto deadline = SteadyClock::now() + milliseconds(3000);
  while (alice.last_id().empty() && SteadyClock::now() < deadline) {
    auto event = alice.Next(milliseconds(500));
    EXPECT_FALSE(event) << "alice was shown " << event->data;
  }
  EXPECT_NE(alice.text().find(": keep-alive"), std::string::npos) << alice.text();
  EXPECT_FALSE(alice.last_id().empty()) << alice.text();
  EXPECT_EQ(alice.text().find(hidden), std::string::npos);
}

TEST_F(LiveTest, AStreamEndsWhenItsSessionLogsOut) {
  const auto login =
      S().Call("POST", "/api/v1/session", "", json({{"username", "alice"}, {"password", kUserPassword}}).dump());
  ASSERT_EQ(login.status, 200) << login.body;
  std::string cookies;
  for (const auto& set_cookie : login.Headers("Set-Cookie")) {
    cookies += (cookies.empty() ? "" : "; ") + set_cookie.substr(0, set_cookie.find(';'));
  }
  const std::string csrf = Body(login)["csrf_token"];
  auto stream = SseStream::Open(S().port(), "/api/v1/stream", {{"Cookie", cookies}});
  ASSERT_TRUE(stream) << stream.error().message();
  ASSERT_EQ(stream->head().status, 200);

  const auto logout = S().Call("DELETE", "/api/v1/session", "", "", {{"Cookie", cookies}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(logout.status, 204) << logout.body;
  const auto ended = stream->WaitForEnd(milliseconds(3000));
  ASSERT_TRUE(ended) << ended.error().message();
  EXPECT_TRUE(*ended) << "the stream is still open after logout:\n" << stream->text();
}

TEST_F(LiveTest, BadRequestsAreRefused) {
  const auto anonymous = S().Call("GET", "/api/v1/stream", "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  const auto bad_after = S().Call("GET", "/api/v1/stream?after=yesterday", Token("alice"));
  EXPECT_EQ(bad_after.status, 400) << bad_after.body;
  EXPECT_EQ(Body(bad_after).value("field", ""), "/after");
  const auto unknown = S().Call("GET", "/api/v1/stream?since=3", Token("alice"));
  EXPECT_EQ(unknown.status, 400) << unknown.body;
}

// A server of its own: the cap on open streams, and a shutdown with streams open.
TEST(LiveServerTest, StreamsPastTheCapAreRefusedAndShutdownDoesNotWaitForOpenStreams) {
  TempDir dir;
  const auto init = RunCli({"init", "--data", dir.path().string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_TRUE(init.status.Succeeded()) << init.err;
  const auto token = RunCli({"token", "create", "--data", dir.path().string(), "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  const std::string auth = "Bearer " + token.out.substr(0, token.out.find('\n'));
  auto server = Server::Start(dir.path(), {"--max-streams", "2"});
  ASSERT_NE(server, nullptr);

  std::vector<SseStream> open;
  for (int i = 0; i < 2; ++i) {
    auto stream = SseStream::Open(server->port(), "/api/v1/stream", {{"Authorization", auth}});
    ASSERT_TRUE(stream) << stream.error().message();
    ASSERT_EQ(stream->head().status, 200);
    open.push_back(std::move(*stream));
  }
  const auto refused = server->Call("GET", "/api/v1/stream", token.out.substr(0, token.out.find('\n')));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("Retry-After"), "5");
  // Other requests are still served while the streams hold their slots.
  EXPECT_EQ(server->Call("GET", "/api/v1/health", "").status, 200);

  // A stream whose client hangs up gives its slot back.
  open.pop_back();
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    auto again = SseStream::Open(server->port(), "/api/v1/stream", {{"Authorization", auth}});
    ASSERT_TRUE(again) << again.error().message();
    status = again->head().status;
    if (status == 200) {
      open.push_back(std::move(*again));
    } else {
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  EXPECT_EQ(status, 200) << "the slot of a closed stream was not given back";

  // SIGTERM with two streams open: they end, and the server exits long before its 10 s grace.
  const auto start = SteadyClock::now();
  const auto stopped = server->Stop();
  EXPECT_TRUE(stopped.Succeeded()) << stopped.ToString();
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start).count(), 5000);
  for (auto& stream : open) {
    const auto ended = stream.WaitForEnd(milliseconds(1000));
    EXPECT_TRUE(ended && *ended) << stream.text();
  }
}

// A process other than the server writes to the same SQLite store (here the CLI adds a
// constituency): no notification reaches the server, and the journal poll (1 s by default) finds it.
// The stream starts at the end of the journal as the server found it when it started, so the CLI's
// earlier writes (users, tokens) are not replayed to the admin.
TEST(LiveServerTest, AWriteByAnotherProcessArrivesThroughTheJournalPoll) {
  TempDir dir;
  const std::string data = dir.path().string();
  ASSERT_TRUE(RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
  ASSERT_TRUE(RunCli({"constituency", "add", "--data", data, "alpha", "--cidr", "192.0.2.0/24"}).status.Succeeded());
  const auto token = RunCli({"token", "create", "--data", data, "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  auto server = Server::Start(dir.path());
  ASSERT_NE(server, nullptr);
  auto stream = SseStream::Open(server->port(), "/api/v1/stream",
                                {{"Authorization", "Bearer " + token.out.substr(0, token.out.find('\n'))}});
  ASSERT_TRUE(stream) << stream.error().message();
  ASSERT_EQ(stream->head().status, 200);

  const auto added = RunCli({"constituency", "add", "--data", data, "gamma", "--cidr", "203.0.113.0/24"});
  ASSERT_TRUE(added.status.Succeeded()) << added.err;
  const auto written = SteadyClock::now();
  auto event = stream->Next(milliseconds(3000));
  ASSERT_TRUE(event) << event.error().message() << "\nreceived:\n" << stream->text();
  const json change = json::parse(event->data);
  EXPECT_EQ(change["object_type"], "constituency");
  EXPECT_EQ(change["object_id"], "gamma");  // the first event: nothing from before the server started
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(SteadyClock::now() - written).count(), 2000);
  EXPECT_TRUE(server->Stop().Succeeded());
}

}  // namespace
}  // namespace hikeshi::e2e
