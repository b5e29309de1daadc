// An LMTP client for bench/lmtp_bench.sh: delivers every DIR/*.eml over CONNECTIONS concurrent
// sessions (as an MTA does, one message after another on each, RFC 2033) and prints how many were
// answered 250 and how fast. `--sink` first starts Hikeshi's own LMTP listener in this process with
// a delivery that stores nothing: the floor of network, protocol and client, measured in the same run.
//
//   lmtp_load PORT DIR CONNECTIONS        against a running `hikeshi serve --lmtp`
//   lmtp_load --sink DIR CONNECTIONS      against an in-process listener that stores nothing

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hikeshi/intake/lmtp/lmtp_server.hpp"

namespace {

namespace fs = std::filesystem;

// Dot-stuffing and the final "." (RFC 5321 4.5.2), CRLF line ends.
std::string DataOf(const std::string& message) {
  std::string out;
  out.reserve(message.size() + 64);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += c;
    line_start = c == '\n';
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out;
}

class Session {
 public:
  explicit Session(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Session() {
    if (fd_ >= 0) ::close(fd_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool Send(std::string_view bytes) {
    while (ok_ && !bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok_ = false;
      if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_;
  }
  // The last line of the next reply ("" once the connection is gone).
  std::string Reply() {
    for (;;) {
      const std::size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        if (line.size() >= 4 && line[3] == '-') continue;
        return line;
      }
      std::array<char, 4096> chunk;
      const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok_ = false;
        return {};
      }
      buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string buffer_;
};

std::vector<std::string> ReadMessages(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  out.reserve(files.size());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    out.push_back(DataOf(std::string(std::istreambuf_iterator<char>(in), {})));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: lmtp_load PORT|--sink DIR CONNECTIONS\n");
    return 2;
  }
  const bool sink = std::string_view(argv[1]) == "--sink";
  const std::vector<std::string> messages = ReadMessages(argv[2]);
  const int connections = std::max(1, std::atoi(argv[3]));
  if (messages.empty()) {
    std::fprintf(stderr, "lmtp_load: no .eml files in %s\n", argv[2]);
    return 2;
  }

  std::unique_ptr<hikeshi::intake::lmtp::LmtpServer> server;
  std::uint16_t port = 0;
  if (sink) {
    hikeshi::intake::lmtp::LmtpOptions options;
    options.listen = "127.0.0.1:0";
    auto started = hikeshi::intake::lmtp::LmtpServer::Start(
        options, [](const hikeshi::intake::lmtp::LmtpEnvelope& envelope, std::string) {
          return std::vector<hikeshi::Result<void>>(envelope.recipients.size());
        });
    if (!started) {
      std::fprintf(stderr, "lmtp_load: %s\n", started.error().message().c_str());
      return 1;
    }
    server = std::move(*started);
    port = server->Port();
  } else {
    port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  }

  std::atomic<std::size_t> next{0};
  std::atomic<int> stored{0};
  std::atomic<int> refused{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      Session session(port);
      if (session.Reply().substr(0, 3) != "220" || !session.Send(fmt::format("LHLO load{}\r\n", c)) ||
          session.Reply().substr(0, 3) != "250") {
        return;
      }
      for (std::size_t i = next++; i < messages.size(); i = next++) {
        session.Send(fmt::format("MAIL FROM:<bench{}@example.org>\r\nRCPT TO:<cert@example.jp>\r\nDATA\r\n", i));
        if (session.Reply().substr(0, 3) != "250" || session.Reply().substr(0, 3) != "250" ||
            session.Reply().substr(0, 3) != "354") {
          ++refused;
          return;
        }
        session.Send(messages[i]);
        (session.Reply().substr(0, 3) == "250" ? stored : refused)++;
        if (!session.ok()) return;
      }
      session.Send("QUIT\r\n");
      session.Reply();
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d connections: %zu messages, %d answered 250, %d not; %.2f s, %.0f messages/s\n", connections,
              messages.size(), stored.load(), refused.load(), seconds, stored.load() / seconds);
  return stored.load() == static_cast<int>(messages.size()) ? 0 : 1;
}
