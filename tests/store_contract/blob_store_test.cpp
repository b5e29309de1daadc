// The BlobStore contract, for both implementations: sealed files in the data directory (SQLite
// deployments) and rows of the PostgreSQL database. Same key file, same sealing, same answers.

#include "hikeshi/core/blob_store.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/error.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {
namespace {

namespace fs = std::filesystem;

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr std::string_view kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Each factory: Open(key_file) opens the store with the key in that file (made when missing);
// Stored(sha) is the sealed bytes as kept; Corrupt(sha) flips one sealed byte behind the store's back.
struct FileBlobs {
  static constexpr std::string_view kName = "files";
  Result<std::unique_ptr<core::BlobStore>> Open(const fs::path& key_file) {
    return store::files::OpenFileBlobStore(dir.Path() / "blobs", key_file, true);
  }
  fs::path PathOf(const std::string& sha) { return dir.Path() / "blobs" / sha.substr(0, 2) / sha; }
  Result<std::string> Stored(const std::string& sha) {
    if (!fs::exists(PathOf(sha))) return Fail(Error::NotFound(sha));
    return ReadFile(PathOf(sha));
  }
  Result<void> Corrupt(const std::string& sha) {
    std::string sealed = ReadFile(PathOf(sha));
    sealed[sealed.size() / 2] ^= 1;
    std::ofstream(PathOf(sha), std::ios::binary | std::ios::trunc) << sealed;
    return {};
  }
  Result<std::string> Copies() {
    int n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir.Path() / "blobs")) n += entry.is_regular_file();
    return std::to_string(n);
  }
  TempDir dir;
};

struct PostgresBlobs {
  static constexpr std::string_view kName = "postgres";
  PostgresBlobs() : database(testing::TestDatabase::Create()) {}
  Result<std::unique_ptr<core::BlobStore>> Open(const fs::path& key_file) {
    if (!database) return Fail(database.error());
    HIKESHI_TRY(std::string key, store::files::LoadBlobKey(key_file, true));
    return store::postgres::OpenPostgresBlobStore(database->Conninfo(), std::move(key));
  }
  Result<std::string> Stored(const std::string& sha) {
    HIKESHI_TRY(const std::string hex,
                testing::QueryValue(database->Conninfo(),
                                    "SELECT encode(sealed, 'hex') FROM blobs WHERE sha256 = '" + sha + "'"));
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return bytes;
  }
  Result<void> Corrupt(const std::string& sha) {
    return testing::RunSql(database->Conninfo(),
                           "UPDATE blobs SET sealed = set_byte(sealed, length(sealed) / 2, "
                           "get_byte(sealed, length(sealed) / 2) # 1) WHERE sha256 = '" +
                               sha + "'");
  }
  Result<std::string> Copies() { return testing::QueryValue(database->Conninfo(), "SELECT count(*) FROM blobs"); }
  Result<testing::TestDatabase> database;
};

template <typename Backend>
class BlobStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::InitCrypto();
    auto opened = backend_.Open(KeyFile());
    ASSERT_TRUE(opened) << Describe(opened.error());
    blobs_ = std::move(*opened);
  }
  fs::path KeyFile() const { return keys_.Path() / "blob.key"; }

  TempDir keys_;
  Backend backend_;
  std::unique_ptr<core::BlobStore> blobs_;
};

using BlobBackends = ::testing::Types<FileBlobs, PostgresBlobs>;
TYPED_TEST_SUITE(BlobStoreContractTest, BlobBackends, BackendNames);

TYPED_TEST(BlobStoreContractTest, StoresSealedAndReadsBackUnderItsSha256) {
  ASSERT_OK_AND_ASSIGN(const std::string sha, this->blobs_->Put("abc"));
  EXPECT_EQ(sha, kAbcSha256);
  const std::string raw = "Subject: 不正アクセス\r\n\r\n198.51.100.7 attacked us\r\n" + std::string(100000, '\0');
  ASSERT_OK_AND_ASSIGN(const std::string raw_sha, this->blobs_->Put(raw));
  ASSERT_OK_AND_ASSIGN(const std::string back, this->blobs_->Get(raw_sha));
  EXPECT_EQ(back, raw) << "every byte, NULs included";
  ASSERT_OK_AND_ASSIGN(const std::string sealed, this->backend_.Stored(raw_sha));
  EXPECT_EQ(sealed.find("198.51.100.7"), std::string::npos) << "encrypted at rest";
  ASSERT_OK_AND_ASSIGN(const bool has, this->blobs_->Contains(sha));
  EXPECT_TRUE(has);

  // Reopened (a restart, or another node with the same key file): still there.
  ASSERT_OK_AND_ASSIGN(auto reopened, this->backend_.Open(this->KeyFile()));
  ASSERT_OK_AND_ASSIGN(const std::string again, reopened->Get(std::string(kAbcSha256)));
  EXPECT_EQ(again, "abc");
}

TYPED_TEST(BlobStoreContractTest, StoringTheSameBytesTwiceKeepsOneCopy) {
  ASSERT_OK_AND_ASSIGN(const std::string first, this->blobs_->Put("abc"));
  ASSERT_OK_AND_ASSIGN(const std::string second, this->blobs_->Put("abc"));
  EXPECT_EQ(first, second);
  ASSERT_OK_AND_ASSIGN(const std::string copies, this->backend_.Copies());
  EXPECT_EQ(copies, "1");
}

TYPED_TEST(BlobStoreContractTest, ATamperedBlobIsDataLossNotWrongBytes) {
  ASSERT_OK_AND_ASSIGN(const std::string sha, this->blobs_->Put("the original report"));
  ASSERT_OK(this->backend_.Corrupt(sha));
  EXPECT_ERROR(this->blobs_->Get(sha), ErrorCode::kDataLoss);
}

TYPED_TEST(BlobStoreContractTest, AnotherKeyCannotReadTheBlobs) {
  ASSERT_OK_AND_ASSIGN(const std::string sha, this->blobs_->Put("abc"));
  TempDir other_keys;
  ASSERT_OK_AND_ASSIGN(auto other, this->backend_.Open(other_keys.Path() / "blob.key"));
  EXPECT_ERROR(other->Get(sha), ErrorCode::kDataLoss);
}

TYPED_TEST(BlobStoreContractTest, AMissingBlobIsNotFound) {
  EXPECT_ERROR(this->blobs_->Get(std::string(kAbcSha256)), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(const bool has, this->blobs_->Contains(std::string(kAbcSha256)));
  EXPECT_FALSE(has);
  EXPECT_ERROR(this->blobs_->Get("../../etc/passwd"), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace hikeshi::store_contract
