// MailPipeline under concurrent deliveries (LMTP connections, `ingest mail` workers), with the real
// SQLite store and file blob store (or small blobs as rows of the store, as the app opens it):
// shared commits (core::WriteGroup) must store every message exactly once, keep the audit chain
// intact, and never let one failing change fail the others.

#include "hikeshi/intake/pipeline/mail_pipeline.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/inline_blob_store.hpp"
#include "hikeshi/core/write_group.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace hikeshi::intake::pipeline {
namespace {

namespace fs = std::filesystem;

std::string Mail(int i) {
  return fmt::format(
      "From: Reporter {0} <reporter{0}@example.org>\r\nTo: csirt@example.net\r\nSubject: scan from 192.0.2.{1}\r\n"
      "Message-ID: <group-{0}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "Port scan from 192.0.2.{1} at 09:00, report number {0}.\r\n",
      i, i % 250 + 1);
}

core::Constituency Named(std::string name) {
  core::Constituency c;
  c.name = std::move(name);
  return c;
}

class MailPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::InitCrypto();
    std::string pattern = (fs::temp_directory_path() / "hikeshi-pipeline-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    auto store = store::sqlite::OpenSqliteStore(root_ / "hikeshi.db");
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    OpenPipeline(false);
  }
  // `max_inline_bytes` > 0: blobs up to that size are rows of the store (app::OpenMailBlobStore).
  void OpenPipeline(bool sync_per_group, std::size_t max_inline_bytes = 0) {
    pipeline_.reset();
    auto blobs = store::files::OpenFileBlobStore(root_ / "blobs", root_ / "blob.key", true, sync_per_group);
    ASSERT_TRUE(blobs) << blobs.error().message();
    blobs_ = std::move(*blobs);
    if (max_inline_bytes > 0) {
      auto key = store::files::LoadBlobKey(root_ / "blob.key", false);
      ASSERT_TRUE(key) << key.error().message();
      blobs_ = core::MakeInlineBlobStore(*store_, std::move(blobs_), std::move(*key), max_inline_bytes);
    }
    ingest_ = std::make_unique<core::MailIngest>(*store_, clock_, core::MailIngestOptions{});
    pipeline_ =
        std::make_unique<MailPipeline>(*store_, *blobs_, clock_, nullptr, nullptr, *ingest_, MailPipelineOptions{});
  }
  void DeliverConcurrentlyAndCheck();
  void TearDown() override {
    pipeline_.reset();
    ingest_.reset();
    blobs_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  fs::path root_;
  core::SystemClock clock_;
  std::unique_ptr<core::Store> store_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<core::MailIngest> ingest_;
  std::unique_ptr<MailPipeline> pipeline_;
};

void MailPipelineTest::DeliverConcurrentlyAndCheck() {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  const auto actor = core::Principal::LocalOperator();
  std::vector<std::vector<core::MailReceipt>> receipts(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        // Every message twice from two threads: the redelivery must be recognised, even when both
        // copies land in the same shared transaction.
        const int i = (t / 2) * kPerThread + k;
        auto receipt = pipeline_->Deliver(actor, Mail(i));
        if (!receipt) {
          errors[t] = receipt.error().message();
          return;
        }
        receipts[t].push_back(*receipt);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) ASSERT_EQ(error, "");

  std::set<std::string> reports;
  int stored = 0;
  int duplicate = 0;
  for (const auto& list : receipts) {
    for (const auto& r : list) {
      if (r.outcome == core::MailOutcome::kStored) {
        ++stored;
        EXPECT_TRUE(reports.insert(r.report).second) << r.report << " handed out twice";
      }
      if (r.outcome == core::MailOutcome::kDuplicate) ++duplicate;
    }
  }
  constexpr int kDistinct = kThreads / 2 * kPerThread;
  EXPECT_EQ(stored, kDistinct);
  EXPECT_EQ(duplicate, kDistinct);

  // What a handler sees: one incoming mail per distinct message, each with its raw bytes readable.
  std::vector<core::MailMessage> incoming;
  ASSERT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(auto mail, r.ListMail(0, 500));
    for (auto& m : mail) {
      if (m.direction == core::MailDirection::kIn) incoming.push_back(std::move(m));
    }
    return {};
  }));
  ASSERT_EQ(incoming.size(), static_cast<std::size_t>(kDistinct));
  std::set<std::string> ids;
  for (const auto& m : incoming) {
    ids.insert(m.message_id);
    auto raw = blobs_->Get(m.raw_sha256);
    ASSERT_TRUE(raw) << m.message_id << ": " << raw.error().message();
    EXPECT_NE(raw->find(m.message_id), std::string::npos);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kDistinct));

  auto verdict = core::VerifyAudit(*store_);
  ASSERT_TRUE(verdict) << verdict.error().message();
  EXPECT_TRUE(verdict->ok()) << verdict->problem;
}

TEST_F(MailPipelineTest, ConcurrentDeliveriesAreEachStoredOnceWithTheirRawMessage) { DeliverConcurrentlyAndCheck(); }

TEST_F(MailPipelineTest, ConcurrentDeliveriesWithBlobsSyncedOncePerGroup) {
  OpenPipeline(/*sync_per_group=*/true);
  DeliverConcurrentlyAndCheck();
}

// Small raw messages as rows of the shared transactions: the same guarantees, two copies of one
// message in one group included, and not one blob file written.
TEST_F(MailPipelineTest, ConcurrentDeliveriesWithSmallBlobsAsRows) {
  OpenPipeline(/*sync_per_group=*/false, /*max_inline_bytes=*/std::size_t{256} << 10);
  DeliverConcurrentlyAndCheck();
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "blobs")) files += entry.is_regular_file();
  EXPECT_EQ(files, 0);
}

// One change that fails (a duplicate constituency name, refused by the database) among good ones
// committed in the same group: the good ones are stored, the bad one gets its own error.
TEST_F(MailPipelineTest, OneFailingChangeInAGroupDoesNotFailTheOthers) {
  core::WriteGroup group(*store_);
  const core::AuditContext ctx{"admin", clock_.Now()};
  ASSERT_TRUE(group.Write([&](core::WriteTx& tx) -> Result<void> {
    HIKESHI_CHECK(tx.CreateConstituency(ctx, Named("taken")));
    return {};
  }));

  constexpr int kWriters = 6;
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  std::atomic<int> ran_elsewhere{0};  // bodies run by another caller's thread: a shared commit
  std::vector<Result<void>> results(kWriters + 1);
  // The first writer holds the store until the others are all waiting, so they form one group.
  std::thread holder([&] {
    results[0] = group.Write([&](core::WriteTx& tx) -> Result<void> {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      HIKESHI_CHECK(tx.CreateConstituency(ctx, Named("first")));
      return {};
    });
  });
  std::vector<std::thread> writers;
  for (int w = 1; w <= kWriters; ++w) {
    writers.emplace_back([&, w] {
      const auto caller = std::this_thread::get_id();
      const std::string name = w == 3 ? "taken" : fmt::format("net-{}", w);
      ++started;
      results[w] = group.Write([&, caller, name](core::WriteTx& tx) -> Result<void> {
        if (std::this_thread::get_id() != caller) ++ran_elsewhere;
        HIKESHI_CHECK(tx.CreateConstituency(ctx, Named(name)));
        return {};
      });
    });
  }
  while (started < kWriters) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let them reach the queue
  release = true;
  holder.join();
  for (auto& w : writers) w.join();

  EXPECT_GT(ran_elsewhere.load(), 0) << "no two writes shared a transaction";
  ASSERT_TRUE(results[0]) << results[0].error().message();
  for (int w = 1; w <= kWriters; ++w) {
    if (w == 3) {
      ASSERT_FALSE(results[w]);
      EXPECT_EQ(results[w].error().code(), ErrorCode::kConflict) << results[w].error().message();
    } else {
      EXPECT_TRUE(results[w]) << w << ": " << results[w].error().message();
    }
  }
  std::vector<core::Constituency> all;
  ASSERT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(all, r.ListConstituencies());
    return {};
  }));
  std::multiset<std::string> names;
  for (const auto& c : all) names.insert(c.name);
  EXPECT_EQ(names, (std::multiset<std::string>{"first", "net-1", "net-2", "net-4", "net-5", "net-6", "taken"}));
  auto verdict = core::VerifyAudit(*store_);
  ASSERT_TRUE(verdict) << verdict.error().message();
  EXPECT_TRUE(verdict->ok()) << verdict->problem;
}

// A blob that is to be durable before the commit naming it: when the sync fails, nothing of the
// message is committed, and the caller is told to retry.
TEST_F(MailPipelineTest, AFailedBlobSyncCommitsNothing) {
  core::WriteGroup group(*store_);
  const core::AuditContext ctx{"admin", clock_.Now()};
  const auto result = group.Write(
      [&](core::WriteTx& tx) -> Result<void> {
        HIKESHI_CHECK(tx.CreateConstituency(ctx, Named("synced-first")));
        return {};
      },
      []() -> Result<void> { return Fail(Error::Unavailable("syncing the blob directory: I/O error")); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  std::vector<core::Constituency> all;
  ASSERT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(all, r.ListConstituencies());
    return {};
  }));
  EXPECT_TRUE(all.empty());
}

}  // namespace
}  // namespace hikeshi::intake::pipeline
