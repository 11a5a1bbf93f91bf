// Start-up and shutdown of a service's gRPC server.
//
// Every server built here has gRPC health checking (grpc.health.v1, each registered
// service reported SERVING) and server reflection. RunServer() blocks until SIGTERM
// or SIGINT, then marks the services NOT_SERVING, stops accepting calls, and gives
// calls in flight a grace period before cancelling them.
//
// BlockShutdownSignals() must run at the top of main(), before any thread exists, so
// that the signals reach only the waiting thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace ailab::rpc {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later.
void BlockShutdownSignals();

// Settings of one server.
struct ServerConfig {
  // Component name, used for the logger, for example "catalog".
  std::string name;
  // Address to bind, host:port; port 0 picks a free port.
  std::string listen;
  // When not empty, the bound port is written to this file once listening.
  std::string port_file;
  // Time calls in flight get to finish at shutdown.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Largest request message accepted, in bytes.
  int max_receive_message_bytes = 64 * 1024 * 1024;
  // Idle threads the synchronous server keeps for later calls; the rest end.
  int max_idle_threads = 64;
};

// A started server; shuts down when destroyed.
class Server {
 public:
  // Starts a server for `services` (not owned; they must outlive the server).
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config,
                                                       const std::vector<grpc::Service*>& services);
  ~Server();

  // Port the server is bound to.
  int port() const { return port_; }

  // Stops accepting calls and waits up to the grace period for calls in flight.
  void Shutdown();

 private:
  Server() = default;
  ServerConfig config_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  bool stopped_ = false;
};

// Starts the server, waits for SIGTERM or SIGINT, runs `before_shutdown` (for
// example to stop background threads), then shuts the server down.
absl::Status RunServer(const ServerConfig& config, const std::vector<grpc::Service*>& services,
                       const std::function<void()>& before_shutdown = {});

}  // namespace ailab::rpc
