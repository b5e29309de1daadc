#include "support/child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace hikeshi::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What the child reports through the exec pipe when it fails before or at exec.
struct SpawnFailure {
  int step;  // index into kSpawnSteps
  int err;
};
constexpr const char* kSpawnSteps[] = {"open stdin", "open stdout", "open stderr", "chdir", "exec"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

Result<std::string> FindProgram(const std::string& program) {
  if (program.empty()) return Fail(Error::InvalidArgument("no program given"));
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) != 0) {
      return Fail(Error::InvalidArgument(program + " is not executable: " + std::strerror(errno)));
    }
    // Absolute, because the child changes directory (working_directory) before exec.
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(program, ec);
    return ec ? program : absolute.string();
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return Fail(Error::InvalidArgument(program + " not found in PATH"));
}

std::vector<std::string> BuildEnvironment(const ChildProcessOptions& options) {
  std::vector<std::string> env;
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  auto overridden = [&](std::string_view name) {
    return std::any_of(options.env.begin(), options.env.end(), [&](const auto& kv) { return kv.first == name; }) ||
           std::find(options.unset_env.begin(), options.unset_env.end(), name) != options.unset_env.end();
  };
  if (options.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      if (!overridden(name_of(*e))) env.emplace_back(*e);
    }
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> PointerArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until exec, because the parent may have
// had other threads (holding malloc or sanitizer locks) at the moment of fork().
[[noreturn]] void ExecChild(const ChildProcessOptions& options, pid_t parent, const char* program, char** argv,
                            char** envp, const char* stdin_path, const char* stdout_path, const char* stderr_path,
                            int report_fd) {
  auto fail = [report_fd](int step) {
    SpawnFailure failure{step, errno};
    [[maybe_unused]] auto ignored = ::write(report_fd, &failure, sizeof(failure));
    ::_exit(127);
  };
  if (options.kill_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  }
  // Its own process group, so that killing the group also takes any grandchildren.
  ::setpgid(0, 0);
  // The test process may block or ignore signals (gtest, sanitizers, asio signal sets); the
  // program under test must start with the defaults, or SIGTERM tests would prove nothing.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &defaults, nullptr);
  }
  const char* paths[] = {stdin_path, stdout_path, stderr_path};
  for (int fd = 0; fd < 3; ++fd) {
    int flags = fd == 0 ? O_RDONLY : (O_WRONLY | O_CREAT | O_APPEND);
    int opened = ::open(paths[fd], flags | O_CLOEXEC, 0644);
    if (opened < 0) fail(fd);
    if (::dup2(opened, fd) < 0) fail(fd);  // dup2 clears O_CLOEXEC on the copy
    if (opened != fd) ::close(opened);
  }
  // Descriptors the test process did not mark close-on-exec (listening sockets, for one) must not
  // leak into the child, or a port would stay bound after the test closed it.
  if (report_fd > 3) ::close_range(3, static_cast<unsigned>(report_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(report_fd) + 1, ~0U, 0);
  if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0) fail(3);
  ::execve(program, argv, envp);
  fail(4);
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return "exit " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

Result<ChildProcess> ChildProcess::Spawn(ChildProcessOptions options) {
  HIKESHI_TRY(std::string program, FindProgram(options.program));

  ChildProcess child;
  std::string temp_template =
      std::string(std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp") + "/hikeshi-child-XXXXXX";
  if (::mkdtemp(temp_template.data()) == nullptr) {
    return Fail(Error::Unavailable("mkdtemp " + temp_template + ": " + std::strerror(errno)));
  }
  child.temp_dir_ = temp_template;
  child.stdout_path_ = options.stdout_path.empty() ? child.temp_dir_ + "/stdout" : options.stdout_path;
  child.stderr_path_ = options.stderr_path.empty() ? child.temp_dir_ + "/stderr" : options.stderr_path;
  std::string stdin_path = child.temp_dir_ + "/stdin";
  // Created (and truncated) up front so Stdout() works even before the child writes anything.
  if (!WriteFile(stdin_path, options.stdin_data) || !WriteFile(child.stdout_path_, "") ||
      !WriteFile(child.stderr_path_, "")) {
    return Fail(Error::Unavailable("cannot create the child's stdin/stdout/stderr files"));
  }

  // Everything the child needs is built before fork(): after it, the child may not allocate.
  std::vector<std::string> arg_strings;
  arg_strings.push_back(options.program);
  arg_strings.insert(arg_strings.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv = PointerArray(arg_strings);
  std::vector<std::string> env_strings = BuildEnvironment(options);
  std::vector<char*> envp = PointerArray(env_strings);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Fail(Error::Unavailable(std::string("pipe2: ") + std::strerror(errno)));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Fail(Error::Unavailable(std::string("fork: ") + std::strerror(err)));
  }
  if (pid == 0) {
    ::close(report[0]);
    ExecChild(options, parent, program.c_str(), argv.data(), envp.data(), stdin_path.c_str(),
              child.stdout_path_.c_str(), child.stderr_path_.c_str(), report[1]);
  }
  child.pid_ = pid;
  ::setpgid(pid, pid);  // also from this side, so the group exists before Kill() can need it
  ::close(report[1]);
  // The pipe closes on a successful exec (O_CLOEXEC) and carries a SpawnFailure otherwise.
  SpawnFailure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    child.Kill();
    return Fail(Error::Unavailable(std::string(kSpawnSteps[std::clamp(failure.step, 0, 4)]) + " for " + program +
                                   " failed: " + std::strerror(failure.err)));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(other.reaped_),
      status_(other.status_),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      temp_dir_(std::exchange(other.temp_dir_, {})) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Release();
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = other.reaped_;
    status_ = other.status_;
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
    temp_dir_ = std::exchange(other.temp_dir_, {});
  }
  return *this;
}

ChildProcess::~ChildProcess() { Release(); }

void ChildProcess::Release() {
  if (pid_ > 0 && !reaped_) Kill();
  if (!temp_dir_.empty()) {
    for (const std::string& path : {stdout_path_, stderr_path_, temp_dir_ + "/stdin"}) {
      if (path.starts_with(temp_dir_ + "/")) ::unlink(path.c_str());
    }
    ::rmdir(temp_dir_.c_str());
    temp_dir_.clear();
  }
  pid_ = -1;
}

void ChildProcess::Reap(int wait_status) {
  reaped_ = true;
  if (WIFEXITED(wait_status)) {
    status_ = ExitStatus{.exited = true, .code = WEXITSTATUS(wait_status), .signal = 0};
  } else {
    status_ = ExitStatus{.exited = false, .code = -1, .signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0};
  }
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || reaped_) return false;
  int wait_status = 0;
  pid_t r = ::waitpid(pid_, &wait_status, WNOHANG);
  if (r == pid_) Reap(wait_status);
  if (r < 0 && errno == ECHILD) reaped_ = true;  // reaped elsewhere; nothing left to wait for
  return !reaped_;
}

Result<ExitStatus> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (Running()) {
    if (SteadyClock::now() >= deadline) {
      return Fail(Error::DeadlineExceeded("pid " + std::to_string(pid_) + " still running after " +
                                          std::to_string(timeout.count()) + " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

Result<void> ChildProcess::Signal(int signal) {
  if (!Running()) return Fail(Error::FailedPrecondition("the child has already exited: " + status_.ToString()));
  if (::kill(pid_, signal) != 0) return Fail(Error::Unavailable(std::string("kill: ") + std::strerror(errno)));
  return {};
}

ExitStatus ChildProcess::Kill() {
  if (pid_ <= 0 || reaped_) return status_;
  // Only while the child is unreaped is its pid (and so its group id) guaranteed to be ours.
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int wait_status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &wait_status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    Reap(wait_status);
  } else {
    reaped_ = true;
  }
  return status_;
}

std::string ChildProcess::Stdout() const { return ReadFile(stdout_path_); }

std::string ChildProcess::Stderr() const { return ReadFile(stderr_path_); }

Result<std::string> ChildProcess::WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout,
                                                Stream stream) {
  auto find_line = [&](const std::string& text) -> std::optional<std::string> {
    std::size_t at = text.find(needle);
    if (at == std::string::npos) return std::nullopt;
    std::size_t begin = text.rfind('\n', at);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::size_t end = text.find('\n', at);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  };
  auto search = [&]() -> std::optional<std::string> {
    if (stream != Stream::kStderr) {
      if (auto line = find_line(Stdout())) return line;
    }
    if (stream != Stream::kStdout) return find_line(Stderr());
    return std::nullopt;
  };
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    // Checked before searching, so output written just before exiting is still seen.
    bool running = Running();
    if (auto line = search()) return *line;
    if (!running) {
      std::string err = Stderr();
      if (err.size() > 2000) err = "..." + err.substr(err.size() - 2000);
      return Fail(Error::Unavailable("the child exited (" + status_.ToString() + ") without printing '" +
                                     std::string(needle) + "'; stderr: " + err));
    }
    if (SteadyClock::now() >= deadline) {
      return Fail(Error::DeadlineExceeded("'" + std::string(needle) + "' not printed within " +
                                          std::to_string(timeout.count()) + " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace hikeshi::testing
