// ailab-gateway: the HTTP/JSON front door of the platform. It serves the web
// application's files, signs users in (ailab.identity.v1.IdentityService, in-process),
// and turns each POST /api/<service>/<Method> into a gRPC call to the service behind
// it. See docs/gateway.md.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/config/flags.h"
#include "ailab/identity/identity.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "gateway.h"
#include "server.h"

ABSL_FLAG(std::string, gateway_listen, "127.0.0.1:8080",
          "HTTP address to bind, IP:port; port 0 picks a free port");
ABSL_FLAG(std::string, gateway_port_file, "",
          "file to write the bound HTTP port into once listening (for port 0)");
ABSL_FLAG(int, gateway_threads, 0, "io threads of the HTTP server; 0 means one per CPU core");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain; with --tls_key_file the gateway serves HTTPS only");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(int64_t, max_header_bytes, 16 * 1024,
          "largest request line plus headers, in bytes; larger requests get 431");
ABSL_FLAG(int64_t, max_body_bytes, 1024 * 1024,
          "largest JSON body of an API call, in bytes; larger bodies get 413");
ABSL_FLAG(int64_t, max_file_body_bytes, int64_t{64} << 20,
          "largest JSON body of a call that carries a file in base64 (Predict on an "
          "uploaded image), in bytes; larger bodies get 413");
ABSL_FLAG(int64_t, max_upload_bytes, int64_t{2} << 30,
          "largest /api/upload body, in bytes; larger uploads get 413");
ABSL_FLAG(double, rate_limit_per_second, 200,
          "requests per second per client address, bursts of twice that; 0 turns it off");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "close a keep-alive connection after this long without a request");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "after SIGTERM, how long requests, uploads and event streams in progress may "
          "take before their connections are closed");
ABSL_FLAG(absl::Duration, rpc_timeout, absl::Seconds(30), "deadline of each call to a service");
ABSL_FLAG(std::string, web_root, "",
          "folder of the built web application (services/web/dist); empty serves no files");
ABSL_FLAG(std::string, admin_username, "admin",
          "user name of the first administrator, created at start when none exists");
ABSL_FLAG(std::string, admin_password_file, "",
          "file holding the first administrator's password (or set "
          "AILAB_GATEWAY_ADMIN_PASSWORD); without one no administrator is created");
ABSL_FLAG(std::string, oidc_issuer, "",
          "OpenID Connect issuer URL whose ID tokens are accepted; empty turns single sign-on off");
ABSL_FLAG(std::string, oidc_audience, "", "expected audience (client id) of ID tokens");
ABSL_FLAG(std::string, oidc_jwks_file, "", "file with the issuer's JSON Web Key Set");
ABSL_FLAG(std::string, oidc_roles_claim, "roles", "ID token claim that lists platform roles");
ABSL_FLAG(absl::Duration, session_idle_timeout, absl::Hours(8),
          "a sign-in session ends this long after its last use");

namespace {

constexpr char kUsage[] =
    "ailab-gateway: serves the platform's HTTP/JSON API and web application.\n"
    "  ailab-gateway [--gateway_listen=127.0.0.1:8080] [--web_root=services/web/dist]\n"
    "                [--database_url=...] [--admin_password_file=...]";

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return ailab::InvalidArgument("FILE_NOT_READABLE", flag,
                                  absl::StrCat("cannot read --", flag, "=", path),
                                  {{"path", path}});
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<std::string> AdminPassword() {
  const std::string file = absl::GetFlag(FLAGS_admin_password_file);
  if (!file.empty()) {
    AILAB_ASSIGN_OR_RETURN(std::string password, ReadFile(file, "admin_password_file"));
    return std::string(absl::StripTrailingAsciiWhitespace(password));
  }
  const char* value = std::getenv("AILAB_GATEWAY_ADMIN_PASSWORD");
  return value == nullptr ? "" : std::string(value);
}

absl::StatusOr<ailab::identity::IdentityOptions> IdentityOptionsFromFlags() {
  ailab::identity::IdentityOptions options;
  options.session_idle_timeout = absl::GetFlag(FLAGS_session_idle_timeout);
  options.oidc.issuer = absl::GetFlag(FLAGS_oidc_issuer);
  options.oidc.audience = absl::GetFlag(FLAGS_oidc_audience);
  options.oidc.roles_claim = absl::GetFlag(FLAGS_oidc_roles_claim);
  if (!options.oidc.issuer.empty()) {
    const std::string jwks = absl::GetFlag(FLAGS_oidc_jwks_file);
    if (jwks.empty()) {
      return ailab::InvalidArgument("OIDC_JWKS_MISSING", "oidc_jwks_file",
                                    "--oidc_issuer is set, so --oidc_jwks_file is required");
    }
    AILAB_ASSIGN_OR_RETURN(options.oidc.jwks_json, ReadFile(jwks, "oidc_jwks_file"));
  }
  return options;
}

absl::StatusOr<std::filesystem::path> WebRoot() {
  const std::string root = absl::GetFlag(FLAGS_web_root);
  if (root.empty()) return std::filesystem::path();
  std::error_code error;
  std::filesystem::path canonical = std::filesystem::canonical(root, error);
  if (error || !std::filesystem::is_directory(canonical)) {
    return ailab::InvalidArgument("WEB_ROOT_INVALID", "web_root",
                                  absl::StrCat("--web_root=", root,
                                               " is not a folder; build the "
                                               "web application or leave the flag empty"));
  }
  return canonical;
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << port << "\n";
    if (!out) {
      return ailab::Internal("PORT_FILE_FAILED",
                             absl::StrCat("cannot write --gateway_port_file=", path));
    }
  }
  std::filesystem::rename(temporary, path);
  return absl::OkStatus();
}

void WaitForShutdownSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
}

absl::Status Run() {
  auto logger = ailab::log::Logger("gateway");

  // Identity: accounts, sessions and the audit log in the schema "identity".
  ailab::pg::PoolOptions pool_options;
  pool_options.url = absl::GetFlag(FLAGS_database_url);
  pool_options.size = ailab::config::DatabasePoolSize(4);
  pool_options.schema = "identity";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::pg::Pool> pool,
                         ailab::pg::Pool::Create(pool_options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(ailab::identity::IdentityApi::Migrations()));
  logger->info("database ready schema={} pool_size={}", pool_options.schema, pool_options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }
  AILAB_ASSIGN_OR_RETURN(ailab::identity::IdentityOptions identity_options,
                         IdentityOptionsFromFlags());
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::identity::IdentityApi> identity,
                         ailab::identity::IdentityApi::Create(pool.get(), identity_options));
  AILAB_ASSIGN_OR_RETURN(std::string admin_password, AdminPassword());
  if (!admin_password.empty()) {
    AILAB_RETURN_IF_ERROR(
        identity->EnsureAdministrator(absl::GetFlag(FLAGS_admin_username), admin_password));
  } else {
    logger->warn(
        "no administrator password given; set --admin_password_file to create the "
        "first administrator");
  }

  // Gateway and HTTP server.
  int threads = absl::GetFlag(FLAGS_gateway_threads);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ailab::gateway::GatewayOptions options;
  AILAB_ASSIGN_OR_RETURN(options.web_root, WebRoot());
  options.blob_root = absl::GetFlag(FLAGS_blob_root);
  options.rpc_timeout = absl::GetFlag(FLAGS_rpc_timeout);
  options.max_upload_bytes = absl::GetFlag(FLAGS_max_upload_bytes);
  options.worker_threads = 2 * threads;
  options.service_addresses = {
      {"catalog", absl::GetFlag(FLAGS_catalog_address)},
      {"ingest", absl::GetFlag(FLAGS_ingest_address)},
      {"annotation", absl::GetFlag(FLAGS_annotation_address)},
      {"training", absl::GetFlag(FLAGS_training_address)},
      {"inference", absl::GetFlag(FLAGS_inference_address)},
      {"evaluation", absl::GetFlag(FLAGS_evaluation_address)},
  };
  ailab::gateway::Metrics metrics;
  ailab::gateway::Gateway gateway(options, identity.get(), pool.get(), &metrics);

  ailab::gateway::ServerOptions server_options;
  server_options.listen = absl::GetFlag(FLAGS_gateway_listen);
  server_options.threads = threads;
  server_options.max_header_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_header_bytes));
  server_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  server_options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  server_options.max_file_body_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_file_body_bytes));
  server_options.max_upload_bytes = absl::GetFlag(FLAGS_max_upload_bytes);
  server_options.rate_limit_per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  server_options.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  server_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  server_options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::gateway::HttpServer> server,
                         ailab::gateway::HttpServer::Start(server_options, &gateway, &metrics));
  AILAB_RETURN_IF_ERROR(WritePortFile(absl::GetFlag(FLAGS_gateway_port_file), server->port()));

  // With --listen, a gRPC server with only health checking runs beside the HTTP server,
  // so that deployment scripts and test fixtures can wait for the gateway like for any
  // service.
  absl::Status status;
  const std::string health_listen = absl::GetFlag(FLAGS_listen);
  if (!health_listen.empty()) {
    ailab::rpc::ServerConfig config;
    config.name = "gateway";
    config.listen = health_listen;
    config.port_file = absl::GetFlag(FLAGS_port_file);
    status = ailab::rpc::RunServer(config, {}, [&] { server->Shutdown(); });
  } else {
    WaitForShutdownSignal();
    server->Shutdown();
  }
  AILAB_RETURN_IF_ERROR(identity->FlushAudit());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("gateway", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("gateway.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("gateway")->error("gateway failed reason={} error={}",
                                         ailab::GetErrorReason(status),
                                         std::string(status.message()));
    return 1;
  }
  return 0;
}
