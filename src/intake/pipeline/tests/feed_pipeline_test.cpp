// FeedPipeline with the real SQLite store: events of several aggregate reports interleaved in
// the feed, over batches small and large, fold into the same reports (ids in the order the feed
// first names each source, counts, first and last seen, observables in feed order) however the
// pipeline batches, groups and recycles them; a rerun stores nothing twice.

#include "hikeshi/intake/pipeline/feed_pipeline.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/intake/feed/sources.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace hikeshi::intake::pipeline {
namespace {

namespace fs = std::filesystem;

// One Suricata alert from 10.0.0.<source> to 192.0.2.<target> at 09:00:<second>, 2026-03-14.
std::string Alert(int flow, int source, int target, int second) {
  return fmt::format(R"({{"timestamp":"2026-03-14T09:00:{:02}.000000+0000","flow_id":{},"event_type":"alert",)"
                     R"("src_ip":"10.0.0.{}","src_port":40000,"dest_ip":"192.0.2.{}","dest_port":22,"proto":"TCP",)"
                     R"("alert":{{"gid":1,"signature_id":2001219,"rev":3,"signature":"ET SCAN Potential SSH Scan",)"
                     R"("category":"Attempted Information Leak","severity":2}}}})"
                     "\n",
                     second, flow, source, target);
}

// Sources 7, 5, 7, 9, 5, 7, 7, 9 (in that order): source 7 first, then 5, then 9.
std::string InterleavedFeed() {
  return Alert(1, 7, 1, 10) + Alert(2, 5, 2, 11) + Alert(3, 7, 3, 12) + Alert(4, 9, 4, 13) + Alert(5, 5, 5, 14) +
         Alert(6, 7, 1, 5) + Alert(7, 7, 6, 30) + Alert(8, 9, 7, 31);
}

class FeedPipelineTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    common::InitCrypto();
    std::string pattern = (fs::temp_directory_path() / "hikeshi-feed-pipeline-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    auto store = store::sqlite::OpenSqliteStore(root_ / "hikeshi.db");
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  Result<core::FeedRun> Ingest(const std::string& feed, PipelineOptions options = {}) {
    options.batch_size = GetParam();
    FeedPipeline pipeline(*store_, clock_, nullptr, options);
    core::MemorySource input(feed);
    return pipeline.Ingest(core::Principal::LocalOperator(),
                           {.format = "suricata-eve", .source = "test", .mapping_name = "", .tlp = std::nullopt},
                           input);
  }

  // Runs `sql` on the store's file through a connection of its own (the store stays open).
  void RunSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ / "hikeshi.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  std::int64_t StoredEvents() {
    std::int64_t count = -1;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((root_ / "hikeshi.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &stmt, nullptr), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return count;
  }

  // Every report, oldest (lowest id) first.
  std::vector<core::Report> Reports() {
    std::vector<core::Report> reports;
    const auto read = store_->Read([&](core::StoreReader& r) -> Result<void> {
      core::ReportQuery query;
      query.limit = 100;
      HIKESHI_TRY(auto page, r.ListReports(core::Scope::All(), query));
      reports = std::move(page.items);
      return {};
    });
    EXPECT_TRUE(read) << read.error().message();
    std::sort(reports.begin(), reports.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return reports;
  }

  static common::Timestamp At(int second) {
    return *common::ParseRfc3339(fmt::format("2026-03-14T09:00:{:02}Z", second));
  }
  static std::vector<std::string> Values(const core::Report& report) {
    std::vector<std::string> values;
    for (const auto& o : report.observables) values.push_back(o.value);
    return values;
  }

  fs::path root_;
  core::SystemClock clock_;
  std::unique_ptr<core::Store> store_;
};

TEST_P(FeedPipelineTest, InterleavedSourcesFoldIntoReportsInTheOrderTheFeedNamesThem) {
  const auto run = Ingest(InterleavedFeed());
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(run->records, 8);
  EXPECT_EQ(run->events_new, 8);
  EXPECT_EQ(run->duplicates, 0);
  EXPECT_EQ(run->reports_created, 3);

  const auto reports = Reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_NE(reports[0].subject.find("10.0.0.7"), std::string::npos) << reports[0].subject;
  EXPECT_NE(reports[1].subject.find("10.0.0.5"), std::string::npos) << reports[1].subject;
  EXPECT_NE(reports[2].subject.find("10.0.0.9"), std::string::npos) << reports[2].subject;

  EXPECT_EQ(reports[0].event_count, 4);
  EXPECT_EQ(reports[0].first_seen, At(5));  // the fourth of its events is the earliest
  EXPECT_EQ(reports[0].last_seen, At(30));
  // The source first, then each target once, in the order the feed gives them.
  EXPECT_EQ(Values(reports[0]), (std::vector<std::string>{"10.0.0.7", "192.0.2.1", "192.0.2.3", "192.0.2.6"}));

  EXPECT_EQ(reports[1].event_count, 2);
  EXPECT_EQ(reports[1].first_seen, At(11));
  EXPECT_EQ(reports[1].last_seen, At(14));
  EXPECT_EQ(Values(reports[1]), (std::vector<std::string>{"10.0.0.5", "192.0.2.2", "192.0.2.5"}));

  EXPECT_EQ(reports[2].event_count, 2);
  EXPECT_EQ(reports[2].first_seen, At(13));
  EXPECT_EQ(reports[2].last_seen, At(31));
  EXPECT_EQ(Values(reports[2]), (std::vector<std::string>{"10.0.0.9", "192.0.2.4", "192.0.2.7"}));
}

TEST_P(FeedPipelineTest, ARerunStoresNothingTwiceAndLeavesTheReportsAsTheyWere) {
  ASSERT_TRUE(Ingest(InterleavedFeed()));
  const auto before = Reports();
  const auto rerun = Ingest(InterleavedFeed());
  ASSERT_TRUE(rerun) << rerun.error().message();
  EXPECT_EQ(rerun->events_new, 0);
  EXPECT_EQ(rerun->duplicates, 8);
  EXPECT_EQ(rerun->reports_created, 0);
  EXPECT_EQ(rerun->reports_updated, 0);
  const auto after = Reports();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].event_count, before[i].event_count);
    EXPECT_EQ(after[i].observables, before[i].observables);
  }
}

// Records with nothing to store (a blank line, EVE events other than alerts) are neither events
// nor rejects: the run counts them as skipped, and the count is kept with the run.
TEST_P(FeedPipelineTest, RecordsWithNothingToStoreAreCountedAsSkippedAndKept) {
  const std::string feed = Alert(1, 7, 1, 10) + "\n" +
                           R"({"timestamp":"2026-03-14T09:00:11.000000+0000","event_type":"stats","stats":{}})"
                           "\n" +
                           Alert(2, 5, 2, 11) +
                           R"({"timestamp":"2026-03-14T09:00:12.000000+0000","event_type":"flow","src_ip":"10.0.0.9"})"
                           "\n";
  const auto run = Ingest(feed);
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(run->events_new, 2);
  EXPECT_EQ(run->rejects, 0);
  EXPECT_EQ(run->skipped, 3);
  std::optional<core::FeedRun> stored;
  ASSERT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(stored, r.FindFeedRun(run->id));
    return {};
  }));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->skipped, 3);
  EXPECT_EQ(stored->status, "finished");
}

// A storage error stops the run: the batches stored before it stay, no report is made from a batch
// that was not stored, and a rerun of the same feed stores the rest and makes every report whole.
TEST_P(FeedPipelineTest, AStorageErrorStopsTheRunAndARerunMakesTheReportsWhole) {
  RunSql(
      "CREATE TRIGGER disk_trouble BEFORE INSERT ON events WHEN NEW.record = 5 "
      "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
  const auto failed = Ingest(InterleavedFeed());
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message().find("disk trouble"), std::string::npos) << failed.error().message();
  // The batches before the one holding the fifth record: none with batches of 100, one of three
  // events, four of one.
  const auto batch = static_cast<std::int64_t>(GetParam());
  EXPECT_EQ(StoredEvents(), 4 / batch * batch);
  EXPECT_TRUE(Reports().empty());

  RunSql("DROP TRIGGER disk_trouble");
  const auto rerun = Ingest(InterleavedFeed());
  ASSERT_TRUE(rerun) << rerun.error().message();
  EXPECT_EQ(rerun->duplicates, 4 / batch * batch);
  EXPECT_EQ(rerun->events_new, 8 - 4 / batch * batch);
  EXPECT_EQ(rerun->reports_created, 3);
  const auto reports = Reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].event_count, 4);
  EXPECT_EQ(reports[0].first_seen, At(5));
  EXPECT_EQ(Values(reports[0]), (std::vector<std::string>{"10.0.0.7", "192.0.2.1", "192.0.2.3", "192.0.2.6"}));
  EXPECT_EQ(reports[1].event_count, 2);
  EXPECT_EQ(reports[2].event_count, 2);
}

// What waits for a fold is memory: once it reaches max_pending_bytes the batch just stored is
// folded at once, without waiting for fold_every_batches, and the reports come out the same.
// (on_batch reports the run after each batch the writer stores, and after the fold that comes
// with it.)
TEST_P(FeedPipelineTest, ReportsAreFoldedEarlyOnceWhatWaitsReachesTheMemoryBound) {
  const auto reports_after_each_batch = [&](std::size_t max_pending_bytes) {
    std::vector<std::int64_t> created;
    PipelineOptions options;
    options.fold_every_batches = 1000;
    options.max_pending_bytes = max_pending_bytes;
    options.on_batch = [&](const core::FeedRun& run) { created.push_back(run.reports_created); };
    const auto run = Ingest(InterleavedFeed(), std::move(options));
    EXPECT_TRUE(run) << run.error().message();
    return created;
  };
  // Under a generous bound nothing is folded before the end of the feed: the writer folds
  // everything with the last batch.
  const auto unbounded = reports_after_each_batch(std::size_t{64} << 20);
  ASSERT_FALSE(unbounded.empty());
  for (std::size_t i = 0; i + 1 < unbounded.size(); ++i) EXPECT_EQ(unbounded[i], 0) << "after batch " << i + 1;
  EXPECT_EQ(unbounded.back(), 3);
  const auto generous = Reports();
  ASSERT_EQ(generous.size(), 3u);

  // A fresh store, and a bound that any pending report exceeds: the first batch is folded at once.
  TearDown();
  SetUp();
  const auto bounded = reports_after_each_batch(1);
  ASSERT_FALSE(bounded.empty());
  EXPECT_GE(bounded.front(), 1);
  EXPECT_EQ(bounded.back(), 3);
  const auto reports = Reports();
  ASSERT_EQ(reports.size(), 3u);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].subject, generous[i].subject);
    EXPECT_EQ(reports[i].event_count, generous[i].event_count);
    EXPECT_EQ(reports[i].first_seen, generous[i].first_seen);
    EXPECT_EQ(reports[i].last_seen, generous[i].last_seen);
    EXPECT_EQ(Values(reports[i]), Values(generous[i]));
  }
  EXPECT_EQ(reports[0].event_count, 4);
}

// A live feed: alerts written into a pipe that stays open, as `tail -F eve.json | hikeshi ingest
// feed -` does. With batches far larger than what arrives, the events are committed once they
// have waited live_commit_after, and folded into their reports once the last fold is
// live_fold_after old, while the input is still open; the rest comes when the pipe closes.
TEST(FeedPipelineLiveTest, ALiveFeedIsCommittedAndFoldedWhileItsInputStaysOpen) {
  common::InitCrypto();
  std::string pattern = (fs::temp_directory_path() / "hikeshi-feed-live-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path root = pattern;
  auto store = store::sqlite::OpenSqliteStore(root / "hikeshi.db");
  ASSERT_TRUE(store) << store.error().message();
  core::SystemClock clock;
  PipelineOptions options;
  options.batch_size = 10'000;
  options.live_commit_after = std::chrono::milliseconds(100);
  options.live_fold_after = std::chrono::milliseconds(400);
  FeedPipeline pipeline(**store, clock, nullptr, options);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  feed::FdSource input(fds[0]);
  std::optional<Result<core::FeedRun>> run;
  std::atomic<bool> ended{false};
  std::thread ingest([&] {
    run = pipeline.Ingest(core::Principal::LocalOperator(),
                          {.format = "suricata-eve", .source = "live", .mapping_name = "", .tlp = std::nullopt}, input);
    ended = true;
  });
  const auto write = [&](const std::string& text) {
    ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  const auto counts = [&] {
    std::pair<std::int64_t, std::int64_t> events_and_reports{-1, -1};
    const auto read = (*store)->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto runs, r.ListRecentFeedRuns(0, 1));
      if (!runs.empty()) events_and_reports = {runs[0].events_new, runs[0].reports_created};
      return {};
    });
    EXPECT_TRUE(read) << read.error().message();
    return events_and_reports;
  };
  const auto wait_for = [&](std::pair<std::int64_t, std::int64_t> expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (counts() != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return counts();
  };

  write(Alert(1, 7, 1, 10) + Alert(2, 5, 2, 11) + Alert(3, 7, 3, 12));
  EXPECT_EQ(wait_for({3, 2}), std::make_pair(std::int64_t{3}, std::int64_t{2}));
  write(Alert(4, 9, 4, 13) + Alert(5, 5, 5, 14));
  EXPECT_EQ(wait_for({5, 3}), std::make_pair(std::int64_t{5}, std::int64_t{3}));
  EXPECT_FALSE(ended.load()) << "the run ended while its input was open";

  write(Alert(6, 7, 1, 5));
  ::close(fds[1]);
  ingest.join();
  ::close(fds[0]);
  ASSERT_TRUE(run.has_value());
  ASSERT_TRUE(run->has_value()) << run->error().message();
  EXPECT_EQ((*run)->events_new, 6);
  EXPECT_EQ((*run)->status, "finished");
  std::int64_t total = 0;
  ASSERT_TRUE((*store)->Read([&](core::StoreReader& r) -> Result<void> {
    core::ReportQuery query;
    query.limit = 100;
    HIKESHI_TRY(auto page, r.ListReports(core::Scope::All(), query));
    for (const auto& report : page.items) total += report.event_count;
    return {};
  }));
  EXPECT_EQ(total, 6);
  store->reset();
  fs::remove_all(root);
}

// One batch for the whole feed (events grouped by report inside it), three events a batch (the
// batches reuse each other's events), and one event a batch.
INSTANTIATE_TEST_SUITE_P(BatchSizes, FeedPipelineTest, ::testing::Values(100, 3, 1));

}  // namespace
}  // namespace hikeshi::intake::pipeline
