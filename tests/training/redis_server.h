// A private redis-server for tests that stop and restart Redis: loopback only, on a
// port of its own, with its data folder in a temporary directory and the append-only
// file on (fsync on every write), so a restart after SIGKILL keeps every write.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "fixtures.h"

namespace ailab::training::testing {

class RedisServer {
 public:
  // Picks a free loopback port; call Start() to run the server.
  RedisServer();
  // Kills the server if it still runs.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server (found on PATH) and waits until it answers PING, at most
  // about 10 s. UNAVAILABLE naming the port when it does not.
  absl::Status Start();

  // Ends the server with SIGKILL, as a crash would, and waits for it to exit.
  void Kill();

  // host:port of the server.
  std::string address() const;

 private:
  ailab::testing::TempDir data_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ailab::training::testing
