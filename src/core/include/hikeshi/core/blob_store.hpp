#pragma once
// BlobStore port: raw mail, attachments and artefacts, content-addressed by the SHA-256 of the
// plaintext and encrypted at rest. On SQLite they are files in the data directory; on PostgreSQL,
// rows in the database. Small blobs may instead be sealed for the caller to insert as a row in the
// write transaction that names them (SealInline, WriteTx::InsertBlob; docs/architecture.md).
//
// Thread-safety: implementations must be safe to call from several threads at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

// A blob sealed as BlobStore keeps it (common::Seal with the blob key, the SHA-256 of the
// plaintext as associated data), ready to be stored as a row (WriteTx::InsertBlob).
struct SealedBlob {
  std::string sha256;     // of the plaintext, lower-case hex: the blob's name
  std::string sealed;     // nonce, ciphertext and tag
  std::int64_t size = 0;  // of the plaintext
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `content` durably (it survives a crash once this returns) and returns its SHA-256 in
  // lower-case hex. Idempotent: the same bytes stored twice are kept once.
  // Errors: kUnavailable / kResourceExhausted (disk full), kInternal.
  virtual Result<std::string> Put(std::string_view content) = 0;
  // The plaintext of the blob `sha256`.
  // Errors: kNotFound, kDataLoss when it fails authentication (tampered or wrong key).
  virtual Result<std::string> Get(std::string_view sha256) = 0;
  virtual Result<bool> Contains(std::string_view sha256) = 0;

  // Like Put, but the blob need not be durable yet: it is once SyncPending(ticket) has returned
  // with the returned ticket (or a later one). For a writer that stores several blobs and then
  // commits rows naming them: one sync covers them all (the mail intake's group commit). The
  // default is Put, already durable (ticket 0).
  struct Pending {
    std::string sha256;
    std::uint64_t ticket = 0;
  };
  virtual Result<Pending> PutPending(std::string_view content) {
    HIKESHI_TRY(std::string sha, Put(content));
    return Pending{std::move(sha), 0};
  }
  // Makes durable every blob whose PutPending returned a ticket <= `ticket`.
  // Errors: kUnavailable / kInternal when the file system reports a write error.
  virtual Result<void> SyncPending(std::uint64_t ticket) {
    (void)ticket;
    return {};
  }

  // `content` sealed for the caller to store as a row in its own write transaction
  // (WriteTx::InsertBlob), when this store keeps blobs of its size inline; nullopt when it does not
  // (too large, or a store that keeps none inline: the default): then use Put or PutPending. Get
  // and Contains find a blob stored either way once that transaction has committed.
  // Errors: kInternal when sealing fails.
  virtual Result<std::optional<SealedBlob>> SealInline(std::string_view content) {
    (void)content;
    return std::optional<SealedBlob>();
  }
};

}  // namespace hikeshi::core
