#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

#include "detail/connection.hpp"
#include "detail/schema.hpp"

namespace hikeshi::store::postgres {
namespace {

using detail::Connection;
using detail::Params;
using detail::Rows;

class PostgresBlobStore final : public core::BlobStore {
 public:
  PostgresBlobStore(std::string conninfo, std::string key, const PostgresOptions& options)
      : conninfo_(std::move(conninfo)), key_(std::move(key)), options_(options) {}
  PostgresBlobStore(const PostgresBlobStore&) = delete;
  PostgresBlobStore& operator=(const PostgresBlobStore&) = delete;

  Result<std::string> Put(std::string_view content) override {
    std::string sha = common::Sha256Hex(content);
    return WithConnection([&](Connection& db) -> Result<std::string> {
      // The common case on redelivery: already stored, nothing to seal.
      HIKESHI_TRY(const bool stored, ContainsOn(db, sha));
      if (stored) return sha;
      HIKESHI_TRY(const std::string sealed, common::Seal(key_, content, sha));
      const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
      Params p;
      p.Add(sha);
      p.AddBytes(sealed);
      p.Add(static_cast<std::int64_t>(content.size()));
      p.Add(common::ToMicros(now));
      // Autocommit: durable when it returns. A concurrent Put of the same bytes is no clash.
      HIKESHI_CHECK(
          db.Exec("INSERT INTO blobs (sha256, sealed, size, created_at) VALUES ($1, $2, $3, $4) "
                  "ON CONFLICT (sha256) DO NOTHING",
                  p));
      return sha;
    });
  }

  Result<std::string> Get(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256))
      return Fail(Error::InvalidArgument("not a SHA-256 blob name: " + std::string(sha256)));
    const std::string sha(sha256);
    HIKESHI_TRY(std::string sealed, WithConnection([&](Connection& db) -> Result<std::string> {
                  Params p;
                  p.Add(sha);
                  HIKESHI_TRY(const Rows rows, db.Exec("SELECT sealed FROM blobs WHERE sha256 = $1", p));
                  if (rows.Empty()) return Fail(Error::NotFound("blob " + sha));
                  return rows.Bytes(0, 0);
                }));
    return common::OpenBlob(key_, sealed, sha);
  }

  Result<bool> Contains(std::string_view sha256) override {
    if (!common::IsSha256Hex(sha256)) return false;
    const std::string sha(sha256);
    return WithConnection([&](Connection& db) { return ContainsOn(db, sha); });
  }

 private:
  static Result<bool> ContainsOn(Connection& db, const std::string& sha) {
    Params p;
    p.Add(sha);
    HIKESHI_TRY(const Rows rows, db.Exec("SELECT 1 FROM blobs WHERE sha256 = $1", p));
    return !rows.Empty();
  }

  // Runs `body` on an idle connection (opening one when none is idle) and keeps the connection for
  // the next call unless it broke.
  template <typename Body>
  auto WithConnection(const Body& body) -> decltype(body(std::declval<Connection&>())) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        connection = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (connection == nullptr) {
      HIKESHI_TRY(connection, Connection::Open(conninfo_, options_));
    }
    try {
      auto result = body(*connection);
      if (!connection->Broken()) {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(connection));
      }
      return result;
    } catch (const std::bad_alloc&) {
      return Fail(Error::Internal("out of memory in the blob store"));
    }
  }

  const std::string conninfo_;  // holds the password: never logged, never in an error
  const std::string key_;
  const PostgresOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

Result<std::unique_ptr<core::BlobStore>> OpenPostgresBlobStore(std::string conninfo, std::string key,
                                                               PostgresOptions options) {
  if (key.size() != common::kSecretKeyBytes) {
    return Fail(Error::InvalidArgument(fmt::format("a blob key is {} bytes", common::kSecretKeyBytes)));
  }
  HIKESHI_CHECK(detail::CheckOptions(options));
  try {
    HIKESHI_TRY(auto migrator, Connection::Open(conninfo, options));
    HIKESHI_CHECK(detail::Migrate(*migrator));
    return std::make_unique<PostgresBlobStore>(std::move(conninfo), std::move(key), options);
  } catch (const std::bad_alloc&) {
    return Fail(Error::Internal("out of memory opening the blob store"));
  }
}

}  // namespace hikeshi::store::postgres
