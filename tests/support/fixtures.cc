#include "fixtures.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/probe.h"
#include "ailab/status/status.h"

extern char** environ;

namespace ailab::testing {
namespace {

constexpr absl::string_view kDefaultDatabaseUrl = "postgresql://ailab@127.0.0.1:55432/ailab";
constexpr absl::string_view kDefaultRedisAddress = "127.0.0.1:56379";
constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(20);

std::string EnvOr(const char* name, absl::string_view fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::string(fallback);
  return value;
}

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(absl::StrCat(
        name, " is not set; run the test through ctest, which sets it, or export it"));
  }
  return value;
}

// Returns `url` with its database replaced by `database`. Handles URLs
// (postgresql://host/db?params) and keyword strings ("host=... dbname=..."), where a
// repeated keyword overrides the earlier one.
std::string WithDatabase(const std::string& url, const std::string& database) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return absl::StrCat(url, " dbname=", database);
  size_t path = url.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return absl::StrCat(url, "/", database);
  if (url[path] == '?') return absl::StrCat(url.substr(0, path), "/", database, url.substr(path));
  size_t query = url.find('?', path);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return absl::StrCat(url.substr(0, path), "/", database, rest);
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return absl::StrCat("ended with wait status ", status);
}

}  // namespace

// ---------------------------------------------------------------------------------
// Names and paths

std::string AdminDatabaseUrl() { return EnvOr("AILAB_TEST_DATABASE_URL", kDefaultDatabaseUrl); }

std::string RedisAddress() { return EnvOr("AILAB_TEST_REDIS_ADDRESS", kDefaultRedisAddress); }

std::string UniqueName(absl::string_view prefix) {
  // The random part keeps names apart from leftovers of an earlier run whose process
  // had the same id.
  static const uint32_t run_id = [] {
    std::random_device device;
    return static_cast<uint32_t>(device());
  }();
  static std::atomic<int> counter{0};
  char run_hex[9];
  std::snprintf(run_hex, sizeof(run_hex), "%08x", run_id);
  return absl::StrCat(prefix, "_", getpid(), "_", run_hex, "_", counter.fetch_add(1));
}

std::string SourceDir() { return RequireEnv("AILAB_SOURCE_DIR"); }

std::string SharedDataDir() { return absl::StrCat(SourceDir(), "/../shared/data"); }

std::string BinaryPath(absl::string_view name) {
  return absl::StrCat(RequireEnv("AILAB_BINARY_DIR"), "/bin/", name);
}

// ---------------------------------------------------------------------------------
// ScratchDatabase

ScratchDatabase::ScratchDatabase()
    : admin_url_(AdminDatabaseUrl()), name_(UniqueName("t")) {
  absl::Status status =
      pg::ExecuteStatement(admin_url_, absl::StrCat("CREATE DATABASE \"", name_, "\""));
  if (!status.ok()) {
    throw std::runtime_error(absl::StrCat(
        "could not create scratch database ", name_, ": ", status.message(),
        "; start the test servers with deploy/start-infra.sh or set AILAB_TEST_DATABASE_URL"));
  }
  url_ = WithDatabase(admin_url_, name_);
}

ScratchDatabase::~ScratchDatabase() {
  absl::Status status = pg::ExecuteStatement(
      admin_url_, absl::StrCat("DROP DATABASE IF EXISTS \"", name_, "\" WITH (FORCE)"));
  if (!status.ok()) {
    std::cerr << "could not drop scratch database " << name_ << ": " << status.message()
              << "\n";
  }
}

// ---------------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  std::string pattern = absl::StrCat(EnvOr("TMPDIR", "/tmp"), "/ailab-test-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(absl::StrCat("could not create a temporary folder from ", pattern,
                                          ": ", std::strerror(errno),
                                          "; set TMPDIR to a writable folder"));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
  if (error) std::cerr << "could not remove " << path_ << ": " << error.message() << "\n";
}

// ---------------------------------------------------------------------------------
// ServiceProcess

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary_name, std::vector<std::string> args,
    std::vector<std::pair<std::string, std::string>> env) {
  std::string binary = binary_name;
  if (binary_name.find('/') == std::string::npos) binary = BinaryPath(binary_name);
  if (access(binary.c_str(), X_OK) != 0) {
    return NotFound("BINARY_NOT_FOUND",
                    absl::StrCat("service binary ", binary,
                                 " does not exist or is not executable; build it with "
                                 "`ninja ", binary_name, "` in the build folder"),
                    {{"binary", binary}});
  }

  // A --listen among `args` fixes the port; otherwise the child picks a free one.
  std::string listen = "127.0.0.1:0";
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (absl::StartsWith(*it, "--listen=")) {
      listen = it->substr(sizeof("--listen=") - 1);
      args.erase(it);
      break;
    }
  }
  std::unique_ptr<ServiceProcess> process(new ServiceProcess());
  process->binary_ = binary;
  process->args_ = std::move(args);
  process->env_ = std::move(env);
  process->dir_ = std::make_unique<TempDir>();
  AILAB_RETURN_IF_ERROR(process->Launch(listen));
  AILAB_RETURN_IF_ERROR(process->WaitUntilServing());
  return process;
}

ServiceProcess::~ServiceProcess() {
  if (running()) {
    absl::Status status = Stop();
    if (!status.ok()) std::cerr << status.message() << "\n";
  }
}

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string ServiceProcess::log_path() const { return dir_->path() + "/service.log"; }

absl::Status ServiceProcess::Launch(const std::string& listen) {
  const std::string port_file = dir_->path() + "/port";
  std::remove(port_file.c_str());

  // Everything the child needs is prepared before fork(): between fork() and exec()
  // only async-signal-safe calls are allowed, because other threads may hold locks.
  std::vector<std::string> argv_storage = {binary_};
  argv_storage.insert(argv_storage.end(), args_.begin(), args_.end());
  argv_storage.push_back("--listen=" + listen);
  argv_storage.push_back("--port_file=" + port_file);
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    absl::string_view key = variable.substr(0, variable.find('='));
    bool replaced = false;
    for (const auto& [name, value] : env_) replaced = replaced || key == name;
    if (!replaced) env_storage.emplace_back(variable);
  }
  for (const auto& [name, value] : env_) env_storage.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> envp;
  for (std::string& variable : env_storage) envp.push_back(variable.data());
  envp.push_back(nullptr);

  int log_fd = open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_error_pipe[2];
  if (log_fd < 0 || null_fd < 0 || pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    std::string error = std::strerror(errno);
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return Internal("LAUNCH_FAILED",
                    absl::StrCat("could not prepare the log or pipes for ", binary_, ": ", error));
  }
  // The banner masks the values of flags that carry secrets (keys, passwords, tokens).
  std::vector<std::string> shown;
  for (const std::string& arg : argv_storage) {
    size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq);
    bool secret = flag.find("key") != std::string::npos ||
                  flag.find("secret") != std::string::npos ||
                  flag.find("password") != std::string::npos ||
                  flag.find("token") != std::string::npos;
    shown.push_back(secret && eq != std::string::npos ? flag + "=***" : arg);
  }
  std::string banner = absl::StrCat("--- starting ", absl::StrJoin(shown, " "), "\n");
  if (write(log_fd, banner.data(), banner.size()) < 0) {
    // The banner only helps reading the log; the launch goes on without it.
  }

  pid_t pid = fork();
  if (pid == 0) {
    // Child: standard streams, default signal handling, then exec.
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action = {};
    default_action.sa_handler = SIG_DFL;
    for (int signal_number : {SIGTERM, SIGINT, SIGPIPE}) {
      sigaction(signal_number, &default_action, nullptr);
    }
    // NOTE: the kernel sends this SIGKILL when the thread that forked exits, so a test
    // must start and stop its services on one long-lived thread (Catch2's main thread).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execve(binary_.c_str(), argv.data(), envp.data());
    int exec_errno = errno;
    if (write(exec_error_pipe[1], &exec_errno, sizeof(exec_errno)) < 0) {
      // Nothing more the child can report.
    }
    _exit(127);
  }

  int fork_errno = errno;
  close(exec_error_pipe[1]);
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    close(exec_error_pipe[0]);
    return Internal("LAUNCH_FAILED",
                    absl::StrCat("fork failed for ", binary_, ": ", std::strerror(fork_errno)));
  }

  // The pipe closes without data when exec succeeds (close-on-exec).
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_error_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_error_pipe[0]);
  if (n == sizeof(exec_errno)) {
    waitpid(pid, nullptr, 0);
    return FailedPrecondition("LAUNCH_FAILED",
                              absl::StrCat("could not execute ", binary_, ": ",
                                           std::strerror(exec_errno)),
                              {{"binary", binary_}});
  }
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status ServiceProcess::WaitUntilServing() {
  const std::string port_file = dir_->path() + "/port";
  absl::Time deadline = absl::Now() + kStartTimeout;
  port_ = 0;
  while (absl::Now() < deadline) {
    if (!running()) {
      return FailedPrecondition(
          "SERVICE_EXITED",
          absl::StrCat("service ", binary_, " ", DescribeExit(exit_status_),
                       " before it was serving; its log ", log_path(), " ends with:\n",
                       ReadLogTail()),
          {{"binary", binary_}});
    }

    // The server writes the port file through a rename, so a complete file is read.
    if (port_ == 0) {
      std::ifstream in(port_file);
      std::string text;
      int port = 0;
      if (in && std::getline(in, text) && absl::SimpleAtoi(text, &port) && port > 0) port_ = port;
    }
    if (port_ != 0) {
      absl::StatusOr<bool> serving = rpc::CheckHealth(address(), "", absl::Seconds(1));
      if (serving.ok() && *serving) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }

  Kill();
  return MakeError(absl::StatusCode::kDeadlineExceeded, "SERVICE_START_TIMEOUT",
                   absl::StrCat("service ", binary_, " was not serving within ",
                                absl::FormatDuration(kStartTimeout),
                                " (port file written: ", port_ != 0 ? "yes" : "no",
                                "); its log ends with:\n", ReadLogTail()),
                   {{"binary", binary_}});
}

absl::Status ServiceProcess::Reap(bool block, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      exit_status_ = done == pid_ ? status : 0;
      pid_ = -1;
      return absl::OkStatus();
    }
    if (done < 0 && errno == EINTR) continue;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (pid_ <= 0) return absl::OkStatus();
  return MakeError(absl::StatusCode::kDeadlineExceeded, "SERVICE_STOP_TIMEOUT",
                   absl::StrCat("service ", binary_, " did not exit within ",
                                absl::FormatDuration(timeout)));
}

bool ServiceProcess::running() {
  if (pid_ <= 0) return false;
  Reap(false, absl::ZeroDuration()).IgnoreError();
  return pid_ > 0;
}

absl::Status ServiceProcess::Stop() {
  if (!running()) return absl::OkStatus();
  kill(pid_, SIGTERM);
  if (!Reap(false, kStopTimeout).ok()) {
    Kill();
    return MakeError(absl::StatusCode::kDeadlineExceeded, "SERVICE_STOP_TIMEOUT",
                     absl::StrCat("service ", binary_, " did not exit within ",
                                  absl::FormatDuration(kStopTimeout),
                                  " of SIGTERM and was killed; its log ends with:\n",
                                  ReadLogTail()),
                     {{"binary", binary_}});
  }
  if (!WIFEXITED(exit_status_) || WEXITSTATUS(exit_status_) != 0) {
    return Internal("SERVICE_EXIT_FAILED",
                    absl::StrCat("service ", binary_, " ", DescribeExit(exit_status_),
                                 " after SIGTERM; its log ends with:\n", ReadLogTail()),
                    {{"binary", binary_}});
  }
  return absl::OkStatus();
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(true, absl::InfiniteDuration()).IgnoreError();
}

absl::Status ServiceProcess::Restart() {
  if (running()) {
    absl::Status stopped = Stop();
    if (!stopped.ok()) std::cerr << "restart: " << stopped.message() << "\n";
  }
  AILAB_RETURN_IF_ERROR(Launch(address()));
  return WaitUntilServing();
}

std::string ServiceProcess::ReadLogTail(int max_lines) const {
  std::ifstream in(log_path());
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace ailab::testing
