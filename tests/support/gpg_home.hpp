#pragma once
// A throw-away gpg home for tests, driven through the real `gpg` command line, so that tests check
// Hikeshi against what an outside party's gpg really produces and reads, not against Hikeshi itself.
// One TestGpgHome is one party (the team, a peer CSIRT, a reporter): it makes keys (ed25519 with a
// cv25519 encryption subkey, optionally already expired), revokes them, exports and imports armoured
// keys, and encrypts, signs, decrypts and verifies as that party would.
//
// Homes live under /tmp/hk-gpg-XXXXXX: gpg-agent's socket goes in the home, and a Unix socket path
// is limited to 107 bytes. The destructor stops the home's gpg-agent (gpgconf --kill all), waits
// until it has exited, and removes the directory.
//
// Thread-safety: a TestGpgHome is used from one thread at a time.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::testing {

struct GpgRun {
  bool succeeded = false;  // gpg exited 0
  std::string status;      // exit status as text ("exit 2")
  std::string out;         // stdout: the data produced
  std::string err;         // stderr: gpg's messages and its "[GNUPG:] ..." status lines (--status-fd 2)

  // True when a "[GNUPG:] <keyword> ..." status line was printed; `rest`, when given, must be what
  // follows the keyword up to the end of the line or the next space, e.g. HasStatus("VALIDSIG", fpr).
  bool HasStatus(std::string_view keyword, std::string_view rest = {}) const;
};

struct TestKeyOptions {
  // gpg's expiry argument for the primary key and the subkey: "never", "1d", "2y", "seconds=5".
  // Combine with SetFakedSystemTime to make a key that has already expired.
  std::string expire = "never";
  bool encryption_subkey = true;  // add a cv25519 encryption subkey
};

// Movable, not copyable.
class TestGpgHome {
 public:
  // Errors: kUnavailable when the directory cannot be created.
  [[nodiscard]] static Result<TestGpgHome> Create();

  TestGpgHome(TestGpgHome&& other) noexcept;
  TestGpgHome& operator=(TestGpgHome&& other) noexcept;
  TestGpgHome(const TestGpgHome&) = delete;
  TestGpgHome& operator=(const TestGpgHome&) = delete;
  ~TestGpgHome();

  const std::filesystem::path& path() const { return path_; }

  // Later gpg runs in this home believe it is `time` (gpg's --faked-system-time, e.g.
  // "20200101T000000"); an empty string returns to the real time.
  void SetFakedSystemTime(std::string time) { faked_time_ = std::move(time); }

  // Generates a key pair without a passphrase; returns the primary key's fingerprint.
  [[nodiscard]] Result<std::string> GenerateKey(std::string_view user_id, const TestKeyOptions& options = {});
  // Revokes the key by importing the revocation certificate gpg stored when it made the key.
  [[nodiscard]] Result<void> Revoke(std::string_view fingerprint);
  [[nodiscard]] Result<std::string> ExportPublicKey(std::string_view fingerprint);
  [[nodiscard]] Result<void> ImportKeys(std::string_view armoured);

  // ASCII-armoured output, as `gpg --trust-model always` with the given recipients and signer.
  [[nodiscard]] Result<std::string> EncryptAndSign(std::string_view plaintext,
                                                   const std::vector<std::string>& recipients, std::string_view signer);
  [[nodiscard]] Result<std::string> Encrypt(std::string_view plaintext, const std::vector<std::string>& recipients);
  [[nodiscard]] Result<std::string> ClearSign(std::string_view text, std::string_view signer);
  [[nodiscard]] Result<std::string> DetachSign(std::string_view data, std::string_view signer);

  // `gpg --decrypt` (or --verify for signed data); the run is returned whether or not gpg succeeded.
  [[nodiscard]] Result<GpgRun> Decrypt(std::string_view message);
  [[nodiscard]] Result<GpgRun> VerifyDetached(std::string_view data, std::string_view signature);

  // Runs gpg in this home with `args` after the common options (--batch, --homedir, --status-fd 2,
  // loopback pinentry with an empty passphrase). Errors: kUnavailable when gpg cannot be started,
  // kDeadlineExceeded when it runs for more than a minute.
  [[nodiscard]] Result<GpgRun> Run(const std::vector<std::string>& args, std::string_view stdin_data = {});

  // The gpg-agent processes started for this home (found through /proc).
  std::vector<pid_t> AgentPids() const;
  // Stops this home's gpg daemons and waits up to `timeout` for the agent to exit.
  // Errors: kDeadlineExceeded when an agent is still running after it.
  [[nodiscard]] Result<void> StopAgent(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  explicit TestGpgHome(std::filesystem::path path) : path_(std::move(path)) {}
  Result<std::string> RunForOutput(const std::vector<std::string>& args, std::string_view stdin_data,
                                   std::string_view what);

  std::filesystem::path path_;
  std::string faked_time_;
};

// gpg-agent processes whose command line names `home` as their --homedir.
std::vector<pid_t> GpgAgentPidsFor(const std::filesystem::path& home);

}  // namespace hikeshi::testing
