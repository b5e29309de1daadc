#include "hikeshi/core/inline_blob_store.hpp"

#include <utility>

#include "hikeshi/common/crypto.hpp"

namespace hikeshi::core {
namespace {

class InlineBlobStore final : public BlobStore {
 public:
  InlineBlobStore(Store& store, std::unique_ptr<BlobStore> larger, std::string key, std::size_t max_inline_bytes)
      : store_(store), larger_(std::move(larger)), key_(std::move(key)), max_inline_bytes_(max_inline_bytes) {}

  Result<std::string> Put(std::string_view content) override { return larger_->Put(content); }
  Result<Pending> PutPending(std::string_view content) override { return larger_->PutPending(content); }
  Result<void> SyncPending(std::uint64_t ticket) override { return larger_->SyncPending(ticket); }

  Result<std::optional<SealedBlob>> SealInline(std::string_view content) override {
    if (content.size() > max_inline_bytes_) return std::optional<SealedBlob>();
    SealedBlob blob;
    blob.sha256 = common::Sha256Hex(content);
    HIKESHI_TRY(blob.sealed, common::Seal(key_, content, blob.sha256));
    blob.size = static_cast<std::int64_t>(content.size());
    return blob;
  }

  Result<std::string> Get(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256))
      return Fail(Error::InvalidArgument("not a SHA-256 blob name: " + std::string(sha256)));
    HIKESHI_TRY(const auto row, FindRow(sha256));
    if (!row) return larger_->Get(sha256);
    return common::OpenBlob(key_, row->sealed, sha256);
  }

  Result<bool> Contains(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256)) return false;
    HIKESHI_TRY(const auto row, FindRow(sha256));
    if (row) return true;
    return larger_->Contains(sha256);
  }

 private:
  Result<std::optional<SealedBlob>> FindRow(std::string_view sha256) {
    std::optional<SealedBlob> row;
    HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
      HIKESHI_TRY(row, r.FindBlob(sha256));
      return {};
    }));
    return row;
  }

  Store& store_;
  const std::unique_ptr<BlobStore> larger_;
  const std::string key_;
  const std::size_t max_inline_bytes_;
};

}  // namespace

std::unique_ptr<BlobStore> MakeInlineBlobStore(Store& store, std::unique_ptr<BlobStore> larger, std::string key,
                                               std::size_t max_inline_bytes) {
  return std::make_unique<InlineBlobStore>(store, std::move(larger), std::move(key), max_inline_bytes);
}

}  // namespace hikeshi::core
