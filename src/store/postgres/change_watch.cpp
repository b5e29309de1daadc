#include "hikeshi/store/postgres/change_watch.hpp"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "detail/connection.hpp"

namespace hikeshi::store::postgres {
namespace {

using detail::Connection;

struct NotifyFree {
  void operator()(PGnotify* notify) const noexcept { PQfreemem(notify); }
};
using NotifyHandle = std::unique_ptr<PGnotify, NotifyFree>;

// An eventfd that wakes the watch's thread out of poll() when the watch is destroyed.
class WakeFd {
 public:
  WakeFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~WakeFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void Wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
  }

 private:
  int fd_;
};

class PostgresChangeWatch final : public core::ChangeWatch {
 public:
  PostgresChangeWatch(std::string conninfo, core::ChangeSignal& signal, ChangeWatchOptions options,
                      std::unique_ptr<Connection> connection)
      : conninfo_(std::move(conninfo)),
        signal_(signal),
        options_(std::move(options)),
        connection_(std::move(connection)),
        thread_([this](std::stop_token stop) { Run(stop); }) {}

  ~PostgresChangeWatch() override {
    thread_.request_stop();
    wake_.Wake();
    thread_.join();
  }
  PostgresChangeWatch(const PostgresChangeWatch&) = delete;
  PostgresChangeWatch& operator=(const PostgresChangeWatch&) = delete;

  // LISTEN first, then read the journal's end: a commit after the LISTEN is notified, one before it
  // is in the end read, so none falls between.
  static Result<std::unique_ptr<Connection>> Listen(const std::string& conninfo, const PostgresOptions& options,
                                                    core::ChangeSignal& signal) {
    HIKESHI_TRY(auto connection, Connection::Open(conninfo, options));
    const std::string listen = fmt::format("LISTEN {}", kChangeChannel);
    HIKESHI_CHECK(connection->Execute(listen.c_str()));
    HIKESHI_TRY(const auto rows, connection->Exec("SELECT COALESCE(MAX(seq), 0) FROM audit"));
    if (!rows.Empty()) signal.Publish(rows.Int(0, 0));
    return connection;
  }

 private:
  void Run(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (connection_ == nullptr || connection_->Broken()) {
        connection_.reset();
        auto opened = Listen(conninfo_, options_.connection, signal_);
        if (!opened) {
          Trouble(opened.error().message());
          Sleep(options_.reconnect_delay);
          continue;
        }
        connection_ = std::move(*opened);
      }
      PGconn* conn = connection_->Raw();
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
      if (fds[0].fd < 0) {
        connection_.reset();
        continue;
      }
      // Bounded, so that the thread still notices a stop request if the eventfd could not be made.
      if (::poll(fds, 2, 1000) < 0) {
        if (errno == EINTR) continue;
        Trouble(fmt::format("waiting for change notifications failed (errno {})", errno));
        Sleep(options_.reconnect_delay);
        continue;
      }
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      if (PQconsumeInput(conn) == 0) {
        Trouble("lost the PostgreSQL connection that listens for changes; reconnecting");
        connection_.reset();
        continue;
      }
      for (NotifyHandle notify(PQnotifies(conn)); notify != nullptr; notify.reset(PQnotifies(conn))) {
        const std::string_view payload = notify->extra == nullptr ? "" : notify->extra;
        std::int64_t seq = 0;
        const auto [ptr, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), seq);
        if (ec == std::errc() && ptr == payload.data() + payload.size()) signal_.Publish(seq);
      }
    }
  }

  // Waits `delay`, or less when the watch is being destroyed.
  void Sleep(std::chrono::milliseconds delay) const {
    pollfd fd{wake_.fd(), POLLIN, 0};
    [[maybe_unused]] const int ready = ::poll(&fd, 1, static_cast<int>(delay.count()));
  }

  void Trouble(std::string_view message) const {
    if (options_.on_trouble) options_.on_trouble(message);
  }

  const std::string conninfo_;  // holds the password: never logged, never in an error
  core::ChangeSignal& signal_;
  const ChangeWatchOptions options_;
  std::unique_ptr<Connection> connection_;  // used only by thread_ once it runs
  WakeFd wake_;
  std::jthread thread_;  // last: starts once everything it uses exists
};

}  // namespace

Result<std::unique_ptr<core::ChangeWatch>> WatchPostgresChanges(std::string conninfo, core::ChangeSignal& signal,
                                                                ChangeWatchOptions options) {
  HIKESHI_CHECK(detail::CheckOptions(options.connection));
  HIKESHI_TRY(auto connection, PostgresChangeWatch::Listen(conninfo, options.connection, signal));
  return std::make_unique<PostgresChangeWatch>(std::move(conninfo), signal, std::move(options), std::move(connection));
}

}  // namespace hikeshi::store::postgres
