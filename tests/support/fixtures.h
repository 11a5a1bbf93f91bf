// Test fixtures shared by the library, service and end-to-end suites: scratch
// PostgreSQL databases, the test Redis address, unique names, checkout and build paths,
// temporary folders, and service binaries run as child processes.
//
// The servers are the ones deploy/start-infra.sh starts. Their addresses come from
// AILAB_TEST_DATABASE_URL (default postgresql://ailab@127.0.0.1:55432/ailab) and
// AILAB_TEST_REDIS_ADDRESS (default 127.0.0.1:56379); `eval "$(deploy/test-env.sh)"`
// sets both. CTest sets AILAB_SOURCE_DIR and AILAB_BINARY_DIR.
//
// Constructors that cannot return a status (ScratchDatabase, TempDir) and the path
// helpers throw std::runtime_error with a message naming the fix, which Catch2 reports
// as a test failure. Every function is thread-safe; each object belongs to one test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::testing {

// A fresh database `t_<unique>` on the test server, dropped (WITH (FORCE), so open
// connections do not block it) at destruction.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // libpq URL of the scratch database.
  const std::string& url() const { return url_; }
  // Name of the scratch database.
  const std::string& name() const { return name_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// URL of the test server's administrative database (AILAB_TEST_DATABASE_URL).
std::string AdminDatabaseUrl();

// Address of the test Redis server, host:port.
std::string RedisAddress();

// Returns `prefix` followed by a suffix unique to this process and call, made of
// lowercase letters, digits and underscores (safe in SQL identifiers and Redis keys).
std::string UniqueName(absl::string_view prefix);

// Root of the checkout (AILAB_SOURCE_DIR).
std::string SourceDir();
// Shared test data beside the checkout: SourceDir() + "/../shared/data".
std::string SharedDataDir();
// Path of a built binary: $AILAB_BINARY_DIR/bin/<name>.
std::string BinaryPath(absl::string_view name);

// A temporary folder, removed with its contents at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A service binary run as a child process on a free loopback port.
//
// Start() appends --listen=127.0.0.1:0 and --port_file=<temporary file> to the
// arguments, sends the child's standard output and standard error to log_path(), waits
// up to 60 s for the port file, then until the server's gRPC health check reports
// SERVING. The destructor stops the child. The child is also killed when the thread
// that started it exits, so start services from the test's own thread.
class ServiceProcess {
 public:
  // `binary_name` is looked up with BinaryPath() unless it contains a '/'. `env` adds
  // or replaces variables of this process's environment. A "--listen=127.0.0.1:PORT"
  // in `args` fixes the port; without one the child binds a free port.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary_name, std::vector<std::string> args,
      std::vector<std::pair<std::string, std::string>> env = {});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // 127.0.0.1:<port>.
  std::string address() const;
  int port() const { return port_; }

  // Sends SIGTERM and waits up to 20 s for the child to exit, then sends SIGKILL.
  // Returns an error when the child had to be killed or exited with a non-zero status;
  // the message includes the end of its log.
  absl::Status Stop();

  // Sends SIGKILL and waits for the child to exit.
  void Kill();

  // Stops the child if it still runs, then starts it again with the same arguments on
  // the same port, and waits for it as Start() does.
  absl::Status Restart();

  // True while the child has not exited.
  bool running();

  // File with the child's standard output and standard error.
  std::string log_path() const;

  // Returns the last `max_lines` lines of the log.
  std::string ReadLogTail(int max_lines = 40) const;

 private:
  ServiceProcess() = default;
  absl::Status Launch(const std::string& listen);
  absl::Status WaitUntilServing();
  absl::Status Reap(bool block, absl::Duration timeout);

  std::string binary_;
  std::vector<std::string> args_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::unique_ptr<TempDir> dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = 0;
};

}  // namespace ailab::testing
