// A gRPC server without services of its own: health checking and reflection only.
// The fixture tests start it as a child process with ServiceProcess.
#include <string>

#include "absl/flags/flag.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/rpc/server.h"

ABSL_FLAG(std::string, echo_greeting, "",
          "text written to the log at start, so tests can check flags and environment");

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("echo", argc, argv, "ailab-test-echo [--listen=host:port]");
  auto logger = ailab::log::Logger("echo");

  std::string greeting = absl::GetFlag(FLAGS_echo_greeting);
  if (!greeting.empty()) logger->info("greeting={}", greeting);

  ailab::rpc::ServerConfig config;
  config.name = "echo";
  config.listen = ailab::config::ListenAddress("127.0.0.1:0");
  config.port_file = absl::GetFlag(FLAGS_port_file);
  absl::Status status = ailab::rpc::RunServer(config, {});
  if (!status.ok()) {
    logger->error("server failed error={}", std::string(status.message()));
    return 1;
  }
  return 0;
}
