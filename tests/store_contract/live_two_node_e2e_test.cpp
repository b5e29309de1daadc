// Live updates across nodes (issue 7): two `hikeshi serve --store URL` processes on one PostgreSQL
// database. A change written through node A reaches a stream held on node B through LISTEN/NOTIFY,
// in well under 800 ms, with the journal poll (the fallback for a missed notification) turned off,
// so nothing but the notification can have carried it. The other way round too, and a write by a
// CLI process (not a node at all) reaches both.

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../api/e2e_fixture.hpp"
#include "support/pg_server.hpp"
#include "support/sse_client.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::SseStream;
using SteadyClock = std::chrono::steady_clock;

// Waits for the change event about `object_id` (with `action`, when given) on `stream`; returns
// how long after `since` it came, or fails the test.
milliseconds ArrivalOf(SseStream& stream, const std::string& object_id, SteadyClock::time_point since,
                       const std::string& action = "") {
  const auto deadline = since + milliseconds(5000);
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    auto event = stream.Next(std::max(left, milliseconds(1)));
    if (!event) {
      ADD_FAILURE() << "no event about " << object_id << ": " << event.error().message() << "\nreceived:\n"
                    << stream.text();
      return milliseconds(5000);
    }
    const json change = json::parse(event->data, nullptr, false);
    if (event->type == "change" && change.value("object_id", "") == object_id &&
        (action.empty() || change.value("action", "") == action)) {
      return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - since);
    }
  }
}

TEST(LiveTwoNodeTest, AChangeThroughOneNodeReachesAStreamOnTheOtherThroughNotify) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.has_value()) << database.error().message();
  const std::string url = database->Conninfo();

  TempDir dir;
  const auto data_a = dir.path() / "a";
  const auto data_b = dir.path() / "b";
  ASSERT_TRUE(RunCli({"init", "--data", data_a.string(), "--store", url}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}})
                  .status.Succeeded());
  std::filesystem::copy(data_a, data_b, std::filesystem::copy_options::recursive);
  for (const auto& socket : {"S.gpg-agent", "S.gpg-agent.browser", "S.gpg-agent.extra", "S.gpg-agent.ssh"}) {
    std::filesystem::remove(data_b / "gnupg" / socket);
  }
  const auto token = RunCli({"token", "create", "--data", data_a.string(), "--store", url, "--user", "admin"});
  ASSERT_TRUE(token.status.Succeeded()) << token.err;
  const std::string secret = token.out.substr(0, token.out.find('\n'));

  // --change-poll-ms 0: no polling fallback, so only a notification can wake a stream.
  auto node_a = Server::Start(data_a, {"--store", url, "--change-poll-ms", "0"});
  auto node_b = Server::Start(data_b, {"--store", url, "--change-poll-ms", "0"});
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);

  auto on_b = SseStream::Open(node_b->port(), "/api/v1/stream", {{"Authorization", "Bearer " + secret}});
  auto on_a = SseStream::Open(node_a->port(), "/api/v1/stream", {{"Authorization", "Bearer " + secret}});
  ASSERT_TRUE(on_a && on_b);
  ASSERT_EQ(on_b->head().status, 200);
  ASSERT_EQ(on_a->head().status, 200);

  for (int round = 0; round < 3; ++round) {
    // Written through A, seen on B.
    const json body = {{"title", "Seen across nodes " + std::to_string(round)},
                       {"category", "malicious-code/infected-system"}};
    const auto created = node_a->Call("POST", "/api/v1/incidents", secret, body.dump());
    const auto written = SteadyClock::now();
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = Body(created)["id"];
    const auto delay = ArrivalOf(*on_b, id, written, "incident.create");
    EXPECT_LT(delay.count(), 800) << "node B heard of " << id << " only after " << delay.count() << " ms";

    // Written through B, seen on A (which saw its own create first).
    ASSERT_LT(ArrivalOf(*on_a, id, written, "incident.create").count(), 800);
    const auto patched = node_b->Call("PATCH", "/api/v1/incidents/" + id, secret, R"({"phase":"analysis"})");
    const auto patched_at = SteadyClock::now();
    ASSERT_EQ(patched.status, 200) << patched.body;
    const auto back = ArrivalOf(*on_a, id, patched_at, "incident.update");
    EXPECT_LT(back.count(), 800);
  }

  // A process that is no node (the CLI) writes: both nodes' streams hear of it.
  const auto cli_started = SteadyClock::now();
  const auto added =
      RunCli({"constituency", "add", "--data", data_a.string(), "--store", url, "gamma", "--cidr", "203.0.113.0/24"});
  ASSERT_TRUE(added.status.Succeeded()) << added.err;
  EXPECT_LT(ArrivalOf(*on_b, "gamma", cli_started).count(), 5000);
  EXPECT_LT(ArrivalOf(*on_a, "gamma", cli_started).count(), 5000);

  EXPECT_TRUE(node_a->Stop().Succeeded());
  EXPECT_TRUE(node_b->Stop().Succeeded());
}

}  // namespace
}  // namespace hikeshi::e2e
