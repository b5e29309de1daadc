#include "hikeshi/store/files/file_blob_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hikeshi/common/crypto.hpp"

namespace hikeshi::store::files {
namespace {

namespace fs = std::filesystem;

class FileBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::InitCrypto();
    std::string pattern = (fs::temp_directory_path() / "hikeshi-blobs-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  std::unique_ptr<core::BlobStore> OpenStore(bool create_key = true, bool sync_per_group = false) {
    auto store = OpenFileBlobStore(root_ / "blobs", root_ / "keys" / "blob.key", create_key, sync_per_group);
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }
  static std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  fs::path root_;
};

TEST_F(FileBlobStoreTest, StoresEncryptedAndReadsBackAfterReopen) {
  const std::string raw = "From: a@example.org\r\nSubject: 不正アクセスの報告\r\n\r\n198.51.100.7 attacked us\r\n";
  std::string sha;
  {
    auto blobs = OpenStore();
    auto put = blobs->Put(raw);
    ASSERT_TRUE(put) << put.error().message();
    sha = *put;
  }
  EXPECT_EQ(sha, common::Sha256Hex(raw));
  const fs::path file = root_ / "blobs" / sha.substr(0, 2) / sha;
  ASSERT_TRUE(fs::exists(file));
  const std::string on_disk = ReadFile(file);
  EXPECT_EQ(on_disk.find("198.51.100.7"), std::string::npos) << "blobs are encrypted at rest";
  EXPECT_EQ(on_disk.find("attacked"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "keys" / "blob.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600) << "the key file is for the service account alone";

  auto reopened = OpenStore(false);
  auto got = reopened->Get(sha);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, raw);
  EXPECT_TRUE(*reopened->Contains(sha));
}

TEST_F(FileBlobStoreTest, SameContentIsKeptOnce) {
  auto blobs = OpenStore();
  const auto a = blobs->Put("same bytes");
  const auto b = blobs->Put("same bytes");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "blobs")) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST_F(FileBlobStoreTest, TamperedOrSwappedBlobIsDataLossNotWrongContent) {
  auto blobs = OpenStore();
  const auto a = *blobs->Put("first message");
  const auto b = *blobs->Put("second message");
  const fs::path fa = root_ / "blobs" / a.substr(0, 2) / a;
  const fs::path fb = root_ / "blobs" / b.substr(0, 2) / b;
  // Someone copies blob b's file over blob a's name: it must not be served as a.
  fs::copy_file(fb, fa, fs::copy_options::overwrite_existing);
  EXPECT_EQ(blobs->Get(a).error().code(), ErrorCode::kDataLoss);
  // A flipped byte.
  std::string bytes = ReadFile(fb);
  bytes[bytes.size() - 3] ^= 0x40;
  std::ofstream(fb, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(blobs->Get(b).error().code(), ErrorCode::kDataLoss);
}

TEST_F(FileBlobStoreTest, MissingBlobKeyAndBadNamesAreClearErrors) {
  auto blobs = OpenStore();
  EXPECT_EQ(blobs->Get(std::string(64, 'a')).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(blobs->Get("../../etc/passwd").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(*blobs->Contains("../x"));
  fs::remove(root_ / "keys" / "blob.key");
  auto reopened = OpenFileBlobStore(root_ / "blobs", root_ / "keys" / "blob.key", false);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code(), ErrorCode::kNotFound);
  std::ofstream(root_ / "keys" / "blob.key") << "short";
  reopened = OpenFileBlobStore(root_ / "blobs", root_ / "keys" / "blob.key", true);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code(), ErrorCode::kDataLoss);
}

TEST_F(FileBlobStoreTest, ConcurrentWritersOfTheSameAndDifferentBlobs) {
  auto blobs = OpenStore();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(blobs->Put("shared " + std::to_string(i)));
        EXPECT_TRUE(blobs->Put("own " + std::to_string(t) + " " + std::to_string(i)));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(*blobs->Get(common::Sha256Hex("shared " + std::to_string(i))), "shared " + std::to_string(i));
  }
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "blobs")) files += entry.is_regular_file();
  EXPECT_EQ(files, 50u + 4u * 50u) << "no temporary files left behind";
}

// PutPending leaves the file renamed into place but not synced; after a crash it could hold
// anything. A later Put of the same bytes must not trust such a file because it has the right name.
TEST_F(FileBlobStoreTest, APendingBlobDamagedByACrashIsWrittenAgainNotSkipped) {
  auto blobs = OpenStore(true, /*sync_per_group=*/true);
  const std::string raw = "From: b@example.org\r\nSubject: phishing\r\n\r\nhttp://203.0.113.9/login\r\n";
  auto pending = blobs->PutPending(raw);
  ASSERT_TRUE(pending) << pending.error().message();
  EXPECT_GT(pending->ticket, 0u);
  ASSERT_TRUE(blobs->SyncPending(pending->ticket));
  auto read = blobs->Get(pending->sha256);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, raw);

  // What a crash before the sync may leave: the name, with the data lost.
  const fs::path file = root_ / "blobs" / pending->sha256.substr(0, 2) / pending->sha256;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "";
  ASSERT_FALSE(blobs->Get(pending->sha256));

  auto again = blobs->Put(raw);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, pending->sha256);
  read = blobs->Get(pending->sha256);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, raw);

  // Also through PutPending: the damaged copy is replaced, and the new ticket needs a sync.
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "garbage";
  auto pending_again = blobs->PutPending(raw);
  ASSERT_TRUE(pending_again) << pending_again.error().message();
  EXPECT_GT(pending_again->ticket, pending->ticket);
  ASSERT_TRUE(blobs->SyncPending(pending_again->ticket));
  read = blobs->Get(pending->sha256);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, raw);
}

}  // namespace
}  // namespace hikeshi::store::files
