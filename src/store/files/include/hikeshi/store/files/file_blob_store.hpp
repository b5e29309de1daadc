#pragma once
// The BlobStore of the embedded (SQLite) deployment: one file per blob under the data directory,
// named by the SHA-256 of its plaintext, sealed with XChaCha20-Poly1305 under a key kept in a
// file of its own (0600). A blob is written to a temporary file, fsynced, renamed into place and
// the directory fsynced, so a crash never leaves a half-written blob under its name. PutPending
// skips both fsyncs and SyncPending makes every such blob durable with one syncfs(2); since a blob
// renamed into place but never synced may be damaged after a crash, a blob found already stored is
// read and authenticated before a Put relies on it (only duplicates pay that).
//
// Thread-safety: the returned store may be used from several threads and processes at once.

#include <filesystem>
#include <memory>
#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"

namespace hikeshi::store::files {

// The blob key in `key_file` (common::kSecretKeyBytes bytes). When the file does not exist and
// `create` is true, a new random key is written to it (0600, created with its directory, synced).
// Also the key of the PostgreSQL blob store, so that both seal alike.
// Errors: kNotFound when the file is missing and may not be created (the message says to restore
// it); kDataLoss when it does not hold a key; kPermissionDenied and others from the file system.
Result<std::string> LoadBlobKey(const std::filesystem::path& key_file, bool create);

// Opens (creating, 0700) the blob directory `dir`. The key is read from `key_file`; when that file
// does not exist and `create_key` is true, a new random key is written to it (0600).
// Errors: kNotFound when the key file is missing and may not be created; kDataLoss when it does
// not hold a key; kInvalidArgument / kPermissionDenied for unusable paths.
//
// `sync_per_group`: PutPending writes without fsync and SyncPending makes every pending blob
// durable with one syncfs(2) of the blob directory's file system. Off (the default), PutPending is
// Put: each caller fsyncs its own file and directory, concurrently with the others. syncfs also
// flushes whatever else is dirty on that file system, so it pays only where Hikeshi is most of
// the writing (docs/PERFORMANCE.md, mail intake).
Result<std::unique_ptr<core::BlobStore>> OpenFileBlobStore(const std::filesystem::path& dir,
                                                           const std::filesystem::path& key_file, bool create_key,
                                                           bool sync_per_group = false);

}  // namespace hikeshi::store::files
