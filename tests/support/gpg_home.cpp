#include "support/gpg_home.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

#include "support/child_process.hpp"

namespace hikeshi::testing {
namespace {

constexpr std::string_view kStatusPrefix = "[GNUPG:] ";
constexpr std::chrono::seconds kGpgTimeout(60);

std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The value after "[GNUPG:] <keyword> " on the first such line, up to the next space or newline.
std::string StatusField(std::string_view status, std::string_view keyword, std::size_t index) {
  std::size_t pos = 0;
  while ((pos = status.find(kStatusPrefix, pos)) != std::string_view::npos) {
    pos += kStatusPrefix.size();
    std::size_t end = status.find('\n', pos);
    std::string_view line = status.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (line.substr(0, line.find(' ')) != keyword) continue;
    for (std::size_t i = 0; i <= index; ++i) {
      std::size_t space = line.find(' ');
      if (space == std::string_view::npos) return {};
      line.remove_prefix(space + 1);
    }
    return std::string(line.substr(0, line.find(' ')));
  }
  return {};
}

}  // namespace

bool GpgRun::HasStatus(std::string_view keyword, std::string_view rest) const {
  std::size_t pos = 0;
  while ((pos = err.find(kStatusPrefix, pos)) != std::string::npos) {
    pos += kStatusPrefix.size();
    std::size_t end = err.find('\n', pos);
    std::string_view line = std::string_view(err).substr(pos, end == std::string::npos ? end : end - pos);
    std::size_t space = line.find(' ');
    if (line.substr(0, space) != keyword) continue;
    if (rest.empty()) return true;
    if (space == std::string_view::npos) continue;
    std::string_view after = line.substr(space + 1);
    if (after.substr(0, after.find(' ')) == rest) return true;
  }
  return false;
}

Result<TestGpgHome> TestGpgHome::Create() {
  std::string templ = "/tmp/hk-gpg-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Fail(Error::Unavailable("mkdtemp " + templ + ": " + std::strerror(errno)));
  }
  return TestGpgHome(std::filesystem::path(templ));
}

TestGpgHome::TestGpgHome(TestGpgHome&& other) noexcept
    : path_(std::exchange(other.path_, {})), faked_time_(std::move(other.faked_time_)) {}

TestGpgHome& TestGpgHome::operator=(TestGpgHome&& other) noexcept {
  if (this != &other) {
    TestGpgHome doomed(std::move(*this));
    path_ = std::exchange(other.path_, {});
    faked_time_ = std::move(other.faked_time_);
  }
  return *this;
}

TestGpgHome::~TestGpgHome() {
  if (path_.empty()) return;
  (void)StopAgent();
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<GpgRun> TestGpgHome::Run(const std::vector<std::string>& args, std::string_view stdin_data) {
  ChildProcessOptions options;
  options.program = "gpg";
  options.args = {"--batch", "--no-tty",        "--homedir", path_.string(), "--status-fd",
                  "2",       "--pinentry-mode", "loopback",  "--passphrase", ""};
  if (!faked_time_.empty()) {
    options.args.push_back("--faked-system-time");
    options.args.push_back(faked_time_);
  }
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.unset_env = {"GNUPGHOME"};
  options.stdin_data = std::string(stdin_data);
  HIKESHI_TRY(ChildProcess child, ChildProcess::Spawn(std::move(options)));
  auto status = child.Wait(kGpgTimeout);
  if (!status) {
    child.Kill();
    return Fail(status.error());
  }
  return GpgRun{status->Succeeded(), status->ToString(), child.Stdout(), child.Stderr()};
}

Result<std::string> TestGpgHome::RunForOutput(const std::vector<std::string>& args, std::string_view stdin_data,
                                              std::string_view what) {
  HIKESHI_TRY(GpgRun run, Run(args, stdin_data));
  if (!run.succeeded) {
    return Fail(Error::Internal("gpg " + std::string(what) + " failed (" + run.status + "): " + run.err));
  }
  return std::move(run.out);
}

Result<std::string> TestGpgHome::GenerateKey(std::string_view user_id, const TestKeyOptions& options) {
  HIKESHI_TRY(GpgRun made, Run({"--quick-gen-key", std::string(user_id), "ed25519", "sign,cert", options.expire}));
  if (!made.succeeded) return Fail(Error::Internal("gpg --quick-gen-key failed (" + made.status + "): " + made.err));
  std::string fingerprint = StatusField(made.err, "KEY_CREATED", 1);
  if (fingerprint.empty()) return Fail(Error::Internal("gpg printed no KEY_CREATED line: " + made.err));
  if (options.encryption_subkey) {
    HIKESHI_TRY(auto unused, RunForOutput({"--quick-add-key", fingerprint, "cv25519", "encr", options.expire}, {},
                                          "--quick-add-key"));
    (void)unused;
  }
  return fingerprint;
}

Result<void> TestGpgHome::Revoke(std::string_view fingerprint) {
  std::filesystem::path rev = path_ / "openpgp-revocs.d" / (std::string(fingerprint) + ".rev");
  std::string certificate = ReadWholeFile(rev);
  // gpg prefixes the armour line with ':' so that the file cannot be imported by accident.
  std::size_t colon = certificate.find(":-----BEGIN PGP PUBLIC KEY BLOCK-----");
  if (colon == std::string::npos) return Fail(Error::NotFound("revocation certificate " + rev.string()));
  certificate.erase(colon, 1);
  return ImportKeys(certificate);
}

Result<std::string> TestGpgHome::ExportPublicKey(std::string_view fingerprint) {
  HIKESHI_TRY(std::string armour, RunForOutput({"--armor", "--export", std::string(fingerprint)}, {}, "--export"));
  if (armour.empty()) return Fail(Error::NotFound("key " + std::string(fingerprint)));
  return armour;
}

Result<void> TestGpgHome::ImportKeys(std::string_view armoured) {
  HIKESHI_TRY(auto unused, RunForOutput({"--import"}, armoured, "--import"));
  (void)unused;
  return {};
}

Result<std::string> TestGpgHome::EncryptAndSign(std::string_view plaintext, const std::vector<std::string>& recipients,
                                                std::string_view signer) {
  std::vector<std::string> args = {"--trust-model",     "always", "--armor",  "--local-user",
                                   std::string(signer), "--sign", "--encrypt"};
  for (const std::string& r : recipients) {
    args.push_back("--recipient");
    args.push_back(r);
  }
  return RunForOutput(args, plaintext, "--sign --encrypt");
}

Result<std::string> TestGpgHome::Encrypt(std::string_view plaintext, const std::vector<std::string>& recipients) {
  std::vector<std::string> args = {"--trust-model", "always", "--armor", "--encrypt"};
  for (const std::string& r : recipients) {
    args.push_back("--recipient");
    args.push_back(r);
  }
  return RunForOutput(args, plaintext, "--encrypt");
}

Result<std::string> TestGpgHome::ClearSign(std::string_view text, std::string_view signer) {
  return RunForOutput({"--local-user", std::string(signer), "--clearsign"}, text, "--clearsign");
}

Result<std::string> TestGpgHome::DetachSign(std::string_view data, std::string_view signer) {
  return RunForOutput({"--armor", "--local-user", std::string(signer), "--detach-sign"}, data, "--detach-sign");
}

Result<GpgRun> TestGpgHome::Decrypt(std::string_view message) {
  return Run({"--trust-model", "always", "--decrypt"}, message);
}

Result<GpgRun> TestGpgHome::VerifyDetached(std::string_view data, std::string_view signature) {
  // gpg reads the signature from a file and the data from stdin ("-").
  std::filesystem::path sig_file = path_ / "detached.sig";
  {
    std::ofstream out(sig_file, std::ios::binary | std::ios::trunc);
    out.write(signature.data(), static_cast<std::streamsize>(signature.size()));
    if (!out) return Fail(Error::Unavailable("cannot write " + sig_file.string()));
  }
  auto run = Run({"--trust-model", "always", "--verify", sig_file.string(), "-"}, data);
  std::error_code ec;
  std::filesystem::remove(sig_file, ec);
  return run;
}

std::vector<pid_t> TestGpgHome::AgentPids() const { return GpgAgentPidsFor(path_); }

Result<void> TestGpgHome::StopAgent(std::chrono::milliseconds timeout) {
  ChildProcessOptions options;
  options.program = "gpgconf";
  options.args = {"--homedir", path_.string(), "--kill", "all"};
  options.unset_env = {"GNUPGHOME"};
  HIKESHI_TRY(ChildProcess child, ChildProcess::Spawn(std::move(options)));
  auto status = child.Wait(kGpgTimeout);
  if (!status) child.Kill();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!AgentPids().empty()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(Error::DeadlineExceeded("gpg-agent for " + path_.string() + " is still running"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

std::vector<pid_t> GpgAgentPidsFor(const std::filesystem::path& home) {
  std::vector<pid_t> pids;
  std::error_code ec;
  const std::string wanted = home.string();
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadWholeFile(entry.path() / "cmdline");
    std::vector<std::string> argv;
    std::size_t start = 0;
    while (start < cmdline.size()) {
      std::size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      argv.emplace_back(cmdline.substr(start, end - start));
      start = end + 1;
    }
    if (argv.empty() || std::filesystem::path(argv[0]).filename() != "gpg-agent") continue;
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--homedir" && std::filesystem::path(argv[i + 1]).lexically_normal() == home.lexically_normal()) {
        pids.push_back(static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10)));
        break;
      }
    }
  }
  return pids;
}

}  // namespace hikeshi::testing
