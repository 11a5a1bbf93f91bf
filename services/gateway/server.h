// The gateway's HTTP/1.1 server on Boost.Beast: asynchronous accept, read and write on
// a multi-threaded io_context, keep-alive, optional TLS, header/body limits, per-client
// rate limiting, an idle timeout and graceful shutdown. Requests go to a Gateway.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway.h"
#include "metrics.h"

namespace ailab::gateway {

struct ServerOptions {
  // host:port with an IP address; port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  // Request line and headers, in bytes; 431 beyond.
  size_t max_header_bytes = 16 * 1024;
  // Body of an API call, in bytes; 413 beyond.
  size_t max_body_bytes = 1024 * 1024;
  // Body limit of the methods with Route::file_body.
  size_t max_file_body_bytes = 64 * 1024 * 1024;
  // Body of /api/upload, in bytes; 413 beyond.
  int64_t max_upload_bytes = int64_t{2} << 30;
  // Requests per second per client address (burst 2x); 0 turns the limit off.
  double rate_limit_per_second = 200;
  // A connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Uploads and event streams at the same time; 503 beyond.
  int max_streams = 256;
  // PEM files; when both are set the server speaks HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Time requests in flight get at shutdown before their connections are closed.
  absl::Duration shutdown_grace = absl::Seconds(10);
};

class HttpServer {
 public:
  // Binds and starts serving. `gateway` and `metrics` are not owned and must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                           Gateway* gateway, Metrics* metrics);
  ~HttpServer();

  int port() const;

  // Stops accepting, closes idle connections, lets requests in flight finish (up to
  // the grace period), then stops the threads. Idempotent.
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ailab::gateway
