#pragma once
// A running Hikeshi for end-to-end tests: a fresh data directory prepared with the real CLI, and
// `hikeshi serve` on an ephemeral 127.0.0.1 port. Also small HTTP+JSON conveniences.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_client.hpp"

namespace hikeshi::e2e {

inline const std::string kAdminPassword = "admin-password-for-tests";
inline const std::string kUserPassword = "user-password-for-tests";

struct CliResult {
  testing::ExitStatus status;
  std::string out;
  std::string err;
};

// Runs `hikeshi ARGS...` to completion (60 s at most) with extra environment variables.
CliResult RunCli(const std::vector<std::string>& args,
                 const std::vector<std::pair<std::string, std::string>>& env = {});

// A data directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class Server {
 public:
  // Starts `hikeshi serve --data DIR` with extra flags and waits until it listens.
  static std::unique_ptr<Server> Start(const std::filesystem::path& data, const std::vector<std::string>& flags = {});
  ~Server();
  std::uint16_t port() const { return port_; }
  testing::ChildProcess& process() { return *process_; }
  // SIGTERM, then wait; returns how it ended.
  testing::ExitStatus Stop();

  // One request on a fresh connection. `auth` is a bearer token, or empty.
  testing::HttpClientResponse Call(const std::string& method, const std::string& target, const std::string& auth,
                                   const std::string& body = "",
                                   std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  std::optional<testing::ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// Parses a response body as JSON (null on failure, which the test's assertions then catch).
nlohmann::json Body(const testing::HttpClientResponse& response);
// Percent-encodes a query value.
std::string UrlEncode(std::string_view text);

}  // namespace hikeshi::e2e
