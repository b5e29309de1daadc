#include "e2e_fixture.hpp"

#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace hikeshi::e2e {

using std::chrono::milliseconds;
using std::chrono::seconds;

CliResult RunCli(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env) {
  testing::ChildProcessOptions options;
  options.program = HIKESHI_BINARY;
  options.args = args;
  options.env = env;
  auto child = testing::ChildProcess::Spawn(options);
  if (!child) {
    ADD_FAILURE() << "cannot run hikeshi: " << child.error().message();
    return {};
  }
  auto status = child->Wait(milliseconds(60'000));
  if (!status) {
    ADD_FAILURE() << "hikeshi " << (args.empty() ? "" : args[0]) << " did not finish: " << status.error().message();
    return {child->Kill(), child->Stdout(), child->Stderr()};
  }
  return {*status, child->Stdout(), child->Stderr()};
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("hikeshi-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<Server> Server::Start(const std::filesystem::path& data, const std::vector<std::string>& flags) {
  auto server = std::make_unique<Server>();
  const auto port_file = data.parent_path() / (data.filename().string() + ".port");
  std::filesystem::remove(port_file);
  testing::ChildProcessOptions options;
  options.program = HIKESHI_BINARY;
  options.args = {"serve", "--data", data.string(), "--listen", "127.0.0.1:0", "--port-file", port_file.string()};
  options.args.insert(options.args.end(), flags.begin(), flags.end());
  auto child = testing::ChildProcess::Spawn(options);
  if (!child) {
    ADD_FAILURE() << "cannot start hikeshi serve: " << child.error().message();
    return nullptr;
  }
  server->process_.emplace(std::move(*child));
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      server->port_ = static_cast<std::uint16_t>(port);
      break;
    }
    if (!server->process_->Running()) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (server->port_ == 0) {
    ADD_FAILURE() << "hikeshi serve did not start; stderr:\n" << server->process_->Stderr();
    return nullptr;
  }
  if (!testing::WaitUntilListening(server->port_, milliseconds(10'000))) {
    ADD_FAILURE() << "hikeshi serve is not listening on " << server->port_;
    return nullptr;
  }
  return server;
}

Server::~Server() {
  if (process_ && process_->Running()) Stop();
}

testing::ExitStatus Server::Stop() {
  if (!process_ || !process_->Running()) return process_ ? process_->Kill() : testing::ExitStatus{};
  (void)process_->Signal(SIGTERM);
  auto status = process_->Wait(milliseconds(30'000));
  if (!status) return process_->Kill();
  return *status;
}

testing::HttpClientResponse Server::Call(const std::string& method, const std::string& target, const std::string& auth,
                                         const std::string& body,
                                         std::vector<std::pair<std::string, std::string>> headers) {
  testing::HttpClientRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!auth.empty()) headers.emplace_back("Authorization", "Bearer " + auth);
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  request.headers = std::move(headers);
  auto response = testing::Fetch(port_, request, milliseconds(30'000));
  if (!response) {
    ADD_FAILURE() << method << " " << target << " failed: " << response.error().message();
    return {};
  }
  return std::move(*response);
}

nlohmann::json Body(const testing::HttpClientResponse& response) {
  return nlohmann::json::parse(response.body, nullptr, false);
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace hikeshi::e2e
