#pragma once
// A child process for tests that run the real `hikeshi` binary: fork/exec with arguments and
// environment, stdout and stderr captured to files (files, not pipes, so a chatty child can never
// block on a full pipe that nobody drains), waits with timeouts, signals, and a destructor that
// kills and reaps whatever is still running so no test leaves a server behind.
//
// Thread-safety: a ChildProcess is used from one thread at a time.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::testing {

struct ChildProcessOptions {
  std::string program{};                                   // a path, or a bare name looked up in PATH
  std::vector<std::string> args{};                         // argv[1..]; argv[0] is `program`
  bool inherit_env = true;                                 // start from this process's environment
  std::vector<std::pair<std::string, std::string>> env{};  // set or override, applied after inheriting
  std::vector<std::string> unset_env{};                    // removed after inheriting
  std::string working_directory{};                         // empty: this process's
  std::string stdin_data{};                                // the child's stdin; it sees EOF after it
  // Where stdout and stderr go. Empty: a temporary file, removed when the ChildProcess is.
  std::string stdout_path{};
  std::string stderr_path{};
  // Asks the kernel to SIGKILL the child when the thread that spawned it exits, so a test that
  // crashes leaves nothing running. Spawn from a thread that outlives the child (the test body).
  bool kill_with_parent = true;
};

struct ExitStatus {
  bool exited = false;  // exited normally, with `code`
  int code = -1;
  int signal = 0;  // killed by this signal when !exited

  bool Succeeded() const { return exited && code == 0; }
  bool KilledBy(int sig) const { return !exited && signal == sig; }
  std::string ToString() const;  // "exit 0", "killed by signal 9 (Killed)"
};

// Movable, not copyable. The destructor SIGKILLs the child's process group if the child is still
// running, reaps it, and removes temporary output files.
class ChildProcess {
 public:
  enum class Stream { kStdout, kStderr, kEither };

  // Errors: kInvalidArgument when the program cannot be found, kUnavailable when fork, exec or the
  // output files fail (the message carries errno's text).
  [[nodiscard]] static Result<ChildProcess> Spawn(ChildProcessOptions options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // False once the child has exited (and been reaped by this call or an earlier one).
  bool Running();
  // Waits for the child to exit. Errors: kDeadlineExceeded when it is still running after `timeout`.
  [[nodiscard]] Result<ExitStatus> Wait(std::chrono::milliseconds timeout);
  // Sends `signal` to the child (not its group). Errors: kFailedPrecondition when it has exited.
  [[nodiscard]] Result<void> Signal(int signal);
  // SIGKILLs the child's process group and reaps the child.
  ExitStatus Kill();

  // Everything written so far.
  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

  // Waits until the output contains `needle` and returns the line it is on (without the newline),
  // e.g. "listening on 127.0.0.1:41234". Errors: kDeadlineExceeded after `timeout`, kUnavailable when
  // the child exits without printing it (the message includes the exit status and stderr's tail).
  [[nodiscard]] Result<std::string> WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout,
                                                  Stream stream = Stream::kEither);

 private:
  ChildProcess() = default;
  void Reap(int wait_status);
  void Release();

  pid_t pid_ = -1;
  bool reaped_ = false;
  ExitStatus status_;
  std::string stdout_path_;
  std::string stderr_path_;
  std::string temp_dir_;  // holds the temporary files; removed with them
};

}  // namespace hikeshi::testing
