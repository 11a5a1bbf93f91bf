#include "ailab/rpc/server.h"

#include <csignal>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace ailab::rpc {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                      const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server());
  server->config_ = config;

  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(config.max_receive_message_bytes);
  // gRPC turns SO_REUSEPORT on by default, which lets a second copy of a service bind
  // a port in use and take part of its requests. With it off, that start fails.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // The synchronous server starts a thread when its last idle one takes a call, and
  // by default ends every thread beyond two idle ones when its call returns. Under a
  // steady load of blocking calls that creates and ends a thread per call (clone,
  // stack unmapping, TLB flushes). Keeping up to max_idle_threads idle avoids it.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              config.max_idle_threads);
  for (grpc::Service* service : services) builder.RegisterService(service);

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return Unavailable("LISTEN_FAILED",
                       absl::StrCat("could not listen on ", config.listen,
                                    "; check that the address is valid and the port is free"),
                       {{"listen", config.listen}});
  }

  // Reports the server and every registered service as serving.
  server->server_->GetHealthCheckService()->SetServingStatus(true);

  if (!config.port_file.empty()) {
    std::string tmp = config.port_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << server->port_ << "\n";
    }
    std::rename(tmp.c_str(), config.port_file.c_str());
  }
  log::Logger(config.name)->info("listening address={} port={}", config.listen, server->port_);
  return server;
}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  auto logger = log::Logger(config_.name);
  logger->info("shutting down grace_s={}", absl::ToDoubleSeconds(config_.shutdown_grace));
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.shutdown_grace));
  server_->Wait();
  logger->info("stopped");
}

absl::Status RunServer(const ServerConfig& config, const std::vector<grpc::Service*>& services,
                       const std::function<void()>& before_shutdown) {
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(config, services));

  sigset_t set = ShutdownSignals();
  int signal_number = 0;
  sigwait(&set, &signal_number);
  log::Logger(config.name)->info("received signal={}", signal_number);

  if (before_shutdown) before_shutdown();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace ailab::rpc
