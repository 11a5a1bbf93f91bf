#include "redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/redis/redis.h"

namespace ailab::training::testing {
namespace {

// Returns a loopback port that was free a moment ago (the kernel's pick for port 0).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

RedisServer::RedisServer() : port_(FreePort()) {}

RedisServer::~RedisServer() { Kill(); }

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status RedisServer::Start() {
  if (port_ == 0) return absl::UnavailableError("no free loopback port for redis-server");
  std::vector<std::string> args = {"redis-server",
                                   "--bind", "127.0.0.1",
                                   "--port", absl::StrCat(port_),
                                   "--dir", data_dir_.path(),
                                   "--appendonly", "yes",
                                   "--appendfsync", "always",
                                   "--save", "",
                                   "--daemonize", "no",
                                   "--loglevel", "warning",
                                   "--logfile", absl::StrCat(data_dir_.path(), "/redis.log")};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return absl::UnavailableError("fork failed for redis-server");
  if (pid_ == 0) {
    // The server dies with the test process, also when a failed check aborts it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp("redis-server", argv.data());
    _exit(127);
  }

  for (int i = 0; i < 100; ++i) {
    auto client = redis::Client::Connect(address(), absl::Milliseconds(500));
    if (client.ok() && (*client)->Ping().ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::UnavailableError(
      absl::StrCat("redis-server on port ", port_, " did not answer PING; see ",
                   data_dir_.path(), "/redis.log"));
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace ailab::training::testing
