// Feed intake end to end: a Suricata EVE feed goes through `hikeshi ingest feed`; every record
// either lands or is a counted reject, events fold into one report per source, a rerun (also after
// SIGKILL mid-feed) neither loses nor duplicates anything, and the API shows runs, rejects,
// pivots and correlations. Counts are checked against the database with the sqlite3 shell.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// `alerts` alert lines from `sources` scanners in 192.0.2.0/24 (alpha), all on one day, plus one
// flow event (not an alert) every 50 lines and the given malformed lines.
std::string EveFeed(int alerts, int sources, const std::vector<std::string>& malformed = {}) {
  std::string out;
  for (int i = 0; i < alerts; ++i) {
    const int src = 10 + i % sources;
    out += json({{"timestamp", "2026-11-27T01:" + std::to_string(10 + i % 50) + ":03.000000+0000"},
                 {"flow_id", 1000000 + i},
                 {"event_type", "alert"},
                 {"src_ip", "192.0.2." + std::to_string(src)},
                 {"src_port", 40000 + i % 1000},
                 {"dest_ip", "198.51.100.1"},
                 {"dest_port", 22},
                 {"proto", "TCP"},
                 {"alert",
                  {{"action", "allowed"},
                   {"gid", 1},
                   {"signature_id", 2001219},
                   {"rev", 20},
                   {"signature", "ET SCAN Potential SSH Scan"},
                   {"category", "Attempted Information Leak"},
                   {"severity", 2}}}})
               .dump() +
           "\n";
    if (i % 50 == 0) {
      out += R"({"timestamp":"2026-11-27T01:00:00.000000+0000","flow_id":7,"event_type":"flow","src_ip":"192.0.2.1"})"
             "\n";
    }
  }
  for (const auto& line : malformed) out += line + "\n";
  return out;
}

std::string Write(const TempDir& dir, const std::string& name, const std::string& content) {
  const auto path = dir.path() / name;
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

// One number from the database, read with the sqlite3 shell, independently of Hikeshi.
long long Count(const std::filesystem::path& data, const std::string& sql) {
  const std::string command = "sqlite3 '" + (data / "hikeshi.db").string() + "' \"" + sql + "\"";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  long long value = -1;
  if (std::fscanf(pipe, "%lld", &value) != 1) value = -1;
  ::pclose(pipe);
  return value;
}

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(
        RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
    ASSERT_TRUE(RunCli({"constituency", "add", "--data", data_.string(), "alpha", "--cidr", "192.0.2.0/24"})
                    .status.Succeeded());
  }
  CliResult Ingest(const std::string& file, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"ingest", "feed", "--data", data_.string(), "--format", "suricata-eve"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return RunCli(args);
  }
  void ExpectJournalIntact() {
    const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
    EXPECT_TRUE(verify.status.Succeeded()) << verify.err;
  }

  TempDir dir_;
  std::filesystem::path data_;
};

TEST_F(FeedTest, EveryRecordLandsOrIsACountedRejectAndEventsFoldPerSource) {
  const auto file = Write(
      dir_, "eve.json",
      EveFeed(3000, 30, {"{not json", R"({"event_type":"alert","src_ip":"999.1.1.1"})", std::string(10, '\x01')}));
  const auto result = Ingest(file, {"--batch", "500"});
  ASSERT_TRUE(result.status.Succeeded()) << result.err;
  EXPECT_NE(result.out.find("3000 stored, 0 duplicate, 3 rejected"), std::string::npos) << result.out;
  // The summary names each reject by its line (3,000 alerts and 60 flow events come first).
  EXPECT_NE(result.out.find("rejected (all, each kept with its raw record):\n  line 3061: "), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("\n  line 3062: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  line 3063: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("reports 30 created"), std::string::npos) << result.out;
  // The 60 flow events are not alerts: neither stored nor rejected, but counted, and kept with the run.
  EXPECT_NE(result.out.find("60 more with nothing to store were skipped"), std::string::npos) << result.out;
  EXPECT_EQ(Count(data_, "SELECT skipped FROM feed_runs"), 60);
  EXPECT_NE(result.err.find("records"), std::string::npos) << "progress is shown: " << result.err;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 3000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM feed_rejects"), 3);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE fingerprint <> ''"), 30);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 3000);
  // Every scanner is in alpha's network, so every report is alpha's.
  EXPECT_EQ(Count(data_,
                  "SELECT count(*) FROM reports r JOIN constituencies c ON c.id = r.constituency_id "
                  "WHERE c.name = 'alpha'"),
            30);
  ExpectJournalIntact();
}

// Rotated EVE logs and mailed reports arrive compressed: a gzip file (made by the real gzip, two
// days concatenated) is read as its plain content, and again finds every event; a ZIP archive is
// refused with how to extract it, before anything is stored.
TEST_F(FeedTest, AGzipFeedIsReadAsItsContentAndAZipIsRefusedWithHowToExtractIt) {
  const auto monday = Write(dir_, "eve-1.json", EveFeed(300, 3));
  std::string tuesday_lines = EveFeed(200, 2);
  // Tuesday's alerts are other flows (other ids) from the same scanners, a day later.
  for (std::size_t at = 0; (at = tuesday_lines.find("\"flow_id\":1", at)) != std::string::npos; ++at) {
    tuesday_lines.replace(at, 11, "\"flow_id\":2");
  }
  for (std::size_t at = 0; (at = tuesday_lines.find("2026-11-27T", at)) != std::string::npos; ++at) {
    tuesday_lines.replace(at, 11, "2026-11-28T");
  }
  const auto tuesday = Write(dir_, "eve-2.json", tuesday_lines);
  const std::string packed = (dir_.path() / "eve.json.gz").string();
  ASSERT_EQ(
      std::system(
          ("gzip -c '" + monday + "' > '" + packed + "' && gzip -c '" + tuesday + "' >> '" + packed + "'").c_str()),
      0);
  const auto result = Ingest(packed, {"--quiet"});
  ASSERT_TRUE(result.status.Succeeded()) << result.err;
  EXPECT_NE(result.out.find("500 stored, 0 duplicate, 0 rejected"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("reports 5 created"), std::string::npos) << result.out;
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 500);
  // Read again, the compressed feed adds nothing: every event is found again by its key.
  const auto again = Ingest(packed, {"--quiet"});
  ASSERT_TRUE(again.status.Succeeded()) << again.err;
  EXPECT_NE(again.out.find("0 stored, 500 duplicate"), std::string::npos) << again.out;

  // The start of a ZIP archive as `zip` writes it: a local file header, stored, named eve.json.
  const auto zipped =
      Write(dir_, "eve.zip",
            std::string("PK\x03\x04\x0a\x00\x00\x00\x00\x00", 10) + std::string(20, '\0') + "eve.json" + tuesday_lines);
  const auto refused = Ingest(zipped, {"--quiet"});
  EXPECT_FALSE(refused.status.Succeeded());
  EXPECT_NE(refused.err.find("ZIP archive"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("unzip -p"), std::string::npos) << refused.err;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 500);
  ExpectJournalIntact();
}

// A storage error mid-feed (here a trigger that refuses the 1,201st alert): the command fails and
// says that what it stored is kept and that running it again finishes the job; run again, it
// stores the rest, counts the first part as duplicates, and makes every report whole.
TEST_F(FeedTest, AfterAStorageErrorTheSameCommandFinishesTheFeed) {
  const auto file = Write(dir_, "eve.json", EveFeed(3000, 30));
  const std::string db = (data_ / "hikeshi.db").string();
  // Record numbers are line numbers; with a flow line every 50 alerts, alert 1,201 is on line 1,225.
  ASSERT_EQ(std::system(("sqlite3 '" + db +
                         "' \"CREATE TRIGGER disk_trouble BEFORE INSERT ON events WHEN NEW.record = 1225 "
                         "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END\"")
                            .c_str()),
            0);
  const auto failed = Ingest(file, {"--batch", "500"});
  EXPECT_FALSE(failed.status.Succeeded()) << failed.out;
  EXPECT_NE(failed.err.find("disk trouble"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("run the same command again"), std::string::npos) << failed.err;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 1000);  // the two batches before it
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM feed_runs WHERE status = 'failed'"), 1);

  ASSERT_EQ(std::system(("sqlite3 '" + db + "' 'DROP TRIGGER disk_trouble'").c_str()), 0);
  const auto again = Ingest(file, {"--batch", "500"});
  ASSERT_TRUE(again.status.Succeeded()) << again.err;
  EXPECT_NE(again.out.find("2000 stored, 1000 duplicate, 0 rejected"), std::string::npos) << again.out;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 3000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE fingerprint <> ''"), 30);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 3000);
  ExpectJournalIntact();
}

// The reports an operator lets wait for a fold are bounded by --fold-memory: 3,000 scanners seen
// twice, half a feed apart, fold once at the end under the default 64 MiB, but under 1 MiB (about
// 2,000 waiting reports) the first half is folded early and the second half rewrites those
// reports. The counts come out the same either way.
TEST_F(FeedTest, FoldMemoryBoundsTheReportsWaitingForAFold) {
  std::string feed;
  for (int i = 0; i < 6000; ++i) {
    const int source = i % 3000;
    feed += json({{"timestamp", "2026-11-27T02:00:00.000000+0000"},
                  {"flow_id", 5000000 + i},
                  {"event_type", "alert"},
                  {"src_ip", "10.0." + std::to_string(source / 250) + "." + std::to_string(source % 250 + 1)},
                  {"dest_ip", "192.0.2.1"},
                  {"alert", {{"gid", 1}, {"signature_id", 2001219}, {"signature", "ET SCAN"}, {"category", "Scan"}}}})
                .dump() +
            "\n";
  }
  const auto file = Write(dir_, "many.json", feed);
  const auto refused = Ingest(file, {"--fold-memory", "0"});
  EXPECT_FALSE(refused.status.Succeeded());
  EXPECT_NE(refused.err.find("--fold-memory"), std::string::npos) << refused.err;

  const auto bounded = Ingest(file, {"--batch", "500", "--fold-memory", "1"});
  ASSERT_TRUE(bounded.status.Succeeded()) << bounded.err;
  EXPECT_NE(bounded.out.find("6000 stored"), std::string::npos) << bounded.out;
  EXPECT_NE(bounded.out.find("reports 3000 created"), std::string::npos) << bounded.out;
  EXPECT_EQ(bounded.out.find("created, 0 updated"), std::string::npos) << "no early fold: " << bounded.out;
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 6000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE event_count <> 2"), 0);
  ExpectJournalIntact();

  // The same feed into a fresh store with the default bound: one fold, no rewrite.
  data_ = dir_.path() / "data2";
  ASSERT_TRUE(
      RunCli({"init", "--data", data_.string()}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
  const auto generous = Ingest(file, {"--batch", "500"});
  ASSERT_TRUE(generous.status.Succeeded()) << generous.err;
  EXPECT_NE(generous.out.find("reports 3000 created, 0 updated"), std::string::npos) << generous.out;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE event_count <> 2"), 0);
}

TEST_F(FeedTest, RunningTheSameFeedAgainAddsNothing) {
  const auto file = Write(dir_, "eve.json", EveFeed(1000, 10));
  ASSERT_TRUE(Ingest(file).status.Succeeded());
  const auto again = Ingest(file);
  ASSERT_TRUE(again.status.Succeeded()) << again.err;
  EXPECT_NE(again.out.find("0 stored, 1000 duplicate, 0 rejected"), std::string::npos) << again.out;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 1000);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 1000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports"), 10);
  ExpectJournalIntact();
}

TEST_F(FeedTest, KilledMidFeedThenRerunLosesAndDuplicatesNothing) {
  constexpr int kAlerts = 40'000;
  const auto file = Write(dir_, "eve.json", EveFeed(kAlerts, 200));
  testing::ChildProcessOptions options;
  options.program = HIKESHI_BINARY;
  options.args = {"ingest", "feed", "--data", data_.string(), "--format", "suricata-eve", "--batch", "500", file};
  auto child = testing::ChildProcess::Spawn(options);
  ASSERT_TRUE(child.has_value());
  // Kill it after the first committed batch, in the middle of the feed.
  ASSERT_TRUE(child->WaitForOutput("records", milliseconds(60'000), testing::ChildProcess::Stream::kStderr));
  const auto killed = child->Kill();
  ASSERT_TRUE(killed.KilledBy(SIGKILL)) << "the feed finished before it could be killed: " << killed.ToString();
  const long long after_kill = Count(data_, "SELECT count(*) FROM events");
  EXPECT_GT(after_kill, 0);
  EXPECT_LT(after_kill, kAlerts);

  const auto rerun = Ingest(file, {"--batch", "500"});
  ASSERT_TRUE(rerun.status.Succeeded()) << rerun.err;
  EXPECT_NE(
      rerun.out.find(std::to_string(kAlerts - after_kill) + " stored, " + std::to_string(after_kill) + " duplicate"),
      std::string::npos)
      << rerun.out << " (killed after " << after_kill << ")";
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), kAlerts);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), kAlerts);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports"), 200);
  ExpectJournalIntact();
}

TEST_F(FeedTest, ApiShowsRunsRejectsPivotsAndCorrelations) {
  // An open incident about one of the scanners, before the feed arrives.
  auto server = Server::Start(data_);
  ASSERT_NE(server, nullptr);
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  const std::string admin = token.out.substr(0, token.out.find('\n'));
  const auto incident = server->Call(
      "POST", "/api/v1/incidents", admin,
      R"({"title":"SSH brute force from 192.0.2.11","category":"intrusion-attempts/brute-force","constituency":"alpha",
          "observables":[{"type":"ipv4","value":"192.0.2.11"}]})");
  ASSERT_EQ(incident.status, 201) << incident.body;
  const std::string incident_id = Body(incident)["id"];

  // The feed through the API.
  const auto posted = server->Call("POST", "/api/v1/events?format=suricata-eve&source=sensor-1", admin,
                                   EveFeed(100, 5, {"{broken"}), {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  const auto run = Body(posted);
  EXPECT_EQ(run["events_new"], 100);
  EXPECT_EQ(run["rejects"], 1);
  EXPECT_EQ(run["reports_created"], 5);
  EXPECT_EQ(run["status"], "finished");
  const std::string run_id = std::to_string(run["id"].get<int>());
  EXPECT_EQ(Body(server->Call("GET", "/api/v1/feeds/runs/" + run_id, admin))["records"], 101);
  // The runs, newest first, a page at a time.
  const auto second = server->Call("POST", "/api/v1/events?format=suricata-eve&source=sensor-2", admin, EveFeed(10, 1),
                                   {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(second.status, 200) << second.body;
  const auto newest = Body(server->Call("GET", "/api/v1/feeds/runs?limit=1", admin));
  ASSERT_EQ(newest["items"].size(), 1u);
  EXPECT_EQ(newest["items"][0]["source"], "sensor-2");
  ASSERT_TRUE(newest["next_cursor"].is_string()) << newest.dump();
  const auto older =
      Body(server->Call("GET", "/api/v1/feeds/runs?limit=1&cursor=" + newest["next_cursor"].get<std::string>(), admin));
  ASSERT_EQ(older["items"].size(), 1u);
  EXPECT_EQ(older["items"][0]["source"], "sensor-1");
  EXPECT_TRUE(older["next_cursor"].is_null()) << older.dump();
  EXPECT_EQ(server->Call("GET", "/api/v1/feeds/runs?limit=0", admin).status, 400);
  const auto rejects = Body(server->Call("GET", "/api/v1/feeds/runs/" + run_id + "/rejects", admin));
  ASSERT_EQ(rejects["items"].size(), 1u);
  EXPECT_EQ(rejects["items"][0]["raw"], "{broken");
  EXPECT_FALSE(rejects["items"][0]["reason"].get<std::string>().empty());

  // Pivot from the scanner's address to its report and the incident.
  const auto pivot = server->Call("GET", "/api/v1/observables/192.0.2.11", admin);
  ASSERT_EQ(pivot.status, 200) << pivot.body;
  const auto sightings = Body(pivot);
  EXPECT_EQ(sightings["observable"]["type"], "ipv4");
  ASSERT_EQ(sightings["incidents"].size(), 1u);
  EXPECT_EQ(sightings["incidents"][0]["id"], incident_id);
  ASSERT_EQ(sightings["reports"].size(), 1u);
  EXPECT_EQ(sightings["reports"][0]["event_count"], 20);
  // That report is a correlation candidate of the open incident.
  const std::string report_id = sightings["reports"][0]["id"];
  const auto report = Body(server->Call("GET", "/api/v1/reports/" + report_id, admin));
  ASSERT_EQ(report["correlations"].size(), 1u);
  EXPECT_EQ(report["correlations"][0]["incident"], incident_id);
  // Values with slashes pivot too; an invalid one is a clear 400.
  EXPECT_EQ(server->Call("GET", "/api/v1/observables/192.0.2.0/24", admin).status, 200);
  EXPECT_EQ(server->Call("GET", "/api/v1/observables/not%20an%20observable", admin).status, 400);
  ASSERT_TRUE(server->Stop().Succeeded());
  ExpectJournalIntact();
}

// A partner's TLP:RED intelligence stays RED in Hikeshi: a MISP event tagged tlp:red becomes RED
// reports, which a constituent of the constituency they concern cannot list, open or pivot to,
// while the handler can. `--tlp` labels a whole feed; a bad label is refused before anything is read.
// POST /api/v1/events reads its body as it arrives: a feed far over --max-body-bytes goes through
// whole, after the caller was authenticated; every other request keeps the limit.
TEST_F(FeedTest, AFeedFarLargerThanTheBodyLimitStreamsThroughTheApi) {
  auto server = Server::Start(data_, {"--max-body-bytes", "65536"});
  ASSERT_NE(server, nullptr);
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  const std::string admin = token.out.substr(0, token.out.find('\n'));
  const std::string feed = EveFeed(12'000, 40, {"{broken"});
  ASSERT_GT(feed.size(), 60u * 65536u);

  // `curl -T` without `-X POST` sends a PUT: told to use POST, not that the body is too large.
  const auto put = server->Call("PUT", "/api/v1/events?format=suricata-eve", admin, feed,
                                {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(put.status, 405) << put.body;
  EXPECT_NE(put.body.find("use POST"), std::string::npos) << put.body;

  // Not logged in: refused before the body is read, and nothing is stored.
  const auto anonymous =
      server->Call("POST", "/api/v1/events?format=suricata-eve", "", feed, {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM feed_runs"), 0);

  const auto posted = server->Call("POST", "/api/v1/events?format=suricata-eve&source=sensor-big", admin, feed,
                                   {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  const auto run = Body(posted);
  EXPECT_EQ(run["events_new"], 12'000);
  EXPECT_EQ(run["rejects"], 1);
  EXPECT_EQ(run["reports_created"], 40);
  EXPECT_EQ(run["status"], "finished");
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 12'000);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 12'000);

  // The same feed chunked, as a client that does not know its length sends it: all duplicates.
  std::string chunked;
  for (std::size_t at = 0; at < feed.size(); at += 100'000) {
    const std::string piece = feed.substr(at, 100'000);
    chunked += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
  }
  auto connection = testing::HttpConnection::Connect(server->port());
  ASSERT_TRUE(connection.has_value()) << connection.error().message();
  ASSERT_TRUE(connection
                  ->SendRaw("POST /api/v1/events?format=suricata-eve HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                            admin + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n")
                  .has_value());
  const auto again = connection->ReadResponse();
  ASSERT_TRUE(again.has_value()) << again.error().message();
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(Body(*again)["duplicates"], 12'000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 12'000);

  // Any other body is still held to --max-body-bytes.
  const auto incident = server->Call("POST", "/api/v1/incidents", admin,
                                     R"({"title":"x","description":")" + std::string(70'000, 'd') + R"("})");
  EXPECT_EQ(incident.status, 413) << incident.body;
}

// The upload is ingested while it arrives: with half of it sent, its first batches are committed
// and the run shows them (GET /api/v1/feeds/runs, "running"), which is how a client follows a long
// upload; a client that then goes away leaves the run failed with what was committed, and sending
// the feed again completes it without duplicates.
TEST_F(FeedTest, AnUploadIsIngestedWhileItArrivesAndAnAbandonedOneCanBeSentAgain) {
  auto server = Server::Start(data_);
  ASSERT_NE(server, nullptr);
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  const std::string admin = token.out.substr(0, token.out.find('\n'));
  const std::string feed = EveFeed(30'000, 50);
  const std::size_t half = feed.find('\n', feed.size() / 2) + 1;  // 15,000 alerts and their flows

  auto connection = testing::HttpConnection::Connect(server->port());
  ASSERT_TRUE(connection.has_value()) << connection.error().message();
  ASSERT_TRUE(connection
                  ->SendRaw("POST /api/v1/events?format=suricata-eve&source=sensor-slow HTTP/1.1\r\nHost: t\r\n"
                            "Authorization: Bearer " +
                            admin + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            fmt::format("{:x}\r\n{}\r\n", half, feed.substr(0, half)))
                  .has_value());
  // The server's batches hold 10,000 events: the first is committed before the body ends.
  json running;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    running = Body(server->Call("GET", "/api/v1/feeds/runs?limit=1", admin));
    if (running["items"].size() == 1 && running["items"][0]["events_new"].get<int>() >= 10'000) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(running["items"].size(), 1u) << running.dump();
  EXPECT_EQ(running["items"][0]["status"], "running");
  EXPECT_GE(running["items"][0]["events_new"].get<int>(), 10'000) << running.dump();
  EXPECT_LT(running["items"][0]["events_new"].get<int>(), 30'000);

  // The client goes away half-way.
  connection->ShutdownWrite();
  connection = testing::HttpConnection::Connect(server->port());  // closes the first
  ASSERT_TRUE(connection.has_value());
  json failed;
  const auto second_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < second_deadline) {
    failed = Body(server->Call("GET", "/api/v1/feeds/runs?limit=1", admin));
    if (failed["items"].size() == 1 && failed["items"][0]["status"] != "running") break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(failed["items"].size(), 1u) << failed.dump();
  EXPECT_EQ(failed["items"][0]["status"], "failed");
  const int kept = failed["items"][0]["events_new"].get<int>();
  EXPECT_GE(kept, 10'000);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), kept);

  const auto again = server->Call("POST", "/api/v1/events?format=suricata-eve&source=sensor-slow", admin, feed,
                                  {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Body(again)["events_new"], 30'000 - kept);
  EXPECT_EQ(Body(again)["duplicates"], kept);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM events"), 30'000);
  EXPECT_EQ(Count(data_, "SELECT sum(event_count) FROM reports"), 30'000);
  ExpectJournalIntact();
}

// A sensor streaming its alerts as they happen (`tail -F eve.json | curl -T - .../api/v1/events`):
// the upload never ends, yet its events are committed within about a second and its reports made
// within about ten, so handlers see them while it goes on.
TEST_F(FeedTest, ASensorsOpenEndedUploadIsCommittedAndFoldedAsItGoes) {
  auto server = Server::Start(data_);
  ASSERT_NE(server, nullptr);
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  const std::string admin = token.out.substr(0, token.out.find('\n'));
  auto connection = testing::HttpConnection::Connect(server->port());
  ASSERT_TRUE(connection.has_value()) << connection.error().message();
  const std::string first = EveFeed(100, 5);
  ASSERT_TRUE(connection
                  ->SendRaw("POST /api/v1/events?format=suricata-eve&source=sensor-live HTTP/1.1\r\nHost: t\r\n"
                            "Authorization: Bearer " +
                            admin + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            fmt::format("{:x}\r\n{}\r\n", first.size(), first))
                  .has_value());
  json runs;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    runs = Body(server->Call("GET", "/api/v1/feeds/runs?limit=1", admin));
    if (runs["items"].size() == 1 && runs["items"][0]["reports_created"] == 5) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(runs["items"].size(), 1u) << runs.dump();
  EXPECT_EQ(runs["items"][0]["status"], "running");
  EXPECT_EQ(runs["items"][0]["events_new"], 100);
  EXPECT_EQ(runs["items"][0]["reports_created"], 5) << runs.dump();
  // The reports are there to pivot to while the upload is still open.
  const auto pivot = Body(server->Call("GET", "/api/v1/observables/192.0.2.11", admin));
  ASSERT_EQ(pivot["reports"].size(), 1u) << pivot.dump();
  EXPECT_EQ(pivot["reports"][0]["event_count"], 20);

  ASSERT_TRUE(connection->SendRaw("0\r\n\r\n").has_value());
  const auto done = connection->ReadResponse();
  ASSERT_TRUE(done.has_value()) << done.error().message();
  ASSERT_EQ(done->status, 200) << done->body;
  EXPECT_EQ(Body(*done)["status"], "finished");
  EXPECT_EQ(Body(*done)["events_new"], 100);
}

TEST_F(FeedTest, APartnersRedIntelligenceStaysAwayFromConstituents) {
  for (const auto& [user, role, scope] : {std::tuple{"carl", "constituent", "--constituency=alpha"},
                                          std::tuple{"alice", "handler", "--all-constituencies"},
                                          std::tuple{"hiro", "handler", "--constituency=alpha"}}) {
    const auto added = RunCli({"user", "add", "--data", data_.string(), user, "--role", role, scope},
                              {{"HIKESHI_PASSWORD", kUserPassword}});
    ASSERT_TRUE(added.status.Succeeded()) << added.err;
  }
  const std::string misp = Write(dir_, "partner.json", R"({"Event":{"info":"C2 of a targeted campaign",
      "date":"2026-11-26","Tag":[{"name":"tlp:red"}],"Attribute":[
      {"type":"ip-dst","value":"192.0.2.50","uuid":"0b5c1f2e-0000-4000-8000-000000000001"}]}})");
  const auto red = RunCli({"ingest", "feed", "--data", data_.string(), "--format", "misp", "--quiet", misp});
  ASSERT_TRUE(red.status.Succeeded()) << red.err;
  const std::string clear_feed =
      Write(dir_, "clear.json", R"({"Event":{"info":"Public scanner list","date":"2026-11-26",
      "Attribute":[{"type":"ip-src","value":"192.0.2.51","uuid":"0b5c1f2e-0000-4000-8000-000000000002"}]}})");
  const auto bad = RunCli(
      {"ingest", "feed", "--data", data_.string(), "--format", "misp", "--tlp", "PURPLE", "--quiet", clear_feed});
  EXPECT_FALSE(bad.status.Succeeded());
  EXPECT_NE(bad.err.find("--tlp must be"), std::string::npos) << bad.err;
  const auto clear =
      RunCli({"ingest", "feed", "--data", data_.string(), "--format", "misp", "--tlp", "CLEAR", "--quiet", clear_feed});
  ASSERT_TRUE(clear.status.Succeeded()) << clear.err;
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE tlp = 'TLP:RED'"), 1);
  EXPECT_EQ(Count(data_, "SELECT count(*) FROM reports WHERE tlp = 'TLP:CLEAR'"), 1);

  auto server = Server::Start(data_);
  ASSERT_NE(server, nullptr);
  std::map<std::string, std::string> tokens;
  for (const std::string user : {"carl", "alice", "hiro"}) {
    const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", user});
    tokens[user] = token.out.substr(0, token.out.find('\n'));
  }
  const auto handler_view = Body(server->Call("GET", "/api/v1/observables/192.0.2.50", tokens["alice"]));
  ASSERT_EQ(handler_view["reports"].size(), 1u);
  const std::string red_report = handler_view["reports"][0]["id"];
  EXPECT_EQ(Body(server->Call("GET", "/api/v1/reports/" + red_report, tokens["alice"]))["tlp"], "TLP:RED");

  EXPECT_EQ(server->Call("GET", "/api/v1/reports/" + red_report, tokens["carl"]).status, 404);
  const auto pivot = server->Call("GET", "/api/v1/observables/192.0.2.50", tokens["carl"]);
  EXPECT_TRUE(pivot.status == 404 || Body(pivot)["reports"].empty()) << pivot.body;
  const auto listed = Body(server->Call("GET", "/api/v1/reports", tokens["carl"]));
  ASSERT_EQ(listed["items"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["items"][0]["tlp"], "TLP:CLEAR");

  // A handler of one constituency may not send a feed: its reports go wherever its events point.
  EXPECT_EQ(server
                ->Call("POST", "/api/v1/events?format=suricata-eve", tokens["hiro"], EveFeed(3, 1),
                       {{"Content-Type", "application/x-ndjson"}})
                .status,
            403);
  // Through the API, the same: a tlp parameter labels the feed, and a bad one is a 400 on /tlp.
  const auto refused = server->Call("POST", "/api/v1/events?format=suricata-eve&tlp=purple", tokens["alice"],
                                    EveFeed(3, 1), {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("/tlp"), std::string::npos) << refused.body;
  const auto posted = server->Call("POST", "/api/v1/events?format=suricata-eve&tlp=RED", tokens["alice"], EveFeed(3, 1),
                                   {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(Body(posted)["reports_created"], 1);
  EXPECT_EQ(Body(server->Call("GET", "/api/v1/reports", tokens["carl"]))["items"].size(), 1u);
  ASSERT_TRUE(server->Stop().Succeeded());
  ExpectJournalIntact();
}

// A run's rejects page by page through the API: an IODEF Incident with three bad systems gives
// three rejects of one record, each kept with its own reason (they once collapsed into one, and
// the run's counts no longer added up), and no page boundary splits them.
TEST_F(FeedTest, RejectPagesNeverSplitOneRecordsRejects) {
  const auto incident = [](int id, const std::vector<std::string>& addresses) {
    std::string out = "<Incident purpose=\"reporting\"><IncidentID name=\"csirt.example\">" + std::to_string(id) +
                      "</IncidentID><ReportTime>2026-11-27T00:00:00Z</ReportTime><EventData><Flow>";
    for (const auto& a : addresses) {
      out += "<System category=\"source\"><Node><Address category=\"ipv4-addr\">" + a + "</Address></Node></System>";
    }
    return out + "</Flow></EventData></Incident>\n";
  };
  const std::string document =
      "<?xml version=\"1.0\"?>\n<IODEF-Document version=\"2.00\" xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\">\n" +
      incident(1, {"192.0.2.901"}) + incident(2, {"192.0.2.902", "192.0.2.903", "192.0.2.904", "192.0.2.20"}) +
      incident(3, {"192.0.2.905"}) + "</IODEF-Document>\n";
  auto server = Server::Start(data_);
  ASSERT_NE(server, nullptr);
  const auto token = RunCli({"token", "create", "--data", data_.string(), "--user", "admin"});
  const std::string admin = token.out.substr(0, token.out.find('\n'));
  const auto posted =
      server->Call("POST", "/api/v1/events?format=iodef", admin, document, {{"Content-Type", "application/xml"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  // Every record is accounted for: one event stored, five rejects (three of them one record's).
  EXPECT_EQ(Body(posted)["records"], 6);
  EXPECT_EQ(Body(posted)["events_new"], 1);
  EXPECT_EQ(Body(posted)["rejects"], 5);
  const std::string run = std::to_string(Body(posted)["id"].get<int>());

  std::vector<std::string> seen;
  std::vector<std::size_t> page_sizes;
  std::string after = "0";
  for (int page = 0; page < 10; ++page) {
    const auto got = Body(server->Call("GET", "/api/v1/feeds/runs/" + run + "/rejects?limit=3&after=" + after, admin));
    page_sizes.push_back(got["items"].size());
    for (const auto& item : got["items"]) {
      seen.push_back(std::to_string(item["record"].get<int>()) + " " + item["reason"].get<std::string>());
    }
    if (got["next_after"].is_null()) break;
    after = std::to_string(got["next_after"].get<int>());
  }
  // Three a page would have cut Incident 2's rejects after the second; the first page stops before them.
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{1, 3, 1}));
  ASSERT_EQ(seen.size(), 5u);
  for (const auto* address : {"901", "902", "903", "904", "905"}) {
    EXPECT_EQ(std::count_if(
                  seen.begin(), seen.end(),
                  [&](const std::string& s) { return s.find(std::string("192.0.2.") + address) != std::string::npos; }),
              1)
        << address;
  }
  // Incident 2's three, together and in the order of their systems.
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_TRUE(seen[i].starts_with("2 ")) << seen[i];
    EXPECT_NE(seen[i].find("Flow system " + std::to_string(i) + ":"), std::string::npos) << seen[i];
  }
  ASSERT_TRUE(server->Stop().Succeeded());
}

}  // namespace
}  // namespace hikeshi::e2e
