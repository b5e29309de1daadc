// The child-process runner that end-to-end tests use to drive the real `hikeshi` binary. If it
// leaked processes, lost output or hung, every suite built on it would be unreliable.

#include "support/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace hikeshi::testing {
namespace {

using std::chrono::milliseconds;

ChildProcess SpawnShell(std::string script, ChildProcessOptions options = {}) {
  options.program = "/bin/sh";
  options.args = {"-c", std::move(script), "sh"};
  auto child = ChildProcess::Spawn(std::move(options));
  EXPECT_TRUE(child.has_value()) << child.error().message();
  return std::move(child).value();
}

TEST(ChildProcessTest, CapturesStdoutStderrAndExitCode) {
  ChildProcess child = SpawnShell("echo out; echo err >&2; exit 3");
  auto status = child.Wait(milliseconds(5'000));
  ASSERT_TRUE(status.has_value()) << status.error().message();
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 3);
  EXPECT_EQ(child.Stdout(), "out\n");
  EXPECT_EQ(child.Stderr(), "err\n");
}

TEST(ChildProcessTest, PassesArgumentsEnvironmentAndStdin) {
  ::setenv("HIKESHI_TEST_REMOVE_ME", "present", 1);
  ChildProcessOptions options;
  options.args = {"-c", R"(printf '%s|%s|%s|' "$1" "$HIKESHI_TEST_VALUE" "${HIKESHI_TEST_REMOVE_ME-unset}"; cat)", "sh",
                  "two words"};
  options.program = "sh";  // looked up in PATH
  options.env = {{"HIKESHI_TEST_VALUE", "from env"}};
  options.unset_env = {"HIKESHI_TEST_REMOVE_ME"};
  options.stdin_data = "from stdin";
  auto child = ChildProcess::Spawn(std::move(options));
  ::unsetenv("HIKESHI_TEST_REMOVE_ME");
  ASSERT_TRUE(child.has_value()) << child.error().message();
  ASSERT_TRUE(child->Wait(milliseconds(5'000)).has_value());
  EXPECT_EQ(child->Stdout(), "two words|from env|unset|from stdin");
}

TEST(ChildProcessTest, RunsInTheGivenWorkingDirectory) {
  ChildProcessOptions options;
  options.working_directory = "/";
  ChildProcess child = SpawnShell("pwd", std::move(options));
  ASSERT_TRUE(child.Wait(milliseconds(5'000)).has_value());
  EXPECT_EQ(child.Stdout(), "/\n");
}

TEST(ChildProcessTest, RelativeProgramPathSurvivesAWorkingDirectoryChange) {
  ChildProcessOptions options;
  options.program = std::filesystem::relative("/bin/sh").string();
  ASSERT_NE(options.program.front(), '/');
  options.args = {"-c", "pwd"};
  options.working_directory = "/";
  auto child = ChildProcess::Spawn(std::move(options));
  ASSERT_TRUE(child.has_value()) << child.error().message();
  ASSERT_TRUE(child->Wait(milliseconds(5'000)).has_value());
  EXPECT_EQ(child->Stdout(), "/\n");
}

TEST(ChildProcessTest, ReportsAProgramThatCannotRun) {
  auto missing = ChildProcess::Spawn({.program = "hikeshi-no-such-program-anywhere"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);

  auto bad_directory = ChildProcess::Spawn({.program = "/bin/true", .working_directory = "/no/such/dir"});
  ASSERT_FALSE(bad_directory.has_value());
  EXPECT_EQ(bad_directory.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(bad_directory.error().message().find("chdir"), std::string::npos) << bad_directory.error().message();
}

TEST(ChildProcessTest, WaitTimesOutThenSignalStopsTheChild) {
  ChildProcess child = SpawnShell("exec sleep 30");
  auto early = child.Wait(milliseconds(50));
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code(), ErrorCode::kDeadlineExceeded);
  ASSERT_TRUE(child.Signal(SIGTERM).has_value());
  auto status = child.Wait(milliseconds(5'000));
  ASSERT_TRUE(status.has_value()) << status.error().message();
  EXPECT_TRUE(status->KilledBy(SIGTERM)) << status->ToString();
  EXPECT_FALSE(child.Signal(SIGTERM).has_value());
}

TEST(ChildProcessTest, ChildStartsWithDefaultSignalHandlingEvenIfTheTestIgnoresSignals) {
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &previous);
  ChildProcess child = SpawnShell("exec sleep 30");
  ::sigaction(SIGTERM, &previous, nullptr);
  ASSERT_TRUE(child.Signal(SIGTERM).has_value());
  auto status = child.Wait(milliseconds(5'000));
  ASSERT_TRUE(status.has_value()) << "SIGTERM was still ignored in the child";
  EXPECT_TRUE(status->KilledBy(SIGTERM)) << status->ToString();
}

TEST(ChildProcessTest, DestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    ChildProcess child = SpawnShell("exec sleep 30");
    pid = child.pid();
    ASSERT_TRUE(child.Running());
  }
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH) << "the child is still running or was not reaped";
}

TEST(ChildProcessTest, DoesNotLeakDescriptorsIntoTheChild) {
  int fd = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(fd, 0);
  ChildProcess child = SpawnShell("[ -e /proc/self/fd/" + std::to_string(fd) + " ] && echo leaked || echo clean");
  ::close(fd);
  ASSERT_TRUE(child.Wait(milliseconds(5'000)).has_value());
  EXPECT_EQ(child.Stdout(), "clean\n");
}

TEST(ChildProcessTest, WaitForOutputReturnsTheMatchingLine) {
  ChildProcess child = SpawnShell("echo starting; sleep 0.1; echo 'listening on 127.0.0.1:4321' >&2; exec sleep 30");
  auto line = child.WaitForOutput("listening on", milliseconds(5'000));
  ASSERT_TRUE(line.has_value()) << line.error().message();
  EXPECT_EQ(*line, "listening on 127.0.0.1:4321");
}

TEST(ChildProcessTest, WaitForOutputFailsFastWhenTheChildExits) {
  ChildProcess child = SpawnShell("echo 'config error' >&2; exit 2");
  auto started = std::chrono::steady_clock::now();
  auto line = child.WaitForOutput("listening on", milliseconds(10'000));
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(line.error().message().find("config error"), std::string::npos) << line.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(5'000));
}

TEST(ChildProcessTest, WritesOutputToRequestedFiles) {
  std::string path = ::testing::TempDir() + "/child_process_test_stdout.txt";
  ChildProcessOptions options;
  options.stdout_path = path;
  {
    ChildProcess child = SpawnShell("echo kept", std::move(options));
    ASSERT_TRUE(child.Wait(milliseconds(5'000)).has_value());
    EXPECT_EQ(child.stdout_path(), path);
  }
  // A caller-chosen file outlives the ChildProcess.
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace hikeshi::testing
