#pragma once
// A BlobStore that keeps small blobs as rows of the Store, committed with the rows that name them,
// and the rest in another BlobStore (`larger`: the files of a SQLite deployment, PostgreSQL's blob
// table). Small blobs are sealed exactly as `larger` seals them (common::Seal, the blob key, the
// SHA-256 of the plaintext as associated data), so both hold the same bytes for the same blob.
//
// SealInline seals a blob of at most `max_inline_bytes` for the caller to store with
// WriteTx::InsertBlob in its own transaction (the mail intake: MailIngest::Receive); Put and
// PutPending always go to `larger`. Get and Contains look in the Store first, then in `larger`.
// Why: docs/architecture.md, "Small blobs are rows".
//
// Thread-safety: as the Store and `larger`: safe from several threads at once.

#include <cstddef>
#include <memory>
#include <string>

#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// `store` must outlive the returned BlobStore; `key` is the blob key `larger` seals with
// (common::kSecretKeyBytes bytes). `max_inline_bytes` 0: nothing is kept inline.
std::unique_ptr<BlobStore> MakeInlineBlobStore(Store& store, std::unique_ptr<BlobStore> larger, std::string key,
                                               std::size_t max_inline_bytes);

}  // namespace hikeshi::core
