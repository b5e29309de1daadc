#pragma once
// BlobStore port: raw mail, attachments and artefacts, content-addressed by the SHA-256 of the
// plaintext and encrypted at rest. On SQLite they are files in the data directory; on PostgreSQL,
// rows in the database.
//
// Thread-safety: implementations must be safe to call from several threads at once.

#include <cstdint>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

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
};

}  // namespace hikeshi::core
