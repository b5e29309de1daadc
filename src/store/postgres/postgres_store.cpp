#include "hikeshi/store/postgres/postgres_store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hikeshi/store/postgres/change_watch.hpp"

#include "detail/connection.hpp"
#include "detail/schema.hpp"
#include "detail/transactions.hpp"

namespace hikeshi::store::postgres {
namespace {

using detail::Connection;

// Runs a callback written by someone else: whatever it throws becomes an error value, so that the
// transaction is still ended and nothing escapes the Store boundary.
template <typename Body, typename Arg>
Result<void> RunCallback(const Body& body, Arg& arg) {
  try {
    return body(arg);
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("store callback threw: {}", e.what())));
  } catch (...) {
    return Fail(Error::Internal("store callback threw a non-standard exception"));
  }
}

class PostgresStore final : public core::Store {
 public:
  PostgresStore(std::string conninfo, const PostgresOptions& options, std::unique_ptr<Connection> writer)
      : conninfo_(std::move(conninfo)), options_(options), writer_(std::move(writer)) {
    idle_readers_.reserve(static_cast<std::size_t>(options_.max_readers));
  }
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  Result<void> Write(const std::function<Result<void>(core::WriteTx&)>& body) override {
    // A Write inside a Write on the same thread would wait for itself forever.
    if (writer_thread_ == std::this_thread::get_id()) {
      return Fail(Error::Internal("Store::Write called inside a Write callback"));
    }
    std::lock_guard lock(writer_mutex_);
    writer_thread_ = std::this_thread::get_id();
    Result<void> result;
    try {
      result = WriteLocked(body);
    } catch (const std::bad_alloc&) {
      if (writer_ != nullptr) writer_->RollbackQuietly();
      result = Fail(Error::Internal("out of memory in Store::Write"));
    }
    writer_thread_ = std::thread::id();
    return result;
  }

  Result<void> Read(const std::function<Result<void>(core::StoreReader&)>& body) override {
    try {
      HIKESHI_TRY(ReaderLease lease, AcquireReader());
      return ReadOn(lease.Get(), body);
    } catch (const std::bad_alloc&) {
      return Fail(Error::Internal("out of memory in Store::Read"));
    }
  }

 private:
  Result<void> WriteLocked(const std::function<Result<void>(core::WriteTx&)>& body) {
    // A server restart drops the connection: open a new one rather than fail every later write.
    if (writer_ == nullptr || writer_->Broken()) {
      writer_.reset();
      HIKESHI_TRY(writer_, Connection::Open(conninfo_, options_));
    }
    // The advisory lock, taken before anything is read, serialises the write transactions of every
    // process on this database: each one reads the journal's last entry only after the previous
    // writer has committed, so the hash chain has no forks. It is released at COMMIT or ROLLBACK,
    // and bounded by lock_timeout (kUnavailable when another writer holds it too long).
    static const std::string begin =
        fmt::format("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({}, {})", detail::kLockSpace,
                    detail::kWriteLock);
    auto begun = writer_->Execute(begin.c_str());
    if (!begun) {
      writer_->RollbackQuietly();
      return begun;
    }
    Result<void> result = [&]() -> Result<void> {
      detail::PostgresWriteTx tx(*writer_);
      HIKESHI_CHECK(RunCallback(body, static_cast<core::WriteTx&>(tx)));
      HIKESHI_CHECK(tx.FlushEventCounts());
      // Delivered to every node's change watch at COMMIT, dropped with a ROLLBACK (change_watch.hpp).
      if (tx.last_audit_seq() > 0) {
        detail::Params params;
        params.AddText(std::to_string(tx.last_audit_seq()));
        static const std::string notify = fmt::format("SELECT pg_notify('{}', $1)", kChangeChannel);
        if (auto notified = writer_->Exec(notify, params); !notified) return Fail(notified.error());
      }
      return {};
    }();
    if (result) result = writer_->Execute("COMMIT");
    if (!result) writer_->RollbackQuietly();
    return result;
  }

  Result<void> ReadOn(Connection& connection, const std::function<Result<void>(core::StoreReader&)>& body) {
    // The snapshot is taken at the first query and held to the end, so every query in `body` sees
    // the same committed state, and a concurrent writer neither waits for it nor shows up in it.
    HIKESHI_CHECK(connection.Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    Result<void> result = [&]() -> Result<void> {
      detail::PostgresReader reader(connection);
      return RunCallback(body, static_cast<core::StoreReader&>(reader));
    }();
    if (result) result = connection.Execute("COMMIT");
    if (!result) connection.RollbackQuietly();
    return result;
  }

  // A reader connection lent out of the pool; it goes back however the Read ends (or is closed
  // when it broke).
  class ReaderLease {
   public:
    ReaderLease(PostgresStore& store, std::unique_ptr<Connection> connection)
        : store_(&store), connection_(std::move(connection)) {}
    ReaderLease(ReaderLease&& other) noexcept : store_(other.store_), connection_(std::move(other.connection_)) {}
    ReaderLease& operator=(ReaderLease&&) = delete;
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ~ReaderLease() {
      if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
    }
    Connection& Get() { return *connection_; }

   private:
    PostgresStore* store_;
    std::unique_ptr<Connection> connection_;
  };

  Result<ReaderLease> AcquireReader() {
    std::unique_lock lock(readers_mutex_);
    // Bounded wait: a Read nested in a Read with every connection taken must fail, not hang.
    const bool available = reader_released_.wait_for(
        lock, options_.busy_timeout, [&] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!available) return Fail(Error::Unavailable("every reader connection is busy"));
    if (!idle_readers_.empty()) {
      auto connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(*this, std::move(connection));
    }
    ++open_readers_;
    lock.unlock();
    auto opened = Connection::Open(conninfo_, options_);
    if (!opened) {
      lock.lock();
      --open_readers_;
      reader_released_.notify_one();
      return Fail(opened.error());
    }
    return ReaderLease(*this, std::move(*opened));
  }

  // noexcept in effect: idle_readers_ has room for every connection (reserved at construction).
  void ReleaseReader(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(readers_mutex_);
      if (connection->Broken()) {
        --open_readers_;  // closed here; the next Read opens a fresh one
        connection.reset();
      } else {
        idle_readers_.push_back(std::move(connection));
      }
    }
    reader_released_.notify_one();
  }

  const std::string conninfo_;  // holds the password: never logged, never in an error
  const PostgresOptions options_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;
  // The thread inside Write(), read without the lock only to compare with the caller's own id.
  std::atomic<std::thread::id> writer_thread_{};

  std::mutex readers_mutex_;
  std::condition_variable reader_released_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  int open_readers_ = 0;  // idle plus lent out
};

// --- Redaction

bool IsKeywordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string RedactUrl(std::string_view url, std::size_t scheme_end) {
  std::string out(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end);
  const std::size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out += userinfo.substr(0, colon);
      out += ":***";
    } else {
      out += userinfo;
    }
    out += authority.substr(at);
  } else {
    out += authority;
  }
  rest.remove_prefix(authority_end);
  const std::size_t query = rest.find('?');
  if (query == std::string_view::npos) return out + std::string(rest);
  out += rest.substr(0, query + 1);
  std::string_view params = rest.substr(query + 1);
  bool first = true;
  while (true) {
    const std::size_t amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && param.substr(0, eq) == "password") {
      out += "password=***";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    params.remove_prefix(amp + 1);
  }
  return out;
}

// keyword = value pairs; a value is unquoted up to whitespace, or single-quoted with \ escapes.
// nullopt when the text does not have that shape.
std::optional<std::string> RedactKeywordValue(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (IsSpace(text[i])) {
      out += text[i++];
      continue;
    }
    const std::size_t key_start = i;
    while (i < text.size() && IsKeywordChar(text[i])) ++i;
    if (i == key_start) return std::nullopt;
    const std::string_view key = text.substr(key_start, i - key_start);
    out += key;
    while (i < text.size() && IsSpace(text[i])) out += text[i++];
    if (i == text.size() || text[i] != '=') return std::nullopt;
    out += text[i++];
    while (i < text.size() && IsSpace(text[i])) out += text[i++];
    const std::size_t value_start = i;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      while (i < text.size() && text[i] != '\'') i += (text[i] == '\\' && i + 1 < text.size()) ? 2 : 1;
      if (i == text.size()) return std::nullopt;  // unterminated quote
      ++i;
    } else {
      while (i < text.size() && !IsSpace(text[i])) ++i;
    }
    if (key == "password") {
      out += "***";
    } else {
      out += text.substr(value_start, i - value_start);
    }
  }
  return out;
}

}  // namespace

std::string RedactConninfo(std::string_view conninfo) {
  for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (conninfo.starts_with(scheme)) return RedactUrl(conninfo, scheme.size());
  }
  if (auto redacted = RedactKeywordValue(conninfo)) return *std::move(redacted);
  // Neither form: it might still hold a password somewhere, so show nothing of it.
  return "(unparsable connection string)";
}

int LatestSchemaVersion() { return detail::Migrations().back().version; }

Result<std::unique_ptr<core::Store>> OpenPostgresStore(std::string conninfo, PostgresOptions options) {
  HIKESHI_CHECK(detail::CheckOptions(options));
  try {
    {
      // Migrations run on a connection of their own, which waits without a lock timeout.
      HIKESHI_TRY(auto migrator, Connection::Open(conninfo, options));
      HIKESHI_CHECK(detail::Migrate(*migrator));
    }
    HIKESHI_TRY(auto writer, Connection::Open(conninfo, options));
    return std::make_unique<PostgresStore>(std::move(conninfo), options, std::move(writer));
  } catch (const std::bad_alloc&) {
    return Fail(Error::Internal("out of memory opening the store"));
  }
}

}  // namespace hikeshi::store::postgres
